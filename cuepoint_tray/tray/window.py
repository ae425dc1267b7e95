"""The dashboard window: one pywebview window in a child process started with `spawn`.

pystray and pywebview both want the main thread (and GTK's main loop) on some platforms, so
the tray keeps this process's main thread and the window gets a fresh interpreter of its own
(`spawn`: nothing of the tray's GTK state is inherited). They talk over two queues:

    tray → window   ("show", url | None)   show the window, on this page when a url is given
                    ("quit", None)          close for good
    window → tray   ("shown" | "hidden" | "loaded" | "failed", detail)

    tray → window   ("rest", None)          free the page: end WebKit's page process
    window → tray   ("rested", "")

Closing the window hides it; the tray stays, and "show" brings it back at once. A window
left hidden for `HIDDEN_REST_S` rests: WebKit's web process (the page, its JavaScript and
its caches: most of the window's memory, and what wakes up on its own) is ended, and the
resource cache dropped. The window's own process stays, GTK and WebKit loaded, so the next
"show" only loads the page again in a new web process: a second or so, where starting the
window process anew (Python, GTK, WebKit) took several. Quit closes it for good.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import queue
import sys
import threading
import webbrowser
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from typing import Any
from urllib.parse import urlsplit

from cuepoint_tray import APP_NAME

log = logging.getLogger(__name__)

PRGNAME = "cuepoint-tray"  # the X class of the app's windows and menus (GLib's prgname)
WIDTH, HEIGHT = 1100, 720
HIDDEN_REST_S = 15.0
# How often a thread waiting on a queue looks whether the other side is still there: the
# queues wake them for every message, so this only bounds how long a dead peer goes unseen.
CHECK_S = 5.0
Listener = Callable[[str, str], None]


class DashboardWindow:
    """The tray's handle on the window process; every method returns at once."""

    def __init__(self, title: str = APP_NAME, *, on_event: Listener | None = None,
                 hidden_rest_s: float = HIDDEN_REST_S) -> None:
        self.title = title
        self.on_event = on_event
        self.hidden_rest_s = hidden_rest_s
        self.visible = False
        self._asked = 0  # counts "show"s, so a rest timed before one is called off
        self._resting: threading.Timer | None = None
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._process: BaseProcess | None = None
        self._commands: Any = None
        self._shown_once = False

    def show(self, url: str | None, *, start_url: str) -> None:
        """Show the window (on `url` when given); start it on `start_url` if it is not open."""
        with self._lock:
            self._asked += 1
            self._cancel_rest()
            if self._process is not None and self._process.is_alive():
                self._commands.put(("show", url))
                return
            self._start(url or start_url)

    @property
    def running(self) -> bool:
        """Whether the window's process is there (shown or hidden)."""
        process = self._process
        return process is not None and process.is_alive()

    def _start(self, url: str) -> None:
        commands, events = self._context.Queue(), self._context.Queue()
        process = self._context.Process(target=run_window, args=(url, self.title, commands,
                                                                 events),
                                        name="dashboard-window", daemon=True)
        process.start()
        self._process, self._commands, self._shown_once = process, commands, False
        threading.Thread(target=self._watch, args=(process, events, url),
                         name="window-events", daemon=True).start()

    def _watch(self, process: BaseProcess, events: Any, url: str) -> None:
        """Relay the window's events until its process ends; fall back to the browser when
        the window could not open at all (no GTK/WebKit, a broken install)."""
        while process.is_alive() or not events.empty():
            try:
                kind, detail = events.get(timeout=CHECK_S)
            except queue.Empty:
                continue
            except (EOFError, OSError):
                break
            self._on_event(kind, detail)
        self.visible = False
        if not self._shown_once and process.exitcode not in (0, None):
            log.warning("the window process failed (exit %s): opening the browser instead",
                        process.exitcode)
            webbrowser.open(url)

    def _on_event(self, kind: str, detail: str) -> None:
        if kind in ("shown", "loaded"):
            self.visible = self._shown_once = True
            with self._lock:
                self._cancel_rest()
        elif kind == "hidden":
            self.visible = False
            self._rest_later()
        log.info("window %s %s", kind, detail)
        if self.on_event is not None:
            self.on_event(kind, detail)

    def _rest_later(self) -> None:
        with self._lock:
            self._cancel_rest()
            timer = threading.Timer(self.hidden_rest_s, self._rest_if_hidden,
                                    args=(self._asked,))
            timer.name, timer.daemon = "window-rest", True
            self._resting = timer
            timer.start()

    def _cancel_rest(self) -> None:
        if self._resting is not None:
            self._resting.cancel()
            self._resting = None

    def _rest_if_hidden(self, asked: int) -> None:
        with self._lock:
            if self.visible or asked != self._asked:
                return  # shown again meanwhile
            process = self._process
            if process is not None and process.is_alive():
                log.info("the window was hidden for %.0f s: ending its page's process",
                         self.hidden_rest_s)
                self._commands.put(("rest", None))

    def close(self, timeout: float = 5.0) -> None:
        """Close the window for good and wait for its process."""
        with self._lock:
            self._cancel_rest()
            self._close_locked(timeout)

    def _close_locked(self, timeout: float) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.is_alive():
            self._commands.put(("quit", None))
            process.join(timeout)
        if process.is_alive():
            log.warning("the window did not close in %.0f s: terminating it", timeout)
            process.terminate()
            process.join(2)


