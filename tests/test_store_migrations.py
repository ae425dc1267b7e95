"""Schema versions: fresh files, an old file with rows migrated (backup first), newer files."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from peewee import SchemaManager, SqliteDatabase
from test_store_builders import beatport, db_file, result

from cuepoint_tray.domain import BeatportTrack, Candidate, Component, MatchResult
from cuepoint_tray.store import LATEST, HistoryError, open_history, schema_version
from cuepoint_tray.store.migrations import STEPS, migrate
from cuepoint_tray.store.models import MODELS, components_json, rekordbox_columns
from cuepoint_tray.store.queries import dict_of, track_detail
from cuepoint_tray.store.recovery import _row_by_row


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


def test_reviews_kept_on_track_rows_become_decisions(tmp_path: Path) -> None:
    """Version 4 (issue 14): every review a DJ made before is kept, as a decision on the
    Rekordbox track of its library, with the Beatport track it meant; the newest wins."""
    path = db_file(tmp_path)
    db = SqliteDatabase(str(path), pragmas={"journal_mode": "wal", "foreign_keys": 1})
    migrate(db, path, steps=STEPS[:3])
    for session, started in ((1, 1700000000.0), (2, 1700100000.0)):
        db.execute_sql("INSERT INTO sessions (id, started_at, status, playlists, xml_path) "
                       "VALUES (?, ?, 'completed', '[\"Sets/A\"]', '/music/rekordbox.xml')",
                       (session, started))
    rows = [  # id, session, rb id, status, review_state, reviewed_at, bp_id, chosen, offered
        (1, 1, "11", "review", "accepted", 10.0, None, None, 101),
        (2, 1, "12", "matched", "changed", 11.0, 50, 102, None),
        (3, 1, "13", "matched", "rejected", 12.0, 60, None, None),
        (4, 1, "14", "matched", "auto", None, 70, None, None),
        (5, 2, "13", "matched", "accepted", 20.0, 61, None, None),  # newer: wins for "13"
        (6, 1, "15", "matched", "accepted", 13.0, 80, None, None),
    ]
    for tid, session, rb_id, status, state, at, bp_id, _, _ in rows:
        db.execute_sql("INSERT INTO track_results (id, session_id, playlist, position, "
                       "rb_track_id, status, review_state, reviewed_at, bp_id, bp_title, "
                       "bp_artists) VALUES (?, ?, 'Sets/A', ?, ?, ?, ?, ?, ?, ?, '[\"A\"]')",
                       (tid, session, tid, rb_id, status, state, at, bp_id,
                        f"app {bp_id}" if bp_id else None))
    for cid, tid, bp_id in ((101, 1, 9001), (102, 2, 9002)):
        db.execute_sql("INSERT INTO candidates (id, track_result_id, rank, bp_id, bp_title, "
                       "bp_label) VALUES (?, ?, 1, ?, ?, 'Lbl')", (cid, tid, bp_id, f"c{bp_id}"))
    db.execute_sql("UPDATE track_results SET review_candidate_id = 101 WHERE id = 1")
    db.execute_sql("UPDATE track_results SET chosen_candidate_id = 102 WHERE id = 2")
    db.close()

    db = open_history(path)
    found = {row[0]: row[1:] for row in db.execute_sql(
        "SELECT rb_track_id, state, bp_id, bp_title, session_id, decided_at, library "
        "FROM decisions").fetchall()}
    db.close()
    assert found == {
        "11": ("accepted", 9001, "c9001", 1, 10.0, "/music/rekordbox.xml"),
        "12": ("picked", 9002, "c9002", 1, 11.0, "/music/rekordbox.xml"),
        "13": ("accepted", 61, "app 61", 2, 20.0, "/music/rekordbox.xml"),
        "15": ("accepted", 80, "app 80", 1, 13.0, "/music/rekordbox.xml"),
    }
    from cuepoint_tray.store.queries import session_overview, track_detail
    assert session_overview(path, 1)["to_review"] == 0
    assert track_detail(path, 1)["track"]["final"]["title"] == "c9001"
    assert track_detail(path, 3)["track"]["final"]["id"] == 61  # the newer decision


# --- version 5: candidates packed ------------------------------------------------------

def _old_beatport(track: BeatportTrack | None) -> dict[str, object]:
    """A Beatport track as the bp_* columns before version 5 held it."""
    if track is None:
        return {f"bp_{name}": None for name in BeatportTrack.__slots__}
    values: dict[str, object] = {f"bp_{name}": getattr(track, name)
                                 for name in BeatportTrack.__slots__}
    values["bp_artists"] = json.dumps(list(track.artists))
    values["bp_remixers"] = json.dumps(list(track.remixers))
    return values


def _insert(db: SqliteDatabase, table: str, row: dict[str, object]) -> int:
    names = ", ".join(f'"{name}"' for name in row)
    marks = ", ".join("?" * len(row))
    return int(db.execute_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})",
                              tuple(row.values())).lastrowid)


def version_3_file(path: Path, outcomes: list[MatchResult]) -> dict[int, list[int]]:
    """A history as CuePoint wrote it at version 3 (candidates in full rows); returns each
    track's candidate ids by track id."""
    db = SqliteDatabase(str(path), pragmas={"journal_mode": "wal", "foreign_keys": 1})
    migrate(db, path, steps=STEPS[:3])
    db.execute_sql("INSERT INTO sessions (id, started_at, status, playlists) "
                   "VALUES (1, 1700000000.0, 'completed', '[\"Sets/Dev Set\"]')")
    ids: dict[int, list[int]] = {}
    for position, outcome in enumerate(outcomes, start=1):
        ranked = list(enumerate(outcome.candidates, start=1))
        wanted = outcome.match or outcome.review
        best = next((c for _, c in ranked if wanted is None or c.track.id == wanted.id), None)
        track_id = _insert(db, "track_results", {
            "session_id": 1, "playlist": "Sets/Dev Set", "position": position,
            **rekordbox_columns(outcome.rekordbox),
            "status": outcome.status, "confidence": outcome.confidence, "score": outcome.score,
            "breakdown": json.dumps(components_json(best.components) if best else []),
            "reason": outcome.reason, "error": outcome.error, "queries": len(outcome.queries),
            "candidates": len(outcome.candidates), **_old_beatport(outcome.match)})
        ids[track_id] = [_insert(db, "candidates", {
            "track_result_id": track_id, "rank": rank, "score": c.score,
            "components": json.dumps(components_json(c.components)),
            "vetoes": json.dumps(list(c.vetoes)), "lost_because": c.lost_because,
            "found_by": c.found_by, **_old_beatport(c.track)}) for rank, c in ranked]
        for number, query in enumerate(outcome.queries, start=1):
            _insert(db, "queries", {"track_result_id": track_id, "session_id": 1,
                                    "number": number, "type": query.type, "text": query.text,
                                    "candidates": query.candidates})
        if outcome.review is not None:
            db.execute_sql("UPDATE track_results SET review_candidate_id = ? WHERE id = ?",
                           (ids[track_id][0], track_id))
    db.close()
    return ids


