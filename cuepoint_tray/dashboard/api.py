"""The dashboard's API: plain methods returning JSON-ready data, no HTTP in sight.

Every page of the dashboard renders what one or two of these methods return; `server.py`
only parses requests and calls them. Errors are the app's own (`NotFoundError`,
`CuepointError`, ...), which the HTTP layer turns into status codes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from peewee import SqliteDatabase

from cuepoint_tray import __version__
from cuepoint_tray.beatport_lookup import BeatportLookup, scored
from cuepoint_tray.changes import ExportOptions, export_options
from cuepoint_tray.controller import SessionController
from cuepoint_tray.domain import BeatportTrack, Playlist, PlaylistFolder
from cuepoint_tray.errors import CuepointError, ProviderError, SettingsError
from cuepoint_tray.file_writing import capped_name
from cuepoint_tray.paths import AppPaths
from cuepoint_tray.rekordbox.current import NO_XML_MESSAGE, CurrentLibrary
from cuepoint_tray.rekordbox.locate import LibraryChoice
from cuepoint_tray.rekordbox.tree import RekordboxPlaylist
from cuepoint_tray.report_formats import REPORT_FORMATS
from cuepoint_tray.settings import (
    Settings,
    either,
    load_settings,
    save_settings,
    schema,
    secret_names,
    with_values,
)
from cuepoint_tray.store import mark_interrupted_sessions, open_history, queries
from cuepoint_tray.store.live import live_session

Answer = dict[str, Any]  # JSON-ready: what one API call returns
# A library path → its playlist tree and kind ("xml", "master.db"), or None when not known.
KnownTree = Callable[[Path], "tuple[PlaylistFolder, str] | None"]
CONTROLS = ("pause", "resume", "cancel")
MAX_COMPARED = 6
CHECK_INTERRUPTED_S = 5.0
REVIEW_STATES = ("accepted", "rejected", "picked", "undo")
# The states as they were named before decisions, still taken.
_OLD_REVIEW_STATES = {"changed": "picked", "auto": "undo"}
SEARCHED_KEPT = 500  # Beatport tracks of recent manual searches, ready to be picked


@dataclass(frozen=True)
class Download:
    """A file for the browser to save: where it is on disk and the name to save it under."""

    path: Path
    filename: str
    content_type: str
    content: bytes | None = None  # sent as it is, when the file on disk may change meanwhile


class DashboardAPI:
    """What the dashboard can ask and do. `controller` is None when sessions cannot be
    started from here (a dashboard over someone else's history, in tests)."""

    def __init__(self, paths: AppPaths, controller: SessionController | None = None) -> None:
        self.paths = paths
        self.controller = controller
        self._history: SqliteDatabase | None = None  # opened (and migrated) on first use
        self._history_lock = threading.Lock()
        self._checked_at = 0.0
        # When there is no controller to share one with:
        self._library = CurrentLibrary(key_file=paths.masterdb_keys)
        self._export_lock = threading.Lock()
        # The playlist tree someone already read for a library path, if it is still the one
        # on disk (the tray reads it for its menu): the picker then opens without reading a
        # big library again.
        self.known_tree: KnownTree = lambda path: None
        self._lookup = BeatportLookup(paths)
        self._searched: dict[int, BeatportTrack] = {}  # by Beatport id, newest last

    @property
    def db(self) -> SqliteDatabase:
        """The dashboard's one handle on the history, shared by its threads (each gets its
        own connection); opened, and migrated, once."""
        with self._history_lock:
            if self._history is None:
                self._history = open_history(self.paths.database)
            return self._history

    def _note_interrupted(self) -> None:
        """Sessions whose process died show as interrupted, not running; looked at every
        few seconds, as it takes a write."""
        if time.monotonic() - self._checked_at >= CHECK_INTERRUPTED_S:
            self._checked_at = time.monotonic()
            mark_interrupted_sessions(self.db)

    # --- the app ------------------------------------------------------------------------

    def status(self) -> Answer:
        """Version, whether a Rekordbox library is set (or found), and what the controller
        is doing."""
        settings = self._plain_settings()  # every live poll asks: no keyring read
        found = self._choice(settings) is not None
        return {"version": __version__, "xml_set": found,
                "setup_hint": "" if found else NO_XML_MESSAGE,
                "default_playlist": settings.default_playlist,
                "can_match": self.controller is not None, "now": self._now()}

    def _now(self) -> Answer | None:
        if self.controller is None:
            return None
        state = self.controller.state()
        now = asdict(state)
        now["busy"] = state.busy
        return now

    # --- live ---------------------------------------------------------------------------

    def live(self, session_id: int | None = None, after_track: int = 0) -> Answer:
        """The session running now (else the latest), as the history has it, plus what the
        controller knows beyond it: the track and query in flight."""
        self._note_interrupted()
        session = live_session(self.db, session_id, after_track=after_track)
        now = self._now()
        if session is not None and now is not None and now["session_id"] == session["id"]:
            session["now"] = now
            session["controllable"] = now["busy"]
        elif session is not None:
            session["now"] = None
            session["controllable"] = False
        return {"session": session, "status": self.status()}

    def control(self, action: str) -> Answer:
        """Pause, resume or cancel the session this app is running."""
        if action not in CONTROLS:
            raise CuepointError(f"Unknown action '{action}': use pause, resume or cancel.")
        controller = self._controller()
        if not controller.state().busy:
            raise CuepointError("No session is running.")
        getattr(controller, action)()
        return self.status()

    def match(self, playlists: Sequence[str]) -> Answer:
        """Start matching these playlists as one session (a queue, in this order)."""
        wanted = [p for p in playlists if p.strip()] or [self._plain_settings().default_playlist]
        if not any(wanted):
            raise CuepointError("Choose a playlist to match, or set a default playlist.")
        self._controller().match(wanted)
        return self.status()

    def resume_session(self, session_id: int) -> Answer:
        """Continue an unfinished session from its first unmatched track."""
        queries.session_overview(self.db, session_id)  # a clear 404 for an unknown id
        self._controller().resume_session(session_id)
        return self.status()

    def recover_history(self) -> str:
        """After a read found the history damaged: set it aside and recover it, unless a
        session is writing it now; returns what to tell the DJ."""
        from cuepoint_tray.store.database import recover_damaged

        if self.controller is not None and self.controller.state().busy:
            return ("The history file is damaged: let the session end, then quit CuePoint and "
                    "start it again; it will set the file aside and recover what it can.")
        with self._history_lock:
            stale, self._history = self._history, None
        if stale is not None:
            stale.close()
        return recover_damaged(self.paths.database).sentence() + " Reload the page."

    def _controller(self) -> SessionController:
        if self.controller is None:
            raise CuepointError("This dashboard only shows the history: start CuePoint's tray "
                                "app (or `cuepoint dashboard`) to run sessions.")
        return self.controller

    def playlists(self) -> Answer:
        """The playlist tree of the Rekordbox library in the settings (or Rekordbox's own,
        found where Rekordbox keeps it), or why it cannot be read."""
        settings = self._plain_settings()
        choice = self._choice(settings)
        if choice is None:
            return {"xml": "", "tree": None, "error": NO_XML_MESSAGE, "found": False}
        found = choice.how == "found"
        known = self.known_tree(choice.path)
        if known is not None:
            root, kind = known
            return {"xml": str(choice.path), "tree": _tree(root), "error": "", "found": found,
                    "kind": kind}
        try:
            library = self._current().get(str(choice.path))
        except CuepointError as exc:
            return {"xml": str(choice.path), "tree": None, "error": str(exc), "found": found}
        return {"xml": str(library.path), "tree": _tree(library.root), "error": "",
                "found": found, "kind": library.kind}

    def _current(self) -> CurrentLibrary:
        return self.controller.library if self.controller is not None else self._library

    def _choice(self, settings: Settings) -> LibraryChoice | None:
        try:
            return self._current().choose(settings.rekordbox_library)
        except SettingsError:
            return None

    # --- history ------------------------------------------------------------------------

    def sessions(self, *, limit: int = 50, offset: int = 0, status: str | None = None,
                 search: str | None = None, order_by: str = "-started_at") -> Answer:
        self._note_interrupted()
        return queries.list_sessions(self.db, min(limit, 500), offset, status, search, order_by)

    def trends(self, limit: int = 100) -> list[Answer]:
        return queries.trends(self.db, min(limit, 1000))

    def session(self, session_id: int) -> Answer:
        """One session's page: overview, query performance, slowest tracks, tips."""
        overview = queries.session_overview(self.db, session_id)
        overview.pop("settings", None)
        return {"overview": overview,
                "query_stats": queries.query_stats_by_type(self.db, session_id),
                "slowest": queries.slowest_tracks(self.db, session_id),
                "tips": queries.tips(self.db, session_id)}

    def _view(self) -> ExportOptions:
        """How changes are shown: the default export options, keys in the notation chosen."""
        return ExportOptions(key_notation=self._plain_settings().key_notation)

    def tracks(self, session_id: int, *, status: str | None = None,
               confidence: str | None = None, review_state: str | None = None,
               search: str | None = None, needs_decision: bool = False,
               limit: int = 500, offset: int = 0) -> Answer:
        queries.session_overview(self.db, session_id)
        return queries.session_tracks(self.db, session_id, limit=min(limit, 2000),
                                      offset=offset, search=search,
                                      needs_decision=needs_decision, options=self._view(),
                                      status=status, confidence=confidence,
                                      review_state=review_state)

    def track(self, track_result_id: int) -> Answer:
        return queries.track_detail(self.db, track_result_id, self._view())

    def changes(self, session_id: int, *, only_changing: bool = False, limit: int = 500,
                offset: int = 0, fields: str | None = None,
                mode: str | None = None) -> Answer:
        """What exporting the session would change in Rekordbox, track by track (the
        tracks that change only, with `only_changing`), for the export options given."""
        options = export_options(fields, mode,
                                 key_notation=self._plain_settings().key_notation)
        return queries.session_changes(self.db, session_id, only_changing=only_changing,
                                       limit=min(limit, 2000), offset=offset, options=options)

    def review(self, track_result_id: int, state: str, beatport_id: int | None = None) -> Answer:
        """The DJ's decision on a track, kept for its Rekordbox track in every session:
        accepted (the proposal), rejected (no Beatport match), picked (Beatport track
        `beatport_id`: a candidate, a track of a manual search, or looked up on Beatport) or
        undo. Returns the track JSON after it; exports follow it."""
        state = _OLD_REVIEW_STATES.get(state, state)
        if state not in REVIEW_STATES:
            raise CuepointError(f"Unknown decision '{state}': use accepted, rejected, picked "
                                "or undo.")
        if state == "picked" and beatport_id is None:
            raise CuepointError("Say which Beatport track to pick ('beatport_id').")
        detail = queries.track_detail(self.db, track_result_id)
        beatport = None
        if state == "picked" and beatport_id is not None and not any(
                candidate["beatport"]["id"] == beatport_id
                for candidate in detail["candidates"]):
            beatport = self._searched.get(beatport_id) or self._lookup.track(
                self._session_settings(), beatport_id)
        queries.decide(self.db, track_result_id, state,
                       beatport_id if state == "picked" else None, beatport)
        return self.track(track_result_id)["track"]

    def review_many(self, session_id: int, state: str, track_ids: Sequence[int]) -> Answer:
        """Accept or reject the tracks a filter shows, at once: {"decided": n, "skipped": n
        (nothing to accept), "session": the session's overview}."""
        if state not in ("accepted", "rejected"):
            raise CuepointError("Tracks can be accepted or rejected together; pick tracks "
                                "one at a time.")
        if not track_ids:
            raise CuepointError("Choose the tracks to decide on ('track_ids').")
        answer = queries.decide_many(self.db, session_id, state, track_ids)
        answer["session"].pop("settings", None)
        return answer

    def search(self, text: str, track_result_id: int) -> Answer:
        """A manual Beatport search for a track: the tracks found as candidates scored
        against it, best first; kept as one more query of the track."""
        detail = queries.track_detail(self.db, track_result_id)
        rekordbox = queries.rekordbox_from_shape(detail["track"])
        try:
            found = self._lookup.search(self._session_settings(), text)
        except ProviderError as exc:
            report = exc.report
            queries.record_search(self.db, track_result_id, " ".join(text.split()), 0,
                                  report.elapsed_ms if report else 0.0,
                                  report.from_cache if report else None,
                                  report.status if report else None, str(exc),
                                  report.throttle_wait_ms if report else 0.0)
            raise
        report = found.report
        queries.record_search(self.db, track_result_id, " ".join(text.split()),
                              len(found.tracks), report.elapsed_ms + found.parse_ms,
                              report.from_cache, report.status, report.error,
                              report.throttle_wait_ms)
        for track in found.tracks:
            self._searched.pop(track.id, None)
            self._searched[track.id] = track
        while len(self._searched) > SEARCHED_KEPT:
            self._searched.pop(next(iter(self._searched)))
        return {"candidates": scored(rekordbox, found.tracks), "query": " ".join(text.split()),
                "from_cache": report.from_cache}

    def compare(self, session_ids: Sequence[int]) -> Answer:
        """Sessions side by side; track differences are against the first one."""
        ids = list(dict.fromkeys(session_ids))
        if not 2 <= len(ids) <= MAX_COMPARED:
            raise CuepointError(f"Choose between 2 and {MAX_COMPARED} sessions to compare.")
        pairs = [queries.compare_sessions(self.db, ids[0], other) for other in ids[1:]]
        sessions = [pairs[0]["a"], *(pair["b"] for pair in pairs)]
        metrics = [{"name": metric["name"],
                    "values": [pairs[0]["metrics"][i]["a"],
                               *(pair["metrics"][i]["b"] for pair in pairs)]}
                   for i, metric in enumerate(pairs[0]["metrics"])]
        differences = [{"session_id": other, "changes": pair["changes"],
                        "tracks": pair["tracks"]} for other, pair in zip(ids[1:], pairs,
                                                                          strict=True)]
        return {"sessions": sessions, "metrics": metrics, "differences": differences}

    # --- settings -----------------------------------------------------------------------

    def load_settings(self) -> Settings:
        return load_settings(self.paths.settings_file)

    def _plain_settings(self) -> Settings:
        """The settings without the secrets, which these calls never need."""
        return load_settings(self.paths.settings_file, with_secrets=False)

    def load_settings_plain(self) -> Settings:
        """The settings without the secrets (the key notation, for the HTTP layer)."""
        return self._plain_settings()

    def settings_schema(self) -> Answer:
        """Every setting's label, help, type, limits and choices (no values), and the report
        formats: what the pages render instead of repeating them."""
        return {"settings": schema(),
                "report_formats": [{"value": name, "label": kind.label}
                                   for name, kind in REPORT_FORMATS.items()]}

    def settings(self) -> Answer:
        """Every setting as `settings_schema` declares it, with its value; secrets are
        write-only: only whether one is set."""
        current = self.load_settings()
        listed = []
        for described in schema():
            value = getattr(current, described["name"])
            listed.append({**described, "is_set": bool(value),
                           "value": None if described["secret"] else value})
        return {"settings": listed, "file": str(self.paths.settings_file)}

    def save_settings(self, values: dict[str, Any]) -> Answer:
        """Change settings; an empty secret keeps the stored one, `None` clears it. A refused
        value (SettingsError, naming the setting) changes nothing."""
        current = self.load_settings()
        changes = {}
        for name, value in values.items():
            if name in secret_names() and value == "":
                continue
            changes[name] = "" if value is None else value
        save_settings(with_values(current, changes, source="the settings page"),
                      self.paths.settings_file)
        return self.settings()

    # --- Beatport account ---------------------------------------------------------------

    def beatport_account(self) -> Answer:
        """Whether the DJ is signed in to Beatport, and as whom; no secret in it."""
        from cuepoint_tray.account import account_state

        state = account_state(self._session_settings())
        paused = self._paused_session()
        return {"signed_in": state.signed_in, "account": state.account,
                "pasted_token": state.pasted_token,
                "paused_session": paused["id"] if paused else None,
                "paused_reason": paused["reason"] if paused else ""}

    def sign_in(self, username: str, password: str) -> Answer:
        """Sign in to Beatport (where sessions started here would search); the password is
        passed to Beatport and dropped, never kept. SignInError says what went wrong."""
        from cuepoint_tray.account import log_in

        log_in(self.paths.settings_file, self._session_settings(), str(username),
               str(password))
        return self.beatport_account()

    def sign_out(self) -> Answer:
        """Forget the Beatport account's tokens."""
        from cuepoint_tray.account import log_out

        log_out(self.paths.settings_file)
        return self.beatport_account()

    def _session_settings(self) -> Settings:
        """The settings sessions started here use (the command line's Beatport URL too)."""
        return self.controller.settings() if self.controller is not None else \
            self.load_settings()

    def _paused_session(self) -> Answer | None:
        """The newest session, when it is paused (a sign-in may be what it waits for)."""
        if not self.paths.database.exists():
            return None
        newest = queries.list_sessions(self.db, limit=1)["sessions"]
        return newest[0] if newest and newest[0]["status"] == "paused" else None

    # --- exports ------------------------------------------------------------------------

    def report(self, session_id: int, fmt: str) -> Download:
        """The session's report in a format, written to the reports folder."""
        from cuepoint_tray.reports import write_report

        if fmt not in REPORT_FORMATS:
            raise CuepointError(f"Unknown report format '{fmt}': use {either(REPORT_FORMATS)}.")
        path = write_report(self.db, session_id, fmt, self.paths.reports_dir,
                            self._plain_settings().key_notation)
        return Download(path, path.name, REPORT_FORMATS[fmt].media_type)

    def rekordbox_export(self, session_id: int, *, write_bpm: bool = False,
                         changes: bool = False, options: ExportOptions | None = None
                         ) -> Download:
        """The enriched copy of the session's Rekordbox XML (or, with `changes`, the CSV of
        old → new values), written next to the reports, with the DJ's decisions applied.
        `options`: which fields, fill or overwrite, Comments; the safe defaults (every field,
        empty ones only, no Comments, keys in the notation chosen) when None. `write_bpm`
        is the older call's word for adding BPM to the fields; BPM is among them already."""
        from cuepoint_tray.rekordbox.export import export_enriched
        from cuepoint_tray.reports import export_matches

        if options is None:
            options = ExportOptions(key_notation=self._plain_settings().key_notation)
        if write_bpm and "bpm" not in options.fields:
            options = ExportOptions((*options.fields, "bpm"), options.mode, options.comments,
                                    options.key_notation)
        source = Path(queries.session_overview(self.db, session_id)["xml_path"])
        folder = self.paths.reports_dir / "rekordbox"
        folder.mkdir(parents=True, exist_ok=True)
        out = folder / f"{capped_name(source.stem, 100)}-cuepoint-session-{session_id}.xml"
        # Two downloads at once (with other options, the XML and its CSV) write the same
        # files: each sends what it wrote, read before the other can replace it.
        with self._export_lock:
            summary = export_enriched(source, out, export_matches(self.db, session_id),
                                      options=options)
            sent = summary.changes_csv if changes else summary.out_xml
            content = sent.read_bytes()
        kind = "text/csv; charset=utf-8" if changes else "application/xml"
        return Download(sent, sent.name, kind, content)


def _tree(node: PlaylistFolder | Playlist) -> Answer:
    if isinstance(node, Playlist):
        extra = ({"kind": node.kind, "refused": node.refused}
                 if isinstance(node, RekordboxPlaylist) else {})
        return {"type": "playlist", "name": node.name, "path": node.path_text,
                "tracks": len(node.track_ids), **extra}
    return {"type": "folder", "name": node.name, "path": "/".join(node.path),
            "children": [_tree(child) for child in node.children]}
