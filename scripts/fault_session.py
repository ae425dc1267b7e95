#!/usr/bin/env python3
"""Match the 300-track dev set under one network fault (or each in turn), and say what it cost.

    .venv/bin/python scripts/fault_session.py --fault 5xx
    .venv/bin/python scripts/fault_session.py --fault down --down-s 30
    .venv/bin/python scripts/fault_session.py --all

Each fault is switched on in the local catalog server (from the start, or after 100 tracks)
and the session runs as the app runs it (`session.run_match`, history and all). A session the
fault pauses is resumed once the fault is off, as the DJ would. Printed per fault: requests
that reached the server, the client's retries, failed queries, tracks by status, wall time,
the pauses, and whether every track not in error came out as in a fault-free run.

tests/test_network_faults.py runs the same scenarios, with shorter waits.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from cuepoint_tray.catalog_server import CatalogServer, Faults  # noqa: E402
from cuepoint_tray.domain import Playlist  # noqa: E402
from cuepoint_tray.events import Event, StateChanged, TrackDone  # noqa: E402
from cuepoint_tray.paths import AppPaths, resolve_paths  # noqa: E402
from cuepoint_tray.rekordbox import Library, read_library  # noqa: E402
from cuepoint_tray.session import MatchOutcome, resume_match, run_match  # noqa: E402
from cuepoint_tray.settings import Settings  # noqa: E402
from cuepoint_tray.waits import APP_WAITS, Waits  # noqa: E402

DEV_SET = PROJECT_ROOT.parent / "shared" / "eval" / "dev"
PLAYLIST = "Sets/Dev Set"
FAULT_AFTER_TRACKS = 100  # faults that come mid-session come after this many tracks


@dataclass(frozen=True)
class Scenario:
    """One fault, how it is switched on and off, and what the session should do about it."""

    name: str
    what: str
    faults: Faults
    provider: str = "website"  # "website", or "api" (a token is set)
    after_tracks: int = 0  # tracks done before the fault comes (0: it is there from the start)
    lasts_s: float | None = None  # switched off this long after it came; None: for the run
    pauses: bool = False  # the session stops as paused, and is resumed once the fault is off


# The waits of retries, circuit breaker and session, passed to run_match; the tests shorten them.
Tuning = Waits


def scenarios(down_s: float = 30.0, wait_for_beatport_s: float = 20.0,
              failing_s: float = 15.0) -> dict[str, Scenario]:
    """The faults of the hardening issue, by name. `down_s`: how long the server is gone;
    `wait_for_beatport_s`: the session's wait, which "gone for good" outlasts; `failing_s`:
    how long every answer is a 5xx in "breaker"."""
    gone_for_good = Faults(down_s=wait_for_beatport_s * 2 + 2)
    table = [
        Scenario("429-bursts", "every 2 s, 1 s of 429 with Retry-After",
                 Faults(burst_429_every_s=2.0, burst_429_s=1.0)),
        Scenario("5xx", "20 % of answers are 500/502/503", Faults(error_rate=0.2, seed=1)),
        Scenario("timeouts", "5 % of requests hang past the client's timeout",
                 Faults(timeout_rate=0.05, hang_s=3.0, seed=2)),
        Scenario("resets", "10 % of connections reset with no answer",
                 Faults(reset_rate=0.1, seed=3)),
        Scenario("truncated", "10 % of answers cut mid-body, connection dropped",
                 Faults(truncate_rate=0.1, seed=4)),
        Scenario("cut-json", "10 % of API answers cut in half but sent as whole",
                 Faults(cut_json_rate=0.1, seed=5), provider="api"),
        Scenario("no-next-data", "10 % of website pages without __NEXT_DATA__ (the session "
                 "pauses at the first, as against today's site)",
                 Faults(no_next_data_rate=0.1, seed=6), pauses=True),
        Scenario("renamed-field", "10 % of API answers name tracks 'title_name', not 'name'",
                 Faults(renamed_field_rate=0.1, seed=7), provider="api"),
        Scenario("cloudflare", "Cloudflare's challenge page from track 100 on",
                 Faults(cloudflare=True), after_tracks=FAULT_AFTER_TRACKS, pauses=True),
        Scenario("breaker", f"every answer a 5xx for {failing_s:g} s from track 100",
                 Faults(error_rate=1.0, seed=8), after_tracks=FAULT_AFTER_TRACKS,
                 lasts_s=failing_s),
        Scenario("down", f"server gone (connection refused) for {down_s:g} s from track 100",
                 Faults(down_s=down_s), after_tracks=FAULT_AFTER_TRACKS),
        Scenario("down-for-good", f"server gone {gone_for_good.down_s:g} s from track 100, "
                 f"the session waits {wait_for_beatport_s:g} s",
                 gone_for_good, after_tracks=FAULT_AFTER_TRACKS, pauses=True),
    ]
    return {scenario.name: scenario for scenario in table}


# --- running one ---------------------------------------------------------------------------------


@dataclass
class Figures:
    """What one session under one fault came to."""

    name: str
    session_id: int = 0
    status: str = ""
    reasons: list[tuple[str, str]] = field(default_factory=list)  # (status, reason) changes
    sent: int = 0  # requests the client put on the wire, refused connections included
    server_requests: int = 0
    server_by_status: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    failed_queries: int = 0
    waits_for_beatport: int = 0
    tracks: dict[int, tuple[str, int | None, str]] = field(default_factory=dict)
    rows: int = 0  # track rows in the history (a position twice would count twice)
    wall_s: float = 0.0
    quiet_s: float = 0.0  # longest stretch, from the fault on, with no request served

    def by_status(self) -> Counter[str]:
        return Counter(status for status, _, _ in self.tracks.values())

    def differing(self, baseline: Figures) -> list[int]:
        """Positions not in error whose status or chosen track differ from the baseline's."""
        return [position for position, (status, bp_id, _) in self.tracks.items()
                if status != "error" and baseline.tracks.get(position, ("", None, ""))[:2]
                != (status, bp_id)]

    def unmatched_by_fault(self, baseline: Figures) -> list[int]:
        """Positions "unmatched" here but matched or to review in the fault-free run."""
        return [position for position, (status, _, _) in self.tracks.items()
                if status == "unmatched" and baseline.tracks[position][0] != "unmatched"]


