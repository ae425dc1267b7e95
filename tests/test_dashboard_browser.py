"""The dashboard in a real browser: real server, real SQLite history made by real sessions.

Chromium is Debian's /usr/bin/chromium driven by Playwright (never `playwright install`).
Every page fails its test on a console error, an uncaught exception, a CSP violation or a
JavaScript dialog. The history holds names with markup, quotes and right-to-left text (see
dashboard_fixtures.py): they must show literally and never turn into elements.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal
from xml.etree import ElementTree

import pytest
from dashboard_fixtures import (
    FOLDER,
    HOSTILE_NAMES,
    HOSTILE_PLAYLIST,
    QUOTED_NAME,
    RTL_NAME,
    SCRIPT_NAME,
    WARMUP_PLAYLIST,
    Collection,
    settings_for,
    write_collection,
)

from cuepoint_tray.catalog_server import CatalogServer, Faults
from cuepoint_tray.controller import SessionController
from cuepoint_tray.dashboard import DashboardAPI, DashboardServer
from cuepoint_tray.events import Event, TrackDone
from cuepoint_tray.paths import AppPaths, resolve_paths
from cuepoint_tray.rekordbox import read_library
from cuepoint_tray.report_formats import REPORT_FORMATS
from cuepoint_tray.session import run_match
from cuepoint_tray.settings import Settings, load_settings, save_settings, with_values
from cuepoint_tray.store import HistoryWriter
from cuepoint_tray.tray.saving import WindowFiles, attach

from conftest import DEV_SET, require

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
SHOTS = Path("/tmp/shots")
TOKEN = "browser-test-token"
Scheme = Literal["light", "dark"]
SCHEMES: tuple[Scheme, ...] = ("light", "dark")

if not CHROMIUM.exists():
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium", pytrace=False)
    pytest.skip(f"{CHROMIUM} is missing", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

# --- the browser and the pages it opens ---------------------------------------------------

CSP_WATCH = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cuepointProblem(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class Pages:
    """Opens pages that record every problem; the test fails at the end if any occurred."""

    browser: Browser
    problems: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)  # console errors a test provokes itself
    contexts: list[Any] = field(default_factory=list)

    def open(self, url: str, *, width: int = 1280, height: int = 800,
             scheme: Scheme = "light") -> Page:
        context = self.browser.new_context(viewport={"width": width, "height": height},
                                           color_scheme=scheme, accept_downloads=True)
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.expose_function("__cuepointProblem", lambda text: self.problems.append(text))
        page.add_init_script(CSP_WATCH)
        page.on("console", lambda m: self._console(m.type, m.text))
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("dialog", self._dialog)
        page.goto(url)
        wait_ready(page)
        return page

    def _console(self, kind: str, text: str) -> None:
        if kind == "error" and not any(allowed in text for allowed in self.allowed):
            self.problems.append(f"console error: {text}")

    def _dialog(self, dialog: Any) -> None:
        self.problems.append(f"a {dialog.type} dialog fired: {dialog.message}")
        dialog.dismiss()

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser: Browser) -> Iterator[Pages]:
    opened = Pages(browser)
    yield opened
    opened.close()
    assert opened.problems == []


def wait_ready(page: Page) -> None:
    page.wait_for_function("() => document.body.dataset.ready === '1'")


def navigate(page: Page, action: Callable[[], Any] | str) -> None:
    """Go somewhere in the app (a hash, or a click that leads there) and wait until rendered."""
    page.evaluate("document.body.dataset.ready = '0'")
    if isinstance(action, str):
        page.evaluate("""(hash) => {
            if (location.hash === hash) window.dispatchEvent(new HashChangeEvent("hashchange"));
            else location.hash = hash;
        }""", action)
    else:
        action()
    wait_ready(page)


# --- a history of real sessions -----------------------------------------------------------

@dataclass
class History:
    paths: AppPaths
    api: DashboardAPI
    server: DashboardServer
    collection: Collection
    first: int  # the hostile playlist, against a catalog one track short
    second: int  # the hostile playlist and the warm-up, a queue, against the full catalog
    track_events: list[TrackDone]

    def url(self, page: str) -> str:
        return f"{self.server.url}/#/{page}?token={TOKEN}"

    def review_track(self, session_id: int) -> dict[str, Any]:
        tracks = self.api.tracks(session_id, status="review")["tracks"]
        return tracks[0]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    root = tmp_path_factory.mktemp("dashboard")
    collection = write_collection(root / "collection")
    paths = resolve_paths(root / "data").create()
    library = read_library(collection.xml)
    hostile = library.find_playlist(f"{FOLDER}/{HOSTILE_PLAYLIST}")
    warmup = library.find_playlist(f"{FOLDER}/{WARMUP_PLAYLIST}")
    events: list[TrackDone] = []

    def keep(event: Event) -> None:
        if isinstance(event, TrackDone):
            events.append(event)

    with CatalogServer(collection.partial_catalog).start() as partial, \
            CatalogServer(collection.full_catalog).start() as full:
        first = run_match(library, [hostile], settings_for(partial.url), paths)
        second = run_match(library, [hostile, warmup], settings_for(full.url), paths,
                           listeners=[keep])
    save_settings(Settings(rekordbox_library=str(collection.xml),
                           default_playlist=f"{FOLDER}/{WARMUP_PLAYLIST}"), paths.settings_file)
    api = DashboardAPI(paths)
    with DashboardServer(api, token=TOKEN) as server:
        yield History(paths, api, server, collection, first.session_id, second.session_id,
                      events)


# --- the token ------------------------------------------------------------------------------

def test_without_a_token_the_page_says_how_to_open_it(pages: Pages, history: History) -> None:
    page = pages.open(f"{history.server.url}/#/history")
    expect(page.get_by_role("heading", name="Open the dashboard from CuePoint")).to_be_visible()
    expect(page.locator("#mainnav")).to_be_hidden()
    assert page.locator("table").count() == 0


def test_the_token_leaves_the_address_bar_and_rides_in_a_header(pages: Pages,
                                                               history: History) -> None:
    sent: list[str | None] = []
    page = pages.open(history.url("history"))
    page.on("request", lambda request: sent.append(request.headers.get("authorization"))
            if "/api/" in request.url else None)
    assert "token" not in page.url
    assert page.evaluate("sessionStorage.getItem('cuepoint.token')") == TOKEN
    navigate(page, "#/session/1")
    assert sent and set(sent) == {f"Bearer {TOKEN}"}
    assert "token" not in page.url


# --- history ----------------------------------------------------------------------------

def session_ids_shown(page: Page) -> list[int]:
    return [int(x) for x in page.locator("#sessions tbody tr[data-session]").evaluate_all(
        "(rows) => rows.map((row) => row.dataset.session)")]


def test_history_lists_sorts_filters_and_pages_sessions(pages: Pages, history: History) -> None:
    page = pages.open(history.url("history"))
    listed = history.api.sessions()
    assert session_ids_shown(page) == [s["id"] for s in listed["sessions"]]
    row = page.locator(f"#sessions tr[data-session='{history.second}']")
    second = next(s for s in listed["sessions"] if s["id"] == history.second)
    expect(row).to_contain_text(f"{second['match_rate'] * 100:.1f}%")
    expect(row).to_contain_text(WARMUP_PLAYLIST)

    for order in ("-tracks", "tracks"):  # one click sorts descending, the next ascending
        navigate(page, lambda: page.locator("button.sort[data-sort='tracks']").click())
        expected = history.api.sessions(order_by=order)["sessions"]
        assert session_ids_shown(page) == [s["id"] for s in expected]
        assert f"order={order}" in page.url
    header = page.locator("th", has=page.locator("button[data-sort='tracks']"))
    expect(header).to_have_attribute("aria-sort", "ascending")

    navigate(page, lambda: page.fill("#session-search", WARMUP_PLAYLIST))
    assert session_ids_shown(page) == [s["id"] for s in
                                       history.api.sessions(search=WARMUP_PLAYLIST)["sessions"]]
    navigate(page, lambda: page.fill("#session-search", ""))
    navigate(page, lambda: page.select_option("#status-filter", "cancelled"))
    expect(page.locator("#sessions")).to_contain_text("No session matches these filters.")
    navigate(page, lambda: page.select_option("#status-filter", "completed"))
    assert len(session_ids_shown(page)) == history.api.sessions(status="completed")["total"]

    navigate(page, "#/history?limit=1")
    total = history.api.sessions()["total"]
    expect(page.locator("#page-figures")).to_have_text(f"1–1 of {total} sessions")
    newest_first = [s["id"] for s in history.api.sessions()["sessions"]]
    assert session_ids_shown(page) == newest_first[:1]
    navigate(page, lambda: page.get_by_role("button", name="Next →").click())
    assert session_ids_shown(page) == newest_first[1:2]
    expect(page.get_by_role("button", name="Next →")).to_be_disabled()


def test_history_rows_open_with_a_click_or_enter(pages: Pages, history: History) -> None:
    page = pages.open(history.url("history"))
    row = page.locator(f"#sessions tr[data-session='{history.first}']")
    row.focus()
    navigate(page, lambda: page.keyboard.press("Enter"))
    assert page.url.endswith(f"#/session/{history.first}")
    expect(page.locator("h1")).to_have_text(f"Session {history.first}")
    navigate(page, lambda: page.go_back())
    navigate(page, lambda: page.locator(
        f"#sessions tr[data-session='{history.second}'] td.name").click())
    expect(page.locator("h1")).to_have_text(f"Session {history.second}")


def test_history_trend_charts_have_a_point_per_session(pages: Pages, history: History) -> None:
    page = pages.open(history.url("history"))
    trends = history.api.trends()
    for key in ("match_rate", "ms_per_track", "requests_per_track", "cache_hit_rate"):
        chart = page.locator(f"[data-trend='{key}']")
        expect(chart.locator(".main-svg").first).to_be_visible()
        ys = chart.evaluate("(el) => el.data[0].y")
        expected = [t[key] / 1000 if key == "ms_per_track" else t[key] for t in trends]
        assert ys == pytest.approx(expected)


def test_selected_sessions_are_compared(pages: Pages, history: History) -> None:
    page = pages.open(history.url("history"))
    compare = page.locator("#compare-selected")
    expect(compare).to_be_disabled()
    for session_id in (history.first, history.second):
        page.get_by_label(f"Select session {session_id} to compare").check()
    expect(compare).to_have_text("Compare 2 sessions")
    navigate(page, compare.click)
    assert "#/compare?ids=" in page.url

    expected = history.api.compare([history.first, history.second])
    matched = next(m for m in expected["metrics"] if m["name"] == "matched")["values"]
    row = page.locator("tr[data-metric='matched']")
    expect(row).to_contain_text(str(matched[0]))
    expect(row).to_contain_text(f"+{matched[1] - matched[0]}")
    # Different playlists (the second adds the warm-up): counts differ in size, which is
    # neither better nor worse, and the page says why it does not judge them (issue 14).
    expect(page.locator("#different-playlists")).to_contain_text("different playlists")
    expect(row.locator(".delta")).to_have_class(re.compile(r"\bsame\b"))
    for name in ("to_review", "decided", "will_change"):
        values = next(m for m in expected["metrics"] if m["name"] == name)["values"]
        expect(page.locator(f"tr[data-metric='{name}'] td").first).to_have_text(str(values[0]))
    changes = expected["differences"][0]["changes"]
    assert changes == {"matched_in_b_only": 1, "only_in_b": 4}
    panel = page.locator(f"[data-differences='{history.second}']")
    expect(panel.locator("span[data-change='matched_in_b_only']")).to_have_text(
        f"Matched in {history.second} only: 1")
    expect(panel.locator("tbody tr[data-change]")).to_have_count(5)
    late = panel.locator("tbody tr[data-change='matched_in_b_only']")
    expect(late).to_contain_text("Glass Tide")
    expect(late).to_contain_text("Unmatched")
    panel.locator("select").select_option("only_in_b")
    expect(panel.locator("tbody tr[data-change]")).to_have_count(4)


# --- one session, its tracks and the review ---------------------------------------------

def test_session_page_shows_the_sessions_figures(pages: Pages, history: History) -> None:
    page = pages.open(history.url(f"session/{history.second}"))
    data = history.api.session(history.second)
    overview = data["overview"]
    cards = page.locator("#session-cards")
    expect(cards.locator("[data-card='matched'] .value")).to_have_text(str(overview["matched"]))
    expect(cards.locator("[data-card='matched'] .note")).to_have_text(
        f"{overview['match_rate'] * 100:.1f}%")
    # The review's figures on top: what needs the DJ now (decided tracks left out), what
    # will change in the library; the run's figures below, with the performance.
    expect(cards.locator("[data-card='review'] .value")).to_have_text(str(overview["to_review"]))
    expect(cards.locator("[data-card='will-change'] .value")).to_have_text(
        str(overview["will_change"]))
    performance = page.locator("#performance-cards")
    expect(performance.locator("[data-card='requests'] .value")).to_have_text(
        str(overview["requests"]))
    order = page.locator("#session-cards, #to-decide, #changes, #all-tracks, #performance")
    assert order.evaluate_all("(all) => all.map((el) => el.id)") == [
        "session-cards", "to-decide", "changes", "all-tracks", "performance"]
    types = [row["type"] for row in data["query_stats"]]
    shown = page.locator("#query-performance tbody tr").evaluate_all(
        "(rows) => rows.map((row) => row.dataset.type)")
    assert shown == types
    bars = page.locator("#query-chart").evaluate("(el) => el.data.map((trace) => trace.y)")
    assert bars[0] == pytest.approx([row["avg_ms"] / 1000 for row in data["query_stats"]])
    expect(page.locator("#slowest tbody tr")).to_have_count(len(data["slowest"]))
    expect(page.locator("#tips")).to_be_visible()
    expect(page.locator("#track-count")).to_have_text(f"{overview['done']} tracks")


def test_session_tracks_filter_and_search(pages: Pages, history: History) -> None:
    page = pages.open(history.url(f"session/{history.second}"))
    rows = page.locator("#tracks tbody tr[data-track]")
    expect(rows).to_have_count(history.api.tracks(history.second)["total"])
    navigate(page, lambda: page.select_option("#filter-status", "unmatched"))
    expect(rows).to_have_count(history.api.tracks(history.second, status="unmatched")["total"])
    expect(rows.first).to_contain_text("Nowhere To Be Found")
    navigate(page, lambda: page.select_option("#filter-status", ""))
    navigate(page, lambda: page.fill("#track-search", "Copper"))
    expect(rows).to_have_count(history.api.tracks(history.second, search="Copper")["total"])
    assert "search=Copper" in page.url
    page.reload()
    wait_ready(page)
    expect(page.locator("#track-search")).to_have_value("Copper")
    expect(rows).to_have_count(2)


def open_track(page: Page, track_id: int) -> Any:
    page.locator(f"#tracks tr[data-track='{track_id}']").click()
    dialog = page.locator("#track-dialog")
    expect(dialog).to_have_attribute("data-ready", "1")
    return dialog


def test_a_track_shows_candidates_scores_and_queries(pages: Pages, history: History) -> None:
    track = history.review_track(history.second)
    detail = history.api.track(track["id"])
    page = pages.open(history.url(f"session/{history.second}"))
    dialog = open_track(page, track["id"])
    expect(dialog.locator("article.candidate")).to_have_count(len(detail["candidates"]))
    loser = next(c for c in detail["candidates"] if c["lost_because"])
    card = dialog.locator(f"article[data-candidate='{loser['beatport']['id']}']")
    expect(card).to_contain_text(loser["lost_because"])
    card.get_by_text("Score breakdown").click()
    first = loser["components"][0]
    expect(card.locator("tbody tr").first).to_contain_text(first["name"])
    expect(card.locator("tbody tr").first).to_contain_text(f"{first['weight']:.2f}")
    expect(card.locator("tbody tr")).to_have_count(len(loser["components"]))
    queries = dialog.locator("section", has_text="Queries (").locator("tbody tr")
    expect(queries).to_have_count(len(detail["queries"]))
    expect(queries.first).to_contain_text(detail["queries"][0]["text"])
    found = str(detail["queries"][0]["candidate_count"])  # the query's own count
    expect(queries.first.locator("td").nth(5)).to_have_text(found)
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    assert "track=" not in page.url


def test_reviews_are_stored_and_survive_a_reload(pages: Pages, history: History) -> None:
    track = history.review_track(history.first)
    page = pages.open(history.url(f"session/{history.first}"))
    dialog = open_track(page, track["id"])
    state = dialog.locator("#review-state")

    def stored() -> dict[str, Any]:
        return history.api.track(track["id"])["track"]

    dialog.locator("#review-accept").click()
    expect(state).to_have_attribute("data-state", "accepted")
    assert stored()["review_state"] == "accepted"
    page.reload()  # the open track is in the address: it comes back with its stored state
    wait_ready(page)
    dialog = page.locator("#track-dialog")
    expect(dialog.locator("#review-state")).to_have_attribute("data-state", "accepted")
    expect(dialog.locator("#review-accept")).to_have_attribute("aria-pressed", "true")

    dialog.locator("#review-reject").click()
    expect(dialog.locator("#review-state")).to_have_attribute("data-state", "rejected")
    assert stored()["review_state"] == "rejected"

    other = next(c for c in history.api.track(track["id"])["candidates"] if c["rank"] == 2)
    dialog.locator(f"article[data-candidate='{other['beatport']['id']}'] button").click()
    expect(dialog.locator("#review-state")).to_have_attribute("data-state", "changed")
    assert stored()["review_state"] == "changed"
    assert stored()["chosen_candidate_id"] == other["id"]
    assert history.api.track(track["id"])["track"]["final"]["id"] == other["beatport"]["id"]
    expect(dialog.locator(f"article[data-candidate='{other['beatport']['id']}']")).to_contain_text(
        "Your choice")

    page.keyboard.press("Escape")
    expect(page.locator(f"#tracks tr[data-track='{track['id']}'] [data-review]")).to_have_attribute(
        "data-review", "changed")
    page.reload()
    wait_ready(page)
    expect(page.locator(f"#tracks tr[data-track='{track['id']}'] [data-review]")).to_have_text(
        "Changed")
    dialog = open_track(page, track["id"])
    dialog.locator("#review-undo").click()
    expect(dialog.locator("#review-state")).to_have_attribute("data-state", "auto")
    assert stored()["review_state"] == "auto"


# --- settings -----------------------------------------------------------------------------

def test_settings_save_validate_and_keep_secrets_write_only(pages: Pages,
                                                             history: History) -> None:
    secret = "s3cr3t-beatport-token-value"
    file = history.paths.settings_file
    page = pages.open(history.url("settings"))
    expect(page.locator("#setting-rekordbox_library")).to_have_value(str(history.collection.xml))
    expect(page.locator("#xml-check")).to_contain_text("Read 2 playlists")
    expect(page.locator("[data-secret-state='beatport_token']")).to_have_text("not set")

    pages.allowed.append("400 (Bad Request)")  # the app refuses the value, as it should
    page.fill("#setting-concurrency", "0")
    page.click("#save-settings")
    expect(page.locator("#setting-concurrency-error")).to_have_text(
        "Requests at once must be at least 1.")
    expect(page.locator("#setting-concurrency")).to_have_attribute("aria-invalid", "true")
    assert load_settings(file).concurrency == Settings().concurrency  # nothing was sent

    page.fill("#setting-concurrency", "3")
    page.fill("#setting-requests_per_second", "2.5")
    page.fill("#setting-cache_expiry_days", "14")
    page.fill("#setting-query_retention_days", "90")
    page.select_option("#setting-report_format", "csv")
    page.fill("#setting-beatport_token", secret)
    page.click("#save-settings")
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    saved = tomllib.loads(file.read_text(encoding="utf-8"))
    assert saved["concurrency"] == 3 and saved["requests_per_second"] == 2.5
    assert saved["cache_expiry_days"] == 14 and saved["query_retention_days"] == 90
    assert saved["report_format"] == "csv" and saved["beatport_token"] == secret
    expect(page.locator("#setting-beatport_token")).to_have_value("")
    expect(page.locator("[data-secret-state='beatport_token']")).to_have_text("set")
    assert secret not in json.dumps(history.api.settings())

    page.reload()
    wait_ready(page)
    expect(page.locator("#setting-concurrency")).to_have_value("3")
    expect(page.locator("[data-secret-state='beatport_token']")).to_have_text("set")
    assert secret not in page.content()
    page.click("#save-settings")  # a blank secret keeps the stored one
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    assert load_settings(file).beatport_token == secret

    page.click("#clear-beatport_token")
    expect(page.locator("[data-secret-state='beatport_token']")).to_have_text("not set")
    assert load_settings(file).beatport_token == ""
    save_settings(Settings(rekordbox_library=str(history.collection.xml),
                           default_playlist=f"{FOLDER}/{WARMUP_PLAYLIST}"), file)


def test_settings_page_renders_the_apps_declarations_and_shows_its_refusals(
        pages: Pages, history: History) -> None:
    """Labels, limits and choices come from the app; a refused value shows the app's own
    sentence under its field (the Advanced part opened for it), and nothing is saved."""
    file = history.paths.settings_file
    before = file.read_bytes()
    page = pages.open(history.url("settings"), height=1900)  # the whole form, for the shot
    expect(page.locator("label[for='setting-concurrency']")).to_contain_text("Requests at once")
    expect(page.locator("#setting-concurrency")).to_have_attribute("min", "1")
    expect(page.locator("#setting-concurrency")).to_have_attribute("max", "64")
    options = page.locator("#setting-report_format option")
    expect(options).to_have_text([kind.label for kind in REPORT_FORMATS.values()])
    expect(page.locator("details.advanced")).not_to_have_attribute("open", "")

    pages.allowed.append("400 (Bad Request)")  # the app refuses the values, as it should
    advanced = page.locator("details.advanced > summary")
    advanced.click()
    page.fill("#setting-max_attempts", "0")
    advanced.click()  # closed again: the refusal must open it
    page.click("#save-settings")
    expect(page.locator("#setting-max_attempts-error")).to_have_text(
        "Tries per request must be at least 1.")
    expect(page.locator("details.advanced")).to_have_attribute("open", "")
    expect(page.locator("#setting-max_attempts")).to_be_focused()
    expect(page.get_by_text("Not saved: see the message below the setting.")).to_be_visible()
    assert file.read_bytes() == before

    page.fill("#setting-max_attempts", "5")
    page.fill("#setting-cache_expiry_days", "-2")
    page.click("#save-settings")
    expect(page.locator("#setting-cache_expiry_days-error")).to_have_text(
        "Cache expiry (days) cannot be negative.")
    expect(page.locator("#setting-max_attempts-error")).to_be_hidden()
    page.screenshot(path=_shot("settings-refused.png"))
    assert file.read_bytes() == before


def _shot(name: str) -> str:
    folder = Path("/tmp/shots-settings11")
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / name)


def test_settings_explain_the_first_run(pages: Pages, tmp_path: Path) -> None:
    paths = resolve_paths(tmp_path / "fresh").create()
    with DashboardServer(DashboardAPI(paths), token=TOKEN) as server:
        page = pages.open(f"{server.url}/#/settings?token={TOKEN}")
        expect(page.locator("#first-run")).to_contain_text(
            "File > Export Collection in xml format")
        navigate(page, "#/live")
        expect(page.locator("#start-panel")).to_contain_text("only shows the history")
        expect(page.get_by_role("heading", name="No session yet")).to_be_visible()


# --- exports ------------------------------------------------------------------------------

def download(page: Page, button: str) -> tuple[str, bytes]:
    with page.expect_download() as caught:
        page.click(button)
    saved = caught.value
    return saved.suggested_filename, Path(saved.path()).read_bytes()


def test_exports_download_the_sessions_files(pages: Pages, history: History) -> None:
    session_id = history.second
    page = pages.open(history.url(f"export/{session_id}"))
    name, body = download(page, "[data-format='json']")
    assert name.endswith(".json")
    report = json.loads(body)
    assert len(report["tracks"]) == history.api.session(session_id)["overview"]["done"]
    name, body = download(page, "[data-format='csv']")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == len(report["tracks"])
    assert SCRIPT_NAME in body.decode("utf-8-sig")
    name, body = download(page, "[data-format='html']")
    assert name.endswith(".html") and b"&lt;script&gt;alert(1)" in body
    expect(page.locator("#export-status")).to_contain_text(name)

    name, body = download(page, "#download-xml")
    assert name.endswith(".xml")
    tracks = {t.get("TrackID"): t for t in ElementTree.fromstring(body).iter("TRACK")
              if t.get("TrackID")}
    assert tracks["1"].get("Name") == f"{SCRIPT_NAME} (Original Mix)"
    # Comments are left alone by default (issue 14); the empty Label gets Beatport's.
    assert "Beatport 7001" not in tracks["1"].get("Comments", "")
    assert tracks["1"].get("Label") == "Label <i>Italic</i>"
    page.check("#write-comments")  # touched when asked
    name, body = download(page, "#download-xml")
    tracks = {t.get("TrackID"): t for t in ElementTree.fromstring(body).iter("TRACK")
              if t.get("TrackID")}
    assert "Beatport 7001" in tracks["1"].get("Comments", "")
    page.uncheck("#field-label")  # fields not chosen are not written
    expect(page.locator("#export-effect")).to_contain_text("This writes")
    name, body = download(page, "#download-xml")
    tracks = {t.get("TrackID"): t for t in ElementTree.fromstring(body).iter("TRACK")
              if t.get("TrackID")}
    assert tracks["1"].get("Label", "") == ""
    name, body = download(page, "#download-changes")
    changes = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert {row["track_id"] for row in changes} >= {"1", "2", "3"}


# --- names that are markup ----------------------------------------------------------------

def assert_shown_literally(page: Page, names: tuple[str, ...] = HOSTILE_NAMES) -> None:
    """The names are on the page as text, and none became an element."""
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("main b, dialog b").count() == 0
    assert page.locator("script:not([src])").count() == 0
    sources = page.locator("script").evaluate_all("(all) => all.map((s) => s.getAttribute('src'))")
    assert set(sources) <= {"js/app.js", "/plotly.min.js"}
    assert page.evaluate("typeof window.alert") == "function"
    text = page.locator("body").inner_text()
    for name in names:
        assert name.replace("\u202e", "").replace("\u202c", "") in text.replace(
            "\u202e", "").replace("\u202c", ""), name


def plotly_hover_text(page: Page, selector: str, trace: int, point: int) -> str:
    """What plotly's hover label shows for one point (plotly throttles hovers: wait a bit)."""
    page.wait_for_timeout(100)
    page.evaluate("""([selector, trace, point]) => Plotly.Fx.hover(
        document.querySelector(selector), [{curveNumber: trace, pointNumber: point}])""",
                  [selector, trace, point])
    page.wait_for_timeout(100)
    return str(page.locator(f"{selector} .hoverlayer").text_content())


