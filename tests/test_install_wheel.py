"""CuePoint installed as a user installs it: the wheel built with `pip wheel --no-deps`,
installed (not editable) into a fresh virtual environment, and every program run from `/`,
far from the checkout. Also `pipx install` of the project.

The wheel and its environment are made once for the module (scripts/install_wheel.py);
dependencies come from the package index through the developer's pip cache.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from display_stack import DisplayStack, require_display_stack
from installed_app import DashboardProcess, crawl_dashboard, fetch, served_wrongly, tray_first_run

from conftest import PROJECT_ROOT

# The first test also builds and installs the wheel (10-60 s; more on a cold pip cache).
pytestmark = [pytest.mark.slow, pytest.mark.serial, pytest.mark.timeout(900)]

# Read before any test moves HOME and XDG_CACHE_HOME: pip's cache makes installing the
# dependencies (PyGObject is built from source) a matter of seconds.
PIP_CACHE = os.environ.get("PIP_CACHE_DIR") or str(
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pip")
PAGES = ("live", "history", "session", "compare", "settings", "export")


def _install_wheel_module() -> Any:
    spec = importlib.util.spec_from_file_location(
        "install_wheel", PROJECT_ROOT / "scripts" / "install_wheel.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Installed:
    source: Path  # a copy of the project's files, which the wheel was built from
    wheel: Path
    bin: Path  # the fresh environment's bin/, holding cuepoint and cuepoint-tray


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    tools = _install_wheel_module()
    folder = tmp_path_factory.mktemp("wheel")
    os.environ.setdefault("PIP_CACHE_DIR", PIP_CACHE)
    source = tools.copy_source(folder / "source")
    wheel = tools.build_wheel(source, folder / "dist")
    return Installed(source, wheel, tools.install_into_new_venv(wheel, folder / "venv"))


def user_env(installed: Installed, home: Path, **extra: str) -> dict[str, str]:
    """A user's environment: the installed programs on PATH, nothing of the checkout's."""
    env = {name: value for name, value in os.environ.items()
           if name not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CUEPOINT_DATA_DIR")}
    env.update(PATH=f"{installed.bin}{os.pathsep}/usr/bin{os.pathsep}/bin", HOME=str(home),
               PIP_CACHE_DIR=PIP_CACHE, **extra)
    return env


def run(installed: Installed, home: Path, *args: str, timeout: float = 180) -> Any:
    return subprocess.run([str(installed.bin / "cuepoint"), *args], cwd="/",
                          env=user_env(installed, home), capture_output=True, text=True,
                          timeout=timeout)


def test_the_wheel_holds_the_package_data_the_licence_and_both_programs(
        installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
        metadata = next(wheel.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
        entry_points = next(wheel.read(n).decode() for n in names
                            if n.endswith(".dist-info/entry_points.txt"))
    package = installed.source / "cuepoint_tray"
    for folder in ("web", "assets"):
        data = {path.relative_to(installed.source).as_posix()
                for path in (package / folder).rglob("*") if path.is_file()}
        assert data and data <= names, sorted(data - names)
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert not any(n.startswith(("tests/", "scripts/", "web/", "assets/")) for n in names)
    assert "Requires-Dist: bottle" in metadata
    assert "cuepoint = cuepoint_tray.cli:main" in entry_points
    assert "cuepoint-tray = cuepoint_tray.tray.app:main" in entry_points


def test_the_installed_demo_completes_from_the_root_folder(installed: Installed,
                                                          tmp_path: Path) -> None:
    data = tmp_path / "data"
    # The demo's own settings, but quicker: the bundled catalog does not need a throttle.
    assert run(installed, tmp_path, "--data-dir", str(data), "settings", "--set",
               "requests_per_second", "50").returncode == 0
    done = run(installed, tmp_path, "--data-dir", str(data), "demo")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert "site-packages" in done.stdout and "Demo collection" in done.stdout
    assert "matched" in done.stdout
    assert list((data / "reports").rglob("results.csv"))


def test_the_installed_dashboard_serves_every_page_script_and_stylesheet(
        installed: Installed, tmp_path: Path) -> None:
    dashboard = DashboardProcess([str(installed.bin / "cuepoint"), "--data-dir",
                                  str(tmp_path / "data")], cwd=Path("/"),
                                 env=user_env(installed, tmp_path), log=tmp_path / "err.log")
    with dashboard.running():
        files = crawl_dashboard(dashboard.base)
        web = _installed_package(installed) / "web"
        every_file = {"/" + p.relative_to(web).as_posix() for p in web.rglob("*") if p.is_file()}
        not_reached = every_file - set(files) - {"/index.html"}
        extra = fetch(dashboard.base, sorted(not_reached))  # linked from no page
        assert dashboard.api("/api/sessions")["sessions"] == []
    assert served_wrongly(files) == [] and served_wrongly(extra) == []
    assert {f"/js/pages/{page}.js" for page in PAGES} <= set(files)
    assert {"/", "/css/app.css", "/js/app.js", "/plotly.min.js"} <= set(files)
    assert files["/plotly.min.js"].size > 1_000_000


def _installed_package(installed: Installed) -> Path:
    where = "import cuepoint_tray, os; print(os.path.dirname(cuepoint_tray.__file__))"
    done = subprocess.run([str(installed.bin / "python"), "-c", where], cwd="/",
                          capture_output=True, text=True, check=True)
    package = Path(done.stdout.strip())
    assert "site-packages" in package.parts, package  # not the checkout
    return package


# --- the tray -------------------------------------------------------------------------------

@pytest.fixture
def desktop(tmp_path: Path) -> Iterator[DisplayStack]:
    require_display_stack()
    with DisplayStack(tmp_path / "desktop").start() as stack:
        yield stack


def test_the_installed_tray_docks_its_real_icon(installed: Installed, desktop: DisplayStack,
                                               tmp_path: Path) -> None:
    env = {**user_env(installed, tmp_path), **desktop.env}
    look = tray_first_run(desktop, installed.bin / "cuepoint-tray", tmp_path / "data",
                          cwd=Path("/"), env=env, name="installed")
    assert look.to_real_icon < 8 and look.to_plain_disc > 3 * look.to_real_icon, look
    assert "cannot be read" not in look.log and "Traceback" not in look.log


# --- pipx -----------------------------------------------------------------------------------

def test_pipx_install_of_the_project_puts_both_programs_on_the_path(installed: Installed,
                                                                  tmp_path: Path) -> None:
    if importlib.util.find_spec("pipx") is None:
        pytest.fail("pipx is missing: scripts/setup.sh installs it (the dev extra)")
    bin_dir = tmp_path / "pipx-bin"
    env = {**user_env(installed, tmp_path), "PIPX_HOME": str(tmp_path / "pipx"),
           "PIPX_BIN_DIR": str(bin_dir), "PIPX_MAN_DIR": str(tmp_path / "pipx-man"),
           "PATH": f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin"}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pipx", "install", "--python",
                           shutil.which("python3") or sys.executable, str(installed.source)],
                          cwd="/", env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert {"cuepoint", "cuepoint-tray"} <= {p.name for p in bin_dir.iterdir()}
    helped = subprocess.run(["cuepoint", "--help"], cwd="/", env=env, capture_output=True,
                            text=True, timeout=60)
    assert helped.returncode == 0 and "demo" in helped.stdout
    version = subprocess.run(["cuepoint-tray", "--version"], cwd="/", env=env,
                             capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and "0." in version.stdout, version.stderr
    print(f"pipx install took {time.monotonic() - started:.1f} s")
