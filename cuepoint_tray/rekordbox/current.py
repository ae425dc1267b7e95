"""The DJ's Rekordbox XML as it is now: read once, read again when the file changes on disk."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from cuepoint_tray.errors import SettingsError
from cuepoint_tray.rekordbox.library import Library
from cuepoint_tray.rekordbox.reader import read_library

NO_XML_MESSAGE = (
    "No Rekordbox XML is set. In Rekordbox choose File > Export Collection in xml format, "
    "save the file, then give its path in Settings (rekordbox_xml).")


class CurrentLibrary:
    """Hands out the Library for a path, re-reading it when its size or mtime changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[str, int, int] | None = None
        self._library: Library | None = None

    def get(self, path: str | os.PathLike[str]) -> Library:
        """The library at `path`; raises SettingsError when no path is set and
        RekordboxError when the file cannot be read."""
        if not str(path).strip():
            raise SettingsError(NO_XML_MESSAGE)
        location = Path(path).expanduser()
        with self._lock:
            key = _file_key(location)
            if self._library is None or key is None or key != self._key:
                self._library = read_library(location)  # says what is wrong with the file
                self._key = key
            return self._library


def _file_key(path: Path) -> tuple[str, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns
