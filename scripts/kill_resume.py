#!/usr/bin/env python3
"""SIGKILL `cuepoint match` at random moments; check the history and that resume ends right.

For each kill: a fresh data folder, the real CLI in a subprocess against the local demo
catalog (with latency, so a session lasts a few seconds), SIGKILL after a random delay
anywhere in the session (start-up and the report included). Then:
- `PRAGMA integrity_check` must say ok;
- `cuepoint sessions` must show the session as interrupted (or completed, when the kill came
  after the end; or no session, when it came before the session was created);
- `cuepoint resume` must end it completed, with every track once and the same matches
  (status and Beatport id per position) as an uninterrupted run.
Prints one line per kill and exits 1 on any failure.

    .venv/bin/python scripts/kill_resume.py --kills 20
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cuepoint_tray.catalog_server import CatalogServer, Faults  # noqa: E402
from cuepoint_tray.paths import resolve_paths  # noqa: E402
from cuepoint_tray.resources import resource_folder  # noqa: E402
from cuepoint_tray.settings import Settings, save_settings  # noqa: E402

DEMO = resource_folder("assets", "demo")
PLAYLIST = "Demo/Friday Warm-up"


def main() -> int:
    args = _arguments()
    chance = random.Random(args.seed)
    with CatalogServer(DEMO / "catalog.jsonl", faults=Faults(latency_ms=40)).start() as server, \
            tempfile.TemporaryDirectory(prefix="cuepoint-kills-") as scratch:
        reference_dir = Path(scratch) / "reference"
        started = time.perf_counter()
        _cli(reference_dir, server.url, "match", "--xml", str(DEMO / "rekordbox.xml"),
             "--playlist", PLAYLIST, settings=True, wait=True)
        duration = time.perf_counter() - started
        reference = _outcomes(reference_dir)
        print(f"uninterrupted run: {len(reference)} tracks in {duration:.2f} s; killing "
              f"{args.kills} times at random moments in 0-{duration:.2f} s")
        # One moment in each of `kills` equal slices: every phase of the session gets hit.
        moments = [duration * (n + chance.random()) / args.kills for n in range(args.kills)]
        failures = sum(_kill_and_resume(Path(scratch) / f"kill-{n}", server.url, moment,
                                        reference, n)
                       for n, moment in enumerate(moments, start=1))
    print(f"{args.kills - failures}/{args.kills} kills ended as the uninterrupted run")
    return 1 if failures else 0


def _kill_and_resume(data_dir: Path, url: str, delay: float, reference: list[tuple],
                     number: int) -> bool:
    """One kill; True when something was wrong."""
    child = _cli(data_dir, url, "match", "--xml", str(DEMO / "rekordbox.xml"),
                 "--playlist", PLAYLIST, settings=True)
    time.sleep(delay)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    written = _count(data_dir, "SELECT count(*) FROM track_results")
    integrity = _query(data_dir, "PRAGMA integrity_check")
    status = _listed_status(data_dir)
    problems = [] if integrity == [("ok",)] else [f"integrity {integrity}"]
    if status == "interrupted":
        session_id = _query(data_dir, "SELECT id FROM sessions")[0][0]
        _cli(data_dir, url, "resume", str(session_id), wait=True)
    elif status == "none":  # killed before the session existed: start it again
        _cli(data_dir, url, "match", "--xml", str(DEMO / "rekordbox.xml"),
             "--playlist", PLAYLIST, wait=True)
    elif status != "completed":
        problems.append(f"listed as {status}")
    final = _outcomes(data_dir)
    if final != reference:
        problems.append("results differ from the uninterrupted run")
    print(f"  kill {number:>2} at {delay:5.2f} s: {written:>2} tracks written, "
          f"integrity {integrity[0][0] if integrity else '?'}, listed {status:<11} -> "
          f"{'OK' if not problems else 'FAIL: ' + '; '.join(problems)}")
    return bool(problems)


def _cli(data_dir: Path, url: str, *args: str, settings: bool = False,
         wait: bool = False) -> subprocess.Popen[bytes]:
    if settings:
        paths = resolve_paths(data_dir).create()
        save_settings(Settings(requests_per_second=30.0, concurrency=2), paths.settings_file)
    command = [sys.executable, "-m", "cuepoint_tray", "--data-dir", str(data_dir), *args]
    if args[0] in ("match", "resume"):
        command += ["--beatport-url", url]
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    if wait and child.wait(timeout=300) != 0:
        raise SystemExit(f"cuepoint {' '.join(args)} failed in {data_dir}")
    return child


def _listed_status(data_dir: Path) -> str:
    """The session's status as `cuepoint sessions` shows it; "none" when there is none."""
    try:
        found = _query(data_dir, "SELECT id FROM sessions")
    except sqlite3.OperationalError:
        found = []
    if not found:
        return "none"
    listing = subprocess.run([sys.executable, "-m", "cuepoint_tray", "--data-dir",
                              str(data_dir), "sessions"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.splitlines()
    line = next(line.split() for line in listing if line.split()[:1] == [str(found[0][0])])
    return line[3]


def _outcomes(data_dir: Path) -> list[tuple]:
    return _query(data_dir, "SELECT playlist, position, status, bp_id FROM track_results "
                            "ORDER BY playlist, position")


def _count(data_dir: Path, sql: str) -> int:
    try:
        found = _query(data_dir, sql)
    except sqlite3.OperationalError:  # killed before the tables were made
        return 0
    return int(found[0][0]) if found else 0


def _query(data_dir: Path, sql: str) -> list[tuple]:
    database = resolve_paths(data_dir).database
    if not database.exists():
        return [("ok",)] if sql.startswith("PRAGMA") else []
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        return connection.execute(sql).fetchall()


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20)
    return parser.parse_args()


if __name__ == "__main__":
    raise SystemExit(main())
