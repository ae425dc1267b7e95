"""What a first load of the dashboard fetches, in Debian's Chromium.

The tray's window loads the page anew each time it opens after a while closed, so what the
first load costs is part of reopening it: index.html names every module of the page (a
modulepreload each), so they are fetched at once rather than one level of imports after
another, each once; plotly.js (3.5 MB) is fetched only by a page that draws a chart, and
Live, whose chart is below the fold of the window, shows itself before it fetches it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from dashboard_fixtures import demo_history
from playwright.sync_api import Page, expect
from test_dashboard_browser import Pages, browser, navigate, pages  # noqa: F401

from cuepoint_tray.dashboard import DashboardAPI, DashboardServer
from cuepoint_tray.paths import AppPaths, resolve_paths
from cuepoint_tray.resources import resource_folder
from cuepoint_tray.settings import Settings, save_settings

WEB = resource_folder("web")
DEMO = resource_folder("assets", "demo")
TOKEN = "first-load-token-0123456789"
IMPORT = re.compile(r'^\s*import\s[^;]*?\sfrom\s+"([^"]+)"', re.MULTILINE)


def imported_modules(start: str = "js/app.js") -> set[str]:
    """Every module `start` imports, directly or through others (paths under web/)."""
    found: set[str] = set()
    todo = [start]
    while todo:
        module = todo.pop()
        if module in found:
            continue
        found.add(module)
        folder = (WEB / module).parent
        for target in IMPORT.findall((WEB / module).read_text(encoding="utf-8")):
            todo.append((folder / target).resolve().relative_to(WEB.resolve()).as_posix())
    return found - {start}


class _Preloads(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "link" and values.get("rel") == "modulepreload":
            self.hrefs.append(values.get("href") or "")


def preloaded_modules() -> list[str]:
    parser = _Preloads()
    parser.feed((WEB / "index.html").read_text(encoding="utf-8"))
    return parser.hrefs


def test_index_preloads_every_module_the_page_imports_once() -> None:
    preloaded = preloaded_modules()
    assert len(preloaded) == len(set(preloaded)), preloaded
    assert set(preloaded) == imported_modules()


def fetched(page: Page) -> list[str]:
    """The paths the page fetched (the browser's own list, each fetch once)."""
    names = page.evaluate(
        "performance.getEntriesByType('resource').map((entry) => entry.name)")
    return [re.sub(r"^https?://[^/]+", "", name) for name in names]


def serve(paths: AppPaths) -> DashboardServer:
    return DashboardServer(DashboardAPI(paths), token=TOKEN)


@pytest.fixture(scope="module")
def with_a_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardServer]:
    paths = demo_history(tmp_path_factory.mktemp("first-load"))
    save_settings(Settings(rekordbox_library=str(DEMO / "rekordbox.xml")), paths.settings_file)
    with serve(paths) as server:
        yield server


def test_pages_without_a_chart_fetch_each_module_once_and_never_plotly(
        pages: Pages, tmp_path: Path) -> None:  # noqa: F811
    paths = resolve_paths(tmp_path / "empty").create()
    save_settings(Settings(rekordbox_library=str(DEMO / "rekordbox.xml")), paths.settings_file)
    with serve(paths) as server:
        page = pages.open(f"{server.url}/#/live?token={TOKEN}")
        expect(page.get_by_role("heading", name="No session yet")).to_be_visible()
        navigate(page, "#/settings")
        navigate(page, "#/history")
        scripts = [path for path in fetched(page) if path.endswith(".js")]
    assert sorted(scripts) == sorted(f"/{module}" for module in
                                     imported_modules() | {"js/app.js"}), scripts
    assert "/plotly.min.js" not in scripts


def test_live_is_ready_before_plotly_is_fetched_and_draws_every_point(
        pages: Pages, with_a_session: DashboardServer) -> None:  # noqa: F811
    page = pages.open(f"{with_a_session.url}/#/live?token={TOKEN}")
    chart = page.locator("#live-chart")
    expect(chart).to_have_attribute("data-chart", "drawn")
    assert chart.evaluate("(el) => el.data.reduce((sum, t) => sum + t.x.length, 0)") == 18
    ready = page.evaluate("performance.getEntriesByName('cuepoint-ready')[0].startTime")
    plotly = page.evaluate("""performance.getEntriesByType('resource')
        .find((entry) => entry.name.endsWith('/plotly.min.js')).startTime""")
    assert ready < plotly, "the page was shown without waiting for plotly.js"
    navigate(page, "#/history")  # its trend charts: plotly is there already
    assert fetched(page).count("/plotly.min.js") == 1