def settings_for(server: CatalogServer, provider: str) -> Settings:
    """Fast settings: no throttle to speak of, four workers, a 1 s timeout, five tries."""
    settings = Settings(beatport_web_url=server.url, beatport_api_url=server.url + "/v4",
                        requests_per_second=200.0, concurrency=4, request_timeout_s=1.0,
                        max_attempts=5, report_format="json")
    return replace(settings, beatport_token="local") if provider == "api" else settings


@contextlib.contextmanager
def counting_sends() -> Iterator[list[int]]:
    """Count what reaches the transport (after the cache, the breaker and the throttle)."""
    sent = [0]
    lock = threading.Lock()
    send = HTTPAdapter.send

    def counted(adapter: HTTPAdapter, *args: Any, **kwargs: Any) -> requests.Response:
        with lock:
            sent[0] += 1
        return send(adapter, *args, **kwargs)

    HTTPAdapter.send = counted  # type: ignore[method-assign,assignment]
    try:
        yield sent
    finally:
        HTTPAdapter.send = send  # type: ignore[method-assign]


def run_scenario(scenario: Scenario | None, server: CatalogServer, library: Library,
                 data_dir: Path, tuning: Tuning = APP_WAITS) -> Figures:
    """One session of the dev set with `scenario`'s fault (None: the fault-free run)."""
    paths = resolve_paths(data_dir).create()  # a cache of its own: nothing answered before
    playlist = library.find_playlist(PLAYLIST)
    name = scenario.name if scenario else "none"
    settings = settings_for(server, scenario.provider if scenario else "website")
    server.faults = Faults()
    requests.delete(f"{server.url}/_stats", timeout=5).raise_for_status()
    figures = Figures(name)
    fault = _FaultSwitch(server, scenario, figures)
    started = time.perf_counter()
    with counting_sends() as sent:
        outcome = _match(library, playlist, settings, paths, fault, figures, tuning)
    figures.wall_s = time.perf_counter() - started
    figures.sent = sent[0]
    fault.finish()
    _read_history(figures, paths, outcome.session_id)
    figures.server_by_status = dict(server.stats()["by_status"])
    figures.server_requests = sum(figures.server_by_status.values())
    return figures


def _match(library: Library, playlist: Playlist, settings: Settings, paths: AppPaths,
           fault: _FaultSwitch, figures: Figures, waits: Waits) -> MatchOutcome:
    """The session, and its resume when the fault paused it."""
    outcome = run_match(library, [playlist], settings, paths, listeners=[fault], waits=waits)
    figures.session_id, figures.status = outcome.session_id, outcome.ended.status
    _add_summary(figures, outcome)
    if outcome.ended.status == "paused" and fault.pauses:
        fault.clear_and_wait_until_up()
        outcome = resume_match(outcome.session_id, settings, paths, listeners=[fault],
                               waits=waits)
        figures.status = f"paused, resumed: {outcome.ended.status}"
        _add_summary(figures, outcome)
    return outcome


def _add_summary(figures: Figures, outcome: MatchOutcome) -> None:
    figures.retries += outcome.ended.summary.retries
    figures.waits_for_beatport += outcome.ended.summary.waits_for_beatport


