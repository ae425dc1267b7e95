"""`cuepoint match` killed with SIGKILL mid-session, then `cuepoint resume`: the real CLI in
subprocesses against the demo catalog, ending exactly as an uninterrupted run does."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from cuepoint_tray.catalog_server import CatalogServer, Faults
from cuepoint_tray.paths import resolve_paths
from cuepoint_tray.resources import resource_folder
from cuepoint_tray.settings import Settings, save_settings, with_values
from cuepoint_tray.store import HistoryWriter
from cuepoint_tray.store.queries import final_matches, list_sessions

from conftest import PROJECT_ROOT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX"),
]

DEMO = resource_folder("assets", "demo")
PLAYLIST = "Demo/Friday Warm-up"  # 60 tracks
KILL_AFTER_TRACKS = 8
# Slow enough that the kill lands with most of the playlist still to do (~4 s for 60 tracks).
SLOW = {"requests_per_second": 15.0, "concurrency": 2}
FAST = {"requests_per_second": 200.0, "concurrency": 4}


@dataclass(frozen=True)
class Killed:
    """A data folder whose `cuepoint match` was killed, and what it had written by then."""

    data_dir: Path
    session_id: int
    tracks_written: int
    playlist_size: int


@pytest.fixture(scope="module")
def server() -> Iterator[CatalogServer]:
    with CatalogServer(DEMO / "catalog.jsonl").start() as started:
        yield started


@pytest.fixture(scope="module")
def killed(server: CatalogServer, tmp_path_factory: pytest.TempPathFactory) -> Killed:
    """Start a slow `cuepoint match`, SIGKILL it once a few tracks are committed."""
    data_dir = tmp_path_factory.mktemp("killed")
    use_settings(data_dir, SLOW)
    server.faults = Faults(latency_ms=40)
    try:
        child = start_cli(data_dir, "match", "--xml", str(DEMO / "rekordbox.xml"),
                          "--playlist", PLAYLIST, "--beatport-url", server.url)
        wait_for_tracks(data_dir, KILL_AFTER_TRACKS, child)
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=10) == -signal.SIGKILL  # reaped: a zombie counts as alive
    finally:
        server.faults = Faults()
    with read_only(data_dir) as connection:
        (session_id, tracks), = connection.execute("SELECT id, tracks FROM sessions")
        (written,), = connection.execute("SELECT count(*) FROM track_results")
    return Killed(data_dir, session_id, written, tracks)


@pytest.fixture
def killed_copy(killed: Killed, tmp_path: Path) -> Killed:
    """The killed data folder copied, so each test starts from the moment of the kill."""
    copy = tmp_path / "killed"
    shutil.copytree(killed.data_dir, copy)
    return Killed(copy, killed.session_id, killed.tracks_written, killed.playlist_size)


def test_the_kill_lands_mid_session_and_leaves_a_sound_file(killed_copy: Killed) -> None:
    assert KILL_AFTER_TRACKS <= killed_copy.tracks_written < killed_copy.playlist_size
    with read_only(killed_copy.data_dir) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        (status, done), = connection.execute("SELECT status, done FROM sessions")
    assert status == "running"  # nobody has looked since the process died
    assert done == killed_copy.tracks_written  # totals committed with their tracks


def test_a_killed_session_resumes_to_the_matches_of_an_uninterrupted_run(
        killed_copy: Killed, server: CatalogServer, tmp_path: Path) -> None:
    data_dir, session_id = killed_copy.data_dir, killed_copy.session_id
    with HistoryWriter(resolve_paths(data_dir).database) as writer:
        assert writer.mark_interrupted_sessions() == [session_id]
    listed = run_cli(data_dir, "sessions")
    assert listed.returncode == 0, listed.stderr
    assert session_line(listed.stdout, session_id).split()[3] == "interrupted"

    use_settings(data_dir, FAST)  # the rate never changes a match, only how long it takes
    resumed = run_cli(data_dir, "resume", str(session_id), "--beatport-url", server.url)
    assert resumed.returncode == 0, resumed.stderr
    assert "session completed" in resumed.stdout

    whole_dir = tmp_path / "uninterrupted"
    use_settings(whole_dir, FAST)
    whole = run_cli(whole_dir, "match", "--xml", str(DEMO / "rekordbox.xml"),
                    "--playlist", PLAYLIST, "--beatport-url", server.url)
    assert whole.returncode == 0, whole.stderr

    stored = session_row(data_dir, session_id)
    assert (stored["status"], stored["done"]) == ("completed", killed_copy.playlist_size)
    positions = track_positions(data_dir, session_id)
    assert positions == [(PLAYLIST, n) for n in range(1, killed_copy.playlist_size + 1)]
    assert outcomes(data_dir, session_id) == outcomes(whole_dir, session_row(whole_dir)["id"])
    assert any(beatport_id for *_, beatport_id in outcomes(data_dir, session_id))


def test_sessions_and_show_call_a_killed_session_interrupted(killed_copy: Killed) -> None:
    listed = run_cli(killed_copy.data_dir, "sessions")
    assert session_line(listed.stdout, killed_copy.session_id).split()[3] == "interrupted"
    shown = run_cli(killed_copy.data_dir, "show", str(killed_copy.session_id))
    assert "interrupted" in shown.stdout.splitlines()[0]


# --- helpers ---------------------------------------------------------------------------------

def use_settings(data_dir: Path, values: dict[str, float]) -> None:
    """Save settings in a data folder as `cuepoint settings --set` would."""
    paths = resolve_paths(data_dir).create()
    save_settings(with_values(Settings(), values, source="test"), paths.settings_file)


def start_cli(data_dir: Path, *args: str) -> subprocess.Popen[bytes]:
    with (data_dir / "cli-output.txt").open("wb") as log:
        return subprocess.Popen([sys.executable, "-m", "cuepoint_tray", "--data-dir",
                                 str(data_dir), *args], cwd=PROJECT_ROOT, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def run_cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cuepoint_tray", "--data-dir", str(data_dir),
                           *args], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


@contextmanager
def read_only(data_dir: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to a data folder's history (it must never write there)."""
    database = resolve_paths(data_dir).database
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        yield connection


