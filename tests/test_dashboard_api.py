"""The dashboard's HTTP-free API and the session controller behind it: real sessions against
the local catalog server, a real history file."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from cuepoint_tray.catalog_server import CatalogServer, Faults
from cuepoint_tray.changes import ExportOptions
from cuepoint_tray.controller import SessionController
from cuepoint_tray.dashboard import DashboardAPI
from cuepoint_tray.errors import CuepointError, SettingsError
from cuepoint_tray.paths import AppPaths, resolve_paths
from cuepoint_tray.rekordbox import read_library
from cuepoint_tray.resources import resource_folder
from cuepoint_tray.settings import Settings, load_settings, save_settings
from cuepoint_tray.store.queries import NotFoundError

DEMO = resource_folder("assets", "demo")
SMALL = "Crate Digging"  # 18 tracks
QUEUE = ["Demo/Peak Time", "Crate Digging"]


@pytest.fixture(scope="module")
def demo_server() -> Iterator[CatalogServer]:
    with CatalogServer(DEMO / "catalog.jsonl").start() as server:
        yield server


@pytest.fixture
def paths(isolated_dirs: Path, demo_server: CatalogServer) -> AppPaths:
    """A data folder whose settings point at the demo XML and the local catalog server."""
    demo_server.faults = Faults()
    found = resolve_paths(isolated_dirs).create()
    save_settings(Settings(rekordbox_library=str(DEMO / "rekordbox.xml"), default_playlist=SMALL,
                           beatport_web_url=demo_server.url,
                           beatport_api_url=demo_server.url + "/v4",
                           requests_per_second=500.0), found.settings_file)
    return found


@pytest.fixture
def controller(paths: AppPaths) -> Iterator[SessionController]:
    found = SessionController(paths, lambda: load_settings(paths.settings_file))
    yield found
    found.shut_down(timeout=30)


@pytest.fixture
def api(paths: AppPaths, controller: SessionController) -> DashboardAPI:
    return DashboardAPI(paths, controller)


def run(api: DashboardAPI, playlists: list[str]) -> int:
    """Match through the API as the page does, and wait for the session to end."""
    api.match(playlists)
    assert api.controller is not None and api.controller.wait(60)
    last = api.controller.state().last
    assert last is not None and last.session_id is not None, last
    return last.session_id


def test_a_match_started_from_the_dashboard_is_in_history_and_live(api: DashboardAPI) -> None:
    session_id = run(api, [])  # none chosen: the default playlist

    live = api.live()["session"]
    assert live["id"] == session_id and live["status"] == "completed"
    assert live["done"] == live["tracks"] == 18
    assert [p["playlist"] for p in live["playlist_progress"]] == [SMALL]
    assert live["playlist_progress"][0]["state"] == "done"
    assert len(live["new_tracks"]) == 18
    assert api.live(after_track=live["new_tracks"][-1]["id"])["session"]["new_tracks"] == []
    assert live["tracks_per_minute"] > 0 and live["eta_s"] is None

    state = api.status()["now"]
    assert state["phase"] == "idle" and state["last"]["status"] == "completed"
    assert state["last"]["matched"] == live["matched"]


def test_a_queue_of_playlists_is_one_session_with_progress_per_playlist(
        api: DashboardAPI) -> None:
    session_id = run(api, QUEUE)
    progress = api.live(session_id)["session"]["playlist_progress"]
    assert [(p["playlist"], p["tracks"], p["done"], p["state"]) for p in progress] == [
        ("Demo/Peak Time", 40, 40, "done"), (SMALL, 18, 18, "done")]
    assert sum(p["matched"] + p["review"] + p["unmatched"] + p["errors"]
               for p in progress) == 58


def test_pause_resume_and_cancel_reach_the_running_session(
        api: DashboardAPI, demo_server: CatalogServer) -> None:
    demo_server.faults = Faults(latency_ms=80)
    api.match(["Demo/Friday Warm-up"])
    controller = api.controller
    assert controller is not None
    _wait_for(lambda: controller.state().done >= 3)
    with pytest.raises(CuepointError, match="already running"):
        api.match([SMALL])

    api.control("pause")
    _wait_for(lambda: api.live()["session"]["status"] == "paused")
    paused_at = controller.state().done
    time.sleep(0.5)
    assert controller.state().done <= paused_at + 4  # only tracks already in flight finish
    assert api.live()["session"]["controllable"] is True

    api.control("resume")
    _wait_for(lambda: controller.state().done > paused_at + 4)
    api.control("cancel")
    assert controller.wait(30)
    session = api.live()["session"]
    assert session["status"] == "cancelled" and 0 < session["done"] < 60
    with pytest.raises(CuepointError, match="No session is running"):
        api.control("pause")

    demo_server.faults = Faults()
    api.resume_session(session["id"])
    assert controller.wait(60)
    finished = api.live(session["id"])["session"]
    assert finished["status"] == "completed" and finished["done"] == 60


def test_the_track_being_searched_is_shown_while_it_runs(
        api: DashboardAPI, demo_server: CatalogServer) -> None:
    demo_server.faults = Faults(latency_ms=100)
    api.match([SMALL])
    controller = api.controller
    assert controller is not None
    _wait_for(lambda: controller.state().current_query != "")
    live = api.live()
    assert live["session"]["now"]["phase"] in ("running", "starting")
    names = {f"{t.artist} - {t.name}" for t in
             read_library(DEMO / "rekordbox.xml").tracks.values()}
    assert live["session"]["now"]["current_track"] in names
    api.control("cancel")
    assert controller.wait(30)


def test_bad_requests_get_plain_words(api: DashboardAPI, paths: AppPaths) -> None:
    with pytest.raises(CuepointError, match="Unknown action"):
        api.control("explode")
    with pytest.raises(CuepointError, match="cannot be found|no playlist|not found|No playlist"):
        api.match(["No Such Playlist"])
    with pytest.raises(NotFoundError):
        api.session(999)
    with pytest.raises(CuepointError, match="between 2"):
        api.compare([1])
    history_only = DashboardAPI(paths)
    with pytest.raises(CuepointError, match="only shows the history"):
        history_only.match([SMALL])


def test_session_pages_read_what_the_history_holds(api: DashboardAPI) -> None:
    first = run(api, [SMALL])
    second = run(api, [SMALL])

    listed = api.sessions(order_by="-started_at")
    assert [s["id"] for s in listed["sessions"]] == [second, first]
    page = api.session(second)
    overview = page["overview"]
    assert overview["done"] == 18 and "settings" not in overview
    assert sum(row["count"] for row in page["query_stats"]) == overview["queries"]
    assert len(page["slowest"]) == 10
    assert [t["elapsed_ms"] for t in page["slowest"]] == sorted(
        (t["elapsed_ms"] for t in page["slowest"]), reverse=True)

    tracks = api.tracks(second)["tracks"]
    assert [t["position"] for t in tracks] == list(range(1, 19))
    matched = api.tracks(second, status="matched")
    assert matched["total"] == overview["matched"]
    assert all(t["status"] == "matched" for t in matched["tracks"])
    some = tracks[0]
    assert api.tracks(second, search=some["rekordbox"]["name"][:6])["total"] >= 1

    detail = api.track(some["id"])
    assert detail["track"]["rekordbox"] == some["rekordbox"] and detail["candidates"]
    assert detail["candidates"][0]["components"]

    compared = api.compare([first, second])
    assert [s["id"] for s in compared["sessions"]] == [first, second]
    by_name = {m["name"]: m["values"] for m in compared["metrics"]}
    assert by_name["done"] == [18, 18]
    assert by_name["cache_hit_rate"][1] == 1.0  # the rerun came from the cache
    assert len(api.trends()) == 2


def test_a_review_decision_is_stored_and_exported(api: DashboardAPI, paths: AppPaths) -> None:
    session_id = run(api, [SMALL])
    track = next(t for t in api.tracks(session_id)["tracks"] if t["status"] == "matched")
    candidates = api.track(track["id"])["candidates"]
    other = next(c["beatport"] for c in candidates
                 if c["beatport"]["id"] != track["beatport"]["id"])

    api.review(track["id"], "changed", other["id"])
    stored = api.track(track["id"])["track"]
    assert stored["review_state"] == "changed"
    assert stored["final"]["id"] == other["id"]
    assert api.tracks(session_id, review_state="changed")["total"] == 1

    # Comments are left alone unless asked for (issue 14: the safe defaults).
    assert "CuePoint: Beatport" not in api.rekordbox_export(session_id).content.decode()
    with_comments = ExportOptions(comments=True)
    xml = api.rekordbox_export(session_id, options=with_comments)
    changes = api.rekordbox_export(session_id, changes=True, options=with_comments)
    assert xml.path.exists() and xml.filename.endswith(".xml")
    assert xml.path.resolve() != (DEMO / "rekordbox.xml").resolve()
    assert changes.path.suffix == ".csv"
    assert f"Beatport {other['id']}" in changes.path.read_text(encoding="utf-8")
    assert f"Beatport {other['id']}" in xml.path.read_text(encoding="utf-8")

    api.review(track["id"], "rejected")
    assert api.track(track["id"])["track"]["final"] is None


@pytest.mark.parametrize("fmt", ["html", "csv", "json", "txt"])
def test_reports_download_in_every_format(api: DashboardAPI, fmt: str) -> None:
    session_id = run(api, [SMALL])
    download = api.report(session_id, fmt)
    assert download.path.exists() and download.filename.endswith("." + fmt)
    assert download.path.stat().st_size > 200


def test_the_beatport_token_is_write_only(api: DashboardAPI, paths: AppPaths) -> None:
    api.save_settings({"beatport_token": "sekrit-123", "requests_per_second": 2})
    shown = api.settings()
    token = next(s for s in shown["settings"] if s["name"] == "beatport_token")
    assert token == {**token, "is_set": True, "value": None, "secret": True}
    assert "sekrit-123" not in repr(shown) and "sekrit-123" not in repr(api.status())
    assert load_settings(paths.settings_file).beatport_token == "sekrit-123"

    api.save_settings({"beatport_token": ""})  # a blank field keeps it
    assert load_settings(paths.settings_file).beatport_token == "sekrit-123"
    api.save_settings({"beatport_token": None})  # the clear button
    assert load_settings(paths.settings_file).beatport_token == ""
    assert load_settings(paths.settings_file).requests_per_second == 2


@pytest.mark.parametrize("values", [{"report_format": "pdf"}, {"concurrency": 0},
                                    {"requests_per_second": "fast"}, {"no_such": 1}])
def test_bad_settings_are_refused_and_nothing_changes(api: DashboardAPI, paths: AppPaths,
                                                       values: dict) -> None:
    before = paths.settings_file.read_bytes()
    with pytest.raises(SettingsError):
        api.save_settings(values)
    assert paths.settings_file.read_bytes() == before


def test_playlists_come_from_the_xml_and_are_read_again_when_it_changes(
        api: DashboardAPI, paths: AppPaths, tmp_path: Path) -> None:
    copy = tmp_path / "collection.xml"
    copy.write_bytes((DEMO / "rekordbox.xml").read_bytes())
    settings = load_settings(paths.settings_file)
    save_settings(replace(settings, rekordbox_library=str(copy)), paths.settings_file)
    tree = api.playlists()["tree"]
    names = [child["name"] for child in tree["children"]]
    assert names == ["Demo", SMALL]

    copy.write_text(copy.read_text(encoding="utf-8").replace(
        'Name="Crate Digging"', 'Name="Crate Diving"'), encoding="utf-8")
    assert [c["name"] for c in api.playlists()["tree"]["children"]] == ["Demo", "Crate Diving"]


def test_without_an_xml_the_dashboard_explains_how_to_export_one(paths: AppPaths) -> None:
    save_settings(Settings(), paths.settings_file)
    api = DashboardAPI(paths)
    assert "Export Collection in xml format" in api.playlists()["error"]
    assert api.status()["xml_set"] is False and "Settings" in api.status()["setup_hint"]


def _wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def test_quitting_while_a_session_starts_leaves_it_paused_to_resume(
        api: DashboardAPI, demo_server: CatalogServer) -> None:
    controller = api.controller
    assert controller is not None
    api.match([SMALL])
    controller.shut_down(timeout=30)  # at once: the session may not have its runner yet
    assert not controller.state().busy
    last = controller.state().last
    assert last is not None and last.status == "paused"
    assert "resume" in last.reason
    with pytest.raises(CuepointError, match="closing"):
        api.match([SMALL])
