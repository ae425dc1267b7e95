"""Running a match session end to end: Rekordbox playlists in, history, report and files out.

The composition used by the CLI (and by the tray later): HTTP client, provider, matcher,
runner and the history writer, wired together and closed again.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cuepoint_tray import __version__
from cuepoint_tray.account import forget_refused_sign_in, keep_renewed_tokens
from cuepoint_tray.domain import Playlist, RekordboxTrack
from cuepoint_tray.errors import CuepointError
from cuepoint_tray.events import SessionEnded, TrackJob
from cuepoint_tray.file_writing import capped_name
from cuepoint_tray.matching import TrackMatcher
from cuepoint_tray.musical_keys import parse_key
from cuepoint_tray.paths import AppPaths
from cuepoint_tray.providers import make_http_client, make_provider
from cuepoint_tray.rekordbox import PlaylistTree, open_library
from cuepoint_tray.resume_plan import StoredTrack, plan_resume
from cuepoint_tray.runner import Listener, SessionRunner, jobs_for
from cuepoint_tray.settings import Settings
from cuepoint_tray.store import HistoryWriter
from cuepoint_tray.store.queries import decisions_of_library, session_overview
from cuepoint_tray.waits import APP_WAITS, Waits

log = logging.getLogger(__name__)


@dataclass
class MatchOutcome:
    """How a session ended and what it wrote; the tracks themselves are in the history only."""

    session_id: int
    ended: SessionEnded
    meta: dict[str, Any] = field(default_factory=dict)
    report_path: Path | None = None
    folder: Path | None = None  # the session's one report folder
    files: list[Path] = field(default_factory=list)  # the report and the tables, as written
    # The whole session as the history holds it when it ended (`queries.session_overview`):
    # every track, resumed or not, and what is left to review after the DJ's decisions.
    session: dict[str, Any] = field(default_factory=dict)


RunnerReady = Callable[[SessionRunner, int], None]  # the runner and its session's id


def run_match(library: PlaylistTree, playlists: Sequence[Playlist], settings: Settings,
              paths: AppPaths, *, listeners: Sequence[Listener] = (),
              on_runner: RunnerReady | None = None, waits: Waits = APP_WAITS,
              out_dir: Path | None = None, json_out: Path | None = None) -> MatchOutcome:
    """Match the playlists' tracks against Beatport, kept in the history; blocks until the
    session ends (completed, cancelled, or paused because Beatport cannot be reached).

    `on_runner` receives the runner and the session id before it starts, so another thread
    can pause, resume or cancel it; `waits`: how long to wait on a slow or gone Beatport.
    The report and the tables are written from the history into `out_dir`, else a new
    folder under the reports folder (`default_out_dir`); the JSON report also at `json_out`
    when given (`cuepoint match --json-out`)."""
    tracks = _tracks_by_id(library, playlists)  # says clearly which playlist is empty or broken
    jobs = jobs_for([(p.path_text, p.track_ids) for p in playlists])
    with HistoryWriter(paths.database) as writer:
        writer.mark_interrupted_sessions()

        def begin(provider_name: str) -> int:
            return writer.begin_session(
                playlists=[p.path_text for p in playlists],
                xml_path=str(Path(library.path).resolve()),
                xml_sha256=library_sha256(library), provider=provider_name,
                settings=settings, app_version=__version__, total_tracks=len(jobs),
                playlist_tracks=[len(p.track_ids) for p in playlists])

        return _run(library, tracks, jobs, settings, paths, writer, begin, listeners,
                    on_runner, already_done=0, waits=waits, out_dir=out_dir,
                    json_out=json_out)


def resume_match(session_id: int, settings: Settings, paths: AppPaths, *,
                 listeners: Sequence[Listener] = (),
                 on_runner: RunnerReady | None = None,
                 tell: Callable[[str], None] | None = None,
                 waits: Waits = APP_WAITS, out_dir: Path | None = None,
                 json_out: Path | None = None) -> MatchOutcome:
    """Continue a paused, interrupted or cancelled session with the tracks not yet matched.

    The playlists are read again: tracks added since are matched, removed ones dropped,
    moved ones kept (`resume_plan.py`); `tell` hears what changed, in the DJ's words."""
    with HistoryWriter(paths.database) as writer:
        writer.mark_interrupted_sessions()
        session = session_overview(writer.db, session_id)
        done = writer.done_positions(session_id)
        # A "completed" session missing tracks (written by an older CuePoint on a full disk)
        # can resume too; one left "running" by this process (its end could not be written)
        # too, while another live process's is refused by resume_session.
        if session["status"] == "completed" and len(done) >= session["tracks"]:
            raise CuepointError(f"Session {session_id} is completed: nothing to resume.")
        library = open_library(Path(session["xml_path"]), key_file=paths.masterdb_keys)
        playlists = [library.find_playlist(path) for path in session["playlists"]]
        tracks = _tracks_by_id(library, playlists)
        jobs = jobs_for([(p.path_text, p.track_ids) for p in playlists])
        plan = plan_resume(jobs, [StoredTrack(playlist, position, track_id,
                                              (playlist, position) in done)
                                  for playlist, position, track_id, _ in
                                  writer.stored_tracks(session_id)])
        if library_sha256(library) != session["xml_sha256"]:
            log.warning("the Rekordbox library changed since session %s started", session_id)
        writer.realign(session_id, plan.moves, [len(p.track_ids) for p in playlists])
        for note in plan.notes(tracks_before=int(session["tracks"])):
            log.info("resume of session %s: %s", session_id, note)
            if tell is not None:
                tell(note)
        remaining = plan.remaining

        def begin(_provider_name: str) -> int:
            writer.resume_session(session_id)
            return session_id

        return _run(library, tracks, remaining, settings, paths, writer, begin, listeners,
                    on_runner, already_done=len(jobs) - len(remaining), waits=waits,
                    out_dir=out_dir, json_out=json_out)


