"""A big Rekordbox library in the tray: how long a change on disk takes to show in the menu,
how long GTK's main loop stalls meanwhile, and whether the tray's memory grows per re-read;
then `cuepoint playlists` (twice: a master.db's key is derived on the first run, kept for
the next) and the dashboard's playlist list on the same file.

    python scripts/bench_library_refresh.py [--tracks 50000] [--xml FILE] [--rereads 3]
                                            [--collection] [--source DIR]
    python scripts/bench_library_refresh.py --masterdb FILE|--masterdb-tracks 50000
                                            [--rereads 3] [--source DIR]

The tray runs on Xvfb (as in the GUI tests) with two testing-mode variables: the menu as shown
is written to a JSON file (CUEPOINT_TRAY_MENU_DUMP), and every delay of GTK's main loop over
20 ms is logged (CUEPOINT_TRAY_STALL_LOG; a 10 ms tick on the main thread). Each re-read
renames a playlist in the XML (written whole and moved into place, as an export does) and
times the rename's arrival in the menu from the moment the file was replaced (the new
file's content is made before the count starts; writing it is counted). With --collection,
each re-read also renames a track in the collection, so the collection's scan cannot be
reused. Stalls are counted over 5 s from the change, and over 5 s with nothing happening
(what the machine's load alone does). RSS is the tray process's own (VmRSS), read 5 s after
each change; CPU-s are the tray's, its ended children's included.

With --masterdb (a Rekordbox 6/7 master.db, copied first) or --masterdb-tracks (one made by
bench_masterdb.py's generator: Rekordbox's own file filled with that many tracks, 250
playlists in 25 folders, one of 5,000 tracks, 100 histories), each re-read renames the
5,000-track playlist as Rekordbox does: through SQLCipher, committed to master.db-wal by a
connection that stays open.
`--source DIR` runs another copy of the project (an unchanged checkout, for "before"
figures) with this virtual environment.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
QUIET_S = 5.0
sys.path.insert(0, str(ROOT / "tests"))  # the GUI tests' virtual desktop


def _menu_texts(dump: Path) -> str:
    try:
        return json.dumps(json.loads(dump.read_text(encoding="utf-8")), ensure_ascii=False)
    except (OSError, ValueError):
        return ""


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _cpu_s(pid: int) -> float:
    """CPU-seconds of the tray and of its children that have ended (utime, stime, cutime,
    cstime): the re-read's cost whichever process did it, and whatever else the machine
    runs."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _stalls(log: Path) -> list[float]:
    try:
        return [float(line) for line in log.read_text().split()]
    except OSError:
        return []


def _time_cli(source: Path, xml: Path, data: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(source)}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cuepoint_tray", "--data-dir", str(data),
                    "playlists", "--library", str(xml)], cwd=source, env=env, check=True,
                   capture_output=True, timeout=300)
    return time.perf_counter() - started


def _time_dashboard(source: Path, xml: Path, data: Path) -> list[float]:
    code = (
        "import sys, time\n"
        "from cuepoint_tray.dashboard import DashboardAPI\n"
        "from cuepoint_tray.paths import resolve_paths\n"
        "from cuepoint_tray.settings import Settings, save_settings\n"
        "paths = resolve_paths(sys.argv[2]).create()\n"
        "save_settings(Settings(rekordbox_library=sys.argv[1]), paths.settings_file)\n"
        "api = DashboardAPI(paths, None)\n"
        "for _ in range(3):\n"
        "    started = time.perf_counter(); api.playlists()\n"
        "    print(time.perf_counter() - started)\n")
    env = {**os.environ, "PYTHONPATH": str(source)}
    done = subprocess.run([sys.executable, "-c", code, str(xml), str(data)], cwd=source,
                          env=env, check=True, capture_output=True, text=True, timeout=300)
    return [float(line) for line in done.stdout.split()]