def test_hostile_names_show_literally_everywhere(pages: Pages, history: History) -> None:
    page = pages.open(history.url(f"session/{history.second}"))
    assert_shown_literally(page)
    for name in HOSTILE_NAMES[:3]:
        expect(page.locator("#tracks").get_by_text(f"{name} (Original Mix)").first).to_be_visible()
    cell = page.locator("#tracks td.name span", has_text=RTL_NAME).first
    expect(cell).to_have_attribute("dir", "auto")
    # isolated: the override inside the name cannot reorder the text around it
    assert cell.evaluate("(el) => getComputedStyle(el).unicodeBidi") == "isolate"
    expect(page.locator(".page-head .sub").first).to_contain_text(HOSTILE_PLAYLIST)

    script_track = next(t for t in history.api.tracks(history.second)["tracks"]
                        if t["rekordbox"]["name"].startswith(SCRIPT_NAME))
    dialog = open_track(page, script_track["id"])
    expect(dialog.locator("h2")).to_have_text(f"Evil DJ – {SCRIPT_NAME} (Original Mix)")
    expect(dialog.locator("article.candidate").first).to_contain_text(SCRIPT_NAME)
    expect(dialog).to_contain_text("Label <i>Italic</i>")
    assert dialog.locator("i").count() == 0
    page.keyboard.press("Escape")

    navigate(page, "#/history")
    expect(page.locator("#sessions")).to_contain_text(HOSTILE_PLAYLIST)
    assert_shown_literally(page, (HOSTILE_PLAYLIST,))
    navigate(page, f"#/compare?ids={history.first},{history.second}")
    assert_shown_literally(page, (HOSTILE_PLAYLIST, "Glass Tide"))

    navigate(page, "#/live")  # the latest session: its chart's hover text holds the names
    assert_shown_literally(page, ())
    last = history.api.live()["session"]["new_tracks"][-12:]  # the list shows the last 12
    hostile = [t["rekordbox"]["name"] for t in last
               if t["rekordbox"]["name"].startswith(HOSTILE_NAMES)]
    assert hostile
    recent = page.locator("#recent-tracks")
    for name in hostile:
        expect(recent).to_contain_text(name)
    traces = live_chart(page).evaluate("(el) => el.data.map((t) => t.text)")
    trace, point = next((i, j) for i, texts in enumerate(traces) for j, text in enumerate(texts)
                        if "script" in text)
    hover = plotly_hover_text(page, "#live-chart", trace, point)
    assert SCRIPT_NAME in hover
    trace, point = next((i, j) for i, texts in enumerate(traces) for j, text in enumerate(texts)
                        if "quoted" in text)
    hover = plotly_hover_text(page, "#live-chart", trace, point)
    assert QUOTED_NAME in hover
    assert page.locator("#live-chart .hoverlayer tspan[style*='bold']").count() == 0


