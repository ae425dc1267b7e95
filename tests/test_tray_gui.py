"""The real tray app on a virtual desktop: Xvfb, a session bus, dunst and trayer.

Each test starts `cuepoint-tray` in a fresh data folder with settings written
first (the demo XML, the demo catalog served locally), then drives the docked icon and its
GTK menu with xdotool like a DJ would, and checks what a DJ would see: the history, the
notification dunst received, the window. Screenshots land in /tmp/shots/tray-*.png.

The menu is reached with the keyboard (Down / Right / Return); which entry is where comes
from the app's testing mode (CUEPOINT_TRAY_MENU_DUMP: the menu as shown, as JSON), so the
tests follow the real menu rather than a copy of its layout.
"""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from display_stack import DisplayStack, require_display_stack, wait_until

from cuepoint_tray.catalog_server import CatalogServer, Faults
from cuepoint_tray.controller import QUIT_REASON
from cuepoint_tray.resources import resource_folder
from cuepoint_tray.settings import Settings, save_settings, with_values
from cuepoint_tray.tray.single_instance import ask_running_to_show
from cuepoint_tray.tray.window import HIDDEN_CLOSE_S, RENDER_NODES

PROJECT = Path(__file__).resolve().parent.parent
DEMO = resource_folder("assets", "demo")
WINDOW_TITLE = "CuePoint Tray"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def desktop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DisplayStack]:
    require_display_stack()
    with DisplayStack(tmp_path_factory.mktemp("desktop")).start() as stack:
        yield stack


@pytest.fixture(scope="module")
def catalog() -> Iterator[CatalogServer]:
    with CatalogServer(DEMO / "catalog.jsonl").start() as server:
        yield server


