"""The dashboard links only to track pages on beatport.com, in Debian's Chromium.

A real session's stored Beatport URLs are set to what hostile answers could carry; the
track dialog shows a link only for https://(www.)beatport.com/track/..., the id as text
otherwise.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from dashboard_fixtures import demo_history
from playwright.sync_api import expect
from test_dashboard_browser import Pages, browser, open_track, pages  # noqa: F401
from test_store_builders import set_beatport_url

from cuepoint_tray.dashboard import DashboardAPI, DashboardServer

TOKEN = "links-token-0123456789"
URLS = {
    "https://www.beatport.com/track/solstice/123": True,
    "https://beatport.com/track/solstice/123": True,
    "https://evil.example/track/solstice/123": False,
    "https://beatport.com.evil.example/track/solstice/123": False,
    "http://www.beatport.com/track/solstice/123": False,
    "javascript:alert(1)": False,
    "https://www.beatport.com/account/logout": False,
    "https://user:pass@www.beatport.com/track/x/1": False,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DashboardServer, list[int]]]:
    paths = demo_history(tmp_path_factory.mktemp("links"))
    with sqlite3.connect(paths.database) as db:
        matched = [row[0] for row in db.execute(
            "SELECT id FROM track_results WHERE status = 'matched' ORDER BY position")]
        assert len(matched) >= len(URLS)
        for track_id, url in zip(matched, URLS, strict=False):
            set_beatport_url(db, track_id, url, candidates=True)
    with DashboardServer(DashboardAPI(paths), token=TOKEN) as running:
        yield running, matched[:len(URLS)]


def test_only_beatport_track_pages_are_linked(pages: Pages,  # noqa: F811
                                              server: tuple[DashboardServer, list[int]]) -> None:
    dashboard, tracks = server
    page = pages.open(f"{dashboard.url}/#/session/1?token={TOKEN}")
    for track_id, (url, linked) in zip(tracks, URLS.items(), strict=True):
        dialog = open_track(page, track_id)
        links = dialog.locator("a[target=_blank]")
        if linked:  # the track's page, and each candidate's (issue 14)
            expect(links.first).to_be_visible()
            hrefs = links.evaluate_all("(all) => all.map((a) => a.getAttribute('href'))")
            assert set(hrefs) == {url}
        else:
            expect(links).to_have_count(0)
        page.keyboard.press("Escape")
        expect(dialog).not_to_be_visible()
    if Path("/tmp/shots-harden").exists():
        page.screenshot(path="/tmp/shots-harden/dashboard-links.png")
