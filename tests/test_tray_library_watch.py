"""The tray hears of a change to the library file from the kernel (inotify), not by looking:
real files, a real watch thread; and a change on disk reaches the tray's menu."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from cuepoint_tray.tray.library_watch import LibraryWatch

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="inotify is Linux's; elsewhere the tray looks every 2 s")


class Told:
    def __init__(self) -> None:
        self.event = threading.Event()
        self.count = 0

    def __call__(self) -> None:
        self.count += 1
        self.event.set()

    def wait(self, timeout: float = 10.0) -> bool:
        told = self.event.wait(timeout)
        self.event.clear()
        return told


@pytest.fixture
def told() -> Told:
    return Told()


@pytest.fixture
def watch(told: Told) -> Any:
    watching = LibraryWatch(told)
    assert watching.active
    yield watching
    watching.stop()


def test_a_file_moved_into_place_is_told(tmp_path: Path, told: Told, watch: LibraryWatch) -> None:
    library = tmp_path / "rekordbox.xml"
    library.write_text("one")
    watch.watch(library)
    (tmp_path / "rekordbox.tmp").write_text("two")
    assert not told.wait(0.5), "another file's writes are not the library's"
    (tmp_path / "rekordbox.tmp").replace(library)
    assert told.wait()


def test_a_file_written_in_place_is_told_when_closed(tmp_path: Path, told: Told,
                                                     watch: LibraryWatch) -> None:
    library = tmp_path / "rekordbox.xml"
    library.write_text("one")
    watch.watch(library)
    with library.open("w") as stream:
        stream.write("two")
        stream.flush()
        assert not told.wait(0.5), "told before the file is closed"
    assert told.wait()


def test_the_watch_follows_the_library_setting(tmp_path: Path, told: Told,
                                               watch: LibraryWatch) -> None:
    first, second = tmp_path / "a" / "rekordbox.xml", tmp_path / "b" / "rekordbox.xml"
    for path in (first, second):
        path.parent.mkdir()
        path.write_text("x")
    watch.watch(first)
    watch.watch(second)
    first.write_text("y")
    assert not told.wait(0.5)
    second.write_text("y")
    assert told.wait()
    watch.watch(None)
    second.write_text("z")
    assert not told.wait(0.5)


def test_stop_ends_the_thread(tmp_path: Path, told: Told) -> None:
    watching = LibraryWatch(told)
    watching.watch(tmp_path / "rekordbox.xml")
    thread = watching._thread
    assert thread is not None and thread.is_alive()
    watching.stop()
    assert not thread.is_alive()


def test_a_change_on_disk_reaches_the_menu(tmp_path: Path, pystray_toolkit: Any) -> None:
    """The tray app (stand-in icon, real everything else) shows a playlist renamed in a
    re-exported file; the library watch woke the update."""
    from test_rekordbox_reader import export, playlist, track

    from cuepoint_tray.paths import resolve_paths
    from cuepoint_tray.settings import Settings, load_settings, save_settings, with_values
    from cuepoint_tray.tray.app import TrayApp

    paths = resolve_paths(tmp_path / "data").create()
    library = tmp_path / "rekordbox.xml"
    library.write_text(export(track("1"), playlist("Warmup", "1")), encoding="utf-8")
    save_settings(with_values(Settings(), {"rekordbox_library": str(library)}, source="test"),
                  paths.settings_file)
    app = TrayApp(paths, lambda: load_settings(paths.settings_file), toolkit=pystray_toolkit)
    woken: list[float] = []
    wake = app._wake.set
    app._library_watch.on_change = lambda: (woken.append(time.monotonic()), wake())
    runner = threading.Thread(target=app.run, daemon=True)
    runner.start()
    try:
        _wait(lambda: "Warmup  (1)" in _texts(app))
        temporary = tmp_path / "export.tmp"
        temporary.write_text(export(track("1"), playlist("Peak Time", "1")), encoding="utf-8")
        temporary.replace(library)
        _wait(lambda: "Peak Time  (1)" in _texts(app))
        assert woken, "the watch did not tell the tray"
    finally:
        app.post(_quit())
        runner.join(30)


def _quit() -> Any:
    from cuepoint_tray.tray.intents import Intent

    return Intent("quit")


def _texts(app: Any) -> str:
    def walk(menu: Any) -> list[str]:
        found: list[str] = []
        for item in getattr(menu, "items", ()) or ():
            found.append(str(item.text))
            if item.submenu is not None:
                found += walk(item.submenu)
        return found

    return "\n".join(walk(app.icon.menu))


def _wait(check: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def pystray_toolkit(monkeypatch: pytest.MonkeyPatch) -> Any:
    from types import SimpleNamespace

    from test_tray_app import FakeIcon

    monkeypatch.setenv("PYSTRAY_BACKEND", "dummy")
    from pystray import _base

    return SimpleNamespace(Icon=FakeIcon, Menu=_base.Menu, MenuItem=_base.MenuItem)


def test_a_wal_written_without_being_closed_is_told_once_left_alone(
        tmp_path: Path, told: Told, watch: LibraryWatch) -> None:
    """Rekordbox commits to master.db-wal and keeps it open: the watch tells once the writes
    stop, once for a burst; a file other than the library's is not told."""
    import sqlite3

    db = tmp_path / "master.db"
    rekordbox = sqlite3.connect(db, isolation_level=None)
    try:
        rekordbox.execute("PRAGMA journal_mode = WAL")
        rekordbox.execute("PRAGMA wal_autocheckpoint = 0")
        rekordbox.execute("CREATE TABLE djmdPlaylist (ID TEXT, Name TEXT)")
        watch.watch(db)
        assert not told.wait(0.5)
        for number in range(20):  # a burst of commits, the WAL open throughout
            rekordbox.execute("INSERT INTO djmdPlaylist VALUES (?, 'Friday')", (str(number),))
        assert told.wait(), "a commit to the WAL was not told"
        assert not told.wait(0.5), "told more than once for one burst"
        assert told.count == 1
        other = sqlite3.connect(tmp_path / "other.db", isolation_level=None)
        other.execute("PRAGMA journal_mode = WAL")
        other.execute("CREATE TABLE t (x)")
        assert not told.wait(0.5), "another database's WAL was told"
        other.close()
    finally:
        rekordbox.close()