class Tray:
    """One run of the tray app on the virtual desktop, and ways to drive it."""

    def __init__(self, desktop: DisplayStack, data_dir: Path, catalog: CatalogServer) -> None:
        self.desktop = desktop
        self.data_dir = data_dir
        self.catalog = catalog
        self.menu_dump = data_dir / "menu.json"
        self.process: subprocess.Popen[bytes] | None = None

    def write_settings(self, **values: Any) -> None:
        settings = with_values(Settings(), {
            "beatport_web_url": self.catalog.url, "beatport_api_url": self.catalog.url + "/v4",
            "requests_per_second": 200.0, **values}, source="the test")
        save_settings(settings, self.data_dir / "config" / "settings.toml")

    def command(self) -> list[str]:
        """The installed `cuepoint-tray` command (else the module), on this data folder."""
        script = Path(sys.executable).parent / "cuepoint-tray"
        start = [str(script)] if script.exists() else [sys.executable, "-m",
                                                         "cuepoint_tray.tray"]
        return [*start, "--data-dir", str(self.data_dir)]

    def start(self) -> str:
        """Start the app; the docked icon's window id once it is there."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            self.command(), cwd=PROJECT, stdout=(self.data_dir / "app.out").open("wb"),
            stderr=subprocess.STDOUT,
            env=self.desktop.child_env(CUEPOINT_TRAY_MENU_DUMP=str(self.menu_dump)))
        return self.icon()

    def icon(self) -> str:
        return wait_until(self.desktop.tray_icon, 20, "the tray icon to dock")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # quits like the menu's Quit
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    # --- the menu -----------------------------------------------------------------------

    def menu(self) -> list[dict[str, Any]]:
        try:
            return json.loads(self.menu_dump.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []

    def entry(self, text: str) -> dict[str, Any] | None:
        return next((e for e in self.menu() if e["text"].startswith(text)), None)

    def open_menu(self) -> None:
        self.desktop.click(self.icon(), button=3)
        wait_until(self.desktop.menu_window, 5, "the menu to open")

    def close_menu(self) -> None:
        self.desktop.keys("Escape")
        wait_until(lambda: self.desktop.menu_window() is None, 5, "the menu to close")

    def pick(self, *path: str, shot: str | None = None) -> None:
        """Open the menu and activate the entry at `path` ("Choose playlist", "Demo", ...),
        each step matched by the start of its text."""
        entries, keys = self.menu(), []
        for depth, text in enumerate(path):
            selectable = [e for e in entries if e["enabled"] and not e["separator"]]
            index = next(i for i, e in enumerate(selectable) if e["text"].startswith(text))
            # A fresh popup has nothing selected (Down selects the first entry); an opened
            # submenu has its first entry selected already.
            keys += ["Down"] * (index + (1 if depth == 0 else 0))
            entries = selectable[index]["submenu"]
            keys.append("Right" if entries else "Return")
        self.open_menu()
        if shot is not None:
            self.desktop.keys(*keys[:-1])
            self.desktop.screenshot(shot)
            self.desktop.keys(keys[-1])
        else:
            self.desktop.keys(*keys)

    # --- what happened ------------------------------------------------------------------

    def sessions(self) -> list[dict[str, Any]]:
        database = self.data_dir / "history.sqlite3"
        if not database.exists():
            return []
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as db:
            db.row_factory = sqlite3.Row
            try:
                rows = db.execute("SELECT id, status, reason, tracks, done, matched "
                                  "FROM sessions ORDER BY id").fetchall()
            except sqlite3.OperationalError:  # the schema is being created
                return []
        return [dict(row) for row in rows]

    def log(self) -> str:
        path = self.data_dir / "logs" / "cuepoint.log"
        return path.read_text(encoding="utf-8") if path.exists() else ""

    def window(self) -> str | None:
        return self.desktop.visible_window(WINDOW_TITLE)


@pytest.fixture
def tray(desktop: DisplayStack, catalog: CatalogServer, tmp_path: Path) -> Iterator[Tray]:
    catalog.faults = Faults()
    app = Tray(desktop, tmp_path / "data", catalog)
    yield app
    app.stop()
    catalog.faults = Faults()
    # Shown by pytest only when the test failed.
    print("--- app log", app.log(), "--- app output", sep="\n")
    print((app.data_dir / "app.out").read_text(errors="replace")[-3000:])
    print("--- menu as last shown", app.menu_dump.read_text() if app.menu_dump.exists() else "")
    wait_until(lambda: desktop.tray_icon() is None, 10, "the icon to leave the tray")


def _shot_tray(desktop: DisplayStack, name: str) -> None:
    """The docked icon, enlarged."""
    icon = desktop.tray_icon()
    assert icon is not None
    x, y, w, h = desktop.geometry(icon)
    desktop.screenshot(name, crop=(max(x - 24, 0), 0, w + 30, y + h + 4))


def test_left_click_matches_the_current_playlist_and_notifies(tray: Tray) -> None:
    tray.write_settings(rekordbox_library=str(DEMO / "rekordbox.xml"),
                        default_playlist="Crate Digging")
    icon = tray.start()
    wait_until(lambda: tray.entry("Ready"), 10, "the menu's status line to say Ready")
    _shot_tray(tray.desktop, "idle")
    match = tray.entry("Match")
    assert match is not None and match["text"] == "Match “Crate Digging”" and match["default"]

    tray.open_menu()
    tray.desktop.screenshot("menu")
    tray.close_menu()

    tray.catalog.faults = Faults(latency_ms=120)  # slow enough to see the progress ring
    tray.desktop.click(icon, button=1)
    wait_until(lambda: any(s["done"] >= 4 for s in tray.sessions()), 20, "tracks to be matched")
    _shot_tray(tray.desktop, "running")
    [session] = wait_until(lambda: [s for s in tray.sessions() if s["status"] == "completed"],
                           30, "the session to complete")
    assert (session["tracks"], session["done"]) == (18, 18)
    notice = wait_until(lambda: "Matched “Crate Digging”" in tray.desktop.notifications()
                        and tray.desktop.notifications(), 10, "dunst to show the notification")
    assert f"{session['matched']} of 18 matched" in notice
    wait_until(lambda: tray.entry("Last session:"), 10, "the status line to sum up the session")
    _shot_tray(tray.desktop, "done")


def test_window_opens_hides_on_close_and_a_second_launch_shows_it(tray: Tray) -> None:
    tray.write_settings(rekordbox_library=str(DEMO / "rekordbox.xml"),
                        default_playlist="Crate Digging")
    tray.start()
    wait_until(lambda: tray.entry("Ready"), 10, "the menu to be built")
    tray.pick("Open dashboard")
    window = wait_until(tray.window, 20, "the dashboard window")
    wait_until(lambda: "window loaded live" in tray.log(), 20, "the live page to load")
    wait_until(lambda: tray.desktop.painted(window), 60, "the dashboard to be drawn")
    tray.desktop.screenshot("window")
    # pywebview's bridge (the Save dialog for exports) was built: the page's policy allowed it.
    assert "Refused to evaluate" not in (tray.data_dir / "app.out").read_text(errors="replace")

    def closed() -> bool:  # as a DJ would, click [x] again if the first click went unseen
        if tray.window() is None:
            return True
        tray.desktop.close_window(window)
        return False

    wait_until(closed, 10, "the window to hide on close", interval=1.0)
    assert tray.process is not None and tray.process.poll() is None, "closing it quit the app"
    assert tray.desktop.tray_icon() is not None

    second = subprocess.run(tray.command(), cwd=PROJECT, env=tray.desktop.child_env(),
                            capture_output=True, text=True, timeout=30)
    assert second.returncode == 0, second.stderr
    assert "already running" in second.stderr
    window = wait_until(tray.window, 10, "the first app's window to come back")
    wait_until(lambda: tray.desktop.painted(window), 60, "the dashboard to be drawn again")
    tray.desktop.screenshot("window-again")


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(
                int(entry.name))
    found, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        found.append(pid)
    return found


def _window_processes(root: int) -> list[str]:
    """The window's process and WebKit's, among `root`'s descendants (not multiprocessing's
    resource tracker, which stays for the app's life and costs nothing)."""
    found = []
    for pid in _descendants(root):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "spawn_main" in command or "WebKit" in command:
            found.append(command)
    return found


