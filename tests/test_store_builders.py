"""Real domain objects and runner events for the store's tests, built by hand.

Imported by the other test_store_* modules; its own tests check the builders' promises.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cuepoint_tray.domain import (
    BeatportTrack,
    Candidate,
    Component,
    Confidence,
    MatchResult,
    QueryRecord,
    RekordboxTrack,
    RequestReport,
)
from cuepoint_tray.events import SessionEnded, SessionSummary, TrackDone, TrackJob
from cuepoint_tray.settings import Settings
from cuepoint_tray.store import HistoryWriter
from cuepoint_tray.store.packing import BEATPORT_FIELDS, pack_value, unpack_value

PLAYLIST = "Sets/Dev Set"


def rekordbox(n: int, *, artist: str | None = None) -> RekordboxTrack:
    return RekordboxTrack(
        track_id=str(1000 + n), name=f"Track {n}",
        artist=f"Artist {n}" if artist is None else artist, album="Album", genre="Techno",
        label="Label", mix="Original Mix", remixer="", year=2020, total_time=400 + n,
        average_bpm=126.0, tonality="Am", location=f"file:///music/{n}.mp3",
        comments="c")


def beatport(bp_id: int, n: int = 0) -> BeatportTrack:
    return BeatportTrack(
        id=bp_id, title=f"Track {n}", mix_name="Original Mix", artists=(f"Artist {n}", "B"),
        remixers=("R",), bpm=126.0, key_name="A Minor", camelot="8A", genre="Techno",
        sub_genre="Peak Time", label="Label", release="EP", release_date="2020-05-01",
        length_ms=(400 + n) * 1000, isrc=f"GB{bp_id:010d}", url=f"https://bp/track/{bp_id}")


def candidate(track: BeatportTrack, score: float, *, vetoes: tuple[str, ...] = ()) -> Candidate:
    return Candidate(track=track, score=score, vetoes=vetoes, found_by="full",
                     components=(Component("title", score, 3.0, "same title"),
                                 Component("artists", 1.0, 2.0, "same artists")))


def query(type_: str = "full", *, elapsed: float = 100.0, cached: bool = False,
          status: int | None = 200, attempts: int = 1, error: str = "",
          throttle: float = 0.0, retry_after: float | None = None) -> QueryRecord:
    report = RequestReport(kind="search", url="http://x/search", status=status,
                           elapsed_ms=elapsed, from_cache=cached,
                           attempts=0 if cached else attempts, throttle_wait_ms=throttle,
                           retry_after_s=retry_after, error=error)
    return QueryRecord(type=type_, text=f"{type_} text", report=report, parse_ms=5.0,
                       candidates=2, error=error)


def result(n: int, status: str = "matched", *, queries: tuple[QueryRecord, ...] | None = None,
           elapsed: float = 250.0, artist: str | None = None, bp_id: int | None = None,
           confidence: Confidence | None = None) -> MatchResult:
    """A MatchResult for Rekordbox track n with two candidates, in the given status."""
    best, other = beatport(bp_id or 5000 + n, n), beatport(9000 + n, n)
    candidates = (candidate(best, 0.93), candidate(other, 0.5, vetoes=("another remix",)))
    planned = queries if queries is not None else (query("full"),)
    common = {"rekordbox": rekordbox(n, artist=artist), "candidates": candidates,
              "queries": planned, "elapsed_ms": elapsed, "score": 0.93}
    if status == "matched":
        return MatchResult(match=best, confidence=confidence or "strong", early_exit_at=1,
                           reason="strong match", **common)  # type: ignore[arg-type]
    if status == "review":
        return MatchResult(match=None, review=best, confidence=confidence or "low",
                           reason="close second", **common)  # type: ignore[arg-type]
    if status == "error":
        return MatchResult(match=None, confidence="none", error="connection refused",
                           **{**common, "candidates": ()})  # type: ignore[arg-type]
    return MatchResult(match=None, confidence="none", reason="nothing close",
                       **{**common, "candidates": ()})  # type: ignore[arg-type]


def track_done(position: int, outcome: MatchResult, *, playlist: str = PLAYLIST,
               done: int = 1, total: int = 10) -> TrackDone:
    job = TrackJob(playlist, position, outcome.rekordbox.track_id)
    return TrackDone(job, outcome, done, total)


def ended(status: str = "completed", tracks: int = 10) -> SessionEnded:
    return SessionEnded(status, SessionSummary(tracks=tracks), "")  # type: ignore[arg-type]


def begin(writer: HistoryWriter, total: int = 10, *, playlists: tuple[str, ...] = (PLAYLIST,),
          settings: Settings | None = None) -> int:
    return writer.begin_session(
        playlists=playlists, xml_path="/music/rekordbox.xml", xml_sha256="ab" * 32,
        provider="beatport-api", settings=settings or Settings(), app_version="0.1.0",
        total_tracks=total)


def set_beatport_url(connection: sqlite3.Connection, track_id: int, url: str, *,
                     candidates: bool = False) -> None:
    """Give a stored track's Beatport track (and, with `candidates`, its candidates') another
    URL, in its packed value, as a test's arrangement: the track's own kept in full."""
    (packed,) = connection.execute("SELECT packed_candidates FROM track_results WHERE id = ?",
                                   (track_id,)).fetchone()
    value = unpack_value(packed)
    at = BEATPORT_FIELDS.index("url")
    best_rank, entries = value[0], value[2]
    extra = value[3] if len(value) > 3 else {}
    if "match" not in extra:
        best = next(entry for entry in entries if entry[0] == best_rank)
        extra["match"] = list(best[6])
    extra["match"][at] = url
    if candidates:
        for entry in entries:
            entry[6][at] = url
    connection.execute("UPDATE track_results SET packed_candidates = ? WHERE id = ?",
                       (pack_value([best_rank, value[1], entries, extra]), track_id))


def db_file(tmp_path: Path) -> Path:
    return tmp_path / "history.sqlite3"


def test_results_have_the_status_asked_for() -> None:
    for status in ("matched", "review", "unmatched", "error"):
        assert result(1, status).status == status
