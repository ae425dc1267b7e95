"""The real tray app on a virtual desktop when its files are broken: it still shows its icon,
and says what is wrong (the menu's status line, a notification), never exits silently.

Uses test_tray_gui's virtual desktop (Xvfb, session bus, dunst, trayer) and its `Tray` driver.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from display_stack import DisplayStack, wait_until
from test_tray_gui import DEMO, Tray, catalog, desktop  # noqa: F401  (fixtures)

from cuepoint_tray.catalog_server import CatalogServer

pytestmark = pytest.mark.slow


@pytest.fixture
def tray(desktop: DisplayStack, catalog: CatalogServer,  # noqa: F811
         tmp_path: Path) -> Iterator[Tray]:
    app = Tray(desktop, tmp_path / "data", catalog)
    yield app
    app.stop()
    print("--- app log", app.log(), "--- app output", sep="\n")
    print((app.data_dir / "app.out").read_text(errors="replace")[-3000:])
    wait_until(lambda: desktop.tray_icon() is None, 10, "the icon to leave the tray")


def test_a_damaged_history_is_set_aside_and_the_tray_starts(tray: Tray) -> None:
    tray.write_settings(rekordbox_library=str(DEMO / "rekordbox.xml"),
                        default_playlist="Demo/Friday Warm-up")
    (tray.data_dir / "history.sqlite3").write_bytes(os.urandom(50_000))

    tray.start()

    assert wait_until(lambda: tray.entry("Match"), 20, "the menu") is not None
    aside = wait_until(lambda: sorted(tray.data_dir.glob("history.damaged-*.sqlite3")), 20,
                       "the damaged history to be set aside")
    notice = wait_until(lambda: "history repaired" in tray.desktop.notifications()
                        and tray.desktop.notifications(), 20, "the notification")
    assert aside[0].name in notice
    assert tray.process is not None and tray.process.poll() is None
    tray.desktop.screenshot("harden-damaged-history")


def test_a_broken_settings_file_shows_the_icon_with_the_error_in_the_menu(tray: Tray) -> None:
    settings = tray.data_dir / "config" / "settings.toml"
    settings.parent.mkdir(parents=True)
    settings.write_text('rekordbox_xml = "/music/rekordbox.xml"\nconcurrency = = 4\n',
                        encoding="utf-8")

    tray.start()

    status = wait_until(lambda: next((e["text"] for e in tray.menu()
                                      if "settings file is damaged" in e["text"]
                                      and "line 2" in e["text"]), None),
                        20, "the settings error in the menu")
    assert "line 2" in status
    assert tray.process is not None and tray.process.poll() is None
    tray.open_menu()
    tray.desktop.screenshot("harden-broken-settings")
    tray.close_menu()
