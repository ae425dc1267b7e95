"""Where CuePoint differs per platform, every platform's branch, on any machine: the folders
it keeps its files in, the single-instance lock, opening a report or its folder, and the
system keyring. The platform is passed in (`platform=`) or is what the system offers
(environment variables, programs on PATH, a stand-in for Windows' msvcrt module); none of
CuePoint's own functions is replaced.
"""

from __future__ import annotations

import os
import stat
import sys
import time
from pathlib import Path
from typing import Any

import keyring.backend
import keyring.core
import pytest

from cuepoint_tray.errors import CuepointError
from cuepoint_tray.paths import resolve_paths
from cuepoint_tray.secrets_store import SecretsStore
from cuepoint_tray.settings import Settings, load_settings, save_settings
from cuepoint_tray.tray.opener import open_with_os
from cuepoint_tray.tray.single_instance import SingleInstance

# --- where the files live -------------------------------------------------------------------


def test_windows_keeps_everything_under_local_appdata(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUEPOINT_DATA_DIR")
    # platformdirs' own override of the known folder Windows would report.
    monkeypatch.setenv("WIN_PD_OVERRIDE_LOCAL_APPDATA", r"C:\Users\dj\AppData\Local")
    paths = resolve_paths(platform="win32")
    base = r"C:\Users\dj\AppData\Local"
    assert str(paths.data_dir).startswith(base) and paths.data_dir.name == "CuePointTray"
    assert paths.config_dir == paths.data_dir
    assert paths.cache_dir == paths.data_dir / "Cache"
    assert paths.log_dir == paths.data_dir / "Logs"
    assert paths.reports_dir == paths.data_dir / "reports"


def test_macos_keeps_everything_under_library(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUEPOINT_DATA_DIR")
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.delenv(name)  # a Mac has none of these
    library = Path(os.environ["HOME"]) / "Library"
    paths = resolve_paths(platform="darwin")
    assert paths.data_dir == library / "Application Support" / "CuePointTray"
    assert paths.config_dir == paths.data_dir
    assert paths.cache_dir == library / "Caches" / "CuePointTray"
    assert paths.log_dir == library / "Logs" / "CuePointTray"


@pytest.mark.parametrize("platform", ["linux", "freebsd14"])
def test_linux_and_other_unixes_follow_the_xdg_folders(monkeypatch: pytest.MonkeyPatch,
                                                       platform: str) -> None:
    monkeypatch.delenv("CUEPOINT_DATA_DIR")
    paths = resolve_paths(platform=platform)
    assert paths.data_dir == Path(os.environ["XDG_DATA_HOME"]) / "CuePointTray"
    assert paths.config_dir == Path(os.environ["XDG_CONFIG_HOME"]) / "CuePointTray"
    assert paths.cache_dir == Path(os.environ["XDG_CACHE_HOME"]) / "CuePointTray"
    assert paths.log_dir == Path(os.environ["XDG_STATE_HOME"]) / "CuePointTray" / "log"


@pytest.mark.parametrize("platform", ["win32", "darwin", "linux"])
def test_a_data_dir_wins_on_every_platform(tmp_path: Path, platform: str) -> None:
    paths = resolve_paths(tmp_path / "here", platform=platform)
    assert paths.settings_file == tmp_path / "here" / "config" / "settings.toml"
    assert paths.database == tmp_path / "here" / "history.sqlite3"


# --- one tray app per data folder -------------------------------------------------------------

class WindowsLocks:
    """Windows' msvcrt.locking as Windows keeps the locks: byte ranges of a file, from the
    handle's current position, held by one open handle and refused to every other (in the
    same process too); closing a handle does not promptly free them."""

    LK_UNLCK, LK_LOCK, LK_NBLCK = 0, 1, 2

    def __init__(self) -> None:
        self.held: dict[tuple[int, int, int], int] = {}
        self.calls: list[tuple[int, int]] = []  # (mode, position)

    def locking(self, fd: int, mode: int, nbytes: int) -> None:
        status = os.fstat(fd)
        position = os.lseek(fd, 0, os.SEEK_CUR)
        self.calls.append((mode, position))
        keys = [(status.st_dev, status.st_ino, position + i) for i in range(nbytes)]
        if mode == self.LK_UNLCK:
            if any(self.held.get(key) != fd for key in keys):
                raise PermissionError(13, "Permission denied")
            for key in keys:
                del self.held[key]
        elif mode == self.LK_NBLCK:
            if any(key in self.held for key in keys):
                raise PermissionError(13, "Permission denied")
            self.held.update(dict.fromkeys(keys, fd))
        else:
            raise AssertionError(f"CuePoint must never wait for the lock (mode {mode})")


def test_on_windows_the_lock_is_byte_0_whatever_the_file_holds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locks = WindowsLocks()
    monkeypatch.setitem(sys.modules, "msvcrt", locks)
    first = SingleInstance(tmp_path, platform="win32")
    second = SingleInstance(tmp_path, platform="win32")
    assert first.acquire()
    assert (tmp_path / "tray.lock").read_text().strip() == str(os.getpid())
    # The file now holds a pid and "a+" opens at its end: the second must still meet byte 0.
    assert not second.acquire()
    first.release()
    assert not locks.held  # unlocked before closing, not left to the system
    assert second.acquire()
    second.release()
    assert all(position == 0 for _, position in locks.calls)


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_on_linux_and_macos_the_lock_is_flock(tmp_path: Path, platform: str) -> None:
    first = SingleInstance(tmp_path, platform=platform)
    second = SingleInstance(tmp_path, platform=platform)
    assert first.acquire()
    assert not second.acquire()
    first.release()
    assert second.acquire()
    second.release()


# --- opening a report or its folder -----------------------------------------------------------

@pytest.fixture
def os_openers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """xdg-open, open and explorer on PATH, each writing how it was called to a file."""
    folder = tmp_path / "bin"
    folder.mkdir()
    record = tmp_path / "opened.txt"
    for name in ("xdg-open", "open", "explorer"):
        script = folder / name
        script.write_text('#!/bin/sh\nprintf "%s\\n" "$(basename "$0")" "$@" > "$RECORD.tmp"\n'
                          'mv "$RECORD.tmp" "$RECORD"\n')
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("RECORD", str(record))
    return record


def opened(record: Path) -> list[str]:
    deadline = time.monotonic() + 10
    while not record.exists():
        assert time.monotonic() < deadline, "the opener was not started"
        time.sleep(0.02)
    return record.read_text().splitlines()


@pytest.mark.skipif(sys.platform == "win32", reason="the stand-in openers are shell scripts")
@pytest.mark.parametrize(("platform", "reveal", "expected"), [
    ("linux", False, ["xdg-open", "{report}"]),
    ("linux", True, ["xdg-open", "{folder}"]),  # xdg-open has no "select": the folder
    ("darwin", False, ["open", "{report}"]),
    ("darwin", True, ["open", "-R", "{report}"]),
    ("win32", True, ["explorer", "/select,{report}"]),
])
def test_each_platform_opens_with_its_own_program(tmp_path: Path, os_openers: Path,
                                                  platform: str, reveal: bool,
                                                  expected: list[str]) -> None:
    report = tmp_path / "reports" / "1 Friday.html"
    report.parent.mkdir()
    report.write_text("<p>report</p>")
    open_with_os(report, reveal=reveal, platform=platform)
    assert opened(os_openers) == [part.format(report=report, folder=report.parent)
                                  for part in expected]


def test_windows_opens_a_file_through_its_association(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    report = tmp_path / "r.html"
    report.write_text("<p>report</p>")
    started: list[Any] = []
    monkeypatch.setattr(os, "startfile", started.append, raising=False)  # Windows' own call
    open_with_os(report, platform="win32")
    assert started == [report]
    monkeypatch.delattr(os, "startfile")
    with pytest.raises(CuepointError, match="no file associations"):
        open_with_os(report, platform="win32")


def test_a_missing_opener_is_said_plainly(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    report = tmp_path / "r.html"
    report.write_text("<p>report</p>")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(CuepointError, match="Could not run xdg-open"):
        open_with_os(report, platform="linux")


# --- the system keyring -----------------------------------------------------------------------

class MemoryBackend(keyring.backend.KeyringBackend):
    """A keyring backend as the macOS Keychain, Windows' Credential Locker or the Secret
    Service are seen through keyring: loaded by name, with a positive priority."""

    priority = 5  # type: ignore[assignment]
    passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        del self.passwords[(service, username)]


def choose_keyring(monkeypatch: pytest.MonkeyPatch, backend: str) -> None:
    """Configure keyring as a machine would (PYTHON_KEYRING_BACKEND), and drop the backend
    keyring chose earlier in this process (it chooses once); both are undone after the test."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", backend)
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)


def test_with_a_system_keychain_the_token_goes_there(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    choose_keyring(monkeypatch, f"{__name__}.MemoryBackend")
    MemoryBackend.passwords.clear()
    assert SecretsStore().available
    path = tmp_path / "settings.toml"
    save_settings(Settings(beatport_token="tok-123"), path)
    assert "tok-123" not in path.read_text()
    assert MemoryBackend.passwords == {("CuePoint Tray", "beatport_token"): "tok-123"}
    assert load_settings(path).beatport_token == "tok-123"


@pytest.mark.parametrize("backend", [
    "keyring.backends.macOS.Keyring",  # on a machine that is not a Mac
    "keyring.backends.Windows.WinVaultKeyring",  # not Windows
    "keyring.backends.null.Keyring",  # a machine with no keyring at all
    "keyring.backends.fail.Keyring",
])
def test_without_a_usable_keychain_the_token_stays_in_the_private_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str) -> None:
    if backend.endswith("macOS.Keyring") and sys.platform == "darwin" or \
            backend.endswith("WinVaultKeyring") and sys.platform == "win32":
        pytest.skip("this keychain is usable on this machine")
    choose_keyring(monkeypatch, backend)
    assert not SecretsStore().available
    path = tmp_path / "settings.toml"
    save_settings(Settings(beatport_token="tok-456"), path)
    assert "tok-456" in path.read_text()
    assert load_settings(path).beatport_token == "tok-456"
    if sys.platform != "win32":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
