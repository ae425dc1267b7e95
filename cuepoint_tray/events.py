"""What a running session tells the world: the history writer, the progress bar, the tray.

Plain data, emitted in order from the runner; listeners must be quick and must not raise.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Literal

from cuepoint_tray.domain import MatchResult, QueryRecord

SessionStatus = Literal["running", "paused", "completed", "cancelled", "interrupted", "failed"]


@dataclass(frozen=True, slots=True)
class TrackJob:
    """One playlist entry to match: the playlist it sits in and its position there."""

    playlist: str  # the playlist's path, "Sets/Dev Set"
    position: int  # 1-based within the playlist
    track_id: str


@dataclass(frozen=True, slots=True)
class SessionStarted:
    playlists: tuple[str, ...]
    total_tracks: int
    provider: str
    started_at: float  # time.time()


@dataclass(frozen=True, slots=True)
class QueryDone:
    job: TrackJob
    query: QueryRecord
    track_name: str = ""  # "Artist - Title" as in Rekordbox, for "searching now" displays


@dataclass(frozen=True, slots=True)
class TrackDone:
    job: TrackJob
    result: MatchResult
    done: int  # tracks finished so far in the session, this one included
    total: int


@dataclass(frozen=True, slots=True)
class StateChanged:
    """Paused, resumed or stopping, with the reason in the DJ's words."""

    status: SessionStatus
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SessionEnded:
    status: SessionStatus
    summary: SessionSummary
    reason: str = ""


@dataclass(slots=True)
class SessionSummary:
    """A session's aggregates, kept up to date as tracks finish."""

    tracks: int = 0  # tracks planned
    done: int = 0
    matched: int = 0
    review: int = 0  # the app's own doubts, decided by the DJ before or not
    to_review: int = 0  # of those, the tracks the DJ has not decided on yet
    decided: int = 0  # tracks whose earlier decision by the DJ was used
    unmatched: int = 0
    errors: int = 0
    queries: int = 0
    requests: int = 0  # queries that went to the network
    cache_hits: int = 0
    retries: int = 0
    rate_limited: int = 0  # queries that met at least one 429
    early_exits: int = 0
    candidates: int = 0
    wall_ms: float = 0.0
    waits_for_beatport: int = 0  # times the session paused until Beatport answered again
    waited_for_beatport_ms: float = 0.0
    track_ms_total: float = 0.0
    query_ms_total: float = 0.0
    by_confidence: dict[str, int] = field(default_factory=dict)

    def add(self, result: MatchResult) -> None:
        self.done += 1
        self.decided += bool(result.decision_used)
        status = result.status
        if status == "matched":
            self.matched += 1
        elif status == "review":
            self.review += 1
            self.to_review += not result.decision_used
        elif status == "error":
            self.errors += 1
        else:
            self.unmatched += 1
        self.by_confidence[result.confidence] = self.by_confidence.get(result.confidence, 0) + 1
        self.track_ms_total += result.elapsed_ms
        self.early_exits += result.early_exit_at is not None
        self.candidates += len(result.candidates)
        for query in result.queries:
            self._add_query(query)

    def _add_query(self, query: QueryRecord) -> None:
        self.queries += 1
        self.query_ms_total += query.elapsed_ms
        report = query.report
        if report is None:
            return
        if report.from_cache:
            self.cache_hits += 1
        else:
            self.requests += 1
        self.retries += max(0, report.attempts - 1)
        self.rate_limited += report.retry_after_s is not None or report.status == 429

    @property
    def cache_hit_rate(self) -> float:
        return self.cache_hits / self.queries if self.queries else 0.0

    @property
    def average_track_ms(self) -> float:
        return self.track_ms_total / self.done if self.done else 0.0

    @property
    def requests_per_track(self) -> float:
        return self.requests / self.done if self.done else 0.0

    def as_dict(self) -> dict[str, object]:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(cache_hit_rate=round(self.cache_hit_rate, 4),
                      average_track_ms=round(self.average_track_ms, 1),
                      requests_per_track=round(self.requests_per_track, 3))
        return values


Event = SessionStarted | QueryDone | TrackDone | StateChanged | SessionEnded
