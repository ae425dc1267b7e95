"""The smaller defects issue 14's walk-through found, each reproduced first: the time left,
"ms per track" told two ways, throttle waits summed over parallel workers, candidate counts,
a block reported as "requests 0" with empty files, and a traceback when `| head` leaves."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from dashboard_fixtures import FOLDER, HOSTILE_PLAYLIST, settings_for, write_collection
from test_store_builders import begin, db_file, result, track_done

from cuepoint_tray.catalog_server import CatalogServer, Faults
from cuepoint_tray.cli import main
from cuepoint_tray.paths import resolve_paths
from cuepoint_tray.progress import ProgressLine
from cuepoint_tray.providers.http import HostThrottle
from cuepoint_tray.rekordbox import read_library
from cuepoint_tray.session import run_match
from cuepoint_tray.store import HistoryWriter
from cuepoint_tray.store.live import live_session
from cuepoint_tray.store.queries import session_overview, track_detail

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def test_the_time_left_counts_the_wait_since_the_last_track(tmp_path: Path) -> None:
    """A session waiting (for the rate limit, a slow answer) finishes no track, so the pace
    "time so far / tracks done" must count the time since the last track too; it used to
    stop at the last track written, and promised 6.2 s at 64/118 of a 23.8 s run."""
    path = db_file(tmp_path)
    with HistoryWriter(path, batch_size=1, batch_seconds=0.01) as writer:
        begin(writer, 20)
        for position in range(1, 11):
            writer(track_done(position, result(position), done=position, total=20))
        writer.flush()
        before = live_session(path)
        time.sleep(1.0)  # a wait: no track finishes meanwhile
        after = live_session(path)
    assert before is not None and after is not None
    assert before["status"] == after["status"] == "running"
    # 10 tracks left at the whole session's pace: the second's wait adds about 1 s per
    # 10 tracks done, so about 1 s to the time left.
    assert after["eta_s"] >= before["eta_s"] + 0.8, (before["eta_s"], after["eta_s"])
    assert after["tracks_per_minute"] < before["tracks_per_minute"]


def test_parallel_throttle_waits_are_counted_once_in_wall_clock_time() -> None:
    throttle = HostThrottle(40.0)
    waits: list[float] = []
    lock = threading.Lock()

    def send() -> None:
        for _ in range(5):
            waited = throttle.wait("beatport.example")
            with lock:
                waits.append(waited)

    started = time.monotonic()
    workers = [threading.Thread(target=send) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wall = time.monotonic() - started
    # 20 sends at 40 a second take half a second; the four workers' waits overlap.
    assert sum(waits) > 2 * throttle.waited_wall_s
    assert 0.4 <= throttle.waited_wall_s <= wall + 0.01


def test_the_progress_line_after_a_resume_counts_this_runs_pace() -> None:
    """Resumed at 50 of 100, the line took the 50 tracks done before as done in this run's
    first seconds: a pace of thousands of tracks a minute, and no time left."""
    stream = io.StringIO()
    line = ProgressLine(stream, every_s=0.0)
    for done in (51, 52):
        time.sleep(0.25)
        line(track_done(done, result(done), done=done, total=100))
    last = stream.getvalue().splitlines()[-1]
    per_minute = int(re.search(r"(\d+) tracks/min", last).group(1))  # type: ignore[union-attr]
    assert per_minute <= 2 / 0.5 * 60 * 1.2, last  # two tracks in half a second
    minutes, seconds = re.search(r"ETA (\d+):(\d\d)", last).groups()  # type: ignore[union-attr]
    assert int(minutes) * 60 + int(seconds) >= 48 * 0.2, last


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory):
    return write_collection(tmp_path_factory.mktemp("fixes") / "collection")


def test_a_session_never_waited_longer_than_it_lasted(tmp_path: Path, collection) -> None:
    paths = resolve_paths(tmp_path / "data").create()
    library = read_library(collection.xml)
    playlist = library.find_playlist(f"{FOLDER}/{HOSTILE_PLAYLIST}")
    with CatalogServer(collection.full_catalog).start() as catalog:
        settings = settings_for(catalog.url, collection.xml, requests_per_second=8.0,
                                concurrency=4)
        outcome = run_match(library, [playlist], settings, paths)
    costs = session_overview(paths.database, outcome.session_id)["query_costs"]
    wall_ms = outcome.session["wall_ms"]
    assert costs["throttle_summed_ms"] > wall_ms  # four workers queued for their slots
    assert 0 < costs["throttle_ms"] <= wall_ms


def test_the_summary_and_show_tell_the_same_ms_per_track(
        tmp_path: Path, collection, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    with CatalogServer(collection.full_catalog).start() as catalog:
        assert main(["--data-dir", str(data), "match", "--xml", str(collection.xml),
                     "--playlist", f"{FOLDER}/{HOSTILE_PLAYLIST}",
                     "--beatport-url", catalog.url]) == 0
    summary = capsys.readouterr().out
    assert main(["--data-dir", str(data), "show", "1"]) == 0
    shown = capsys.readouterr().out
    told = re.search(r"\((\d+) ms per track\)", summary)
    again = re.search(r"s, (\d+) ms per track;", shown)
    assert told and again and told.group(1) == again.group(1)
    # The hint to come back names the data folder this command used.
    assert f"cuepoint --data-dir {data} dashboard" in summary

    detail = track_detail(resolve_paths(data).database, 1)
    track = detail["track"]
    assert track["candidates_kept"] == len(detail["candidates"])
    assert track["candidates_kept"] <= track["candidate_count"]


def test_a_website_block_says_so_and_writes_no_empty_files(
        tmp_path: Path, collection, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    with CatalogServer(collection.full_catalog).start() as catalog:
        catalog.faults = Faults(cloudflare=True)
        code = main(["--data-dir", str(data), "match", "--xml", str(collection.xml),
                     "--playlist", f"{FOLDER}/{HOSTILE_PLAYLIST}",
                     "--beatport-url", catalog.url])
    printed = capsys.readouterr().out
    assert code == 1
    assert "blocked automated access" in printed
    assert "no track was matched yet (of 10): nothing was written" in printed
    assert "requests 0" not in printed and "files:" not in printed
    assert f"to continue: cuepoint --data-dir {data} resume 1" in printed
    reports = resolve_paths(data).reports_dir
    assert not reports.exists() or not any(reports.rglob("*.csv"))


@pytest.mark.parametrize("command", [["show", "1"], ["sessions"], ["review", "1"]])
def test_a_reader_leaving_early_gets_no_traceback(tmp_path: Path, command: list[str]) -> None:
    """`cuepoint show 1 | head`: what Python still holds in its buffer when it exits meets a
    closed pipe; that printed a BrokenPipeError traceback."""
    path = db_file(tmp_path)
    with HistoryWriter(path) as writer:
        begin(writer, 3)
        for position in range(1, 4):
            writer(track_done(position, result(position, "review"), done=position, total=3))
    environment = {name: value for name, value in os.environ.items()
                   if name != "PYTHONUNBUFFERED"}  # buffered, as in a DJ's terminal
    process = subprocess.Popen(
        [sys.executable, "-m", "cuepoint_tray", "--data-dir", str(tmp_path), *command],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=PROJECT_ROOT,
        env={**environment, "PYTHONPATH": str(PROJECT_ROOT)})
    assert process.stdout is not None
    process.stdout.close()  # the reader is gone before the output comes
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err
