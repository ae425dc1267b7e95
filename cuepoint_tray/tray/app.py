"""`cuepoint-tray`: the composition root of the tray app.

Threads and processes:

    main thread ─────── pystray's loop (GTK on Linux): draws the icon, pops the menu, builds
                        a new GTK menu a slice at a time (pystray_menu.py)
    tray-intents ────── carries out what the menu posted, one intent at a time
    tray-update ─────── recomputes `TrayState` (settings, XML, history) every 2 s, on
                        every controller change and when the library file changes, then
                        refreshes menu, icon and tooltip (library_reader.py says where a
                        big library is read)
    library-watch ───── sleeps until the library file changes (inotify), then wakes
                        tray-update (library_watch.py)
    session (+ pool) ── the controller's worker: matching; its listener wakes tray-update
    dashboard-server ── the local HTTP server the window loads
    single-instance ─── answers a second launch's "show"
    child process ───── the pywebview window (window.py)

Menu actions never block the loop: they post an `Intent` to a queue.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from cuepoint_tray import APP_NAME, __version__
from cuepoint_tray.controller import ControllerState, SessionController
from cuepoint_tray.domain import PlaylistFolder
from cuepoint_tray.errors import CuepointError, SettingsError
from cuepoint_tray.paths import DATA_DIR_ENV, AppPaths
from cuepoint_tray.settings import (
    Settings,
    load_settings,
    save_settings,
    with_values,
)
from cuepoint_tray.startup import command_line_settings, data_folder, log_to_file, settings_reader
from cuepoint_tray.store.recovery import take_notices
from cuepoint_tray.tray.intents import Intent
from cuepoint_tray.tray.library_reader import library_view
from cuepoint_tray.tray.library_watch import LibraryWatch
from cuepoint_tray.tray.look import IconLook, draw_icon, icon_look, load_base_icon
from cuepoint_tray.tray.menu import MenuEntry, build_menu, status_text
from cuepoint_tray.tray.notification import Notification, could_not, session_ended
from cuepoint_tray.tray.opener import open_with_os
from cuepoint_tray.tray.pystray_menu import with_sliced_menu
from cuepoint_tray.tray.single_instance import SingleInstance, ask_running_to_show
from cuepoint_tray.tray.state import (
    LibraryView,
    TrayState,
    recent_sessions_now,
    signed_out_now,
)
from cuepoint_tray.tray.window import PRGNAME, DashboardWindow

log = logging.getLogger("cuepoint.tray")

POLL_S = 2.0  # how often the XML, the settings and the history are looked at again
MIN_UPDATE_S = 0.25  # bursts of progress events refresh the menu at most this often
QUIT_WAIT_S = 30.0
SWITCH_INTERVAL_S = 0.001


class TrayApp:
    """The tray icon, the dashboard server and window, and the controller, wired together."""

    def __init__(self, paths: AppPaths, settings: Callable[[], Settings], *,
                 toolkit: Any = None, own_process: bool = False) -> None:
        """`toolkit` is the pystray module (tests pass a stand-in with Icon, Menu, MenuItem);
        `own_process`: the process is the tray's alone (`main`), so `run` may tune its
        garbage collector and GIL for GTK's main loop."""
        self._own_process = own_process
        from cuepoint_tray.dashboard import DashboardAPI, DashboardServer

        if toolkit is None:
            import pystray  # only now: the GTK backends open the display on import

            toolkit = pystray
        self._pystray = toolkit
        self.paths = paths
        self.settings = settings
        self.controller = SessionController(paths, settings, listeners=[self._on_session])
        self.server = DashboardServer(DashboardAPI(paths, self.controller))
        self.server.api.known_tree = self._known_tree
        self.window = DashboardWindow()
        self._base_icon = load_base_icon()
        self._intents: queue.Queue[Intent | None] = queue.Queue()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._lock = threading.Lock()  # guards _state
        self._display_lock = threading.Lock()  # one refresh of menu and icon at a time
        self._state = TrayState()
        self._shown: tuple[tuple[MenuEntry, ...], IconLook, str] | None = None
        self._library_key: tuple[object, ...] | None = None
        self._library_cache = LibraryView()
        self._library_watch = LibraryWatch(self._wake.set)  # a change shows without waiting
        self._latest_menu: tuple[Any, tuple[MenuEntry, ...]] | None = None
        self._shown_menu: tuple[MenuEntry, ...] = ()
        self._dump_lock = threading.Lock()
        icon_class = with_sliced_menu(toolkit.Icon)
        self.icon = icon_class(PRGNAME, draw_icon(self._base_icon, IconLook()), APP_NAME)
        if hasattr(self.icon, "menu_shown"):  # GTK: the menu is built on the main loop
            self.icon.menu_shown = self._on_menu_shown

    # --- running ------------------------------------------------------------------------

    def run(self) -> None:
        """Serve the dashboard and run the tray on this (the main) thread until Quit."""
        self.server.start()
        try:
            self._refresh()
        except Exception:  # the icon must come up whatever the disk holds; it says later
            log.exception("the first look at the settings, XML and history failed")
        # What is loaded by now (the GUI toolkit, the readers, the first library) stays for
        # the app's life: kept out of the garbage collector's full passes, which would
        # otherwise walk it all, holding the GIL (and stalling GTK's main loop) for 50 ms
        # and more when a re-read's allocations start one.
        if self._own_process:
            gc.collect()
            gc.freeze()
            # A thread reading the library gives the GIL back 1 ms after GTK's main loop asks
            # for it (5 ms by default, and the loop asks several times per turn).
            sys.setswitchinterval(SWITCH_INTERVAL_S)
            _fixed_mmap_threshold()
        threads = [threading.Thread(target=self._take_intents, name="tray-intents", daemon=True),
                   threading.Thread(target=self._keep_updated, name="tray-update", daemon=True)]
        for thread in threads:
            thread.start()
        log.info("tray running; dashboard at %s", self.server.url)
        self.icon.run(self._on_ready)
        self._stopped.set()
        self._intents.put(None)
        for thread in threads:
            thread.join(5)

    def _on_ready(self, icon: Any) -> None:
        icon.visible = True
        log.info("tray icon shown")
        _watch_stalls(os.environ.get(STALL_LOG_ENV))
        if not self.state().library.xml_set:  # first run: say how to export the XML
            self.post(Intent("open_page", "settings"))

    def post(self, intent: Intent) -> None:
        """Ask for something; any thread may call it."""
        self._intents.put(intent)

    def state(self) -> TrayState:
        with self._lock:
            return self._state

    # --- intents ------------------------------------------------------------------------

    def _take_intents(self) -> None:
        while (intent := self._intents.get()) is not None:
            log.info("intent %s %s", intent.action, intent.argument or "")
            try:
                if self._handle(intent) == "quit":
                    return
            except CuepointError as exc:
                self._notify(could_not(_WHAT.get(intent.action, "do that"), str(exc)))
            except Exception as exc:  # the tray must stay up whatever an intent does
                log.exception("intent %s failed", intent)
                self._notify(could_not(_WHAT.get(intent.action, "do that"),
                                       f"Something went wrong: {exc}. The log has the details."))

    def _handle(self, intent: Intent) -> str | None:
        action, argument = intent.action, intent.argument
        if action == "quit":
            self._quit()
            return "quit"
        if action == "match":
            self._set(seen_last=True)
            self.controller.match([str(argument)])
        elif action == "choose_playlist":
            self._choose_playlist(str(argument))
        elif action == "resume_session":
            self._set(seen_last=True)
            self.controller.resume_session(int(argument or 0))
        elif action in ("pause", "resume", "cancel"):
            getattr(self.controller, action)()
        elif action == "open_page":
            self._open_page(str(argument))
        elif action == "show_window":
            self._show_window()
        elif action in ("open_file", "show_folder"):
            open_with_os(Path(str(argument)), reveal=action == "show_folder")
        return None

    def _choose_playlist(self, path: str) -> None:
        """Remember the playlist as the settings' default_playlist (the dashboard's too)."""
        stored = load_settings(self.paths.settings_file)
        save_settings(with_values(stored, {"default_playlist": path}, source="the tray"),
                      self.paths.settings_file)
        self._refresh()

    def _open_page(self, page: str) -> None:
        self._set(seen_last=True)
        url = self.server.page_url(page, window=True)
        self.window.show(url, start_url=url)

    def _show_window(self) -> None:
        page = "settings" if self.state().needs_setup else "live"
        self.window.show(None, start_url=self.server.page_url(page, window=True))

    def _quit(self) -> None:
        """Pause a running session (to resume later), close the window and the server, stop."""
        self._set(quitting=True)
        self._apply()
        try:
            deadline = time.monotonic() + QUIT_WAIT_S
            # A session still starting has no runner to stop yet: ask until it is idle.
            while self.controller.state().busy and time.monotonic() < deadline:
                self.controller.shut_down(timeout=0.5)
            log.info("quit: session %s; closing the window", self.controller.state().phase)
            self.window.close()
            self.server.stop()
            self._library_watch.stop()
        finally:  # whatever failed above, the app must still end
            self._stopped.set()
            self._wake.set()
            log.info("quit: stopping the tray")
            self.icon.stop()

    # --- state and its display ----------------------------------------------------------

    def _on_session(self, session: ControllerState) -> None:
        """The controller's listener (its worker threads): keep the state, wake the display,
        and say how a session ended."""
        with self._lock:
            previous = self._state.session.last
            self._state = replace(self._state, session=session)
            quitting = self._state.quitting
        self._wake.set()
        if session.last is not None and session.last is not previous and not session.busy:
            self._set(seen_last=False)
            self._apply()  # the notification carries the icon as it is now
            notification = session_ended(session.last, session.playlists)
            if notification is not None and not quitting:
                self._notify(notification)

    def _keep_updated(self) -> None:
        while not self._stopped.is_set():
            woken = self._wake.wait(POLL_S)
            self._wake.clear()
            if self._stopped.is_set():
                return
            try:
                self._refresh()
            except Exception:  # a bad moment (a half-written XML): try again next time
                log.exception("refreshing the tray failed")
            if woken:  # a burst of events: at most one refresh every MIN_UPDATE_S
                time.sleep(MIN_UPDATE_S)

    def _refresh(self) -> None:
        """Look at the settings, the XML and the history again, then show the state."""
        try:
            # Only the XML, the playlist and the account's name are needed here: no keyring
            # read every 2 s.
            settings = load_settings(self.paths.settings_file, with_secrets=False)
        except SettingsError as exc:  # the menu says what is wrong; the icon stays up
            library = LibraryView(xml_set=True, settings_error=str(exc))
            self._library_key = None
            signed_out = self._state.beatport_signed_out  # unknown until the file reads
        else:
            library = self._library_view(settings)
            signed_out = signed_out_now(settings)
        recent = recent_sessions_now(self.paths, lambda: self.server.api.db)
        with self._lock:
            self._state = replace(self._state, library=library, recent=recent,
                                  beatport_signed_out=signed_out)
        self._apply()
        for notice in take_notices():  # a damaged history was set aside and recovered
            self._notify(Notification("CuePoint history repaired", notice))

    def _library_view(self, settings: Settings) -> LibraryView:
        """The library as the menu needs it, read again only when the file (or a master.db's
        WAL, where Rekordbox writes first) or the settings naming it change: a broken export
        is not parsed again every two seconds, and an unchanged master.db is not copied."""
        key = (settings.rekordbox_library, settings.default_playlist,
               self._library_stamp(settings.rekordbox_library))
        if self._library_key != key:
            self._library_cache = library_view(settings, self.controller.library)
            self._library_key = key
        return self._library_cache

    def _known_tree(self, path: Path) -> tuple[PlaylistFolder, str] | None:
        """The playlist tree the menu shows, for the dashboard's picker, when it was read
        from `path` as it is on disk now."""
        from cuepoint_tray.rekordbox.locate import library_stamp

        key, tree = self._library_key, self._library_cache.tree
        if key is None or tree is None:
            return None
        if key[2] != (str(path), *library_stamp(path)):
            return None
        return tree, self._library_cache.kind

    def _library_stamp(self, setting: str) -> tuple[object, ...]:
        from cuepoint_tray.rekordbox.locate import library_stamp

        try:
            chosen = self.controller.library.choose(setting)
        except CuepointError:
            self._library_watch.watch(None)
            return ()
        self._library_watch.watch(Path(chosen.path).expanduser().absolute())
        return (str(chosen.path), *library_stamp(chosen.path))

    def _apply(self) -> None:
        """Show the state as it is now: menu, icon and tooltip, each only when it changed.
        The state is read under the display lock, so the last refresh shows the newest."""
        with self._display_lock:
            state = self.state()
            menu, look, status = build_menu(state), icon_look(state), status_text(state)
            previous = self._shown
            if previous == (menu, look, status):
                return
            self._shown = (menu, look, status)
            if previous is None or previous[0] != menu:
                shown = self._to_pystray(menu)
                self._latest_menu = (shown, menu)
                self.icon.menu = shown
                if not hasattr(self.icon, "menu_shown"):
                    _dump_menu(menu)
            if previous is None or previous[1] != look:
                self.icon.icon = draw_icon(self._base_icon, look)
            self.icon.title = f"{APP_NAME}: {status}"[:127]

    def _on_menu_shown(self, shown: Any) -> None:
        """The GTK menu for `shown` (a pystray.Menu) is in place (the main thread)."""
        latest = self._latest_menu
        if latest is not None and latest[0] is shown and os.environ.get(MENU_DUMP_ENV):
            self._shown_menu = latest[1]
            # Written by another thread: a few hundred entries take GTK's loop 15 ms.
            threading.Thread(target=self._dump_shown, name="tray-menu-dump",
                             daemon=True).start()

    def _dump_shown(self) -> None:
        with self._dump_lock:  # the newest menu shown, whichever thread writes last
            _dump_menu(self._shown_menu)

    def _to_pystray(self, menu: tuple[MenuEntry, ...]) -> Any:
        from cuepoint_tray.tray.pystray_menu import to_pystray_menu

        return to_pystray_menu(self._pystray, menu, self.post)

    def _set(self, **changes: Any) -> None:
        with self._lock:
            self._state = replace(self._state, **changes)
        self._wake.set()

    def _notify(self, notification: Notification) -> None:
        log.info("notify: %s: %s", notification.title, notification.message)
        try:
            self.icon.notify(notification.message, notification.title)
        except Exception:  # no notification service: the menu's status line still tells
            log.exception("the notification could not be shown")




