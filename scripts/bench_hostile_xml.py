#!/usr/bin/env python3
"""Feed the Rekordbox reader hostile files; print each one's message, time and peak memory.

Each file is generated into a temporary folder and read in a fresh Python process, so the
peak RSS printed is the reader's alone: whole by `read_library`, and tree first by
`open_playlists` followed by every playlist's tracks (as listing, then matching, does).
Exits 1 when a hostile file is not refused or a file makes the reader peak above the memory
budget.

    .venv/bin/python scripts/bench_hostile_xml.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
MAX_RSS_MB = 300.0
HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'
ROOT_OPEN = '<DJ_PLAYLISTS Version="1.0.0"><COLLECTION Entries="1">'
ROOT_CLOSE = "</COLLECTION></DJ_PLAYLISTS>\n"

CHILD = """
import json, resource, sys, time
from cuepoint_tray.errors import CuepointError
from cuepoint_tray.rekordbox import open_playlists, read_library
started = time.perf_counter()
try:
    if sys.argv[2] == "whole":
        library = read_library(sys.argv[1])
        outcome = f"read: {len(library.tracks)} tracks"
    else:  # the tree first, then every playlist's tracks, as a match would
        library = open_playlists(sys.argv[1])
        tracks = sum(len(library.tracks_of(p)) for p in library.playlists() if p.track_ids)
        outcome = f"read: {len(library.playlists())} playlists, {tracks} entries"
    refused = False
except CuepointError as exc:
    outcome, refused = str(exc), True
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
peak_mb = peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024
print(json.dumps({"seconds": time.perf_counter() - started, "peak_rss_mb": peak_mb,
                  "refused": refused, "outcome": outcome}))
"""


def xxe(path: Path) -> None:
    path.write_text(HEADER + '<!DOCTYPE DJ_PLAYLISTS [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                    f'\n{ROOT_OPEN}<TRACK TrackID="1" Name="&xxe;"/>{ROOT_CLOSE}')


def billion_laughs(path: Path) -> None:
    laughs = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
    path.write_text(HEADER + f'<!DOCTYPE DJ_PLAYLISTS [<!ENTITY l0 "lol">{laughs}]>\n'
                    f'{ROOT_OPEN}<TRACK TrackID="1" Name="&l9;"/>{ROOT_CLOSE}')


def quadratic_blowup(path: Path) -> None:
    path.write_text(HEADER + f'<!DOCTYPE DJ_PLAYLISTS [<!ENTITY a "{"x" * 100_000}">]>\n'
                    f'{ROOT_OPEN}<TRACK TrackID="1" Name="{"&a;" * 50_000}"/>{ROOT_CLOSE}')


def one_200_mb_attribute(path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER + ROOT_OPEN + '<TRACK TrackID="1" Name="')
        for _ in range(200):
            out.write("a" * (1 << 20))
        out.write('"/>' + ROOT_CLOSE)


def deep_nesting(path: Path) -> None:
    depth = 1_000_000
    path.write_text(HEADER + ROOT_OPEN + "<X>" * depth + "</X>" * depth + ROOT_CLOSE)


def invalid_utf8(path: Path) -> None:
    """With a playlist holding the track: the tree-first read lists it and refuses it when the
    playlist's tracks are read, as a match does (the collection is scanned, not decoded)."""
    path.write_bytes(HEADER.encode() + ROOT_OPEN.encode()
                     + b'<TRACK TrackID="1" Name="caf\xe9 \xff\xfe"/></COLLECTION>'
                     + b'<PLAYLISTS><NODE Type="0" Name="ROOT"><NODE Name="P" Type="1">'
                     + b'<TRACK Key="1"/></NODE></NODE></PLAYLISTS></DJ_PLAYLISTS>\n')


def wrong_root(path: Path) -> None:
    path.write_text(HEADER + "<plist><dict><key>Tracks</key></dict></plist>\n")


def export_of_200_mb(path: Path) -> None:
    """A well-formed export of about 200 MB (136,000 tracks): read, in bounded memory."""
    subprocess.run([sys.executable, str(SCRIPTS / "make_big_rekordbox_xml.py"), str(path),
                    "--tracks", "136000"], check=True, stdout=subprocess.DEVNULL)


CASES: list[tuple[str, Callable[[Path], None], bool]] = [
    ("XXE (external entity)", xxe, True),
    ("billion laughs", billion_laughs, True),
    ("quadratic blow-up", quadratic_blowup, True),
    ("one 200 MB attribute", one_200_mb_attribute, True),
    ("1,000,000 nested elements", deep_nesting, True),
    ("invalid UTF-8", invalid_utf8, True),
    ("wrong root (iTunes plist)", wrong_root, True),
    ("200 MB export", export_of_200_mb, False),
]


def main() -> int:
    failures = 0
    print(f"{'file':<28}{'size':>10}{'time':>9}{'peak RSS':>11}  {'read':<10}  outcome")
    with tempfile.TemporaryDirectory(prefix="cuepoint-hostile-") as scratch:
        for name, make, should_refuse in CASES:
            path = Path(scratch) / "rekordbox.xml"
            make(path)
            size_mb = path.stat().st_size / 1e6
            for how in ("whole", "tree first"):
                found = _read_in_child(path, how)
                wrong = found["refused"] != should_refuse or found["peak_rss_mb"] > MAX_RSS_MB
                failures += wrong
                outcome = found["outcome"].split(" (/")[0]  # the message without the temp path
                print(f"{name:<28}{size_mb:>8.1f}MB{found['seconds']:>8.2f}s"
                      f"{found['peak_rss_mb']:>9.1f}MB  {how:<10}  "
                      f"{'FAIL ' if wrong else ''}{outcome[:100]}")
            path.unlink()
    return 1 if failures else 0


def _read_in_child(path: Path, how: str) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(path), how], check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout)


if __name__ == "__main__":
    raise SystemExit(main())
