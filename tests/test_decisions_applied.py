"""The DJ's decisions are kept for good (issue 14): a later session of the same library meets
the decided track, uses the decision without asking again, says so, and exports it. Two real
sessions through the local catalog server, the decision taken over the dashboard API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from dashboard_fixtures import FOLDER, HOSTILE_PLAYLIST, settings_for, write_collection

from cuepoint_tray.catalog_server import CatalogServer
from cuepoint_tray.cli import main
from cuepoint_tray.dashboard import DashboardAPI
from cuepoint_tray.paths import resolve_paths
from cuepoint_tray.rekordbox import read_library
from cuepoint_tray.reports import export_matches
from cuepoint_tray.session import run_match
from cuepoint_tray.settings import save_settings
from cuepoint_tray.store import open_history

NIGHT_BUS = "9"  # doubtful in every session: a twin in another mix
NOWHERE = "10"  # never found


def by_rekordbox_id(api: DashboardAPI, session_id: int) -> dict[str, dict[str, Any]]:
    return {t["rekordbox"]["track_id"]: t for t in api.tracks(session_id)["tracks"]}


@pytest.mark.slow
def test_a_later_session_uses_the_decision_and_exports_it(tmp_path: Path) -> None:
    collection = write_collection(tmp_path / "collection")
    paths = resolve_paths(tmp_path / "data").create()
    library = read_library(collection.xml)
    playlist = library.find_playlist(f"{FOLDER}/{HOSTILE_PLAYLIST}")
    api = DashboardAPI(paths)
    with CatalogServer(collection.full_catalog).start() as catalog:
        settings = settings_for(catalog.url, collection.xml)
        save_settings(settings, paths.settings_file)
        first = run_match(library, [playlist], settings, paths).session_id
        tracks = by_rekordbox_id(api, first)
        assert tracks[NIGHT_BUS]["needs_decision"] and tracks[NIGHT_BUS]["final"] is None
        proposal = tracks[NIGHT_BUS]["proposal"]
        api.review(tracks[NIGHT_BUS]["id"], "accepted")
        api.review(tracks[NOWHERE]["id"], "rejected")
        assert api.session(first)["overview"]["to_review"] == 0

        json_out = tmp_path / "second.json"
        second = run_match(library, [playlist], settings, paths, json_out=json_out)
    assert second.session_id != first

    # No new question, the decision said to be used and where it came from.
    assert second.ended.summary.review == 1 and second.ended.summary.to_review == 0
    assert second.ended.summary.decided == 2
    overview = api.session(second.session_id)["overview"]
    assert (overview["to_review"], overview["decided"]) == (0, 2)
    again = by_rekordbox_id(api, second.session_id)
    night = again[NIGHT_BUS]
    assert night["needs_decision"] is False and night["decision_used"] == "accepted"
    assert night["decision"]["earlier"] is True
    assert night["decision"]["session_id"] == first
    assert night["final"]["id"] == proposal["id"]
    assert again[NOWHERE]["decision_used"] == "rejected" and again[NOWHERE]["final"] is None
    assert again["1"]["decision_used"] == "" and again["1"]["decision"] is None
    assert api.tracks(second.session_id, needs_decision=True)["total"] == 0

    # --json-out rows say which decision was applied.
    rows = {row["rekordbox"]["track_id"]: row
            for row in json.loads(json_out.read_text(encoding="utf-8"))["tracks"]}
    assert rows[NIGHT_BUS]["decision_used"] == "accepted"
    assert rows[NIGHT_BUS]["decision"]["earlier"] is True
    assert rows["1"]["decision_used"] == ""

    # The second session's export carries the decided Beatport track.
    db = open_history(paths.database)
    try:
        matches = export_matches(db, second.session_id)
    finally:
        db.close()
    assert matches[NIGHT_BUS].id == proposal["id"] and NOWHERE not in matches
    written = api.rekordbox_export(second.session_id, changes=True).content.decode("utf-8-sig")
    assert f"{NIGHT_BUS},Zelie Ishikawa,Night Bus,Label,,Label <i>Italic</i>" in written

    # Compare counts the decisions of both sessions.
    metrics = {m["name"]: m["values"] for m in api.compare([first, second.session_id])["metrics"]}
    assert metrics["to_review"] == [0, 0] and metrics["decided"] == [2, 2]
    assert metrics["review"] == [1, 1]

    # Undone in the second session, the track is the app's own doubt again, in both.
    api.review(night["id"], "undo")
    assert api.session(second.session_id)["overview"]["to_review"] == 1
    assert api.session(first)["overview"]["to_review"] == 1
    assert by_rekordbox_id(api, second.session_id)[NIGHT_BUS]["decision_used"] == "accepted"


def test_decisions_belong_to_one_library(tmp_path: Path) -> None:
    """The same track id in another library is another track: no decision carries over."""
    first_collection = write_collection(tmp_path / "one")
    other_collection = write_collection(tmp_path / "two")
    paths = resolve_paths(tmp_path / "data").create()
    api = DashboardAPI(paths)
    sessions = []
    with CatalogServer(first_collection.full_catalog).start() as catalog:
        for collection in (first_collection, other_collection):
            library = read_library(collection.xml)
            playlist = library.find_playlist(f"{FOLDER}/{HOSTILE_PLAYLIST}")
            settings = settings_for(catalog.url, collection.xml)
            if not sessions:
                sessions.append(run_match(library, [playlist], settings, paths).session_id)
                track = by_rekordbox_id(api, sessions[0])[NIGHT_BUS]
                api.review(track["id"], "rejected")
            else:
                sessions.append(run_match(library, [playlist], settings, paths).session_id)
    other = by_rekordbox_id(api, sessions[1])[NIGHT_BUS]
    assert other["decision"] is None and other["needs_decision"] is True
    assert other["decision_used"] == ""
    assert api.session(sessions[1])["overview"]["to_review"] == 1


def test_the_cli_summary_counts_what_is_left_to_review(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    collection = write_collection(tmp_path / "collection")
    data = tmp_path / "data"
    with CatalogServer(collection.full_catalog).start() as catalog:
        argv = ["--data-dir", str(data), "match", "--xml", str(collection.xml),
                "--playlist", f"{FOLDER}/{HOSTILE_PLAYLIST}",
                "--beatport-url", catalog.url]
        assert main(argv) == 0
        first = capsys.readouterr().out
        assert "to review 1" in first
        api = DashboardAPI(resolve_paths(data))
        track = api.tracks(1, needs_decision=True)["tracks"][0]
        api.review(track["id"], "accepted")
        assert main(argv) == 0
        second = capsys.readouterr().out
    assert "to review 0 (1 decided by you)" in second
    assert "1 decided by you earlier" in second
