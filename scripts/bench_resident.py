"""What the tray app costs while it sits in the tray: CPU, memory and wake-ups of its whole
process tree (the tray, the window process, WebKit's processes) under Xvfb.

    python scripts/bench_resident.py [--window S] [--reopens N] [--source DIR]
                                     [--library FILE --playlist P]

`--library` (also `--xml`, `--masterdb`) is an XML export or a master.db, used in place
(CuePoint only reads it; a master.db through a snapshot copy); e.g. `--masterdb
master50k.db --playlist "Everything 5000"` for bench_masterdb.py's 50,000-track library.

Phases, each measured over `--window` seconds (default 40) of nothing happening:
  1. the tray alone, after start-up;
  2. the dashboard window open on the Live page (opened the way a second launch opens it);
  3. the window closed (hidden) — measured from 30 s after the close, so "within a minute";
then the time to open the window again (`--reopens` times, each after the window was hidden
long enough for its processes to end): from the request a second launch sends (its own
interpreter start is not counted) to the window mapped, and to the page drawn in it, with the
CPU-seconds the tree spent meanwhile (what a loaded machine does not inflate).

"Drawn" is the tests' criterion (`DisplayStack.painted`: more than 16 colours under the
window's top 100 pixels: a page still loading is one flat colour), looked at every 20 ms
through one X connection of this process. The tests take the window with ImageMagick's
`import`, a process of ~0.1 CPU-s a look that, polled on a 2-core machine while WebKit
paints, took up to 1.1 s a look and so delayed what it measured.

CPU is the CPU-seconds the tree consumed (utime + stime of every process from /proc, threads
included) divided by the wall time, so a machine shared with other work still gives the
app's own figure; the load average is printed beside it. Memory is RSS summed over the tree
(counts shared pages twice) and PSS (shares them out). Wake-ups are each thread's voluntary
context switches per second (the times it went to sleep and so woke again; not the times a
loaded machine's scheduler preempted it); the busiest threads are listed, with their names.

`--source DIR` runs the tray from another copy of the project (e.g. an unchanged checkout, for
a "before" figure), with this virtual environment.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the GUI tests' virtual desktop

TICKS = os.sysconf("SC_CLK_TCK")
CLOSED_SETTLE_S = 30.0
WINDOW_TITLE = "CuePoint Tray"
# After a close: the window's processes end after 15 s hidden (tray/window.py), then a new
# window process loads its libraries and waits; a reopen is measured once it does.
HIDDEN_WAIT_S = 15.0 + 10.0
DRAWN_COLOURS, DRAWN_BELOW = 16, 100  # DisplayStack.painted's criterion


@dataclass
class Sample:
    at: float
    cpu_s: float  # CPU-seconds of the tree so far (live processes only)
    switches: dict[str, int]  # "pid/tid name" -> context switches so far
    rss_mb: float
    pss_mb: float
    processes: int


def tree(root: int) -> list[int]:
    """`root` and every process descending from it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (threads included)


def _threads_of(pid: int) -> dict[str, int]:
    switches = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            status = Path(f"/proc/{pid}/task/{tid}/status").read_text().splitlines()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status if ":" in line)
        # Voluntary switches only: each is the thread going to sleep, so each is followed by
        # a wake-up. Involuntary ones are the scheduler taking the CPU from a running thread,
        # which counts how loaded the machine is, not how often the thread wakes.
        switches[f"{pid}/{tid} {fields['Name'].strip()}"] = int(
            fields["voluntary_ctxt_switches"])
    return switches


def _memory_of(pid: int) -> tuple[float, float]:
    rss = pss = 0.0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Rss:"):
            rss = int(line.split()[1]) / 1024
        elif line.startswith("Pss:"):
            pss = int(line.split()[1]) / 1024
    return rss, pss


def sample(root: int) -> Sample:
    cpu, switches, rss, pss, count = 0.0, {}, 0.0, 0.0, 0
    for pid in tree(root):
        try:
            cpu += _cpu_of(pid)
            switches.update(_threads_of(pid))
            r, p = _memory_of(pid)
        except (OSError, IndexError, ValueError):
            continue  # ended while we looked
        rss, pss, count = rss + r, pss + p, count + 1
    return Sample(time.monotonic(), cpu, switches, rss, pss, count)