_WHAT = {"match": "start matching", "choose_playlist": "remember the playlist",
         "resume_session": "resume the session", "pause": "pause", "resume": "resume",
         "cancel": "cancel", "open_page": "open the dashboard", "show_window": "open the window",
         "open_file": "open the report", "show_folder": "show the report's folder"}

MENU_DUMP_ENV = "CUEPOINT_TRAY_MENU_DUMP"
STALL_LOG_ENV = "CUEPOINT_TRAY_STALL_LOG"
STALL_PROBE_MS = 10
STALL_MS = 20


def _fixed_mmap_threshold() -> None:
    """glibc: blocks of 128 KB and more always come from (and go back to) the kernel. By
    default glibc raises that threshold to the size of the biggest such block freed (up to
    32 MB): after a re-read's multi-megabyte buffers are freed, later ones come from the
    heap and leave it fragmented, and the tray's RSS creeps up with each re-read."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)


M_MMAP_THRESHOLD = -3  # glibc's malloc.h
MMAP_THRESHOLD_BYTES = 128 * 1024


def _watch_stalls(target: str | None) -> None:
    """Benchmark mode: time GTK's main loop with a 10 ms tick and append to `target` every
    delay of the loop over STALL_MS (in ms, one a line). Off unless the variable is set: the
    tick wakes the app 100 times a second."""
    if not target or not sys.platform.startswith("linux"):
        return
    from gi.repository import GLib

    expected = [time.monotonic() + STALL_PROBE_MS / 1000]

    def tick() -> bool:
        now = time.monotonic()
        late_ms = (now - expected[0]) * 1000
        if late_ms > STALL_MS:
            with open(target, "a", encoding="utf-8") as log_file:
                log_file.write(f"{late_ms:.1f}\n")
        expected[0] = now + STALL_PROBE_MS / 1000
        return True

    Path(target).write_text("", encoding="utf-8")
    GLib.timeout_add(STALL_PROBE_MS, tick)


def _dump_menu(menu: tuple[MenuEntry, ...]) -> None:
    """Testing mode: write the menu as shown to a JSON file, so GUI tests can find entries."""
    target = os.environ.get(MENU_DUMP_ENV)
    if not target:
        return
    import json
    from dataclasses import asdict

    from cuepoint_tray.file_writing import write_whole

    write_whole(Path(target), json.dumps([asdict(entry) for entry in menu]).encode("utf-8"))


# --- the command ------------------------------------------------------------------------------

def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        paths = data_folder(args.data_dir)
        log_to_file(paths)
    except CuepointError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    instance = SingleInstance(paths.data_dir)
    if not instance.acquire():
        if ask_running_to_show(paths.data_dir):
            print(f"{APP_NAME} is already running: its window is shown.", file=sys.stderr)
            return 0
        print(f"{APP_NAME} is already running for {paths.data_dir} but does not answer; "
              "quit it (or end its process) and start again.", file=sys.stderr)
        return 1
    try:
        choose_backend(os.environ, sys.platform)
        _set_prgname()
        try:
            settings = settings_reader(paths, command_line_settings(args.beatport_url))
            app = TrayApp(paths, settings, own_process=True)
        except (ImportError, ValueError) as exc:  # pystray finds no display or tray to use
            print(f"{APP_NAME} needs a desktop session with a system tray: {exc}",
                  file=sys.stderr)
            return 1
        instance.listen(lambda: app.post(Intent("show_window")))
        _quit_on_terminate(app)
        app.run()
    except CuepointError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        instance.release()
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cuepoint-tray",
        description=f"{APP_NAME} in the system tray: click the icon to match your playlist.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--data-dir", metavar="DIR", default=os.environ.get(DATA_DIR_ENV),
        help=f"keep the database, cache, logs and settings in DIR (also ${DATA_DIR_ENV})")
    parser.add_argument(
        "--beatport-url", metavar="URL",
        help="one server for both the website (URL) and the API (URL/v4), e.g. a local catalog")
    return parser


def choose_backend(environ: Any, platform: str) -> str | None:
    """pystray's backend on Linux: gtk unless the user chose appindicator; never xorg (it
    ignores clicks, has no menus and may hang on stop). Sets PYSTRAY_BACKEND; returns it."""
    if not platform.startswith("linux"):
        return environ.get("PYSTRAY_BACKEND")
    chosen = environ.get("PYSTRAY_BACKEND", "")
    if chosen not in ("gtk", "appindicator"):
        if chosen:
            log.warning("PYSTRAY_BACKEND=%s is not supported by %s: using gtk", chosen, APP_NAME)
        environ["PYSTRAY_BACKEND"] = "gtk"
    return str(environ["PYSTRAY_BACKEND"])


def _set_prgname() -> None:
    if sys.platform.startswith("linux"):
        try:
            from gi.repository import GLib
        except ImportError:
            return
        GLib.set_prgname(PRGNAME)
        GLib.set_application_name(APP_NAME)


def _quit_on_terminate(app: TrayApp) -> None:
    """SIGTERM (logging out, `kill`) quits like the menu's Quit: the session is paused."""
    import signal

    if sys.platform.startswith("linux"):
        try:
            from gi.repository import GLib
        except ImportError:
            return
        def on_terminate() -> bool:
            app.post(Intent("quit"))
            return False  # handled once; a second SIGTERM ends the process as usual

        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, on_terminate)
    elif hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, lambda *_: app.post(Intent("quit")))


if __name__ == "__main__":
    sys.exit(main())
