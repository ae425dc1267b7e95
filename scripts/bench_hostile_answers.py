"""What one hostile answer costs the client: wall time, peak memory, what the HTTP
cache kept.

Each case runs in its own process (peak RSS is per process) against tests/hostile_server.py
in front of the demo catalog server:

- huge:     200 MB of answer without a Content-Length
- many:     a 25-per-page search answered with 20,000 tracks
- drip:     a 130-byte answer sent one byte a second (request_timeout_s 3, max_attempts 5)
- nested:   200,000 nested JSON arrays

    .venv/bin/python scripts/bench_hostile_answers.py
"""

from __future__ import annotations

import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
CASES = ("huge", "many", "drip", "nested")


def run_case(case: str) -> dict[str, object]:
    from hostile_server import HostileServer

    from cuepoint_tray.catalog_server import CatalogServer
    from cuepoint_tray.providers import ApiV4Provider, HttpClient

    with CatalogServer(ROOT / "assets" / "demo" / "catalog.jsonl").start() as catalog, \
            HostileServer(catalog.url) as hostile, tempfile.TemporaryDirectory() as scratch:
        hostile.choose = lambda number, path, query: "json" if case == "many" else case
        hostile.payload = {"tracks": [{"id": n, "name": f"Track number {n}", "bpm": 128,
                                       "artists": [{"name": f"Artist {n}"}]}
                                      for n in range(1, 20_001)]}
        cache = Path(scratch) / "cache.sqlite3"
        http = HttpClient(cache_path=cache, cache_expiry_days=30, requests_per_second=0,
                          timeout_s=3.0, max_attempts=5, backoff_s=0.1, backoff_max_s=0.5)
        provider = ApiV4Provider(http, api_url=hostile.url + "/v4", token="t",
                                 web_url=hostile.url)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        try:
            found = provider.search("anything", per_page=25)
            outcome = f"{len(found.tracks)} tracks"
        except Exception as exc:  # what the caller would see
            outcome = f"{type(exc).__name__}: {str(exc)[:80]}"
        wall = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        http.close()
        with sqlite3.connect(cache) as db:
            kept = db.execute("SELECT count(*), coalesce(sum(length(value)), 0) "
                              "FROM responses").fetchone()
    return {"case": case, "wall_s": round(wall, 1), "rss_growth_mb": round((peak - before) / 1024),
            "cached": f"{kept[0]} ({kept[1] / 1e6:.2f} MB)", "outcome": outcome}


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--case":
        print(json.dumps(run_case(sys.argv[2])))
        return
    print(f"{'case':<8} {'wall s':>7} {'RSS +MB':>8} {'cached answers':>16}  outcome")
    for case in CASES:
        done = subprocess.run([sys.executable, __file__, "--case", case], capture_output=True,
                              text=True, timeout=900)
        if done.returncode != 0 or not done.stdout.strip():
            print(f"{case:<8} failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        row = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{row['case']:<8} {row['wall_s']:>7} {row['rss_growth_mb']:>8} "
              f"{row['cached']:>16}  {row['outcome']}")


if __name__ == "__main__":
    main()
