"""Match one Rekordbox track: run the planned queries, score candidates, decide, stop early."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
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
from cuepoint_tray.matching.planner import (
    Answer,
    PlannedQuery,
    isrc_query,
    plan_queries,
    worth_sending,
)
from cuepoint_tray.matching.profile import Profile, beatport_profile, rekordbox_profile
from cuepoint_tray.matching.scoring import doubt, score

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


Doubts = Mapping[int, str]  # Beatport track id -> why it needs the DJ's eye (scoring.doubt)


def decide(candidates: list[Candidate], doubts: Doubts | None = None) -> Decision:
    """The confidence in the best acceptable candidate, from its score and its lead.

    A best candidate with a doubt (a remix for a title that names no mix) is never accepted:
    the DJ reviews the most likely recording, the best candidate without a doubt when the
    lengths do not rule it out (the original, when it is sold), else that best one."""
    acceptable = [c for c in candidates if c.acceptable]
    if not acceptable:
        if candidates:
            return Decision("none", None, f"no candidate fits: best was {candidates[0].vetoes[0]}")
        return Decision("none", None, "Beatport returned nothing similar")
    best = acceptable[0]
    rival = next((c for c in acceptable[1:] if not same_recording(best.track, c.track)), None)
    lead = best.score - rival.score if rival else best.score
    why = (doubts or {}).get(best.track.id)
    if why:
        return _review(acceptable, doubts or {}, why)
    confidence = _confidence(best.score, lead)
    reason = f"score {best.score:.2f}, lead {lead:.2f} over " + (
        f"'{rival.track.title} ({rival.track.mix_name})'" if rival else "no other recording")
    return Decision(confidence, best, reason)


def _review(acceptable: list[Candidate], doubts: Doubts, why: str) -> Decision:
    proposal = next((c for c in acceptable if c.track.id not in doubts and _length_fits(c)),
                    acceptable[0])
    confidence: Confidence = "low" if proposal.score >= LOW else "none"
    return Decision(confidence, proposal, f"{why}: yours to check "
                    f"(proposed '{proposal.track.title} ({proposal.track.mix_name})', "
                    f"score {proposal.score:.2f})")


def _length_fits(candidate: Candidate) -> bool:
    length = next((c for c in candidate.components if c.name == "duration"), None)
    return length is None or length.similarity >= 0.5


def _confidence(best: float, lead: float) -> Confidence:
    if best >= STRONG[0] and lead >= STRONG[1]:
        return "strong"
    if best >= MEDIUM[0] and lead >= MEDIUM[1]:
        return "medium"
    return "low" if best >= LOW else "none"


def same_recording(a: BeatportTrack, b: BeatportTrack) -> bool:
    """Two store entries of one recording: a re-release on another label or a compilation
    (an ISRC names one recording, so two releases carrying it are one)."""
    if a.isrc and a.isrc == b.isrc:
        return True
    pa, pb = beatport_profile(a), beatport_profile(b)
    same_length = (pa.duration_s is None or pb.duration_s is None
                   or abs(pa.duration_s - pb.duration_s) <= 1.5)
    return (pa.title == pb.title and set(pa.artist_names) == set(pb.artist_names)
            and pa.version == pb.version and same_length)


QueryListener = Callable[[QueryRecord], None]
IsrcLookup = Callable[[str], ProviderResult]  # a provider's exact track_by_isrc


class Searcher(Protocol):
    """What matching needs of a provider (matching does not import the providers layer)."""

    def search(self, text: str, page: int = 1, per_page: int = 25) -> ProviderResult: ...


class TrackMatcher:
    """Matches Rekordbox tracks against one provider; safe to share between threads."""

    def __init__(self, provider: Searcher, *, per_page: int = 25,
                 isrc_lookup: IsrcLookup | None = None):
        """`isrc_lookup`: when given, a track carrying an ISRC is looked up by it first."""
        self.provider = provider
        self.per_page = per_page
        self.isrc_lookup = isrc_lookup

    def match(self, track: RekordboxTrack, on_query: QueryListener | None = None) -> MatchResult:
        """Run the plan until a sure match; a query that fails marks the track as an error."""
        started = time.perf_counter()
        profile = rekordbox_profile(track)
        seen: dict[int, Candidate] = {}
        doubts: dict[int, str] = {}
        queries: list[QueryRecord] = []
        answers: list[Answer] = []
        decision = Decision("none", None, "nothing searched")
        early_exit: int | None = None
        for planned in self._plan(track, profile):
            if not worth_sending(planned, answers):
                continue
            record, answer = self._search(planned, profile, seen, doubts)
            queries.append(record)
            answers.append(answer)
            if on_query:
                on_query(record)
            decision = decide(_ranked(seen), doubts)
            if decision.confidence == "strong":
                early_exit = len(queries)
                break
        return _result(track, decision, _ranked(seen), queries, started, early_exit, doubts)

    def _plan(self, track: RekordboxTrack, profile: Profile) -> list[PlannedQuery]:
        exact = isrc_query(track.isrc) if self.isrc_lookup and track.isrc else None
        return [exact, *plan_queries(profile)] if exact else plan_queries(profile)

    def _ask(self, planned: PlannedQuery) -> ProviderResult:
        if planned.type == "isrc" and self.isrc_lookup is not None:
            return self.isrc_lookup(planned.text)
        return self.provider.search(planned.text, per_page=self.per_page)

    def _search(self, planned: PlannedQuery, profile: Profile, seen: dict[int, Candidate],
                doubts: dict[int, str]) -> tuple[QueryRecord, Answer]:
        try:
            found = self._ask(planned)
        except (BlockedError, AuthError, NotAnsweringError):
            raise  # the session cannot go on for now: the runner pauses, waits, says why
        except ProviderError as exc:
            record = QueryRecord(planned.type, planned.text, exc.report, error=str(exc))
            return record, Answer(planned, (), failed=True)
        except Exception as exc:  # any other failure of one answer is this query's error
            log.exception("query %r failed", planned.text)
            unreadable = f"Beatport's answer could not be read ({type(exc).__name__})"
            record = QueryRecord(planned.type, planned.text, None, error=unreadable)
            return record, Answer(planned, (), failed=True)
        started = time.perf_counter()
        listed = found.tracks[:self.per_page]  # an answer may list more than was asked
        for track in listed:
            if track.id not in seen:
                seen[track.id] = _candidate(profile, track, planned.type, doubts)
        scoring_ms = (time.perf_counter() - started) * 1000
        record = QueryRecord(planned.type, planned.text, found.report,
                             parse_ms=found.parse_ms + scoring_ms, candidates=len(listed))
        return record, Answer(planned, tuple(seen[track.id] for track in listed))


def _candidate(profile: Profile, track: BeatportTrack, found_by: str,
               doubts: dict[int, str]) -> Candidate:
    store = beatport_profile(track)
    total, components, vetoes = score(profile, store)
    why = doubt(profile, store) if not vetoes else ""
    if why:
        doubts[track.id] = why
    return Candidate(track, total, components, vetoes, found_by)


def _ranked(seen: dict[int, Candidate]) -> list[Candidate]:
    return sorted(seen.values(), key=lambda c: (c.acceptable, c.score), reverse=True)


def _result(track: RekordboxTrack, decision: Decision, ranked: list[Candidate],
            queries: list[QueryRecord], started: float, early_exit: int | None,
            doubts: Doubts) -> MatchResult:
    errors = [q.error for q in queries if q.error]
    accepted = decision.best is not None and decision.confidence in ACCEPTED
    best = decision.best
    candidates = tuple(_explained(c, i, best, accepted, doubts)
                       for i, c in enumerate(ranked, start=1))
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
               accepted: bool, doubts: Doubts) -> Candidate:
    if candidate.vetoes:
        why = "; ".join(candidate.vetoes)
    elif best is not None and candidate.track.id == best.track.id:
        why = "" if accepted else doubts.get(candidate.track.id,
                                             "best, but not sure enough to accept")
    elif candidate.track.id in doubts:
        why = doubts[candidate.track.id]
    elif best is not None and same_recording(best.track, candidate.track):
        why = f"same recording, lower score than {best.track.id} ({candidate.score:.2f})"
    else:
        why = f"lower score ({candidate.score:.2f} vs {best.score:.2f})" if best else ""
    return replace(candidate, rank=rank, lost_because=why)
