"""The single writer of the history: runner events in, batched transactions out.

The runner calls listeners from its worker threads under a lock, so `HistoryWriter.__call__`
only puts the event on a queue. One thread drains the queue and writes: up to `batch_size`
events, or what arrived within `batch_seconds` of the first, per transaction. A track's row,
its queries and its candidates, and the session totals that count it, commit together, so a
reader sees whole tracks and totals that agree with them while the session runs.

It is the writer of sessions, tracks, queries and candidates, not the only one. Three other
writes are made outside its thread, each in a short transaction of its own, and named here:
  - `mark_interrupted_sessions` (below): sessions whose process is gone become interrupted;
  - `queries.set_review`: the DJ's review decision, from the dashboard;
  - `recovery.set_aside_and_recover`: a damaged file set aside and copied into a new one,
    before anything else opens it (start-up, or a reader that met the damage).
"""

from __future__ import annotations

import functools
import logging
import os
import queue
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

import peewee
from peewee import (
    AutoField,
    BlobField,
    DatabaseError,
    FloatField,
    IntegerField,
    Model,
    OperationalError,
    SqliteDatabase,
    TextField,
    fn,
)

from cuepoint_tray.events import (
    Event,
    QueryDone,
    SessionEnded,
    SessionStarted,
    SessionSummary,
    StateChanged,
    TrackDone,
)
from cuepoint_tray.settings import Settings
from cuepoint_tray.store.database import delete_old_queries, open_history, reads, vacuum
from cuepoint_tray.store.migrations import HistoryError
from cuepoint_tray.store.models import (
    CandidateTable,
    ErrorTable,
    QueryTable,
    SessionTable,
    TrackTable,
    kept_candidates,
    query_columns,
    review_rank,
    track_columns,
)
from cuepoint_tray.store.packing import pack_texts

log = logging.getLogger(__name__)
T = TypeVar("T")

# How long a write waits for another program holding the history (a vacuum) before the
# tracks it carries count as unwritten and the session pauses.
LOCKED_WAIT_S = 30.0
_TOTALS = ("done", "matched", "review", "unmatched", "errors", "queries", "requests",
           "cache_hits", "retries", "rate_limited")


@dataclass(frozen=True, slots=True)
class ErrorNote:
    """Something that went wrong outside a track, for the session's errors table."""

    where: str
    message: str


@dataclass(slots=True)
class _Call:
    run: Callable[[SqliteDatabase], Any]
    future: Future[Any]
    atomic: bool = True  # VACUUM refuses to run inside a transaction


_STOP = object()
_Item = tuple[int, Event | ErrorNote]


def settings_snapshot(settings: Settings) -> dict[str, Any]:
    """The settings a session ran with, without the secret ones (tokens)."""
    return {declared.name: getattr(settings, declared.name) for declared in fields(settings)
            if not declared.metadata.get("secret")}


