"""The session's tables as CSV: results, candidates and queries, read from the history.

Keyed by file name like the reports by format (`TABLES`); `cuepoint match` writes all three
beside the report, in the session's one report folder. Columns carry the names of the API's
track shape (`store.queries.track_shape`), flattened with a dot: `rekordbox.name`,
`beatport.title` (the app's choice), `final.title` (what will be written, the DJ's review
applied). Candidates and queries stream from the history row by row: a long session's tables
never sit in memory. Every file is written whole (a temporary file renamed) and every cell
is safe to open in a spreadsheet (`file_writing.py`); UTF-8 with a BOM so Excel reads it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from peewee import SqliteDatabase

from cuepoint_tray.domain import BeatportTrack, RekordboxTrack
from cuepoint_tray.file_writing import FORMULA_FIRST, spreadsheet_safe, whole_file
from cuepoint_tray.matching.scoring import WEIGHTS
from cuepoint_tray.store import queries
from cuepoint_tray.store.database import reads
from cuepoint_tray.store.packing import Pack

Row = dict[str, Any]
_BYTE_ORDER_MARK = "\ufeff"
_REKORDBOX = tuple(f"rekordbox.{name}" for name in RekordboxTrack.__slots__)
_BEATPORT = tuple(BeatportTrack.__slots__)

RESULT_COLUMNS = (
    "playlist", "position", "status", "confidence", "score", "review_state", "reason", "error",
    "elapsed_ms", "query_count", "candidate_count", "early_exit_at", "needs_decision",
    "decision.state", "decision.beatport_id", "decision.session_id", "decision_used",
    *_REKORDBOX,
    *(f"beatport.{name}" for name in _BEATPORT), *(f"final.{name}" for name in _BEATPORT),
)
CANDIDATE_COLUMNS = (
    "playlist", "position", "rekordbox.track_id", "rank", "score",
    *(f"{name}_similarity" for name in WEIGHTS), "vetoes", "lost_because", "found_by",
    *(f"beatport.{name}" for name in _BEATPORT),
)
QUERY_COLUMNS = (
    "playlist", "position", "rekordbox.track_id", "number", "type", "text", "elapsed_ms",
    "network_ms", "parse_ms", "throttle_wait_ms", "candidate_count", "from_cache", "attempts",
    "http_status", "rate_limited", "error",
)


def result_row(track: Row) -> list[Any]:
    """One shaped track (`queries.track_shape`) as a results.csv row, in RESULT_COLUMNS'
    order: lists joined with ", ", an absent track's fields empty."""
    decision = track["decision"] or {}
    return [
        *(track[name] for name in RESULT_COLUMNS[:13]),
        *(decision.get(name, "") for name in ("state", "beatport_id", "session_id")),
        track["decision_used"],
        *_flat(track["rekordbox"], RekordboxTrack.__slots__),
        *_flat(track["beatport"], _BEATPORT), *_flat(track["final"], _BEATPORT),
    ]


def _flat(values: Row | None, names: tuple[str, ...]) -> list[Any]:
    if values is None:
        return [""] * len(names)
    return [", ".join(value) if isinstance(value := values[name], list) else value
            for name in names]


def results_csv(tracks: Iterable[Row]) -> bytes:
    """results.csv from shaped tracks, as bytes (the "csv" report)."""
    out = io.StringIO()
    _write_rows(out, RESULT_COLUMNS, (result_row(track) for track in tracks))
    return out.getvalue().encode("utf-8-sig")


def _results(db: SqliteDatabase, session_id: int) -> Iterator[list[Any]]:
    return (result_row(track) for track in queries.all_tracks(db, session_id))


_SIMILARITIES = tuple(WEIGHTS)


