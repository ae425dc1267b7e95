"""What a matching session leaves on disk, per 1,000 tracks: history, HTTP cache and reports.

    python scripts/bench_disk.py [--xml FILE --playlist P --catalog FILE] [--format html]

One cold session (fresh data folder: empty cache and history) matches the playlist against
the local catalog server, as `cuepoint match` does (history writer and report on); then the
history (checkpointed, so its WAL is counted), the HTTP cache and the reports folder are
measured. The local catalog's pages are smaller than Beatport's own, so the cache figure is
the local one (compare before and after on the same catalog).

Runs the `cuepoint_tray` that Python imports: put another copy first on PYTHONPATH (e.g. an
unchanged checkout) for a "before" figure.
"""

from __future__ import annotations

import argparse
import contextlib
import sqlite3
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT.parent / "shared" / "eval" / "dev"


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())


def _checkpoint(path: Path) -> None:
    # Closed, not only committed (as `with sqlite3.connect()` does): the last connection to
    # close removes the -shm file, which an open one would leave to be counted (32 KB).
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def main() -> int:
    import cuepoint_tray
    from cuepoint_tray.catalog_server import CatalogServer
    from cuepoint_tray.paths import resolve_paths
    from cuepoint_tray.rekordbox import read_library
    from cuepoint_tray.session import run_match
    from cuepoint_tray.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--xml", type=Path, default=DEV / "rekordbox.xml")
    parser.add_argument("--playlist", default="Sets/Dev Set")
    parser.add_argument("--catalog", type=Path, default=DEV / "catalog.jsonl")
    parser.add_argument("--format", default="html")
    args = parser.parse_args()
    print(f"cuepoint_tray from {Path(cuepoint_tray.__file__).parent}")

    library = read_library(args.xml)
    playlist = library.find_playlist(args.playlist)
    with tempfile.TemporaryDirectory(prefix="bench-disk-") as scratch, \
            CatalogServer(args.catalog).start() as server:
        paths = resolve_paths(scratch).create()
        settings = Settings(beatport_web_url=server.url, beatport_api_url=server.url + "/v4",
                            requests_per_second=1000.0, concurrency=4,
                            report_format=args.format)
        ended = run_match(library, [playlist], settings, paths).ended
        tracks = ended.summary.done
        for database in (paths.database, paths.http_cache):
            if database.exists():
                _checkpoint(database)
        figures = {"history": _size(paths.database), "HTTP cache": _size(paths.http_cache),
                   "reports": _size(paths.reports_dir)}
    per = 1000 / max(tracks, 1)
    print(f"session {ended.status}: {tracks} tracks ({args.playlist}), report {args.format}")
    for name, size in figures.items():
        print(f"  {name:<11} {size / 1e6:8.2f} MB  = {size * per / 1e6:7.2f} MB per 1,000 tracks")
    total = sum(figures.values())
    print(f"  {'total':<11} {total / 1e6:8.2f} MB  = {total * per / 1e6:7.2f} MB per 1,000 tracks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