def _tracks_by_id(library: PlaylistTree,
                  playlists: Sequence[Playlist]) -> dict[str, RekordboxTrack]:
    """The playlists' tracks by ID; raises, in the DJ's words, for an empty or broken one."""
    return {track.track_id: track for playlist in playlists
            for track in library.tracks_of(playlist)}


def library_sha256(library: PlaylistTree) -> str:
    """The XML's checksum, to notice an export that changed before a resume; "" for a
    master.db, which changes whenever Rekordbox runs (and may be large)."""
    return file_sha256(library.path) if library.kind == "xml" else ""


def _run(library: PlaylistTree, tracks: dict[str, RekordboxTrack], jobs: list[TrackJob],
         settings: Settings, paths: AppPaths, writer: HistoryWriter,
         begin: Callable[[str], int], listeners: Sequence[Listener],
         on_runner: RunnerReady | None, *, already_done: int, waits: Waits,
         out_dir: Path | None, json_out: Path | None) -> MatchOutcome:
    http = make_http_client(settings, paths.http_cache, waits)
    try:
        provider = make_provider(
            settings, http,
            on_tokens_changed=lambda access, refresh: keep_renewed_tokens(
                paths.settings_file, access, refresh),
            on_sign_in_lost=lambda refresh: forget_refused_sign_in(paths.settings_file,
                                                                   refresh))
        session_id = begin(provider.name)
        notices = [note for note in (unreadable_keys_notice(tracks, jobs),) if note]
        for note in notices:
            log.warning("%s", note)
            writer.record_error("keys", note)
        matcher = TrackMatcher(provider, isrc_lookup=provider.track_by_isrc
                               if provider.exact_isrc_lookup else None)
        library_key = session_overview(writer.db, session_id)["xml_path"]
        decisions = {track_id: row["state"] for track_id, row in
                     decisions_of_library(writer.db, library_key).items()}
        runner = SessionRunner(matcher, tracks, provider_name=provider.name,
                               concurrency=settings.concurrency,
                               listeners=[writer, *listeners],
                               wait_for_beatport_s=waits.wait_for_beatport_s,
                               decisions=decisions)
        writer.on_unwritten = runner.stop_for  # a track not kept stops the session
        if on_runner:
            on_runner(runner, session_id)
        ended = runner.run(jobs, already_done=already_done)
    finally:
        writer.on_unwritten = None
        http.close()
    writer.add_throttle_wait(session_id, http.throttle.waited_wall_s * 1000)
    unwritten = writer.unwritten_reason(session_id)
    if unwritten and ended.status == "completed":  # the writer stored it as paused too
        ended = SessionEnded("paused", ended.summary, unwritten)
    if ended.reason and ended.status != "completed":
        writer.record_error("session", ended.reason)
    writer.flush()
    stored = session_overview(writer.db, session_id)
    playlists = list(stored["playlists"])
    folder: Path | None = None
    report_path: Path | None = None
    files: list[Path] = []
    if stored["done"]:  # a session stopped before its first track (blocked) has nothing
        folder = out_dir or session_folder(stored["report_path"]) or default_out_dir(
            paths, session_id, playlists)
        report_path, files = _write_outputs(writer, session_id, settings, folder, json_out)
    if settings.query_retention_days > 0:
        writer.delete_old_queries(settings.query_retention_days)
    meta = {
        "id": session_id, "status": ended.status, "reason": ended.reason,
        "playlists": playlists,
        "xml": str(library.path), "provider": provider.name, "app_version": __version__,
        "token_renewals": getattr(provider, "renewals", 0),
        "notices": notices,
    }
    whole = session_overview(writer.db, session_id)
    whole.pop("settings", None)
    return MatchOutcome(session_id, ended, meta, report_path, folder, files, whole)


