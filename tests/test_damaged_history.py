"""A damaged history: set aside under a name that says so, what SQLite can read recovered
into a fresh history, one sentence for the DJ, and the app goes on (CLI, dashboard, tray).

Each test damages a real history file of one demo session the way a disk or a crash does:
cut to 4 KB, overwritten with random bytes, or pages in the middle overwritten. The CLI runs
in its own process, as a DJ runs it, so what reaches the terminal is what is checked.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from cuepoint_tray.catalog_server import CatalogServer
from cuepoint_tray.dashboard import DashboardAPI, DashboardServer
from cuepoint_tray.paths import resolve_paths
from cuepoint_tray.rekordbox import read_library
from cuepoint_tray.resources import resource_folder
from cuepoint_tray.session import run_match
from cuepoint_tray.settings import Settings

DEMO = resource_folder("assets", "demo")
PAGE = 4096


@pytest.fixture(scope="module")
def one_session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder whose history holds one completed demo session."""
    root = tmp_path_factory.mktemp("history")
    xml = root / "rekordbox.xml"
    shutil.copyfile(DEMO / "rekordbox.xml", xml)
    library = read_library(xml)
    paths = resolve_paths(root / "data").create()
    with CatalogServer(DEMO / "catalog.jsonl").start() as server:
        settings = Settings(beatport_web_url=server.url, beatport_api_url=server.url + "/v4",
                            requests_per_second=200.0)
        outcome = run_match(library, [library.find_playlist("Demo/Friday Warm-up")],
                            settings, paths)
    assert outcome.ended.status == "completed"
    _checkpoint(paths.database)
    return paths.data_dir


@pytest.fixture
def data_dir(one_session: Path, tmp_path: Path) -> Iterator[Path]:
    copy = tmp_path / "data"
    shutil.copytree(one_session, copy)
    yield copy


def _checkpoint(database: Path) -> None:
    """Fold the WAL into the file, so damaging the file damages the data."""
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for suffix in ("-wal", "-shm"):
        Path(str(database) + suffix).unlink(missing_ok=True)


def truncate(database: Path) -> None:
    with database.open("r+b") as handle:
        handle.truncate(PAGE)


def random_bytes(database: Path) -> None:
    database.write_bytes(os.urandom(100_000))


def damage_middle(database: Path) -> None:
    """Overwrite pages in the middle (not the first ones): the file still opens.

    From the file's half: its first ~20 pages are the schema's (sqlite_schema spills onto
    pages 12 and 13) and the tables' roots, and a history whose candidates are packed
    (version 5) is small enough that a quarter in lands there, where nothing is left to
    recover; the middle is the rows'."""
    pages = database.stat().st_size // PAGE
    with database.open("r+b") as handle:
        handle.seek(PAGE * (pages // 2))
        handle.write(os.urandom(PAGE * max(1, pages // 6)))


def cuepoint(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return subprocess.run([sys.executable, "-m", "cuepoint_tray", "--data-dir", str(data_dir),
                           *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def damaged_files(data_dir: Path) -> list[Path]:
    return sorted(data_dir.glob("history.damaged-*.sqlite3"))


@pytest.mark.parametrize("damage", [truncate, random_bytes], ids=["cut to 4 KB", "random"])
def test_a_history_that_does_not_open_is_set_aside_and_commands_go_on(
        data_dir: Path, damage: Any) -> None:
    database = data_dir / "history.sqlite3"
    original = database.read_bytes()
    damage(database)
    damaged_bytes = database.read_bytes()
    assert original != damaged_bytes

    listed = cuepoint(data_dir, "sessions")

    assert listed.returncode == 0, listed.stderr
    assert "Traceback" not in listed.stderr + listed.stdout
    (aside,) = damaged_files(data_dir)
    assert aside.read_bytes() == damaged_bytes  # kept as it was, never deleted
    notes = [line for line in listed.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and str(aside) in notes[0] and "damaged" in notes[0]
    assert "0 of 0 sessions" in listed.stdout  # nothing readable: a fresh history
    again = cuepoint(data_dir, "sessions")
    assert again.returncode == 0 and again.stderr == ""  # said once, then works as usual
    assert len(damaged_files(data_dir)) == 1


def test_damage_inside_the_file_is_recovered_with_its_sessions(data_dir: Path) -> None:
    database = data_dir / "history.sqlite3"
    damage_middle(database)

    first = cuepoint(data_dir, "show", "1")
    second = cuepoint(data_dir, "show", "1")

    for run in (first, second):
        assert "Traceback" not in run.stderr + run.stdout
    (aside,) = damaged_files(data_dir)
    assert str(aside) in first.stderr and "recovered" in first.stderr
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("session 1 · completed")
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_without_the_sqlite3_command_line_rows_are_copied_one_by_one(
        data_dir: Path, tmp_path: Path) -> None:
    """A machine without the sqlite3 program (Windows) still recovers what it can read."""
    bare = tmp_path / "bin"
    bare.mkdir()
    assert shutil.which("sqlite3", path=str(bare)) is None
    damage_middle(data_dir / "history.sqlite3")

    first = cuepoint(data_dir, "show", "1", env={"PATH": str(bare)})
    listed = cuepoint(data_dir, "sessions", env={"PATH": str(bare)})

    assert "Traceback" not in first.stderr + listed.stderr
    assert "1 session recovered" in first.stderr
    assert listed.returncode == 0 and "Demo/Friday Warm-up" in listed.stdout


def test_the_dashboard_answers_over_a_damaged_history(data_dir: Path) -> None:
    random_bytes(data_dir / "history.sqlite3")
    paths = resolve_paths(data_dir)
    with DashboardServer(DashboardAPI(paths)).start() as server:
        answer = requests.get(f"{server.url}/api/sessions",
                              headers={"Authorization": f"Bearer {server.token}"}, timeout=10)
    assert answer.status_code == 200
    assert answer.json()["total"] == 0
    assert len(damaged_files(data_dir)) == 1


def test_a_reader_that_finds_damage_later_recovers_it_in_the_dashboard(data_dir: Path) -> None:
    """Damage the history opens past (its first pages are whole) and a read finds later:
    the dashboard says so in words (503), sets the file aside, and the next request reads
    the recovered history."""
    paths = resolve_paths(data_dir)
    damage_middle(paths.database)
    with DashboardServer(DashboardAPI(paths)).start() as server:
        headers = {"Authorization": f"Bearer {server.token}"}
        first, second = (requests.get(f"{server.url}/api/sessions/1/tracks?limit=2000",
                                      headers=headers, timeout=10) for _ in range(2))
    assert first.status_code == 503, first.text
    assert "set aside as" in first.json()["error"]
    assert second.status_code == 200
    assert len(damaged_files(data_dir)) == 1


def test_a_closed_pipe_ends_the_command_quietly(data_dir: Path) -> None:
    """`cuepoint settings | head -1`: the reader leaves early; no BrokenPipe traceback."""
    process = subprocess.Popen([sys.executable, "-m", "cuepoint_tray", "--data-dir",
                                str(data_dir), "settings"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before the first line is written
    errors = process.stderr.read().decode()
    assert process.wait(60) == 0
    assert "Traceback" not in errors and "BrokenPipe" not in errors
