"""The dashboard window: one pywebview window in a child process started with `spawn`.

pystray and pywebview both want the main thread (and GTK's main loop) on some platforms, so
the tray keeps this process's main thread and the window gets a fresh interpreter of its own
(`spawn`: nothing of the tray's GTK state is inherited). They talk over two queues:

    tray → window   ("show", url | None)   show the window, on this page when a url is given
                    ("quit", None)          close for good
    window → tray   ("shown" | "hidden" | "loaded" | "ready" | "failed", detail)

Closing the window hides it; the tray stays, and "show" brings it back at once. A window
left hidden for `HIDDEN_CLOSE_S` is closed, its process and WebKit's with it (WebKit's page
and network processes hold most of the memory, and wake up on their own). In its place a
window process starts that only loads Python, pywebview, GTK and WebKit's libraries, then
sleeps until it is asked to show a page ("ready"): the next "show" creates the window in it,
which takes a second or so, where starting all of that anew took several. The DJ who never
opens the window never pays for it; Quit ends it.

Where there is no GPU (no DRM render node: a virtual machine, a remote desktop, Xvfb), the
window draws with the CPU rather than through WebKit's accelerated compositing: that would
be OpenGL emulated on the CPU (Mesa's llvmpipe), whose set-up in the window's process and in
WebKit's page process took 0.2–1 s of each opening before anything showed, and whose every
frame costs more than drawing it directly. The dashboard has nothing that needs a GPU.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue
import sys
import threading
import webbrowser
from collections.abc import Callable, Mapping
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cuepoint_tray import APP_NAME

log = logging.getLogger(__name__)

PRGNAME = "cuepoint-tray"  # the X class of the app's windows and menus (GLib's prgname)
WIDTH, HEIGHT = 1100, 720
HIDDEN_CLOSE_S = 15.0
# How often a thread waiting on a queue looks whether the other side is still there: the
# queues wake them for every message, so this only bounds how long a dead peer goes unseen.
CHECK_S = 5.0
Listener = Callable[[str, str], None]
RENDER_NODES = Path("/dev/dri")  # where Linux lists GPUs that can render: renderD128, ...
NO_COMPOSITING = "WEBKIT_DISABLE_COMPOSITING_MODE"  # WebKitGTK's own switch


class DashboardWindow:
    """The tray's handle on the window process; every method returns at once."""

    def __init__(self, title: str = APP_NAME, *, on_event: Listener | None = None,
                 hidden_close_s: float = HIDDEN_CLOSE_S) -> None:
        self.title = title
        self.on_event = on_event
        self.hidden_close_s = hidden_close_s
        self.visible = False
        self._asked = 0  # counts "show"s, so a close timed before one is called off
        self._closing: threading.Timer | None = None
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._process: BaseProcess | None = None
        self._commands: Any = None
        self._waiting = False  # the process waits for its first page (no window yet)
        self._shown_once = False
        self._wanted_url = ""  # what the last "show" asked for: the browser's, if all fails

    def show(self, url: str | None, *, start_url: str) -> None:
        """Show the window (on `url` when given); start it on `start_url` if it is not open."""
        with self._lock:
            self._asked += 1
            self._cancel_closing()
            self._wanted_url = url or start_url
            if self._process is not None and self._process.is_alive():
                # A waiting process has no page yet: it needs one.
                self._commands.put(("show", url or (start_url if self._waiting else None)))
                self._waiting = False
                return
            self._start(url or start_url)

    @property
    def running(self) -> bool:
        """Whether the window's process is there (shown, hidden, or waiting to show)."""
        process = self._process
        return process is not None and process.is_alive()

    def _start(self, url: str | None) -> None:
        """Start a window process on `url`, or (None) one that waits for its first page."""
        commands, events = self._context.Queue(), self._context.Queue()
        process = self._context.Process(target=run_window, args=(url, self.title, commands,
                                                                 events),
                                        name="dashboard-window", daemon=True)
        process.start()
        self._process, self._commands, self._shown_once = process, commands, False
        self._waiting = url is None
        threading.Thread(target=self._watch, args=(process, events),
                         name="window-events", daemon=True).start()

    def _watch(self, process: BaseProcess, events: Any) -> None:
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
        if process is not self._process:
            return  # closed on purpose, and maybe replaced
        self.visible = False
        if not self._shown_once and process.exitcode not in (0, None) and not self._waiting:
            log.warning("the window process failed (exit %s): opening the browser instead",
                        process.exitcode)
            webbrowser.open(self._wanted_url)

    def _on_event(self, kind: str, detail: str) -> None:
        if kind in ("shown", "loaded"):
            self.visible = self._shown_once = True
            with self._lock:
                self._cancel_closing()
        elif kind == "hidden":
            self.visible = False
            self._close_later()
        log.info("window %s %s", kind, detail)
        if self.on_event is not None:
            self.on_event(kind, detail)

    def _close_later(self) -> None:
        with self._lock:
            self._cancel_closing()
            timer = threading.Timer(self.hidden_close_s, self._close_if_hidden,
                                    args=(self._asked,))
            timer.name, timer.daemon = "window-close-hidden", True
            self._closing = timer
            timer.start()

    def _cancel_closing(self) -> None:
        if self._closing is not None:
            self._closing.cancel()
            self._closing = None

    def _close_if_hidden(self, asked: int) -> None:
        with self._lock:
            if self.visible or asked != self._asked:
                return  # shown again meanwhile
            log.info("the window was hidden for %.0f s: closing its process; a new one "
                     "waits to show it again", self.hidden_close_s)
            self._close_locked(5.0)
            self._start(None)

    def close(self, timeout: float = 5.0) -> None:
        """Close the window for good and wait for its process."""
        with self._lock:
            self._cancel_closing()
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

