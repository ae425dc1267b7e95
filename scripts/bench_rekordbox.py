"""Time and measure reading a big Rekordbox XML export; fail when over budget.

    python scripts/bench_rekordbox.py [--tracks 50000] [--xml FILE]

Without --xml, a realistic export is generated into a temporary folder with
make_big_rekordbox_xml.py. The file is read by read_library in a fresh Python process, so the
peak memory (that process's ru_maxrss) is the reader's and not the generator's. Exits 1 when
the parse takes more than 3 s or the process peaks above 300 MB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

MAX_SECONDS = 3.0
MAX_RSS_MB = 300.0
SCRIPTS = Path(__file__).resolve().parent

# Runs in the child: ru_maxrss is KiB on Linux and bytes on macOS.
CHILD = """
import json, resource, sys, time
from cuepoint_tray.rekordbox import read_library
started = time.perf_counter()
library = read_library(sys.argv[1])
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
peak_mb = peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024
print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_mb, "tracks": len(library.tracks),
                  "playlists": len(library.playlists())}))
"""


def main() -> int:
    args = _parse_args()
    if args.xml:
        return _bench(Path(args.xml))
    with tempfile.TemporaryDirectory(prefix="cuepoint-bench-") as folder:
        xml = Path(folder) / "rekordbox.xml"
        subprocess.run([sys.executable, str(SCRIPTS / "make_big_rekordbox_xml.py"), str(xml),
                        "--tracks", str(args.tracks)], check=True, stdout=subprocess.DEVNULL)
        return _bench(xml)


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=50_000, help="tracks to generate")
    parser.add_argument("--xml", metavar="FILE", help="measure this export instead")
    return parser.parse_args()


def _bench(xml: Path) -> int:
    child = subprocess.run([sys.executable, "-c", CHILD, str(xml)], capture_output=True,
                           text=True, check=False)
    if child.returncode != 0:
        print(child.stderr.strip(), file=sys.stderr)
        return 2
    figures = json.loads(child.stdout)
    size_mb = xml.stat().st_size / (1024 * 1024)
    print(f"file: {xml.name}, {size_mb:.1f} MB, {figures['tracks']} tracks, "
          f"{figures['playlists']} playlists")
    print(f"parse: {figures['seconds']:.2f} s (budget {MAX_SECONDS:.0f} s)")
    print(f"peak RSS: {figures['peak_rss_mb']:.1f} MB (budget {MAX_RSS_MB:.0f} MB)")
    over = figures["seconds"] > MAX_SECONDS or figures["peak_rss_mb"] > MAX_RSS_MB
    print("OVER BUDGET" if over else "ok")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
