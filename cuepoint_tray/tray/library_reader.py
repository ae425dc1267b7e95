"""The tray's look at the Rekordbox library, taken where it costs the tray least.

An XML export's playlist tree is read without parsing its collection (rekordbox/tree_first.py):
a 50,000-track export takes a few tenths of a CPU-second on the tray's update thread, in
slices short enough for GTK's main loop (the main thread) to run between them, and leaves
nothing behind but the tree. That is how a change on disk reaches the menu within a second.

A master.db's tree is read in the tray too (rekordbox/masterdb.py): a snapshot copy and its
playlist tables through SQLCipher's driver, SQLite grouping each list's entries (it lets go
of the GIL meanwhile), with the key kept per library (masterdb_key.py) instead of derived
on every read. Reading it in a child process cost a Python start and the import of
pyrekordbox and SQLAlchemy on every change (1.4–2.2 CPU-s a change, shown 2.3–6.4 s
later, against 0.27–0.63 CPU-s and 0.3–0.6 s now, on a 50,000-track master.db), and left
the library the session matches from unread. pyrekordbox and SQLAlchemy (some 60 MB) are
loaded only when the library has an intelligent playlist.

An export that is not as Rekordbox writes it must be read whole, which builds millions of
Python objects: on a tray thread that holds the GIL for long stretches (GTK's main loop
stalls), and the tray's memory grows with each re-read (the freed objects leave its heap
fragmented). A big one is therefore read in a short-lived child process that hands back only
what the menu shows (`LibraryView`: the playlist tree and the current playlist); its memory
goes with it.

A small library is read in the tray itself: starting a process would cost more than it saves.
"""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from cuepoint_tray.errors import CuepointError
from cuepoint_tray.rekordbox.current import CurrentLibrary
from cuepoint_tray.rekordbox.locate import WholeReadNeeded, library_format
from cuepoint_tray.settings import Settings
from cuepoint_tray.tray.state import LibraryView, library_now

log = logging.getLogger(__name__)

# Above this a library read whole is read in a child process (an XML export of some 3,000
# tracks).
CHILD_FROM_BYTES = 4_000_000
READ_TIMEOUT_S = 300.0


def library_view(settings: Settings, current: CurrentLibrary) -> LibraryView:
    """The library as the menu needs it; read in a child process when it is a big export
    that must be read whole."""
    path = _library_path(settings, current)
    if path is None or not _is_big(path) or library_format(path) != "xml":
        return library_now(settings, current)
    try:
        return library_now(settings, current, whole_read=False)
    except WholeReadNeeded:
        log.info("%s is not as Rekordbox writes it: reading it whole in a child process",
                 path)
    try:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            where = (current.platform, current.home,
                     None if current.environ is None else dict(current.environ))
            return pool.submit(_read_in_child, settings, where).result(timeout=READ_TIMEOUT_S)
    except Exception:  # no child could be started: read it here, as before
        log.exception("reading the library in a child process failed: reading it here")
        return library_now(settings, current)


def _library_path(settings: Settings, current: CurrentLibrary) -> Path | None:
    try:
        return Path(current.choose(settings.rekordbox_library).path)
    except CuepointError:
        return None


def _is_big(path: Path) -> bool:
    try:
        return path.stat().st_size > CHILD_FROM_BYTES
    except OSError:
        return False


def _read_in_child(settings: Settings,
                   where: tuple[str | None, Path | None, dict[str, str] | None]) -> LibraryView:
    platform, home, environ = where
    return library_now(settings, CurrentLibrary(platform=platform, home=home, environ=environ))
