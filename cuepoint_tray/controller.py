"""The one place that runs matching sessions for the tray and the dashboard.

Both post intents here (match these playlists, pause, resume, cancel, resume session N); the
session runs on a worker thread, one at a time, and is written to the history as it goes.
`state()` is a snapshot of what is happening now, including what the history cannot know yet:
the track being searched and the query in flight.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from cuepoint_tray.errors import CuepointError
from cuepoint_tray.events import (
    Event,
    QueryDone,
    SessionStarted,
    StateChanged,
    TrackDone,
)
from cuepoint_tray.paths import AppPaths
from cuepoint_tray.rekordbox.current import CurrentLibrary
from cuepoint_tray.settings import Settings

if TYPE_CHECKING:  # imported when a session starts: the tray docks its icon sooner
    from cuepoint_tray.runner import SessionRunner
    from cuepoint_tray.session import MatchOutcome

log = logging.getLogger(__name__)

Phase = Literal["idle", "starting", "running", "paused", "stopping"]
QUIT_REASON = "CuePoint was closed; resume the session to match the rest"


@dataclass(frozen=True)
class LastSession:
    """How the last session of this run ended, for the tray's notification and icon."""

    session_id: int | None
    status: str  # completed, cancelled, paused, failed
    reason: str = ""
    tracks: int = 0
    matched: int = 0
    review: int = 0  # tracks still to review: the app's doubts the DJ has not decided on
    unmatched: int = 0
    errors: int = 0
    wall_ms: float = 0.0
    done: int | None = None  # None: the sum of the counts above


@dataclass(frozen=True)
class ControllerState:
    phase: Phase = "idle"
    session_id: int | None = None
    playlists: tuple[str, ...] = ()
    done: int = 0
    total: int = 0
    reason: str = ""  # why the session is paused or stopping, in the DJ's words
    current_track: str = ""  # "Artist - Title" of the track searched last
    current_query: str = ""  # "title_artist: bicep glue"
    query_at: float = 0.0
    last: LastSession | None = None
    changed_at: float = field(default_factory=time.time)

    @property
    def busy(self) -> bool:
        return self.phase != "idle"


Listener = Callable[[ControllerState], None]


class SessionController:
    """Runs one session at a time on a worker thread; every method returns at once."""

    def __init__(self, paths: AppPaths, settings: Callable[[], Settings], *,
                 listeners: Sequence[Listener] = ()) -> None:
        self.paths = paths
        self.settings = settings  # read at each start, so new settings apply to the next run
        self.library = CurrentLibrary(key_file=paths.masterdb_keys)
        self.listeners = list(listeners)
        self._lock = threading.Lock()
        self._state = ControllerState()
        self._runner: SessionRunner | None = None
        self._thread: threading.Thread | None = None
        self._shutting_down = False  # a session still starting stops as soon as it has a runner

    def state(self) -> ControllerState:
        with self._lock:
            return self._state

    # --- intents ---------------------------------------------------------------------------

    def match(self, playlists: Sequence[str]) -> None:
        """Start matching these playlists (paths like "Sets/Friday") as one session, in order.

        Raises CuepointError, in the DJ's words, when a session already runs, no library is
        set or found, or a playlist cannot be found or is empty.
        """
        settings = self.settings()
        library = self.library.get(settings.rekordbox_library)
        found = [library.find_playlist(path) for path in playlists]
        if not found:
            raise CuepointError("Choose a playlist to match first.")
        for playlist in found:
            library.tracks_of(playlist)
        from cuepoint_tray.session import run_match

        self._launch(tuple(p.path_text for p in found), lambda: run_match(
            library, found, settings, self.paths, listeners=[self._on_event],
            on_runner=self._on_runner))

    def resume_session(self, session_id: int) -> None:
        """Continue a paused, interrupted or cancelled session from its first unfinished track."""
        from cuepoint_tray.session import resume_match

        settings = self.settings()
        self._launch((), lambda: resume_match(
            session_id, settings, self.paths, listeners=[self._on_event],
            on_runner=self._on_runner))

    def pause(self) -> None:
        if runner := self._runner:
            runner.pause()

    def resume(self) -> None:
        if runner := self._runner:
            runner.resume()

    def cancel(self) -> None:
        if runner := self._runner:
            runner.cancel()

    def shut_down(self, timeout: float = 30.0) -> None:
        """Stop taking tracks (the session is kept as paused, to resume later) and wait.
        No session starts after this."""
        self._shutting_down = True
        if runner := self._runner:
            runner.stop_for(QUIT_REASON)
        self.wait(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the running session to end; True when nothing runs any more."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    # --- the worker ------------------------------------------------------------------------

    def _launch(self, playlists: tuple[str, ...], run: Callable[[], MatchOutcome]) -> None:
        with self._lock:
            if self._shutting_down:
                raise CuepointError("CuePoint is closing.")
            if self._state.busy:
                raise CuepointError("A session is already running: pause or cancel it first.")
            self._state = ControllerState(phase="starting", playlists=playlists,
                                          last=self._state.last)
            self._thread = threading.Thread(target=self._work, args=(run,),
                                            name="session", daemon=True)
            self._thread.start()
        self._notify()

    def _work(self, run: Callable[[], MatchOutcome]) -> None:
        try:
            outcome = run()
        except CuepointError as exc:
            self._finish(LastSession(self._state.session_id, "failed", str(exc)))
        except Exception as exc:  # the worker must report, never die silently
            log.exception("session failed")
            self._finish(LastSession(self._state.session_id, "failed",
                                     f"Something went wrong: {exc}. The log has the details."))
        else:
            whole = outcome.session  # the whole session, a resumed one too
            self._finish(LastSession(
                outcome.session_id, outcome.ended.status, outcome.ended.reason,
                whole["tracks"], whole["matched"], whole["to_review"], whole["unmatched"],
                whole["errors"], whole["wall_ms"], whole["done"]))

    def _finish(self, last: LastSession) -> None:
        self._runner = None
        self._update(phase="idle", last=last, current_query="", reason=last.reason)

    def _on_runner(self, runner: SessionRunner, session_id: int) -> None:
        self._runner = runner
        if self._shutting_down:  # quit came while the session was starting
            runner.stop_for(QUIT_REASON)
        self._update(session_id=session_id)

    def _on_event(self, event: Event) -> None:
        if isinstance(event, SessionStarted):
            self._update(phase="running", total=event.total_tracks,
                         playlists=self._state.playlists or event.playlists)
        elif isinstance(event, QueryDone):
            query = event.query
            self._update(current_query=f"{query.type}: {query.text}", query_at=time.time(),
                         current_track=event.track_name)
        elif isinstance(event, TrackDone):
            self._update(done=event.done, total=event.total)
        elif isinstance(event, StateChanged):
            phase: Phase = "paused" if event.status == "paused" else (
                "running" if event.status == "running" else "stopping")
            self._update(phase=phase, reason=event.reason)

    def _update(self, **changes: object) -> None:
        with self._lock:
            self._state = replace(self._state, changed_at=time.time(), **changes)  # type: ignore[arg-type]
        self._notify()

    def _notify(self) -> None:
        state = self.state()
        for listener in self.listeners:
            try:
                listener(state)
            except Exception:
                log.exception("a controller listener failed")
