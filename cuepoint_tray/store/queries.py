"""What the dashboard and the reports read from the history: plain dicts and lists.

Each function takes the history handle the app opened (`database.open_history`), or a
file's path opened for that call alone (`database.reads`), runs a fixed number of indexed
queries whatever the session's size (no query per row), and returns JSON-ready values.

`decide`, `decide_many`, `set_review` and `record_search` WRITE, outside the writer thread:
the DJ's decisions (the `decisions` table, which the writer never writes) and a manual
search (a query row of the track), from the dashboard's request thread or the CLI. WAL and
busy_timeout let them wait for the writer's transaction instead of failing.

A decision belongs to a Rekordbox track of a library (`sessions.xml_path`, `rb_track_id`),
not to one session's row: every session holding that track shows it, and every count of
tracks "to review" leaves it out at once.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from peewee import SqliteDatabase

from cuepoint_tray.changes import ExportOptions, field_changes, fills_sql
from cuepoint_tray.domain import BeatportTrack, RekordboxTrack
from cuepoint_tray.store.database import reads
from cuepoint_tray.store.migrations import HistoryError
from cuepoint_tray.store.models import (
    CANDIDATES_KEPT,
    DECISION_STATES,
    REVIEW_STATES,
    SESSION_STATUSES,
    beatport_columns,
    beatport_of_columns,
    rekordbox_from,
)
from cuepoint_tray.store.packing import Pack

Row = dict[str, Any]

_LIST_COLUMNS = ("id, started_at, ended_at, status, reason, playlists, xml_path, provider, "
                 "app_version, tracks, done, matched, review, unmatched, errors, queries, "
                 "requests, cache_hits, retries, rate_limited, wall_ms, wall_at, report_path")
_ORDERS = {
    "started_at": "started_at",
    "tracks": "tracks",
    "wall_ms": "wall_ms",
    "errors": "errors",
    "match_rate": "CAST(matched AS REAL) / max(done, 1)",
    "ms_per_track": "wall_ms / max(done, 1)",
}

DEFAULT_OPTIONS = ExportOptions()
# The track JSON's `review_state`, as it was named before decisions: by decision state.
_REVIEW_STATE_OF = {"accepted": "accepted", "rejected": "rejected", "picked": "changed"}
_DECISION_OF = {"auto": "undo", "changed": "picked", "accepted": "accepted",
                "rejected": "rejected"}
# A track row with the DJ's decision on its Rekordbox track, if any (alias d).
_WITH_DECISION = ("track_results t JOIN sessions s ON s.id = t.session_id "
                  "LEFT JOIN decisions d ON d.library = s.xml_path "
                  "AND d.rb_track_id = t.rb_track_id")


# Whether writing the track's final Beatport track with the default export options changes
# a field: for the app's own match it was worked out when the track was stored
# (track_results.fills_fields); for a decision, from its Beatport track here.
_WILL_CHANGE = ("(CASE WHEN d.id IS NULL THEN t.fills_fields "
                "ELSE d.state != 'rejected' AND d.bp_id IS NOT NULL AND "
                f"{fills_sql('t.rb_', 'd.bp_')} END)")


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

def track_shape(row: Row, candidates: dict[int, Row], decision: Row | None = None,
                options: ExportOptions = DEFAULT_OPTIONS) -> Row:
    """One track_results row as every output names it: the API, the reports, the CSVs and
    the web pages. The Rekordbox fields under "rekordbox", the Beatport track the app chose
    under "beatport", the one it offers (chosen or doubtful) under "proposal", what will be
    written once the DJ's decision is applied under "final", each with the domain's own
    field names (`RekordboxTrack`, `BeatportTrack`); "changes" says, field by field, what
    writing "final" with `options` changes in Rekordbox.

    `candidates` holds the candidate rows the row and its decision may point at, by
    candidates.id, each with its track's packed_candidates (`_candidates_by_id`); `decision`
    is the decisions row of its Rekordbox track, if any."""
    pack = Pack(row["packed_candidates"])
    rekordbox = dict_of(rekordbox_from(row))
    # The app's choice, read once: it is also the proposal, and what is written without a
    # decision (each its own dict: a caller may change one).
    beatport = pack.match_fields(row["bp_id"])
    if decision is None:
        final = None if beatport is None else dict(beatport)
    else:
        final = dict_of(_decided_track(decision))
    proposal = None if beatport is None else dict(beatport)
    if proposal is None and row["review_candidate_id"] in candidates:
        proposal = dict_of(_packed_track(pack, candidates[row["review_candidate_id"]]))
    assert rekordbox is not None
    return {
        "id": row["id"], "session_id": row["session_id"], "playlist": row["playlist"],
        "position": row["position"], "status": row["status"],
        "confidence": row["confidence"], "score": row["score"],
        "review_state": _REVIEW_STATE_OF[decision["state"]] if decision else "auto",
        "reviewed_at": decision["decided_at"] if decision else None,
        "review_candidate_id": row["review_candidate_id"],
        "chosen_candidate_id": _chosen_candidate(row, decision, candidates),
        "reason": row["reason"], "error": row["error"], "elapsed_ms": row["elapsed_ms"],
        "query_count": row["queries"], "candidate_count": row["candidates"],
        # Beatport's answers listed candidate_count tracks; the best ones are kept (and the
        # one offered wherever it ranked): "10 of 25 kept". track_detail counts them exactly.
        "candidates_kept": min(row["candidates"], CANDIDATES_KEPT),
        "early_exit_at": row["early_exit_at"], "breakdown": pack.breakdown(),
        "rekordbox": rekordbox,
        "beatport": beatport,
        "proposal": proposal,
        "final": final,
        "decision": _decision_out(decision, row),
        "decision_used": row.get("decision_used") or "",
        "needs_decision": row["status"] == "review" and decision is None,
        "changes": field_changes(rekordbox, final, options),
    }


def _decision_out(decision: Row | None, row: Row) -> Row | None:
    if decision is None:
        return None
    return {"state": decision["state"], "beatport_id": decision["bp_id"],
            "decided_at": decision["decided_at"], "session_id": decision["session_id"],
            "earlier": decision["session_id"] != row["session_id"],
            "beatport": dict_of(beatport_of_columns(decision))}


def _chosen_candidate(row: Row, decision: Row | None, candidates: dict[int, Row]) -> int | None:
    """The candidates.id of this row's candidate the DJ picked, when it is one of them."""
    if decision is None or decision["state"] != "picked":
        return None
    return next((c["id"] for c in candidates.values()
                 if c["track_result_id"] == row["id"] and c["bp_id"] == decision["bp_id"]),
                None)


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