def run_window(url: str | None, title: str, commands: Any, events: Any) -> None:
    """The window process's main: one window on `url`, driven by `commands`. Without a url,
    load what a window needs and wait for the first "show" to say which page."""
    _set_prgname()
    os.environ.update(webkit_environment(os.environ))  # read by WebKit, and its processes
    try:
        import webview

        if sys.platform.startswith("linux"):
            from webview.platforms import gtk  # noqa: F401  GTK and WebKit, loaded now
    except (ImportError, ValueError) as exc:  # reported to the tray, which opens the browser
        events.put(("failed", f"pywebview cannot be imported: {exc}"))
        raise SystemExit(1) from exc
    if url is None:
        events.put(("ready", ""))
        url = _first_page(commands)
        if url is None:
            return

    from cuepoint_tray.tray.saving import WindowFiles, attach

    files = WindowFiles(url)  # exports are saved where the DJ says, not silently
    window = webview.create_window(title, url, width=WIDTH, height=HEIGHT,
                                   min_size=(760, 520), text_select=True, js_api=files)
    assert window is not None
    attach(files, window)

    def hide_instead_of_closing() -> bool:
        window.hide()
        events.put(("hidden", ""))
        return False  # False cancels the close

    window.events.closing += hide_instead_of_closing
    window.events.shown += lambda: events.put(("shown", ""))
    window.events.loaded += lambda: events.put(("loaded", page_of(window.get_current_url()
                                                                   or url)))

    def obey() -> None:
        _obey(window, commands, events, hide_instead_of_closing)

    webview.start(obey, gui="gtk" if sys.platform.startswith("linux") else None)


def webkit_environment(environ: Mapping[str, str], *, platform: str = sys.platform,
                       render_nodes: Path = RENDER_NODES) -> dict[str, str]:
    """What the window process adds to its environment before WebKit loads: accelerated
    compositing off on Linux where no GPU can render (see the module's docstring). A value
    the DJ's environment already gives is kept, whichever it is."""
    if not platform.startswith("linux") or NO_COMPOSITING in environ:
        return {}
    if any(render_nodes.glob("renderD*")):
        return {}
    return {NO_COMPOSITING: "1"}


def _next_command(commands: Any) -> tuple[str, Any]:
    """The tray's next command (name, argument); "quit" once the tray is gone or its queue
    broken, since the window goes with it."""
    parent = multiprocessing.parent_process()
    while True:
        try:
            command, argument = commands.get(timeout=CHECK_S)
            return str(command), argument
        except queue.Empty:
            if parent is not None and not parent.is_alive():
                return "quit", None
        except (EOFError, OSError):
            return "quit", None


def _first_page(commands: Any) -> str | None:
    """Sleep until the tray asks to show a page (its url), or to quit, or is gone (None)."""
    while True:
        command, argument = _next_command(commands)
        if command == "quit":
            return None
        if command == "show" and argument:
            return str(argument)


def _obey(window: Any, commands: Any, events: Any, on_closing: Callable[[], bool]) -> None:
    while True:
        command, argument = _next_command(commands)
        if command == "quit":
            window.events.closing -= on_closing
            window.destroy()
            return
        if argument:
            window.load_url(argument)
        window.hidden = False  # pywebview 6.2 (GTK) ignores show() on a window it thinks hidden
        window.show()
        window.restore()  # de-iconify and raise it above other windows
        events.put(("shown", page_of(argument or "")))


def _set_prgname() -> None:
    """Name the process for the window system (its windows' X class), before GTK starts."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(ImportError, ValueError):
            from gi.repository import GLib

            GLib.set_prgname(PRGNAME)
