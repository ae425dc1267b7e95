#!/usr/bin/env python3
"""Benchmark a matching session against the local catalog server.

Default: the dev playlist with 150 ms latency and an 8 requests/s server limit, the client
throttled to 8/s. Prints wall time, requests per track, 429s received, and
wall ÷ (requests ÷ rate): 1.0 means the throttle was never idle, target ≤ 1.1.
Then a warm rerun on the same cache, which should send no request at all.

    .venv/bin/python scripts/bench_match.py
    .venv/bin/python scripts/bench_match.py --latency-ms 0 --server-limit 0 --rate 1000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cuepoint_tray.catalog_server import CatalogServer, Faults  # noqa: E402
from cuepoint_tray.paths import resolve_paths  # noqa: E402
from cuepoint_tray.rekordbox import read_library  # noqa: E402
from cuepoint_tray.session import MatchOutcome, run_match  # noqa: E402
from cuepoint_tray.settings import Settings  # noqa: E402

DEV = ROOT.parent / "shared" / "eval" / "dev"


def main() -> int:
    args = _arguments()
    library = read_library(args.xml)
    playlist = library.find_playlist(args.playlist)
    faults = Faults(latency_ms=args.latency_ms, rate_limit=args.server_limit or None, seed=1)
    with CatalogServer(args.catalog, faults=faults).start() as server, \
            tempfile.TemporaryDirectory(prefix="cuepoint-bench-") as scratch:
        settings = Settings(beatport_web_url=server.url, beatport_api_url=server.url + "/v4",
                            requests_per_second=args.rate, concurrency=args.concurrency)
        paths = resolve_paths(scratch).create()
        for run in ("cold", "warm"):
            server_before = server.stats()
            outcome = run_match(library, [playlist], settings, paths)
            _print(run, outcome, server_before, server.stats(), args.rate)
    return 0


def _print(run: str, outcome: MatchOutcome, before: dict, after: dict, rate: float) -> None:
    summary = outcome.ended.summary
    served = after["total"] - before["total"]
    too_many = after["by_status"].get("429", 0) - before["by_status"].get("429", 0)
    wall_s = summary.wall_ms / 1000
    ideal_s = served / rate
    print(f"{run}: {summary.done} tracks in {wall_s:.2f} s "
          f"({summary.done / wall_s:.1f} tracks/s)")
    print(f"  requests served   {served} ({served / summary.done:.3f} per track)")
    print(f"  429s received     {too_many}")
    print(f"  cache hits        {summary.cache_hits}/{summary.queries} queries")
    if served:
        print(f"  wall / (requests / {rate:g}) = {wall_s / ideal_s:.3f}")
    print(f"  matched {summary.matched} · review {summary.review} · "
          f"unmatched {summary.unmatched} · errors {summary.errors}")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=Path, default=DEV / "catalog.jsonl")
    parser.add_argument("--xml", type=Path, default=DEV / "rekordbox.xml")
    parser.add_argument("--playlist", default="Sets/Dev Set")
    parser.add_argument("--latency-ms", type=float, default=150.0)
    parser.add_argument("--server-limit", type=float, default=8.0,
                        help="server's requests/s before 429 (0: none)")
    parser.add_argument("--rate", type=float, default=8.0, help="client requests/s")
    parser.add_argument("--concurrency", type=int, default=4)
    return parser.parse_args()


if __name__ == "__main__":
    raise SystemExit(main())