class _FaultSwitch:
    """A session listener: switches the fault on at its track, off after its time, and
    watches the server's request count while the fault is on."""

    def __init__(self, server: CatalogServer, scenario: Scenario | None, figures: Figures):
        self.server = server
        self.scenario = scenario
        self.figures = figures
        self.pauses = bool(scenario and scenario.pauses)
        self._on = threading.Event()
        self._done = threading.Event()
        self._watcher: threading.Thread | None = None
        if scenario and scenario.after_tracks == 0:
            self._switch_on()

    def __call__(self, event: Event) -> None:
        if isinstance(event, StateChanged):
            self.figures.reasons.append((event.status, event.reason))
        elif (isinstance(event, TrackDone) and self.scenario and not self._on.is_set()
              and event.done == self.scenario.after_tracks):
            # Not on the worker's thread: going down closes sockets and waits for the server.
            threading.Thread(target=self._switch_on, daemon=True).start()

    def _switch_on(self) -> None:
        assert self.scenario is not None
        self._on.set()
        self.server.faults = self.scenario.faults
        self._watcher = threading.Thread(target=self._watch, daemon=True)
        self._watcher.start()
        if self.scenario.lasts_s is not None:
            threading.Timer(self.scenario.lasts_s, self._switch_off).start()

    def _switch_off(self) -> None:
        self.server.faults = Faults()

    def _watch(self) -> None:
        """The longest time the server's request count stood still from when the fault came
        until the session ended (a breaker stays open a while after the fault is gone)."""
        last_count, since = self._served(), time.monotonic()
        while not self._done.wait(0.05):
            count = self._served()
            if count != last_count:
                last_count, since = count, time.monotonic()
            self.figures.quiet_s = max(self.figures.quiet_s, time.monotonic() - since)

    def _served(self) -> int:
        return int(self.server.stats()["total"])

    def clear_and_wait_until_up(self) -> None:
        """Switch the fault off, as the DJ would wait for Beatport or fix the token."""
        self._switch_off()
        self.server.come_back()
        while self.server.is_down:
            time.sleep(0.05)

    def finish(self) -> None:
        self._done.set()
        self.server.faults = Faults()
        self.server.come_back()


def _read_history(figures: Figures, paths: AppPaths, session_id: int) -> None:
    """Tracks by position from the history, and its failed queries."""
    with contextlib.closing(sqlite3.connect(paths.database)) as db:
        rows = db.execute("SELECT position, status, bp_id, error FROM track_results "
                          "WHERE session_id = ? ORDER BY position", (session_id,)).fetchall()
        figures.failed_queries = db.execute(
            "SELECT count(*) FROM queries WHERE session_id = ? AND error != ''",
            (session_id,)).fetchone()[0]
    figures.rows = len(rows)
    figures.tracks = {position: (status, bp_id, error) for position, status, bp_id, error in rows}


# --- printing -------------------------------------------------------------------------------------


def report(figures: Figures, baseline: Figures, scenario: Scenario | None) -> str:
    """The figures of one run, as a few lines."""
    statuses = ", ".join(f"{count} {status}" for status, count in
                         sorted(figures.by_status().items()))
    differing = figures.differing(baseline)
    lines = [
        f"== {figures.name}: {scenario.what if scenario else 'no fault'}",
        f"   session {figures.status}; {figures.rows} track rows ({statuses}); "
        f"wall {figures.wall_s:.1f} s",
        f"   requests sent {figures.sent}, served {figures.server_requests} "
        f"{figures.server_by_status}; retries in the results {figures.retries}; "
        f"failed queries {figures.failed_queries}",
        f"   same as fault-free for tracks not in error: "
        f"{'yes' if not differing else f'no, {len(differing)} differ {differing[:10]}'}; "
        f"'unmatched' because of the fault: {len(figures.unmatched_by_fault(baseline))}",
    ]
    if figures.waits_for_beatport:
        lines.append(f"   waited for Beatport {figures.waits_for_beatport}x; longest stretch "
                     f"without a request served since the fault came: {figures.quiet_s:.1f} s")
    lines += [f"   {status}: {reason}" for status, reason in figures.reasons if reason]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--fault", choices=sorted(scenarios()), help="one fault")
    which.add_argument("--all", action="store_true", help="every fault in turn")
    parser.add_argument("--down-s", type=float, default=30.0,
                        help="how long the server is gone in 'down' (default 30)")
    parser.add_argument("--wait-s", type=float, default=20.0,
                        help="how long the session waits for Beatport in 'down-for-good' "
                             f"(the app waits {Waits.wait_for_beatport_s:g} s)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)  # a renamed field warns for every track skipped
    table = scenarios(args.down_s, args.wait_s)
    chosen = list(table.values()) if args.all else [table[args.fault]]
    library = read_library(DEV_SET / "rekordbox.xml")
    with CatalogServer(DEV_SET / "catalog.jsonl").start() as server, \
            tempfile.TemporaryDirectory() as scratch:
        baseline = run_scenario(None, server, library, Path(scratch) / "none")
        print(report(baseline, baseline, None), flush=True)
        for scenario in chosen:
            tuning = Tuning(wait_for_beatport_s=args.wait_s) \
                if scenario.name == "down-for-good" else Tuning()
            figures = run_scenario(scenario, server, library, Path(scratch) / scenario.name,
                                   tuning)
            print(report(figures, baseline, scenario), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
