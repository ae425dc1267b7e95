"""Time reading a big Rekordbox master.db; fail when over budget.

    python scripts/bench_masterdb.py [--tracks 50000] [--db FILE] [--keep FILE]

Without --db, a library is generated into a temporary folder: a copy of the real master.db
Rekordbox 6 wrote (../shared/fixtures/real/rekordbox-db/master_locked.db, encrypted as
Rekordbox keeps it), filled through SQLCipher with --tracks tracks (artists, labels, genres,
keys, a third with ISRCs), 250 playlists of 20–500 tracks in 25 folders, one of 5,000 tracks,
and 100 HISTORY sets. Rows are written with SQL in bulk: pyrekordbox's own write API takes
about 6 s per 1,000 tracks, fine for the tests but not for 50,000.

The library is then read in a fresh Python process (so nothing is warm but the OS's file
cache), twice: first with no key kept (the SQLCipher key derived), then as a later run does,
with the key kept on disk (masterdb_key.py). Each run imports the reader, lists the playlist
tree (the snapshot copy included), lists it three times more as the tray does on each
change (a new snapshot), and reads one 500-track playlist's tracks and the 5,000-track
one's; it says how many keys it derived and whether pyrekordbox or SQLAlchemy got loaded
(neither should: the library has no intelligent playlist). Exits 1 when a first listing
takes more than 1 s or one playlist's tracks more than 0.3 s. The tray's own figures
(change to menu, main-loop stalls, RSS) for a master.db come from bench_library_refresh.py
--masterdb.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

MAX_LIST_S = 1.0
MAX_PLAYLIST_S = 0.3
ROOT = Path(__file__).resolve().parent.parent
REAL_DB = ROOT.parent / "shared" / "fixtures" / "real" / "rekordbox-db" / "master_locked.db"
KEYS = ["Am", "Em", "Bm", "F#m", "Dbm", "Abm", "Ebm", "Bbm", "Fm", "Cm", "Gm", "Dm",
        "C", "G", "D", "A", "E", "B", "F#", "Db", "Ab", "Eb", "Bb", "F"]
NOW = "2026-11-30 20:00:00.000 +00:00"

CHILD = """
import json, sys, time
from pathlib import Path
started = time.perf_counter()
from cuepoint_tray.rekordbox import open_library
import cuepoint_tray.rekordbox.masterdb as masterdb
masterdb.load_reader()
imported = time.perf_counter() - started
key_file = Path(sys.argv[2])
started, cpu = time.perf_counter(), time.process_time()
library = open_library(sys.argv[1], key_file=key_file)
listed, listed_cpu = time.perf_counter() - started, time.process_time() - cpu
relisted = []
for _ in range(3):  # as the tray does on each change: a new snapshot, the key already known
    started, cpu = time.perf_counter(), time.process_time()
    open_library(sys.argv[1], key_file=key_file).close()
    relisted.append((time.perf_counter() - started, time.process_time() - cpu))
playlists = library.playlists()
one = library.find_playlist("Crates 04/Crate 0042")
started, cpu = time.perf_counter(), time.process_time()
tracks = library.tracks_of(one)
one_s, one_cpu = time.perf_counter() - started, time.process_time() - cpu
big = library.find_playlist("Everything 5000")
started = time.perf_counter()
big_tracks = library.tracks_of(big)
big_s = time.perf_counter() - started
print(json.dumps({"import_s": imported, "list_s": listed, "playlists": len(playlists),
                  "relisted": relisted, "derived": masterdb.masterdb_key.derivations,
                  "loaded": sorted(m for m in ("pyrekordbox", "sqlalchemy")
                                   if m in sys.modules),
                  "list_cpu_s": listed_cpu, "playlist_cpu_s": one_cpu, "playlist_s": one_s,
                  "playlist_tracks": len(tracks),
                  "big_s": big_s, "big_tracks": len(big_tracks),
                  "isrc_share": sum(1 for t in big_tracks if t.isrc) / len(big_tracks)}))
