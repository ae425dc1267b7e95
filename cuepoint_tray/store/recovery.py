"""A damaged history file: set it aside under a name that says so, recover what SQLite can
read into a fresh one, and tell the DJ in one sentence where the old file is.

The damaged file is never deleted. Recovery uses the sqlite3 command line's `.recover` (it
reads every page it can, around the damage), or its `.dump` (which steps over damaged
pages), when the machine has it; otherwise it copies, table by table, every row SQLite can
still read. A recovered file is kept only when it reads as a whole history; else the app
starts a fresh, empty one.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# SQLite's primary result codes for a damaged file: SQLITE_CORRUPT and SQLITE_NOTADB.
_DAMAGE_CODES = (11, 26)
_DAMAGE_WORDS = ("malformed", "file is not a database", "database corrupt")
# The sqlite3 command line on a history of a few hundred MB takes seconds; give it minutes.
_RECOVER_TIMEOUT_S = 600.0

_TABLES = ("sessions", "track_results", "queries", "candidates", "errors")

_notices: list[str] = []
_notices_lock = threading.Lock()


@dataclass(frozen=True)
class Recovery:
    damaged: Path  # where the damaged file now is
    sessions: int  # sessions recovered into the fresh history
    method: str  # how: "sqlite3 .recover", "sqlite3 .dump", "row by row"; "" for nothing

    def sentence(self) -> str:
        kept = (f"{self.sessions} session{'s' if self.sessions != 1 else ''} recovered into a "
                "fresh history" if self.sessions else "nothing could be recovered, so a fresh "
                "history was started")
        return (f"Your CuePoint history was damaged: it was set aside as {self.damaged} "
                f"and {kept}.")


def is_damage(error: BaseException) -> bool:
    """Whether an error (peewee's or sqlite3's, or anything wrapping one) says the file is
    damaged, as opposed to locked, read-only or full."""
    seen: set[int] = set()
    current: BaseException | None = error
    pending = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        code = getattr(current, "sqlite_errorcode", None)
        if isinstance(code, int) and code & 0xFF in _DAMAGE_CODES:
            return True
        if isinstance(current, sqlite3.DatabaseError | _peewee_database_error()) and any(
                word in str(current).lower() for word in _DAMAGE_WORDS):
            return True
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return False


def _peewee_database_error() -> type[BaseException]:
    import peewee

    return peewee.DatabaseError


def set_aside_and_recover(path: Path) -> Recovery:
    """Move the damaged history (with its -wal and -shm) aside, recover what can be read into
    a fresh file at `path`, and keep the one sentence for the DJ (`take_notices`)."""
    damaged = _damaged_name(path)
    for suffix in ("", "-wal", "-shm"):
        part = Path(str(path) + suffix)
        if part.exists():
            os.replace(part, Path(str(damaged) + suffix))
    recovery = _recover(damaged, path)
    log.error("history damaged: %s (%s)", recovery.sentence(), recovery.method or "no method")
    with _notices_lock:
        _notices.append(recovery.sentence())
    return recovery


def take_notices() -> list[str]:
    """The sentences about damaged histories since the last call, for the CLI and the tray."""
    with _notices_lock:
        taken = list(_notices)
        _notices.clear()
    return taken


def _damaged_name(path: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate = path.with_name(f"{path.stem}.damaged-{stamp}{path.suffix}")
    number = 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}.damaged-{stamp}-{number}{path.suffix}")
    return candidate


def _recover(damaged: Path, path: Path) -> Recovery:
    temporary = path.with_name(f".{path.name}.recovering")
    methods = (("sqlite3 .recover", _with_cli_recover), ("sqlite3 .dump", _with_cli_dump),
               ("row by row", _row_by_row))
    for method, recover in methods:
        _remove(temporary)
        try:
            if recover(damaged, temporary):
                sessions = _usable_sessions(temporary)
                if sessions is not None:
                    os.replace(temporary, path)
                    return Recovery(damaged, sessions, method)
        except (OSError, sqlite3.Error, subprocess.SubprocessError) as exc:
            log.warning("recovering the history with %s failed: %s", method, exc)
    _remove(temporary)
    return Recovery(damaged, 0, "")


def _with_cli_recover(damaged: Path, target: Path) -> bool:
    """`.recover` reads every page it can; some builds lack it (Debian's 3.40 fails)."""
    return _cli_into(damaged, ".recover", target)


def _with_cli_dump(damaged: Path, target: Path) -> bool:
    """`.dump` steps around damaged pages, then ends with ROLLBACK: commit what it read."""
    return _cli_into(damaged, ".dump", target)


def _cli_into(damaged: Path, command: str, target: Path) -> bool:
    cli = shutil.which("sqlite3")
    if cli is None:
        return False
    dump = subprocess.run([cli, str(damaged), command], capture_output=True,
                          timeout=_RECOVER_TIMEOUT_S, check=False).stdout
    if not dump:
        return False
    dump = dump.replace(b"\nROLLBACK; -- due to errors", b"\nCOMMIT;")
    subprocess.run([cli, str(target)], input=dump, capture_output=True,
                   timeout=_RECOVER_TIMEOUT_S, check=False)
    return target.exists()


def _row_by_row(damaged: Path, target: Path) -> bool:
    """Without the sqlite3 command line: the damaged file's schema (the newest when it
    cannot tell), then every row SQLite can still read, table by table, stepping over the
    rowids a damaged page holds. Opening the copy then migrates it as any older history:
    rows of a version before 5 are copied whole and packed then, not cut to version 5's
    columns."""
    from peewee import SqliteDatabase

    from cuepoint_tray.store.migrations import STEPS, migrate

    source = sqlite3.connect(f"file:{damaged}?mode=ro", uri=True)
    try:
        fresh = SqliteDatabase(str(target))
        migrate(fresh, None, steps=STEPS[:_version(source) or len(STEPS)])
        fresh.close()
    except BaseException:
        source.close()
        raise
    copy = sqlite3.connect(target)
    try:
        for table in _TABLES:
            columns = [row[1] for row in copy.execute(f'PRAGMA table_info("{table}")')]
            _copy_rows(source, copy, table, columns)
        copy.commit()
    finally:
        source.close()
        copy.close()
    return True


def _version(source: sqlite3.Connection) -> int | None:
    """The schema version a damaged file says it has, when it can still say."""
    try:
        found = source.execute("SELECT version FROM schema_version WHERE id = 1").fetchone()
    except sqlite3.Error:
        return None
    return int(found[0]) if found and isinstance(found[0], int) and found[0] > 0 else None


def _copy_rows(source: sqlite3.Connection, copy: sqlite3.Connection, table: str,
               columns: list[str]) -> None:
    try:
        found = {row[1] for row in source.execute(f'PRAGMA table_info("{table}")')}
        last = source.execute(f'SELECT max(rowid) FROM "{table}"').fetchone()[0] or 0
    except sqlite3.Error:
        return
    kept = [column for column in columns if column in found]
    names = ", ".join(f'"{column}"' for column in kept)
    insert = f'INSERT OR IGNORE INTO "{table}" ({names}) VALUES ({", ".join("?" * len(kept))})'
    after, step = 0, 1
    while after < last:
        try:
            for row in source.execute(f'SELECT rowid, {names} FROM "{table}" WHERE rowid > ? '
                                      "ORDER BY rowid", (after,)):
                copy.execute(insert, row[1:])
                after, step = row[0], 1
            return
        except sqlite3.Error:
            after, step = after + step, step * 2  # skip ahead past the damaged page


def _usable_sessions(candidate: Path) -> int | None:
    """How many sessions a recovered file holds when it is a whole history, else None."""
    from cuepoint_tray.store.migrations import STEPS

    connection = sqlite3.connect(candidate)
    try:
        connection.execute("DROP TABLE IF EXISTS lost_and_found")  # .recover's orphan rows
        connection.commit()
        if connection.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            return None
        version = connection.execute("SELECT version FROM schema_version WHERE id = 1")
        found = version.fetchone()
        if found is None or not 0 < int(found[0]) <= len(STEPS):
            return None
        for table in _TABLES:  # a table lost whole would fail every later read
            connection.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchall()
        return int(connection.execute("SELECT count(*) FROM sessions").fetchone()[0])
    except sqlite3.Error:
        return None
    finally:
        connection.close()


def _remove(path: Path) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
