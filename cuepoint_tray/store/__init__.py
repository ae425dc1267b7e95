"""The history of every session, in a local SQLite file.

`HistoryWriter` is the single writer (a runner listener); `queries` holds what the dashboard
and the reports read. Nothing here hands a peewee model to the layers above.
"""

from cuepoint_tray.store.database import (
    PRAGMAS,
    close_readers,
    delete_old_queries,
    open_history,
    reader,
    vacuum,
)
from cuepoint_tray.store.migrations import LATEST, HistoryError, schema_version
from cuepoint_tray.store.queries import NotFoundError
from cuepoint_tray.store.writer import HistoryWriter, mark_interrupted_sessions, settings_snapshot

__all__ = [
    "LATEST",
    "PRAGMAS",
    "HistoryError",
    "HistoryWriter",
    "NotFoundError",
    "close_readers",
    "delete_old_queries",
    "mark_interrupted_sessions",
    "open_history",
    "reader",
    "schema_version",
    "settings_snapshot",
    "vacuum",
]
