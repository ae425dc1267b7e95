"""The tray over Rekordbox's own library: the current playlist (chosen last, else the one
changed last in Rekordbox, named as such in the menu), re-read when the database or its WAL
changes, and a match started from the tray."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from test_tray_app import FakeIcon, pystray_base  # noqa: F401  (the module fixture)

from cuepoint_tray.catalog_server import CatalogServer
from cuepoint_tray.paths import AppPaths, resolve_paths
from cuepoint_tray.rekordbox.current import CurrentLibrary
from cuepoint_tray.resources import resource_folder
from cuepoint_tray.settings import Settings, load_settings, save_settings
from cuepoint_tray.tray.app import TrayApp
from cuepoint_tray.tray.menu import ago, build_menu, default_entry, status_text
from cuepoint_tray.tray.state import LibraryView, TrayState, library_now

from conftest import SHARED, require
from masterdb_builder import LibraryBuilder, copy_of_xml_library

DEMO = resource_folder("assets", "demo")
REAL_PLAIN = SHARED / "fixtures" / "real" / "rekordbox-db" / "master_unlocked.db"


@pytest.fixture
def changed_last(tmp_path: Path) -> Path:
    """A library whose playlist "Friday" was changed after "Warm-up"."""
    require(REAL_PLAIN)
    out = tmp_path / "master.db"
    with LibraryBuilder(out) as build:
        ids = [build.track(f"Song {n}", "Someone") for n in range(5)]
        sets = build.folder("Sets")
        build.playlist("Friday", ids[2:4], parent=sets)
        build.playlist("Warm-up", ids[:2], parent=sets)
    time.sleep(0.05)
    from pyrekordbox.masterdb import MasterDatabase

    db = MasterDatabase(out, unlock=True)  # later, the DJ adds a track to Friday
    db.add_to_playlist(db.get_playlist(Name="Friday").one(), db.get_content(Title="Song 4").one())
    db.commit()
    db.close()
    db.engine.dispose()
    return out


def test_with_none_chosen_the_playlist_changed_last_is_current(changed_last: Path) -> None:
    view = library_now(Settings(rekordbox_library=str(changed_last)), CurrentLibrary())
    assert view.kind == "master.db" and view.current_path == ("Sets", "Friday")
    assert view.changed_at is not None
    menu = build_menu(TrayState(library=view))
    entry = default_entry(menu)
    assert entry is not None and entry.text.startswith(
        "Match “Friday” — changed in Rekordbox ")
    assert entry.intent is not None and entry.intent.argument == "Sets/Friday"
    assert status_text(TrayState(library=view)) == (
        "Ready · 3 playlists in your Rekordbox library")


def test_the_chosen_playlist_wins_and_says_nothing_of_changes(changed_last: Path) -> None:
    view = library_now(Settings(rekordbox_library=str(changed_last),
                                default_playlist="Sets/Warm-up"), CurrentLibrary())
    assert view.current_path == ("Sets", "Warm-up") and view.changed_at is None
    assert default_entry(build_menu(TrayState(library=view))).text == "Match “Warm-up”"


def test_the_menu_says_how_long_ago() -> None:
    view = LibraryView(xml_set=True, current_path=("Sets", "Friday"), kind="master.db",
                       changed_at=time.time() - 300)
    texts = [entry.text for entry in build_menu(TrayState(library=view))]
    assert "Match “Friday” — changed in Rekordbox 5 min ago" in texts
    assert [ago(0, 30), ago(0, 7200), ago(0, 86400 * 3)] == ["just now", "2 h ago",
                                                              "3 days ago"]


@pytest.fixture
def toolkit(pystray_base: Any) -> Any:  # noqa: F811
    from types import SimpleNamespace

    return SimpleNamespace(Icon=FakeIcon, Menu=pystray_base.Menu, MenuItem=pystray_base.MenuItem)


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return resolve_paths(tmp_path / "data").create()


def names(app: TrayApp) -> list[str]:
    tree = app.state().library.tree
    assert tree is not None
    return [child.name for child in tree.children]


def test_the_tray_notices_changes_in_the_wal(paths: AppPaths, toolkit: Any,
                                             tmp_path: Path) -> None:
    plain = tmp_path / "rekordbox" / "master.db"
    plain.parent.mkdir()
    plain.write_bytes(require(REAL_PLAIN).read_bytes())
    rekordbox = sqlite3.connect(plain, isolation_level=None)
    rekordbox.execute("PRAGMA journal_mode = WAL")
    rekordbox.execute("PRAGMA wal_autocheckpoint = 0")  # changes stay in master.db-wal
    save_settings(Settings(rekordbox_library=str(plain)), paths.settings_file)
    app = TrayApp(paths, lambda: load_settings(paths.settings_file), toolkit=toolkit)
    try:
        app._refresh()
        assert names(app) == ["Trial playlist - Cloud Library Sync"]
        main_file = plain.stat().st_mtime_ns, plain.stat().st_size
        rekordbox.execute("UPDATE djmdPlaylist SET Name = 'Friday' WHERE ID = '2602250856'")
        assert (plain.stat().st_mtime_ns, plain.stat().st_size) == main_file
        app._refresh()
        assert names(app) == ["Friday"]
    finally:
        rekordbox.close()
        app.server.stop()


@pytest.fixture(scope="module")
def demo_catalog() -> Iterator[CatalogServer]:
    with CatalogServer(DEMO / "catalog.jsonl").start() as server:
        yield server


def test_a_match_from_the_tray_reads_the_master_db(paths: AppPaths, toolkit: Any,
                                                   tmp_path: Path,
                                                   demo_catalog: CatalogServer) -> None:
    db = tmp_path / "master.db"
    copy_of_xml_library(DEMO / "rekordbox.xml", db)
    settings = replace(Settings(), rekordbox_library=str(db), beatport_web_url=demo_catalog.url,
                       beatport_api_url=demo_catalog.url + "/v4", requests_per_second=200.0)
    save_settings(settings, paths.settings_file)
    app = TrayApp(paths, lambda: load_settings(paths.settings_file), toolkit=toolkit)
    try:
        app._refresh()
        current = app.state().library.current_path
        assert current is not None
        app.controller.match(["/".join(current)])
        assert app.controller.wait(120)
        last = app.controller.state().last
        assert last is not None and last.status == "completed" and last.matched > 0
    finally:
        app.server.stop()


def test_a_big_master_db_is_read_in_the_tray_process(changed_last: Path) -> None:
    """A master.db over the size where a whole-read export goes to a child process is read
    on the tray's own thread: the library the session matches from is the one read, and
    the menu gets what a fresh read gives."""
    from pyrekordbox.masterdb import MasterDatabase

    from cuepoint_tray.rekordbox.masterdb import MasterDbLibrary
    from cuepoint_tray.tray.library_reader import CHILD_FROM_BYTES, library_view

    db = MasterDatabase(changed_last, unlock=True)  # Rekordbox's own cue and waveform data
    db.engine.connect().close()
    with db.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE cuepoint_test_padding (data BLOB)")
        connection.exec_driver_sql(
            "INSERT INTO cuepoint_test_padding VALUES (randomblob(?))", (CHILD_FROM_BYTES,))
    db.close()
    db.engine.dispose()
    assert changed_last.stat().st_size > CHILD_FROM_BYTES
    settings = Settings(rekordbox_library=str(changed_last))
    tray_library = CurrentLibrary()
    view = library_view(settings, tray_library)
    assert isinstance(tray_library._library, MasterDbLibrary), "read in the tray process"
    assert view == library_now(settings, CurrentLibrary())
    assert view.kind == "master.db" and view.current_path == ("Sets", "Friday")