class HistoryWriter:
    """Owns every write to the history but one (`queries.set_review`); use as a listener."""

    # Half a second per transaction: at 20-30 tracks a second a batch of 0.1 s held two or
    # three tracks, and each commit rewrote the same ten index and table pages into the WAL
    # (scripts/bench_session_memory.py); the dashboard's live view polls every 0.7 s.
    def __init__(self, db_path: str | os.PathLike[str], *, batch_size: int = 200,
                 batch_seconds: float = 0.5,
                 on_error: Callable[[BaseException], None] | None = None):
        self.path = Path(db_path)
        self.db = open_history(self.path)
        self.batch_size = batch_size
        self.batch_seconds = batch_seconds
        self.on_error = on_error
        self.session_id: int | None = None
        self.error: BaseException | None = None  # the last write that failed
        self.lost_events = 0  # events that could not be written, even one by one
        # Called (writer thread) with the reason when a track could not be written: the
        # session must stop, as it cannot be "completed" with a track missing.
        self.on_unwritten: Callable[[str], None] | None = None
        self._unwritten: dict[int, str] = {}  # session id -> why its tracks were not written
        self.transactions = 0  # batches committed; tests read it to see batching
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        # Set when the writer must not wait out a batch: a call, a full batch, stop. The
        # writer wakes once per batch, not per event (see _drain).
        self._urgent = threading.Event()
        self._run_started = time.monotonic()
        self._wall_base_ms = 0.0
        self._closed = False
        self._thread = threading.Thread(target=self._drain, name="history-writer", daemon=True)
        self._thread.start()

    # --- the runner's side: never blocks, never raises ----------------------------------

    def __call__(self, event: Event) -> None:
        """Queue a runner event for the session begun or resumed last."""
        if isinstance(event, QueryDone):
            return  # the TrackDone carries every query, written with its track
        self._put(event)

    def record_error(self, where: str, message: str) -> None:
        """Queue an error row for the current session (a provider stop, a report failure)."""
        self._put(ErrorNote(where, message))

    def _put(self, payload: Event | ErrorNote) -> None:
        if self.session_id is None or self._closed or not self._thread.is_alive():
            self.lost_events += 1
            log.warning("history writer dropped %s: no session or writer stopped",
                        type(payload).__name__)
            return
        self._queue.put((self.session_id, payload))
        if self._queue.qsize() >= self.batch_size:
            self._urgent.set()

    # --- synchronous calls, run on the writer thread in queue order -----------------------

    def begin_session(self, *, playlists: Iterable[str], xml_path: str, xml_sha256: str,
                      provider: str, settings: Settings, app_version: str,
                      total_tracks: int, playlist_tracks: Iterable[int] = ()) -> int:
        """Create the session's row (status running) and make it the current session.

        `playlist_tracks` gives each playlist's size, in the order of `playlists`."""
        row = {"started_at": time.time(), "status": "running", "playlists": list(playlists),
               "playlist_tracks": list(playlist_tracks),
               "xml_path": str(xml_path), "xml_sha256": xml_sha256, "provider": provider,
               "settings": settings_snapshot(settings), "app_version": app_version,
               "pid": os.getpid(), "hostname": socket.gethostname(), "tracks": total_tracks}
        session_id = int(self._call(lambda db: SessionTable.insert(**row).execute(db)))
        self._start_run(session_id, 0.0)
        return session_id

    def resume_session(self, session_id: int) -> None:
        """Flip a paused, interrupted, cancelled or failed session back to running."""
        wall_ms = self._call(lambda db: _reopen(db, session_id))
        self._start_run(session_id, wall_ms)

    def mark_interrupted_sessions(self) -> list[int]:
        """Sessions of this host left running or paused by a process that is gone."""
        return list(self._call(_mark_interrupted))

    def running_sessions(self) -> list[int]:
        """Sessions some process is running now (call `mark_interrupted_sessions` first)."""
        self.flush()
        return [row[0] for row in SessionTable.select(SessionTable.id).where(
            SessionTable.status == "running").tuples().execute(self.db)]

    def done_positions(self, session_id: int, *,
                       retry_errors: bool = True) -> set[tuple[str, int]]:
        """(playlist, position) of the tracks a resume can skip; errored ones are retried."""
        self.flush()
        statuses = ("matched", "review", "unmatched") if retry_errors else (
            "matched", "review", "unmatched", "error")
        query = (TrackTable.select(TrackTable.playlist, TrackTable.position)
                 .where((TrackTable.session == session_id)
                        & TrackTable.status.in_(statuses)).tuples())
        return {(playlist, position) for playlist, position in query.execute(self.db)}

    def unwritten_reason(self, session_id: int) -> str:
        """Why some of the session's tracks are not in the history ("" when all are)."""
        self.flush()
        return self._unwritten.get(session_id, "")

    def stored_tracks(self, session_id: int) -> list[tuple[str, int, str, str]]:
        """(playlist, position, Rekordbox track id, status) of the session's stored tracks."""
        self.flush()
        return list(TrackTable.select(TrackTable.playlist, TrackTable.position,
                                       TrackTable.rb_track_id, TrackTable.status)
                    .where(TrackTable.session == session_id).tuples().execute(self.db))

    def realign(self, session_id: int, moves: Iterable[tuple[str, int, int]],
                playlist_tracks: list[int]) -> None:
        """Give stored tracks their positions in the playlist as it is now (playlist, old,
        new), delete those not moved (gone from the playlist), and set the new sizes."""
        self._call(lambda db: _realign(db, session_id, list(moves), playlist_tracks))

    def add_throttle_wait(self, session_id: int, wall_ms: float) -> None:
        """Add a run's wall-clock time waiting for throttle slots to the session's. A figure
        for the dashboard: when it cannot be stored (a full disk, which the session's own
        state already reports), it is logged and the session ends as it would."""
        try:
            self._call(lambda db: SessionTable.update(
                throttle_wall_ms=fn.coalesce(SessionTable.throttle_wall_ms, 0) + wall_ms)
                .where(SessionTable.id == session_id).execute(db))
        except DatabaseError as exc:
            log.warning("session %s: its wait for the rate limit was not stored: %s",
                        session_id, exc)

    def set_report_path(self, session_id: int, report_path: str) -> None:
        """Remember where the session's report was written."""
        self._call(lambda db: SessionTable.update(report_path=report_path)
                   .where(SessionTable.id == session_id).execute(db))

    def delete_old_queries(self, days: float) -> int:
        """Retention: drop per-query rows of sessions older than `days` (see database.py)."""
        return int(self._call(lambda db: delete_old_queries(db, days)))

    def vacuum(self) -> None:
        """Compact the file, on the writer's connection so no write is in flight."""
        self._call(vacuum, atomic=False)

    def flush(self) -> None:
        """Wait until every event queued so far is committed."""
        self._call(lambda db: None)

    def close(self) -> None:
        """Write what is queued, stop the thread and close this thread's connection."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._urgent.set()
        self._thread.join(timeout=60)
        if self._thread.is_alive():
            log.error("history writer did not stop within 60 s")
        self.db.close()

    def __enter__(self) -> HistoryWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _start_run(self, session_id: int, wall_base_ms: float) -> None:
        self.session_id = session_id
        self._wall_base_ms = wall_base_ms
        self._run_started = time.monotonic()

    def _call(self, run: Callable[[SqliteDatabase], T], *, atomic: bool = True) -> T:
        if self._closed or not self._thread.is_alive():
            raise HistoryError("The history writer is closed.")
        future: Future[T] = Future()
        self._queue.put(_Call(run, future, atomic))
        self._urgent.set()
        return future.result()

    # --- the writer thread -------------------------------------------------------------

    def _drain(self) -> None:
        try:
            while True:
                first = self._queue.get()
                if isinstance(first, tuple):  # an event: the rest of its batch, in one wake
                    self._urgent.wait(self.batch_seconds)
                self._urgent.clear()
                if not self._handle([first, *self._queued()]):
                    return
        except BaseException as exc:  # the thread must not die silently
            self._failed(exc)
            raise
        finally:
            self.db.close()

    def _queued(self) -> list[Any]:
        """What is on the queue now, without waiting."""
        items = []
        while True:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                return items

    def _handle(self, items: list[Any]) -> bool:
        """Write the events in batches of up to `batch_size`, and run the calls, in queue
        order; False once the writer is told to stop."""
        pending: list[_Item] = []
        for item in items:
            if isinstance(item, tuple):
                pending.append(item)
                if len(pending) >= self.batch_size:
                    pending = self._write_batch(pending)
                continue
            pending = self._write_batch(pending)
            if item is _STOP:
                return False
            self._run_call(item)
        self._write_batch(pending)
        return True

    def _run_call(self, call: _Call) -> None:
        try:
            if call.atomic:
                with self.db.atomic("IMMEDIATE"):
                    result = call.run(self.db)
            else:
                result = call.run(self.db)
        except Exception as exc:
            call.future.set_exception(exc)
            return
        call.future.set_result(result)

    def _write_batch(self, items: list[_Item]) -> list[_Item]:
        """Write the items in one transaction; on failure, one by one. Returns []."""
        if not items:
            return []
        try:
            self._commit(items)
        except Exception as exc:
            self._failed(exc)
            if len(items) == 1:
                self._lost(items[0], exc)
            else:  # a bad event must not take the others with it
                for item in items:
                    self._write_batch([item])
        return []

    def _commit(self, items: list[_Item]) -> None:
        """One transaction; while another program holds the file (`cuepoint vacuum`), wait
        for it up to LOCKED_WAIT_S rather than lose the tracks."""
        give_up_at = time.monotonic() + LOCKED_WAIT_S
        while True:
            try:
                with self.db.atomic("IMMEDIATE"):
                    self._write(items)
                self.transactions += 1
                return
            except OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= give_up_at:
                    raise
                time.sleep(0.2)

    def _lost(self, item: _Item, exc: Exception) -> None:
        self.lost_events += 1
        session_id, payload = item
        if not isinstance(payload, TrackDone):
            return
        reason = unwritten_reason(exc)
        self._unwritten.setdefault(session_id, reason)
        if self.on_unwritten is not None:
            try:
                self.on_unwritten(reason)
            except Exception:
                log.exception("history writer's on_unwritten failed")

    def _write(self, items: list[_Item]) -> None:
        added: dict[int, SessionSummary] = {}
        done = [(session_id, payload) for session_id, payload in items
                if isinstance(payload, TrackDone)]
        recount = _write_tracks(self.db, done)
        for session_id, track in done:
            added.setdefault(session_id, SessionSummary()).add(track.result)
        for session_id, payload in items:
            if isinstance(payload, TrackDone):
                continue  # written above
            if isinstance(payload, SessionEnded):
                # The runner's own clock for this run, when it gives one, plus earlier runs.
                ran_ms = payload.summary.wall_ms
                wall_ms = self._wall_base_ms + ran_ms if ran_ms else self._wall_ms()
                if session_id in self._unwritten and payload.status == "completed":
                    # never "completed" with a track missing: resume matches it again
                    payload = SessionEnded("paused", payload.summary,
                                           self._unwritten[session_id])
                _write_end(self.db, session_id, payload, wall_ms)
                recount.add(session_id)
            else:
                _write_other(self.db, session_id, payload)
        for session_id, summary in added.items():
            _add_totals(self.db, session_id, summary, self._wall_ms())
        for session_id in recount:
            _recount(self.db, session_id)

    def _wall_ms(self) -> float:
        return self._wall_base_ms + (time.monotonic() - self._run_started) * 1000

    def _failed(self, exc: BaseException) -> None:
        self.error = exc
        log.error("history writer failed: %s", exc, exc_info=exc)
        if self.on_error is not None:
            try:
                self.on_error(exc)
            except Exception:
                log.exception("history writer's on_error failed")


# --- writes, each inside the caller's transaction --------------------------------------

def _write_tracks(db: SqliteDatabase, done: list[tuple[int, TrackDone]]) -> set[int]:
    """Insert a batch's tracks with their queries and candidates; the sessions where a track
    replaced an older row (their totals must be recounted).

    A statement per table for the whole batch, not per track, and the batch's candidates
    compressed in one call (`pack_texts`): each statement and each compression lets the
    matching threads take the interpreter, and on two cores every such switch made the
    writer's own work dearer (scripts/bench_session_memory.py). The tracks' ids are given
    here, as SQLite would give them (one past the highest), so that their queries and
    candidates can name them before they are inserted."""
    latest = {(session_id, track.job.playlist, track.job.position): (session_id, track)
              for session_id, track in done}  # a track done twice in a batch: the last
    recount = {session_id for session_id, _track in done} if len(latest) < len(done) else set()
    if not latest:
        return recount
    if _execute_many(db, "DELETE FROM track_results WHERE session_id = ? AND playlist = ? "
                         "AND position = ?", list(latest)) > 0:
        recount.update(session_id for session_id, _playlist, _position in latest)
    first_id = db.execute_sql("SELECT coalesce(max(id), 0) + 1 FROM track_results").fetchone()[0]
    tracks, queries, candidates, errors, reviews = [], [], [], [], []
    for track_id, (session_id, track) in enumerate(latest.values(), start=first_id):
        job, result = track.job, track.result
        kept = kept_candidates(result)
        tracks.append({"id": track_id, **track_columns(session_id, job.playlist, job.position,
                                                       result, kept)})
        queries += [{**query_columns(query, number), "track_result": track_id,
                     "session": session_id}
                    for number, query in enumerate(result.queries, start=1)]
        candidates += [{"track_result": track_id, "rank": rank, "bp_id": candidate.track.id}
                       for rank, candidate in kept]
        if (rank := review_rank(result)) is not None:
            reviews.append((track_id, rank, track_id))
        if result.error:
            errors.append({"session": session_id, "at": time.time(), "message": result.error,
                           "where": f"{job.playlist} #{job.position} ({result.rekordbox.name})"})
    _pack_candidates(tracks)
    for model, rows in ((TrackTable, tracks), (QueryTable, queries),
                        (CandidateTable, candidates), (ErrorTable, errors)):
        _insert_many(db, model, rows)
    _execute_many(db, "UPDATE track_results SET review_candidate_id = (SELECT id FROM "
                      "candidates WHERE track_result_id = ? AND rank = ?) WHERE id = ?", reviews)
    return recount


def _pack_candidates(tracks: list[dict[str, Any]]) -> None:
    """Each track row's candidates text (`track_columns`) packed in place, the batch's at
    once."""
    with_candidates = [row for row in tracks if row["packed_candidates"] is not None]
    packed = pack_texts([row["packed_candidates"] for row in with_candidates])
    for row, value in zip(with_candidates, packed, strict=True):
        row["packed_candidates"] = value


# Turns sqlite3's errors into peewee's, as execute_sql does (peewee's stubs omit its table).
_AS_PEEWEE_ERRORS = peewee.ExceptionWrapper(peewee.EXCEPTIONS)  # type: ignore[attr-defined]


def _execute_many(db: SqliteDatabase, sql: str, rows: list[tuple[Any, ...]]) -> int:
    """`sql` run for each row, through one prepared statement; the rows it changed. Errors
    are raised as peewee's, as `execute_sql` raises them (the writer tells a locked file from
    a refused row by them)."""
    if not rows:
        return 0
    with _AS_PEEWEE_ERRORS:
        cursor = db.cursor()
        cursor.executemany(sql, rows)
        return int(cursor.rowcount)


def _insert_many(db: SqliteDatabase, model: type[Model], rows: list[dict[str, Any]]) -> None:
    """Insert rows with the same keys through one prepared statement, as peewee would.

    peewee's insert_many builds its SQL value by value in Python: for a track's ~30
    candidates of ~30 columns that took three times this path's CPU, all of it holding the
    GIL the matching threads need (scripts/bench_persistence.py, worst case)."""
    if rows:
        sql, columns = _insert_statement(model, tuple(rows[0]))
        _execute_many(db, sql, [_db_values(columns, row) for row in rows])


@functools.cache
def _insert_statement(model: type[Model],
                      names: tuple[str, ...]) -> tuple[str, _Columns]:
    """The INSERT of the columns named (the id too, when named), plus those with a default,
    and those columns (each as its name, its `db_value` and its default: no attribute
    look-up per value)

    As in peewee, a column neither named nor with a default is left to SQLite's DEFAULT."""
    columns = tuple(column for column in model._meta.sorted_fields
                    if column.name in names
                    or (not isinstance(column, AutoField) and column.default is not None))
    quoted = ", ".join(f'"{column.column_name}"' for column in columns)
    marks = ", ".join("?" * len(columns))
    return (f'INSERT INTO "{model._meta.table_name}" ({quoted}) VALUES ({marks})',
            tuple((column.name, column.db_value, column.default,
                   _SQLITE_TYPE.get(type(column), _NO_TYPE)) for column in columns))


