"""Which library to read: the one given, the one in the settings, or Rekordbox's own master.db
found where Rekordbox keeps it; and what a file is, told by its content, not its name."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cuepoint_tray.errors import SettingsError
from cuepoint_tray.rekordbox.library import PlaylistTree
from cuepoint_tray.rekordbox.masterdb import SQLITE_HEADER, read_master_db
from cuepoint_tray.rekordbox.reader import read_library
from cuepoint_tray.rekordbox.tree_first import read_tree

Format = Literal["xml", "sqlite", "sqlcipher"]
_XML_STARTS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"<")
_TEXT_BYTES = frozenset(b"\t\n\r") | frozenset(range(0x20, 0x100))

NO_LIBRARY_MESSAGE = (
    "No Rekordbox library is set, and Rekordbox's own library (master.db) is not where "
    "Rekordbox keeps it. Give its path in Settings (rekordbox_library) — Rekordbox's master.db "
    "or an XML export (in Rekordbox: File > Export Collection in xml format).")


def library_format(path: Path) -> Format:
    """"sqlite" (a plain SQLite file), "sqlcipher" (binary: an encrypted master.db) or "xml"
    (everything else, which the XML reader accepts or explains)."""
    try:
        with path.open("rb") as stream:
            start = stream.read(512)
    except OSError:
        return "xml"  # the XML reader says plainly why the file cannot be opened
    if start.startswith(SQLITE_HEADER):
        return "sqlite"
    text = start.lstrip(b" \t\r\n")
    if not text or text.startswith(_XML_STARTS) or start[:2] in (b"<\x00", b"\x00<"):
        return "xml"
    binary = sum(byte not in _TEXT_BYTES for byte in start) > len(start) // 20
    return "sqlcipher" if binary else "xml"


def open_library(path: str | os.PathLike[str], *,
                 key_file: Path | None = None) -> PlaylistTree:
    """The library at `path`: a Rekordbox XML export or a master.db (plain or encrypted;
    `key_file` keeps its key between runs: `AppPaths.masterdb_keys`)."""
    location = Path(path).expanduser()
    kind = library_format(location)
    if kind == "xml":
        return read_library(location)
    return read_master_db(location, encrypted=kind == "sqlcipher", key_file=key_file)


class WholeReadNeeded(Exception):
    """The export is not as Rekordbox writes it, so only reading it whole tells its tree
    (see tree_first); raised by open_playlists when the caller would rather do that
    elsewhere. Not a CuepointError: it says nothing to the DJ."""


def open_playlists(path: str | os.PathLike[str], *, whole_read: bool = True,
                   key_file: Path | None = None) -> PlaylistTree:
    """The library at `path` for listing and matching its playlists: an XML export's tree
    read without parsing its collection (a playlist's tracks are read when it is matched),
    or a master.db (`key_file` as for open_library). An export that is not as Rekordbox
    writes it is read whole, unless `whole_read` is False: then WholeReadNeeded is raised."""
    location = Path(path).expanduser()
    kind = library_format(location)
    if kind != "xml":
        return read_master_db(location, encrypted=kind == "sqlcipher", key_file=key_file)
    tree = read_tree(location)
    if tree is not None:
        return tree
    if not whole_read:
        raise WholeReadNeeded(str(location))
    return read_library(location)


def library_stamp(path: str | os.PathLike[str]) -> tuple[object, ...]:
    """Changes when the library changes: the file's size and mtime, and its WAL's (Rekordbox
    writes master.db changes to master.db-wal first)."""
    location = Path(path).expanduser()
    stamps: list[object] = []
    for suffix in ("", "-wal"):
        try:
            info = Path(str(location) + suffix).stat()
        except (OSError, ValueError):
            stamps.append(None)
        else:
            stamps.append((info.st_size, info.st_mtime_ns))
    return tuple(stamps)


# --- where Rekordbox keeps its library ------------------------------------------------------------

def rekordbox_folder(platform: str, home: Path, environ: Mapping[str, str]) -> Path | None:
    """The folder Rekordbox 6 and 7 keep master.db in, on this platform (None on Linux,
    where Rekordbox does not run)."""
    if platform == "darwin":
        return home / "Library" / "Pioneer" / "rekordbox"
    if platform.startswith("win"):
        appdata = environ.get("APPDATA") or str(home / "AppData" / "Roaming")
        return Path(appdata) / "Pioneer" / "rekordbox"
    return None


def find_master_db(platform: str | None = None, home: Path | None = None,
                   environ: Mapping[str, str] | None = None) -> Path | None:
    """Rekordbox's master.db where Rekordbox keeps it, when it is there."""
    folder = rekordbox_folder(platform or sys.platform, home or Path.home(),
                              os.environ if environ is None else environ)
    if folder is None:
        return None
    candidate = folder / "master.db"
    return candidate if candidate.is_file() else None


@dataclass(frozen=True)
class LibraryChoice:
    """The library to read and how it was chosen: "given" (--library), "setting" or "found"."""

    path: Path
    how: Literal["given", "setting", "found"]

    @property
    def found_message(self) -> str:
        """What to tell the DJ when CuePoint found the library itself ("" otherwise)."""
        if self.how != "found":
            return ""
        return (f"Using Rekordbox's own library found at {self.path}; choose another with "
                "--library or the rekordbox_library setting.")


def choose_library(given: str | None, setting: str, *, platform: str | None = None,
                   home: Path | None = None,
                   environ: Mapping[str, str] | None = None) -> LibraryChoice:
    """--library, else the setting, else Rekordbox's master.db where Rekordbox keeps it;
    SettingsError with what to do when there is none."""
    if given and given.strip():
        return LibraryChoice(Path(given).expanduser(), "given")
    if setting.strip():
        return LibraryChoice(Path(setting).expanduser(), "setting")
    found = find_master_db(platform, home, environ)
    if found is None:
        raise SettingsError(NO_LIBRARY_MESSAGE)
    return LibraryChoice(found, "found")
