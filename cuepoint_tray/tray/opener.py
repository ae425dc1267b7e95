"""Open a file, or show it in its folder, with the operating system's own application."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cuepoint_tray.errors import CuepointError


def opener_command(path: Path, *, reveal: bool, platform: str = sys.platform) -> list[str]:
    """The command that opens `path` (or, with `reveal`, the folder holding it)."""
    if platform == "darwin":
        return ["open", "-R", str(path)] if reveal else ["open", str(path)]
    if platform == "win32":
        return ["explorer", f"/select,{path}"] if reveal else ["explorer", str(path)]
    return ["xdg-open", str(path.parent if reveal else path)]


def open_with_os(path: Path, *, reveal: bool = False) -> None:
    """Open `path` without waiting; CuepointError when it is gone or nothing can open it."""
    if not path.exists():
        raise CuepointError(f"{path} is no longer there; write the report again from the "
                            "dashboard.")
    if sys.platform == "win32" and not reveal:
        os.startfile(path)
        return
    command = opener_command(path, reveal=reveal)
    try:
        subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError as exc:
        raise CuepointError(f"Could not run {command[0]} to open {path}: {exc}") from exc