# The Python type each kind of column hands to SQLite as it is (peewee's db_value would
# give SQLite the same value): such a value, or None, skips the conversion. Other values, and
# every value of other kinds of column (JSON, booleans, foreign keys), go through it.
_SQLITE_TYPE = {IntegerField: int, FloatField: float, TextField: str, BlobField: bytes}
_NO_TYPE = type("_NoType", (), {})
_Columns = tuple[tuple[str, Callable[[Any], Any], Any, type], ...]


def _db_values(columns: _Columns, row: dict[str, Any]) -> tuple[Any, ...]:
    """A row's values for the columns in SQLite's terms; a column's default when it is
    absent from the row."""
    values = []
    for name, db_value, default, stored in columns:
        if name not in row:
            values.append(db_value(default() if callable(default) else default))
        elif (value := row[name]) is None or value.__class__ is stored:
            values.append(value)
        else:
            values.append(db_value(value))
    return tuple(values)


_ADD_TOTALS = ("UPDATE sessions SET " + ", ".join(f"{name} = {name} + ?" for name in _TOTALS)
               + ", wall_ms = ?, wall_at = ? WHERE id = ?")


def _add_totals(db: SqliteDatabase, session_id: int, summary: SessionSummary,
                wall_ms: float) -> None:
    """Add a batch's tracks to the session's totals, in the batch's transaction."""
    db.execute_sql(_ADD_TOTALS, (*(getattr(summary, name) for name in _TOTALS), wall_ms,
                                 time.time(), session_id))


