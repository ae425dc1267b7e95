"""Plain data the layers exchange: Rekordbox tracks and playlists, Beatport tracks, requests.

No I/O here. Every other layer converts to and from these at its edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

RequestKind = Literal["search", "track", "isrc"]


@dataclass(frozen=True, slots=True)
class RekordboxTrack:
    """One TRACK of a Rekordbox COLLECTION, with the fields as the DJ has them."""

    track_id: str
    name: str
    artist: str = ""
    album: str = ""
    genre: str = ""
    label: str = ""
    mix: str = ""
    remixer: str = ""
    year: int | None = None  # Rekordbox writes 0 for unknown; read as None
    total_time: int | None = None  # seconds
    average_bpm: float | None = None
    tonality: str = ""  # Rekordbox spelling: "Am", "F#m", "Db"
    location: str = ""
    comments: str = ""
    isrc: str = ""  # master.db only: Rekordbox's XML export has no ISRC


@dataclass(frozen=True, slots=True)
class Playlist:
    """A playlist (NODE Type="1"): its path from the root and its entries as TrackIDs, in order."""

    name: str
    path: tuple[str, ...]  # ("Sets", "Dev Set"); the ROOT node is not part of it
    track_ids: tuple[str, ...]

    @property
    def path_text(self) -> str:
        return "/".join(self.path)


@dataclass(frozen=True, slots=True)
class PlaylistFolder:
    """A folder (NODE Type="0") holding playlists and folders, in the order Rekordbox shows them."""

    name: str
    path: tuple[str, ...]
    children: tuple[PlaylistFolder | Playlist, ...] = ()


@dataclass(frozen=True, slots=True)
class BeatportTrack:
    """A track as Beatport sells it, whichever of Beatport's shapes it was read from."""

    id: int
    title: str  # without the mix name
    mix_name: str = ""
    artists: tuple[str, ...] = ()
    remixers: tuple[str, ...] = ()
    bpm: float | None = None
    key_name: str = ""  # Beatport's spelling, "F Major" / "Eb Minor"
    camelot: str = ""  # "7B"
    genre: str = ""
    sub_genre: str = ""
    label: str = ""
    release: str = ""
    release_date: str = ""  # "YYYY-MM-DD"
    length_ms: int | None = None
    isrc: str = ""
    url: str = ""


@dataclass(frozen=True, slots=True)
class RequestReport:
    """What one call to Beatport cost: every request reports this to its caller."""

    kind: RequestKind
    url: str
    status: int | None  # HTTP status of the last attempt; None when no answer came
    elapsed_ms: float  # wall time of the call, retries and throttle waits included
    from_cache: bool
    attempts: int  # 1 when the first try answered; 0 for a cache hit
    throttle_wait_ms: float = 0.0
    retry_after_s: float | None = None  # the largest Retry-After honoured
    error: str = ""


@dataclass(frozen=True, slots=True)
class ProviderResult:
    """Tracks from one provider call, with the request's report and the time spent parsing."""

    tracks: tuple[BeatportTrack, ...]
    report: RequestReport
    parse_ms: float = 0.0
    total: int | None = None  # how many results the search has in all, when Beatport says
    extra: dict[str, object] = field(default_factory=dict)


Confidence = Literal["strong", "medium", "low", "none"]


@dataclass(frozen=True, slots=True)
class Component:
    """One named part of a score: how alike the two sides are (0..1) and how much it counts."""

    name: str  # "title", "artists", "version", "duration", "bpm", "key", "year", "label", ...
    similarity: float
    weight: float
    detail: str = ""  # what was compared, in words: "432 s vs 431.5 s"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A Beatport track considered for a Rekordbox track, with why it scored as it did."""

    track: BeatportTrack
    score: float  # weighted mean of the components, 0..1
    components: tuple[Component, ...]
    vetoes: tuple[str, ...] = ()  # reasons it cannot be this track at all ("another remix")
    found_by: str = ""  # type of the query that first returned it
    rank: int = 0  # 1 = chosen / best
    lost_because: str = ""

    @property
    def acceptable(self) -> bool:
        return not self.vetoes


@dataclass(frozen=True, slots=True)
class QueryRecord:
    """One query sent for a track, and what it cost."""

    type: str  # "full", "title_artist", "title", "isrc", ...
    text: str
    report: RequestReport | None
    parse_ms: float = 0.0
    candidates: int = 0
    error: str = ""

    @property
    def elapsed_ms(self) -> float:
        return self.report.elapsed_ms if self.report else 0.0


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The outcome for one Rekordbox track."""

    rekordbox: RekordboxTrack
    match: BeatportTrack | None  # the track the app stands behind; None when not sure
    confidence: Confidence
    score: float
    candidates: tuple[Candidate, ...]  # best first
    queries: tuple[QueryRecord, ...]
    review: BeatportTrack | None = None  # a doubtful best candidate, for the DJ to decide
    reason: str = ""  # why this outcome, in words
    error: str = ""  # set when the track could not be searched (network, blocked, ...)
    elapsed_ms: float = 0.0
    early_exit_at: int | None = None  # 1-based index of the query after which matching stopped
    # The DJ's earlier decision on this track (accepted, rejected, picked), used instead of
    # asking again; "" when there is none. `match` and `review` stay the app's own result.
    decision_used: str = ""

    @property
    def status(self) -> str:
        if self.error:
            return "error"
        if self.match is not None:
            return "matched"
        return "review" if self.review is not None else "unmatched"
