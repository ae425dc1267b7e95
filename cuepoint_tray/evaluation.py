"""Scoring a session against a labelled set (see shared/eval/README.md).

Product code, not a test double: `cuepoint eval` (a command a DJ or a developer runs to
measure matching on their own labelled tracks) is built on it, so it ships in the package.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cuepoint_tray.domain import MatchResult
from cuepoint_tray.errors import CuepointError
from cuepoint_tray.events import Event, TrackDone, TrackJob


@dataclass
class FamilyScore:
    tracks: int = 0
    right: int = 0  # present tracks matched correctly, absent tracks left unmatched

    @property
    def accuracy(self) -> float:
        return self.right / self.tracks if self.tracks else 0.0


@dataclass
class Evaluation:
    tracks: int = 0
    present: int = 0
    matched: int = 0
    correct: int = 0
    wrong: list[str] = field(default_factory=list)  # rekordbox ids matched to a wrong track
    missed: list[str] = field(default_factory=list)  # present tracks left unmatched
    false_on_absent: list[str] = field(default_factory=list)
    review: int = 0
    families: dict[str, FamilyScore] = field(default_factory=lambda: defaultdict(FamilyScore))
    # Requests sent to Beatport (cache hits not counted), for tracks it sells and tracks it
    # does not: giving up on an absent track should cost little.
    requests_present: int = 0
    requests_absent: int = 0

    @property
    def absent(self) -> int:
        return self.tracks - self.present

    @property
    def precision(self) -> float:
        return self.correct / self.matched if self.matched else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.present if self.present else 1.0


def read_truth(path: Path) -> dict[str, frozenset[int]]:
    """rekordbox_track_id -> acceptable Beatport ids (empty: the right answer is no match)."""
    rows = _read_csv(path, ("rekordbox_track_id", "acceptable_beatport_ids"))
    return {row["rekordbox_track_id"]: frozenset(
        int(x) for x in row["acceptable_beatport_ids"].split("|") if x.strip())
        for row in rows}


def read_families(path: Path) -> dict[str, str]:
    rows = _read_csv(path, ("rekordbox_track_id", "family"))
    return {row["rekordbox_track_id"]: row["family"] for row in rows}


def _read_csv(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise CuepointError(f"Cannot read {path}: {exc.strerror}.") from exc
    if rows and not set(columns) <= set(rows[0]):
        raise CuepointError(f"{path} should have the columns {', '.join(columns)}.")
    return rows


class Results:
    """A runner listener keeping every finished track's result, to evaluate a session (a
    session itself keeps none: its tracks are in the history). `rows`: (job, result) in
    playlist order, the playlists in the order their first track finished."""

    def __init__(self) -> None:
        self._done: list[tuple[TrackJob, MatchResult]] = []

    def __call__(self, event: Event) -> None:
        if isinstance(event, TrackDone):
            self._done.append((event.job, event.result))

    @property
    def rows(self) -> list[tuple[TrackJob, MatchResult]]:
        first = {job.playlist: index for index, (job, _) in reversed(list(enumerate(self._done)))}
        return sorted(self._done, key=lambda row: (first[row[0].playlist], row[0].position))

    @property
    def results(self) -> list[MatchResult]:
        return [result for _, result in self.rows]


def evaluate(results: Sequence[MatchResult], truth: dict[str, frozenset[int]],
             families: dict[str, str] | None = None) -> Evaluation:
    """Precision, recall and false matches on absent tracks, per run and per family."""
    score = Evaluation()
    for result in results:
        track_id = result.rekordbox.track_id
        if track_id not in truth:
            continue
        acceptable = truth[track_id]
        chosen = result.match.id if result.match else None
        score.tracks += 1
        score.present += bool(acceptable)
        if acceptable:
            score.requests_present += requests_sent(result)
        else:
            score.requests_absent += requests_sent(result)
        score.review += result.status == "review"
        if chosen is not None:
            score.matched += 1
            if chosen in acceptable:
                score.correct += 1
            elif acceptable:
                score.wrong.append(track_id)
            else:
                score.false_on_absent.append(track_id)
        elif acceptable:
            score.missed.append(track_id)
        family = (families or {}).get(track_id)
        if family:
            score.families[family].tracks += 1
            score.families[family].right += (chosen in acceptable) if acceptable else (
                chosen is None)
    return score


def requests_sent(result: MatchResult) -> int:
    """HTTP requests a track's queries sent (retries included, cache hits not)."""
    return sum(query.report.attempts for query in result.queries
               if query.report is not None and not query.report.from_cache)


def format_evaluation(score: Evaluation, *, requests: int, tracks: int) -> list[str]:
    lines = [
        f"tracks          {score.tracks} ({score.present} in the catalog)",
        f"precision       {score.precision:.2%}  ({score.correct}/{score.matched} matches right)",
        f"recall          {score.recall:.2%}  ({score.correct}/{score.present} found)",
        f"false on absent {len(score.false_on_absent)}",
        f"to review       {score.review}",
        f"requests/track  {requests / tracks if tracks else 0:.3f}  ({requests} HTTP requests)",
        f"  sold tracks   {_per(score.requests_present, score.present)}",
        f"  absent tracks {_per(score.requests_absent, score.absent)}",
    ]
    if score.wrong:
        lines.append(f"wrong matches   {', '.join(score.wrong)}")
    if score.missed:
        lines.append(f"missed          {', '.join(score.missed)}")
    if score.families:
        lines.append("per family:")
        for name, family in sorted(score.families.items()):
            lines.append(f"  {name:<26} {family.accuracy:7.2%}  ({family.right}/{family.tracks})")
    return lines


def _per(requests: int, tracks: int) -> str:
    return f"{requests / tracks if tracks else 0:.3f}  ({requests} requests for {tracks} tracks)"