def _recount(db: SqliteDatabase, session_id: int) -> None:
    """Totals from the rows themselves: after a track was replaced, and when a session ends."""
    tracks = db.execute_sql(
        "SELECT count(*), coalesce(sum(status = 'matched'), 0), "
        "coalesce(sum(status = 'review'), 0), coalesce(sum(status = 'unmatched'), 0), "
        "coalesce(sum(status = 'error'), 0) FROM track_results WHERE session_id = ?",
        (session_id,)).fetchone()
    queries = db.execute_sql(
        "SELECT count(*), coalesce(sum(from_cache = 0), 0), coalesce(sum(from_cache = 1), 0), "
        "coalesce(sum(max(attempts - 1, 0)), 0), coalesce(sum(rate_limited), 0) "
        "FROM queries WHERE session_id = ?", (session_id,)).fetchone()
    SessionTable.update(dict(zip(_TOTALS, (*tracks, *queries), strict=True))).where(
        SessionTable.id == session_id).execute(db)


def _realign(db: SqliteDatabase, session_id: int, moves: list[tuple[str, int, int]],
             playlist_tracks: list[int]) -> None:
    # Negative first: (session, playlist, position) is unique, and moves may swap places.
    db.execute_sql("UPDATE track_results SET position = -position WHERE session_id = ?",
                   (session_id,))
    for playlist, old, new in moves:
        db.execute_sql("UPDATE track_results SET position = ? WHERE session_id = ? AND "
                       "playlist = ? AND position = ?", (new, session_id, playlist, -old))
    db.execute_sql("DELETE FROM track_results WHERE session_id = ? AND position < 0",
                   (session_id,))
    SessionTable.update(tracks=sum(playlist_tracks), playlist_tracks=playlist_tracks).where(
        SessionTable.id == session_id).execute(db)
    _recount(db, session_id)