def unreadable_keys_notice(tracks: Mapping[str, RekordboxTrack],
                           jobs: Sequence[TrackJob]) -> str:
    """One sentence for the session's tracks whose key no notation reads ("" when none):
    their key is left out of matching, and the DJ hears how many, once."""
    unread: dict[str, str] = {}
    for job in jobs:
        key = tracks[job.track_id].tonality
        if key.strip() and parse_key(key) is None:
            unread[job.track_id] = key
    if not unread:
        return ""
    examples = ", ".join(f"'{key}'" for key in list(dict.fromkeys(unread.values()))[:3])
    count = len(unread)
    return (f"{count} track{'' if count == 1 else 's'} carry a key CuePoint cannot read "
            f"({examples}); {'it is' if count == 1 else 'they are'} matched without "
            "the key. Re-analyse the key in Rekordbox to fix it.")


def _write_outputs(writer: HistoryWriter, session_id: int, settings: Settings,
                   folder: Path, json_out: Path | None) -> tuple[Path | None, list[Path]]:
    """The report and the tables written when a session ends, all read from the history
    into the session's folder; a failure is recorded, never fatal."""
    from cuepoint_tray.reports import build_report, report_file_name, write_tables
    from cuepoint_tray.reports.render import write_rendered

    try:
        data = build_report(writer.db, session_id, settings.key_notation)
        path = folder / report_file_name(data, settings.report_format)
        write_rendered(data, settings.report_format, path)
        files = [*write_tables(writer.db, session_id, folder, tracks=data.tracks), path]
        if json_out is not None:
            write_rendered(data, "json", json_out)
            files.append(json_out)
    except (CuepointError, OSError) as exc:
        log.exception("report for session %s failed", session_id)
        writer.record_error("report", str(exc))
        return None, []
    writer.set_report_path(session_id, str(path))
    return path, files


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def session_folder(report_path: str) -> Path | None:
    """The folder an earlier run of the session (before a resume) wrote its report and
    tables into, when it is still there: a session keeps one folder."""
    if not report_path:
        return None
    folder = Path(report_path).parent
    return folder if folder.is_dir() else None


def default_out_dir(paths: AppPaths, session_id: int, playlists: Sequence[str]) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = "+".join(p.rsplit("/", 1)[-1] for p in playlists)
    safe = "".join(c if c.isalnum() or c in "-_ " else "_" for c in name).strip() or "session"
    return paths.reports_dir / f"session-{session_id} {capped_name(safe, 120).strip()} {stamp}"
