"""Opening the history file: SQLite pragmas, migrations, and the readers' shared handles.

peewee gives each thread its own connection to a `SqliteDatabase`, so one handle serves the
dashboard's threads; WAL lets them read while the writer thread writes.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from peewee import DatabaseError, SqliteDatabase

from cuepoint_tray.store.migrations import migrate
from cuepoint_tray.store.recovery import Recovery, is_damage, set_aside_and_recover

PRAGMAS = {
    "journal_mode": "wal",  # readers never block the writer, nor the writer them
    "foreign_keys": 1,
    "busy_timeout": 5000,  # a second writer (set_review) waits instead of failing
    "synchronous": "normal",  # safe with WAL: a power cut may lose the last commits, never corrupt
}

DatabaseOrPath = SqliteDatabase | str | os.PathLike[str]

_readers: dict[Path, SqliteDatabase] = {}
_readers_lock = threading.Lock()


def open_history(path: str | os.PathLike[str]) -> SqliteDatabase:
    """A handle on the history at `path`, created or migrated to the newest schema.

    A damaged file is set aside and what can be read is recovered into a fresh one
    (`recovery.py`), so a damaged history never stops the app."""
    location = Path(path)
    location.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _open(location)
    except DatabaseError as exc:
        if not is_damage(exc):
            raise
    set_aside_and_recover(location)
    return _open(location)


def _open(location: Path) -> SqliteDatabase:
    db = SqliteDatabase(str(location), pragmas=PRAGMAS, timeout=5)
    try:
        db.connect(reuse_if_open=True)
        migrate(db, location)
    except BaseException:
        db.close()
        raise
    return db


def recover_damaged(path: str | os.PathLike[str]) -> Recovery:
    """After a read found the history damaged: drop the shared handles on it, set it aside
    and recover it (the sentence for the DJ waits in `recovery.take_notices`)."""
    location = Path(path).resolve()
    with _readers_lock:
        stale = _readers.pop(location, None)
    if stale is not None:
        stale.close()
    return set_aside_and_recover(location)


def reader(source: DatabaseOrPath) -> SqliteDatabase:
    """The database to read: the one given, or a handle shared by every reader of that path."""
    if isinstance(source, SqliteDatabase):
        return source
    location = Path(source).resolve()
    with _readers_lock:
        if location not in _readers:
            _readers[location] = open_history(location)
        return _readers[location]


def close_readers() -> None:
    """Close the shared reader handles (this thread's connections; tests and shutdown)."""
    with _readers_lock:
        for db in _readers.values():
            db.close()
        _readers.clear()


def delete_old_queries(db: SqliteDatabase, days: float) -> int:
    """Delete the per-query rows of sessions started more than `days` ago; returns how many.

    Sessions keep their totals and tracks, so the history still reads; only the per-query
    detail goes.
    """
    cutoff = time.time() - days * 86400
    with db.atomic("IMMEDIATE"):
        cursor = db.execute_sql(
            "DELETE FROM queries WHERE session_id IN "
            "(SELECT id FROM sessions WHERE started_at < ?)", (cutoff,))
        return int(cursor.rowcount)


def vacuum(db: SqliteDatabase) -> None:
    """Give the space of deleted rows back to the disk, and refresh the planner's statistics."""
    db.execute_sql("VACUUM")  # must run outside a transaction
    db.execute_sql("PRAGMA optimize")