def _shaped(db: SqliteDatabase, rows: list[Row],
            options: ExportOptions = DEFAULT_OPTIONS) -> list[Row]:
    """Tracks shaped, with their decisions and the candidates they point at read in one go."""
    decisions = _decisions_of(db, rows)
    picked = [row["id"] for row in rows
              if (found := decisions.get(row["id"])) and found["state"] == "picked"]
    candidates = _candidates_by_id(db, [row["review_candidate_id"] for row in rows
                                        if row["review_candidate_id"] is not None])
    candidates.update(_candidates_of_tracks(db, picked))
    return [track_shape(row, candidates, decisions.get(row["id"]), options) for row in rows]


def _decisions_of(db: SqliteDatabase, rows: list[Row]) -> dict[int, Row]:
    """The decision on each row's Rekordbox track, by track_results.id (rows without one are
    left out); a fixed number of queries whatever the number of rows."""
    libraries = _libraries(db, {row["session_id"] for row in rows})
    wanted: dict[str, set[str]] = {}
    for row in rows:
        wanted.setdefault(libraries.get(row["session_id"], ""), set()).add(row["rb_track_id"])
    found: dict[tuple[str, str], Row] = {}
    for library, track_ids in wanted.items():
        ids = sorted(track_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for stored in _rows(db, f"SELECT * FROM decisions WHERE library = ? "
                                    f"AND rb_track_id IN ({marks})", [library, *chunk]):
                found[(library, stored["rb_track_id"])] = stored
    return {row["id"]: decision for row in rows
            if (decision := found.get((libraries.get(row["session_id"], ""),
                                       row["rb_track_id"]))) is not None}


def _libraries(db: SqliteDatabase, session_ids: Iterable[int]) -> dict[int, str]:
    ids = list(session_ids)
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    return {row[0]: row[1] for row in db.execute_sql(
        f"SELECT id, xml_path FROM sessions WHERE id IN ({marks})", ids).fetchall()}


def _candidates_of_tracks(db: SqliteDatabase, track_ids: list[int]) -> dict[int, Row]:
    found: dict[int, Row] = {}
    for start in range(0, len(track_ids), 500):
        chunk = track_ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for row in _rows(db, f"SELECT * FROM candidates WHERE track_result_id IN ({marks})",
                         chunk):
            found[row["id"]] = row
    return found


# Review counts already computed, by (history file, session, the decisions' version, the
# session's figures that change whenever its tracks do): a list of finished sessions polled
# every few seconds reads them again only after a decision or a new track.
_COUNTED: dict[tuple[Any, ...], Row] = {}
_COUNTED_MAX = 20_000
_COUNTED_LOCK = threading.Lock()
_STAMP = ("id", "status", "tracks", "done", "matched", "review", "unmatched", "errors",
          "wall_ms", "wall_at")


def _with_counts(db: SqliteDatabase, sessions: list[Row]) -> list[Row]:
    """The sessions with their review counts (`review_counts`), from the memo when neither
    the decisions nor the session changed since they were counted."""
    version = db.execute_sql("SELECT version FROM decisions_version").fetchone()[0]
    keys = {session["id"]: (db.database, version, *(session.get(name) for name in _STAMP))
            for session in sessions}
    with _COUNTED_LOCK:
        known = {sid: _COUNTED[key] for sid, key in keys.items() if key in _COUNTED}
    missing = [sid for sid in keys if sid not in known]
    if missing:
        counted = review_counts(db, missing)
        with _COUNTED_LOCK:
            if len(_COUNTED) + len(counted) > _COUNTED_MAX:
                _COUNTED.clear()
            for sid, counts in counted.items():
                _COUNTED[keys[sid]] = counts
        known.update(counted)
    for session in sessions:
        session.update(known[session["id"]])
    return sessions


def review_counts(db: SqliteDatabase, session_ids: Sequence[int]) -> dict[int, Row]:
    """Per session: tracks needing a decision now (`to_review`), tracks with the DJ's
    decision (`decided`), and tracks whose writing changes a field (`will_change`, with the
    default export options); one query for them all."""
    counts = {sid: {"to_review": 0, "decided": 0, "will_change": 0} for sid in session_ids}
    for start in range(0, len(session_ids), 500):
        chunk = list(session_ids[start:start + 500])
        marks = ",".join("?" * len(chunk))
        for row in _rows(db, "SELECT t.session_id AS sid, "
                             "coalesce(sum(t.status = 'review' AND d.id IS NULL), 0) "
                             "AS to_review, coalesce(sum(d.id IS NOT NULL), 0) AS decided, "
                             f"coalesce(sum({_WILL_CHANGE}), 0) AS will_change "
                             f"FROM {_WITH_DECISION} WHERE t.session_id IN ({marks}) "
                             "GROUP BY t.session_id", chunk):
            counts[row.pop("sid")] = row
    return counts


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
            "sessions": _with_counts(db, [_session_out(row) for row in rows])}


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
    session = _with_counts(db, [_session_out(_one(
        db, "SELECT * FROM sessions WHERE id = ?", (session_id,), f"session {session_id}"))])[0]
    counts = _rows(db, "SELECT t.confidence, CASE d.state WHEN 'picked' THEN 'changed' "
                       "WHEN 'accepted' THEN 'accepted' WHEN 'rejected' THEN 'rejected' "
                       "ELSE 'auto' END AS review_state, t.status, count(*) AS n, "
                       "sum(t.early_exit_at IS NOT NULL) AS early, sum(t.elapsed_ms) AS ms "
                       f"FROM {_WITH_DECISION} WHERE t.session_id = ? "
                       "GROUP BY 1, 2, 3", (session_id,))
    session["by_confidence"] = _count_by(counts, "confidence")
    session["by_review_state"] = _count_by(counts, "review_state")
    session["early_exits"] = sum(row["early"] for row in counts)
    session["avg_track_ms"] = round(sum(row["ms"] for row in counts) / session["done"], 1) \
        if session["done"] else 0.0
    session["query_costs"] = costs = _query_costs(db, session_id)
    # Waits of parallel workers overlap: the time waited is wall-clock time (kept since
    # version 4), never more than the session lasted; their sum stays as `throttle_summed_ms`.
    costs["throttle_summed_ms"] = costs["throttle_ms"]
    walled = session.get("throttle_wall_ms")
    costs["throttle_ms"] = round(walled if walled is not None else min(
        costs["throttle_ms"], session["wall_ms"]), 1)
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
    "review_state": "(CASE d.state WHEN 'picked' THEN 'changed' WHEN 'accepted' THEN "
                    "'accepted' WHEN 'rejected' THEN 'rejected' ELSE 'auto' END) = ?",
}


