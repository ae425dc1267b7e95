"""The tray's look at a big Rekordbox library, taken in a short-lived process of its own.

Reading a 50,000-track export builds millions of Python objects. On one of the tray's
threads that holds the GIL for long stretches, so GTK's main loop (the main thread) stalls
while it runs, and the tray's memory grows with each re-read (the freed objects leave its
heap fragmented). A child process reads the library and hands back only what the menu shows
(`LibraryView`: the playlist tree and the current playlist); its memory goes with it.

A small library is read in the tray itself: starting a process would cost more than it saves.
"""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from cuepoint_tray.errors import CuepointError
from cuepoint_tray.rekordbox.current import CurrentLibrary
from cuepoint_tray.settings import Settings
from cuepoint_tray.tray.state import LibraryView, library_now

log = logging.getLogger(__name__)

# Above this a library is read in a child process (an XML export of some 3,000 tracks).
CHILD_FROM_BYTES = 4_000_000
READ_TIMEOUT_S = 300.0


def library_view(settings: Settings, current: CurrentLibrary) -> LibraryView:
    """The library as the menu needs it, read in a child process when it is big."""
    if not _is_big(settings, current):
        return library_now(settings, current)
    try:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            where = (current.platform, current.home,
                     None if current.environ is None else dict(current.environ))
            return pool.submit(_read_in_child, settings, where).result(timeout=READ_TIMEOUT_S)
    except Exception:  # no child could be started: read it here, as before
        log.exception("reading the library in a child process failed: reading it here")
        return library_now(settings, current)


def _is_big(settings: Settings, current: CurrentLibrary) -> bool:
    try:
        path = current.choose(settings.rekordbox_library).path
        return Path(path).stat().st_size > CHILD_FROM_BYTES
    except (CuepointError, OSError):
        return False


def _read_in_child(settings: Settings,
                   where: tuple[str | None, Path | None, dict[str, str] | None]) -> LibraryView:
    platform, home, environ = where
    return library_now(settings, CurrentLibrary(platform=platform, home=home, environ=environ))
