"""Shared fixtures. Every test runs with its own data folder and home, never the user's."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

# Never the developer's real keychain, from the first import on: keyring picks its backend
# once per process, and a module-scoped fixture (which runs before `isolated_dirs`) could
# otherwise be the first to ask, leaving a real backend to every later test in that worker.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED = PROJECT_ROOT.parent / "shared"
DEV_SET = SHARED / "eval" / "dev"
REAL_CAPTURES = SHARED / "fixtures" / "beatport-real"


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point CuePoint's data folder, HOME and the XDG folders at a fresh temporary folder."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(home / name.lower()))
    data_dir = tmp_path / "cuepoint-data"
    monkeypatch.setenv("CUEPOINT_DATA_DIR", str(data_dir))
    # Never the developer's real keychain: secrets go to the settings file unless a test
    # hands the store a keyring of its own.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    return data_dir


def require(path: Path) -> Path:
    """A file from ../shared/ (the team's shared test data, beside the checkout). When it is
    absent the calling test skips, saying so — and fails under CI=true, where it must be
    there. Every test that reads ../shared/ goes through here."""
    if not path.exists():
        reason = f"{path} is absent (../shared/ beside the checkout holds the shared test data)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true: {reason}", pytrace=False)
        pytest.skip(reason)
    return path


@contextmanager
def tmpfs(mount_point: Path, size: str) -> Iterator[Path]:
    """A fresh tmpfs of `size` (e.g. "640k") mounted at `mount_point` for the block: a small
    or read-only disk for a test. Mounting needs root, as CI runs; elsewhere the test skips."""
    mount_point.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                              str(mount_point)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a {size} tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def pytest_report_header() -> str:
    if SHARED.is_dir():
        return f"shared test data: {SHARED}"
    return (f"shared test data: {SHARED} is ABSENT: the tests that need it will skip "
            "(and fail under CI=true)")


# --- catalog_server: the local Beatport-compatible server (providers' block) ----------------------
# One server a test module, over the dev catalog (loading and indexing it takes ~0.6 s); each
# test gets it with no faults and zeroed /_stats.

from typing import TYPE_CHECKING  # noqa: E402

import requests  # noqa: E402

if TYPE_CHECKING:
    from cuepoint_tray.catalog_server import CatalogServer


@pytest.fixture(scope="module")
def catalog_server_for_module() -> Iterator[CatalogServer]:
    """A started CatalogServer over ../shared/eval/dev/catalog.jsonl, shared by a test module."""
    from cuepoint_tray.catalog_server import CatalogServer

    with CatalogServer(require(DEV_SET / "catalog.jsonl")).start() as server:
        yield server


@pytest.fixture
def catalog_server(catalog_server_for_module: CatalogServer) -> Iterator[CatalogServer]:
    """The module's catalog server with its fault switches off and its counts at zero."""
    from cuepoint_tray.catalog_server import Faults

    server = catalog_server_for_module
    server.faults = Faults()
    requests.delete(f"{server.url}/_stats", timeout=5).raise_for_status()
    yield server
    server.faults = Faults()