def _candidates(db: SqliteDatabase, session_id: int) -> Iterator[list[Any]]:
    """candidates.csv's rows as lists in CANDIDATE_COLUMNS' order (40,000 rows for a long
    session: no dict per row). The tracks and their candidates are read side by side, both
    in track order, so each track's packed value is read and unpacked once, not once per
    candidate."""
    blank = [""] * (len(CANDIDATE_COLUMNS) - 4)
    tracks = _batches(db.execute_sql(
        "SELECT id, playlist, position, rb_track_id, packed_candidates FROM track_results "
        "WHERE session_id = ? ORDER BY id", (session_id,)))
    track_id = -1
    playlist = position = rb_track_id = None
    pack = Pack(None)
    for of_track, rank, bp_id in _batches(db.execute_sql(
            "SELECT c.track_result_id, c.rank, c.bp_id FROM candidates c "
            "JOIN track_results t ON t.id = c.track_result_id "
            "WHERE t.session_id = ? ORDER BY c.track_result_id, c.rank", (session_id,))):
        # A track's candidates come together, tracks in id order: move on to its track.
        while track_id < of_track and (row := next(tracks, None)) is not None:
            track_id, playlist, position, rb_track_id, packed = row
            if track_id == of_track:
                pack = Pack(packed)
        if track_id != of_track:
            continue  # a track the other read did not see (stored between the two)
        found = pack.table_cells(rank, bp_id, _SIMILARITIES)
        yield [playlist, position, rb_track_id, rank, *(blank if found is None else found)]


def _batches(cursor: Any) -> Iterator[tuple[Any, ...]]:
    """A cursor's rows, fetched a few hundred at a time."""
    while batch := cursor.fetchmany(500):
        yield from batch


def _queries(db: SqliteDatabase, session_id: int) -> Iterator[Row]:
    for row in _stream(db, "SELECT q.*, t.playlist, t.position, t.rb_track_id "
                           "FROM queries q JOIN track_results t ON t.id = q.track_result_id "
                           "WHERE q.session_id = ? ORDER BY t.id, q.number", (session_id,)):
        row["rekordbox.track_id"] = row["rb_track_id"]
        yield row


def _stream(db: SqliteDatabase, sql: str, params: tuple[Any, ...]) -> Iterator[Row]:
    """The rows of `sql` as dicts, a few hundred at a time."""
    cursor = db.execute_sql(sql, params)
    names = [column[0] for column in cursor.description]
    for values in _batches(cursor):
        yield dict(zip(names, values, strict=True))


Table = tuple[tuple[str, ...],
              Callable[[SqliteDatabase, int], Iterator[Row] | Iterator[list[Any]]]]
TABLES: dict[str, Table] = {
    "results.csv": (RESULT_COLUMNS, _results),
    "candidates.csv": (CANDIDATE_COLUMNS, _candidates),
    "queries.csv": (QUERY_COLUMNS, _queries),
}


@reads
def write_tables(db: SqliteDatabase, session_id: int, folder: Path, *,
                 tracks: Iterable[Row] | None = None) -> list[Path]:
    """results.csv, candidates.csv and queries.csv of a session in `folder`; their paths.
    `tracks`: the session's shaped tracks when already read (a report's), else read here."""
    queries.session_overview(db, session_id)  # NotFoundError for an unknown session
    written = []
    for name, (columns, rows) in TABLES.items():
        path = Path(folder) / name
        content = (result_row(track) for track in tracks) \
            if tracks is not None and name == "results.csv" else rows(db, session_id)
        with whole_file(path, "w", newline="", encoding="utf-8") as handle:
            # utf-8-sig's mark, written once: that codec is Python code run for each row
            # (a tenth of candidates.csv's time), UTF-8's is the interpreter's own.
            handle.write(_BYTE_ORDER_MARK)
            _write_rows(handle, columns, content)
        written.append(path)
    return written


def _write_rows(handle: Any, columns: tuple[str, ...],
                rows: Iterable[Row] | Iterable[list[Any]]) -> None:
    """The header, then each row's cells in column order ("" for a missing one; a list is
    already in that order), each `spreadsheet_safe`: a DictWriter's work without its
    per-cell generator."""
    writer = csv.writer(handle, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(_safe_cells(row if isinstance(row, list)
                                 else [row.get(name, "") for name in columns]) for row in rows)


def _safe_cells(cells: list[Any]) -> list[Any]:
    """`spreadsheet_safe` for each cell, called only for text that needs it."""
    return [spreadsheet_safe(cell) if cell.__class__ is str and cell[:1] in FORMULA_FIRST
            else cell for cell in cells]
