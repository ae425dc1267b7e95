"""Start-up time, installed from the wheel and from the checkout: `cuepoint --help` (target
<= 0.15 s) and the tray icon docked (target <= 1 s), median and best of several runs.

    python scripts/bench_startup.py [--runs 10] [--tray-runs 5] [--installed DIR]

"Installed" is the wheel built and installed into a fresh virtual environment by
scripts/install_wheel.py (in a temporary folder, or reuse one made before with
--installed DIR); "checkout" is the development environment's editable install (.venv).
Every program runs from `/`. `--help` is timed from the process start to its exit; the tray
from its start to its icon docked in the tray host (trayer on Xvfb, as in the GUI tests,
with the demo XML set so no first-run window opens). The exit status is 1 when a median
misses its target.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the GUI tests' virtual desktop

HELP_TARGET_S = 0.15
TRAY_TARGET_S = 1.0


def _install_wheel() -> Any:
    spec = importlib.util.spec_from_file_location("install_wheel", ROOT / "scripts" /
                                                  "install_wheel.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def time_help(bin_dir: Path, runs: int) -> list[float]:
    times = []
    for _ in range(runs + 1):  # the first run fills the OS's file cache: not counted
        started = time.perf_counter()
        subprocess.run([str(bin_dir / "cuepoint"), "--help"], cwd="/", check=True,
                       stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return times[1:]


def time_tray(bin_dir: Path, runs: int, scratch: Path) -> list[float]:
    from display_stack import DisplayStack

    from cuepoint_tray.resources import DEMO_XML, resource
    from cuepoint_tray.settings import Settings, save_settings

    times = []
    with DisplayStack(scratch / "desktop").start() as desktop:
        for run in range(runs + 1):
            data = scratch / f"tray-{bin_dir.parent.name}-{run}"
            save_settings(Settings(rekordbox_library=str(resource(*DEMO_XML))),
                          data / "config" / "settings.toml")
            env = desktop.child_env(PATH=f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")
            env.pop("CUEPOINT_DATA_DIR", None)
            started = time.perf_counter()
            app = subprocess.Popen([str(bin_dir / "cuepoint-tray"), "--data-dir", str(data)],
                                   cwd="/", env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
            try:
                while desktop.tray_icon() is None:
                    if app.poll() is not None or time.perf_counter() - started > 30:
                        raise SystemExit(f"the tray did not dock its icon (exit {app.poll()})")
                    time.sleep(0.005)
                times.append(time.perf_counter() - started)
            finally:
                app.send_signal(signal.SIGTERM)
                app.wait(30)
    return times[1:]


def line(what: str, times: list[float], target: float) -> str:
    median = statistics.median(times)
    verdict = "ok" if median <= target else "OVER"
    return (f"  {what:<22} median {median:6.3f} s   best {min(times):6.3f} s   "
            f"worst {max(times):6.3f} s   target <= {target:g} s: {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="`--help` runs per install")
    parser.add_argument("--tray-runs", type=int, default=5, help="tray starts per install "
                        "(0: skip the tray)")
    parser.add_argument("--installed", type=Path, metavar="DIR",
                        help="a folder made by scripts/install_wheel.py (default: make one)")
    args = parser.parse_args()
    checkout_bin = Path(sys.executable).parent
    misses = 0
    with tempfile.TemporaryDirectory(prefix="cuepoint-bench-startup-") as scratch_name:
        scratch = Path(scratch_name)
        installed = args.installed
        if installed is None:
            tools = _install_wheel()
            installed = scratch / "installed"
            print("building the wheel and installing it into a fresh environment...",
                  flush=True)
            source = tools.copy_source(installed / "source")
            wheel = tools.build_wheel(source, installed / "wheel")
            tools.install_into_new_venv(wheel, installed / "venv")
        for name, bin_dir in (("installed (wheel)", installed / "venv" / "bin"),
                              ("checkout (.venv)", checkout_bin)):
            print(f"{name}: {bin_dir}")
            helped = time_help(bin_dir, args.runs)
            print(line("cuepoint --help", helped, HELP_TARGET_S), flush=True)
            misses += statistics.median(helped) > HELP_TARGET_S
            if args.tray_runs:
                docked = time_tray(bin_dir, args.tray_runs, scratch)
                print(line("tray icon docked", docked, TRAY_TARGET_S), flush=True)
                misses += statistics.median(docked) > TRAY_TARGET_S
    print(f"runs: {args.runs} x --help, {args.tray_runs} x tray, after one uncounted run each; "
          f"{os.cpu_count()} CPUs")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
