"""One session's report, gathered from the history as plain JSON-ready values.

Every renderer reads a ReportData and nothing else, so the JSON report is the whole of what
the HTML, CSV and text reports show (Datasette's "the JSON is the product").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from cuepoint_tray.domain import BeatportTrack, RekordboxTrack
from cuepoint_tray.musical_keys import parse_key
from cuepoint_tray.store import queries
from cuepoint_tray.store.database import DatabaseOrPath

Row = dict[str, Any]
CONFIDENCES = ("strong", "medium", "low", "none")
OUTCOMES = ("matched", "review", "unmatched", "errors")
_TOTALS = ("tracks", "done", "matched", "review", "unmatched", "errors", "queries", "requests",
           "cache_hits", "retries", "rate_limited", "wall_ms", "match_rate", "cache_hit_rate",
           "ms_per_track", "requests_per_track")


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything a report shows about one session; every value is JSON-ready."""

    session_id: int
    title: str  # "Dev Set, Warm Up — 2024-05-01 21:30"
    playlists: list[str]  # playlist paths, "Sets/Dev Set"
    started: str  # local time, "2024-05-01 21:30"
    overview: Row  # queries.session_overview
    totals: Row
    confidence: dict[str, int]  # every confidence level, zero included
    query_stats: list[Row]  # queries.query_stats_by_type
    slowest: list[Row]  # queries.slowest_tracks
    tips: list[Row]
    time_per_track: list[Row]  # in playlist order: position, name, elapsed_ms, queries, status
    tracks: list[Row]  # the track table: Rekordbox vs Beatport values, see _track_row
    review: list[Row]  # queries.review_queue

    def as_dict(self) -> Row:
        """The report as one JSON-ready dict."""
        return asdict(self)


def build_report(db: DatabaseOrPath, session_id: int) -> ReportData:
    """Read one session's report from the history; NotFoundError when it is not there."""
    overview = queries.session_overview(db, session_id)
    finals = queries.final_matches(db, session_id)
    # slowest_tracks over every track gives each one's time and score in one query.
    timings = {row["id"]: row for row in
               queries.slowest_tracks(db, session_id, limit=max(len(finals), 1))}
    tracks = [_track_row(final, timings.get(final["id"], {})) for final in finals]
    playlists = list(overview["playlists"])
    started = _local_time(overview["started_at"])
    return ReportData(
        session_id=session_id, title=f"{', '.join(playlist_names(playlists))} — {started}",
        playlists=playlists, started=started, overview=overview,
        totals={name: overview[name] for name in _TOTALS},
        confidence={level: overview["by_confidence"].get(level, 0) for level in CONFIDENCES},
        query_stats=queries.query_stats_by_type(db, session_id),
        slowest=queries.slowest_tracks(db, session_id, limit=10),
        tips=queries.tips(db, session_id),
        time_per_track=[_timing(row) for row in tracks],
        tracks=tracks, review=queries.review_queue(db, session_id))


def playlist_names(paths: list[str]) -> list[str]:
    """The playlists' own names, without their folders: "Sets/Dev Set" → "Dev Set"."""
    return [path.rsplit("/", 1)[-1] for path in paths]


def _local_time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


def _track_row(final: Row, timing: Row) -> Row:
    """One line of the track table: what Rekordbox has beside what Beatport has."""
    rb: RekordboxTrack = final["rekordbox"]
    bp: BeatportTrack | None = final["beatport"]
    return {
        "id": final["id"], "playlist": final["playlist"], "position": final["position"],
        "track_id": rb.track_id, "status": final["status"], "confidence": final["confidence"],
        "review_state": final["review_state"], "score": timing.get("score", 0.0),
        "elapsed_ms": timing.get("elapsed_ms", 0.0), "queries": timing.get("queries", 0),
        "rb_artist": rb.artist, "rb_title": rb.name, "rb_mix": rb.mix,
        "rb_bpm": rb.average_bpm, "rb_key": rb.tonality, "rb_genre": rb.genre,
        "rb_label": rb.label, "rb_year": rb.year,
        **_beatport_columns(bp),
    }


def _beatport_columns(bp: BeatportTrack | None) -> Row:
    if bp is None:
        return {name: None for name in ("bp_id", "bp_artist", "bp_title", "bp_mix", "bp_bpm",
                                        "bp_key", "bp_genre", "bp_label", "bp_year", "bp_url")}
    key = parse_key(bp.key_name) or parse_key(bp.camelot)
    year = bp.release_date[:4]
    return {
        "bp_id": bp.id, "bp_artist": ", ".join(bp.artists), "bp_title": bp.title,
        "bp_mix": bp.mix_name, "bp_bpm": bp.bpm,
        # Rekordbox's spelling, so the two key columns compare at a glance.
        "bp_key": key.rekordbox_name if key else bp.key_name,
        "bp_genre": bp.genre, "bp_label": bp.label,
        "bp_year": int(year) if year.isdigit() else None, "bp_url": bp.url,
    }


def _timing(track: Row) -> Row:
    return {name: track[name] for name in
            ("position", "playlist", "rb_title", "elapsed_ms", "queries", "status")}


def export_matches(db: DatabaseOrPath, session_id: int) -> dict[str, BeatportTrack]:
    """Rekordbox TrackID → the Beatport track to export, the DJ's review applied.

    For rekordbox.export.export_enriched. A track in several playlists keeps its first match.
    """
    found: dict[str, BeatportTrack] = {}
    for final in queries.final_matches(db, session_id):
        if final["beatport"] is not None:
            found.setdefault(final["rekordbox"].track_id, final["beatport"])
    return found
