"""The DJ's Rekordbox library as it is now: read once, read again when the file (or, for a
master.db, its WAL) changes on disk; an export's playlist tree without its collection."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path

from cuepoint_tray.rekordbox.library import PlaylistTree
from cuepoint_tray.rekordbox.locate import (
    NO_LIBRARY_MESSAGE,
    LibraryChoice,
    choose_library,
    library_stamp,
    open_playlists,
)

NO_XML_MESSAGE = NO_LIBRARY_MESSAGE  # the name callers knew


class CurrentLibrary:
    """Hands out the library for a path, re-reading it when it changes on disk.

    `platform`, `home` and `environ` say where Rekordbox's own master.db is looked for when
    no library is set (tests pass their own); `key_file` keeps a master.db's key between
    runs (`AppPaths.masterdb_keys`; None: derived once per process)."""

    def __init__(self, *, platform: str | None = None, home: Path | None = None,
                 environ: Mapping[str, str] | None = None,
                 key_file: Path | None = None) -> None:
        self.platform = platform
        self.home = home
        self.environ = environ
        self.key_file = key_file
        self._lock = threading.Lock()
        self._key: tuple[object, ...] | None = None
        self._library: PlaylistTree | None = None

    def choose(self, setting: str) -> LibraryChoice:
        """The library the setting names, else Rekordbox's master.db where Rekordbox keeps it;
        SettingsError when there is neither."""
        return choose_library(None, setting, platform=self.platform, home=self.home,
                              environ=self.environ)

    def get(self, path: str | os.PathLike[str], *, whole_read: bool = True) -> PlaylistTree:
        """The library at `path` (or, when empty, the one `choose` finds); raises SettingsError
        when there is none and RekordboxError when it cannot be read. An export's tree is
        read without its collection (see open_playlists; `whole_read` as there)."""
        location = self.choose(str(path)).path
        with self._lock:
            key = (str(location.resolve()), *library_stamp(location))
            if self._library is None or key[1] is None or key != self._key:
                # says what is wrong with the file
                self._library = open_playlists(location, whole_read=whole_read,
                                               key_file=self.key_file)
                self._key = key
            return self._library
