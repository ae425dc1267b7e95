"""Match one Rekordbox track: run the planned queries, score candidates, decide, stop early."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from cuepoint_tray.domain import (
    BeatportTrack,
    Candidate,
    Confidence,
    MatchResult,
    ProviderResult,
    QueryRecord,
    RekordboxTrack,
)
from cuepoint_tray.errors import AuthError, BlockedError, NotAnsweringError, ProviderError
from cuepoint_tray.matching.planner import PlannedQuery, plan_queries
from cuepoint_tray.matching.profile import Profile, beatport_profile, rekordbox_profile
from cuepoint_tray.matching.scoring import score

log = logging.getLogger(__name__)

# Confidence from the best score and its lead over the best different recording.
STRONG = (0.88, 0.10)
MEDIUM = (0.80, 0.06)
LOW = 0.60
ACCEPTED: frozenset[Confidence] = frozenset({"strong", "medium"})


@dataclass(frozen=True, slots=True)
class Decision:
    confidence: Confidence
    best: Candidate | None
    reason: str


def decide(candidates: list[Candidate]) -> Decision:
    """The confidence in the best acceptable candidate, from its score and its lead."""
    acceptable = [c for c in candidates if c.acceptable]
    if not acceptable:
        if candidates:
            return Decision("none", None, f"no candidate fits: best was {candidates[0].vetoes[0]}")
        return Decision("none", None, "Beatport returned nothing similar")
    best = acceptable[0]
    rival = next((c for c in acceptable[1:] if not same_recording(best.track, c.track)), None)
    lead = best.score - rival.score if rival else best.score
    confidence = _confidence(best.score, lead)
    reason = f"score {best.score:.2f}, lead {lead:.2f} over " + (
        f"'{rival.track.title} ({rival.track.mix_name})'" if rival else "no other recording")
    return Decision(confidence, best, reason)


def _confidence(best: float, lead: float) -> Confidence:
    if best >= STRONG[0] and lead >= STRONG[1]:
        return "strong"
    if best >= MEDIUM[0] and lead >= MEDIUM[1]:
        return "medium"
    return "low" if best >= LOW else "none"


def same_recording(a: BeatportTrack, b: BeatportTrack) -> bool:
    """Two store entries of one recording: a re-release on another label or a compilation."""
    pa, pb = beatport_profile(a), beatport_profile(b)
    same_length = (pa.duration_s is None or pb.duration_s is None
                   or abs(pa.duration_s - pb.duration_s) <= 1.5)
    return (pa.title == pb.title and set(pa.artist_names) == set(pb.artist_names)
            and pa.version == pb.version and same_length)


QueryListener = Callable[[QueryRecord], None]


class Searcher(Protocol):
    """What matching needs of a provider (matching does not import the providers layer)."""

    def search(self, text: str, page: int = 1, per_page: int = 25) -> ProviderResult: ...


class TrackMatcher:
    """Matches Rekordbox tracks against one provider; safe to share between threads."""

    def __init__(self, provider: Searcher, *, per_page: int = 25):
        self.provider = provider
        self.per_page = per_page

    def match(self, track: RekordboxTrack, on_query: QueryListener | None = None) -> MatchResult:
        """Run the plan until a sure match; a query that fails marks the track as an error."""
        started = time.perf_counter()
        profile = rekordbox_profile(track)
        seen: dict[int, Candidate] = {}
        queries: list[QueryRecord] = []
        decision = Decision("none", None, "nothing searched")
        early_exit: int | None = None
        for number, planned in enumerate(plan_queries(profile), start=1):
            record = self._search(planned, profile, seen)
            queries.append(record)
            if on_query:
                on_query(record)
            decision = decide(_ranked(seen))
            if decision.confidence == "strong":
                early_exit = number
                break
        return _result(track, decision, _ranked(seen), queries, started, early_exit)

    def _search(self, planned: PlannedQuery, profile: Profile,
                seen: dict[int, Candidate]) -> QueryRecord:
        try:
            found = self.provider.search(planned.text, per_page=self.per_page)
        except (BlockedError, AuthError, NotAnsweringError):
            raise  # the session cannot go on for now: the runner pauses, waits, says why
        except ProviderError as exc:
            return QueryRecord(planned.type, planned.text, exc.report, error=str(exc))
        except Exception as exc:  # any other failure of one answer is this query's error
            log.exception("query %r failed", planned.text)
            return QueryRecord(planned.type, planned.text, None,
                               error=f"Beatport's answer could not be read ({type(exc).__name__})")
        started = time.perf_counter()
        for track in found.tracks[:self.per_page]:  # an answer may list more than asked
            if track.id not in seen:
                seen[track.id] = _candidate(profile, track, planned.type)
        scoring_ms = (time.perf_counter() - started) * 1000
        return QueryRecord(planned.type, planned.text, found.report,
                           parse_ms=found.parse_ms + scoring_ms,
                           candidates=min(len(found.tracks), self.per_page))


def _candidate(profile: Profile, track: BeatportTrack, found_by: str) -> Candidate:
    total, components, vetoes = score(profile, beatport_profile(track))
    return Candidate(track, total, components, vetoes, found_by)


def _ranked(seen: dict[int, Candidate]) -> list[Candidate]:
    return sorted(seen.values(), key=lambda c: (c.acceptable, c.score), reverse=True)


def _result(track: RekordboxTrack, decision: Decision, ranked: list[Candidate],
            queries: list[QueryRecord], started: float, early_exit: int | None) -> MatchResult:
    errors = [q.error for q in queries if q.error]
    accepted = decision.best is not None and decision.confidence in ACCEPTED
    best = decision.best
    candidates = tuple(_explained(c, i, best, accepted) for i, c in enumerate(ranked, start=1))
    failed = bool(errors) and not accepted
    return MatchResult(
        rekordbox=track,
        match=best.track if accepted and best else None,
        confidence=decision.confidence if not failed else "none",
        score=best.score if best else (ranked[0].score if ranked else 0.0),
        candidates=candidates,
        queries=tuple(queries),
        review=best.track if best and not accepted and decision.confidence == "low" else None,
        reason=decision.reason if not failed else f"could not search: {errors[-1]}",
        error=errors[-1] if failed else "",
        elapsed_ms=(time.perf_counter() - started) * 1000,
        early_exit_at=early_exit,
    )


def _explained(candidate: Candidate, rank: int, best: Candidate | None,
               accepted: bool) -> Candidate:
    if candidate.vetoes:
        why = "; ".join(candidate.vetoes)
    elif best is not None and candidate.track.id == best.track.id:
        why = "" if accepted else "best, but not sure enough to accept"
    elif best is not None and same_recording(best.track, candidate.track):
        why = f"same recording, lower score than {best.track.id} ({candidate.score:.2f})"
    else:
        why = f"lower score ({candidate.score:.2f} vs {best.score:.2f})" if best else ""
    return replace(candidate, rank=rank, lost_because=why)
