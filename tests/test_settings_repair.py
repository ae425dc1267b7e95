"""A broken settings file: one sentence naming the line, and `settings --set` repairs it.

The CLI runs in its own process, as a DJ runs it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

BROKEN = 'rekordbox_xml = "/music/rekordbox.xml"\nconcurrency = = 4\nrequests_per_second = 2.0\n'


def cuepoint(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cuepoint_tray", "--data-dir", str(data_dir),
                           *args], capture_output=True, text=True, timeout=60)


def test_a_broken_settings_file_is_named_with_its_line_and_set_repairs_it(
        tmp_path: Path) -> None:
    settings = tmp_path / "config" / "settings.toml"
    settings.parent.mkdir(parents=True)
    settings.write_text(BROKEN, encoding="utf-8")

    blocked = cuepoint(tmp_path, "sessions")
    repaired = cuepoint(tmp_path, "settings", "--set", "concurrency", "3")
    after = cuepoint(tmp_path, "sessions")

    assert blocked.returncode == 1 and "Traceback" not in blocked.stderr
    assert blocked.stderr.count("\n") == 1  # one sentence
    assert "line 2" in blocked.stderr and "settings --set" in blocked.stderr
    assert repaired.returncode == 0, repaired.stderr
    assert "line 2" in repaired.stderr and "dropped" in repaired.stderr
    kept = tomllib.loads(settings.read_text(encoding="utf-8"))
    # the old name is read, and the rewritten file uses the new one
    assert kept == {"rekordbox_library": "/music/rekordbox.xml", "requests_per_second": 2.0,
                    "concurrency": 3}
    assert after.returncode == 0, after.stderr
    assert stat.S_IMODE(settings.stat().st_mode) == 0o600
    assert [p.name for p in settings.parent.iterdir()] == ["settings.toml"]  # no temp left


def test_settings_that_are_not_text_get_one_sentence(tmp_path: Path) -> None:
    settings = tmp_path / "config" / "settings.toml"
    settings.parent.mkdir(parents=True)
    settings.write_bytes(os.urandom(300) + b"\xff\xfe")

    listed = cuepoint(tmp_path, "settings")

    assert listed.returncode == 1 and "Traceback" not in listed.stderr
    assert "settings file is damaged" in listed.stderr
