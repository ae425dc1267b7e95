"""The history's schema, one ordered step at a time, each step atomic, a backup taken first.

`schema_version` holds one row with the number of the last step applied. A fresh file runs
every step from 1, so new and upgraded histories reach the same schema by the same path.
Step 1 is frozen SQL, not the models: the models describe the newest schema, and step 1 must
keep creating version 1 even after later steps change the tables.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from peewee import SqliteDatabase

from cuepoint_tray.errors import CuepointError

log = logging.getLogger(__name__)


class HistoryError(CuepointError):
    """The history database cannot be used as it is."""


_V1_SCHEMA = """
CREATE TABLE sessions (
    id INTEGER NOT NULL PRIMARY KEY, started_at REAL NOT NULL, ended_at REAL,
    status TEXT NOT NULL DEFAULT 'running', reason TEXT NOT NULL DEFAULT '',
    playlists TEXT NOT NULL DEFAULT '[]', xml_path TEXT NOT NULL DEFAULT '',
    xml_sha256 TEXT NOT NULL DEFAULT '', provider TEXT NOT NULL DEFAULT '',
    settings TEXT NOT NULL DEFAULT '{}', app_version TEXT NOT NULL DEFAULT '', pid INTEGER,
    hostname TEXT NOT NULL DEFAULT '', tracks INTEGER NOT NULL DEFAULT 0,
    done INTEGER NOT NULL DEFAULT 0, matched INTEGER NOT NULL DEFAULT 0,
    review INTEGER NOT NULL DEFAULT 0, unmatched INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0, queries INTEGER NOT NULL DEFAULT 0,
    requests INTEGER NOT NULL DEFAULT 0, cache_hits INTEGER NOT NULL DEFAULT 0,
    retries INTEGER NOT NULL DEFAULT 0, rate_limited INTEGER NOT NULL DEFAULT 0,
    wall_ms REAL NOT NULL DEFAULT 0);
CREATE INDEX sessions_started_at ON sessions (started_at);
CREATE INDEX sessions_status_started_at ON sessions (status, started_at);

CREATE TABLE track_results (
    id INTEGER NOT NULL PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    playlist TEXT NOT NULL, position INTEGER NOT NULL, rb_track_id TEXT NOT NULL,
    rb_name TEXT NOT NULL DEFAULT '', rb_artist TEXT NOT NULL DEFAULT '',
    rb_album TEXT NOT NULL DEFAULT '', rb_genre TEXT NOT NULL DEFAULT '',
    rb_label TEXT NOT NULL DEFAULT '', rb_mix TEXT NOT NULL DEFAULT '',
    rb_remixer TEXT NOT NULL DEFAULT '', rb_year INTEGER, rb_total_time INTEGER,
    rb_average_bpm REAL, rb_tonality TEXT NOT NULL DEFAULT '',
    rb_location TEXT NOT NULL DEFAULT '', rb_comments TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL, confidence TEXT NOT NULL DEFAULT 'none',
    score REAL NOT NULL DEFAULT 0, breakdown TEXT NOT NULL DEFAULT '[]',
    review_candidate_id INTEGER, review_state TEXT NOT NULL DEFAULT 'auto', reviewed_at REAL,
    chosen_candidate_id INTEGER, reason TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT '', elapsed_ms REAL NOT NULL DEFAULT 0,
    queries INTEGER NOT NULL DEFAULT 0, candidates INTEGER NOT NULL DEFAULT 0,
    early_exit_at INTEGER,
    bp_id INTEGER, bp_title TEXT, bp_mix_name TEXT, bp_artists TEXT, bp_remixers TEXT,
    bp_bpm REAL, bp_key_name TEXT, bp_camelot TEXT, bp_genre TEXT, bp_sub_genre TEXT,
    bp_label TEXT, bp_release TEXT, bp_release_date TEXT, bp_length_ms INTEGER, bp_isrc TEXT,
    bp_url TEXT);
CREATE UNIQUE INDEX track_results_session_id_playlist_position
    ON track_results (session_id, playlist, position);
CREATE INDEX track_results_session_id_rb_track_id ON track_results (session_id, rb_track_id);

CREATE TABLE queries (
    id INTEGER NOT NULL PRIMARY KEY,
    track_result_id INTEGER NOT NULL REFERENCES track_results (id) ON DELETE CASCADE,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    number INTEGER NOT NULL, type TEXT NOT NULL, text TEXT NOT NULL DEFAULT '',
    elapsed_ms REAL NOT NULL DEFAULT 0, network_ms REAL NOT NULL DEFAULT 0,
    parse_ms REAL NOT NULL DEFAULT 0, candidates INTEGER NOT NULL DEFAULT 0,
    from_cache INTEGER, attempts INTEGER, http_status INTEGER, retry_after_s REAL,
    rate_limited INTEGER NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '');
CREATE INDEX queries_track_result_id_number ON queries (track_result_id, number);
CREATE INDEX queries_session_id_type ON queries (session_id, type);

