"""What the dashboard and the reports read from the history: plain dicts and lists.

Each function takes the history handle the app opened (`database.open_history`), or a
file's path opened for that call alone (`database.reads`), runs a fixed number of indexed
queries whatever the session's size (no query per row), and returns JSON-ready values.

`set_review` WRITES, outside the writer thread: the DJ's review decision, from the
dashboard's request thread. WAL and busy_timeout let it wait for the writer's transaction
instead of failing; it touches only the review columns, which the writer never writes.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from peewee import SqliteDatabase

from cuepoint_tray.domain import BeatportTrack
from cuepoint_tray.store.database import reads
from cuepoint_tray.store.migrations import HistoryError
from cuepoint_tray.store.models import (
    REVIEW_STATES,
    SESSION_STATUSES,
    rekordbox_from,
)
from cuepoint_tray.store.packing import Pack

Row = dict[str, Any]

_LIST_COLUMNS = ("id, started_at, ended_at, status, reason, playlists, xml_path, provider, "
                 "app_version, tracks, done, matched, review, unmatched, errors, queries, "
                 "requests, cache_hits, retries, rate_limited, wall_ms, report_path")
_ORDERS = {
    "started_at": "started_at",
    "tracks": "tracks",
    "wall_ms": "wall_ms",
    "errors": "errors",
    "match_rate": "CAST(matched AS REAL) / max(done, 1)",
    "ms_per_track": "wall_ms / max(done, 1)",
}

class NotFoundError(HistoryError):
    """The session or track asked for is not in the history."""


def _rows(db: SqliteDatabase, sql: str, params: Sequence[Any] = ()) -> list[Row]:
    cursor = db.execute_sql(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def _one(db: SqliteDatabase, sql: str, params: Sequence[Any], what: str) -> Row:
    found = _rows(db, sql, params)
    if not found:
        raise NotFoundError(f"There is no {what} in the history.")
    return found[0]


def _ratio(part: float, whole: float, digits: int = 4) -> float:
    return round(part / whole, digits) if whole else 0.0


def _session_out(row: Row) -> Row:
    """A sessions row with its JSON decoded and the rates the dashboard shows."""
    row = dict(row)
    for name in ("playlists", "settings", "playlist_tracks"):
        if isinstance(row.get(name), str):
            row[name] = json.loads(row[name])
    done = row["done"]
    row["match_rate"] = _ratio(row["matched"], done)
    row["cache_hit_rate"] = _ratio(row["cache_hits"], row["queries"])
    row["ms_per_track"] = round(row["wall_ms"] / done, 1) if done else 0.0
    row["requests_per_track"] = _ratio(row["requests"], done, 3)
    row["progress"] = _ratio(done, row["tracks"])
    return row


# --- one track's shape, for every output ----------------------------------------------

def track_shape(row: Row, candidates: dict[int, Row]) -> Row:
    """One track_results row as every output names it: the API, the reports, the CSVs and
    the web pages. The Rekordbox fields under "rekordbox", the Beatport track the app chose
    under "beatport", what will be written once the DJ's review is applied under "final",
    each with the domain's own field names (`RekordboxTrack`, `BeatportTrack`).

    `candidates` holds the candidate rows the review may point at, by candidates.id, each
    with its track's packed_candidates (`_candidates_by_id`)."""
    pack = Pack(row["packed_candidates"])
    return {
        "id": row["id"], "session_id": row["session_id"], "playlist": row["playlist"],
        "position": row["position"], "status": row["status"],
        "confidence": row["confidence"], "score": row["score"],
        "review_state": row["review_state"], "reviewed_at": row["reviewed_at"],
        "review_candidate_id": row["review_candidate_id"],
        "chosen_candidate_id": row["chosen_candidate_id"],
        "reason": row["reason"], "error": row["error"], "elapsed_ms": row["elapsed_ms"],
        "query_count": row["queries"], "candidate_count": row["candidates"],
        "early_exit_at": row["early_exit_at"], "breakdown": pack.breakdown(),
        "rekordbox": dict_of(rekordbox_from(row)),
        "beatport": dict_of(pack.match(row["bp_id"])),
        "final": dict_of(_final_choice(row, pack, candidates)),
    }