@reads
def session_tracks(db: SqliteDatabase, session_id: int, *, limit: int = 500,
                   offset: int = 0, search: str | None = None, needs_decision: bool = False,
                   options: ExportOptions = DEFAULT_OPTIONS,
                   **filters: str | None) -> Row:
    """A page of a session's tracks in playlist order: {"total": n, "tracks": [...]}.

    `filters` take status, confidence and review_state (auto, accepted, rejected, changed:
    the DJ's decision on the track); `needs_decision` keeps the tracks to review that have
    no decision; `search` looks in the Rekordbox name and artist and the Beatport title.
    """
    clauses: list[str] = ["t.session_id = ?"]
    params: list[Any] = [session_id]
    for name, value in filters.items():
        if name not in _TRACK_FILTERS:
            raise HistoryError(f"Tracks cannot be filtered by '{name}'.")
        if value:
            clauses.append(_TRACK_FILTERS[name])
            params.append(value)
    if needs_decision:
        clauses.append("t.status = 'review' AND d.id IS NULL")
    if search:
        clauses.append("(t.rb_name LIKE ? ESCAPE '\\' OR t.rb_artist LIKE ? ESCAPE '\\' "
                       "OR t.bp_title LIKE ? ESCAPE '\\')")
        params += [_like(search)] * 3
    where = " AND ".join(clauses)
    total = db.execute_sql(f"SELECT count(*) FROM {_WITH_DECISION} WHERE {where}",
                           params).fetchone()[0]
    rows = _rows(db, f"SELECT t.* FROM {_WITH_DECISION} "
                     f"WHERE {where} ORDER BY t.playlist, t.position LIMIT ? OFFSET ?",
                 [*params, limit, offset])
    return {"total": total, "limit": limit, "offset": offset,
            "tracks": _shaped(db, rows, options)}


