"""A virtual desktop for GUI tests: Xvfb, a D-Bus session bus, dunst and trayer, plus the
xdotool / python-xlib / ImageMagick calls that drive and photograph the tray app.

    with DisplayStack(tmp / "logs").start() as desktop:
        app = subprocess.Popen([...], env={**os.environ, **desktop.env})
        icon = desktop.wait_for(desktop.tray_icon, 20, "the tray icon")
        desktop.click(icon, button=3)

`require_display_stack()` skips a test when a tool is missing, and fails it under CI=true:
CI must never pass by skipping the GUI.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import pytest

TOOLS = ("Xvfb", "dbus-daemon", "dbus-send", "dunst", "trayer", "xdotool",
         "xprop", "import")
SHOTS = Path("/tmp/shots")
T = TypeVar("T")


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def require_display_stack() -> None:
    """Skip (fail under CI=true) when the virtual desktop cannot be built here."""
    missing = missing_tools()
    if not missing:
        return
    reason = (f"the GUI test needs {', '.join(missing)} (scripts/install-system-packages.sh "
              "installs them)")
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true: {reason}")
    pytest.skip(reason)


def wait_until(check: Callable[[], T], timeout: float, what: str,
               interval: float = 0.1) -> T:
    """Call `check` until it returns something truthy; fail the test after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class DisplayStack:
    """Xvfb on a free display, a session bus, dunst (-print) and trayer as the tray host."""

    def __init__(self, logs: Path, width: int = 1280, height: int = 800) -> None:
        self.logs = logs
        self.size = f"{width}x{height}x24"
        self.env: dict[str, str] = {}
        self._processes: list[subprocess.Popen[bytes]] = []

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> DisplayStack:
        self.logs.mkdir(parents=True, exist_ok=True)
        try:
            display = self._start_xvfb()
            runtime = self.logs / "runtime"  # XDG_RUNTIME_DIR: dunst and GTK want one, 0700
            runtime.mkdir(mode=0o700, exist_ok=True)
            self.env = {"DISPLAY": display, "GDK_BACKEND": "x11", "NO_AT_BRIDGE": "1",
                        "XDG_RUNTIME_DIR": str(runtime)}
            self.env["DBUS_SESSION_BUS_ADDRESS"] = self._start_bus()
            self._spawn(["dunst", "-print"], "dunst.log")
            self._trayer = self._spawn(
                ["trayer", "--edge", "top", "--align", "right", "--widthtype", "request",
                 "--height", "32", "--iconspacing", "4", "--SetDockType", "true",
                 "--SetPartialStrut", "false", "--transparent", "false", "--tint", "0x333333"],
                "trayer.log")
            try:
                wait_until(self._tray_host_ready, 30, "trayer's panel")
            except pytest.fail.Exception:
                pytest.fail(f"trayer's panel did not show in 30 s; {self._trayer_state()}")
            wait_until(self._notifications_ready, 30, "dunst on the session bus")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for process in reversed(self._processes):
            if process.poll() is None:
                process.terminate()
        for process in reversed(self._processes):
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        self._processes.clear()

    def __enter__(self) -> DisplayStack:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _start_xvfb(self) -> str:
        # -displayfd: Xvfb picks a free display and writes its number when it is ready.
        read_end, write_end = os.pipe()
        process = self._spawn(["Xvfb", "-displayfd", str(write_end), "-screen", "0", self.size,
                               "-nolisten", "tcp", "-noreset"], "xvfb.log", pass_fds=(write_end,))
        os.close(write_end)
        with os.fdopen(read_end) as pipe:
            number = pipe.readline().strip()
        if not number:
            raise RuntimeError(f"Xvfb did not start (exit {process.poll()}); see "
                               f"{self.logs / 'xvfb.log'}")
        return f":{number}"

    def _start_bus(self) -> str:
        process = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1"],
            stdout=subprocess.PIPE, stderr=(self.logs / "dbus.log").open("wb"),
            env=self.child_env())
        self._processes.append(process)  # type: ignore[arg-type]
        assert process.stdout is not None
        address = process.stdout.readline().decode().strip()
        if not address:
            raise RuntimeError("dbus-daemon printed no address")
        return address

    def _spawn(self, command: list[str], log: str,
               pass_fds: tuple[int, ...] = ()) -> subprocess.Popen[bytes]:
        handle = (self.logs / log).open("wb")
        process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT,
                                   env=self.child_env(), pass_fds=pass_fds)
        self._processes.append(process)
        return process

    def child_env(self, **extra: str) -> dict[str, str]:
        """The environment for a program on this desktop (never on the real one)."""
        env = {**os.environ, **self.env, **extra}
        env.pop("WAYLAND_DISPLAY", None)
        return env

    def _tray_host_ready(self) -> bool:
        """trayer owns the tray selection and shows its panel (asked of the X server
        directly: no tool to start, and no window name read half-way through)."""
        if self._trayer.poll() is not None:
            pytest.fail(f"trayer ended before its panel showed; {self._trayer_state()}")
        with self._xlib() as screen:
            selection = screen.intern_atom(f"_NET_SYSTEM_TRAY_S{screen.get_default_screen()}")
            owned = screen.get_selection_owner(selection) != 0
            return owned and _panel(screen) is not None

    def _trayer_state(self) -> str:
        """What a failing GUI test reports about the tray host: exit status, logs, windows."""
        search = subprocess.run(["xdotool", "search", "--name", "."], capture_output=True,
                                text=True, env=self.child_env(), timeout=20)
        logs = {name: (self.logs / name).read_text(errors="replace")[-1500:]
                for name in ("trayer.log", "xvfb.log") if (self.logs / name).exists()}
        names = [self.x(["xdotool", "getwindowname", window]).strip()
                 for window in search.stdout.split()[:12]]
        return (f"display {self.env.get('DISPLAY')}, trayer exit {self._trayer.poll()}; "
                f"xdotool: exit {search.returncode}, named windows {names}, "
                f"stderr {search.stderr.strip()[:500]!r}; logs: {logs}")

    def _notifications_ready(self) -> bool:
        answer = self.x(["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
                         "/", "org.freedesktop.DBus.NameHasOwner",
                         "string:org.freedesktop.Notifications"])
        return "boolean true" in answer

    # --- looking at the desktop ---------------------------------------------------------

    def x(self, command: list[str], check: bool = False) -> str:
        """Run an X/D-Bus tool on this desktop; its stdout ("" when it fails, unless check)."""
        def run() -> subprocess.CompletedProcess[str]:
            return subprocess.run(command, capture_output=True, text=True,
                                  env=self.child_env(), timeout=60, check=check)
        try:
            done = run()
        except OSError:  # a fork the machine refused for a moment: once more, then say why
            time.sleep(1)
            try:
                done = run()
            except OSError as error:
                raise OSError(f"{command[0]} could not start ({error}); this test process "
                              f"has {_resources()}") from error
        return done.stdout if done.returncode == 0 else ""

    def tray_icon(self, name: str = "cuepoint-tray") -> str | None:
        """The icon's X window docked in trayer (panel > socket > icon), by its class."""
        with self._xlib() as screen:
            panel = _panel(screen)
            for socket in _children(panel) if panel is not None else []:
                for icon in _children(socket):
                    if any(name in part for part in _window_class(icon)):
                        return hex(icon.id)
        return None

    @contextmanager
    def _xlib(self) -> Iterator[Any]:
        from Xlib import display

        screen = display.Display(self.env["DISPLAY"])
        try:
            yield screen
        finally:
            screen.close()

    def geometry(self, window: str) -> tuple[int, int, int, int]:
        values = dict(line.split("=", 1) for line in self.x(
            ["xdotool", "getwindowgeometry", "--shell", window]).split())
        return int(values["X"]), int(values["Y"]), int(values["WIDTH"]), int(values["HEIGHT"])

    def menu_window(self, app_class: str = "cuepoint-tray") -> str | None:
        """The open GTK popup menu (an override-redirect POPUP_MENU window of the app)."""
        for window in self.x(["xdotool", "search", "--onlyvisible", "--classname",
                              f"^{app_class}$"]).split():
            if "POPUP_MENU" in self.x(["xprop", "-id", window, "_NET_WM_WINDOW_TYPE"]):
                return window
        return None

    def visible_window(self, title: str) -> str | None:
        """A mapped top-level window with this exact title (not the tray icon, which GTK
        names after the application too)."""
        found = self.x(["xdotool", "search", "--onlyvisible", "--name", f"^{re.escape(title)}$"])
        for window in found.split():
            if "_NET_WM_WINDOW_TYPE_NORMAL" in self.x(["xprop", "-id", window,
                                                         "_NET_WM_WINDOW_TYPE"]):
                return window
        return None

    def notifications(self) -> str:
        """What dunst -print has logged: one block a notification, with summary and body."""
        path = self.logs / "dunst.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def screenshot(self, name: str, crop: tuple[int, int, int, int] | None = None) -> Path:
        """The whole screen into /tmp/shots/tray-<name>.png (`crop`: x, y, w, h, scaled 3x)."""
        from PIL import Image

        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"tray-{name}.png"
        self.x(["import", "-window", "root", str(path)], check=True)
        if crop is not None:
            x, y, w, h = crop
            with Image.open(path) as screen:
                part = screen.crop((x, y, x + w, y + h))
            part.resize((w * 3, h * 3), Image.Resampling.NEAREST).save(path)
        return path

    def painted(self, window: str, colours: int = 16, below: int = 100) -> bool:
        """Whether the window shows more than a blank page under its top `below` pixels (a
        page still loading is one flat colour; text brings anti-aliased shades)."""
        from PIL import Image

        grab = self.logs / "window-grab.png"
        if not self.x(["import", "-window", window, str(grab)]) and not grab.exists():
            return False
        try:
            with Image.open(grab) as image:
                body = image.convert("RGB").crop((0, below, image.width, image.height))
                found = body.getcolors(maxcolors=colours)
        except OSError:
            return False
        finally:
            grab.unlink(missing_ok=True)
        return found is None  # None: more colours than `colours`

    # --- driving ------------------------------------------------------------------------

    def click(self, window: str, button: int = 1) -> None:
        x, y, w, h = self.geometry(window)
        self.x(["xdotool", "mousemove", str(x + w // 2), str(y + h // 2), "click", str(button)],
               check=True)

    def keys(self, *keys: str) -> None:
        self.x(["xdotool", "key", "--delay", "40", *keys], check=True)

    def close_window(self, window: str) -> None:
        """Ask the window to close the way a window manager's [x] does (WM_DELETE_WINDOW);
        there is no window manager here, and `xdotool windowclose` would destroy it."""
        from Xlib import X, display, protocol

        screen = display.Display(self.env["DISPLAY"])
        try:
            target = screen.create_resource_object("window", int(window, 0))
            event = protocol.event.ClientMessage(
                window=target, client_type=screen.intern_atom("WM_PROTOCOLS"),
                data=(32, [screen.intern_atom("WM_DELETE_WINDOW"), X.CurrentTime, 0, 0, 0]))
            target.send_event(event, event_mask=X.NoEventMask)
            screen.flush()
        finally:
            screen.close()


def _panel(screen: Any) -> Any | None:
    """trayer's panel: the top-level window named "panel"."""
    for window in _children(screen.screen().root):
        with suppress(Exception):  # a window may go while it is looked at
            if window.get_wm_name() == "panel":
                return window
    return None


def _children(window: Any) -> list[Any]:
    try:
        return list(window.query_tree().children)
    except Exception:  # the window went
        return []


def _window_class(window: Any) -> tuple[str, ...]:
    try:
        return tuple(window.get_wm_class() or ())
    except Exception:
        return ()


def _resources() -> str:
    """What a failed fork may have run short of, for the failure's message."""
    status = Path("/proc/self/status").read_text(encoding="utf-8")
    wanted = ("VmSize", "VmRSS", "Threads")
    kept = [line.replace("\t", " ") for line in status.splitlines() if line.startswith(wanted)]
    return ", ".join([f"{len(os.listdir('/proc/self/fd'))} open files", *kept])