def candidate_shape(row: Row, pack: Pack | None = None) -> Row:
    """One candidate: its Beatport track under "beatport", as a track's, and how it scored.

    `pack`: its track's packed candidates, when already unpacked; else read from the row's
    packed_candidates (`_candidates_by_id`)."""
    pack = pack or Pack(row["packed_candidates"])
    score = pack.score(row["rank"])
    return {"id": row["id"], "rank": row["rank"], "score": score["score"],
            "components": score["components"], "vetoes": score["vetoes"],
            "lost_because": score["lost_because"], "found_by": score["found_by"],
            "beatport": dict_of(pack.beatport(row["rank"], row["bp_id"]))}


def _shaped(db: SqliteDatabase, rows: list[Row]) -> list[Row]:
    """Tracks shaped, with the candidates their reviews point at read in one go."""
    wanted = [row[name] for row in rows for name in ("review_candidate_id", "chosen_candidate_id")
              if row[name] is not None]
    candidates = _candidates_by_id(db, wanted)
    return [track_shape(row, candidates) for row in rows]


# --- sessions ------------------------------------------------------------------------

@reads
def list_sessions(db: SqliteDatabase, limit: int = 50, offset: int = 0,
                  status: str | None = None, search: str | None = None,
                  order_by: str = "-started_at") -> Row:
    """A page of sessions with their totals: {"total": n, "sessions": [...]}.

    `order_by` is one of started_at, tracks, wall_ms, errors, match_rate, ms_per_track,
    with a leading "-" for descending; `search` looks in playlists, XML path and reason.
    """
    where, params = _session_filter(status, search)
    total = db.execute_sql(f"SELECT count(*) FROM sessions {where}", params).fetchone()[0]
    rows = _rows(db, f"SELECT {_LIST_COLUMNS} FROM sessions {where} "
                     f"ORDER BY {_order_clause(order_by)} LIMIT ? OFFSET ?",
                 [*params, limit, offset])
    return {"total": total, "limit": limit, "offset": offset,
            "sessions": [_session_out(row) for row in rows]}


def _session_filter(status: str | None, search: str | None) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if status:
        if status not in SESSION_STATUSES:
            raise HistoryError(f"Unknown session status '{status}'.")
        clauses.append("status = ?")
        params.append(status)
    if search:
        pattern = _like(search)
        clauses.append("(playlists LIKE ? ESCAPE '\\' OR xml_path LIKE ? ESCAPE '\\' "
                       "OR reason LIKE ? ESCAPE '\\')")
        params += [pattern] * 3
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), params


def _order_clause(order_by: str) -> str:
    name = order_by.lstrip("-")
    if name not in _ORDERS:
        raise HistoryError(f"Sessions cannot be ordered by '{order_by}'.")
    direction = "DESC" if order_by.startswith("-") else "ASC"
    return f"{_ORDERS[name]} {direction}, id {direction}"


@reads
def session_overview(db: SqliteDatabase, session_id: int) -> Row:
    """One session: its row, rates, confidence and review counts, query costs, last errors."""
    session = _session_out(_one(db, "SELECT * FROM sessions WHERE id = ?", (session_id,),
                                f"session {session_id}"))
    counts = _rows(db, "SELECT confidence, review_state, status, count(*) AS n, "
                       "sum(early_exit_at IS NOT NULL) AS early, sum(elapsed_ms) AS ms "
                       "FROM track_results WHERE session_id = ? "
                       "GROUP BY confidence, review_state, status", (session_id,))
    session["by_confidence"] = _count_by(counts, "confidence")
    session["by_review_state"] = _count_by(counts, "review_state")
    session["early_exits"] = sum(row["early"] for row in counts)
    session["avg_track_ms"] = round(sum(row["ms"] for row in counts) / session["done"], 1) \
        if session["done"] else 0.0
    session["query_costs"] = _query_costs(db, session_id)
    session["recent_errors"] = _rows(
        db, 'SELECT at, "where", message FROM errors WHERE session_id = ? '
            "ORDER BY at DESC LIMIT 20", (session_id,))
    return session