"""


def main() -> int:
    args = _parse_args()
    if args.db:
        return _bench(Path(args.db))
    with tempfile.TemporaryDirectory(prefix="cuepoint-bench-") as folder:
        db = Path(folder) / "master.db"
        generate(db, args.tracks)
        if args.keep:
            shutil.copyfile(db, args.keep)
        return _bench(db)


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=50_000, help="tracks to generate")
    parser.add_argument("--db", metavar="FILE", help="measure this master.db instead")
    parser.add_argument("--keep", metavar="FILE", help="also keep the generated master.db")
    return parser.parse_args()


def generate(out: Path, tracks: int, seed: int = 7) -> None:
    """A big encrypted master.db in a copy of Rekordbox's own file."""
    sys.path.insert(0, str(ROOT))
    from pyrekordbox.masterdb.database import BLOB
    from pyrekordbox.utils import deobfuscate
    from sqlcipher3 import dbapi2

    from cuepoint_tray.rekordbox.masterdb import quiet_pyrekordbox

    quiet_pyrekordbox()
    shutil.copyfile(REAL_DB, out)
    rng = random.Random(seed)
    db = dbapi2.connect(str(out))
    db.execute(f"PRAGMA key = '{deobfuscate(BLOB)}'")
    template = _template(db)
    names = {table: _names(db, table, count, prefix)
             for table, count, prefix in (("djmdArtist", 5000, "Artist"),
                                          ("djmdLabel", 800, "Label"),
                                          ("djmdGenre", 40, "Genre"),
                                          ("djmdAlbum", 3000, "Album"))}
    keys = _names(db, "djmdKey", len(KEYS), "", column="ScaleName", values=KEYS)
    content_ids = [str(10_000_000 + n) for n in range(tracks)]
    columns = list(template)
    rows = []
    for n, content_id in enumerate(content_ids):
        row = dict(template)
        row.update(ID=content_id, UUID=str(uuid.uuid4()), Title=f"Track {n:06d}",
                   FolderPath=f"/Users/dj/Music/{n % 300:03d}/track-{n:06d}.mp3",
                   FileNameL=f"track-{n:06d}.mp3", ArtistID=rng.choice(names["djmdArtist"]),
                   RemixerID=rng.choice(names["djmdArtist"]) if n % 4 == 0 else None,
                   LabelID=rng.choice(names["djmdLabel"]), GenreID=rng.choice(names["djmdGenre"]),
                   AlbumID=rng.choice(names["djmdAlbum"]), KeyID=rng.choice(keys),
                   BPM=rng.randint(9000, 17500), Length=rng.randint(150, 540),
                   ISRC=f"GBAYE{26 - n % 20:02d}{n:05d}" if n % 3 == 0 else "",
                   ReleaseYear=rng.randint(1990, 2026), Subtitle=rng.choice(
                       ["", "Original Mix", "Extended Mix", "Club Mix"]),
                   MasterSongID=content_id, rb_file_id=content_id, rb_local_deleted=0,
                   created_at=NOW, updated_at=NOW)
        rows.append(tuple(row[c] for c in columns))
    marks = ", ".join("?" * len(columns))
    quoted = ", ".join(f'"{c}"' for c in columns)
    db.executemany(f"INSERT INTO djmdContent ({quoted}) VALUES ({marks})", rows)
    _playlists(db, content_ids, rng)
    _histories(db, content_ids, rng)
    db.commit()
    db.close()


def _template(db: Any) -> dict[str, object]:
    cursor = db.execute("SELECT * FROM djmdContent WHERE Title = 'Demo Track 1'")
    names = [d[0] for d in cursor.description]
    return dict(zip(names, cursor.fetchone(), strict=True))


def _names(db: Any, table: str, count: int, prefix: str, *, column: str = "Name",
           values: list[str] | None = None) -> list[str]:
    ids = [f"{table}-{n}" for n in range(count)]
    rows = [(i, str(uuid.uuid4()), values[n] if values else f"{prefix} {n}", NOW, NOW)
            for n, i in enumerate(ids)]
    db.executemany(
        f'INSERT INTO {table} (ID, UUID, "{column}", created_at, updated_at) '
        "VALUES (?, ?, ?, ?, ?)", rows)
    return ids


