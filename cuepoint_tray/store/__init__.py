"""The history of every session, in a local SQLite file.

`HistoryWriter` writes the sessions (a runner listener; the writes outside its thread are
named in writer.py); `queries` holds what the dashboard and the reports read, from the one
handle the app opened with `open_history`. Nothing here hands a peewee model to the layers above.
"""

from cuepoint_tray.store.database import (
    PRAGMAS,
    delete_old_queries,
    open_for_reading,
    open_history,
    reads,
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
    "delete_old_queries",
    "mark_interrupted_sessions",
    "open_for_reading",
    "open_history",
    "reads",
    "schema_version",
    "settings_snapshot",
    "vacuum",
]