@reads
def session_changes(db: SqliteDatabase, session_id: int, *, only_changing: bool = False,
                    limit: int = 500, offset: int = 0,
                    options: ExportOptions = DEFAULT_OPTIONS) -> Row:
    """What writing the session's final tracks changes in Rekordbox, track by track in
    playlist order: {"rows": [track JSON], "total": n, "tracks_changing": n,
    "fields_changing": n}; with `only_changing`, the tracks with at least one change."""
    tracks = _shaped(db, _in_playlist_order(db, session_id), options)
    changing = [t for t in tracks if any(change["changed"] for change in t["changes"])]
    listed = changing if only_changing else tracks
    return {"rows": listed[offset:offset + limit], "total": len(listed),
            "limit": limit, "offset": offset, "tracks_changing": len(changing),
            "fields_changing": sum(change["changed"] for t in changing
                                   for change in t["changes"]),
            "options": {"fields": list(options.fields), "mode": options.mode,
                        "comments": options.comments, "key_notation": options.key_notation}}


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


_COMPARED = ("tracks", "done", "matched", "review", "to_review", "decided", "will_change",
             "unmatched", "errors", "queries",
             "requests", "cache_hits", "rate_limited", "wall_ms", "match_rate",
             "cache_hit_rate", "ms_per_track", "requests_per_track")


