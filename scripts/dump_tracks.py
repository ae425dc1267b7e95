#!/usr/bin/env python3
"""Print every track of a history as the track dialog gets it (`store.queries.track_detail`),
one JSON line per track, in id order: to compare a history before and after a migration.

    python scripts/dump_tracks.py HISTORY > after.jsonl

Runs the `cuepoint_tray` that Python imports: with an older checkout first on PYTHONPATH it
dumps an older history as that CuePoint showed it. The file is read as it is (a history at
another schema version is refused: copy it and open the copy with `--migrate` to bring it
up to this CuePoint's schema first).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("history", type=Path)
    parser.add_argument("--migrate", action="store_true",
                        help="open the file as CuePoint does (migrating it) before reading")
    args = parser.parse_args()
    from cuepoint_tray.store.database import open_for_reading, open_history
    from cuepoint_tray.store.queries import track_detail

    if args.migrate:
        open_history(args.history).close()
    db = open_for_reading(args.history)
    try:
        ids = [row[0] for row in db.execute_sql("SELECT id FROM track_results ORDER BY id")]
        for track_id in ids:
            print(json.dumps(track_detail(db, track_id), sort_keys=True, ensure_ascii=False))
    finally:
        db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
