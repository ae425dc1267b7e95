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
