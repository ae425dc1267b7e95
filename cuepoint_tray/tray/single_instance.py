"""One tray app per data folder. The first holds a lock file and listens on a loopback port;
a second launch finds the port in a small file, asks the first to show its window, and
leaves.

The lock is the operating system's (flock / msvcrt), so it goes away with the process even
when it crashes; the port file of a crashed process is simply overwritten by the next one.
A random secret in the port file (readable by the user only) keeps other local programs
from poking the app.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from cuepoint_tray.file_writing import whole_file

log = logging.getLogger(__name__)

LOCK_NAME = "tray.lock"
ADDRESS_NAME = "tray.address"
SHOW = "show"
# A second launch sends its one line at once; a caller silent this long is not one.
ANSWER_TIMEOUT_S = 2.0
MAX_CALLERS = 64


class SingleInstance:
    def __init__(self, folder: Path, *, platform: str = sys.platform) -> None:
        self.platform = platform
        self.lock_path = folder / LOCK_NAME
        self.address_path = folder / ADDRESS_NAME
        self._lock_file: IO[str] | None = None
        self._server: socket.socket | None = None
        self._secret = secrets.token_hex(16)
        self._stopping = threading.Event()
        self._answering = threading.BoundedSemaphore(MAX_CALLERS)

    def acquire(self) -> bool:
        """Take the lock; False when another instance holds it."""
        handle = open(self.lock_path, "a+", encoding="utf-8")  # noqa: SIM115  # held for life
        if not _try_lock(handle, self.platform):
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._lock_file = handle
        return True

    def listen(self, on_show: Callable[[], None]) -> None:
        """Answer "show" requests on a loopback port (written to the address file)."""
        server = socket.create_server(("127.0.0.1", 0))  # accept() sleeps until a caller
        self._server = server
        _write_private(self.address_path, json.dumps(
            {"port": server.getsockname()[1], "secret": self._secret, "pid": os.getpid()}))
        threading.Thread(target=self._serve, args=(on_show,), name="single-instance",
                         daemon=True).start()

    def _serve(self, on_show: Callable[[], None]) -> None:
        assert self._server is not None
        while not self._stopping.is_set():
            try:
                connection, _ = self._server.accept()
            except OSError:  # closed by `release`
                return
            # Each caller on its own thread, a few at once: a local program that connects
            # and says nothing must not keep a second launch from being answered.
            if not self._answering.acquire(blocking=False):
                connection.close()
                continue
            threading.Thread(target=self._answer_and_close, args=(connection, on_show),
                             name="single-instance-answer", daemon=True).start()

    def _answer_and_close(self, connection: socket.socket, on_show: Callable[[], None]) -> None:
        try:
            with connection:
                self._answer(connection, on_show)
        finally:
            self._answering.release()

    def _answer(self, connection: socket.socket, on_show: Callable[[], None]) -> None:
        connection.settimeout(ANSWER_TIMEOUT_S)
        try:
            request = connection.makefile("r", encoding="utf-8").readline().split()
            if request == [SHOW, self._secret]:
                on_show()
                connection.sendall(b"ok\n")
            else:
                connection.sendall(b"refused\n")
        except OSError:
            log.warning("a second launch did not finish its request")

    def release(self) -> None:
        self._stopping.set()
        if self._server is not None:
            # close() alone leaves a thread asleep in accept() on Linux; shutdown wakes it.
            with contextlib.suppress(OSError):
                self._server.shutdown(socket.SHUT_RDWR)
            self._server.close()
        with contextlib.suppress(OSError):
            self.address_path.unlink()
        if self._lock_file is not None:
            _unlock(self._lock_file, self.platform)
            self._lock_file.close()
            self._lock_file = None


def ask_running_to_show(folder: Path, timeout: float = 10.0) -> bool:
    """Ask the instance holding `folder`'s lock to show its window; True when it said ok.

    The first instance may still be starting (lock taken, port not yet written), so this
    tries again until `timeout`.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError, KeyError):
            address = json.loads((folder / ADDRESS_NAME).read_text(encoding="utf-8"))
            with socket.create_connection(("127.0.0.1", int(address["port"])), timeout=3) as s:
                s.sendall(f"{SHOW} {address['secret']}\n".encode())
                if s.makefile("r", encoding="utf-8").readline().strip() == "ok":
                    return True
        time.sleep(0.1)
    return False


def _write_private(path: Path, text: str) -> None:
    """Whole or not at all, and readable by this user only (whole_file creates it 0600): it
    holds the secret that lets a second start ask this one to show its window."""
    with whole_file(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def _try_lock(handle: IO[str], platform: str) -> bool:
    """Lock the file without waiting; False when another process (or handle) holds it."""
    if platform == "win32":
        import msvcrt

        # msvcrt locks bytes from the current position, and "a+" opens at the end (after a
        # previous pid): always lock byte 0, or two instances would lock different bytes.
        handle.seek(0)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined,unused-ignore]
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(handle: IO[str], platform: str) -> None:
    """Give the lock back. flock's goes with the file's closing; Windows asks for the bytes
    to be unlocked first (else they stay locked until the system gets round to it)."""
    if platform == "win32":
        import msvcrt

        handle.seek(0)
        with contextlib.suppress(OSError):
            msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined,unused-ignore]