def test_version_5_packs_the_candidates_and_every_value_reads_back(tmp_path: Path) -> None:
    odd = replace(beatport(7001, 1), title="Ça Va (Live)", key_name="Gb Minor", camelot="11A",
                  url="https://www.beatport.com/track/ca-va-live/7001", bpm=None,
                  length_ms=None)
    elsewhere = replace(beatport(7002, 1), url="https://www.beatport.com/track/other-slug/7002",
                        remixers=())
    unusual = Candidate(odd, 0.42, (Component("title", 0.123456, 3.0, "'ça va' vs 'ça va'"),
                                    Component("label", 0.0, 0.0, "x vs y")),
                        vetoes=("another title", "other artists"), found_by="isrc",
                        lost_because="another title; other artists")
    outcomes = [result(1, "matched"), result(2, "review"), result(3, "unmatched"),
                replace(result(4, "matched"), candidates=(
                    *result(4, "matched").candidates, unusual,
                    Candidate(elsewhere, 0.3, (), lost_because="lower score"))),
                result(5, "error")]
    path = db_file(tmp_path)
    ids = version_3_file(path, outcomes)
    changed = next(iter(ids))  # the DJ changed track 1 to its second candidate
    with sqlite3.connect(path) as old:
        old.execute("UPDATE track_results SET review_state = 'changed', chosen_candidate_id = ? "
                    "WHERE id = ?", (ids[changed][1], changed))

    db = open_history(path)
    assert schema_version(db) == LATEST
    for (track_id, candidate_ids), outcome in zip(ids.items(), outcomes, strict=True):
        detail = track_detail(db, track_id)
        track = detail["track"]
        assert track["beatport"] == dict_of(outcome.match)
        wanted = outcome.match or outcome.review
        best = next((c for c in outcome.candidates
                     if wanted is None or c.track.id == wanted.id), None)
        assert track["breakdown"] == (components_json(best.components) if best else [])
        assert [c["id"] for c in detail["candidates"]] == candidate_ids
        for shaped, kept in zip(detail["candidates"], outcome.candidates, strict=True):
            assert shaped["beatport"] == dict_of(kept.track)
            assert (shaped["score"], shaped["components"], shaped["vetoes"],
                    shaped["lost_because"], shaped["found_by"]) == (
                kept.score, components_json(kept.components), list(kept.vetoes),
                kept.lost_because, kept.found_by)
        assert [q["candidate_count"] for q in detail["queries"]] == [
            q.candidates for q in outcome.queries]
        assert all("candidates" not in q for q in detail["queries"])
    assert track_detail(db, changed)["track"]["final"] == dict_of(outcomes[0].candidates[1].track)
    review = track_detail(db, list(ids)[1])["track"]
    assert review["review_candidate_id"] == ids[list(ids)[1]][0]
    assert columns(db.connection(), "candidates") == ["id", "track_result_id", "rank", "bp_id"]
    db.close()


def test_a_version_3_history_copied_row_by_row_keeps_its_candidates(tmp_path: Path) -> None:
    """Recovery without the sqlite3 program copies an older file at its own version, so that
    opening the copy packs its candidates rather than cutting them to version 5's columns."""
    outcomes = [result(1, "matched"), result(2, "review")]
    old = tmp_path / "old.sqlite3"
    ids = version_3_file(old, outcomes)
    copy = tmp_path / "history.sqlite3"

    assert _row_by_row(old, copy)

    db = open_history(copy)
    for (track_id, candidate_ids), outcome in zip(ids.items(), outcomes, strict=True):
        detail = track_detail(db, track_id)
        assert [c["id"] for c in detail["candidates"]] == candidate_ids
        assert [c["beatport"] for c in detail["candidates"]] == [
            dict_of(c.track) for c in outcome.candidates]
        assert [c["components"] for c in detail["candidates"]] == [
            components_json(c.components) for c in outcome.candidates]
    db.close()