def test_a_window_left_hidden_ends_its_processes_and_opens_again_on_show(tray: Tray) -> None:
    """Hidden for a while, the window's process and WebKit's end; a new window process that
    has only loaded its libraries waits in their place, and the next show opens the window
    in it."""
    tray.write_settings(rekordbox_library=str(DEMO / "rekordbox.xml"),
                        default_playlist="Crate Digging")
    tray.start()
    wait_until(lambda: tray.entry("Ready"), 10, "the menu to be built")
    assert tray.process is not None
    assert ask_running_to_show(tray.data_dir)
    window = wait_until(tray.window, 20, "the dashboard window")
    wait_until(lambda: tray.desktop.painted(window), 60, "the dashboard to be drawn")
    first = _window_processes(tray.process.pid)
    assert _webkit_processes(tray.process.pid), "the page runs in WebKit's own processes"

    def closed() -> bool:
        if tray.window() is None:
            return True
        tray.desktop.close_window(window)
        return False

    wait_until(closed, 10, "the window to hide on close", interval=1.0)
    assert _window_processes(tray.process.pid) == first, "hidden for a moment: kept"
    wait_until(lambda: not _webkit_processes(tray.process.pid), HIDDEN_CLOSE_S + 20,
               "the hidden window's WebKit processes to end")
    assert "hidden for 15 s: closing its process" in tray.log()
    wait_until(lambda: "window ready" in tray.log(), 30, "a new window process to wait")
    waiting = _window_processes(tray.process.pid)
    assert len(waiting) == 1 and waiting[0] not in first, waiting
    assert tray.process.poll() is None and tray.desktop.tray_icon() is not None

    assert ask_running_to_show(tray.data_dir)
    window = wait_until(tray.window, 20, "the window to open again")
    wait_until(lambda: tray.desktop.painted(window), 60, "the dashboard to be drawn again")
    wait_until(lambda: tray.log().count("window loaded live") == 2, 10, "the live page again")
    assert _window_processes(tray.process.pid)[:1] == waiting, "opened in the waiting process"
    if not any(RENDER_NODES.glob("renderD*")):  # no GPU: WebKit draws without emulated GL
        threads = _page_process_threads(tray.process.pid)
        assert "WebKitWebProces" in threads, "the page process is there"
        emulated = {name for name in threads if name.startswith("llvmpipe")}
        assert not emulated and "eadedCompositor" not in threads, threads
    time.sleep(3)  # the Live page's first answer, for the screenshot to show the page
    tray.desktop.screenshot("window-reopened")


def _page_process_threads(root: int) -> set[str]:
    """The names of the threads of WebKit's page processes among `root`'s descendants: with
    accelerated compositing, a "ThreadedCompositor" ("eadedCompositor", names are cut at 15
    characters) and, without a GPU, Mesa's "llvmpipe-N" threads emulating OpenGL."""
    names: set[str] = set()
    for pid in _descendants(root):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() != "WebKitWebProces":
                continue
            names |= {(task / "comm").read_text().strip()
                      for task in Path(f"/proc/{pid}/task").iterdir()}
        except OSError:
            continue
    return names


def _webkit_processes(root: int) -> list[str]:
    return [name for name in _window_processes(root) if "WebKit" in name]


