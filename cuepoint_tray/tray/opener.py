"""Open a file, or show it in its folder, with the operating system's own application."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cuepoint_tray.errors import CuepointError


def opener_command(path: Path, *, reveal: bool,
                   platform: str = sys.platform) -> list[str] | None:
    """The command that opens `path` (or, with `reveal`, shows it in its folder); None for
    opening a file on Windows, which goes through the file's association (os.startfile)."""
    if platform == "darwin":
        return ["open", "-R", str(path)] if reveal else ["open", str(path)]
    if platform == "win32":
        return ["explorer", f"/select,{path}"] if reveal else None
    return ["xdg-open", str(path.parent if reveal else path)]


def open_with_os(path: Path, *, reveal: bool = False, platform: str = sys.platform) -> None:
    """Open `path` without waiting; CuepointError when it is gone or nothing can open it."""
    if not path.exists():
        raise CuepointError(f"{path} is no longer there; write the report again from the "
                            "dashboard.")
    command = opener_command(path, reveal=reveal, platform=platform)
    if command is None:
        start = getattr(os, "startfile", None)  # Windows only
        if start is None:
            raise CuepointError(f"Could not open {path}: this system has no file "
                                "associations to open it with.")
        try:
            start(path)
        except OSError as exc:
            raise CuepointError(f"Could not open {path}: {exc}") from exc
        return
    try:
        subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError as exc:
        raise CuepointError(f"Could not run {command[0]} to open {path}: {exc}") from exc
