#!/usr/bin/env python3
"""What Beatport as it is today costs a session, measured against the local catalog server.

    .venv/bin/python scripts/bench_signin.py                  # both parts
    .venv/bin/python scripts/bench_signin.py --token-ttl 3 --requests-per-second 8

1. Signed out, against today's website (search pages without __NEXT_DATA__): the requests
   the server answered, how the session ended and why, and the tracks it counted.
2. Signed in (an account on the server), the 300-track dev set with access tokens that
   live `--token-ttl` seconds: renewals, the token endpoint's answers, 401s, failed tracks.

Each session runs as the app runs it (`session.run_match`, history and all), in a fresh
data folder, at the app's throttle unless told otherwise.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import requests

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from cuepoint_tray.account import log_in  # noqa: E402
from cuepoint_tray.catalog_server import CatalogServer, Faults  # noqa: E402
from cuepoint_tray.paths import resolve_paths  # noqa: E402
from cuepoint_tray.rekordbox import read_library  # noqa: E402
from cuepoint_tray.session import run_match  # noqa: E402
from cuepoint_tray.settings import (  # noqa: E402
    Settings,
    load_settings,
    save_settings,
    served_from,
)

DEV_SET = PROJECT_ROOT.parent / "shared" / "eval" / "dev"
PLAYLIST = "Sets/Dev Set"
ACCOUNT = ("bench-dj", "bench-password-not-kept")


def signed_out(server: CatalogServer, scratch: Path, rate: float) -> None:
    paths = resolve_paths(scratch / "signed-out").create()
    settings = Settings(**served_from(server.url), requests_per_second=rate)  # type: ignore[arg-type]
    library = read_library(DEV_SET / "rekordbox.xml")
    server.faults = Faults(today_search_pages=True)
    started = time.perf_counter()
    outcome = run_match(library, [library.find_playlist(PLAYLIST)], settings, paths)
    wall = time.perf_counter() - started
    stats, summary = server.stats(), outcome.ended.summary
    print("== signed out, today's website (search pages without __NEXT_DATA__)")
    print(f"   requests answered by the server: {stats['total']} {stats['by_status']}")
    print(f"   session {outcome.ended.status} after {wall:.1f} s: {outcome.ended.reason}")
    print(f"   tracks counted: matched {summary.matched} · unmatched {summary.unmatched} · "
          f"errors {summary.errors} (done {summary.done} of {summary.tracks})")


def signed_in(server: CatalogServer, scratch: Path, rate: float, ttl: float) -> None:
    paths = resolve_paths(scratch / "signed-in").create()
    save_settings(Settings(**served_from(server.url), requests_per_second=rate),  # type: ignore[arg-type]
                  paths.settings_file)
    log_in(paths.settings_file, load_settings(paths.settings_file), *ACCOUNT)
    server.faults = Faults(today_search_pages=True)  # the website stays unusable
    library = read_library(DEV_SET / "rekordbox.xml")
    requests.delete(f"{server.url}/_stats", timeout=5).raise_for_status()
    started = time.perf_counter()
    outcome = run_match(library, [library.find_playlist(PLAYLIST)],
                        load_settings(paths.settings_file), paths)
    wall = time.perf_counter() - started
    stats, summary = server.stats(), outcome.ended.summary
    print(f"== signed in, access tokens living {ttl:g} s, {rate:g} requests/s")
    print(f"   session {outcome.ended.status} in {wall:.1f} s on the {outcome.meta['provider']}; "
          f"matched {summary.matched} · to review {summary.review} · unmatched "
          f"{summary.unmatched} · errors {summary.errors} (of {summary.tracks})")
    print(f"   token renewals: {outcome.meta['token_renewals']} (one per "
          f"{wall / max(1, outcome.meta['token_renewals']):.1f} s); token requests served "
          f"{stats['auth']}; 401s {stats['by_status'].get('401', 0)}; "
          f"refused renewals {stats['by_status'].get('400', 0)}")
    print(f"   requests answered by the server: {stats['total']} {stats['by_status']}; "
          f"website {stats['web_search']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--token-ttl", type=float, default=5.0, metavar="S",
                        help="access token lifetime on the server (default 5)")
    parser.add_argument("--requests-per-second", type=float,
                        default=Settings().requests_per_second, metavar="R",
                        help="the client's throttle (default: the app's)")
    parser.add_argument("--part", choices=("signed-out", "signed-in", "both"), default="both")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    with CatalogServer(DEV_SET / "catalog.jsonl", accounts=dict([ACCOUNT]),
                       token_ttl_s=args.token_ttl).start() as server, \
            tempfile.TemporaryDirectory() as scratch:
        if args.part in ("signed-out", "both"):
            signed_out(server, Path(scratch), args.requests_per_second)
        if args.part in ("signed-in", "both"):
            signed_in(server, Path(scratch), args.requests_per_second, args.token_ttl)
    return 0


if __name__ == "__main__":
    sys.exit(main())