# --- live ---------------------------------------------------------------------------------

@dataclass
class Live:
    paths: AppPaths
    api: DashboardAPI
    server: DashboardServer
    controller: SessionController
    catalog: CatalogServer

    def url(self, page: str = "live") -> str:
        return f"{self.server.url}/#/{page}?token={TOKEN}"


@pytest.fixture
def live(tmp_path: Path, catalog_server: CatalogServer) -> Iterator[Live]:
    """A dashboard able to run sessions: the dev set's XML, a catalog answering slowly."""
    paths = resolve_paths(tmp_path / "live").create()
    save_settings(Settings(rekordbox_library=str(require(DEV_SET / "rekordbox.xml")),
                           default_playlist="First Half"), paths.settings_file)
    catalog_server.faults = Faults(latency_ms=120)

    def settings() -> Settings:
        return replace(load_settings(paths.settings_file), beatport_web_url=catalog_server.url,
                       beatport_api_url=catalog_server.url + "/v4", requests_per_second=200.0,
                       concurrency=2, max_attempts=2)

    controller = SessionController(paths, settings)
    api = DashboardAPI(paths, controller)
    with DashboardServer(api, token=TOKEN) as server:
        yield Live(paths, api, server, controller, catalog_server)
        controller.cancel()
        controller.wait(30)


