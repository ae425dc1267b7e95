"""Paths, folders and processes as a DJ's machine has them: relative paths, a read-only
data folder, a session whose process died or whose id another program took, a local
program sitting on the single-instance port, and Beatport text with escape sequences.

Real processes (the CLI in its own process, `sleep` standing for a program that reused a
process id), a read-only tmpfs, and a hostile server on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_server import HostileServer

from cuepoint_tray.catalog_server import CatalogServer
from cuepoint_tray.paths import resolve_paths
from cuepoint_tray.resources import resource_folder
from cuepoint_tray.store import open_history
from cuepoint_tray.tray.single_instance import SingleInstance, ask_running_to_show

from conftest import PROJECT_ROOT, tmpfs

DEMO = resource_folder("assets", "demo")


def cuepoint(data_dir: Path, *args: str, cwd: Path | None = None
             ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cuepoint_tray", "--data-dir", str(data_dir),
                           *args], capture_output=True, text=True, timeout=300, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})


@pytest.fixture(scope="module")
def catalog() -> Iterator[CatalogServer]:
    with CatalogServer(DEMO / "catalog.jsonl").start() as server:
        yield server


def test_search_output_carries_no_terminal_escape_sequences(catalog: CatalogServer,
                                                            tmp_path: Path) -> None:
    with HostileServer(catalog.url) as hostile:
        hostile.choose = lambda number, path, query: "json"
        hostile.payload = {"tracks": [{
            "id": 1, "name": "Clear\x1b[2J\x1b]0;pwned\x07 Screen",
            "artists": [{"name": "Evil\u202eTEXT\x9b31m"}], "mix_name": "Orig\rinal",
            "release": {"label": {"name": "Label\x1b[5m"}}}]}
        found = cuepoint(tmp_path / "data", "search", "anything", "--beatport-url",
                         hostile.url, "--token", "t")
    assert found.returncode == 0, found.stderr
    assert "Clear" in found.stdout and "Screen" in found.stdout
    assert not any(c in found.stdout for c in "\x1b\x07\x9b\r\u202e")


def test_a_relative_xml_is_kept_absolute(catalog: CatalogServer, tmp_path: Path) -> None:
    music = tmp_path / "music"
    music.mkdir()
    shutil.copyfile(DEMO / "rekordbox.xml", music / "rekordbox.xml")
    data = tmp_path / "data"
    matched = cuepoint(data, "match", "--xml", "rekordbox.xml", "--playlist", "Crate Digging",
                       "--beatport-url", catalog.url, cwd=music)
    assert matched.returncode == 0, matched.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    exported = cuepoint(data, "export", "1", "--rekordbox-xml", "enriched.xml", cwd=elsewhere)
    assert exported.returncode == 0, exported.stderr
    assert (elsewhere / "enriched.xml").exists()
    with sqlite3.connect(data / "history.sqlite3") as db:
        (stored,) = db.execute("SELECT xml_path FROM sessions").fetchone()
    assert stored == str(music / "rekordbox.xml")


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "ro", "4m") as mount_point:
        yield mount_point


def test_a_read_only_data_folder_gets_one_sentence(read_only_folder: Path) -> None:
    data = read_only_folder / "data"
    assert cuepoint(data, "settings").returncode == 0  # a folder in use, then made read-only
    subprocess.run(["mount", "-o", "remount,ro", str(read_only_folder)], check=True)
    empty = read_only_folder / "never-made"

    for folder in (data, empty):
        listed = cuepoint(folder, "sessions")
        assert listed.returncode == 1
        assert "Traceback" not in listed.stderr
        assert listed.stderr.count("\n") == 1
        assert "cannot write in its data folder" in listed.stderr and "--data-dir" in listed.stderr


def _running_session(database: Path, pid: int) -> None:
    open_history(database).close()
    with sqlite3.connect(database) as db:
        db.execute("INSERT INTO sessions (started_at, status, pid, hostname, tracks) "
                   "VALUES (?, 'running', ?, ?, 10)", (time.time(), pid, socket.gethostname()))


def _statuses(data: Path) -> list[str]:
    listed = cuepoint(data, "sessions")
    assert listed.returncode == 0, listed.stderr
    return [line.split()[3] for line in listed.stdout.splitlines()[1:-1]]


def test_a_session_whose_process_id_another_program_took_is_interrupted(
        tmp_path: Path) -> None:
    data = resolve_paths(tmp_path / "data").create().data_dir
    database = data / "history.sqlite3"
    other_program = subprocess.Popen(["sleep", "60"])  # alive, but not CuePoint
    holder = subprocess.Popen([sys.executable, "-c",  # alive and holding the history
                               f"import time; f = open({str(database)!r}, 'rb'); "
                               "time.sleep(60)"])
    try:
        _running_session(database, other_program.pid)
        _running_session(database, holder.pid)
        time.sleep(0.5)
        assert _statuses(data) == ["running", "interrupted"]  # newest first
    finally:
        for process in (other_program, holder):
            process.kill()
            process.wait()
    assert _statuses(data) == ["interrupted", "interrupted"]  # both gone now


def test_a_silent_program_on_the_single_instance_port_does_not_block_a_second_launch(
        tmp_path: Path) -> None:
    shown = threading.Event()
    first = SingleInstance(tmp_path)
    assert first.acquire()
    first.listen(shown.set)
    squatters = []
    try:
        port = json.loads((tmp_path / "tray.address").read_text())["port"]
        for _ in range(10):  # connect and say nothing, as a local program could
            squatters.append(socket.create_connection(("127.0.0.1", port)))
        started = time.monotonic()
        assert ask_running_to_show(tmp_path, timeout=5)
        assert time.monotonic() - started < 2
        assert shown.is_set()
    finally:
        for sock in squatters:
            sock.close()
        first.release()