CREATE TABLE candidates (
    id INTEGER NOT NULL PRIMARY KEY,
    track_result_id INTEGER NOT NULL REFERENCES track_results (id) ON DELETE CASCADE,
    rank INTEGER NOT NULL, score REAL NOT NULL DEFAULT 0,
    components TEXT NOT NULL DEFAULT '[]', vetoes TEXT NOT NULL DEFAULT '[]',
    lost_because TEXT NOT NULL DEFAULT '', found_by TEXT NOT NULL DEFAULT '',
    bp_id INTEGER NOT NULL, bp_title TEXT NOT NULL DEFAULT '',
    bp_mix_name TEXT NOT NULL DEFAULT '', bp_artists TEXT NOT NULL DEFAULT '[]',
    bp_remixers TEXT NOT NULL DEFAULT '[]', bp_bpm REAL, bp_key_name TEXT NOT NULL DEFAULT '',
    bp_camelot TEXT NOT NULL DEFAULT '', bp_genre TEXT NOT NULL DEFAULT '',
    bp_sub_genre TEXT NOT NULL DEFAULT '', bp_label TEXT NOT NULL DEFAULT '',
    bp_release TEXT NOT NULL DEFAULT '', bp_release_date TEXT NOT NULL DEFAULT '',
    bp_length_ms INTEGER, bp_isrc TEXT NOT NULL DEFAULT '', bp_url TEXT NOT NULL DEFAULT '');
CREATE INDEX candidates_track_result_id_rank ON candidates (track_result_id, rank);

CREATE TABLE errors (
    id INTEGER NOT NULL PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    at REAL NOT NULL, "where" TEXT NOT NULL DEFAULT '', message TEXT NOT NULL);
CREATE INDEX errors_session_id_at ON errors (session_id, at);
"""


def _create_version_1(db: SqliteDatabase) -> None:
    """The initial schema: sessions, track results, queries, candidates, errors."""
    for statement in _V1_SCHEMA.split(";"):
        if statement.strip():
            db.execute_sql(statement)


def _report_paths_and_throttle(db: SqliteDatabase) -> None:
    """Where each session's report went, each query's throttle wait, and a review-queue index."""
    db.execute_sql("ALTER TABLE sessions ADD COLUMN report_path TEXT NOT NULL DEFAULT ''")
    db.execute_sql(
        "ALTER TABLE queries ADD COLUMN throttle_wait_ms REAL NOT NULL DEFAULT 0")
    db.execute_sql(
        "CREATE INDEX track_results_session_id_status ON track_results (session_id, status)")


def _playlist_sizes(db: SqliteDatabase) -> None:
    """How many tracks each playlist of a session has, for a queue's per-playlist progress."""
    db.execute_sql("ALTER TABLE sessions ADD COLUMN playlist_tracks TEXT NOT NULL DEFAULT '[]'")


_BEATPORT_COLUMNS = ("id", "title", "mix_name", "artists", "remixers", "bpm", "key_name",
                     "camelot", "genre", "sub_genre", "label", "release", "release_date",
                     "length_ms", "isrc", "url")