def measure(name: str, root: int, seconds: float) -> dict[str, float]:
    """Print and return the tree's figures over `seconds` of idling."""
    first = sample(root)
    time.sleep(seconds)
    last = sample(root)
    wall = last.at - first.at
    cpu_percent = 100 * (last.cpu_s - first.cpu_s) / wall
    wakes = {key: (count - first.switches[key]) / wall
             for key, count in last.switches.items() if key in first.switches}
    busiest = sorted(wakes.items(), key=lambda item: -item[1])[:6]
    over = sum(1 for rate in wakes.values() if rate > 1.0)
    load = os.getloadavg()
    print(f"[{name}] over {wall:.0f} s: CPU {cpu_percent:.2f} % of one core "
          f"({last.cpu_s - first.cpu_s:.2f} CPU-s), RSS {last.rss_mb:.0f} MB, "
          f"PSS {last.pss_mb:.0f} MB, {last.processes} processes, "
          f"{len(wakes)} threads, {over} waking > 1/s; load average "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    for key, rate in busiest:
        print(f"    {rate:6.2f} wake-ups/s  {key}")
    return {"cpu": cpu_percent, "rss": last.rss_mb, "pss": last.pss_mb, "over": over}


class Screen:
    """Looks at one part of the screen through an X connection of this process: a
    GetImage request, no process started and no server grab."""

    def __init__(self, display: str, geometry: tuple[int, int, int, int]) -> None:
        self.display_name = display
        x, y, width, height = geometry
        self.box = (x, y + DRAWN_BELOW, width, height - DRAWN_BELOW)

    def __enter__(self) -> Screen:
        from Xlib import display

        self.display = display.Display(self.display_name)
        self.root = self.display.screen().root
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.display.close()

    def drawn(self) -> bool:
        """Whether the window shows more than a blank page under its top pixels."""
        from PIL import Image
        from Xlib import X

        x, y, width, height = self.box
        raw = self.root.get_image(x, y, width, height, X.ZPixmap, 0xFFFFFFFF)
        image = Image.frombytes("RGB", (width, height), raw.data, "raw", "BGRX")
        return image.getcolors(maxcolors=DRAWN_COLOURS) is None  # None: more colours


def main() -> int:
    from display_stack import DisplayStack, wait_until

    from cuepoint_tray.resources import resource_folder
    from cuepoint_tray.settings import Settings, save_settings, with_values
    from cuepoint_tray.tray.single_instance import ask_running_to_show

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--window", type=float, default=40.0, help="seconds per measurement")
    parser.add_argument("--reopens", type=int, default=1,
                        help="times the window is closed for a while and opened again")
    parser.add_argument("--source", type=Path, default=ROOT, help="run the tray from here")
    parser.add_argument("--library", "--xml", "--masterdb", dest="library", type=Path,
                        default=resource_folder("assets", "demo") / "rekordbox.xml",
                        help="the Rekordbox library: an XML export or a master.db")
    parser.add_argument("--playlist", default="Crate Digging")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-resident-") as folder:
        data = Path(folder) / "data"
        (data / "config").mkdir(parents=True)
        save_settings(with_values(Settings(), {"rekordbox_library": str(args.library),
                                               "default_playlist": args.playlist},
                                  source="the benchmark"), data / "config" / "settings.toml")
        with DisplayStack(Path(folder) / "desktop").start() as desktop:
            env = desktop.child_env(PYTHONPATH=str(args.source.resolve()))
            command = [sys.executable, "-m", "cuepoint_tray.tray", "--data-dir", str(data)]
            app = subprocess.Popen(command, cwd=args.source, env=env,
                                   stdout=(Path(folder) / "app.out").open("wb"),
                                   stderr=subprocess.STDOUT)
            try:
                wait_until(desktop.tray_icon, 30, "the tray icon")
                time.sleep(5)
                measure("tray alone", app.pid, args.window)

                def open_window() -> str:
                    # What a second launch sends (without timing its interpreter's start).
                    before = sample(app.pid)
                    started = time.monotonic()
                    if not ask_running_to_show(data):
                        raise SystemExit("the tray did not answer the request to show")
                    window = wait_until(lambda: desktop.visible_window(WINDOW_TITLE), 30,
                                        "the window", interval=0.02)
                    mapped = time.monotonic() - started
                    with Screen(desktop.env["DISPLAY"], desktop.geometry(window)) as screen:
                        wait_until(screen.drawn, 30, "the page drawn", interval=0.02)
                    wall = time.monotonic() - started
                    cpu = sample(app.pid).cpu_s - before.cpu_s
                    return (f"{wall:.2f} s after asking (window mapped at {mapped:.2f} s), "
                            f"costing the tree {cpu:.2f} CPU-s; load average "
                            f"{os.getloadavg()[0]:.2f}")

                def close_window() -> None:
                    window = desktop.visible_window(WINDOW_TITLE)
                    assert window is not None

                    def closed() -> bool:  # asked again: a loaded machine may miss the first
                        if desktop.visible_window(WINDOW_TITLE) is None:
                            return True
                        desktop.close_window(window)
                        return False

                    wait_until(closed, 30, "the window to close", interval=2.0)

                print(f"[open] window shown and drawn {open_window()}")
                time.sleep(10)
                measure("window open, Live page idle", app.pid, args.window)
                close_window()
                time.sleep(CLOSED_SETTLE_S)
                measure(f"window closed {CLOSED_SETTLE_S:.0f} s ago", app.pid, args.window)
                for number in range(1, args.reopens + 1):
                    if number > 1:
                        time.sleep(3)  # the page settles, as a DJ would look at it
                        close_window()
                        time.sleep(HIDDEN_WAIT_S)
                    print(f"[reopen {number}] window shown and drawn {open_window()}")
            finally:
                app.send_signal(signal.SIGTERM)
                try:
                    app.wait(30)
                except subprocess.TimeoutExpired:
                    app.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
