"""Time the dashboard's pages in headless Chromium over a big history: median and p95 in ms.

    python scripts/make_history.py /tmp/big-history.sqlite3 --sessions 2000
    python scripts/bench_dashboard.py /tmp/big-history.sqlite3 --runs 10

"Fully rendered" is the page's own signal: it sets body[data-ready="1"] and the performance
mark "cuepoint-ready" once its data is on screen and its charts are drawn. Two timings per
page:
- load: a fresh page load (the address typed, or the window opened) to "cuepoint-ready",
  measured from the navigation's start; plotly.js comes from the browser cache after the
  first, uncounted, load, as it would for a DJ;
- in-app: a click on another page of the dashboard, from "cuepoint-route" to "cuepoint-ready".
The History page and the Session page of a few sessions (the largest, a typical and an
unfinished one) are timed. The target is a p95 of at most 1000 ms; the exit status is 1
when a page misses it.

The history file is opened through a symlink in a scratch data folder, never modified
beyond what SQLite itself does on open (WAL).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cuepoint_tray.dashboard import DashboardAPI, DashboardServer  # noqa: E402
from cuepoint_tray.paths import resolve_paths  # noqa: E402
from cuepoint_tray.store.queries import percentile  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
TARGET_MS = 1000.0
TOKEN = "bench"
ELAPSED = """() => {
  const last = (name) => performance.getEntriesByName(name, "mark").at(-1);
  return last("cuepoint-ready").startTime - (%s);
}"""
SINCE_LOAD = ELAPSED % "0"
SINCE_ROUTE = ELAPSED % 'last("cuepoint-route").startTime'


def main() -> int:
    args = _arguments()
    history = Path(args.history).resolve()
    if not history.exists():
        print(f"{history} does not exist: make it with scripts/make_history.py", file=sys.stderr)
        return 2
    sessions = _chosen_sessions(history)
    with tempfile.TemporaryDirectory(prefix="cuepoint-bench-") as scratch:
        paths = resolve_paths(Path(scratch) / "data").create()
        paths.database.symlink_to(history)
        with DashboardServer(DashboardAPI(paths), token=TOKEN) as server:
            results = _measure(server.url, sessions, args.runs)
    return _report(history, results)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("history", help="the history file (history.sqlite3) to serve")
    parser.add_argument("--runs", type=int, default=10, help="timed runs per page (default 10)")
    return parser.parse_args()


def _chosen_sessions(history: Path) -> dict[str, int]:
    """The largest session, a typical one (the median size) and an unfinished one."""
    with sqlite3.connect(f"file:{history}?mode=ro", uri=True) as db:
        sized = [row for row in db.execute("SELECT id, done, status FROM sessions "
                                           "WHERE done > 0 ORDER BY done, id")]
    if not sized:
        raise SystemExit(f"{history} holds no session with tracks")
    chosen = {"largest": sized[-1][0], "typical": sized[len(sized) // 2][0]}
    unfinished = [row[0] for row in sized if row[2] != "completed"]
    if unfinished:
        chosen["unfinished"] = unfinished[len(unfinished) // 2]
    return chosen


def _measure(base: str, sessions: dict[str, int], runs: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    pages = {"history": "history", **{f"session {sid} ({kind})": f"session/{sid}"
                                      for kind, sid in sessions.items()}}
    results: dict[str, list[float]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))

        def load(route: str) -> float:
            page.goto("about:blank")
            page.goto(f"{base}/#/{route}?token={TOKEN}")
            page.wait_for_function("() => document.body.dataset.ready === '1'", timeout=60_000)
            return float(page.evaluate(SINCE_LOAD))

        def switch(route: str) -> float:
            page.evaluate("() => { document.body.dataset.ready = '0'; location.hash = '#/live'; }")
            page.wait_for_function("() => document.body.dataset.ready === '1'")
            page.evaluate("(hash) => { document.body.dataset.ready = '0'; location.hash = hash; }",
                          f"#/{route}")
            page.wait_for_function("() => document.body.dataset.ready === '1'", timeout=60_000)
            return float(page.evaluate(SINCE_ROUTE))

        load("history")  # the first load fills the browser's cache, as the app's first window
        for name, route in pages.items():
            for kind, measure in (("load", load), ("in-app", switch)):
                measure(route)  # warm the route's queries once, uncounted
                results[f"{name}, {kind}"] = _runs(measure, route, runs)
        browser.close()
    if errors:
        print("the pages reported errors:\n  " + "\n  ".join(errors), file=sys.stderr)
    return results


def _runs(measure: Callable[[str], float], route: str, runs: int) -> list[float]:
    return [measure(route) for _ in range(runs)]


def _report(history: Path, results: dict[str, list[float]]) -> int:
    size_mb = history.stat().st_size / 1e6
    with sqlite3.connect(f"file:{history}?mode=ro", uri=True) as db:
        count = db.execute("SELECT count(*) FROM sessions").fetchone()[0]
    print(f"{history} ({size_mb:,.0f} MB, {count:,} sessions); Chromium headless, 1280x800")
    print(f"{'page':<42} {'runs':>4} {'median':>8} {'p95':>8} {'max':>8}")
    missed = []
    for name, times in results.items():
        ordered = sorted(times)
        median = percentile(ordered, 50)
        p95 = percentile(ordered, 95)
        flag = "" if p95 <= TARGET_MS else "  over target"
        if flag:
            missed.append(name)
        print(f"{name:<42} {len(times):>4} {median:>6.0f}ms {p95:>6.0f}ms "
              f"{ordered[-1]:>6.0f}ms{flag}")
    print(f"target: p95 <= {TARGET_MS:.0f} ms — " + (
        "met by every page" if not missed else f"missed by {', '.join(missed)}"))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