def _decisions(db: SqliteDatabase) -> None:
    """The DJ's decisions, per Rekordbox track of a library and for good, with the Beatport
    track to write; the reviews kept on track rows until now move there (the newest decision
    on a track wins), and each track row notes the decision its session used."""
    db.execute_sql(
        "CREATE TABLE decisions (id INTEGER NOT NULL PRIMARY KEY, library TEXT NOT NULL, "
        "rb_track_id TEXT NOT NULL, state TEXT NOT NULL, decided_at REAL NOT NULL, "
        "session_id INTEGER, track_result_id INTEGER, bp_id INTEGER, bp_title TEXT, "
        "bp_mix_name TEXT, bp_artists TEXT, bp_remixers TEXT, bp_bpm REAL, bp_key_name TEXT, "
        "bp_camelot TEXT, bp_genre TEXT, bp_sub_genre TEXT, bp_label TEXT, bp_release TEXT, "
        "bp_release_date TEXT, bp_length_ms INTEGER, bp_isrc TEXT, bp_url TEXT)")
    db.execute_sql("CREATE UNIQUE INDEX decisions_library_rb_track_id "
                   "ON decisions (library, rb_track_id)")
    db.execute_sql("ALTER TABLE track_results ADD COLUMN decision_used TEXT NOT NULL DEFAULT ''")
    # When wall_ms was last written (a running session's time left counts from it), and the
    # wall-clock time some request waited for its throttle slot (waits of parallel workers
    # overlap: their sum can exceed the session's duration).
    db.execute_sql("ALTER TABLE sessions ADD COLUMN wall_at REAL")
    db.execute_sql("ALTER TABLE sessions ADD COLUMN throttle_wall_ms REAL")
    # A number that changes with every decision written or undone, whoever writes it: a
    # reader may keep the review counts it computed until it changes.
    db.execute_sql("CREATE TABLE decisions_version (id INTEGER NOT NULL PRIMARY KEY "
                   "CHECK (id = 1), version INTEGER NOT NULL)")
    db.execute_sql("INSERT INTO decisions_version (id, version) VALUES (1, 0)")
    for change in ("INSERT", "UPDATE", "DELETE"):
        db.execute_sql(f"CREATE TRIGGER decisions_{change.lower()}d AFTER {change} ON "
                       "decisions BEGIN UPDATE decisions_version SET version = version + 1 "
                       "WHERE id = 1; END")
    columns = ", ".join("bp_" + name for name in _BEATPORT_COLUMNS)
    # The Beatport track each review meant: the candidate picked ("changed"), the app's own
    # match or else the doubtful candidate offered ("accepted"), none ("rejected").
    picked = ", ".join(f"CASE WHEN t.review_state = 'changed' THEN c.bp_{name} "
                       f"WHEN t.review_state = 'accepted' AND t.bp_id IS NOT NULL "
                       f"THEN t.bp_{name} WHEN t.review_state = 'accepted' THEN r.bp_{name} END"
                       for name in _BEATPORT_COLUMNS)
    db.execute_sql(
        f"INSERT INTO decisions (library, rb_track_id, state, decided_at, session_id, "
        f"track_result_id, {columns}) "
        f"SELECT s.xml_path, t.rb_track_id, CASE t.review_state WHEN 'changed' THEN 'picked' "
        f"ELSE t.review_state END, coalesce(t.reviewed_at, s.started_at), t.session_id, t.id, "
        f"{picked} FROM track_results t JOIN sessions s ON s.id = t.session_id "
        "LEFT JOIN candidates c ON c.id = t.chosen_candidate_id "
        "LEFT JOIN candidates r ON r.id = t.review_candidate_id "
        "WHERE t.review_state IN ('accepted', 'rejected', 'changed') "
        "AND (t.review_state != 'changed' OR c.id IS NOT NULL) "
        "ORDER BY coalesce(t.reviewed_at, s.started_at), t.id "
        "ON CONFLICT (library, rb_track_id) DO UPDATE SET state = excluded.state, "
        "decided_at = excluded.decided_at, session_id = excluded.session_id, "
        "track_result_id = excluded.track_result_id, "
        + ", ".join(f"bp_{name} = excluded.bp_{name}" for name in _BEATPORT_COLUMNS))


def _compact_candidates(db: SqliteDatabase) -> None:
    """Candidates stored compactly (issue 17): a candidates row keeps its identity (id,
    track_result_id, rank, bp_id); its Beatport fields and score, and the track's own
    breakdown and Beatport fields but id and title, move into one packed value on the
    track's row (`packing.py`). Query rows' count of candidates is named candidate_count."""
    from cuepoint_tray.store.compaction import compact_candidates

    compact_candidates(db)


Step = Callable[[SqliteDatabase], None]
STEPS: tuple[Step, ...] = (_create_version_1, _report_paths_and_throttle, _playlist_sizes,
                           _decisions, _compact_candidates)
LATEST = len(STEPS)


def schema_version(db: SqliteDatabase) -> int:
    """The version a history file has reached; 0 for an empty file."""
    if not db.table_exists("schema_version"):
        return 0
    row = db.execute_sql("SELECT version FROM schema_version WHERE id = 1").fetchone()
    return int(row[0]) if row else 0


def migrate(db: SqliteDatabase, path: Path | None, *, steps: tuple[Step, ...] = STEPS) -> int:
    """Bring the history up to the newest schema; returns the version it was at.

    A copy of the file is taken before any step changes a history that holds data, and each
    step commits with its version number or not at all, so a failure leaves a usable file.
    """
    found = schema_version(db)
    if found > len(steps):
        raise HistoryError(
            f"The history {path or ''} was written by a newer CuePoint (schema version {found}; "
            f"this one knows up to {len(steps)}). Update CuePoint Tray to open it.")
    if 0 < found < len(steps) and path is not None:
        backup(db, path, found)
    for number in range(found + 1, len(steps) + 1):
        _apply(db, number, steps[number - 1])
    return found


def _apply(db: SqliteDatabase, number: int, step: Step) -> None:
    # IMMEDIATE takes the write lock before reading the version, so two processes opening
    # the same old file cannot both run a step.
    with db.atomic("IMMEDIATE"):
        if schema_version(db) >= number:
            return
        step(db)
        db.execute_sql("CREATE TABLE IF NOT EXISTS schema_version ("
                       "id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1), "
                       "version INTEGER NOT NULL)")
        db.execute_sql("INSERT INTO schema_version (id, version) VALUES (1, ?) "
                       "ON CONFLICT (id) DO UPDATE SET version = excluded.version", (number,))
    log.info("history schema now at version %d", number)


def backup(db: SqliteDatabase, path: Path, version: int) -> Path:
    """Copy the live database next to it with SQLite's backup API (WAL content included)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.bak-v{version}-{stamp}")
    copy = sqlite3.connect(target)
    try:
        db.connection().backup(copy)
    finally:
        copy.close()
    log.info("history backed up to %s before migrating", target)
    return target
