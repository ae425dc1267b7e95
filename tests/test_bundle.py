"""The frozen app: scripts/build_bundle.sh (PyInstaller, packaging/cuepoint.spec) builds the
one-folder bundle, which is moved elsewhere and run from yet another folder: the frozen
`cuepoint demo`, the frozen dashboard (every page, script and stylesheet, and plotly.min.js)
and the frozen `cuepoint-tray` (its real icon, its window drawing the first-run page).

Linux only: the same spec builds the macOS .app and the Windows .exe on those systems.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from display_stack import DisplayStack, require_display_stack
from installed_app import DashboardProcess, crawl_dashboard, served_wrongly, tray_first_run

from conftest import PROJECT_ROOT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.serial,
    pytest.mark.timeout(1200),  # the first test also builds the bundle (2-4 minutes)
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the bundle is built and "
                       "tried on Linux here; macOS and Windows build it on their own machines"),
]

# PyInstaller keeps processed libraries in its cache folder: read before tests move HOME.
PYINSTALLER_CACHE = os.environ.get("PYINSTALLER_CONFIG_DIR") or str(
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pyinstaller")
PAGES = ("live", "history", "session", "compare", "settings", "export")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built CuePoint folder, moved away from where it was built."""
    folder = tmp_path_factory.mktemp("bundle")
    done = subprocess.run(
        ["bash", str(PROJECT_ROOT / "scripts" / "build_bundle.sh"), "--dist",
         str(folder / "dist"), "--work", str(folder / "work")],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=1200,
        env={**os.environ, "PYTHON": sys.executable, "PYINSTALLER_CONFIG_DIR": PYINSTALLER_CACHE})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    moved = folder / "Applications" / "CuePoint"
    moved.parent.mkdir()
    shutil.move(folder / "dist" / "CuePoint", moved)
    shutil.rmtree(folder / "work")
    return moved


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A working folder that is neither the checkout nor the bundle."""
    folder = tmp_path / "somewhere" / "else"
    folder.mkdir(parents=True)
    return folder


def frozen_env() -> dict[str, str]:
    """No Python environment of the developer's: the bundle must bring its own."""
    return {name: value for name, value in os.environ.items()
            if name not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CUEPOINT_DATA_DIR")}


def test_the_bundle_holds_both_programs_and_the_declared_data(bundle: Path) -> None:
    internal = bundle / "_internal"
    assert (bundle / "cuepoint").is_file() and (bundle / "cuepoint-tray").is_file()
    for name in ("web/index.html", "web/js/app.js", "web/css/app.css",
                 "assets/tray/cuepoint.png", "assets/demo/rekordbox.xml",
                 "assets/demo/catalog.jsonl"):
        assert (internal / "cuepoint_tray" / name).is_file(), name
    assert (internal / "plotly" / "package_data" / "plotly.min.js").stat().st_size > 1_000_000


def test_the_frozen_demo_completes_from_another_folder(bundle: Path, elsewhere: Path) -> None:
    data = elsewhere / "data"
    cuepoint = str(bundle / "cuepoint")
    quick = subprocess.run([cuepoint, "--data-dir", str(data), "settings", "--set",
                            "requests_per_second", "50"], cwd=elsewhere, env=frozen_env(),
                           capture_output=True, text=True, timeout=120)
    assert quick.returncode == 0, quick.stderr
    done = subprocess.run([cuepoint, "--data-dir", str(data), "demo"], cwd=elsewhere,
                          env=frozen_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr and "matched" in done.stdout
    assert str(bundle) in done.stdout  # the demo XML came from inside the bundle
    assert list((data / "reports").rglob("results.csv"))


def test_the_frozen_dashboard_serves_every_page_script_and_stylesheet(
        bundle: Path, elsewhere: Path) -> None:
    dashboard = DashboardProcess([str(bundle / "cuepoint"), "--data-dir",
                                  str(elsewhere / "data")], cwd=elsewhere, env=frozen_env(),
                                 log=elsewhere / "err.log")
    with dashboard.running():
        files = crawl_dashboard(dashboard.base)
        assert dashboard.api("/api/sessions")["sessions"] == []
    assert served_wrongly(files) == []
    assert {f"/js/pages/{page}.js" for page in PAGES} <= set(files)
    assert files["/plotly.min.js"].size > 1_000_000


@pytest.fixture
def desktop(tmp_path: Path) -> Iterator[DisplayStack]:
    require_display_stack()
    with DisplayStack(tmp_path / "desktop").start() as stack:
        yield stack


def test_the_frozen_tray_docks_its_icon_and_draws_its_window(
        bundle: Path, elsewhere: Path, desktop: DisplayStack) -> None:
    look = tray_first_run(desktop, bundle / "cuepoint-tray", elsewhere / "data",
                          cwd=elsewhere, env={**frozen_env(), **desktop.env}, name="frozen")
    assert look.to_real_icon < 8 and look.to_plain_disc > 3 * look.to_real_icon, look
    assert "window loaded settings" in look.log and "Traceback" not in look.log