@reads
def compare_sessions(db: SqliteDatabase, a: int, b: int) -> Row:
    """Two sessions side by side, and the tracks whose outcome differs between them.

    Tracks are paired by Rekordbox track id and playlist.
    """
    first, second = _with_counts(db, [_session_out(_one(
        db, f"SELECT {_LIST_COLUMNS} FROM sessions WHERE id = ?", (sid,), f"session {sid}"))
        for sid in (a, b)])
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
    if (a["final"] or {}).get("id") != (b["final"] or {}).get("id"):
        return "different_final"
    if a["needs_decision"] != b["needs_decision"]:
        return "decided_in_a_only" if b["needs_decision"] else "decided_in_b_only"
    if a["confidence"] != b["confidence"]:
        return "confidence_changed"
    return ""


# --- one track, the review queue -----------------------------------------------------

@reads
def track_detail(db: SqliteDatabase, track_result_id: int,
                 options: ExportOptions = DEFAULT_OPTIONS) -> Row:
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
    decision = _decisions_of(db, [row]).get(row["id"])
    track = track_shape(row, {c["id"]: c for c in candidates}, decision, options)
    track["candidates_kept"] = len(candidates)
    return {"track": track, "candidates": [candidate_shape(c, pack) for c in candidates],
            "queries": queries}


def rekordbox_from_shape(track: Row) -> RekordboxTrack:
    """The RekordboxTrack of a shaped track (its "rekordbox" dict)."""
    return RekordboxTrack(**track["rekordbox"])


def dict_of(value: Any) -> Row | None:
    if value is None:
        return None
    return {name: (list(v) if isinstance(v := getattr(value, name), tuple) else v)
            for name in value.__slots__}


def _decided_track(decision: Row) -> BeatportTrack | None:
    """The Beatport track to export for a track the DJ decided: none when rejected."""
    return beatport_of_columns(decision) if decision["state"] != "rejected" else None


def _packed_track(pack: Pack, candidate: Row) -> BeatportTrack | None:
    """A candidate row's Beatport track, from its track's packed candidates."""
    return pack.beatport(candidate["rank"], candidate["bp_id"])


@reads
def review_queue(db: SqliteDatabase, session_id: int, *,
                 pending_only: bool = False) -> list[Row]:
    """Tracks waiting for the DJ (status review) and those the DJ decided, in order; each
    with the candidate offered for review, if any, under "review_candidate"."""
    pending = "AND d.id IS NULL" if pending_only else ""
    rows = _rows(db, f"SELECT t.* FROM {_WITH_DECISION} "
                     "WHERE t.session_id = ? AND (t.status = 'review' OR d.id IS NOT NULL) "
                     f"{pending} ORDER BY t.playlist, t.position", (session_id,))
    offered = _candidates_by_id(db, [row["review_candidate_id"] for row in rows
                                     if row["review_candidate_id"] is not None])
    tracks = _shaped(db, rows)
    for track in tracks:
        candidate = offered.get(track["review_candidate_id"])
        track["review_candidate"] = candidate_shape(candidate) if candidate else None
    return tracks


# --- the DJ's decisions ----------------------------------------------------------------

@reads
def decide(db: SqliteDatabase, track_result_id: int, state: str,
           beatport_id: int | None = None, beatport: BeatportTrack | None = None) -> Row:
    """Record the DJ's decision on a track's Rekordbox track, for every session of its
    library: "accepted" (the app's proposal), "rejected" (no Beatport match), "picked"
    (Beatport track `beatport_id`: one of the track's candidates, or `beatport` when given,
    looked up elsewhere), or "undo" (forget it). Returns the track as `track_detail` does."""
    if state not in (*DECISION_STATES, "undo"):
        raise HistoryError(f"Unknown decision '{state}': use accepted, rejected, picked or "
                           "undo.")
    if (state == "picked") != (beatport_id is not None or beatport is not None):
        raise HistoryError("A Beatport track id is needed to pick a track, and only then.")
    with db.atomic("IMMEDIATE"):
        row = _one(db, "SELECT * FROM track_results WHERE id = ?", (track_result_id,),
                   f"track result {track_result_id}")
        if not _decide(db, row, state, beatport_id, beatport):
            raise HistoryError("CuePoint proposed no Beatport track for this one: pick one "
                               "(a candidate, or search Beatport) or reject it.")
    return track_detail(db, track_result_id)