HIDE = """hidden => {
  // What the browser reports when the window is closed to the tray or minimised.
  Object.defineProperty(document, "hidden", {value: hidden, configurable: true});
  Object.defineProperty(document, "visibilityState",
    {value: hidden ? "hidden" : "visible", configurable: true});
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def test_live_polls_often_only_while_a_session_runs_and_never_while_hidden(
        pages: Pages, live: Live) -> None:
    page = pages.open(live.url())
    polls: list[float] = []
    page.on("request", lambda r: "/api/live?" in r.url and polls.append(time.monotonic()))

    def polls_during(seconds: float) -> int:
        before = len(polls)
        page.wait_for_timeout(seconds * 1000)
        return len(polls) - before

    assert polls_during(3.0) <= 1, "nothing runs: a slow pace (a session may start)"
    page.click("#start-match")
    expect(page.locator("h1")).to_have_text("Matching now", timeout=20_000)
    assert polls_during(2.1) >= 2, "a session runs: polled every 700 ms"

    page.evaluate(HIDE, True)
    page.wait_for_timeout(800)  # a poll already in flight may still land
    assert polls_during(2.5) == 0, "hidden: not polled at all"
    hidden_at = done_shown(page)
    wait_for(lambda: live.api.live()["session"]["done"] >= hidden_at + 2,
             what="the session to go on while hidden")

    page.evaluate(HIDE, False)
    wait_for(lambda: done_shown(page) >= hidden_at + 2, what="the page to catch up when shown")
    assert polls_during(2.1) >= 2, "shown again: polled every 700 ms"


def done_shown(page: Page) -> int:
    text = page.locator(".live-progress .figures").inner_text()
    return int(text.split(" of ")[0].replace(",", ""))


def live_chart(page: Page) -> Any:
    """Live's chart, once drawn (the page draws it just after showing its data)."""
    chart = page.locator("#live-chart")
    expect(chart).to_have_attribute("data-chart", "drawn")
    return chart


