"""After a resume, every summary describes the whole session (issue 14): the CLI's, the
outcome the tray's notification and status line are made from, the report and the CSVs,
all in the session's one folder."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from dashboard_fixtures import FOLDER, HOSTILE_PLAYLIST, settings_for, write_collection

from cuepoint_tray.catalog_server import CatalogServer
from cuepoint_tray.cli import main
from cuepoint_tray.controller import ControllerState, LastSession, SessionController
from cuepoint_tray.events import Event, TrackDone
from cuepoint_tray.paths import resolve_paths
from cuepoint_tray.rekordbox import read_library
from cuepoint_tray.runner import SessionRunner
from cuepoint_tray.session import run_match
from cuepoint_tray.settings import save_settings
from cuepoint_tray.tray.notification import session_ended
from cuepoint_tray.tray.state import RecentSession, TrayState


def test_a_resumed_session_is_summed_up_whole_in_one_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    collection = write_collection(tmp_path / "collection")
    data = tmp_path / "data"
    paths = resolve_paths(data).create()
    library = read_library(collection.xml)
    playlist = library.find_playlist(f"{FOLDER}/{HOSTILE_PLAYLIST}")
    runners: list[SessionRunner] = []

    def cancel_after_5(event: Event) -> None:
        if isinstance(event, TrackDone) and event.done == 5:
            runners[0].cancel()

    with CatalogServer(collection.full_catalog).start() as catalog:
        settings = settings_for(catalog.url, collection.xml, concurrency=1)
        save_settings(settings, paths.settings_file)
        first = run_match(library, [playlist], settings, paths, listeners=[cancel_after_5],
                          on_runner=lambda runner, _id: runners.append(runner))
        assert first.ended.status == "cancelled" and first.session["done"] == 5
        assert first.folder is not None
        capsys.readouterr()
        assert main(["--data-dir", str(data), "resume", str(first.session_id),
                     "--beatport-url", catalog.url]) == 0
    printed = capsys.readouterr().out
    # The whole session: 8 matched, 1 to review, 1 unmatched, of 10 (not the resumed 5).
    assert "matched 8 · to review 1 · unmatched 1  (of 10 tracks)" in printed
    folders = [path for path in paths.reports_dir.iterdir() if path.is_dir()]
    assert folders == [first.folder]  # one folder for the session
    with (first.folder / "results.csv").open(encoding="utf-8-sig") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 10
    assert [row["status"] for row in rows].count("matched") == 8
    reports = list(first.folder.glob("*.html"))
    assert len(reports) == 1 and "10 of 10" in reports[0].read_text(encoding="utf-8")


def test_the_controller_tells_the_tray_the_whole_session(tmp_path: Path) -> None:
    collection = write_collection(tmp_path / "collection")
    paths = resolve_paths(tmp_path / "data").create()
    with CatalogServer(collection.full_catalog).start() as catalog:
        settings = settings_for(catalog.url, collection.xml)
        save_settings(settings, paths.settings_file)
        controller = SessionController(paths, lambda: settings)
        controller.match([f"{FOLDER}/{HOSTILE_PLAYLIST}"])
        assert controller.wait(60)
    last = controller.state().last
    assert last is not None and last.status == "completed"
    assert (last.tracks, last.matched, last.review, last.unmatched, last.done) == (
        10, 8, 1, 1, 10)
    notification = session_ended(last, [HOSTILE_PLAYLIST])
    assert notification is not None and "1 to review" in notification.message


def test_a_decision_after_the_session_clears_the_trays_count(tmp_path: Path) -> None:
    last = LastSession(3, "completed", tracks=10, matched=8, review=1, unmatched=1, done=10)
    recent: dict[str, Any] = {"id": 3, "playlists": ("Sets/A",), "status": "completed",
                              "started_at": 0.0, "done": 10, "tracks": 10, "matched": 8,
                              "unmatched": 1}
    before = TrayState(session=ControllerState(last=last),
                       recent=(RecentSession(**recent, review=1),))
    after = TrayState(session=ControllerState(last=last),
                      recent=(RecentSession(**recent, review=0),))
    assert before.last is not None and before.last.review == 1
    assert after.last is not None and after.last.review == 0
