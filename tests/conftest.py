"""Shared fixtures. Every test runs with its own data folder and home, never the user's."""

from __future__ import annotations

from pathlib import Path

import pytest

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
    return data_dir


def require(path: Path) -> Path:
    """Skip the calling test when a file from ../shared/ is absent."""
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return path