def _write_end(db: SqliteDatabase, session_id: int, ended: SessionEnded,
               wall_ms: float) -> None:
    SessionTable.update(status=ended.status, reason=ended.reason, ended_at=time.time(),
                   tracks=ended.summary.tracks, wall_ms=wall_ms, wall_at=time.time()).where(
        SessionTable.id == session_id).execute(db)


def _write_other(db: SqliteDatabase, session_id: int, payload: Event | ErrorNote) -> None:
    if isinstance(payload, SessionStarted):
        SessionTable.update(tracks=payload.total_tracks, status="running").where(
            SessionTable.id == session_id).execute(db)
    elif isinstance(payload, StateChanged):
        SessionTable.update(status=payload.status, reason=payload.reason).where(
            SessionTable.id == session_id).execute(db)
    elif isinstance(payload, ErrorNote):
        ErrorTable.insert(session=session_id, at=time.time(), where=payload.where,
                            message=payload.message).execute(db)


def unwritten_reason(exc: BaseException) -> str:
    """Why tracks could not be written, in the DJ's words, with what to do."""
    chain = [exc]
    while chain[-1].__context__ is not None and len(chain) < 10:
        chain.append(chain[-1].__context__)  # SQLite rolls back on a full disk by itself:
    text = " / ".join(str(e) for e in chain)  # peewee's failed ROLLBACK hides the cause
    if "full" in text or any(getattr(e, "errno", None) == 28 for e in chain):
        why = "the disk is full: free some space"
    elif "locked" in text:
        why = ("another program kept the history busy (a `cuepoint vacuum`?): let it "
               "finish")
    elif "readonly" in text or "read-only" in text:
        why = "the history file cannot be written (read-only): check its folder's permissions"
    else:
        why = f"the history could not be written ({chain[-1]})"
    return f"Some tracks could not be kept in the history because {why}, then resume the " \
           "session: those tracks are matched again."