def _playlists(db: Any, content_ids: list[str], rng: random.Random) -> None:
    lists: list[tuple[object, ...]] = []
    songs: list[tuple[object, ...]] = []

    def playlist(playlist_id: str, name: str, parent: str, seq: int, attribute: int,
                 tracks: list[str]) -> None:
        lists.append((playlist_id, str(uuid.uuid4()), seq, name, attribute, parent, NOW, NOW))
        for number, content in enumerate(tracks, start=1):
            songs.append((str(uuid.uuid4()), str(uuid.uuid4()), playlist_id, content, number,
                          NOW, NOW))

    for folder in range(25):
        folder_id = f"F{folder}"
        playlist(folder_id, f"Crates {folder:02d}", "root", folder, 1, [])
        for n in range(10):
            number = folder * 10 + n
            playlist(f"P{number}", f"Crate {number:04d}", folder_id, n, 0,
                     rng.sample(content_ids, 500 if number == 42 else rng.randint(20, 500)))
    playlist("BIG", "Everything 5000", "root", 99, 0, rng.sample(content_ids, 5000))
    db.executemany(
        "INSERT INTO djmdPlaylist (ID, UUID, Seq, Name, Attribute, ParentID, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", lists)
    db.executemany(
        "INSERT INTO djmdSongPlaylist (ID, UUID, PlaylistID, ContentID, TrackNo, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)", songs)


def _histories(db: Any, content_ids: list[str], rng: random.Random) -> None:
    lists = [("H2026", str(uuid.uuid4()), 1, "2026", 1, "root", NOW, NOW)]
    songs = []
    for n in range(100):
        history_id = f"H{n}"
        lists.append((history_id, str(uuid.uuid4()), n, f"2026-{n % 12 + 1:02d}-{n % 28 + 1:02d}"
                      f" ({n})", 0, "H2026", NOW, NOW))
        for number, content in enumerate(rng.sample(content_ids, 30), start=1):
            songs.append((str(uuid.uuid4()), str(uuid.uuid4()), history_id, content, number,
                          NOW, NOW))
    db.executemany(
        "INSERT INTO djmdHistory (ID, UUID, Seq, Name, Attribute, ParentID, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", lists)
    db.executemany(
        "INSERT INTO djmdSongHistory (ID, UUID, HistoryID, ContentID, TrackNo, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)", songs)


def _bench(db: Path) -> int:
    size_mb = db.stat().st_size / 1e6
    print(f"master.db: {db} ({size_mb:.1f} MB, encrypted)")
    within = True
    with tempfile.TemporaryDirectory(prefix="cuepoint-bench-keys-") as folder:
        key_file = Path(folder) / "masterdb-keys.json"
        for run in ("first run (no key kept: derived)", "later run (the key kept on disk)"):
            child = subprocess.run([sys.executable, "-c", CHILD, str(db), str(key_file)],
                                   capture_output=True, text=True, check=False, cwd=ROOT)
            if child.returncode != 0:
                print(child.stderr.strip(), file=sys.stderr)
                return 1
            within = _report(run, json.loads(child.stdout)) and within
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    print(("within budget" if within else "OVER BUDGET") + f" (load average {load:.1f} on "
          f"{os.cpu_count()} cores: other work slows the wall times, not the CPU times)")
    return 0 if within else 1


def _report(run: str, result: dict[str, Any]) -> bool:
    print(f"[{run}] keys derived: {result['derived']}; modules loaded: "
          f"{', '.join(result['loaded']) or 'neither pyrekordbox nor SQLAlchemy'}")
    print(f"  import the reader: {result['import_s']:.2f} s")
    print(f"  list the playlist tree ({result['playlists']} playlists and histories, snapshot "
          f"copy included): {result['list_s']:.3f} s wall, "
          f"{result['list_cpu_s']:.3f} s CPU (budget {MAX_LIST_S} s)")
    print("  list it again, as the tray does on each change: " + ", ".join(
        f"{wall:.3f} s wall / {cpu:.3f} s CPU" for wall, cpu in result["relisted"]))
    print(f"  one playlist's tracks ({result['playlist_tracks']}): {result['playlist_s']:.3f} s "
          f"wall, {result['playlist_cpu_s']:.3f} s CPU (budget {MAX_PLAYLIST_S} s)")
    print(f"  the 5,000-track playlist's tracks: {result['big_s']:.3f} s; ISRC share "
          f"{result['isrc_share']:.0%}")
    return bool(result["list_s"] <= MAX_LIST_S and result["playlist_s"] <= MAX_PLAYLIST_S)


if __name__ == "__main__":
    sys.exit(main())