def test_choose_playlist_is_remembered_and_follows_the_xml_on_disk(tray: Tray,
                                                                   tmp_path: Path) -> None:
    xml = tmp_path / "rekordbox.xml"
    shutil.copy(DEMO / "rekordbox.xml", xml)
    tray.write_settings(rekordbox_library=str(xml), default_playlist="Crate Digging")
    tray.start()
    wait_until(lambda: tray.entry("Ready"), 10, "the menu to be built")
    tray.pick("Choose playlist", "Demo", "Peak Time", shot="choose-playlist")
    wait_until(lambda: tray.entry("Match “Peak Time”"), 10, "Match to name the chosen playlist")
    settings = (tray.data_dir / "config" / "settings.toml").read_text(encoding="utf-8")
    assert 'default_playlist = "Demo/Peak Time"' in settings
    demo = next(e for e in tray.entry("Choose playlist")["submenu"] if e["text"] == "Demo")
    assert [e["checked"] for e in demo["submenu"]] == [False, True]

    # Rekordbox exports again with the playlist renamed: the tray follows within seconds.
    xml.write_text(xml.read_text(encoding="utf-8").replace('Name="Peak Time"',
                                                           'Name="Peak Hour"'),
                   encoding="utf-8")
    wait_until(lambda: tray.entry("Match: choose a playlist first"), 10,
               "the menu to follow the new XML")
    demo = next(e for e in tray.entry("Choose playlist")["submenu"] if e["text"] == "Demo")
    assert [e["text"] for e in demo["submenu"]] == ["Friday Warm-up  (60)", "Peak Hour  (40)"]


def test_quit_during_a_session_pauses_it_so_it_can_resume(tray: Tray) -> None:
    tray.write_settings(rekordbox_library=str(DEMO / "rekordbox.xml"),
                        default_playlist="Demo/Friday Warm-up")
    icon = tray.start()
    wait_until(lambda: tray.entry("Ready"), 10, "the menu to be built")
    # Slow enough that the session still runs when the test pauses it, a busy machine's
    # half-minute later (at 1.5 s a request it once ended first).
    tray.catalog.faults = Faults(latency_ms=4000)
    tray.desktop.click(icon, button=1)
    wait_until(lambda: any(s["done"] >= 2 for s in tray.sessions()), 40, "tracks to be matched")
    wait_until(lambda: tray.entry("Quit (pauses the session)"), 10, "the running menu")
    tray.open_menu()
    tray.desktop.screenshot("menu-running")
    tray.close_menu()

    tray.pick("Pause")
    wait_until(lambda: tray.entry("Paused at"), 30, "the session to pause")
    wait_until(lambda: [s for s in tray.sessions() if s["status"] == "paused"], 10,
               "the history to say paused")
    _shot_tray(tray.desktop, "paused")
    tray.pick("Resume")
    wait_until(lambda: tray.entry("Matching"), 10, "the session to run again")

    tray.desktop.click(tray.icon(), button=1)  # while it runs, a click opens the live page
    wait_until(tray.window, 20, "the dashboard window")
    wait_until(lambda: "window loaded live" in tray.log(), 20, "the live page")

    tray.pick("Quit")
    assert tray.process is not None
    assert tray.process.wait(20) == 0
    [session] = tray.sessions()
    assert session["status"] == "paused"
    assert session["reason"] == QUIT_REASON
    assert 2 <= session["done"] < 60

    tray.catalog.faults = Faults()
    resumed = subprocess.run(
        [sys.executable, "-m", "cuepoint_tray", "--data-dir", str(tray.data_dir), "resume",
         str(session["id"])], cwd=PROJECT, capture_output=True, text=True, timeout=60)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    [session] = tray.sessions()
    assert (session["status"], session["done"]) == ("completed", 60)


def test_first_run_without_an_xml_opens_the_settings(tray: Tray) -> None:
    tray.write_settings()  # no rekordbox_xml
    tray.start()
    window = wait_until(tray.window, 20, "the window to open by itself")
    wait_until(lambda: "window loaded settings" in tray.log(), 20, "the settings page")
    wait_until(lambda: tray.desktop.painted(window), 60, "the settings page to be drawn")
    settings = tray.entry("Settings")
    assert settings is not None and settings["default"]
    assert tray.entry("Set up: export your Rekordbox collection as XML") is not None
    tray.desktop.screenshot("first-run")