def _reopen(db: SqliteDatabase, session_id: int) -> float:
    """Mark a session running again in this process; returns its wall time so far."""
    table = SessionTable
    found = list(table.select(table.status, table.wall_ms, table.pid, table.hostname)
                 .where(table.id == session_id).dicts().execute(db))
    if not found:
        raise HistoryError(f"There is no session {session_id} in the history.")
    row = found[0]
    if (row["status"] == "running" and row["hostname"] == socket.gethostname()
            and row["pid"] != os.getpid() and pid_alive(row["pid"])):
        raise HistoryError(f"Session {session_id} is still running in another CuePoint "
                           f"(process {row['pid']}).")
    SessionTable.update(status="running", reason="", ended_at=None, pid=os.getpid(),
                   hostname=socket.gethostname()).where(SessionTable.id == session_id).execute(db)
    return float(row["wall_ms"])


@reads
def mark_interrupted_sessions(db: SqliteDatabase) -> list[int]:
    """Mark the sessions of this machine left running or paused by a process that is gone
    as interrupted; for the readers (`cuepoint sessions`, the dashboard), which would
    otherwise show a killed session as running for ever.

    A WRITE outside the writer thread, by the caller's thread (the CLI's command, the
    dashboard's request thread every few seconds, a session before it starts): one short
    IMMEDIATE transaction on sessions this machine's dead processes left, which no live
    writer is writing."""
    with db.atomic("IMMEDIATE"):
        return _mark_interrupted(db)


