"""Migration 5: a history's candidates packed, without losing a value.

Before version 5 each candidate was a row of some thirty columns (its Beatport track, its
score and eight components as JSON text) and each track row carried its Beatport track and
its breakdown again: 12.8 KB per track. Here each track's candidates, read in rank order,
are packed into `track_results.packed_candidates` (`packing.py`), every value is read back
and compared with what was stored (the migration fails, and its transaction rolls back,
rather than lose one), and the columns go.

Frozen with version 5: later schema changes are later steps, not edits here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from peewee import SqliteDatabase

from cuepoint_tray.changes import fills_sql
from cuepoint_tray.domain import BeatportTrack, Candidate, Component
from cuepoint_tray.store.migrations import HistoryError
from cuepoint_tray.store.packing import Pack, pack_candidates

_BEATPORT = tuple(BeatportTrack.__slots__)
_MOVED = tuple(f"bp_{name}" for name in _BEATPORT if name not in ("id", "title"))
_BATCH = 500


def compact_candidates(db: SqliteDatabase) -> None:
    """Pack every track's candidates, then drop the columns they were kept in."""
    db.execute_sql("ALTER TABLE track_results ADD COLUMN packed_candidates BLOB")
    updates: list[tuple[bytes | None, int]] = []
    for track, candidates in _tracks_with_candidates(db):
        updates.append((_packed(track, candidates), track["id"]))
        if len(updates) >= _BATCH:
            _store(db, updates)
            updates = []
    _store(db, updates)
    db.execute_sql("""CREATE TABLE candidates_v5 (
        id INTEGER NOT NULL PRIMARY KEY,
        track_result_id INTEGER NOT NULL REFERENCES track_results (id) ON DELETE CASCADE,
        rank INTEGER NOT NULL, bp_id INTEGER NOT NULL)""")
    db.execute_sql("INSERT INTO candidates_v5 (id, track_result_id, rank, bp_id) "
                   "SELECT id, track_result_id, rank, bp_id FROM candidates")
    db.execute_sql("DROP TABLE candidates")
    db.execute_sql("ALTER TABLE candidates_v5 RENAME TO candidates")
    db.execute_sql("CREATE INDEX candidates_track_result_id_rank "
                   "ON candidates (track_result_id, rank)")
    # Whether exporting the app's own match changes a field (default options), worked out
    # while its Beatport fields are still columns: the session's "will change" count.
    db.execute_sql("ALTER TABLE track_results ADD COLUMN fills_fields INTEGER NOT NULL "
                   "DEFAULT 0")
    db.execute_sql("UPDATE track_results SET fills_fields = "
                   f"(bp_id IS NOT NULL AND {fills_sql('rb_', 'bp_')})")
    for column in ("breakdown", *_MOVED):
        db.execute_sql(f"ALTER TABLE track_results DROP COLUMN {column}")
    db.execute_sql("ALTER TABLE queries RENAME COLUMN candidates TO candidate_count")


def _store(db: SqliteDatabase, updates: list[tuple[bytes | None, int]]) -> None:
    if updates:
        db.cursor().executemany(
            "UPDATE track_results SET packed_candidates = ? WHERE id = ?", updates)


def _rows(db: SqliteDatabase, sql: str) -> Iterator[dict[str, Any]]:
    cursor = db.cursor()
    cursor.execute(sql)
    names = [column[0] for column in cursor.description]
    while batch := cursor.fetchmany(_BATCH):
        for values in batch:
            yield dict(zip(names, values, strict=True))


def _tracks_with_candidates(db: SqliteDatabase
                            ) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each track row (in id order) with its candidate rows (in rank order)."""
    candidates = _rows(db, "SELECT * FROM candidates ORDER BY track_result_id, rank, id")
    pending = next(candidates, None)
    for track in _rows(db, "SELECT * FROM track_results ORDER BY id"):
        own = []
        while pending is not None and pending["track_result_id"] <= track["id"]:
            if pending["track_result_id"] == track["id"]:
                own.append(pending)
            pending = next(candidates, None)
        yield track, own


def _old_beatport(row: dict[str, Any]) -> BeatportTrack | None:
    if row.get("bp_id") is None:
        return None
    values = {name: row["bp_" + name] for name in _BEATPORT}
    for name in ("artists", "remixers"):
        raw = values[name]
        values[name] = tuple(json.loads(raw) if isinstance(raw, str) else raw or ())
    return BeatportTrack(**values)


def _old_score(row: dict[str, Any]) -> dict[str, Any]:
    return {"score": row["score"], "components": json.loads(row["components"]),
            "vetoes": json.loads(row["vetoes"]), "lost_because": row["lost_because"],
            "found_by": row["found_by"]}


def _best_rank(track: dict[str, Any], candidates: list[dict[str, Any]]) -> int | None:
    """The rank the writer took the breakdown from: the match's, the doubtful one's, else 1."""
    for candidate in candidates:
        if track["bp_id"] is not None:
            if candidate["bp_id"] == track["bp_id"]:
                return int(candidate["rank"])
        elif track["review_candidate_id"] is not None:
            if candidate["id"] == track["review_candidate_id"]:
                return int(candidate["rank"])
        else:
            return int(candidate["rank"])
    return None


def _packed(track: dict[str, Any], candidates: list[dict[str, Any]]) -> bytes | None:
    kept = []
    for row in candidates:
        components = tuple(Component(**c) for c in json.loads(row["components"]))
        track_found = _old_beatport(row)
        assert track_found is not None  # candidates.bp_id is NOT NULL
        kept.append((int(row["rank"]), Candidate(
            track_found, row["score"], components, tuple(json.loads(row["vetoes"])),
            row["found_by"], int(row["rank"]), row["lost_because"])))
    match = _old_beatport(track)
    breakdown = json.loads(track["breakdown"]) if track["breakdown"] else []
    packed = pack_candidates(kept, _best_rank(track, candidates), match, breakdown=breakdown)
    _check(track, candidates, Pack(packed), match, breakdown)
    return packed


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, default=repr) == json.dumps(b, default=repr)  # NaN equals NaN


def _check(track: dict[str, Any], candidates: list[dict[str, Any]], pack: Pack,
           match: BeatportTrack | None, breakdown: list[Any]) -> None:
    """Every value packed reads back as stored, or the migration stops."""
    lost = [] if _same(pack.match(track["bp_id"]), match) else ["its Beatport track"]
    if not _same(pack.breakdown(), breakdown):
        lost.append("its breakdown")
    for row in candidates:
        if not (_same(pack.beatport(row["rank"], row["bp_id"]), _old_beatport(row))
                and _same(pack.score(row["rank"]), _old_score(row))):
            lost.append(f"candidate {row['id']}")
    if lost:
        raise HistoryError(f"The history's track {track['id']} could not be stored compactly "
                           f"without losing {', '.join(lost)}; it is left as it was.")
