#!/usr/bin/env python3
"""Benchmark a long session's memory, and what storing it costs in CPU.

A Rekordbox XML with one playlist of `--tracks` tracks (4,000 by default) is written from
the dev catalog's own tracks, so every track finds Beatport candidates; the catalog server
runs in a process of its own (its memory and CPU are not the session's), with no latency and
no rate limit, so the network is not the limit. The session runs as `cuepoint match` runs it
(`session.run_match`: history writer, report, then the CLI's files and `--json-out`), in a
fresh data folder.

Printed:
  - the resident memory (RSS) after the first 100 tracks and at several points after, and
    the process's peak RSS at the end (target: peak ≤ 200 MB, flat after the first hundred);
  - the CPU time of the whole process, of the history writer's thread, and of what the
    session does after its last track (report and files): storing the session's share of
    the CPU (target ≤ 10 %).

    .venv/bin/python scripts/bench_session_memory.py [--tracks 4000] [--concurrency 4] [--runs 1]

On a two-core machine the storing share moves by a point or more between identical runs (the
session's own CPU moves with the machine): `--runs N` runs the session N times, each in a
fresh process, and prints each run's share, then their median.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEV = ROOT.parent / "shared" / "eval" / "dev"
PAGE = os.sysconf("SC_PAGE_SIZE")
_SERVER = """
import sys, time
from pathlib import Path
from cuepoint_tray.catalog_server import CatalogServer
with CatalogServer(Path(sys.argv[1])).start() as server:
    print(server.url, flush=True)
    sys.stdin.read()
"""


def main() -> int:
    args = _arguments()
    if args.runs > 1:
        return several_runs(args)
    with tempfile.TemporaryDirectory(prefix="cuepoint-bench-memory-") as scratch:
        xml = Path(scratch) / "rekordbox.xml"
        write_xml(xml, args.catalog, args.tracks)
        server = subprocess.Popen([sys.executable, "-c", _SERVER, str(args.catalog)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                  cwd=ROOT)
        try:
            url = server.stdout.readline().strip() if server.stdout else ""
            if not url:
                raise SystemExit("the catalog server did not start")
            run_session(xml, Path(scratch) / "data", url, args)
        finally:
            if server.stdin:
                server.stdin.close()
            server.wait(timeout=30)
    return 0


def several_runs(args: argparse.Namespace) -> int:
    """The benchmark `args.runs` times, each in a process of its own; then the median share."""
    shares = []
    for run in range(1, args.runs + 1):
        done = subprocess.run(
            [sys.executable, __file__, "--catalog", str(args.catalog), "--tracks",
             str(args.tracks), "--concurrency", str(args.concurrency)],
            capture_output=True, text=True, check=True)
        print(f"--- run {run} of {args.runs}\n{done.stdout.rstrip()}", flush=True)
        found = re.search(r"= ([0-9.]+) % of the session's CPU", done.stdout)
        if found is None:
            raise SystemExit(f"run {run} printed no storing share:\n{done.stderr}")
        shares.append(float(found[1]))
    print(f"storing the session over {args.runs} runs: "
          f"{', '.join(f'{share:.1f}' for share in shares)} % of the session's CPU; "
          f"median {statistics.median(shares):.1f} % (target ≤ 10 %)")
    return 0


def write_xml(path: Path, catalog: Path, tracks: int) -> None:
    """One playlist, "Big Set", of the catalog's first `tracks` tracks, as Rekordbox has them."""
    entries = []
    with catalog.open(encoding="utf-8") as lines:
        for line in lines:
            if len(entries) == tracks:
                break
            entries.append(json.loads(line))
    rows = []
    for number, entry in enumerate(entries):
        track_id = str(50_000_000 + number)
        key = (entry.get("key") or {}).get("name", "")
        attrs = {
            "TrackID": track_id, "Name": f"{entry['name']} ({entry['mix_name']})",
            "Artist": ", ".join(a["name"] for a in entry["artists"]),
            "Album": (entry.get("release") or {}).get("name", ""),
            "Genre": (entry.get("genre") or {}).get("name", ""), "Kind": "MP3 File",
            "TotalTime": str(int(entry.get("length_ms") or 0) // 1000),
            "Year": (entry.get("new_release_date") or "")[:4],
            "AverageBpm": f"{float(entry.get('bpm') or 0):.2f}",
            "Location": f"file://localhost/Users/dj/Music/{track_id}.mp3",
            "Tonality": key.replace(" Major", "").replace(" Minor", "m"),
            "Label": (entry.get("label") or {}).get("name", ""), "Mix": "", "Remixer": "",
        }
        rows.append("    <TRACK " + " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items())
                    + "/>\n")
    keys = "".join(f'        <TRACK Key="{50_000_000 + n}"/>\n' for n in range(len(entries)))
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<DJ_PLAYLISTS Version="1.0.0">\n'
        '  <PRODUCT Name="rekordbox" Version="6.8.5" Company="AlphaTheta"/>\n'
        f'  <COLLECTION Entries="{len(entries)}">\n{"".join(rows)}  </COLLECTION>\n'
        '  <PLAYLISTS>\n    <NODE Type="0" Name="ROOT" Count="1">\n'
        f'      <NODE Name="Big Set" Type="1" KeyType="0" Entries="{len(entries)}">\n'
        f"{keys}      </NODE>\n    </NODE>\n  </PLAYLISTS>\n</DJ_PLAYLISTS>\n",
        encoding="utf-8")


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE / 1e6


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1000  # KB on Linux