def _decide(db: SqliteDatabase, row: Row, state: str, beatport_id: int | None,
            beatport: BeatportTrack | None) -> bool:
    """Write one decision (caller's transaction); False when there is nothing to accept."""
    library = _libraries(db, [row["session_id"]]).get(row["session_id"], "")
    if state == "undo":
        db.execute_sql("DELETE FROM decisions WHERE library = ? AND rb_track_id = ?",
                       (library, row["rb_track_id"]))
        return True
    track: BeatportTrack | None = None
    if state == "accepted":
        track = Pack(row["packed_candidates"]).match(row["bp_id"]) or _offered(db, row)
        if track is None:
            return False
    elif state == "picked":
        track = beatport if beatport is not None and (
            beatport_id is None or beatport.id == beatport_id) else None
        track = track or _candidate_track(db, row["id"], beatport_id)
    snapshot = beatport_columns(track)
    values = {"library": library, "rb_track_id": row["rb_track_id"], "state": state,
              "decided_at": time.time(), "session_id": row["session_id"],
              "track_result_id": row["id"], **{name: _sql_value(name, value)
                                               for name, value in snapshot.items()}}
    names = ", ".join(values)
    db.execute_sql(f"INSERT INTO decisions ({names}) VALUES ({','.join('?' * len(values))}) "
                   "ON CONFLICT (library, rb_track_id) DO UPDATE SET "
                   + ", ".join(f"{name} = excluded.{name}" for name in values
                               if name not in ("library", "rb_track_id")),
                   list(values.values()))
    return True


def _sql_value(name: str, value: Any) -> Any:
    if name in ("bp_artists", "bp_remixers") and value is not None:
        return json.dumps(list(value), separators=(",", ":"))
    return value


def _offered(db: SqliteDatabase, row: Row) -> BeatportTrack | None:
    if row["review_candidate_id"] is None:
        return None
    found = _candidates_by_id(db, [row["review_candidate_id"]])
    if not found:
        return None
    candidate = found[row["review_candidate_id"]]
    return _packed_track(Pack(candidate["packed_candidates"]), candidate)


def _candidate_track(db: SqliteDatabase, track_result_id: int,
                     beatport_id: int | None) -> BeatportTrack:
    found = _rows(db, "SELECT c.*, t.packed_candidates FROM candidates c "
                      "JOIN track_results t ON t.id = c.track_result_id "
                      "WHERE c.track_result_id = ? AND c.bp_id = ? ORDER BY c.rank LIMIT 1",
                  (track_result_id, beatport_id))
    track = _packed_track(Pack(found[0]["packed_candidates"]), found[0]) if found else None
    if track is None:
        raise NotFoundError(f"Beatport track {beatport_id} is not among the candidates of "
                            f"track result {track_result_id}.")
    return track


@reads
def track_of_rekordbox(db: SqliteDatabase, session_id: int, rb_track_id: str) -> int:
    """The id of a session's track result for a Rekordbox track id (its first entry)."""
    _one(db, "SELECT id FROM sessions WHERE id = ?", (session_id,), f"session {session_id}")
    found = db.execute_sql("SELECT id FROM track_results WHERE session_id = ? AND "
                           "rb_track_id = ? ORDER BY playlist, position LIMIT 1",
                           (session_id, str(rb_track_id))).fetchone()
    if found is None:
        raise NotFoundError(f"Session {session_id} has no Rekordbox track {rb_track_id}: "
                            f"`cuepoint review {session_id}` lists its tracks to review.")
    return int(found[0])


@reads
def decide_many(db: SqliteDatabase, session_id: int, state: str,
                track_result_ids: Sequence[int]) -> Row:
    """Accept or reject many tracks of a session at once (what a filter shows), in one
    transaction. Tracks with nothing to accept are left as they are and counted as skipped.
    Returns {"decided": n, "skipped": n, "session": the session's overview}."""
    if state not in ("accepted", "rejected"):
        raise HistoryError(f"Tracks can be accepted or rejected together, not '{state}'.")
    ids = list(dict.fromkeys(int(i) for i in track_result_ids))
    decided = 0
    with db.atomic("IMMEDIATE"):
        _one(db, "SELECT id FROM sessions WHERE id = ?", (session_id,), f"session {session_id}")
        rows: list[Row] = []
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows += _rows(db, f"SELECT * FROM track_results WHERE session_id = ? "
                              f"AND id IN ({marks})", [session_id, *chunk])
        if len(rows) != len(ids):
            missing = sorted(set(ids) - {row["id"] for row in rows})
            raise NotFoundError(f"Track {missing[0]} is not in session {session_id}.")
        for row in rows:
            decided += _decide(db, row, state, None, None)
    return {"decided": decided, "skipped": len(ids) - decided,
            "session": session_overview(db, session_id)}


