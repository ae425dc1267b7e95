"""One session's report, gathered from the history as plain JSON-ready values.

Every renderer reads a ReportData and nothing else, so the JSON report is the whole of what
the HTML, CSV and text reports show (Datasette's "the JSON is the product").
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from peewee import SqliteDatabase

from cuepoint_tray.changes import ExportOptions
from cuepoint_tray.domain import BeatportTrack
from cuepoint_tray.musical_keys import parse_key
from cuepoint_tray.store import queries
from cuepoint_tray.store.database import reads

Row = dict[str, Any]
CONFIDENCES = ("strong", "medium", "low", "none")
OUTCOMES = ("matched", "review", "unmatched", "errors")
_TOTALS = ("tracks", "done", "matched", "review", "to_review", "decided", "will_change",
           "unmatched", "errors", "queries", "requests",
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
    time_per_track: list[Row]  # in playlist order: position, name, elapsed_ms, query_count, status
    tracks: list[Row]  # every track as queries.track_shape shapes it, in playlist order
    review: list[Row]  # queries.review_queue

    def as_dict(self) -> Row:
        """The report as one JSON-ready dict (its values shared, not copied)."""
        return {field.name: getattr(self, field.name) for field in fields(self)}


@reads
def build_report(db: SqliteDatabase, session_id: int, key_notation: str = "musical"
                 ) -> ReportData:
    """Read one session's report from the history, keys in `key_notation`; NotFoundError
    when it is not there."""
    overview = queries.session_overview(db, session_id)
    tracks = queries.all_tracks(db, session_id, ExportOptions(key_notation=key_notation))
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
        time_per_track=[_timing(track) for track in tracks],
        tracks=tracks, review=queries.review_queue(db, session_id))


def playlist_names(paths: list[str]) -> list[str]:
    """The playlists' own names, without their folders: "Sets/Dev Set" → "Dev Set"."""
    return [path.rsplit("/", 1)[-1] for path in paths]


def _local_time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


def _timing(track: Row) -> Row:
    return {"position": track["position"], "playlist": track["playlist"],
            "name": track["rekordbox"]["name"], "elapsed_ms": track["elapsed_ms"],
            "query_count": track["query_count"], "status": track["status"]}


def key_as_rekordbox(beatport: Row | None) -> str:
    """Beatport's key in Rekordbox's spelling, so the two keys compare at a glance."""
    if not beatport:
        return ""
    key = parse_key(beatport["key_name"]) or parse_key(beatport["camelot"])
    return key.rekordbox_name if key else beatport["key_name"]


@reads
def export_matches(db: SqliteDatabase, session_id: int) -> dict[str, BeatportTrack]:
    """Rekordbox TrackID → the Beatport track to export, the DJ's review applied.

    For rekordbox.export.export_enriched. A track in several playlists keeps its first match.
    """
    found: dict[str, BeatportTrack] = {}
    for final in queries.final_matches(db, session_id):
        if final["final"] is not None:
            found.setdefault(final["rekordbox"].track_id, final["final"])
    return found
