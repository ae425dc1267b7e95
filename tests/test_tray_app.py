"""The tray app without a display: pystray's own Menu/MenuItem with a stand-in icon, the real
controller, dashboard server and history, and the demo catalog served locally."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from cuepoint_tray.catalog_server import CatalogServer, Faults
from cuepoint_tray.errors import CuepointError
from cuepoint_tray.paths import AppPaths, resolve_paths
from cuepoint_tray.rekordbox.current import NO_XML_MESSAGE, CurrentLibrary
from cuepoint_tray.resources import resource_folder
from cuepoint_tray.settings import Settings, load_settings, save_settings, with_values
from cuepoint_tray.startup import command_line_settings, settings_reader
from cuepoint_tray.store.queries import list_sessions
from cuepoint_tray.tray.app import TrayApp, choose_backend
from cuepoint_tray.tray.intents import Intent
from cuepoint_tray.tray.menu import MenuEntry
from cuepoint_tray.tray.opener import open_with_os, opener_command
from cuepoint_tray.tray.state import library_now
from cuepoint_tray.tray.window import page_of

DEMO = resource_folder("assets", "demo")
PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def pystray_base() -> Any:
    """pystray's Menu and MenuItem, importable without a display (the dummy backend)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("PYSTRAY_BACKEND", "dummy")
    from pystray import _base

    mp.undo()
    return _base


class FakeIcon:
    """Stands in for pystray.Icon: records what the app shows and says."""

    def __init__(self, name: str, icon: Any, title: str) -> None:
        self.name, self.title = name, title
        self.images = [icon]
        self.menu: Any = None
        self.visible = False
        self.notifications: list[tuple[str, str]] = []
        self._stop = threading.Event()

    @property
    def icon(self) -> Any:
        return self.images[-1]

    @icon.setter
    def icon(self, image: Any) -> None:
        self.images.append(image)

    def run(self, setup: Any) -> None:
        setup(self)
        self._stop.wait(60)

    def stop(self) -> None:
        self._stop.set()

    def notify(self, message: str, title: str) -> None:
        self.notifications.append((title, message))


@pytest.fixture
def toolkit(pystray_base: Any) -> Any:
    return SimpleNamespace(Icon=FakeIcon, Menu=pystray_base.Menu, MenuItem=pystray_base.MenuItem)


@pytest.fixture(scope="module")
def catalog() -> Iterator[CatalogServer]:
    with CatalogServer(DEMO / "catalog.jsonl").start() as server:
        yield server


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return resolve_paths(tmp_path / "data").create()


def write_settings(paths: AppPaths, catalog: CatalogServer, **values: Any) -> None:
    save_settings(with_values(Settings(), {
        "beatport_web_url": catalog.url, "beatport_api_url": catalog.url + "/v4",
        "requests_per_second": 200.0, **values}, source="test"), paths.settings_file)


def make_app(paths: AppPaths, toolkit: Any) -> TrayApp:
    return TrayApp(paths, lambda: load_settings(paths.settings_file), toolkit=toolkit)