def points_plotted(page: Page) -> int:
    return int(live_chart(page).evaluate(
        "(el) => el.data.reduce((sum, trace) => sum + trace.x.length, 0)"))


def wait_for(condition: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.05)


def steady(value: Callable[[], int], for_s: float, timeout: float = 8.0) -> int:
    """The value once it has stayed the same for `for_s` seconds."""
    deadline = time.monotonic() + timeout
    last, since = value(), time.monotonic()
    while time.monotonic() - since < for_s:
        if time.monotonic() > deadline:
            raise AssertionError(f"still changing after {timeout} s")
        time.sleep(0.1)
        now = value()
        if now != last:
            last, since = now, time.monotonic()
    return last


def test_a_live_session_grows_on_the_page_and_obeys_the_buttons(pages: Pages,
                                                                live: Live) -> None:
    page = pages.open(live.url())
    panel = page.locator("#start-panel")
    expect(panel.get_by_label("First Half")).to_be_checked()  # the default playlist
    panel.get_by_label("Dev Set").check()
    expect(panel.locator("ol.queue li")).to_have_text(["First Half", "Sets/Dev Set"])
    page.evaluate("window.__sameDocument = true")
    page.click("#start-match")

    # Starting reads the library and opens the session; on a busy machine that takes seconds.
    expect(page.locator("h1")).to_have_text("Matching now", timeout=20_000)
    wait_for(lambda: done_shown(page) >= 5, what="five tracks done")
    first = done_shown(page)
    wait_for(lambda: done_shown(page) >= first + 5, what="five more tracks")
    assert points_plotted(page) >= first + 5
    assert page.evaluate("window.__sameDocument") is True  # grown without a reload
    queue = page.locator(".panel", has_text="Playlists in this session").locator("tbody tr")
    expect(queue).to_have_count(2)
    expect(queue.nth(0)).to_contain_text("Running")
    expect(queue.nth(1)).to_contain_text("Waiting")
    expect(page.locator("#now-query")).to_have_text(re.compile(r"^\w+: \S"))  # in flight
    expect(page.locator("#now-track")).not_to_have_text("—")
    expect(page.locator("[data-card='tpm'] .value")).not_to_have_text("0.0")
    take_live_screenshots(page)

    expect(page.locator("button", has_text="Resume")).to_be_disabled()
    page.click("text=Pause")
    expect(page.locator(".page-head .badge")).to_have_text("Paused")
    expect(page.locator("button", has_text="Resume")).to_be_enabled()
    paused_at = steady(lambda: done_shown(page), 1.2)  # tracks in flight still finish
    assert live.api.live()["session"]["done"] == paused_at

    page.click("button:has-text('Resume')")
    wait_for(lambda: done_shown(page) >= paused_at + 3, what="progress after resuming")

    page.click("text=Cancel…")
    page.click("text=Yes, cancel the session")
    expect(page.locator(".page-head .badge")).to_have_text("Cancelled", timeout=15_000)
    session_id = live.api.live()["session"]["id"]
    assert live.api.session(session_id)["overview"]["status"] == "cancelled"
    expect(page.locator("#start-panel")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True

    navigate(page, f"#/session/{session_id}")
    page.click("#resume-session")
    expect(page.get_by_text("Resuming: follow it on the")).to_be_visible()
    wait_for(lambda: live.controller.state().phase == "running", what="the resumed session")
    navigate(page, "#/live")
    expect(page.locator(".page-head .badge")).to_have_text("Running")
    page.click("text=Cancel…")
    page.click("text=Yes, cancel the session")
    expect(page.locator(".page-head .badge")).to_have_text("Cancelled", timeout=15_000)


def test_a_change_in_the_database_shows_within_1_5_s(pages: Pages, history: History,
                                                      tmp_path: Path) -> None:
    paths = resolve_paths(tmp_path / "watched").create()
    events = history.track_events
    with HistoryWriter(paths.database, batch_seconds=0.05) as writer, \
            DashboardServer(DashboardAPI(paths), token=TOKEN) as server:
        writer.begin_session(playlists=[f"{FOLDER}/{HOSTILE_PLAYLIST}"],
                             xml_path=str(history.collection.xml), xml_sha256="",
                             provider="website", settings=Settings(), app_version="test",
                             total_tracks=len(events), playlist_tracks=[len(events)])
        page = pages.open(f"{server.url}/#/live?token={TOKEN}")
        expect(page.locator(".live-progress .figures")).to_contain_text(f"0 of {len(events)}")
        delays = []
        for number, event in enumerate(events[:3], start=1):
            name = event.result.rekordbox.name
            started = time.monotonic()
            writer(replace(event, done=number))
            expect(page.locator("#recent-tracks li").first).to_contain_text(name, timeout=5000)
            delays.append(time.monotonic() - started)
            expect(page.locator(".live-progress .figures")).to_contain_text(f"{number} of")
        assert points_plotted(page) == 3
        assert max(delays) < 1.5, delays


# --- how it looks -------------------------------------------------------------------------

SIZES = ((1280, 800), (900, 600))


def use_scheme(page: Page, scheme: Scheme) -> None:
    """Switch light/dark and wait until the charts are redrawn in its colours."""
    page.emulate_media(color_scheme=scheme)
    page.wait_for_selector(f"html[data-charts-theme='{scheme}']", state="attached")


def take_live_screenshots(page: Page) -> None:
    SHOTS.mkdir(exist_ok=True)
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        for scheme in SCHEMES:
            use_scheme(page, scheme)
            page.screenshot(path=str(SHOTS / f"live-running-{width}-{scheme}.png"), full_page=True,
                            animations="disabled")
    page.set_viewport_size({"width": 1280, "height": 800})
    use_scheme(page, "light")


def test_screenshots_of_every_page(pages: Pages, history: History) -> None:
    """Written to /tmp/shots/ for a person to look at; the test checks nothing overflows."""
    SHOTS.mkdir(exist_ok=True)
    review = history.review_track(history.second)
    routes = {"live": "live", "history": "history", "session": f"session/{history.second}",
              "track": f"session/{history.second}?track={review['id']}",
              "compare": f"compare?ids={history.first},{history.second}",
              "settings": "settings", "export": f"export/{history.second}"}
    for width, height in SIZES:
        page = pages.open(history.url("live"), width=width, height=height)
        for name, route in routes.items():
            navigate(page, f"#/{route}")
            if name == "track":
                expect(page.locator("#track-dialog")).to_have_attribute("data-ready", "1")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{name} is wider than a {width} px window"
            for scheme in SCHEMES:
                use_scheme(page, scheme)
                page.screenshot(path=str(SHOTS / f"{name}-{width}-{scheme}.png"),
                                full_page=name != "track", animations="disabled")
            use_scheme(page, "light")
            if name == "track":
                page.keyboard.press("Escape")


# --- live page: what it says while paused, after the end and after a cancel (issue 14) -----

def test_live_says_paused_forgets_the_search_after_the_end_and_resumes_a_cancel(
        pages: Pages, live: Live) -> None:
    page = pages.open(live.url())
    page.click("#start-match")
    expect(page.locator("h1")).to_have_text("Matching now", timeout=20_000)
    wait_for(lambda: done_shown(page) >= 3, what="three tracks done")
    expect(page.locator("#now-track")).to_be_visible()

    page.click("text=Pause")
    expect(page.locator(".page-head .badge")).to_have_text("Paused")
    expect(page.locator("h1")).to_have_text("Paused")  # not "Matching now"
    expect(page.locator("#now-track")).to_be_hidden()  # nothing is being searched
    assert page.locator("#live-resume-session").count() == 0  # Resume is the pause's own

    page.click("text=Cancel…")
    page.click("text=Yes, cancel the session")
    expect(page.locator(".page-head .badge")).to_have_text("Cancelled", timeout=15_000)
    session_id = live.api.live()["session"]["id"]
    expect(page.locator("h1")).to_have_text("Latest session")
    expect(page.locator("#now-track")).to_be_hidden()  # no stale "Searching <track>"
    expect(page.get_by_text("Searching", exact=True)).to_be_hidden()
    resume = page.locator("#live-resume-session")
    expect(resume).to_have_text(f"Resume session {session_id}")
    resume.click()
    wait_for(lambda: live.controller.state().phase == "running", what="the resumed session")
    expect(page.locator("h1")).to_have_text("Matching now", timeout=20_000)
    expect(page.locator("#live-resume-session")).to_have_count(0)
    expect(page.locator(".page-head .badge")).to_have_text("Running")
    assert live.controller.state().session_id == session_id

    live.controller.wait(60)  # to the end: the last track searched is no longer "searching"
    expect(page.locator(".page-head .badge")).to_have_text("Completed", timeout=15_000)
    expect(page.locator("h1")).to_have_text("Latest session")
    expect(page.locator("#now-track")).to_be_hidden()
    expect(page.locator("#now-query")).to_be_hidden()
    expect(page.locator("#live-resume-session")).to_have_count(0)


# --- settings left open, the picker, saving from the window (issue 14) ----------------------

def test_a_settings_form_left_open_keeps_the_playlist_chosen_from_the_tray(
        pages: Pages, history: History) -> None:
    file = history.paths.settings_file
    page = pages.open(history.url("settings"))
    expect(page.locator("#setting-default_playlist")).to_have_value(f"{FOLDER}/{WARMUP_PLAYLIST}")
    chosen = f"{FOLDER}/{HOSTILE_PLAYLIST}"
    # Meanwhile the DJ picks another playlist in the tray's menu, which saves it as the tray
    # does (TrayApp._choose_playlist).
    save_settings(with_values(load_settings(file), {"default_playlist": chosen},
                              source="the tray"), file)
    page.fill("#setting-concurrency", "5")
    page.click("#save-settings")
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    saved = load_settings(file)
    assert saved.concurrency == 5
    assert saved.default_playlist == chosen  # not the value the open form still showed
    expect(page.locator("#setting-default_playlist")).to_have_value(chosen)
    save_settings(Settings(rekordbox_library=str(history.collection.xml),
                           default_playlist=f"{FOLDER}/{WARMUP_PLAYLIST}"), file)


PICKER_XML = """<?xml version="1.0" encoding="UTF-8"?>
<DJ_PLAYLISTS Version="1.0.0">
  <PRODUCT Name="rekordbox" Version="6.8.5" Company="AlphaTheta"/>
  <COLLECTION Entries="1">
    <TRACK TrackID="1" Name="One" Artist="Someone" Location="file://localhost/Music/1.mp3"/>
  </COLLECTION>
  <PLAYLISTS>
    <NODE Type="0" Name="ROOT" Count="3">
      <NODE Type="0" Name="Sets" Count="1">
        <NODE Type="0" Name="Clubs" Count="1">
          <NODE Type="0" Name="Berlin" Count="2">
            <NODE Name="Café Nights" Type="1" KeyType="0" Entries="1"><TRACK Key="1"/></NODE>
            <NODE Name="Peak Time" Type="1" KeyType="0" Entries="1"><TRACK Key="1"/></NODE>
          </NODE>
        </NODE>
      </NODE>
      <NODE Type="0" Name="Löwenbräu Festival" Count="1">
        <NODE Name="Day One" Type="1" KeyType="0" Entries="1"><TRACK Key="1"/></NODE>
      </NODE>
      <NODE Name="Cafe Mornings" Type="1" KeyType="0" Entries="1"><TRACK Key="1"/></NODE>
    </NODE>
  </PLAYLISTS>
</DJ_PLAYLISTS>
"""


@pytest.fixture
def picker(tmp_path: Path) -> Iterator[str]:
    """A dashboard able to start sessions over a library with nested, accented folders."""
    xml = tmp_path / "picker.xml"
    xml.write_text(PICKER_XML, encoding="utf-8")
    paths = resolve_paths(tmp_path / "picker").create()
    save_settings(Settings(rekordbox_library=str(xml)), paths.settings_file)
    controller = SessionController(paths, lambda: load_settings(paths.settings_file))
    with DashboardServer(DashboardAPI(paths, controller), token=TOKEN) as server:
        yield f"{server.url}/#/live?token={TOKEN}"


def visible_playlists(page: Page) -> list[str]:
    return page.locator("#start-panel li[data-name]:visible label span[dir]").all_inner_texts()


def test_the_picker_finds_folders_unaccented_names_and_playlists_in_closed_folders(
        pages: Pages, picker: str) -> None:
    page = pages.open(picker)
    search = page.locator("#playlist-search")
    expect(search).to_be_visible()
    berlin = page.locator("#start-panel li[data-folder='sets/clubs/berlin'] > details")
    expect(berlin).not_to_have_attribute("open", "")  # deep folders start closed
    assert "Café Nights" not in visible_playlists(page)

    search.fill("cafe")  # unaccented: finds "Café", in a closed folder, which opens
    expect(page.locator("#start-panel .tree").first).to_have_attribute("data-filter", "cafe")
    assert sorted(visible_playlists(page)) == ["Cafe Mornings", "Café Nights"]
    expect(berlin).to_have_attribute("open", "")
    expect(page.locator("#playlist-found")).to_have_text("2 playlists found")

    search.fill("Berlin")  # a folder's name finds what is in it
    assert sorted(visible_playlists(page)) == ["Café Nights", "Peak Time"]
    search.fill("lowenbrau")
    assert visible_playlists(page) == ["Day One"]
    search.fill("berlin peak")  # words from the folder and the playlist
    assert visible_playlists(page) == ["Peak Time"]
    page.locator("#start-panel").get_by_label("Peak Time").check()
    search.fill("nothing like it")
    expect(page.locator("#playlist-found")).to_have_text("No playlist or folder has that name")
    assert visible_playlists(page) == []

    search.fill("")  # the tree as it was, with the ticked playlist still in view
    expect(page.locator("#start-panel .tree").first).to_have_attribute("data-filter", "")
    assert "Peak Time" in visible_playlists(page)
    expect(berlin).to_have_attribute("open", "")  # kept open for the ticked playlist
    clubs = page.locator("#start-panel li[data-folder='sets/clubs'] > details")
    expect(clubs).to_have_attribute("open", "")
    expect(page.locator("ol.queue li")).to_have_text(["Sets/Clubs/Berlin/Peak Time"])


@dataclass
class SaveDialog:
    """pywebview's window as WindowFiles uses it: its native Save dialog answers `answer`."""

    answer: Path | None
    asked: list[str] = field(default_factory=list)

    def create_file_dialog(self, kind: int, directory: str = "", allow_multiple: bool = False,
                           save_filename: str = "", file_types: tuple[str, ...] = ()) -> Any:
        self.asked.append(save_filename)
        return None if self.answer is None else (str(self.answer / save_filename),)


def test_an_export_from_the_window_asks_where_and_says_where_it_went(
        pages: Pages, history: History, tmp_path: Path) -> None:
    files = WindowFiles(history.url("live"))
    dialog = SaveDialog(tmp_path / "chosen")
    attach(files, dialog)
    page = pages.open(history.url(f"export/{history.second}"))
    page.expose_function("__saveDownload", files.save_download)
    page.evaluate("window.pywebview = {api: {save_download: "
                  "(p, t) => window.__saveDownload(p, t)}}")

    page.click("#download-xml")
    saved = tmp_path / "chosen" / dialog.asked[-1] if dialog.asked else None
    expect(page.locator("#saved-path")).to_have_text(str(saved))
    assert dialog.asked == [f"rekordbox-cuepoint-session-{history.second}.xml"]
    assert saved is not None and saved.read_bytes().startswith(b"<?xml")
    assert ElementTree.fromstring(saved.read_bytes()).tag == "DJ_PLAYLISTS"
    assert not (Path.home() / dialog.asked[-1]).exists()

    dialog.answer = None  # the DJ cancels the dialog: nothing saved, and the page says so
    page.click("[data-format='json']")
    expect(page.locator("#export-status")).to_have_text("Not saved: you cancelled.")
    assert [p.name for p in (tmp_path / "chosen").iterdir()] == [saved.name]

    outside = files.save_download("/api/settings", TOKEN)
    assert outside == {"error": "CuePoint's window only saves a session's exports."}
    dialog.answer = tmp_path / "chosen"
    refused = files.save_download("/api/sessions/999999/report.json", TOKEN)
    assert "error" in refused and "999999" in refused["error"], refused
