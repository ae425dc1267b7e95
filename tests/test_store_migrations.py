"""Schema versions: fresh files, an old file with rows migrated (backup first), newer files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from peewee import SchemaManager, SqliteDatabase
from test_store_builders import db_file

from cuepoint_tray.store import LATEST, HistoryError, open_history, schema_version
from cuepoint_tray.store.migrations import STEPS, migrate
from cuepoint_tray.store.models import MODELS


def version_1_file(path: Path) -> None:
    """A history as CuePoint wrote it at schema version 1, with a session, a track, a query."""
    db = SqliteDatabase(str(path), pragmas={"journal_mode": "wal", "foreign_keys": 1})
    migrate(db, path, steps=STEPS[:1])
    db.execute_sql("INSERT INTO sessions (id, started_at, status, playlists, done, matched) "
                   "VALUES (7, 1700000000.0, 'completed', '[\"Sets/Old\"]', 1, 1)")
    db.execute_sql("INSERT INTO track_results (id, session_id, playlist, position, "
                   "rb_track_id, rb_name, status, bp_id, bp_title) "
                   "VALUES (3, 7, 'Sets/Old', 1, '42', 'Old Tune', 'matched', 99, 'Old Tune')")
    db.execute_sql("INSERT INTO queries (track_result_id, session_id, number, type, "
                   "elapsed_ms) VALUES (3, 7, 1, 'full', 321.0)")
    db.close()


def columns(connection: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]


def indexes(connection: sqlite3.Connection, table: str) -> set[tuple[bool, tuple[str, ...]]]:
    found = set()
    for _, name, unique, origin, _ in connection.execute(f"PRAGMA index_list({table})"):
        if origin == "c":  # created by CREATE INDEX, not by a PRIMARY KEY or UNIQUE clause
            cols = tuple(row[2] for row in connection.execute(f"PRAGMA index_info({name})"))
            found.add((bool(unique), cols))
    return found


def test_a_fresh_history_reaches_the_newest_version_without_a_backup(tmp_path: Path) -> None:
    path = db_file(tmp_path)
    db = open_history(path)
    assert schema_version(db) == LATEST == 5
    db.close()
    assert not list(tmp_path.glob("*.bak-*"))


def test_a_version_1_history_is_backed_up_then_migrated(tmp_path: Path) -> None:
    path = db_file(tmp_path)
    version_1_file(path)
    db = open_history(path)
    assert schema_version(db) == LATEST
    session = db.execute_sql("SELECT playlists, matched, report_path, playlist_tracks "
                             "FROM sessions WHERE id = 7").fetchone()
    assert session == ('["Sets/Old"]', 1, "", "[]")
    track = db.execute_sql("SELECT rb_name, bp_id FROM track_results WHERE id = 3").fetchone()
    assert track == ("Old Tune", 99)
    assert db.execute_sql("SELECT elapsed_ms, throttle_wait_ms FROM queries").fetchall() == [
        (321.0, 0.0)]
    db.close()
    backups = list(tmp_path.glob("history.sqlite3.bak-v1-*"))
    assert len(backups) == 1
    with sqlite3.connect(backups[0]) as old:
        assert old.execute("SELECT version FROM schema_version").fetchone() == (1,)
        assert old.execute("SELECT count(*) FROM track_results").fetchone() == (1,)
        assert "report_path" not in columns(old, "sessions")


def test_migrations_build_the_schema_the_models_describe(tmp_path: Path) -> None:
    path = db_file(tmp_path)
    version_1_file(path)
    open_history(path).close()
    described = SqliteDatabase(":memory:")
    for model in MODELS:
        SchemaManager(model, described).create_all()
    expected = described.connection()
    with sqlite3.connect(path) as migrated:
        for model in MODELS:
            table = model._meta.table_name
            assert columns(migrated, table) == columns(expected, table)
            assert indexes(migrated, table) == indexes(expected, table)


def test_a_history_from_a_newer_cuepoint_is_refused(tmp_path: Path) -> None:
    path = db_file(tmp_path)
    open_history(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE schema_version SET version = 9")
    with pytest.raises(HistoryError, match="newer CuePoint"):
        open_history(path)


def test_a_failing_step_leaves_the_file_at_the_previous_version(tmp_path: Path) -> None:
    path = db_file(tmp_path)
    open_history(path).close()

    def broken(db: SqliteDatabase) -> None:
        db.execute_sql("ALTER TABLE sessions ADD COLUMN half_done TEXT")
        raise RuntimeError("the new step failed half way")

    db = SqliteDatabase(str(path))
    with pytest.raises(RuntimeError):
        migrate(db, path, steps=(*STEPS, broken))
    assert schema_version(db) == LATEST
    assert "half_done" not in columns(db.connection(), "sessions")
    assert len(list(tmp_path.glob(f"history.sqlite3.bak-v{LATEST}-*"))) == 1