def _count_by(rows: Iterable[Row], key: str) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for row in rows:
        counts[row[key]] += row["n"]
    return dict(counts)


def _query_costs(db: SqliteDatabase, session_id: int) -> Row:
    row = _rows(db, "SELECT count(*) AS queries, avg(elapsed_ms) AS avg_ms, "
                    "avg(CASE WHEN from_cache = 0 THEN network_ms END) AS avg_network_ms, "
                    "avg(parse_ms) AS avg_parse_ms, sum(throttle_wait_ms) AS throttle_ms "
                    "FROM queries WHERE session_id = ?", (session_id,))[0]
    return {name: round(value or 0.0, 1) for name, value in row.items()}


@reads
def query_stats_by_type(db: SqliteDatabase, session_id: int) -> list[Row]:
    """Per query type: count, avg and p95 time, avg candidates, cache hit rate, errors."""
    rows = db.execute_sql(
        "SELECT type, elapsed_ms, network_ms, candidate_count, from_cache, error != '', "
        "rate_limited FROM queries WHERE session_id = ? ORDER BY type", (session_id,)).fetchall()
    by_type: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        by_type.setdefault(row[0], []).append(row)
    stats = [_type_stats(name, group) for name, group in by_type.items()]
    return sorted(stats, key=lambda s: (-s["count"], s["type"]))


def _type_stats(name: str, rows: list[tuple[Any, ...]]) -> Row:
    count = len(rows)
    elapsed = sorted(row[1] for row in rows)
    asked = [row[4] for row in rows if row[4] is not None]
    return {
        "type": name, "count": count,
        "avg_ms": round(sum(elapsed) / count, 1),
        "p95_ms": round(percentile(elapsed, 95), 1),
        "avg_network_ms": round(sum(row[2] for row in rows) / count, 1),
        "avg_candidates": round(sum(row[3] for row in rows) / count, 2),
        "cache_hit_rate": _ratio(sum(asked), len(asked)),
        "errors": sum(row[5] for row in rows),
        "rate_limited": sum(row[6] for row in rows),
    }