def main() -> int:
    from display_stack import DisplayStack, wait_until

    from cuepoint_tray.settings import Settings, save_settings, with_values

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracks", type=int, default=50_000)
    parser.add_argument("--xml", type=Path, help="a big export (else one is generated)")
    parser.add_argument("--rereads", type=int, default=3)
    parser.add_argument("--collection", action="store_true",
                        help="each re-read also renames a track in the XML's collection")
    parser.add_argument("--masterdb", type=Path, help="a master.db to use instead of an XML")
    parser.add_argument("--masterdb-tracks", type=int,
                        help="generate a master.db with this many tracks instead of an XML")
    parser.add_argument("--source", type=Path, default=ROOT)
    args = parser.parse_args()
    source = args.source.resolve()

    with tempfile.TemporaryDirectory(prefix="bench-library-") as folder:
        work = Path(folder)
        change: XmlChange | MasterDbChange
        if args.masterdb or args.masterdb_tracks:
            xml = work / "rekordbox" / "master.db"
            xml.parent.mkdir()
            if args.masterdb:
                xml.write_bytes(args.masterdb.read_bytes())
            else:
                sys.path.insert(0, str(ROOT / "scripts"))
                from bench_masterdb import generate

                generate(xml, args.masterdb_tracks)
            change = MasterDbChange(xml, "Everything 5000")
        else:
            xml = work / "rekordbox.xml"
            if args.xml:
                xml.write_bytes(args.xml.read_bytes())
            else:
                subprocess.run([sys.executable,
                                str(ROOT / "scripts" / "make_big_rekordbox_xml.py"), str(xml),
                                "--tracks", str(args.tracks)], check=True)
            names = re.findall(rb'<NODE Name="([^"]+)" Type="1"', xml.read_bytes()[-400_000:])
            change = XmlChange(xml, names[0].decode(), args.collection)
        print(f"library: {xml.name}, {xml.stat().st_size / 1e6:.0f} MB; load average "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        data, dump, stall_log = work / "data", work / "menu.json", work / "stalls.txt"
        (data / "config").mkdir(parents=True)
        save_settings(with_values(Settings(), {"rekordbox_library": str(xml)},
                                  source="the benchmark"), data / "config" / "settings.toml")
        with DisplayStack(work / "desktop").start() as desktop:
            env = desktop.child_env(PYTHONPATH=str(source), CUEPOINT_TRAY_MENU_DUMP=str(dump),
                                    CUEPOINT_TRAY_STALL_LOG=str(stall_log))
            started = time.monotonic()
            app = subprocess.Popen([sys.executable, "-m", "cuepoint_tray.tray", "--data-dir",
                                    str(data)], cwd=source, env=env,
                                   stdout=(work / "app.out").open("wb"), stderr=subprocess.STDOUT)
            try:
                name = change.name
                wait_until(lambda: f'"{name}  (' in _menu_texts(dump), 300, "the first menu")
                print(f"[start] menu with the library's playlists "
                      f"{time.monotonic() - started:.2f} s after start")
                time.sleep(2)
                # What the machine's load alone does to the main loop: the same count over
                # as long a time with nothing happening in the tray.
                quiet = len(_stalls(stall_log))
                time.sleep(QUIET_S)
                idle = _stalls(stall_log)[quiet:]
                print(f"[idle] main-loop stalls over 20 ms in {QUIET_S:.0f} s with nothing "
                      f"happening: {len(idle)} (worst {max(idle, default=0.0):.0f} ms); load "
                      f"average {os.getloadavg()[0]:.2f}")
                results = [_reread(change, n, dump, stall_log, app.pid, wait_until)
                           for n in range(1, args.rereads + 1)]
            finally:
                change.close()
                app.send_signal(signal.SIGTERM)
                try:
                    app.wait(30)
                except subprocess.TimeoutExpired:
                    app.kill()
        worst = max(r["stall_ms"] for r in results)
        shown = ", ".join(f"{r['shown_s']:.2f}" for r in results)
        rss = ", ".join(f"{r['rss']:.0f}" for r in results)
        cpu = ", ".join(f"{r['cpu_s']:.2f}" for r in results)
        print(f"[summary] menu after a change: {shown} s; CPU-s per re-read {cpu}; worst "
              f"main-loop stall {worst:.0f} ms; stalls over 20 ms per re-read "
              f"{', '.join(str(int(r['stalls'])) for r in results)}; tray RSS after each "
              f"re-read {rss} MB")
        # Twice with one data folder: a master.db's first run derives its key, later runs
        # find it kept there (an XML has no key: both runs do the same).
        first, later = (_time_cli(source, xml, work / "cli") for _ in range(2))
        print(f"[cli] cuepoint playlists: {first:.2f} s, then {later:.2f} s")
        times = _time_dashboard(source, xml, work / "dash")
        print(f"[dashboard] playlist list: first {times[0]:.2f} s, then "
              f"{', '.join(f'{t:.3f}' for t in times[1:])} s")
    return 0


class XmlChange:
    """Rename a playlist (and with `collection`, a track) in an export, written whole and
    moved into place as an export is."""

    def __init__(self, xml: Path, name: str, collection: bool) -> None:
        self.xml, self.name, self.collection = xml, name, collection
        self._text = b""

    def prepare(self, n: int) -> None:
        old = f'Name="{self.name}"' if n == 1 else f'Name="{self.name} v{n - 1}"'
        text = self.xml.read_bytes()
        at = text.rindex(old.encode())  # the playlist's NODE: after the collection
        text = text[:at] + f'Name="{self.name} v{n}"'.encode() + text[at + len(old):]
        if self.collection:
            track = text.index(b'<TRACK TrackID="')
            named = text.index(b' Name="', track) + len(b' Name="')
            text = text[:named] + f"v{n} ".encode() + text[named:]
        self._text = text

    def apply(self) -> float:
        temporary = self.xml.with_suffix(".tmp")
        temporary.write_bytes(self._text)
        replaced = time.monotonic()
        temporary.replace(self.xml)
        return replaced

    def close(self) -> None:
        pass


class MasterDbChange:
    """Rename a playlist in a master.db as Rekordbox does: through SQLCipher, committed to
    its WAL by a connection that stays open."""

    def __init__(self, db: Path, name: str) -> None:
        from pyrekordbox.masterdb.database import BLOB
        from pyrekordbox.utils import deobfuscate
        from sqlcipher3 import dbapi2

        self.name = name
        self._db = dbapi2.connect(str(db), isolation_level=None)
        self._db.execute(f"PRAGMA key = '{deobfuscate(BLOB)}'")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("SELECT count(*) FROM djmdPlaylist").fetchall()  # the key, now
        self._n = 0

    def prepare(self, n: int) -> None:
        self._n = n

    def apply(self) -> float:
        old = self.name if self._n == 1 else f"{self.name} v{self._n - 1}"
        changed = time.monotonic()
        self._db.execute("UPDATE djmdPlaylist SET Name = ?, updated_at = ? WHERE Name = ?",
                         (f"{self.name} v{self._n}", time.strftime("%Y-%m-%d %H:%M:%S.000 "
                                                                   "+00:00"), old))
        return changed

    def close(self) -> None:
        self._db.close()


def _reread(change: XmlChange | MasterDbChange, n: int, dump: Path, stall_log: Path, pid: int,
            wait_until: Any) -> dict[str, float]:
    name = change.name
    change.prepare(n)
    before, cpu_before = len(_stalls(stall_log)), _cpu_s(pid)
    replaced = change.apply()
    wait_until(lambda: f'"{name} v{n}  (' in _menu_texts(dump), 120, f"re-read {n}",
               interval=0.02)
    shown = time.monotonic() - replaced
    time.sleep(QUIET_S - shown if shown < QUIET_S else 0.0)  # as long as the idle count
    stalls = _stalls(stall_log)[before:]
    result = {"shown_s": shown, "stall_ms": max(stalls, default=0.0), "rss": _rss_mb(pid),
              "cpu_s": _cpu_s(pid) - cpu_before, "stalls": len(stalls)}
    print(f"[re-read {n}] shown in the menu {shown:.2f} s after the change, costing "
          f"{result['cpu_s']:.2f} CPU-s; main-loop stalls over 20 ms in the "
          f"{max(shown, QUIET_S):.0f} s from the change: {len(stalls)} (worst "
          f"{result['stall_ms']:.0f} ms); tray RSS {result['rss']:.0f} MB; load average "
          f"{os.getloadavg()[0]:.2f}")
    return result


if __name__ == "__main__":
    sys.exit(main())