@reads
def set_review(db: SqliteDatabase, track_result_id: int, state: str,
               beatport_candidate_id: int | None = None) -> Row:
    """The DJ's decision in the words used before decisions: auto (undo), accepted, rejected,
    or changed to a candidate (`beatport_candidate_id`, its Beatport id). Returns the track's
    review fields."""
    if state not in REVIEW_STATES:
        raise HistoryError(f"Unknown review state '{state}'.")
    if (state == "changed") != (beatport_candidate_id is not None):
        raise HistoryError("A Beatport candidate is needed for 'changed', and only for it.")
    track = decide(db, track_result_id, _DECISION_OF[state],
                   beatport_candidate_id)["track"]
    return {name: track[name]
            for name in ("id", "review_state", "reviewed_at", "chosen_candidate_id")}


@reads
def decisions_of_library(db: SqliteDatabase, library: str) -> dict[str, Row]:
    """Every decision on a library's tracks, by Rekordbox track id: what a new session of
    that library applies instead of asking again."""
    return {row["rb_track_id"]: row for row in _rows(
        db, "SELECT * FROM decisions WHERE library = ?", (library,))}


@reads
def record_search(db: SqliteDatabase, track_result_id: int, text: str, found: int,
                  elapsed_ms: float, from_cache: bool | None, http_status: int | None,
                  error: str = "", throttle_wait_ms: float = 0.0) -> None:
    """A manual Beatport search the DJ made for a track, kept as one more of its queries
    (type "manual")."""
    with db.atomic("IMMEDIATE"):
        row = _one(db, "SELECT id, session_id FROM track_results WHERE id = ?",
                   (track_result_id,), f"track result {track_result_id}")
        number = db.execute_sql("SELECT coalesce(max(number), 0) + 1 FROM queries "
                                "WHERE track_result_id = ?", (track_result_id,)).fetchone()[0]
        db.execute_sql(
            "INSERT INTO queries (track_result_id, session_id, number, type, text, elapsed_ms, "
            "network_ms, parse_ms, candidate_count, from_cache, attempts, http_status, "
            "rate_limited, error, throttle_wait_ms) VALUES (?, ?, ?, 'manual', ?, ?, ?, 0, ?, "
            "?, ?, ?, ?, ?, ?)",
            (track_result_id, row["session_id"], number, text, elapsed_ms,
             max(0.0, elapsed_ms - throttle_wait_ms), found, from_cache,
             None if from_cache is None else int(not from_cache), http_status,
             int(http_status == 429), error, throttle_wait_ms))
        db.execute_sql("UPDATE track_results SET queries = queries + 1 WHERE id = ?",
                       (track_result_id,))


@reads
def final_matches(db: SqliteDatabase, session_id: int) -> list[Row]:
    """Every track of a session in playlist order, with the Beatport track to export.

    The DJ's decision decides: accepted, rejected or picked override what the app chose.
    Values under "rekordbox" and "final" (as in `track_shape`) are domain objects, for exports.
    """
    rows = _in_playlist_order(db, session_id)
    decisions = _decisions_of(db, rows)
    return [{"id": row["id"], "playlist": row["playlist"], "position": row["position"],
             "status": row["status"], "confidence": row["confidence"],
             "review_state": _REVIEW_STATE_OF[decision["state"]] if decision else "auto",
             "rekordbox": rekordbox_from(row),
             "final": Pack(row["packed_candidates"]).match(row["bp_id"]) if decision is None
             else _decided_track(decision)}
            for row in rows for decision in [decisions.get(row["id"])]]


@reads
def all_tracks(db: SqliteDatabase, session_id: int,
               options: ExportOptions = DEFAULT_OPTIONS) -> list[Row]:
    """Every track of a session in playlist order, shaped as `track_shape` shapes one."""
    return _shaped(db, _in_playlist_order(db, session_id), options)


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