def percentile(ordered: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile of values already sorted; 0 for none."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return float(ordered[rank - 1])


@reads
def slowest_tracks(db: SqliteDatabase, session_id: int, limit: int = 10) -> list[Row]:
    """The tracks that took longest to match, slowest first."""
    rows = _rows(db, "SELECT t.* FROM track_results t "
                     "WHERE t.session_id = ? ORDER BY t.elapsed_ms DESC LIMIT ?",
                 (session_id, limit))
    return _shaped(db, rows)


_TRACK_FILTERS = {
    "status": "t.status = ?",
    "confidence": "t.confidence = ?",
    "review_state": "t.review_state = ?",
}


@reads
def session_tracks(db: SqliteDatabase, session_id: int, *, limit: int = 500,
                   offset: int = 0, search: str | None = None,
                   **filters: str | None) -> Row:
    """A page of a session's tracks in playlist order: {"total": n, "tracks": [...]}.

    `filters` take status, confidence and review_state; `search` looks in the Rekordbox
    name and artist and the Beatport title.
    """
    clauses: list[str] = ["t.session_id = ?"]
    params: list[Any] = [session_id]
    for name, value in filters.items():
        if name not in _TRACK_FILTERS:
            raise HistoryError(f"Tracks cannot be filtered by '{name}'.")
        if value:
            clauses.append(_TRACK_FILTERS[name])
            params.append(value)
    if search:
        clauses.append("(t.rb_name LIKE ? ESCAPE '\\' OR t.rb_artist LIKE ? ESCAPE '\\' "
                       "OR t.bp_title LIKE ? ESCAPE '\\')")
        params += [_like(search)] * 3
    where = " AND ".join(clauses)
    total = db.execute_sql(f"SELECT count(*) FROM track_results t WHERE {where}",
                           params).fetchone()[0]
    rows = _rows(db, f"SELECT t.* FROM track_results t "
                     f"WHERE {where} ORDER BY t.playlist, t.position LIMIT ? OFFSET ?",
                 [*params, limit, offset])
    return {"total": total, "limit": limit, "offset": offset, "tracks": _shaped(db, rows)}


def _like(text: str) -> str:
    """A LIKE pattern finding `text` anywhere, its wildcards taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# --- tips ------------------------------------------------------------------------------

TIP_THRESHOLDS = {
    "rerun_cache_hit_rate": 0.5,  # below this on a rerun, the cache did not help
    "rate_limited_share": 0.02,  # of queries meeting a 429
    "avg_network_ms": 1500.0,
    "multi_query_share": 0.4,  # of tracks needing more than one query
    "unmatched_no_artist": 3,  # and at least a quarter of the unmatched tracks
}


@reads
def tips(db: SqliteDatabase, session_id: int) -> list[Row]:
    """Advice for the DJ, each with the figure that triggered it."""
    session = _session_out(_one(db, "SELECT * FROM sessions WHERE id = ?", (session_id,),
                                f"session {session_id}"))
    facts = _tip_facts(db, session)
    found = [tip for rule in _RULES if (tip := rule(session, facts)) is not None]
    return found


def _tip_facts(db: SqliteDatabase, session: Row) -> Row:
    session_id = session["id"]
    tracks = _rows(db, "SELECT sum(queries > 1) AS multi, "
                       "sum(status = 'unmatched' AND rb_artist = '') AS no_artist "
                       "FROM track_results WHERE session_id = ?", (session_id,))[0]
    network = db.execute_sql("SELECT avg(network_ms) FROM queries "
                             "WHERE session_id = ? AND from_cache = 0", (session_id,)).fetchone()
    earlier = db.execute_sql("SELECT id FROM sessions WHERE playlists = ? AND started_at < ? "
                             "ORDER BY started_at DESC LIMIT 1",
                             (json.dumps(session["playlists"], separators=(",", ":")),
                              session["started_at"])).fetchone()
    return {"multi": tracks["multi"] or 0, "no_artist": tracks["no_artist"] or 0,
            "avg_network_ms": network[0] or 0.0, "earlier": earlier[0] if earlier else None}


def _tip(rule: str, message: str, figure: float, threshold: float) -> Row:
    return {"rule": rule, "message": message, "figure": figure, "threshold": threshold}


def _tip_cache(session: Row, facts: Row) -> Row | None:
    limit = TIP_THRESHOLDS["rerun_cache_hit_rate"]
    rate = session["cache_hit_rate"]
    if facts["earlier"] is None or not session["queries"] or rate >= limit:
        return None
    return _tip("cache", f"Only {rate:.0%} of queries came from the cache, though these "
                f"playlists were matched before (session {facts['earlier']}): the cache may "
                "have expired; raise cache_expiry_days to reuse Beatport's answers longer.",
                rate, limit)


def _tip_rate_limited(session: Row, facts: Row) -> Row | None:
    limit = TIP_THRESHOLDS["rate_limited_share"]
    share = _ratio(session["rate_limited"], session["queries"])
    if share < limit or not session["rate_limited"]:
        return None
    now = session.get("settings", {}).get("requests_per_second", "?")
    return _tip("rate_limited", f"{session['rate_limited']} queries ({share:.0%}) met "
                f"'429 Too Many Requests': lower requests_per_second (now {now}).", share, limit)


def _tip_network(session: Row, facts: Row) -> Row | None:
    limit = TIP_THRESHOLDS["avg_network_ms"]
    average = round(facts["avg_network_ms"], 1)
    if average < limit:
        return None
    return _tip("network", f"Beatport took {average / 1000:.1f} s per request on average: "
                "the network (or Beatport) is slow; try again later or on another "
                "connection.", average, limit)


def _tip_tags(session: Row, facts: Row) -> Row | None:
    limit = TIP_THRESHOLDS["multi_query_share"]
    share = _ratio(facts["multi"], session["done"])
    if share < limit:
        return None
    return _tip("tags", f"{share:.0%} of tracks needed more than one query: fixing their "
                "Artist, Title and Mix tags in Rekordbox makes the first query find them.",
                share, limit)


def _tip_file_names(session: Row, facts: Row) -> Row | None:
    limit = TIP_THRESHOLDS["unmatched_no_artist"]
    count = facts["no_artist"]
    if count < limit or count * 4 < session["unmatched"]:
        return None
    return _tip("file_names", f"{count} unmatched tracks have no Artist: their names look "
                "like file names ('Artist - Title'); split them into Artist and Title in "
                "Rekordbox.", count, limit)


def _tip_errors(session: Row, facts: Row) -> Row | None:
    if not session["errors"]:
        return None
    return _tip("errors", f"{session['errors']} tracks could not be searched: check the "
                "internet connection (and the Beatport token), then resume the session.",
                session["errors"], 1)


_RULES = (_tip_cache, _tip_rate_limited, _tip_network, _tip_tags, _tip_file_names,
          _tip_errors)


# --- across sessions -----------------------------------------------------------------

@reads
def trends(db: SqliteDatabase, limit: int = 50) -> list[Row]:
    """The last `limit` sessions that matched tracks, oldest first, with their rates."""
    rows = _rows(db, "SELECT id, started_at, status, tracks, done, matched, queries, "
                     "requests, cache_hits, wall_ms FROM sessions WHERE done > 0 "
                     "ORDER BY started_at DESC LIMIT ?", (limit,))
    return [{"id": row["id"], "started_at": row["started_at"], "status": row["status"],
             "tracks": row["done"], "match_rate": _ratio(row["matched"], row["done"]),
             "ms_per_track": round(row["wall_ms"] / row["done"], 1),
             "requests_per_track": _ratio(row["requests"], row["done"], 3),
             "cache_hit_rate": _ratio(row["cache_hits"], row["queries"])}
            for row in reversed(rows)]


_COMPARED = ("tracks", "done", "matched", "review", "unmatched", "errors", "queries",
             "requests", "cache_hits", "rate_limited", "wall_ms", "match_rate",
             "cache_hit_rate", "ms_per_track", "requests_per_track")


@reads
def compare_sessions(db: SqliteDatabase, a: int, b: int) -> Row:
    """Two sessions side by side, and the tracks whose outcome differs between them.

    Tracks are paired by Rekordbox track id and playlist.
    """
    first, second = (_session_out(_one(db, f"SELECT {_LIST_COLUMNS} FROM sessions WHERE id = ?",
                                       (sid,), f"session {sid}")) for sid in (a, b))
    metrics = [{"name": name, "a": first[name], "b": second[name],
                "delta": round(second[name] - first[name], 4)} for name in _COMPARED]
    differences = _track_differences(_compared_tracks(db, a), _compared_tracks(db, b))
    return {"a": first, "b": second, "metrics": metrics, "tracks": differences,
            "changes": dict(Counter(d["change"] for d in differences))}


def _compared_tracks(db: SqliteDatabase, session_id: int) -> dict[tuple[str, str], Row]:
    rows = _rows(db, "SELECT * FROM track_results WHERE session_id = ? "
                     "ORDER BY playlist, position", (session_id,))
    paired: dict[tuple[str, str], Row] = {}
    for track in _shaped(db, rows):
        paired.setdefault((track["rekordbox"]["track_id"], track["playlist"]), track)
    return paired


def _track_differences(first: dict[tuple[str, str], Row],
                       second: dict[tuple[str, str], Row]) -> list[Row]:
    found = []
    for key in [*first, *(k for k in second if k not in first)]:
        change = _change(first.get(key), second.get(key))
        if change:
            some = first.get(key) or second[key]
            found.append({"playlist": key[1], "rekordbox": some["rekordbox"],
                          "change": change, "a": first.get(key), "b": second.get(key)})
    return found


def _change(a: Row | None, b: Row | None) -> str:
    if a is None or b is None:
        return "only_in_a" if b is None else "only_in_b"
    a_matched, b_matched = a["status"] == "matched", b["status"] == "matched"
    if a_matched != b_matched:
        return "matched_in_a_only" if a_matched else "matched_in_b_only"
    if a_matched and (a["beatport"] or {}).get("id") != (b["beatport"] or {}).get("id"):
        return "different_track"
    if a["confidence"] != b["confidence"]:
        return "confidence_changed"
    return ""


# --- one track, the review queue -----------------------------------------------------

@reads
def track_detail(db: SqliteDatabase, track_result_id: int) -> Row:
    """One track: the Rekordbox fields, the Beatport track chosen, candidates and queries."""
    row = _one(db, "SELECT * FROM track_results WHERE id = ?", (track_result_id,),
               f"track result {track_result_id}")
    candidates = _rows(db, "SELECT * FROM candidates WHERE track_result_id = ? ORDER BY rank",
                       (track_result_id,))
    queries = _rows(db, "SELECT * FROM queries WHERE track_result_id = ? ORDER BY number",
                    (track_result_id,))
    for candidate in candidates:
        candidate["packed_candidates"] = row["packed_candidates"]
    pack = Pack(row["packed_candidates"])
    return {"track": track_shape(row, {c["id"]: c for c in candidates}),
            "candidates": [candidate_shape(c, pack) for c in candidates], "queries": queries}


def dict_of(value: Any) -> Row | None:
    if value is None:
        return None
    return {name: (list(v) if isinstance(v := getattr(value, name), tuple) else v)
            for name in value.__slots__}


def _final_choice(row: Row, pack: Pack, candidates: dict[int, Row]) -> BeatportTrack | None:
    """The Beatport track to export for this row once the DJ's review is applied; `pack`
    is the row's packed candidates, unpacked."""
    state = row["review_state"]
    if state == "rejected":
        return None
    if state == "changed" and row["chosen_candidate_id"] in candidates:
        return _candidate_track(pack, candidates[row["chosen_candidate_id"]])
    if state == "accepted" and row["bp_id"] is None and row["review_candidate_id"] in candidates:
        return _candidate_track(pack, candidates[row["review_candidate_id"]])
    return pack.match(row["bp_id"])


def _candidate_track(pack: Pack, candidate: Row) -> BeatportTrack | None:
    return pack.beatport(candidate["rank"], candidate["bp_id"])


@reads
def review_queue(db: SqliteDatabase, session_id: int, *,
                 pending_only: bool = False) -> list[Row]:
    """Tracks waiting for the DJ (status review) and those already reviewed, in order; each
    with the candidate offered for review, if any, under "review_candidate"."""
    pending = "AND t.review_state = 'auto'" if pending_only else ""
    rows = _rows(db, "SELECT t.* FROM track_results t "
                     "WHERE t.session_id = ? AND (t.status = 'review' OR t.review_state != 'auto') "
                     f"{pending} ORDER BY t.playlist, t.position", (session_id,))
    offered = _candidates_by_id(db, [row["review_candidate_id"] for row in rows
                                     if row["review_candidate_id"] is not None])
    tracks = _shaped(db, rows)
    for track in tracks:
        candidate = offered.get(track["review_candidate_id"])
        track["review_candidate"] = candidate_shape(candidate) if candidate else None
    return tracks


@reads
def set_review(db: SqliteDatabase, track_result_id: int, state: str,
               beatport_candidate_id: int | None = None) -> Row:
    """Record the DJ's decision: auto (undo), accepted, rejected, or changed to a candidate.

    `beatport_candidate_id` is the Beatport track id of one of this track's candidates; it is
    required for "changed". Returns the track's review fields as stored.
    """
    if state not in REVIEW_STATES:
        raise HistoryError(f"Unknown review state '{state}'.")
    if (state == "changed") != (beatport_candidate_id is not None):
        raise HistoryError("A Beatport candidate is needed for 'changed', and only for it.")
    with db.atomic("IMMEDIATE"):
        _one(db, "SELECT id FROM track_results WHERE id = ?", (track_result_id,),
             f"track result {track_result_id}")
        chosen = _candidate_row_id(db, track_result_id, beatport_candidate_id)
        reviewed_at = None if state == "auto" else time.time()
        db.execute_sql("UPDATE track_results SET review_state = ?, reviewed_at = ?, "
                       "chosen_candidate_id = ? WHERE id = ?",
                       (state, reviewed_at, chosen, track_result_id))
    return {"id": track_result_id, "review_state": state, "reviewed_at": reviewed_at,
            "chosen_candidate_id": chosen}


def _candidate_row_id(db: SqliteDatabase, track_result_id: int,
                      beatport_id: int | None) -> int | None:
    if beatport_id is None:
        return None
    found = db.execute_sql("SELECT id FROM candidates WHERE track_result_id = ? AND bp_id = ? "
                           "ORDER BY rank LIMIT 1", (track_result_id, beatport_id)).fetchone()
    if found is None:
        raise NotFoundError(f"Beatport track {beatport_id} is not among the candidates of "
                            f"track result {track_result_id}.")
    return int(found[0])


@reads
def final_matches(db: SqliteDatabase, session_id: int) -> list[Row]:
    """Every track of a session in playlist order, with the Beatport track to export.

    The DJ's review decides: accepted, rejected or changed override what the app chose.
    Values under "rekordbox" and "final" (as in `track_shape`) are domain objects, for exports.
    """
    rows = _in_playlist_order(db, session_id)
    wanted = [row[name] for row in rows for name in ("review_candidate_id", "chosen_candidate_id")
              if row[name] is not None]
    candidates = _candidates_by_id(db, wanted)
    return [{"id": row["id"], "playlist": row["playlist"], "position": row["position"],
             "status": row["status"], "confidence": row["confidence"],
             "review_state": row["review_state"], "rekordbox": rekordbox_from(row),
             "final": _final_choice(row, Pack(row["packed_candidates"]), candidates)}
            for row in rows]


@reads
def all_tracks(db: SqliteDatabase, session_id: int) -> list[Row]:
    """Every track of a session in playlist order, shaped as `track_shape` shapes one."""
    return _shaped(db, _in_playlist_order(db, session_id))


def _in_playlist_order(db: SqliteDatabase, session_id: int) -> list[Row]:
    session = _one(db, "SELECT playlists FROM sessions WHERE id = ?", (session_id,),
                   f"session {session_id}")
    order = {path: index for index, path in enumerate(json.loads(session["playlists"]))}
    return sorted(_rows(db, "SELECT * FROM track_results WHERE session_id = ?", (session_id,)),
                  key=lambda row: (order.get(row["playlist"], len(order)), row["playlist"],
                                   row["position"]))


def _candidates_by_id(db: SqliteDatabase, ids: list[int]) -> dict[int, Row]:
    found: dict[int, Row] = {}
    for start in range(0, len(ids), 500):  # SQLite caps the number of bound parameters
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for row in _rows(db, "SELECT c.*, t.packed_candidates FROM candidates c "
                             "JOIN track_results t ON t.id = c.track_result_id "
                             f"WHERE c.id IN ({marks})", chunk):
            found[row["id"]] = row
    return found