def page_of(url: str) -> str:
    """The dashboard page a URL shows, without its token: "live", "settings", "session/3"."""
    fragment = urlsplit(url).fragment
    return fragment.split("?", 1)[0].strip("/") or "live"


# --- the child process ------------------------------------------------------------------------

def run_window(url: str, title: str, commands: Any, events: Any) -> None:
    """The window process's main: one window on `url`, driven by `commands`."""
    _set_prgname()
    try:
        import webview
    except ImportError as exc:  # reported to the tray, which opens the browser instead
        events.put(("failed", f"pywebview cannot be imported: {exc}"))
        raise SystemExit(1) from exc

    window = webview.create_window(title, url, width=WIDTH, height=HEIGHT,
                                   min_size=(760, 520), text_select=True)
    assert window is not None
    page = _Page(window, url)

    def hide_instead_of_closing() -> bool:
        window.hide()
        events.put(("hidden", ""))
        return False  # False cancels the close

    def loaded() -> None:
        page.url = window.get_current_url() or page.url
        events.put(("loaded", page_of(page.url)))

    window.events.closing += hide_instead_of_closing
    window.events.shown += lambda: events.put(("shown", ""))
    window.events.loaded += loaded

    def obey() -> None:
        _obey(page, commands, events, hide_instead_of_closing)

    webview.start(obey, gui="gtk" if sys.platform.startswith("linux") else None)


class _Page:
    """The window's page: where it is, and whether WebKit's process for it was ended."""

    def __init__(self, window: Any, url: str) -> None:
        self.window = window
        self.url = url
        self.resting = False

    def rest(self) -> bool:
        """End WebKit's web process for the page and drop WebKit's resource cache; the page
        is loaded again (in a new process) when the window is shown. False where the
        toolkit gives no way to (not GTK): the window then just stays hidden."""
        view = _webkit_view(self.window)
        if view is None:
            return False
        done = threading.Event()

        def on_main_loop() -> bool:
            try:
                view.get_context().clear_cache()
                view.terminate_web_process()
            finally:
                done.set()
            return False

        from gi.repository import GLib

        GLib.idle_add(on_main_loop)
        done.wait(10)
        self.resting = True
        _give_back_freed_memory()
        return True

    def show(self, url: str | None) -> None:
        if url or self.resting:
            self.window.load_url(url or self.url)
            self.resting = False
        # pywebview 6.2 (GTK) ignores show() on a window it thinks hidden.
        self.window.hidden = False
        self.window.show()
        self.window.restore()  # de-iconify and raise it above other windows


def _webkit_view(window: Any) -> Any:
    """The WebKitWebView of a pywebview window on GTK, else None."""
    try:
        from webview.platforms.gtk import BrowserView
    except (ImportError, ValueError):
        return None
    view = BrowserView.instances.get(window.uid)
    webview = getattr(view, "webview", None)
    return webview if hasattr(webview, "terminate_web_process") else None


def _give_back_freed_memory() -> None:
    """Collect, and hand the freed heap back to the system (glibc keeps it otherwise)."""
    import gc

    gc.collect()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            ctypes.CDLL("libc.so.6").malloc_trim(0)


def _obey(page: _Page, commands: Any, events: Any, on_closing: Callable[[], bool]) -> None:
    parent = multiprocessing.parent_process()
    while True:
        try:
            command, argument = commands.get(timeout=CHECK_S)
        except queue.Empty:
            if parent is not None and not parent.is_alive():
                command, argument = "quit", None  # the tray is gone: so is its window
            else:
                continue
        except (EOFError, OSError):
            command, argument = "quit", None
        if command == "quit":
            page.window.events.closing -= on_closing
            page.window.destroy()
            return
        if command == "rest":
            if page.rest():
                events.put(("rested", ""))
            continue
        page.show(argument)
        events.put(("shown", page_of(argument or "")))


def _set_prgname() -> None:
    """Name the process for the window system (its windows' X class), before GTK starts."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(ImportError, ValueError):
            from gi.repository import GLib

            GLib.set_prgname(PRGNAME)
