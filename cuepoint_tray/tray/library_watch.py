"""Tell the tray at once when the library file is replaced or written, without polling.

Rekordbox (File > Export Collection) and most tools write an export whole and close it, or
write a temporary file and move it into place. On Linux the kernel says so (inotify) to a
thread that sleeps in `poll()` until it does: no wake-up while nothing happens, and the menu
shows the change as soon as the file is read. Elsewhere (and if inotify is unavailable) the
tray's two-second look at the file is what notices.

Only the file's own folder is watched, for events naming the file (or, for a master.db, its
-wal). A file written in place is read when it is closed, not at each write. A master.db's
WAL is written without being closed (Rekordbox commits a change by appending to it): it is
told once nothing has been written to it for WAL_QUIET_S, so a burst of writes (one commit,
or several in a row) is read once, after it, instead of two seconds later by the tray's look.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import select
import struct
import sys
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

_IN_MODIFY = 0x002
_IN_ATTRIB = 0x004
_IN_CLOSE_WRITE = 0x008
_IN_MOVED_FROM = 0x040
_IN_MOVED_TO = 0x080
_IN_CREATE = 0x100
_IN_DELETE = 0x200
_IN_DELETE_SELF = 0x400
_IN_MOVE_SELF = 0x800
_IN_CLOEXEC = 0o2000000
_IN_NONBLOCK = 0o4000
# IN_MODIFY counts only for a master.db's WAL: a file being written in place is read once
# it is closed, not at every write.
_EVENTS = (_IN_ATTRIB | _IN_CLOSE_WRITE | _IN_MOVED_FROM | _IN_MOVED_TO | _IN_CREATE
           | _IN_DELETE | _IN_DELETE_SELF | _IN_MOVE_SELF)
_HEADER = struct.Struct("iIII")  # wd, mask, cookie, len
WAL_QUIET_S = 0.1  # a WAL written to is told once it has been left alone this long


class LibraryWatch:
    """Calls `on_change()` from its own thread whenever the watched file changes."""

    def __init__(self, on_change: Callable[[], None]) -> None:
        self.on_change = on_change
        self._lock = threading.Lock()
        self._watched: Path | None = None
        self._descriptor = -1  # the folder's watch
        self._inotify = _Inotify.open()
        self._stop_read, self._stop_write = os.pipe() if self._inotify else (-1, -1)
        self._thread: threading.Thread | None = None

    @property
    def active(self) -> bool:
        """Whether changes are told at once (else the caller must look by itself)."""
        return self._inotify is not None

    def watch(self, path: Path | None) -> None:
        """Watch `path` from now on (None: nothing); cheap when it is already watched."""
        inotify = self._inotify
        if inotify is None:
            return
        with self._lock:
            if path == self._watched:
                return
            if self._descriptor >= 0:
                inotify.remove(self._descriptor)
                self._descriptor = -1
            self._watched = path
            if path is not None:
                self._descriptor = inotify.add(path.parent, _EVENTS | _IN_MODIFY)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="library-watch",
                                                daemon=True)
                self._thread.start()

    def stop(self) -> None:
        if self._inotify is not None and self._thread is not None:
            os.write(self._stop_write, b"x")
            self._thread.join(2)

    def _run(self) -> None:
        assert self._inotify is not None
        poller = select.poll()
        poller.register(self._inotify.fd, select.POLLIN)
        poller.register(self._stop_read, select.POLLIN)
        wal_written = False  # the WAL was written to, and has not been told yet
        while True:
            # Sleeps until something happens (or, after a WAL write, until it is quiet).
            ready = {fd for fd, _ in poller.poll(int(WAL_QUIET_S * 1000) if wal_written
                                                 else None)}
            if self._stop_read in ready:
                return
            if not ready:  # the WAL has been left alone for WAL_QUIET_S
                wal_written = False
                self._tell()
                continue
            events = self._inotify.events()
            with self._lock:
                watched, descriptor = self._watched, self._descriptor
            if watched is None:
                wal_written = False
                continue
            if _concerns(watched, descriptor, events):
                wal_written = False
                self._tell()
            elif _wal_written(watched, descriptor, events):
                wal_written = True

    def _tell(self) -> None:
        try:
            self.on_change()
        except Exception:  # the watch must go on whatever the tray does with it
            log.exception("telling the tray that the library changed failed")


def _concerns(watched: Path, descriptor: int, events: list[tuple[int, int, str]]) -> bool:
    """Whether any of the events (watch, mask, name) is about the watched file: its name (or
    its -wal's) in its folder's watch, or the folder itself moved or deleted."""
    own = (watched.name, watched.name + "-wal")
    return any(wd == descriptor and mask & _EVENTS and (
        name in own or mask & (_IN_DELETE_SELF | _IN_MOVE_SELF)) for wd, mask, name in events)


def _wal_written(watched: Path, descriptor: int, events: list[tuple[int, int, str]]) -> bool:
    """Whether any of the events is a write to the watched file's -wal (a master.db's)."""
    wal = watched.name + "-wal"
    return any(wd == descriptor and mask & _IN_MODIFY and name == wal
               for wd, mask, name in events)


class _Inotify:
    """The few inotify calls the watch needs, through libc."""

    def __init__(self, libc: ctypes.CDLL, fd: int) -> None:
        self._libc = libc
        self.fd = fd

    @classmethod
    def open(cls) -> _Inotify | None:
        if not sys.platform.startswith("linux"):
            return None
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            fd = libc.inotify_init1(_IN_CLOEXEC | _IN_NONBLOCK)
        except (OSError, AttributeError):
            return None
        if fd < 0:
            log.info("inotify is not available (errno %s): the library is looked at every "
                     "few seconds", ctypes.get_errno())
            return None
        return cls(libc, fd)

    def add(self, folder: Path, mask: int) -> int:
        descriptor = int(self._libc.inotify_add_watch(self.fd, os.fsencode(folder), mask))
        if descriptor < 0:
            log.info("cannot watch %s (errno %s): it is looked at every few seconds", folder,
                     ctypes.get_errno())
        return descriptor

    def remove(self, descriptor: int) -> None:
        self._libc.inotify_rm_watch(self.fd, descriptor)

    def events(self) -> list[tuple[int, int, str]]:
        """The events waiting: (watch, mask, file name; "" for the folder itself)."""
        events: list[tuple[int, int, str]] = []
        while True:
            try:
                data = os.read(self.fd, 64 * 1024)
            except BlockingIOError:
                return events
            offset = 0
            while offset + _HEADER.size <= len(data):
                wd, mask, _cookie, length = _HEADER.unpack_from(data, offset)
                start = offset + _HEADER.size
                events.append((wd, mask, os.fsdecode(data[start:start + length].rstrip(b"\0"))))
                offset = start + length
