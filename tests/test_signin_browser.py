"""Settings ▸ Sign in to Beatport in real Chromium, against the local catalog server with an
account (issue #12): signed out, signing in, a wrong password, signed in, resume, sign out.
Screenshots of each state go to /tmp/shots/signin-*.png to be looked at."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from test_dashboard_browser import SHOTS, Pages, browser, navigate, pages, wait_ready

from cuepoint_tray.account import account_state
from cuepoint_tray.catalog_server import CatalogServer, Faults
from cuepoint_tray.controller import SessionController
from cuepoint_tray.dashboard import DashboardAPI, DashboardServer
from cuepoint_tray.paths import AppPaths, resolve_paths
from cuepoint_tray.rekordbox import read_library
from cuepoint_tray.resources import resource_folder
from cuepoint_tray.session import run_match
from cuepoint_tray.settings import Settings, load_settings, save_settings, served_from
from cuepoint_tray.store.queries import session_overview

__all__ = ["browser", "pages"]  # the fixtures, shared with the dashboard's browser tests

DEMO = resource_folder("assets", "demo")
DJ, PASSWORD = "dj-anna", "Pw-3b8d0e5a-only-here"
TOKEN = "sign-in-browser-token"


class Dashboard:
    def __init__(self, paths: AppPaths, server: DashboardServer, catalog: CatalogServer,
                 controller: SessionController):
        self.paths = paths
        self.server = server
        self.catalog = catalog
        self.controller = controller

    def url(self, page: str) -> str:
        return f"{self.server.url}/#/{page}?token={TOKEN}"


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[Dashboard]:
    """A dashboard that runs sessions against a catalog server serving today's website,
    with one session already paused by it."""
    paths = resolve_paths(tmp_path / "data").create()
    with CatalogServer(DEMO / "catalog.jsonl", accounts={DJ: PASSWORD},
                       faults=Faults(today_search_pages=True)).start() as catalog:
        settings = Settings(**served_from(catalog.url),  # type: ignore[arg-type]
                            rekordbox_library=str(DEMO / "rekordbox.xml"),
                            default_playlist="Crate Digging", requests_per_second=500.0)
        save_settings(settings, paths.settings_file)
        library = read_library(DEMO / "rekordbox.xml")
        paused = run_match(library, [library.find_playlist("Crate Digging")], settings, paths)
        assert paused.ended.status == "paused"
        controller = SessionController(paths, lambda: load_settings(paths.settings_file))
        with DashboardServer(DashboardAPI(paths, controller), token=TOKEN) as server:
            yield Dashboard(paths, server, catalog, controller)
            controller.shut_down()


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"signin-{name}.png"), full_page=False)


def test_sign_in_from_settings_then_resume_and_sign_out(pages: Pages,
                                                        dashboard: Dashboard) -> None:
    pages.allowed.append("status of 400")  # the wrong password's answer, provoked below
    page = pages.open(dashboard.url("settings"))
    section = page.locator("#beatport-account")
    expect(section.get_by_role("heading", name="Sign in to Beatport")).to_be_visible()
    expect(page.locator("#beatport-why")).to_contain_text("never kept")
    expect(page.locator("[data-secret-state='beatport_token']")).to_have_text("not set")
    shoot(page, "signed-out")

    page.click("#beatport-sign-in")  # nothing typed: said on the page, nothing sent
    expect(page.locator("#beatport-banner")).to_contain_text("Enter both your Beatport username")
    assert dashboard.catalog.stats()["auth"] == 0

    page.fill("#beatport-username", DJ)
    page.fill("#beatport-password", "not-" + PASSWORD)
    page.click("#beatport-sign-in")
    expect(page.locator("#beatport-banner .message.error")).to_have_text(
        "Beatport did not accept that username and password: check them (they are the ones "
        "you use on beatport.com) and try again.")
    expect(page.locator("#beatport-password")).to_have_value("")
    expect(page.locator("#beatport-password")).to_be_focused()
    shoot(page, "wrong-password")

    dashboard.catalog.faults = Faults(today_search_pages=True, latency_ms=700)
    page.fill("#beatport-password", PASSWORD)
    page.click("#beatport-sign-in")
    expect(page.locator("#beatport-sign-in")).to_have_text("Signing in…")
    expect(page.locator("#beatport-sign-in")).to_be_disabled()
    expect(page.locator("#beatport-sign-in-form")).to_have_attribute("aria-busy", "true")
    shoot(page, "signing-in")
    expect(page.locator("#beatport-account-name")).to_have_text(DJ, timeout=20_000)
    dashboard.catalog.faults = Faults(today_search_pages=True)
    expect(page.locator("#beatport-banner")).to_contain_text(f"Signed in to Beatport as {DJ}.")
    expect(page.locator("[data-secret-state='beatport_token']")).to_have_text("set")
    expect(page.locator("#beatport-paused")).to_contain_text("is paused")
    shoot(page, "signed-in")
    stored = load_settings(dashboard.paths.settings_file)
    assert account_state(stored).signed_in and stored.beatport_account == DJ
    assert PASSWORD not in page.content()

    page.reload()
    wait_ready(page)
    expect(page.locator("#beatport-account-name")).to_have_text(DJ)
    navigate(page, lambda: page.click("#beatport-resume"))
    assert dashboard.controller.wait(60)
    assert session_overview(dashboard.paths.database, 1)["status"] == "completed"

    navigate(page, "#/settings")
    page.click("#beatport-sign-out")
    expect(page.locator("#beatport-banner")).to_contain_text("Signed out of Beatport.")
    expect(page.locator("#beatport-sign-in-form")).to_be_visible()
    expect(page.locator("[data-secret-state='beatport_token']")).to_have_text("not set")
    assert not account_state(load_settings(dashboard.paths.settings_file)).has_api_access
    for path in dashboard.paths.data_dir.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), f"the password is in {path}"


def test_the_sign_in_section_in_the_dark_and_on_a_small_window(pages: Pages,
                                                               dashboard: Dashboard) -> None:
    page = pages.open(dashboard.url("settings"), width=900, height=600, scheme="dark")
    expect(page.locator("#beatport-sign-in-form")).to_be_visible()
    shoot(page, "signed-out-900-dark")
    page.fill("#beatport-username", DJ)
    page.fill("#beatport-password", PASSWORD)
    page.click("#beatport-sign-in")
    expect(page.locator("#beatport-account-name")).to_have_text(DJ, timeout=20_000)
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    shoot(page, "signed-in-900-dark")
