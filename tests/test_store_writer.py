"""HistoryWriter: runner events in, whole tracks and running totals out, one writer thread."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import peewee
import pytest
from test_store_builders import (
    PLAYLIST,
    beatport,
    begin,
    candidate,
    db_file,
    ended,
    query,
    rekordbox,
    result,
    track_done,
)

from cuepoint_tray.domain import MatchResult, QueryRecord, RekordboxTrack
from cuepoint_tray.events import QueryDone, SessionStarted, StateChanged, TrackJob
from cuepoint_tray.runner import SessionRunner, jobs_for
from cuepoint_tray.settings import Settings
from cuepoint_tray.store import HistoryError, HistoryWriter
from cuepoint_tray.store.models import (
    CANDIDATES_KEPT,
    beatport_from,
    candidate_beatport,
    rekordbox_from,
)
from cuepoint_tray.store.packing import Pack
from cuepoint_tray.store.queries import set_review


def connect(path: Path) -> sqlite3.Connection:
    """A reader of our own, separate from the writer's peewee handle."""
    connection = sqlite3.connect(path)
    connection.row_factory = sqlite3.Row
    return connection


def session_row(path: Path, session_id: int) -> sqlite3.Row:
    with connect(path) as connection:
        row: sqlite3.Row = connection.execute(
            "SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
    return row


def test_begin_session_writes_a_running_row_without_secrets(tmp_path: Path) -> None:
    path = db_file(tmp_path)
    settings = Settings(beatport_token="s3cret", requests_per_second=2.0)
    with HistoryWriter(path) as writer:
        session_id = begin(writer, 12, settings=settings)
    row = session_row(path, session_id)
    assert (row["status"], row["tracks"], row["pid"]) == ("running", 12, os.getpid())
    assert json.loads(row["playlists"]) == [PLAYLIST]
    stored = json.loads(row["settings"])
    assert stored["requests_per_second"] == 2.0
    assert "beatport_token" not in stored and "beatport_refresh_token" not in stored
    assert "s3cret" not in row["settings"]


def test_a_session_is_written_whole(tmp_path: Path) -> None:
    path = db_file(tmp_path)
    outcomes = [result(1), result(2, "review"), result(3, "unmatched"), result(4, "error")]
    outcomes[0] = result(1, queries=(query("isrc", cached=True),
                                     query("full", status=429, attempts=3, retry_after=2.0,
                                           throttle=40.0)))
    with HistoryWriter(path) as writer:
        session_id = begin(writer, 4)
        writer(SessionStarted((PLAYLIST,), 4, "beatport-api", time.time()))
        for position, outcome in enumerate(outcomes, start=1):
            writer(QueryDone(TrackJob(PLAYLIST, position, "x"), outcome.queries[0]))
            writer(track_done(position, outcome, done=position, total=4))
        writer(ended("completed", 4))
    row = session_row(path, session_id)
    totals = {name: row[name] for name in ("tracks", "done", "matched", "review", "unmatched",
                                           "errors", "queries", "requests", "cache_hits",
                                           "retries", "rate_limited")}
    assert totals == {"tracks": 4, "done": 4, "matched": 1, "review": 1, "unmatched": 1,
                      "errors": 1, "queries": 5, "requests": 4, "cache_hits": 1,
                      "retries": 2, "rate_limited": 1}
    assert row["status"] == "completed" and row["ended_at"] is not None
    with connect(path) as connection:
        tracks = connection.execute(
            "SELECT * FROM track_results ORDER BY position").fetchall()
        assert [t["status"] for t in tracks] == ["matched", "review", "unmatched", "error"]
        assert rekordbox_from(dict(tracks[0])) == outcomes[0].rekordbox
        assert beatport_from(dict(tracks[0])) == outcomes[0].match
        assert beatport_from(dict(tracks[1])) is None
        assert Pack(tracks[0]["packed_candidates"]).breakdown()[0]["name"] == "title"
        review = connection.execute("SELECT c.*, t.packed_candidates FROM candidates c "
                                    "JOIN track_results t ON t.id = c.track_result_id "
                                    "WHERE c.id = ?",
                                    (tracks[1]["review_candidate_id"],)).fetchone()
        assert candidate_beatport(dict(review)) == outcomes[1].review
        assert Pack(review["packed_candidates"]).score(review["rank"])["vetoes"] == []
        throttled = connection.execute(
            "SELECT * FROM queries WHERE track_result_id = ? AND number = 2",
            (tracks[0]["id"],)).fetchone()
        assert (throttled["http_status"], throttled["attempts"], throttled["rate_limited"],
                throttled["throttle_wait_ms"], throttled["network_ms"],
                throttled["elapsed_ms"]) == (429, 3, 1, 40.0, 60.0, 105.0)
        assert connection.execute("SELECT count(*) FROM queries").fetchone()[0] == 5
        errors = connection.execute("SELECT * FROM errors").fetchall()
        assert [e["message"] for e in errors] == ["connection refused"]
        assert "#4" in errors[0]["where"]


def test_a_reader_sees_the_running_session_as_it_goes(tmp_path: Path) -> None:
    path = db_file(tmp_path)
    with HistoryWriter(path, batch_seconds=0.05) as writer:
        session_id = begin(writer, 10)
        for position in range(1, 6):
            writer(track_done(position, result(position), done=position))
        deadline = time.monotonic() + 5
        with connect(path) as connection:
            while time.monotonic() < deadline:  # no flush: the batch deadline commits them
                row = connection.execute("SELECT status, done, matched FROM sessions "
                                         "WHERE id = ?", (session_id,)).fetchone()
                if row["done"] == 5:
                    break
                time.sleep(0.02)
            tracks = connection.execute("SELECT count(*) FROM track_results").fetchone()[0]
        assert tuple(row) == ("running", 5, 5)
        assert tracks == 5
        assert row["done"] == 5


def test_events_are_written_in_batches(tmp_path: Path) -> None:
    path = db_file(tmp_path)
    events = [track_done(position, result(position), done=position, total=450)
              for position in range(1, 451)]
    with HistoryWriter(path, batch_size=200, batch_seconds=0.5) as writer:
        begin(writer, 450)
        before = writer.transactions
        for event in events:
            writer(event)
        writer.flush()
        assert writer.transactions - before <= 6  # 200 + 200 + 50, give or take a deadline
    assert session_row(path, 1)["done"] == 450


def test_a_bad_event_is_surfaced_and_does_not_sink_its_batch(tmp_path: Path) -> None:
    path = db_file(tmp_path)
    seen: list[BaseException] = []
    with HistoryWriter(path, batch_seconds=0.5, on_error=seen.append) as writer:
        session_id = begin(writer, 3)
        writer(track_done(1, result(1)))
        writer.session_id = 4242  # no such session: the foreign key refuses the track
        writer(track_done(2, result(2)))
        writer.session_id = session_id
        writer(track_done(3, result(3)))
        writer.flush()
        assert isinstance(writer.error, peewee.IntegrityError)
        assert writer.lost_events == 1 and seen
    assert session_row(path, session_id)["done"] == 2


def test_state_changes_and_resume(tmp_path: Path) -> None:
    path = db_file(tmp_path)
    with HistoryWriter(path) as writer:
        session_id = begin(writer, 3)
        writer(track_done(1, result(1)))
        writer(track_done(2, result(2, "error")))
        writer(StateChanged("paused", "Beatport is not answering"))
        writer.record_error("provider", "Beatport is not answering")
        writer.flush()
        with connect(path) as connection:
            last = connection.execute('SELECT "where", message FROM errors ORDER BY id DESC')
            assert tuple(last.fetchone()) == ("provider", "Beatport is not answering")
        row = session_row(path, session_id)
        assert (row["status"], row["reason"]) == ("paused", "Beatport is not answering")
        assert writer.done_positions(session_id) == {(PLAYLIST, 1)}
        assert writer.done_positions(session_id, retry_errors=False) == {(PLAYLIST, 1),
                                                                         (PLAYLIST, 2)}
    with HistoryWriter(path) as writer:
        writer.resume_session(session_id)
        assert session_row(path, session_id)["status"] == "running"
        writer(track_done(2, result(2)))  # the errored track, retried, replaces its row
        writer(track_done(3, result(3, "unmatched")))
        writer(ended("completed", 3))
    row = session_row(path, session_id)
    assert (row["status"], row["done"], row["matched"], row["errors"], row["unmatched"]) == (
        "completed", 3, 2, 0, 1)
    with connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM track_results").fetchone()[0] == 3
        assert connection.execute("SELECT count(*) FROM queries").fetchone()[0] == 3


def test_resuming_an_unknown_session_is_a_clear_error(tmp_path: Path) -> None:
    with HistoryWriter(db_file(tmp_path)) as writer, pytest.raises(HistoryError):
        writer.resume_session(99)


def test_sessions_of_dead_processes_are_marked_interrupted(tmp_path: Path) -> None:
    path = db_file(tmp_path)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_pid = int(gone.stdout)
    with HistoryWriter(path) as writer:
        ours, theirs, paused, done = (begin(writer) for _ in range(4))
        writer(ended("completed"))
        writer.flush()
    with connect(path) as connection:
        connection.execute("UPDATE sessions SET pid = ? WHERE id IN (?, ?, ?)",
                           (dead_pid, theirs, paused, done))
        connection.execute("UPDATE sessions SET status = 'paused' WHERE id = ?", (paused,))
    with HistoryWriter(path) as writer:
        assert sorted(writer.mark_interrupted_sessions()) == [theirs, paused]
    statuses = [session_row(path, sid)["status"] for sid in (ours, theirs, paused, done)]
    assert statuses == ["running", "interrupted", "interrupted", "completed"]


def test_close_is_idempotent_and_late_events_do_not_raise(tmp_path: Path) -> None:
    writer = HistoryWriter(db_file(tmp_path))
    begin(writer)
    writer.close()
    writer.close()
    writer(track_done(1, result(1)))  # a listener must never raise
    assert writer.lost_events == 1
    with pytest.raises(HistoryError):
        writer.flush()


def test_set_review_waits_for_the_writer_instead_of_failing(tmp_path: Path) -> None:
    path = db_file(tmp_path)
    with HistoryWriter(path, batch_size=50, batch_seconds=0.01) as writer:
        begin(writer, 600)
        writer(track_done(1, result(1, "review")))
        writer.flush()

        def feed() -> None:
            for position in range(2, 601):
                writer(track_done(position, result(position), done=position))

        feeding = threading.Thread(target=feed)
        feeding.start()
        decisions = [set_review(path, 1, state, 5001 if state == "changed" else None)
                     for state in ("accepted", "rejected", "changed") * 10]
        feeding.join()
        writer.flush()
        assert writer.error is None
    assert decisions[-1]["review_state"] == "changed"
    with connect(path) as connection:
        # Decisions are kept per Rekordbox track (issue 14), with the Beatport track chosen.
        row = connection.execute("SELECT state, bp_id, decided_at, track_result_id "
                                 "FROM decisions").fetchone()
        assert row["state"] == "picked" and row["decided_at"] is not None
        assert (row["bp_id"], row["track_result_id"]) == (5001, 1)
        assert connection.execute("SELECT done FROM sessions").fetchone()[0] == 600


def test_retention_drops_old_queries_only(tmp_path: Path) -> None:
    path = db_file(tmp_path)
    with HistoryWriter(path) as writer:
        old = begin(writer)
        writer(track_done(1, result(1, queries=(query(), query("title")))))
        writer.flush()
        new = begin(writer)
        writer(track_done(1, result(1)))
        writer.flush()
        with connect(path) as connection:
            connection.execute("UPDATE sessions SET started_at = started_at - 40 * 86400 "
                               "WHERE id = ?", (old,))
        assert writer.delete_old_queries(30) == 2
        writer.vacuum()
    with connect(path) as connection:
        by_session = dict(connection.execute(
            "SELECT session_id, count(*) FROM queries GROUP BY session_id").fetchall())
        assert by_session == {new: 1}
        assert connection.execute("SELECT count(*) FROM track_results").fetchone()[0] == 2
    assert session_row(path, old)["queries"] == 2  # the totals keep the history readable


class StubMatcher:
    """Stands in for TrackMatcher: reports each query, then returns a ready result."""

    def match(self, track: RekordboxTrack, on_query: Callable[[QueryRecord], None]) -> MatchResult:
        n = int(track.track_id) - 1000
        outcome = result(n, ("matched", "review", "unmatched", "error")[n % 4],
                         queries=(query("full"), query("title", cached=n % 2 == 0)))
        for record in outcome.queries:
            on_query(record)
        time.sleep(0.01)  # slow enough for the watcher to read the session mid-way
        return outcome


def test_a_real_runner_session_reads_whole_while_it_runs(tmp_path: Path) -> None:
    path = db_file(tmp_path)
    tracks = {str(1000 + n): rekordbox(n) for n in range(1, 121)}
    jobs = jobs_for([(PLAYLIST, list(tracks))])
    seen: list[tuple[int, int, int]] = []
    with HistoryWriter(path, batch_seconds=0.01) as writer:
        session_id = begin(writer, len(jobs))
        runner = SessionRunner(StubMatcher(), tracks,  # type: ignore[arg-type]
                               provider_name="stub", concurrency=4, listeners=[writer])
        stop = threading.Event()
        watcher = threading.Thread(target=watch, args=(path, stop, seen))
        watcher.start()
        runner.run(jobs)
        stop.set()
        watcher.join()
    row = session_row(path, session_id)
    summary = runner.summary
    assert (row["status"], row["done"], row["matched"], row["review"], row["errors"],
            row["queries"], row["cache_hits"]) == (
        "completed", 120, summary.matched, summary.review, summary.errors, summary.queries,
        summary.cache_hits)
    assert seen and all(half == 0 and done == count for done, count, half in seen)
    assert any(0 < done < 120 for done, _, _ in seen)  # it was read while it ran


def watch(path: Path, stop: threading.Event, seen: list[tuple[int, int, int]]) -> None:
    """Read the session as the dashboard would, checking tracks are whole and counted."""
    with connect(path) as connection:
        while not stop.is_set():
            connection.execute("BEGIN")  # one snapshot for the three reads
            done = connection.execute("SELECT coalesce(max(done), 0) FROM sessions").fetchone()[0]
            count = connection.execute("SELECT count(*) FROM track_results").fetchone()[0]
            half = connection.execute(
                "SELECT count(*) FROM track_results t WHERE t.queries != "
                "(SELECT count(*) FROM queries q WHERE q.track_result_id = t.id)").fetchone()[0]
            connection.execute("COMMIT")
            seen.append((done, count, half))
            time.sleep(0.005)


def test_the_best_ten_candidates_are_kept_and_the_chosen_one_wherever_it_ranks(
        tmp_path: Path) -> None:
    many = tuple(candidate(beatport(7000 + i, i), 0.9 - i / 100) for i in range(25))
    chosen = many[17].track  # a low rank can still be what the DJ is offered for review
    outcome = replace(result(1, "review"), candidates=many, review=chosen)
    with HistoryWriter(db_file(tmp_path)) as writer:
        session_id = begin(writer)
        writer(track_done(1, outcome))
        writer.flush()
        ranks = [row[0] for row in writer.db.execute_sql(
            "SELECT rank FROM candidates ORDER BY rank").fetchall()]
        stored = writer.db.execute_sql(
            "SELECT t.candidates, c.bp_id FROM track_results t JOIN candidates c "
            "ON c.id = t.review_candidate_id WHERE t.session_id = ?", (session_id,)).fetchone()
    assert ranks == [*range(1, CANDIDATES_KEPT + 1), 18]
    assert stored == (25, chosen.id)
