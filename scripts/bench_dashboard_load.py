#!/usr/bin/env python3
"""Many dashboard clients polling the live API while a session writes the history.

Starts the local catalog server (with latency), the dashboard server and its controller,
starts a session over the dev playlist through the API, and has N clients poll
/api/live (with `after=`, as the page does) every `--interval` seconds until it ends.
Prints the answers' latency (p50, p95, max), errors by kind, and the session's end.

    .venv/bin/python scripts/bench_dashboard_load.py            # 50 clients
    .venv/bin/python scripts/bench_dashboard_load.py --clients 100 --latency-ms 20
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cuepoint_tray.catalog_server import CatalogServer, Faults  # noqa: E402
from cuepoint_tray.controller import SessionController  # noqa: E402
from cuepoint_tray.dashboard import DashboardAPI, DashboardServer  # noqa: E402
from cuepoint_tray.paths import resolve_paths  # noqa: E402
from cuepoint_tray.settings import Settings, load_settings, save_settings  # noqa: E402
from cuepoint_tray.store.queries import percentile  # noqa: E402

DEV = ROOT.parent / "shared" / "eval" / "dev"


def main() -> int:
    args = _arguments()
    catalog_server = CatalogServer(args.catalog, faults=Faults(latency_ms=args.latency_ms))
    with tempfile.TemporaryDirectory(prefix="cuepoint-load-") as scratch, \
            catalog_server.start() as catalog:
        paths = resolve_paths(scratch).create()
        save_settings(Settings(rekordbox_library=str(args.xml), beatport_web_url=catalog.url,
                               beatport_api_url=catalog.url + "/v4",
                               requests_per_second=args.rate), paths.settings_file)
        controller = SessionController(paths, lambda: load_settings(paths.settings_file))
        with DashboardServer(DashboardAPI(paths, controller), token="bench") as dashboard:
            result = _poll_during_session(dashboard, controller, args)
        controller.shut_down()
    _print(result, args)
    return 1 if result.errors else 0


class Result:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies_ms: list[float] = []
        self.errors: Counter[str] = Counter()
        self.wall_s = 0.0
        self.final: dict = {}


def _poll_during_session(dashboard: DashboardServer, controller: SessionController,
                         args: argparse.Namespace) -> Result:
    result = Result()
    headers = {"Authorization": "Bearer bench"}
    requests.post(dashboard.url + "/api/match", json={"playlists": [args.playlist]},
                  headers=headers, timeout=10).raise_for_status()
    done = threading.Event()
    clients = [threading.Thread(target=_client, args=(dashboard.url, headers, done, result,
                                                      args.interval)) for _ in range(args.clients)]
    started = time.perf_counter()
    for client in clients:
        client.start()
    controller.wait()
    time.sleep(args.interval * 2)  # the clients' last polls see the session's end
    done.set()
    for client in clients:
        client.join()
    result.wall_s = time.perf_counter() - started
    result.final = requests.get(dashboard.url + "/api/live", headers=headers,
                                timeout=10).json()["session"]
    return result


def _client(url: str, headers: dict[str, str], done: threading.Event, result: Result,
            interval: float) -> None:
    http = requests.Session()
    after = 0
    while not done.is_set():
        started = time.perf_counter()
        try:
            answer = http.get(f"{url}/api/live?after={after}", headers=headers, timeout=10)
            elapsed = (time.perf_counter() - started) * 1000
            if answer.status_code != 200:
                kind = f"HTTP {answer.status_code}: {answer.text[:80]}"
                with result.lock:
                    result.errors[kind] += 1
            else:
                session = answer.json()["session"]  # None until the session's row exists
                new = session["new_tracks"] if session else []
                after = new[-1]["id"] if new else after
                with result.lock:
                    result.latencies_ms.append(elapsed)
        except requests.RequestException as exc:
            with result.lock:
                result.errors[type(exc).__name__] += 1
        done.wait(interval)


def _print(result: Result, args: argparse.Namespace) -> None:
    ordered = sorted(result.latencies_ms)
    final = result.final
    print(f"{args.clients} clients polling /api/live every {args.interval:g} s during a "
          f"{final['tracks']}-track session ({result.wall_s:.1f} s)")
    print(f"  answers        {len(ordered)} ({len(ordered) / result.wall_s:.0f}/s)")
    print(f"  latency        p50 {percentile(ordered, 50):.1f} ms · "
          f"p95 {percentile(ordered, 95):.1f} ms · max {ordered[-1]:.1f} ms")
    print(f"  errors         {sum(result.errors.values())} "
          f"{dict(result.errors) if result.errors else ''}")
    print(f"  session        {final['status']}, {final['done']}/{final['tracks']} tracks, "
          f"{final['errors']} track errors")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=Path, default=DEV / "catalog.jsonl")
    parser.add_argument("--xml", type=Path, default=DEV / "rekordbox.xml")
    parser.add_argument("--playlist", default="Sets/Dev Set")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between polls")
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=40.0, help="client requests/s")
    return parser.parse_args()


if __name__ == "__main__":
    raise SystemExit(main())
