"""A process killed while it writes a session leaves a sound file, with whole tracks only."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_store_builders import db_file

from cuepoint_tray.store import HistoryWriter

TESTS = Path(__file__).resolve().parent

# Writes tracks without end, small batches close together, so the kill lands mid-write.
CHILD = """
import sys, time
from test_store_builders import begin, query, result, track_done
from cuepoint_tray.store import HistoryWriter

writer = HistoryWriter(sys.argv[1], batch_size=7, batch_seconds=0.002)
session_id = begin(writer, 100000)
print(session_id, flush=True)
queries = (query("full"), query("title_artist"), query("title", cached=True))
for n in range(1, 100000):
    outcome = result(n, ("matched", "review", "unmatched")[n % 3], queries=queries[: 1 + n % 3])
    writer(track_done(n, outcome, done=n, total=100000))
    time.sleep(0.0005)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("kill_after_tracks", [150, 420])
def test_a_killed_writer_leaves_whole_tracks(tmp_path: Path, kill_after_tracks: int) -> None:
    path = db_file(tmp_path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(TESTS.parent)])}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], env=env,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    session_id = int(child.stdout.readline())
    wait_for_tracks(path, kill_after_tracks)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)  # reaped: a zombie would still count as alive
    child.stdout.close()

    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        assert half_tracks(connection) == 0
        tracks, done = connection.execute(
            "SELECT (SELECT count(*) FROM track_results), done FROM sessions").fetchone()
        assert tracks >= kill_after_tracks and done == tracks
    with HistoryWriter(path) as writer:
        assert writer.mark_interrupted_sessions() == [session_id]
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT status FROM sessions").fetchone() == ("interrupted",)


def wait_for_tracks(path: Path, count: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(path) as connection:
                found = connection.execute("SELECT count(*) FROM track_results").fetchone()[0]
        except sqlite3.OperationalError:  # the table is not there yet
            found = 0
        if found >= count:
            return
        time.sleep(0.01)
    raise AssertionError(f"the child never wrote {count} tracks")


def half_tracks(connection: sqlite3.Connection) -> int:
    """Tracks whose stored queries or candidates differ from the counts on their row."""
    return int(connection.execute(
        "SELECT count(*) FROM track_results t WHERE "
        "t.queries != (SELECT count(*) FROM queries q WHERE q.track_result_id = t.id) OR "
        "t.candidates != (SELECT count(*) FROM candidates c WHERE c.track_result_id = t.id)"
    ).fetchone()[0])