def _mark_interrupted(db: SqliteDatabase) -> list[int]:
    host = socket.gethostname()
    rows = (SessionTable.select(SessionTable.id, SessionTable.pid)
            .where(SessionTable.status.in_(("running", "paused")) & (SessionTable.hostname == host))
            .tuples().execute(db))
    history = Path(db.database).resolve()
    gone = [session_id for session_id, pid in rows
            if not pid_alive(pid) or holds_file(pid, history) is False]
    if gone:
        SessionTable.update(status="interrupted",
                       reason="CuePoint stopped while this session was running").where(
            SessionTable.id.in_(gone)).execute(db)
    return gone


def pid_alive(pid: int | None) -> bool:
    """Whether a process with this id runs on this machine (a zombie counts as alive)."""
    if pid is None or pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if sys.platform == "win32":
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)  # signal 0 asks only whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, run by another user
    return True


def holds_file(pid: int | None, path: Path) -> bool | None:
    """Whether process `pid` has `path` open; None when this system cannot tell.

    A process running a session holds its history open (the writer's connection); a
    process id reused by another program after CuePoint died does not. Linux reads
    /proc/<pid>/fd; elsewhere (and for another user's process) the answer is unknown."""
    if pid is None or pid == os.getpid() or not sys.platform.startswith("linux"):
        return None
    folder = Path(f"/proc/{pid}/fd")
    try:
        links = [os.readlink(folder / name) for name in os.listdir(folder)]
    except FileNotFoundError:
        return False  # the process is gone
    except OSError:
        return None
    names = {str(path), f"{path}-wal", f"{path}-shm"}
    return any(link in names for link in links)


def _windows_pid_alive(pid: int) -> bool:
    # os.kill on Windows terminates the process whatever the signal: ask the kernel instead.
    import ctypes

    kernel32 = ctypes.WinDLL("kernel32")  # type: ignore[attr-defined,unused-ignore]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return False
    code = ctypes.c_ulong()
    kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
    kernel32.CloseHandle(handle)
    return code.value == 259  # STILL_ACTIVE