def wait_for_tracks(data_dir: Path, count: int, child: subprocess.Popen[bytes]) -> None:
    """Poll the history until `count` tracks are committed; fail if the child ends first."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if child.poll() is not None:
            output = (data_dir / "cli-output.txt").read_text(errors="replace")
            raise AssertionError(f"cuepoint match ended ({child.returncode}) before the kill:"
                                 f"\n{output}")
        if committed_tracks(data_dir) >= count:
            return
        time.sleep(0.02)
    child.kill()
    raise AssertionError(f"cuepoint match never wrote {count} tracks")


def committed_tracks(data_dir: Path) -> int:
    try:
        with read_only(data_dir) as connection:
            return int(connection.execute("SELECT count(*) FROM track_results").fetchone()[0])
    except sqlite3.OperationalError:  # no file or no table yet
        return 0


def session_line(listing: str, session_id: int) -> str:
    """The line of `cuepoint sessions` for one session."""
    for line in listing.splitlines():
        if line.split()[:1] == [str(session_id)]:
            return line
    raise AssertionError(f"session {session_id} is not listed:\n{listing}")


def session_row(data_dir: Path, session_id: int | None = None) -> dict[str, object]:
    sessions = list_sessions(resolve_paths(data_dir).database)["sessions"]
    return next(row for row in sessions if session_id in (None, row["id"]))


def track_positions(data_dir: Path, session_id: int) -> list[tuple[str, int]]:
    with read_only(data_dir) as connection:
        return connection.execute(
            "SELECT playlist, position FROM track_results WHERE session_id = ? "
            "ORDER BY playlist, position", (session_id,)).fetchall()


def outcomes(data_dir: Path, session_id: int) -> list[tuple[str, int, str, int | None]]:
    """Each track's playlist, position, status and the Beatport id it ends with."""
    finals = final_matches(resolve_paths(data_dir).database, session_id)
    return [(row["playlist"], row["position"], row["status"],
             row["final"].id if row["final"] else None) for row in finals]


def test_kills_at_moments_spread_over_a_session_all_resume_to_the_same_end() -> None:
    """scripts/kill_resume.py with a few kills (the closing note's figures use 20)."""
    done = subprocess.run([sys.executable, str(PROJECT_ROOT / "scripts" / "kill_resume.py"),
                           "--kills", "4", "--seed", "3"], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4/4 kills ended as the uninterrupted run" in done.stdout
    assert "listed interrupted" in done.stdout  # at least one kill landed mid-session
