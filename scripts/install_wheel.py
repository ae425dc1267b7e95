"""Build CuePoint's wheel and install it, as a user would, into a fresh virtual environment.

    python scripts/install_wheel.py /tmp/cuepoint-installed
    /tmp/cuepoint-installed/venv/bin/cuepoint demo

The wheel is built with `pip wheel --no-deps` from a copy of the project's files (so nothing
left in the checkout — build/, *.egg-info, caches — can slip in), and installed non-editable
with its dependencies from the package index (pip's cache makes a second install fast). The
new environment has no access to the checkout: it is how `pip install cuepoint-tray` or
pipx leaves a DJ's machine. Used by tests/test_install_wheel.py and scripts/bench_startup.py.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Never part of a build: the checkout's environment, VCS data and what builds leave behind.
LEFT_OUT = (".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
            ".mypy_cache", ".ruff_cache", ".data", "out")


def copy_source(target: Path, source: Path = ROOT) -> Path:
    """The project's files (without environments, caches and build output) in `target`."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(*LEFT_OUT))
    return target


def build_wheel(source: Path, out: Path, python: str = sys.executable) -> Path:
    """`pip wheel --no-deps` of the project in `source`; the wheel's path."""
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run([python, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir",
                    str(out), str(source)], check=True, env=_pip_env())
    wheels = sorted(out.glob("cuepoint_tray-*.whl"))
    if len(wheels) != 1:
        raise RuntimeError(f"expected one CuePoint wheel in {out}, found {wheels}")
    return wheels[0]


def install_into_new_venv(wheel: Path, folder: Path, python: str = sys.executable) -> Path:
    """A new virtual environment in `folder` with the wheel installed (not editable) and its
    dependencies; its bin/ (Scripts\\ on Windows) folder, where `cuepoint` now lives."""
    # No pip inside: this environment's pip installs into it (--python), which saves
    # ensurepip's time and uses the same pip cache.
    venv.EnvBuilder(with_pip=False, clear=True).create(folder)
    target = folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    subprocess.run([python, "-m", "pip", "--python", str(target), "install", "--quiet",
                    str(wheel)], check=True, env=_pip_env())
    return target.parent


def _pip_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="new folder: the wheel in wheel/, the "
                        "environment in venv/")
    args = parser.parse_args()
    folder: Path = args.folder.resolve()
    if folder.exists() and any(folder.iterdir()):
        parser.error(f"{folder} is not empty")
    source = copy_source(folder / "source")
    wheel = build_wheel(source, folder / "wheel")
    shutil.rmtree(source)
    bin_dir = install_into_new_venv(wheel, folder / "venv")
    print(f"wheel: {wheel} ({wheel.stat().st_size / 1e6:.2f} MB)")
    print(f"installed: {bin_dir / 'cuepoint'} and {bin_dir / 'cuepoint-tray'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
