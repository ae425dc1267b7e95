"""No session is "completed" unless every track is in the history.

A full disk (a real 640 KB tmpfs holding the data folder) and another program holding the
history (an exclusive lock such as `cuepoint vacuum` takes) while a 300-track session of the
dev set writes: the session pauses with the reason, the tracks not written are matched on
`resume`, and a vacuum refuses while a session runs.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cuepoint_tray.catalog_server import CatalogServer
from cuepoint_tray.events import Event, TrackDone
from cuepoint_tray.paths import resolve_paths
from cuepoint_tray.rekordbox import Library, read_library
from cuepoint_tray.session import resume_match, run_match
from cuepoint_tray.settings import Settings

from conftest import DEV_SET, require, tmpfs

PLAYLIST = "Sets/Dev Set"
TRACKS = 300


@pytest.fixture(scope="module")
def library() -> Library:
    return read_library(require(DEV_SET / "rekordbox.xml"))


def settings_for(server: CatalogServer) -> Settings:
    # No HTTP cache: the history is what fills the disk.
    return Settings(beatport_web_url=server.url, beatport_api_url=server.url + "/v4",
                    requests_per_second=1000.0, cache_expiry_days=0)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "disk", "640k") as mount_point:
        yield mount_point


def stored(database: Path, session_id: int) -> tuple[str, str, list[int]]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        status, reason = db.execute("SELECT status, reason FROM sessions WHERE id = ?",
                                    (session_id,)).fetchone()
        positions = [row[0] for row in db.execute(
            "SELECT position FROM track_results WHERE session_id = ? ORDER BY position",
            (session_id,))]
    return status, reason, positions


@pytest.mark.slow
def test_a_full_disk_pauses_the_session_and_resume_stores_the_rest(
        catalog_server: CatalogServer, library: Library, small_disk: Path) -> None:
    paths = resolve_paths(small_disk / "data").create()
    settings = settings_for(catalog_server)
    playlist = library.find_playlist(PLAYLIST)

    first = run_match(library, [playlist], settings, paths)

    assert first.ended.status == "paused"
    assert "disk is full" in first.ended.reason and "resume" in first.ended.reason
    status, _, positions = stored(paths.database, first.session_id)
    assert status in ("paused", "running")  # "running" when even the end could not be written
    assert len(positions) < TRACKS

    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    second = resume_match(first.session_id, settings, paths)

    assert second.ended.status == "completed", second.ended.reason
    status, _, positions = stored(paths.database, first.session_id)
    assert status == "completed"
    assert positions == list(range(1, TRACKS + 1))  # every track, once


@pytest.mark.slow
def test_a_program_holding_the_history_is_waited_for_and_no_track_is_lost(
        catalog_server: CatalogServer, library: Library, tmp_path: Path) -> None:
    """An exclusive lock held 12 s mid-session: past SQLite's 5 s busy timeout for a batch
    and for the one-by-one retry of its first track (which used to be lost)."""
    paths = resolve_paths(tmp_path / "data").create()
    held = threading.Event()

    def hold_the_lock_once(event: Event) -> None:
        if isinstance(event, TrackDone) and event.done == 50 and not held.is_set():
            held.set()
            threading.Thread(target=_hold_exclusive, args=(paths.database, 12.0)).start()

    outcome = run_match(library, [library.find_playlist(PLAYLIST)], settings_for(catalog_server),
                        paths, listeners=[hold_the_lock_once])

    assert held.is_set()
    assert outcome.ended.status == "completed", outcome.ended.reason
    status, _, positions = stored(paths.database, outcome.session_id)
    assert status == "completed" and positions == list(range(1, TRACKS + 1))


def _hold_exclusive(database: Path, seconds: float) -> None:
    db = sqlite3.connect(database, timeout=30, isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    time.sleep(seconds)
    db.execute("COMMIT")
    db.close()


def test_vacuum_refuses_while_a_session_runs(catalog_server: CatalogServer,
                                             tmp_path: Path) -> None:
    xml = tmp_path / "rekordbox.xml"
    shutil.copyfile(require(DEV_SET / "rekordbox.xml"), xml)
    data_dir = tmp_path / "data"
    match = subprocess.Popen(
        [sys.executable, "-m", "cuepoint_tray", "--data-dir", str(data_dir), "match",
         "--xml", str(xml), "--playlist", PLAYLIST, "--beatport-url", catalog_server.url],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # at 4 requests/s: minutes
    try:
        database = data_dir / "history.sqlite3"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if database.exists() and _statuses(database) == ["running"]:
                break
            time.sleep(0.2)
        vacuum = subprocess.run([sys.executable, "-m", "cuepoint_tray", "--data-dir",
                                 str(data_dir), "vacuum"], capture_output=True, text=True,
                                timeout=60)
    finally:
        match.terminate()
        match.wait(30)
    assert vacuum.returncode == 1 and "Traceback" not in vacuum.stderr
    assert "Session 1 is running" in vacuum.stderr


def _statuses(database: Path) -> list[str]:
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as db:
            return [row[0] for row in db.execute("SELECT status FROM sessions")]
    except sqlite3.Error:
        return []