def thread_cpu_s(name: str) -> float:
    """The CPU time so far of the live thread called `name` (0 when there is none)."""
    for thread in threading.enumerate():
        if thread.name == name and thread.native_id is not None:
            try:
                with open(f"/proc/self/task/{thread.native_id}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                return 0.0
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


class Probe:
    """A runner listener: RSS at chosen track counts, and the writer's CPU while it lives."""

    def __init__(self, points: list[int]) -> None:
        self.points = set(points)
        self.done = 0
        self.samples: list[tuple[int, float]] = []
        self.writer_cpu = 0.0

    def __call__(self, event: Any) -> None:
        from cuepoint_tray.events import TrackDone

        if not isinstance(event, TrackDone):
            return
        self.done += 1
        if self.done in self.points:
            self.samples.append((self.done, rss_mb()))
        self.writer_cpu = max(self.writer_cpu, thread_cpu_s("history-writer"))


def run_session(xml: Path, data: Path, url: str, args: argparse.Namespace) -> None:
    from cuepoint_tray.cli import Context, _report_outcome
    from cuepoint_tray.paths import resolve_paths
    from cuepoint_tray.rekordbox import read_library
    from cuepoint_tray.session import run_match
    from cuepoint_tray.settings import Settings

    paths = resolve_paths(data).create()
    library = read_library(xml)
    playlist = library.find_playlist("Big Set")
    settings = Settings(beatport_web_url=url, beatport_api_url=url + "/v4",
                        requests_per_second=1000.0, concurrency=args.concurrency)
    points = [100, *range(500, args.tracks + 1, 500)]
    probe = Probe(points)
    print(f"{args.tracks} tracks, concurrency {args.concurrency}, no latency, no rate limit; "
          f"RSS before the session {rss_mb():.0f} MB", flush=True)
    last_track: list[float] = []

    def stamp(event: Any) -> None:
        probe(event)
        if probe.done == args.tracks and not last_track:
            last_track.append(time.process_time())

    cpu0, wall0 = time.process_time(), time.perf_counter()
    sampler = Sampler()
    sampler.start()
    # `cuepoint match --json-out` as the CLI runs it: its files, JSON included, and its
    # summary (an older CuePoint wrote the JSON in `_report_outcome`, a newer in run_match).
    json_out = data / "session.json"
    given = {"json_out": json_out} if "json_out" in inspect.signature(run_match).parameters \
        else {}
    outcome = run_match(library, [playlist], settings, paths, listeners=[stamp], **given)
    with open(os.devnull, "w") as quiet:
        stdout, sys.stdout = sys.stdout, quiet
        try:
            _report_outcome(outcome, argparse.Namespace(
                out=None, json_out=None if given else str(json_out), data_dir=None),
                Context(paths, settings))
        finally:
            sys.stdout = stdout
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    sampler.stop()
    after_last = cpu0 + cpu - last_track[0] if last_track else 0.0
    for done, rss in probe.samples:
        print(f"  RSS after {done:>5} tracks: {rss:6.1f} MB")
    print(f"  RSS after the session: {rss_mb():6.1f} MB; highest RSS sampled every 50 ms "
          f"{sampler.highest:.1f} MB; peak RSS (ru_maxrss) {peak_rss_mb():.1f} MB")
    print(f"session {outcome.ended.status}: {outcome.ended.summary.done} tracks, "
          f"{outcome.ended.summary.matched} matched, wall {wall:.1f} s, CPU {cpu:.1f} s")
    stored = probe.writer_cpu + after_last
    print(f"  history writer thread CPU {probe.writer_cpu:.2f} s; after the last track "
          f"(report, files) {after_last:.2f} s")
    print(f"  storing the session: {stored:.2f} s CPU = {stored / cpu * 100:.1f} % of the "
          f"session's CPU (target ≤ 10 %)")


class Sampler(threading.Thread):
    """RSS every 50 ms, keeping the highest."""

    def __init__(self) -> None:
        super().__init__(daemon=True, name="rss-sampler")
        self.highest = 0.0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(0.05):
            self.highest = max(self.highest, rss_mb())

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=Path, default=DEV / "catalog.jsonl")
    parser.add_argument("--tracks", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--runs", type=int, default=1,
                        help="run the session this many times, each in a fresh process, and "
                             "print the median storing share")
    return parser.parse_args()


if __name__ == "__main__":
    raise SystemExit(main())
