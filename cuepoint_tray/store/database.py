"""Opening the history file: SQLite pragmas, migrations, and reading by path.

The app opens the history once where it starts (the CLI's command, the dashboard, the
writer) with `open_history`, which migrates it, and passes that handle to every query.
peewee gives each thread its own connection to a `SqliteDatabase`, so one handle serves the
dashboard's threads; WAL lets them read while the writer thread writes. A query given a
path instead (scripts, tests, the tray's menu) opens the file for that one call and never
migrates it: a history an older CuePoint wrote is refused until the app has opened it.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from peewee import DatabaseError, SqliteDatabase

from cuepoint_tray.store.migrations import LATEST, HistoryError, migrate, schema_version
from cuepoint_tray.store.recovery import Recovery, is_damage, set_aside_and_recover

PRAGMAS = {
    "journal_mode": "wal",  # readers never block the writer, nor the writer them
    "foreign_keys": 1,
    "busy_timeout": 5000,  # a second writer (set_review) waits instead of failing
    "synchronous": "normal",  # safe with WAL: a power cut may lose the last commits, never corrupt
}

DatabaseOrPath = SqliteDatabase | str | os.PathLike[str]
P = ParamSpec("P")
T = TypeVar("T")


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
    """After a read found the history damaged: set it aside and recover it (the sentence
    for the DJ waits in `recovery.take_notices`). Whoever held a handle on it opens the
    history again (`open_history`)."""
    return set_aside_and_recover(Path(path).resolve())


def reads(query: Callable[Concatenate[SqliteDatabase, P], T]
          ) -> Callable[Concatenate[DatabaseOrPath, P], T]:
    """A query taking the app's handle, or a path opened for this one call (never migrated)."""
    @functools.wraps(query)
    def run(source: DatabaseOrPath, *args: P.args, **kwargs: P.kwargs) -> T:
        if isinstance(source, SqliteDatabase):
            return query(source, *args, **kwargs)
        db = open_for_reading(source)
        try:
            return query(db, *args, **kwargs)
        finally:
            db.close()
    return run


def open_for_reading(path: str | os.PathLike[str]) -> SqliteDatabase:
    """The history at `path` as it is: no migration, no recovery; HistoryError when it is
    missing or not at the newest schema (CuePoint migrates it when it opens it)."""
    location = Path(path)
    if not location.is_file():
        raise HistoryError(f"There is no history at {location} yet.")
    db = SqliteDatabase(str(location), pragmas=PRAGMAS, timeout=5)
    db.connect()
    version = schema_version(db)
    if version != LATEST:
        db.close()
        raise HistoryError(f"The history at {location} has schema version {version}, not "
                           f"{LATEST}: start CuePoint once to bring it up to date.")
    return db


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
