"""The real tray app on the virtual desktop over Rekordbox's own library (master.db): the menu
names the playlist changed last in Rekordbox, and a click on the icon matches it.

Screenshots land in /tmp/shots/tray-masterdb-*.png."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from display_stack import wait_until
from test_tray_gui import DEMO, Tray, catalog, desktop, tray  # noqa: F401  (fixtures)

from masterdb_builder import copy_of_xml_library

pytestmark = pytest.mark.slow


def test_the_menu_offers_the_playlist_changed_last_and_a_click_matches_it(
        tray: Tray, tmp_path: Path) -> None:  # noqa: F811
    db = tmp_path / "rekordbox" / "master.db"
    copy_of_xml_library(DEMO / "rekordbox.xml", db)
    time.sleep(0.05)
    from pyrekordbox.masterdb import MasterDatabase

    rekordbox = MasterDatabase(db, unlock=True)  # the DJ renames a playlist in Rekordbox
    rekordbox.rename_playlist(rekordbox.get_playlist(Name="Crate Digging").one(), "Friday")
    rekordbox.commit()
    rekordbox.close()
    rekordbox.engine.dispose()

    tray.write_settings(rekordbox_library=str(db))
    icon = tray.start()
    match = wait_until(lambda: tray.entry("Match “Friday”"), 20, "the menu to offer Friday")
    assert match["text"].startswith("Match “Friday” — changed in Rekordbox ")
    assert match["default"]
    assert tray.entry("Ready · ")["text"].endswith("in your Rekordbox library")
    tray.open_menu()
    tray.desktop.screenshot("masterdb-menu")
    tray.close_menu()

    tray.desktop.click(icon, button=1)
    [session] = wait_until(lambda: [s for s in tray.sessions() if s["status"] == "completed"],
                           60, "the session to complete")
    assert session["tracks"] == session["done"] == 18
