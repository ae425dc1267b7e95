#!/usr/bin/env python3
"""Benchmark what keeping the history costs a matching session.

The same cold-cache session runs (a) through `session.run_match`, with the history writer
and the end-of-session report, and (b) through the same composition without them: HTTP
client, provider, matcher and runner only. Every run gets a fresh data folder, so each one
starts with an empty HTTP cache and history. The two alternate for `--rounds` rounds (the
first variant swaps each round, so a warming server or machine favours neither), then the
medians and the overhead in percent are printed. Target: overhead ≤ 3 % of wall time.

Two regimes, both run by default:
  realistic  150 ms server latency, server limit 8/s, client rate 8/s, concurrency 4
  worst      no latency, no server limit, client rate 1000/s: the writer's cost shows most

    .venv/bin/python scripts/bench_persistence.py
    .venv/bin/python scripts/bench_persistence.py --regime worst --rounds 5 --profile
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cuepoint_tray.catalog_server import CatalogServer, Faults  # noqa: E402
from cuepoint_tray.domain import Playlist  # noqa: E402
from cuepoint_tray.events import SessionEnded  # noqa: E402
from cuepoint_tray.matching import TrackMatcher  # noqa: E402
from cuepoint_tray.paths import AppPaths, resolve_paths  # noqa: E402
from cuepoint_tray.providers import make_http_client, make_provider  # noqa: E402
from cuepoint_tray.rekordbox import Library, read_library  # noqa: E402
from cuepoint_tray.runner import SessionRunner, jobs_for  # noqa: E402
from cuepoint_tray.session import run_match  # noqa: E402
from cuepoint_tray.settings import Settings  # noqa: E402

DEV = ROOT.parent / "shared" / "eval" / "dev"


@dataclass(frozen=True)
class Regime:
    """How the catalog server answers and how fast the client may ask."""

    name: str
    latency_ms: float
    server_limit: float  # requests/s before the server answers 429; 0: no limit
    rate: float  # the client's requests/s
    concurrency: int = 4


REGIMES = {
    "realistic": Regime("realistic", latency_ms=150.0, server_limit=8.0, rate=8.0),
    "worst": Regime("worst", latency_ms=0.0, server_limit=0.0, rate=1000.0),
}


@dataclass(frozen=True)
class Timing:
    """One session run: the whole call, the runner's own clock inside it, and the CPU time
    of the whole process (every thread, the in-process catalog server's too), which a busy
    machine disturbs less than wall time."""

    wall_s: float
    runner_s: float
    cpu_s: float
    tracks: int


Variant = Callable[[Library, Playlist, Settings, AppPaths], SessionEnded]


def with_history(library: Library, playlist: Playlist, settings: Settings,
                 paths: AppPaths) -> SessionEnded:
    """The session as the CLI runs it: history writer and report on."""
    return run_match(library, [playlist], settings, paths).ended


def without_history(library: Library, playlist: Playlist, settings: Settings,
                    paths: AppPaths) -> SessionEnded:
    """The composition of `session._run` without the history writer and the report."""
    http = make_http_client(settings, paths.http_cache)
    try:
        provider = make_provider(settings, http)
        runner = SessionRunner(TrackMatcher(provider), library.tracks,
                               provider_name=provider.name, concurrency=settings.concurrency)
        return runner.run(jobs_for([(playlist.path_text, playlist.track_ids)]))
    finally:
        http.close()


VARIANTS: dict[str, Variant] = {"with history": with_history,
                                "without history": without_history}


def main() -> int:
    args = _arguments()
    library = read_library(args.xml)
    playlist = library.find_playlist(args.playlist)
    chosen = list(REGIMES.values()) if args.regime == "both" else [REGIMES[args.regime]]
    for regime in chosen:
        timings = bench_regime(regime, args.catalog, library, playlist, args.rounds)
        print_regime(regime, timings)
        if args.profile:
            profile_regime(regime, args.catalog, library, playlist)
    return 0


def bench_regime(regime: Regime, catalog: Path, library: Library, playlist: Playlist,
                 rounds: int) -> dict[str, list[Timing]]:
    """Run both variants `rounds` times each, alternating which goes first."""
    timings: dict[str, list[Timing]] = {name: [] for name in VARIANTS}
    faults = Faults(latency_ms=regime.latency_ms, rate_limit=regime.server_limit or None,
                    seed=1)
    with CatalogServer(catalog, faults=faults).start() as server:
        settings = Settings(beatport_web_url=server.url, beatport_api_url=server.url + "/v4",
                            requests_per_second=regime.rate, concurrency=regime.concurrency)
        for number in range(rounds):
            order = list(VARIANTS) if number % 2 == 0 else list(reversed(VARIANTS))
            for name in order:
                timing = timed_run(VARIANTS[name], library, playlist, settings)
                timings[name].append(timing)
                print(f"  {regime.name} round {number + 1} {name:<16} {timing.wall_s:7.3f} s "
                      f"(runner {timing.runner_s:.3f} s, CPU {timing.cpu_s:.3f} s, "
                      f"{timing.tracks} tracks)", flush=True)
    return timings


def timed_run(variant: Variant, library: Library, playlist: Playlist,
              settings: Settings) -> Timing:
    """One cold session in a fresh data folder, timed from the call to its return."""
    with tempfile.TemporaryDirectory(prefix="cuepoint-bench-") as scratch:
        paths = resolve_paths(scratch).create()
        started, cpu_started = time.perf_counter(), time.process_time()
        ended = variant(library, playlist, settings, paths)
        wall_s = time.perf_counter() - started
        cpu_s = time.process_time() - cpu_started
    if ended.status != "completed":
        raise SystemExit(f"session {ended.status}: {ended.reason}")
    return Timing(wall_s, ended.summary.wall_ms / 1000, cpu_s, ended.summary.done)


def print_regime(regime: Regime, timings: dict[str, list[Timing]]) -> None:
    """Medians of both variants and the history's overhead in percent of a session."""
    print(f"{regime.name}: latency {regime.latency_ms:g} ms, server limit "
          f"{regime.server_limit or 'none'}, rate {regime.rate:g}/s, "
          f"concurrency {regime.concurrency}, {len(timings['with history'])} rounds")
    wall, runner, cpu = (_medians(timings, figure) for figure in ("wall_s", "runner_s", "cpu_s"))
    for name in VARIANTS:
        print(f"  median {name:<16} {wall[name]:7.3f} s   (runner {runner[name]:.3f} s, "
              f"CPU {cpu[name]:.3f} s)")
    overhead = _overhead(wall)
    verdict = "within" if overhead <= 3.0 else "OVER"
    print(f"  overhead {overhead:+.1f} % of wall time ({verdict} the 3 % target); "
          f"runner only {_overhead(runner):+.1f} %; CPU {_overhead(cpu):+.1f} %")


def _medians(timings: dict[str, list[Timing]], figure: str) -> dict[str, float]:
    return {name: statistics.median(getattr(t, figure) for t in runs)
            for name, runs in timings.items()}


def _overhead(medians: dict[str, float]) -> float:
    """How much longer the session with the history took, in percent of the one without."""
    base = medians["without history"]
    return (medians["with history"] - base) / base * 100


def profile_regime(regime: Regime, catalog: Path, library: Library,
                   playlist: Playlist) -> None:
    """cProfile the history writer's thread during one run, and print its CPU time."""
    faults = Faults(latency_ms=regime.latency_ms, rate_limit=regime.server_limit or None,
                    seed=1)
    profile, cpu = cProfile.Profile(), []
    original = threading.Thread.run

    def run(thread: threading.Thread) -> None:
        if thread.name != "history-writer":
            return original(thread)
        started = time.thread_time()
        profile.enable()
        try:
            original(thread)
        finally:
            profile.disable()
            cpu.append(time.thread_time() - started)

    with CatalogServer(catalog, faults=faults).start() as server, \
            tempfile.TemporaryDirectory(prefix="cuepoint-bench-") as scratch:
        settings = Settings(beatport_web_url=server.url, beatport_api_url=server.url + "/v4",
                            requests_per_second=regime.rate, concurrency=regime.concurrency)
        threading.Thread.run = run  # type: ignore[assignment]
        try:
            with_history(library, playlist, settings, resolve_paths(scratch).create())
        finally:
            threading.Thread.run = original  # type: ignore[method-assign]
    print(f"{regime.name}: history writer thread CPU {sum(cpu):.3f} s (profiled)")
    pstats.Stats(profile).sort_stats("tottime").print_stats(20)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--catalog", type=Path, default=DEV / "catalog.jsonl")
    parser.add_argument("--xml", type=Path, default=DEV / "rekordbox.xml")
    parser.add_argument("--playlist", default="Sets/Dev Set")
    parser.add_argument("--regime", choices=("both", *REGIMES), default="both")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true",
                        help="also cProfile the history writer's thread in one run")
    return parser.parse_args()


if __name__ == "__main__":
    raise SystemExit(main())
