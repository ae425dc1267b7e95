"""Time every dashboard query on a history file: p50 / p95 / max in ms, and the file's size.

    python scripts/make_history.py /tmp/history.sqlite3
    python scripts/bench_history.py /tmp/history.sqlite3 --runs 50

Each query runs `--runs` times on random sessions (or tracks), through the same shared
reader handle the dashboard uses; the target is p95 <= 100 ms.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from peewee import SqliteDatabase

from cuepoint_tray.store import open_history
from cuepoint_tray.store import queries as q
from cuepoint_tray.store.live import live_session
from cuepoint_tray.store.queries import percentile

TARGET_MS = 100.0


def _sample(db: SqliteDatabase, rng: random.Random) -> dict[str, Any]:
    """Random arguments drawn before timing: sessions, pairs of reruns, tracks."""
    sessions = [row[0] for row in db.execute_sql("SELECT id FROM sessions WHERE done > 0")]
    by_playlists: dict[str, list[int]] = {}
    for session_id, playlists in db.execute_sql("SELECT id, playlists FROM sessions"):
        by_playlists.setdefault(playlists, []).append(session_id)
    reruns = [ids for ids in by_playlists.values() if len(ids) > 1] or [sessions]
    max_track = db.execute_sql("SELECT max(id) FROM track_results").fetchone()[0]
    return {"sessions": sessions, "reruns": reruns, "max_track": max_track, "rng": rng}


def _benchmarks(s: dict[str, Any]) -> dict[str, Callable[[SqliteDatabase], object]]:
    rng: random.Random = s["rng"]

    def session() -> int:
        return int(rng.choice(s["sessions"]))

    def pair() -> tuple[int, int]:
        a, b = rng.sample(rng.choice(s["reruns"]), 2)
        return a, b

    return {
        "list_sessions (first page)": lambda db: q.list_sessions(db, limit=50),
        "list_sessions (status+search)": lambda db: q.list_sessions(
            db, limit=50, status="completed", search=f"Set {rng.randint(0, 59):03d}"),
        "list_sessions (by match_rate, page 10)": lambda db: q.list_sessions(
            db, limit=50, offset=450, order_by="-match_rate"),
        "session_overview": lambda db: q.session_overview(db, session()),
        "query_stats_by_type": lambda db: q.query_stats_by_type(db, session()),
        "slowest_tracks": lambda db: q.slowest_tracks(db, session(), 20),
        "tips": lambda db: q.tips(db, session()),
        "trends (100 sessions)": lambda db: q.trends(db, 100),
        "trends (all sessions)": lambda db: q.trends(db, 100000),
        "compare_sessions (reruns)": lambda db: q.compare_sessions(db, *pair()),
        "track_detail": lambda db: q.track_detail(db, rng.randint(1, s["max_track"])),
        "review_queue": lambda db: q.review_queue(db, session()),
        "final_matches": lambda db: q.final_matches(db, session()),
        "session_tracks (all)": lambda db: q.session_tracks(db, session()),
        "session_tracks (needs_decision)": lambda db: q.session_tracks(
            db, session(), needs_decision=True),
        "session_changes (only changing)": lambda db: q.session_changes(
            db, session(), only_changing=True, limit=100),
        "session_tracks (status+search)": lambda db: q.session_tracks(
            db, session(), status="matched", search="a"),
        "live_session (latest)": lambda db: live_session(db),
        "live_session (one, after a track)": lambda db: live_session(
            db, session(), after_track=rng.randint(1, s["max_track"])),
    }


def run(path: Path, runs: int, seed: int) -> bool:
    db = open_history(path)
    rng = random.Random(seed)
    sample = _sample(db, rng)
    counts = db.execute_sql(
        "SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM track_results), "
        "(SELECT count(*) FROM queries), (SELECT count(*) FROM candidates)").fetchone()
    print(f"{path}: {path.stat().st_size / 1e6:.0f} MB; sessions {counts[0]:,}, "
          f"tracks {counts[1]:,}, queries {counts[2]:,}, candidates {counts[3]:,}")
    print(f"{'query':42} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    worst = 0.0
    for name, call in _benchmarks(sample).items():
        timings = sorted(_time(call, db) for _ in range(runs))
        p95 = percentile(timings, 95)
        worst = max(worst, p95)
        flag = "" if p95 <= TARGET_MS else "  <-- over target"
        print(f"{name:42} {percentile(timings, 50):8.2f} {p95:8.2f} {timings[-1]:8.2f}{flag}")
    print(f"worst p95: {worst:.2f} ms (target {TARGET_MS:.0f} ms)")
    return worst <= TARGET_MS


def _time(call: Callable[[SqliteDatabase], object], db: SqliteDatabase) -> float:
    started = time.perf_counter()
    call(db)
    return (time.perf_counter() - started) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db", type=Path, help="a history file, e.g. from make_history.py")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    if not args.db.exists():
        parser.error(f"{args.db} does not exist")
    return 0 if run(args.db, args.runs, args.seed) else 1


if __name__ == "__main__":
    sys.exit(main())
