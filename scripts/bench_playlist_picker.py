"""Time the Live page's playlist picker in headless Chromium over a big Rekordbox library.

    python scripts/make_big_rekordbox_xml.py /tmp/big600.xml --tracks 20000 --playlists 600
    python scripts/bench_playlist_picker.py /tmp/big600.xml --runs 5 [--as-tray]

With --as-tray the dashboard is given the playlist tree the tray reads for its menu when it
starts (in a child process, as `cuepoint-tray` does), so the picker need not read the library
again; that read is timed and printed apart: it happens when the tray starts, not when the DJ
opens the picker. Without it, the dashboard reads the library itself (`cuepoint dashboard`).

Three figures, each from the page's navigation start to the picker's tree on screen
(`#start-panel [data-picker-ready]`), in ms:
- first open: a fresh dashboard (the library not read yet), as the first window of the day;
- again: the page opened again on the same dashboard (median and max of --runs);
- search: typing a word in the picker's search box until the tree shows its matches
  (median of --runs, over a few words: a crate name, a folder name, an unaccented spelling).
The library is only read, never modified.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cuepoint_tray.controller import SessionController  # noqa: E402
from cuepoint_tray.dashboard import DashboardAPI, DashboardServer  # noqa: E402
from cuepoint_tray.paths import resolve_paths  # noqa: E402
from cuepoint_tray.settings import Settings, load_settings, save_settings  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
TOKEN = "bench"
PICKER = "#start-panel [data-picker-ready]"
SINCE_LOAD = "() => performance.now()"
WORDS = ("Cafe", "Berlin", "Lowenbrau", "Peak Time 4")


def main() -> int:
    args = _arguments()
    library = Path(args.library).resolve()
    if not library.exists():
        print(f"{library} does not exist: make it with scripts/make_big_rekordbox_xml.py",
              file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="cuepoint-bench-") as scratch:
        paths = resolve_paths(Path(scratch) / "data").create()
        save_settings(Settings(rekordbox_library=str(library)), paths.settings_file)
        controller = SessionController(paths, lambda: load_settings(paths.settings_file))
        api = DashboardAPI(paths, controller)
        tray_read_ms = _as_tray(api, paths.settings_file) if args.as_tray else None
        with DashboardServer(api, token=TOKEN) as server:
            figures = _measure(server.url, args.runs)
    print(f"{library.name}: {figures['playlists']} playlists; Chromium headless, 1280x800; "
          + ("the tray's tree given to the dashboard" if args.as_tray else "the dashboard alone"))
    if tray_read_ms is not None:
        print(f"the tray's own read at its start (child process): {tray_read_ms:8.0f} ms")
    print(f"first open (library not read yet): {figures['first']:8.0f} ms")
    print(f"opened again, median of {args.runs}:    {statistics.median(figures['again']):8.0f} ms"
          f"   (max {max(figures['again']):.0f} ms)")
    if not figures["search"]:
        print("search: the picker has no search box (#playlist-search)")
    for word, times in figures["search"].items():
        print(f"search {word!r:<14} median:       {statistics.median(times):8.1f} ms"
              f"   ({figures['found'][word]} playlists shown)")
    return 0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("library", help="a Rekordbox XML export (or master.db) to pick from")
    parser.add_argument("--runs", type=int, default=5, help="timed runs (default 5)")
    parser.add_argument("--as-tray", action="store_true",
                        help="give the dashboard the tree the tray reads at its start")
    return parser.parse_args()


def _as_tray(api: DashboardAPI, settings_file: Path) -> float:
    """Read the library as the tray does for its menu, and hand its tree to the dashboard
    as the tray does (TrayApp._known_tree); returns how long that read took, in ms."""
    from cuepoint_tray.rekordbox.current import CurrentLibrary
    from cuepoint_tray.tray.library_reader import library_view

    settings = load_settings(settings_file)
    started = time.perf_counter()
    view = library_view(settings, CurrentLibrary())
    elapsed = (time.perf_counter() - started) * 1000
    read_from = str(Path(settings.rekordbox_library).resolve())
    tree = view.tree
    assert tree is not None, view.xml_error
    api.known_tree = lambda path: (tree, view.kind) if str(path) == read_from else None
    return elapsed


def _measure(base: str, runs: int) -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))

        def open_picker() -> float:
            page.goto("about:blank")
            page.goto(f"{base}/#/live?token={TOKEN}")
            page.wait_for_selector(PICKER, state="attached", timeout=120_000)
            return float(page.evaluate(SINCE_LOAD))

        first = open_picker()
        again = [open_picker() for _ in range(runs)]
        playlists = page.locator("#start-panel input[type=checkbox]").count()
        search: dict[str, list[float]] = {}
        found: dict[str, int] = {}
        box = page.locator("#playlist-search")
        for word in WORDS if box.count() else ():
            search[word] = []
            for _ in range(runs):
                box.fill("")
                started = time.perf_counter()
                box.fill(word)
                page.wait_for_function("(w) => document.querySelector('#start-panel .tree')"
                                       ".dataset.filter === w", arg=word)
                search[word].append((time.perf_counter() - started) * 1000)
            found[word] = page.locator("#start-panel li[data-name]:visible").count()
        browser.close()
    if errors:
        print("the page reported errors:\n  " + "\n  ".join(errors), file=sys.stderr)
    return {"first": first, "again": again, "playlists": playlists, "search": search,
            "found": found}


if __name__ == "__main__":
    raise SystemExit(main())
