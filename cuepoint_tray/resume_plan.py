"""What a resume does when the playlist changed since the session began.

The playlist is read again and its entries are matched to the stored tracks by Rekordbox
track id (the n-th entry of a track to its n-th stored row, for a track listed twice), never
by position: a track added anywhere is matched, one removed is dropped from the session,
one moved keeps its result at its new position.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cuepoint_tray.events import TrackJob

# (playlist, rekordbox track id, occurrence): one entry of one playlist, wherever it sits.
_Key = tuple[str, str, int]


@dataclass(frozen=True)
class StoredTrack:
    playlist: str
    position: int
    track_id: str
    done: bool  # matched, to review or unmatched; an error is tried again


@dataclass
class ResumePlan:
    remaining: list[TrackJob] = field(default_factory=list)
    moves: list[tuple[str, int, int]] = field(default_factory=list)  # playlist, old, new
    dropped: list[StoredTrack] = field(default_factory=list)
    added: list[TrackJob] = field(default_factory=list)  # entries with no stored row

    @property
    def moved(self) -> int:
        """Tracks the DJ moved: the fewest whose going elsewhere explains the new order (a
        track inserted above shifts the others without moving them)."""
        moved = 0
        for playlist in {playlist for playlist, _, _ in self.moves}:
            order = [new for name, _, new in sorted(self.moves, key=lambda m: m[1])
                     if name == playlist]
            moved += len(order) - _longest_rising(order)
        return moved

    def notes(self, tracks_before: int) -> list[str]:
        """What changed, in the DJ's words, for the console ([] when nothing did).

        `tracks_before`: the playlist's size when the session began (its entries then are
        not kept, so an entry added is told apart from one not matched yet by the count)."""
        said = []
        now = len(self.moves) + len(self.added)
        if now != tracks_before:
            said.append(f"the playlist has {_tracks(now)} now (it had {tracks_before} when the "
                        "session began): every track not matched yet is matched now")
        if self.dropped:
            were = "was" if len(self.dropped) == 1 else "were"
            said.append(f"{_tracks(len(self.dropped))} matched before {were} removed from the "
                        "playlist: dropped from the session")
        if self.moved:
            said.append(f"{_tracks(self.moved)} moved in the playlist: their results are "
                        "kept at their new places")
        return said


def plan_resume(jobs: Sequence[TrackJob], stored: Sequence[StoredTrack]) -> ResumePlan:
    """Match the playlist as it is now (`jobs`) to the session's stored tracks."""
    plan = ResumePlan()
    now = dict(zip(_keys((j.playlist, j.track_id) for j in jobs), jobs, strict=True))
    kept = dict(zip(_keys((s.playlist, s.track_id) for s in
                          sorted(stored, key=lambda s: (s.playlist, s.position))),
                    sorted(stored, key=lambda s: (s.playlist, s.position)), strict=True))
    for key, row in kept.items():
        job = now.get(key)
        if job is None:
            plan.dropped.append(row)
        else:
            plan.moves.append((row.playlist, row.position, job.position))
    for key, job in now.items():
        before = kept.get(key)
        if before is None:
            plan.added.append(job)
        if before is None or not before.done:
            plan.remaining.append(job)
    return plan


def _keys(entries: Iterable[tuple[str, str]]) -> list[_Key]:
    seen: Counter[tuple[str, str]] = Counter()
    keys = []
    for playlist, track_id in entries:
        seen[(playlist, track_id)] += 1
        keys.append((playlist, track_id, seen[(playlist, track_id)]))
    return keys


def _tracks(count: int) -> str:
    return "1 track" if count == 1 else f"{count} tracks"


def _longest_rising(numbers: list[int]) -> int:
    """The length of the longest increasing subsequence (patience sorting)."""
    tails: list[int] = []
    for number in numbers:
        at = bisect.bisect_left(tails, number)
        tails[at:at + 1] = [number]
    return len(tails)
