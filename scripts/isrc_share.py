"""What looking ISRCs up first is worth: the dev set as a master.db where a third of the tracks
carry their Beatport ISRC, matched through the local catalog server's API v4, against the same
library without ISRCs. Tracks Beatport does not sell carry an ISRC it does not know, as files
bought elsewhere do.

    python scripts/isrc_share.py [--playlist "Sets/Dev Set"]

Each run starts with a cold HTTP cache in a scratch data folder. Prints, for both libraries:
requests per track (as the server counted them), the share of tracks settled by the ISRC
look-up alone, and precision/recall against ../shared/eval/dev/truth.csv.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from cuepoint_tray.catalog_server import CatalogServer  # noqa: E402
from cuepoint_tray.evaluation import Results, evaluate, read_truth  # noqa: E402
from cuepoint_tray.paths import resolve_paths  # noqa: E402
from cuepoint_tray.rekordbox import open_library  # noqa: E402
from cuepoint_tray.session import run_match  # noqa: E402
from cuepoint_tray.settings import Settings, served_from, with_values  # noqa: E402

from masterdb_builder import copy_of_xml_library, every_third_isrc  # noqa: E402

DEV = ROOT.parent / "shared" / "eval" / "dev"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--playlist", default="Sets/Dev Set")
    args = parser.parse_args()
    truth = read_truth(DEV / "truth.csv")
    order = open_library(DEV / "rekordbox.xml").find_playlist(args.playlist).track_ids
    with tempfile.TemporaryDirectory(prefix="cuepoint-isrc-") as folder, \
            CatalogServer(DEV / "catalog.jsonl").start() as server:
        isrcs = every_third_isrc(DEV / "truth.csv", DEV / "catalog.jsonl")
        for name, chosen in (("a third with ISRCs", isrcs), ("no ISRCs", {})):
            db = Path(folder) / name / "master.db"
            copy_of_xml_library(DEV / "rekordbox.xml", db, isrcs=chosen)
            library = open_library(db)
            playlist = library.find_playlist(args.playlist)
            settings = with_values(Settings(), {**served_from(server.url),
                                                "beatport_token": "local",
                                                "requests_per_second": 50.0}, source="isrc")
            paths = resolve_paths(Path(folder) / name / "data").create()
            before = server.stats()["total"]
            collected = Results()
            outcome = run_match(library, [playlist], settings, paths, listeners=[collected])
            sent = server.stats()["total"] - before
            results = collected.results
            tracks = len(results)
            carrying = [r for r in results if r.rekordbox.isrc]
            unknown = [r for r in carrying if r.rekordbox.isrc.startswith("ZZ")]
            settled = [r for r in carrying if r.match and r.early_exit_at == 1
                       and r.queries[0].type == "isrc"]
            relabelled = [replace(r, rekordbox=replace(r.rekordbox, track_id=track_id))
                          for r, track_id in zip(results, order, strict=True)]
            score = evaluate(relabelled, truth)
            print(f"{name}: {tracks} tracks, {len(carrying)} carry an ISRC "
                  f"({len(carrying) / tracks:.0%}; {len(unknown)} of them one Beatport does "
                  "not know)")
            print(f"  settled by the ISRC look-up alone: {len(settled)} "
                  f"({len(settled) / tracks:.0%} of all tracks, "
                  f"{len(settled) / max(1, len(carrying)):.0%} of those with an ISRC)")
            print(f"  requests: {sent} ({sent / tracks:.2f} per track) · matched "
                  f"{outcome.ended.summary.matched} · precision {score.precision:.3f} · "
                  f"recall {score.recall:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
