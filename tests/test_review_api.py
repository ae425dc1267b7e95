"""The review loop's API (issue 14) over HTTP, on a real history and the real dashboard server:
decisions per Rekordbox track clear "to review" everywhere, bulk decisions, what an export
will change, manual Beatport searches through the catalog server, and export options."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from dashboard_fixtures import FOLDER, HOSTILE_PLAYLIST, settings_for, write_collection

from cuepoint_tray.catalog_server import CatalogServer
from cuepoint_tray.dashboard import DashboardAPI, DashboardServer
from cuepoint_tray.paths import AppPaths, resolve_paths
from cuepoint_tray.rekordbox import read_library
from cuepoint_tray.session import run_match
from cuepoint_tray.settings import save_settings

TOKEN = "review-token-0123456789"
NIGHT_BUS = "9"  # doubtful: a twin in another mix (dashboard_fixtures.TWIN)
NOWHERE = "10"  # not in the catalog


@dataclass
class Served:
    paths: AppPaths
    server: DashboardServer
    catalog: CatalogServer
    session_id: int
    xml: Path

    def get(self, path: str, **params: Any) -> requests.Response:
        return requests.get(self.server.url + path, params=params, timeout=20,
                            headers={"Authorization": f"Bearer {TOKEN}"})

    def post(self, path: str, body: dict[str, Any]) -> requests.Response:
        return requests.post(self.server.url + path, json=body, timeout=20,
                             headers={"Authorization": f"Bearer {TOKEN}"})

    def track(self, rb_track_id: str) -> dict[str, Any]:
        tracks = self.get(f"/api/sessions/{self.session_id}/tracks").json()["tracks"]
        return next(t for t in tracks if t["rekordbox"]["track_id"] == rb_track_id)

    def session(self) -> dict[str, Any]:
        return dict(self.get(f"/api/sessions/{self.session_id}").json()["overview"])

    def listed(self) -> dict[str, Any]:
        rows = self.get("/api/sessions").json()["sessions"]
        return next(row for row in rows if row["id"] == self.session_id)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("review")
    collection = write_collection(root / "collection")
    paths = resolve_paths(root / "data").create()
    library = read_library(collection.xml)
    playlist = library.find_playlist(f"{FOLDER}/{HOSTILE_PLAYLIST}")
    with CatalogServer(collection.full_catalog).start() as catalog:
        settings = settings_for(catalog.url, collection.xml)
        save_settings(settings, paths.settings_file)
        session_id = run_match(library, [playlist], settings, paths).session_id
        with DashboardServer(DashboardAPI(paths), token=TOKEN) as server:
            yield Served(paths, server, catalog, session_id, collection.xml)


@pytest.fixture
def fresh(served: Served) -> Iterator[Served]:
    """The served history with every decision undone after the test."""
    yield served
    tracks = served.get(f"/api/sessions/{served.session_id}/tracks").json()["tracks"]
    for track in tracks:
        if track["decision"] is not None:
            served.post(f"/api/tracks/{track['id']}/review",
                        {"state": "undo"}).raise_for_status()


def test_a_doubtful_track_needs_a_decision_and_shows_its_proposal(fresh: Served) -> None:
    session = fresh.session()
    assert session["review"] == 1 and session["to_review"] == 1 and session["decided"] == 0
    needing = fresh.get(f"/api/sessions/{fresh.session_id}/tracks", needs_decision=1).json()
    assert needing["total"] == 1
    track = needing["tracks"][0]
    assert track["rekordbox"]["track_id"] == NIGHT_BUS
    assert track["needs_decision"] is True and track["decision"] is None
    assert track["beatport"] is None and track["proposal"]["title"] == "Night Bus"
    assert [c["field"] for c in track["changes"]] == ["key", "bpm", "genre", "label", "year",
                                                      "mix"]


def test_accepting_clears_to_review_everywhere_and_undo_brings_it_back(fresh: Served) -> None:
    track = fresh.track(NIGHT_BUS)
    proposal = track["proposal"]
    answer = fresh.post(f"/api/tracks/{track['id']}/review", {"state": "accepted"})
    assert answer.status_code == 200
    decided = answer.json()
    assert decided["decision"]["state"] == "accepted"
    assert decided["decision"]["beatport_id"] == proposal["id"]
    assert decided["decision"]["earlier"] is False
    assert decided["decision"]["session_id"] == fresh.session_id
    assert decided["needs_decision"] is False and decided["final"]["id"] == proposal["id"]
    assert decided["review_state"] == "accepted"

    session, listed = fresh.session(), fresh.listed()
    live = fresh.get("/api/live", session=fresh.session_id).json()["session"]
    assert (session["to_review"], session["decided"]) == (0, 1)
    assert (listed["to_review"], listed["decided"]) == (0, 1)
    assert (live["to_review"], live["decided"]) == (0, 1)
    assert session["review"] == 1  # the app's own count stays
    assert fresh.get(f"/api/sessions/{fresh.session_id}/tracks",
                     needs_decision=1).json()["total"] == 0

    undone = fresh.post(f"/api/tracks/{track['id']}/review", {"state": "undo"}).json()
    assert undone["decision"] is None and undone["needs_decision"] is True
    assert undone["final"] is None
    assert fresh.session()["to_review"] == 1 and fresh.listed()["to_review"] == 1


def test_picking_a_candidate_or_a_track_looked_up_on_beatport(fresh: Served) -> None:
    track = fresh.track(NIGHT_BUS)
    detail = fresh.get(f"/api/tracks/{track['id']}").json()
    other = next(c["beatport"] for c in detail["candidates"]
                 if c["beatport"]["id"] != track["proposal"]["id"])
    picked = fresh.post(f"/api/tracks/{track['id']}/review",
                        {"state": "picked", "beatport_id": other["id"]}).json()
    assert picked["decision"]["state"] == "picked" and picked["final"]["id"] == other["id"]
    assert picked["chosen_candidate_id"] is not None

    # 7001 is another track's: not among this one's candidates, looked up on "Beatport".
    ids = {c["beatport"]["id"] for c in detail["candidates"]}
    assert 7001 not in ids
    requests_before = fresh.catalog.stats()["total"]
    looked_up = fresh.post(f"/api/tracks/{track['id']}/review",
                           {"state": "picked", "beatport_id": 7001}).json()
    assert looked_up["final"]["id"] == 7001 and looked_up["decision"]["beatport"]["id"] == 7001
    assert looked_up["final"]["label"] == "Label <i>Italic</i>"  # the snapshot, kept whole
    assert fresh.catalog.stats()["total"] > requests_before

    unknown = fresh.post(f"/api/tracks/{track['id']}/review",
                         {"state": "picked", "beatport_id": 999999})
    assert unknown.status_code == 409
    assert unknown.json()["error"].startswith("Beatport has no track 999999")
    assert fresh.track(NIGHT_BUS)["final"]["id"] == 7001  # the refused pick changed nothing

    # The HTML report's review queue says what the track was changed to, escaped.
    page = fresh.get(f"/api/sessions/{fresh.session_id}/report.html").text
    changed_to = page[page.index("Changed to"):][:400]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in changed_to
    assert "<script>alert(1)" not in page


@pytest.mark.parametrize("body", [{"state": "maybe"}, {"state": "picked"},
                                  {"state": "picked", "beatport_id": "x"}, {"state": 3}])
def test_bad_decisions_are_refused_in_words(served: Served, body: dict[str, Any]) -> None:
    track = served.track(NIGHT_BUS)
    answer = served.post(f"/api/tracks/{track['id']}/review", body)
    assert answer.status_code in (400, 409) and answer.json()["error"]
    assert served.track(NIGHT_BUS)["decision"] is None


def test_bulk_decisions_for_what_a_filter_shows(fresh: Served) -> None:
    tracks = fresh.get(f"/api/sessions/{fresh.session_id}/tracks").json()["tracks"]
    night, nowhere = (next(t for t in tracks if t["rekordbox"]["track_id"] == wanted)
                      for wanted in (NIGHT_BUS, NOWHERE))
    accepted = fresh.post(f"/api/sessions/{fresh.session_id}/review",
                          {"state": "accepted", "track_ids": [night["id"], nowhere["id"]]})
    assert accepted.status_code == 200
    # The unmatched track has no proposal to accept: it is skipped, not rejected.
    assert (accepted.json()["decided"], accepted.json()["skipped"]) == (1, 1)
    assert accepted.json()["session"]["to_review"] == 0
    rejected = fresh.post(f"/api/sessions/{fresh.session_id}/review",
                          {"state": "rejected", "track_ids": [night["id"], nowhere["id"]]})
    assert rejected.json()["decided"] == 2 and rejected.json()["session"]["decided"] == 2
    assert fresh.track(NIGHT_BUS)["final"] is None

    nothing = fresh.post(f"/api/tracks/{nowhere['id']}/review", {"state": "accepted"})
    assert nothing.status_code == 400 and "proposed no Beatport track" in nothing.json()["error"]

    foreign = fresh.post(f"/api/sessions/{fresh.session_id}/review",
                         {"state": "rejected", "track_ids": [night["id"], 10**9]})
    assert foreign.status_code == 404
    assert fresh.post(f"/api/sessions/{fresh.session_id}/review",
                      {"state": "picked", "track_ids": [night["id"]]}).status_code == 409
    assert fresh.post(f"/api/sessions/{fresh.session_id}/review",
                      {"state": "accepted", "track_ids": "all"}).status_code == 400


def test_changes_list_what_an_export_writes(fresh: Served) -> None:
    every = fresh.get(f"/api/sessions/{fresh.session_id}/changes").json()
    changing = fresh.get(f"/api/sessions/{fresh.session_id}/changes", only_changing=1).json()
    assert every["total"] == 10
    # The collection's tracks have no Label and no Mix: the 8 matched ones gain both.
    assert changing["total"] == fresh.session()["will_change"] == 8
    assert all(any(c["changed"] for c in row["changes"]) for row in changing["rows"])
    first = changing["rows"][0]
    label = next(c for c in first["changes"] if c["field"] == "label")
    assert (label["old"], label["new"], label["changed"]) == ("", "Label <i>Italic</i>", True)
    key = next(c for c in first["changes"] if c["field"] == "key")
    assert (key["old"], key["new"], key["changed"]) == ("Am", "Am", False)
    genre_only = fresh.get(f"/api/sessions/{fresh.session_id}/changes", only_changing=1,
                           fields="genre,key").json()
    assert genre_only["total"] == 0  # both filled in Rekordbox already
    paged = fresh.get(f"/api/sessions/{fresh.session_id}/changes", only_changing=1,
                      limit=3, offset=6).json()
    assert len(paged["rows"]) == 2 and paged["total"] == 8
    refused = fresh.get(f"/api/sessions/{fresh.session_id}/changes", fields="colour")
    assert refused.status_code == 409 and "colour" in refused.json()["error"]


def test_the_key_notation_setting_shows_keys_in_it(fresh: Served) -> None:
    described = fresh.get("/api/settings/schema").json()["settings"]
    notation = next(s for s in described if s["name"] == "key_notation")
    assert [c["value"] for c in notation["choices"]] == ["musical", "camelot", "open_key"]
    assert notation["default"] == "musical"
    saved = fresh.post("/api/settings", {"values": {"key_notation": "camelot"}})
    assert saved.status_code == 200
    try:
        key = next(c for c in fresh.track("1")["changes"] if c["field"] == "key")
        assert (key["old"], key["new"]) == ("8A", "8A")
        refused = fresh.post("/api/settings", {"values": {"key_notation": "sol-fa"}})
        assert refused.status_code == 400 and refused.json()["setting"] == "key_notation"
    finally:
        fresh.post("/api/settings", {"values": {"key_notation": "musical"}}).raise_for_status()


def test_export_options_choose_fields_mode_and_comments(fresh: Served) -> None:
    base = f"/api/sessions/{fresh.session_id}/rekordbox-changes.csv"
    default = _changes(fresh.get(base))
    assert {row["field"] for row in default} == {"Label", "Mix"}
    assert not any(row["field"] == "Comments" for row in default)
    labels = _changes(fresh.get(base, fields="label"))
    assert {row["field"] for row in labels} == {"Label"} and len(labels) == 8
    with_comments = _changes(fresh.get(base, fields="label", comments=1))
    assert {row["field"] for row in with_comments} == {"Label", "Comments"}
    # Overwrite writes over different values too: Beatport says 2021-03-01 as Rekordbox.
    overwrite = _changes(fresh.get(base, fields="year,genre,key", mode="overwrite"))
    assert overwrite == []
    xml = fresh.get(f"/api/sessions/{fresh.session_id}/rekordbox.xml", fields="label")
    assert xml.status_code == 200 and b'Label="Label &lt;i&gt;Italic&lt;/i&gt;"' in xml.content
    assert b'Mix="Original Mix"' not in xml.content
    assert fresh.get(base, mode="replace").status_code == 409
    assert fresh.get(base, comments="maybe").status_code == 409


def test_a_rejected_track_is_not_written(fresh: Served) -> None:
    track = fresh.track("1")
    fresh.post(f"/api/tracks/{track['id']}/review", {"state": "rejected"}).raise_for_status()
    written = _changes(fresh.get(f"/api/sessions/{fresh.session_id}/rekordbox-changes.csv"))
    assert "1" not in {row["track_id"] for row in written}
    assert fresh.session()["will_change"] == 7


def test_a_manual_search_is_scored_and_kept_as_a_query(fresh: Served) -> None:
    track = fresh.track(NIGHT_BUS)
    before = fresh.get(f"/api/tracks/{track['id']}").json()
    found = fresh.get("/api/search", q="Zelie Ishikawa Night Bus", track=track["id"])
    assert found.status_code == 200
    candidates = found.json()["candidates"]
    assert {c["beatport"]["id"] for c in candidates} >= {7009, 7019}
    assert candidates[0]["score"] >= candidates[-1]["score"]
    assert all(c["found_by"] == "manual" and c["components"] for c in candidates)
    after = fresh.get(f"/api/tracks/{track['id']}").json()
    assert len(after["queries"]) == len(before["queries"]) + 1
    manual = after["queries"][-1]
    assert (manual["type"], manual["text"]) == ("manual", "Zelie Ishikawa Night Bus")
    assert manual["candidate_count"] == len(candidates)
    assert after["track"]["query_count"] == before["track"]["query_count"] + 1

    again = fresh.get("/api/search", q="Zelie Ishikawa Night Bus", track=track["id"]).json()
    assert again["from_cache"] is True  # the same client's cache
    assert fresh.get("/api/search", q="  ", track=track["id"]).status_code == 409
    assert fresh.get("/api/search", q="x").status_code == 400
    assert fresh.get("/api/search", q="x", track=10**9).status_code == 404


def _changes(response: requests.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
