"""The review loop in a real browser (issue 14): a session page that opens on what will change
in the library and what needs a decision, decisions made in the track dialog, with the keys,
in bulk and by a search of the DJ's own, each clearing "to review" everywhere at once and kept
by the next session. Real history made by real sessions against the local catalog server;
Debian's Chromium; the fixtures' hostile names must show as text.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from dashboard_fixtures import (
    FOLDER,
    HOSTILE_NAMES,
    HOSTILE_PLAYLIST,
    SCRIPT_NAME,
    WARMUP_PLAYLIST,
    Collection,
    settings_for,
    write_collection,
)
from playwright.sync_api import Page, expect
from test_dashboard_browser import (  # noqa: F401  (fixtures)
    TOKEN,
    Pages,
    assert_shown_literally,
    browser,
    live_chart,
    navigate,
    pages,
)

from cuepoint_tray.catalog_server import CatalogServer
from cuepoint_tray.controller import SessionController
from cuepoint_tray.dashboard import DashboardAPI, DashboardServer
from cuepoint_tray.paths import AppPaths, resolve_paths
from cuepoint_tray.rekordbox import read_library
from cuepoint_tray.session import run_match
from cuepoint_tray.settings import load_settings, save_settings

NIGHT_BUS = "Night Bus"  # in both playlists, with a twin in another mix: doubtful, twice


@dataclass
class Reviewed:
    paths: AppPaths
    api: DashboardAPI
    server: DashboardServer
    collection: Collection
    catalog: CatalogServer
    session: int

    def url(self, page: str) -> str:
        joined = "&" if "?" in page else "?"
        return f"{self.server.url}/#/{page}{joined}token={TOKEN}"

    def match_again(self) -> int:
        """Another session over the same library and playlists."""
        library = read_library(self.collection.xml)
        playlists = [library.find_playlist(f"{FOLDER}/{name}")
                     for name in (HOSTILE_PLAYLIST, WARMUP_PLAYLIST)]
        return run_match(library, playlists, settings_for(self.catalog.url), self.paths).session_id

    def overview(self, session: int | None = None) -> dict[str, Any]:
        return dict(self.api.session(session or self.session)["overview"])

    def doubtful(self, session: int | None = None) -> list[dict[str, Any]]:
        return list(self.api.tracks(session or self.session, needs_decision=True)["tracks"])


@pytest.fixture
def reviewed(tmp_path: Path) -> Iterator[Reviewed]:
    """A fresh history: one session of both playlists against the full catalog.

    Tests name it before `pages`, so that their pages close before its server stops: a Live
    page polling a stopped server logs a refused connection, which `pages` counts."""
    collection = write_collection(tmp_path / "collection")
    paths = resolve_paths(tmp_path / "data").create()
    with CatalogServer(collection.full_catalog).start() as catalog:
        # The dashboard's own searches go to the local catalog, as the sessions' do.
        save_settings(settings_for(catalog.url, collection.xml), paths.settings_file)
        controller = SessionController(paths, lambda: load_settings(paths.settings_file))
        reviewed = Reviewed(paths, DashboardAPI(paths, controller), None,  # type: ignore[arg-type]
                            collection, catalog, 0)
        reviewed.session = reviewed.match_again()
        with DashboardServer(reviewed.api, token=TOKEN) as server:
            reviewed.server = server
            yield reviewed


def to_decide_rows(page: Page) -> Any:
    return page.locator("#to-decide tbody tr[data-track]")


def open_from(page: Page, selector: str) -> Any:
    page.locator(selector).first.click()
    dialog = page.locator("#track-dialog")
    expect(dialog).to_have_attribute("data-ready", "1")
    return dialog


def test_the_session_page_opens_on_what_changes_and_what_needs_a_decision(
        reviewed: Reviewed, pages: Pages) -> None:  # noqa: F811
    page = pages.open(reviewed.url(f"session/{reviewed.session}"))
    overview = reviewed.overview()
    assert overview["to_review"] == 2 and overview["will_change"] > 0
    top = page.locator("#session-cards").bounding_box()
    performance = page.locator("#performance").bounding_box()
    assert top and performance and top["y"] < 400 < performance["y"]  # review first
    expect(page.locator("#session-cards [data-card='review'] .value")).to_have_text("2")
    expect(page.locator("#session-cards [data-card='will-change'] .value")).to_have_text(
        str(overview["will_change"]))

    # The doubtful tracks, each with its proposal, key, BPM and how sure in the row.
    rows = to_decide_rows(page)
    expect(rows).to_have_count(2)
    first = rows.first
    proposal = reviewed.doubtful()[0]["proposal"]
    expect(first.locator("td").nth(2)).to_contain_text(
        f"{proposal['title']} ({proposal['mix_name']})")
    expect(first.locator("td").nth(2)).to_contain_text(", ".join(proposal["artists"]))
    expect(first.locator("td").nth(3)).to_have_text(f"Am · {proposal['bpm']:.0f}")
    expect(first.locator("td.sure .badge")).to_have_text("Doubtful")
    expect(first.locator("td.sure")).to_contain_text("almost tied with the next candidate")
    assert "lead 0." not in first.inner_text()  # the figures are no longer the words

    # What will change: old → new per field, the changed ones marked; the filter.
    changes = reviewed.api.changes(reviewed.session, only_changing=True)
    changing = page.locator("#changes tbody tr[data-track]")
    expect(changing).to_have_count(changes["total"])
    expect(page.locator("#changes-summary")).to_contain_text(
        f"{changes['tracks_changing']} tracks change, {changes['fields_changing']} fields")
    label = changing.first.locator("[data-changed='label']")
    expect(label).to_contain_text("empty → Label <i>Italic</i>")  # a label from Beatport, as text
    assert page.locator("#changes i").count() == 0
    for row in changing.all():
        assert row.locator("[data-changed]").count() >= 1
    navigate(page, lambda: page.uncheck("#only-changing"))
    expect(changing).to_have_count(reviewed.api.changes(reviewed.session)["total"])
    assert "changes=all" in page.url
    expect(page.locator("#changes tbody tr", has_text="Nowhere To Be Found")
           .locator("[data-changed]")).to_have_count(0)
    navigate(page, lambda: page.check("#only-changing"))
    expect(changing).to_have_count(changes["total"])
    assert_shown_literally(page, HOSTILE_NAMES)


def test_a_decision_in_the_dialog_clears_to_review_everywhere_and_a_later_session_keeps_it(
        reviewed: Reviewed, pages: Pages) -> None:  # noqa: F811
    page = pages.open(reviewed.url("history"))
    cell = page.locator(f"#sessions tr[data-session='{reviewed.session}'] [data-to-review]")
    expect(cell).to_have_text("2")

    navigate(page, f"#/session/{reviewed.session}")
    track = reviewed.doubtful()[0]
    dialog = open_from(page, f"#to-decide tr[data-track='{track['id']}'] td.name")
    expect(dialog.locator("#review-state")).to_have_text("To review")
    fills = dialog.locator("#track-changes")  # what accepting would write, before deciding
    expect(fills.locator("h3")).to_have_text("Accepting it fills 2 empty fields in Rekordbox")
    expect(fills.locator("tr.changed")).to_have_count(2)
    expect(fills.locator("tr[data-field='label']")).to_contain_text("Label <i>Italic</i>")
    expect(dialog.locator("#track-why")).to_contain_text("almost tied with the next candidate")
    expect(dialog.locator("#track-shortcuts")).to_contain_text("A accept")
    considered = track["candidate_count"]
    kept = dialog.locator("#candidates article.candidate").count()
    heading = (f"Candidates: the best {kept} of {considered} found" if considered > kept
               else f"Candidates ({kept})")
    expect(dialog.locator("#candidates h3")).to_have_text(heading)

    dialog.locator("#review-accept").click()
    expect(dialog.locator("#review-state")).to_have_attribute("data-state", "accepted")
    expect(dialog.locator("#decision-words")).to_contain_text(
        f"Zelie Ishikawa – {NIGHT_BUS} (Original Mix) is written")
    expect(dialog.locator("#review-accept")).to_be_focused()  # focus stays where the DJ is
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    # The same Rekordbox track in the other playlist is decided too: nothing left to review.
    expect(page.locator("#session-cards [data-card='review'] .value")).to_have_text("0")
    expect(page.locator("#session-cards [data-card='decided'] .value")).to_have_text("2")
    expect(to_decide_rows(page)).to_have_count(0)
    expect(page.locator("#to-decide")).to_contain_text("Nothing waits for your decision")
    row = page.locator(f"#tracks tr[data-track='{track['id']}'] [data-review]")
    expect(row).to_have_text("Accepted")
    expect(page.locator(f"#tracks tr[data-track='{track['id']}']")).to_be_focused()
    assert reviewed.overview()["to_review"] == 0
    navigate(page, "#/history")
    expect(cell).to_have_text("0")
    navigate(page, f"#/export/{reviewed.session}")
    expect(page.locator("#review-them")).to_have_count(0)

    later = reviewed.match_again()  # the decision is the DJ's for good
    assert reviewed.overview(later)["to_review"] == 0
    navigate(page, f"#/session/{later}")
    expect(page.locator("#session-cards [data-card='review'] .value")).to_have_text("0")
    again = next(t for t in reviewed.api.tracks(later, search=NIGHT_BUS)["tracks"])
    expect(page.locator(f"#tracks tr[data-track='{again['id']}'] [data-review]")).to_have_text(
        "Accepted (earlier)")
    dialog = open_from(page, f"#tracks tr[data-track='{again['id']}'] td.name")
    expect(dialog.locator("#decision-words")).to_contain_text(
        f"(your decision from session {reviewed.session})")

    dialog.locator("#review-undo").click()  # undo: back to review, here and everywhere
    expect(dialog.locator("#review-state")).to_have_attribute("data-state", "auto")
    page.keyboard.press("Escape")
    expect(page.locator("#session-cards [data-card='review'] .value")).to_have_text("2")
    assert reviewed.overview()["to_review"] == 2


def test_the_keys_decide_walk_the_doubtful_tracks_and_search(
        reviewed: Reviewed, pages: Pages) -> None:  # noqa: F811
    page = pages.open(reviewed.url(f"session/{reviewed.session}"))
    first, second = (t["id"] for t in reviewed.doubtful())
    dialog = open_from(page, f"#to-decide tr[data-track='{first}'] td.name")
    expect(dialog.locator("#doubtful-position")).to_have_text("Doubtful track 1 of 2")
    dialog.locator("#review-state").focus()
    page.keyboard.press("j")  # next doubtful, in the same dialog
    expect(dialog.locator("#doubtful-position")).to_have_text("Doubtful track 2 of 2")
    expect(dialog).to_have_attribute("data-ready", "1")
    assert f"track={second}" in page.url
    expect(dialog.locator("#next-doubtful")).to_be_disabled()
    page.keyboard.press("k")
    expect(dialog.locator("#doubtful-position")).to_have_text("Doubtful track 1 of 2")
    assert f"track={first}" in page.url

    page.keyboard.press("r")
    expect(dialog.locator("#review-state")).to_have_attribute("data-state", "rejected")
    assert reviewed.api.track(first)["track"]["decision"]["state"] == "rejected"
    page.keyboard.press("u")
    expect(dialog.locator("#review-state")).to_have_attribute("data-state", "auto")
    assert reviewed.api.track(first)["track"]["decision"] is None

    queries = len(reviewed.api.track(first)["queries"])
    page.keyboard.press("/")  # search Beatport when no candidate fits
    search = dialog.locator("#beatport-search")
    expect(search).to_be_focused()
    page.keyboard.press("a")  # typing, not a shortcut
    expect(dialog.locator("#review-state")).to_have_attribute("data-state", "auto")
    search.fill(f"Zelie Ishikawa {NIGHT_BUS} Extended")
    search.press("Enter")
    results = dialog.locator("#search-results article.candidate")
    expect(results.first).to_be_visible()
    twin = dialog.locator("#search-results article[data-candidate='7019']")
    expect(twin).to_contain_text(f"{NIGHT_BUS} (Extended Mix)")
    assert len(reviewed.api.track(first)["queries"]) == queries + 1  # kept as a query
    twin.get_by_role("button", name="Use search result").click()
    expect(dialog.locator("#review-state")).to_have_attribute("data-state", "changed")
    decision = reviewed.api.track(first)["track"]["decision"]
    assert decision["state"] == "picked" and decision["beatport_id"] == 7019
    expect(dialog.locator("#decision-words")).to_contain_text("Your pick: Zelie Ishikawa – "
                                                              f"{NIGHT_BUS} (Extended Mix)")
    link = dialog.locator("#candidates a[data-beatport-link]")
    for href in link.evaluate_all("(all) => all.map((a) => a.getAttribute('href'))"):
        assert href.startswith(("https://www.beatport.com/track/", "https://beatport.com/track/"))
    search.fill("Evil DJ")  # Beatport's names in the results are text, never markup
    search.press("Enter")
    expect(dialog.locator("#search-results article[data-candidate='7001']")).to_contain_text(
        SCRIPT_NAME)
    assert_shown_literally(page, (SCRIPT_NAME,))
    dialog.locator("#review-state").focus()  # in the search box, Esc first clears it
    page.keyboard.press("Escape")
    expect(page.locator("#session-cards [data-card='review'] .value")).to_have_text("0")


def test_bulk_decisions_for_the_tracks_a_filter_shows_ask_first(
        reviewed: Reviewed, pages: Pages) -> None:  # noqa: F811
    page = pages.open(reviewed.url(f"session/{reviewed.session}?needs_decision=1"))
    expect(page.locator("#filter-needs-decision")).to_be_checked()
    expect(page.locator("#tracks tbody tr[data-track]")).to_have_count(2)
    bar = page.locator("[data-bulk-bar='tracks']")
    bar.locator("[data-bulk='tracks-reject']").click()
    expect(bar).to_contain_text("Reject the 2 tracks shown? Nothing will be written for them.")
    bar.get_by_role("button", name="No").click()
    assert reviewed.overview()["to_review"] == 2  # nothing happened
    bar.locator("[data-bulk='tracks-reject']").click()
    bar.locator("[data-bulk-confirm='rejected']").click()
    expect(page.locator("#session-announce")).to_contain_text("Rejected ")
    assert reviewed.overview()["to_review"] == 0
    assert {t["decision"]["state"] for t in reviewed.api.tracks(
        reviewed.session, search=NIGHT_BUS)["tracks"]} == {"rejected"}
    expect(page.locator("#tracks tbody tr[data-track]")).to_have_count(0)
    expect(page.locator("#session-cards [data-card='review'] .value")).to_have_text("0")


def test_keys_show_in_the_notation_chosen_in_settings(
        reviewed: Reviewed, pages: Pages) -> None:  # noqa: F811
    file = reviewed.paths.settings_file
    for notation, key in (("camelot", "8A"), ("open_key", "1m"), ("musical", "Am")):
        save_settings(replace(load_settings(file), key_notation=notation), file)
        page = pages.open(reviewed.url(f"session/{reviewed.session}"))
        expect(to_decide_rows(page).first.locator("td").nth(3)).to_have_text(f"{key} · 126")
        expect(page.locator("#changes tbody tr").first.locator("td").nth(2)).to_have_text(key)
        dialog = open_from(page, "#to-decide tr[data-track] td.name")
        expect(dialog.locator("#track-changes tr[data-field='key'] td").first).to_have_text(key)
        expect(dialog.locator("#candidates article.candidate .why").first).to_contain_text(
            f" · {key} · ")
        page.close()


# --- how it looks -------------------------------------------------------------------------

SHOTS = Path("/tmp/shots-reviewui14")
SIZES = ((1280, 800), (900, 600))


def test_screenshots_of_the_review_pages(reviewed: Reviewed, pages: Pages) -> None:  # noqa: F811
    """Written to /tmp/shots-reviewui14/ for a person to look at; the test checks that no
    page is wider than the window."""
    SHOTS.mkdir(exist_ok=True)
    doubtful = reviewed.doubtful()[0]["id"]
    for width, height in SIZES:
        for scheme in ("light", "dark"):
            page = pages.open(reviewed.url(f"session/{reviewed.session}"), width=width,
                              height=height, scheme=scheme)
            shoot = Shooter(page, f"{width}-{scheme}")
            shoot("session-top", full=False)  # what a DJ sees first
            shoot("session")
            dialog = open_from(page, f"#to-decide tr[data-track='{doubtful}'] td.name")
            shoot("track-to-decide", full=False)
            dialog.locator("#review-accept").click()
            expect(dialog.locator("#review-state")).to_have_attribute("data-state", "accepted")
            shoot("track-accepted", full=False)
            dialog.locator("#review-undo").click()
            expect(dialog.locator("#review-state")).to_have_attribute("data-state", "auto")
            page.keyboard.press("Escape")
            navigate(page, f"#/export/{reviewed.session}")
            expect(page.locator("#export-effect")).to_contain_text("This writes")
            shoot("export")
            navigate(page, "#/live")
            expect(page.locator("#start-panel [data-picker-ready]")).to_be_visible()
            live_chart(page)  # drawn just after the page shows: shot as a DJ sees it
            shoot("live")
            page.locator("#playlist-search").fill("warm")
            page.locator("#start-panel").scroll_into_view_if_needed()
            shoot("picker-search", full=False)


@dataclass
class Shooter:
    page: Page
    suffix: str

    def __call__(self, name: str, full: bool = True) -> None:
        overflow = self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} is wider than the window ({self.suffix})"
        self.page.screenshot(path=str(SHOTS / f"{name}-{self.suffix}.png"), full_page=full,
                             animations="disabled")
