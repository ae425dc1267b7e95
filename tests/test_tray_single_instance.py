"""One tray app per data folder: the lock, and a second launch asking the first to show."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from cuepoint_tray.tray import app as tray_app
from cuepoint_tray.tray.single_instance import SingleInstance, ask_running_to_show


def test_the_second_instance_does_not_get_the_lock(tmp_path: Path) -> None:
    first, second = SingleInstance(tmp_path), SingleInstance(tmp_path)
    assert first.acquire()
    assert not second.acquire()
    first.release()
    assert second.acquire()  # a quit (or crashed) instance leaves the lock free
    second.release()


def test_a_second_launch_asks_the_first_to_show_its_window(tmp_path: Path) -> None:
    shown = threading.Event()
    first = SingleInstance(tmp_path)
    assert first.acquire()
    first.listen(shown.set)
    try:
        assert (tmp_path / "tray.address").stat().st_mode & 0o077 == 0  # the user's only
        assert ask_running_to_show(tmp_path, timeout=5)
        assert shown.is_set()
    finally:
        first.release()
    assert not (tmp_path / "tray.address").exists()


def test_a_request_without_the_secret_is_refused(tmp_path: Path) -> None:
    shown = threading.Event()
    first = SingleInstance(tmp_path)
    assert first.acquire()
    first.listen(shown.set)
    try:
        address = json.loads((tmp_path / "tray.address").read_text())
        (tmp_path / "tray.address").write_text(json.dumps({**address, "secret": "guess"}))
        assert not ask_running_to_show(tmp_path, timeout=0.5)
        assert not shown.is_set()
    finally:
        first.release()


def test_nobody_to_ask(tmp_path: Path) -> None:
    assert not ask_running_to_show(tmp_path, timeout=0.3)


def test_the_command_exits_0_when_another_instance_shows_its_window(tmp_path: Path,
                                                                    capsys) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shown = threading.Event()
    first = SingleInstance(data_dir)
    assert first.acquire()
    first.listen(shown.set)
    try:
        assert tray_app.main(["--data-dir", str(data_dir)]) == 0
    finally:
        first.release()
    assert shown.is_set()
    assert "already running" in capsys.readouterr().err