def wait_for(check: Any, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return result


def shown_texts(app: TrayApp) -> list[str]:
    return [item.text for item in app.icon.menu.items]


def test_a_match_runs_shows_progress_notifies_and_quits(paths: AppPaths, toolkit: Any,
                                                       catalog: CatalogServer) -> None:
    write_settings(paths, catalog, rekordbox_library=str(DEMO / "rekordbox.xml"),
                   default_playlist="Crate Digging")
    app = make_app(paths, toolkit)
    runner = threading.Thread(target=app.run)
    runner.start()
    try:
        wait_for(lambda: app.icon.visible)
        assert "Match “Crate Digging”" in shown_texts(app)
        idle = app.icon.icon.tobytes()
        catalog.faults = Faults(latency_ms=100)  # long enough for the ring to be drawn
        app.post(Intent("match", "Crate Digging"))
        title, message = wait_for(lambda: app.icon.notifications)[0]
        assert title == "Matched “Crate Digging”"
        assert " of 18 matched · " in message
        wait_for(lambda: shown_texts(app)[0].startswith("Last session: "))
        assert any(image.tobytes() != idle for image in app.icon.images)  # the ring was drawn
        [session] = list_sessions(paths.database)["sessions"]
        assert (session["status"], session["done"]) == ("completed", 18)
        wait_for(lambda: any(t.startswith("Export last report") for t in shown_texts(app)))
    finally:
        catalog.faults = Faults()
        app.post(Intent("quit"))
        runner.join(30)
    assert not runner.is_alive()
    assert app.icon._stop.is_set()


def test_choosing_a_playlist_remembers_it(paths: AppPaths, toolkit: Any,
                                          catalog: CatalogServer) -> None:
    write_settings(paths, catalog, rekordbox_library=str(DEMO / "rekordbox.xml"),
                   default_playlist="Crate Digging")
    app = make_app(paths, toolkit)
    app._handle(Intent("choose_playlist", "Demo/Peak Time"))
    assert load_settings(paths.settings_file).default_playlist == "Demo/Peak Time"
    assert app.state().library.current_path == ("Demo", "Peak Time")
    assert "Match “Peak Time”" in shown_texts(app)
    app.server.stop()


def test_an_intent_that_cannot_be_done_says_why(paths: AppPaths, toolkit: Any) -> None:
    app = make_app(paths, toolkit)  # no settings: no XML
    app.post(Intent("match", "Crate Digging"))
    app._intents.put(None)
    app._take_intents()
    assert app.icon.notifications == [("Could not start matching", NO_XML_MESSAGE)]
    app.server.stop()


def test_the_adapter_posts_intents_and_keeps_the_flags(pystray_base: Any) -> None:
    from cuepoint_tray.tray.pystray_menu import to_pystray_menu

    posted: list[Intent] = []
    entries = (
        MenuEntry("Status", enabled=False),
        MenuEntry("", enabled=False, separator=True),
        MenuEntry("Match “A”", Intent("match", "A"), default=True),
        MenuEntry("Choose playlist", submenu=(
            MenuEntry("A", Intent("choose_playlist", "A"), checked=True, radio=True),)),
        MenuEntry("Pause", Intent("pause"), enabled=False),
    )
    menu = to_pystray_menu(pystray_base, entries, posted.append)
    status, separator, match, choose, pause = menu.items
    assert separator is pystray_base.Menu.SEPARATOR
    assert (status.text, status.enabled) == ("Status", False)
    assert match.default and match.checked is None
    [playlist] = choose.submenu.items
    assert (playlist.checked, playlist.radio) == (True, True)
    menu(None)  # a left click: the default entry's action
    playlist(None)
    pause(None)  # disabled: posts nothing
    assert posted == [Intent("match", "A"), Intent("choose_playlist", "A")]


def test_the_backend_is_gtk_on_linux_unless_appindicator_is_asked_for() -> None:
    assert choose_backend(env := {}, "linux") == "gtk" and env["PYSTRAY_BACKEND"] == "gtk"
    assert choose_backend({"PYSTRAY_BACKEND": "appindicator"}, "linux") == "appindicator"
    assert choose_backend(env := {"PYSTRAY_BACKEND": "xorg"}, "linux") == "gtk"
    assert env["PYSTRAY_BACKEND"] == "gtk"
    assert choose_backend(env := {}, "darwin") is None and env == {}


def test_the_beatport_url_option_is_used_but_never_saved(paths: AppPaths) -> None:
    settings = settings_reader(paths, command_line_settings("http://127.0.0.1:9/"))()
    assert settings.beatport_web_url == "http://127.0.0.1:9"
    assert settings.beatport_api_url == "http://127.0.0.1:9/v4"
    assert not paths.settings_file.exists()


def test_the_library_view_finds_the_current_playlist(tmp_path: Path) -> None:
    xml = str(DEMO / "rekordbox.xml")
    current = CurrentLibrary()
    view = library_now(Settings(rekordbox_library=xml, default_playlist="Peak Time"), current)
    assert view.current_path == ("Demo", "Peak Time") and view.tree is not None
    assert view.current_name == "Peak Time"
    gone = library_now(Settings(rekordbox_library=xml, default_playlist="Sets/Gone"), current)
    assert gone.current_path is None and "Gone" in gone.playlist_error
    assert library_now(Settings(), current).xml_set is False
    broken = tmp_path / "broken.xml"
    broken.write_text("<DJ_PLAYLISTS><COLLECTION>", encoding="utf-8")
    view = library_now(Settings(rekordbox_library=str(broken)), current)
    assert view.xml_set and view.xml_error and view.tree is None


def test_reports_open_with_the_os_opener(tmp_path: Path) -> None:
    report = tmp_path / "r.html"
    assert opener_command(report, reveal=False, platform="linux") == ["xdg-open", str(report)]
    assert opener_command(report, reveal=True, platform="linux") == ["xdg-open", str(tmp_path)]
    assert opener_command(report, reveal=True, platform="darwin") == ["open", "-R", str(report)]
    assert opener_command(report, reveal=True, platform="win32") == [
        "explorer", f"/select,{report}"]
    with pytest.raises(CuepointError, match="no longer there"):
        open_with_os(report)


def test_the_window_reports_pages_without_the_token() -> None:
    assert page_of("http://127.0.0.1:5/#/settings?token=abc") == "settings"
    assert page_of("http://127.0.0.1:5/#/session/12?token=abc") == "session/12"
    assert page_of("http://127.0.0.1:5/") == "live"


def test_the_menu_offers_sign_in_until_the_dj_signs_in(paths: AppPaths, toolkit: Any) -> None:
    from cuepoint_tray.account import log_in, log_out

    with CatalogServer(DEMO / "catalog.jsonl", accounts={"dj": "pw-tray-1"}).start() as server:
        write_settings(paths, server, rekordbox_library=str(DEMO / "rekordbox.xml"))
        app = make_app(paths, toolkit)
        app._refresh()
        assert "Sign in to Beatport…" in shown_texts(app)
        log_in(paths.settings_file, load_settings(paths.settings_file), "dj", "pw-tray-1")
        app._refresh()
        assert "Sign in to Beatport…" not in shown_texts(app)
        log_out(paths.settings_file)
        app._refresh()
        assert "Sign in to Beatport…" in shown_texts(app)
        app.server.stop()


@pytest.mark.slow
def test_a_big_library_is_read_in_the_tray_without_its_collection_or_whole_in_a_child(
        tmp_path: Path) -> None:
    """An export as Rekordbox writes it: its tree is read in the tray process (the
    collection scanned, not parsed). One that must be read whole: in a child process (the
    tray's CurrentLibrary stays empty). The menu gets what a whole read gives, errors
    included."""
    import subprocess
    import sys

    from cuepoint_tray.rekordbox.tree_first import ExportPlaylists
    from cuepoint_tray.tray.library_reader import CHILD_FROM_BYTES, library_view

    xml = tmp_path / "big.xml"
    subprocess.run([sys.executable, str(PROJECT / "scripts" / "make_big_rekordbox_xml.py"),
                    str(xml), "--tracks", "4000"], check=True, capture_output=True)
    assert xml.stat().st_size > CHILD_FROM_BYTES
    name = next(line.split('Name="')[1].split('"')[0] for line in
                xml.read_text(encoding="utf-8").splitlines()[::-1] if 'Type="1"' in line)
    settings = Settings(rekordbox_library=str(xml), default_playlist=name)
    tray_library = CurrentLibrary()
    view = library_view(settings, tray_library)
    assert isinstance(tray_library._library, ExportPlaylists), "the tree read in the tray"
    whole = library_now(settings, CurrentLibrary())
    assert view == whole
    assert view.current_name == name and view.tree is not None and not view.playlist_error

    gone = library_view(with_values(settings, {"default_playlist": "No/Such"}, source="t"),
                        tray_library)
    assert gone.current_path is None and "No/Such" in gone.playlist_error

    # A comment in the collection: a scan could misread it, so it is read whole, elsewhere.
    text = xml.read_bytes()
    xml.write_bytes(text.replace(b"<TEMPO ", b"<!-- a note --><TEMPO ", 1))
    child_library = CurrentLibrary()
    assert library_view(settings, child_library) == whole
    assert child_library._library is None, "read whole in the tray process itself"

    xml.write_bytes(text[: CHILD_FROM_BYTES + 10])  # cut short, as a bad copy is
    broken = library_view(settings, tray_library)
    assert broken.xml_set and broken.xml_error and broken.tree is None


def test_the_dashboards_picker_gets_the_tree_the_tray_read_while_it_is_current(
        paths: AppPaths, toolkit: Any, catalog: CatalogServer, tmp_path: Path) -> None:
    """The tray has read the library for its menu: the dashboard's playlist picker is given
    that tree instead of reading the library again, until the file changes (issue 14)."""
    xml = tmp_path / "rekordbox.xml"
    xml.write_bytes((DEMO / "rekordbox.xml").read_bytes())
    write_settings(paths, catalog, rekordbox_library=str(xml))
    app = make_app(paths, toolkit)
    try:
        app._refresh()
        tree = app.state().library.tree
        assert tree is not None
        known = app.server.api.known_tree(xml)
        assert known is not None and known[0] is tree and known[1] == "xml"
        listed = app.server.api.playlists()
        assert listed["error"] == "" and listed["xml"] == str(xml)
        assert [child["name"] for child in listed["tree"]["children"]] == [
            child.name for child in tree.children]

        os.utime(xml, (time.time() + 5, time.time() + 5))  # Rekordbox exported it again
        assert app.server.api.known_tree(xml) is None  # not the tree on disk any more
        assert app.server.api.playlists()["tree"] is not None  # read by the dashboard itself
        assert app.server.api.known_tree(tmp_path / "other.xml") is None
    finally:
        app.server.stop()
