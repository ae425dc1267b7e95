"""The live view of a session as the writer commits it: progress, rates, and new tracks.

The dashboard polls this about once a second. Each call is a handful of indexed queries;
`after_track` lets the page ask only for the tracks finished since its last poll.
"""

from __future__ import annotations

import time
from typing import Any

from peewee import SqliteDatabase

from cuepoint_tray.store.database import reads
from cuepoint_tray.store.queries import (
    NotFoundError,
    Row,
    _rows,
    _session_out,
    _shaped,
    _with_counts,
)

POINTS_PER_POLL = 2000  # a first poll of a long session gets its tracks in a few polls


@reads
def live_session(db: SqliteDatabase, session_id: int | None = None, *,
                 after_track: int = 0) -> Row | None:
    """The session to watch (the given one, else the running or paused one, else the
    latest), with its progress, per-playlist progress, the tracks finished after the
    track result id `after_track`, and the last finished track. None when history is empty.
    """
    row = _pick(db, session_id)
    if row is None:
        return None
    session = _with_counts(db, [_session_out(row)])[0]  # to_review, decided, will_change
    session.pop("settings", None)
    session.update(_rates(session))
    session["playlist_progress"] = _playlist_progress(db, session)
    session["new_tracks"] = [track_point(row) for row in _rows(
        db, "SELECT id, playlist, position, status, confidence, elapsed_ms, queries, rb_name, "
            "rb_artist FROM track_results WHERE session_id = ? AND id > ? ORDER BY id LIMIT ?",
        (session["id"], after_track, POINTS_PER_POLL))]
    last = _shaped(db, _rows(db, "SELECT * FROM track_results WHERE session_id = ? "
                                 "ORDER BY id DESC LIMIT 1", (session["id"],)))
    session["last_track"] = last[0] if last else None
    session["read_at"] = time.time()
    return session


def track_point(row: Row) -> Row:
    """A finished track as the live chart needs it, polled every second by many pages: the
    fields of `queries.track_shape` it uses, under the same names, and no more."""
    return {"id": row["id"], "playlist": row["playlist"], "position": row["position"],
            "status": row["status"], "confidence": row["confidence"],
            "elapsed_ms": row["elapsed_ms"], "query_count": row["queries"],
            "rekordbox": {"name": row["rb_name"], "artist": row["rb_artist"]}}


def _pick(db: SqliteDatabase, session_id: int | None) -> Row | None:
    if session_id is not None:
        found = _rows(db, "SELECT * FROM sessions WHERE id = ?", (session_id,))
        if not found:
            raise NotFoundError(f"There is no session {session_id} in the history.")
        return found[0]
    for where in ("WHERE status IN ('running', 'paused')", ""):
        found = _rows(db, f"SELECT * FROM sessions {where} ORDER BY started_at DESC LIMIT 1")
        if found:
            return found[0]
    return None


def _rates(session: Row, now: float | None = None) -> dict[str, Any]:
    """Tracks per minute and, while the session runs, the time left at that pace: the whole
    session's, waits included (for Beatport, the rate limit, a slow answer) up to now, not
    only up to the last track written."""
    done, wall_ms = session["done"], session["wall_ms"]
    if session["status"] == "running" and session.get("wall_at"):
        wall_ms += max(0.0, (now or time.time()) - session["wall_at"]) * 1000
    per_minute = done / (wall_ms / 60000) if done and wall_ms else 0.0
    left = session["tracks"] - done
    eta_s = left * wall_ms / done / 1000 if done and session["status"] == "running" else None
    return {"tracks_per_minute": round(per_minute, 1),
            "eta_s": round(eta_s, 1) if eta_s is not None else None}


def _playlist_progress(db: SqliteDatabase, session: Row) -> list[Row]:
    """Each playlist of the session: size, tracks done, and waiting / running / done."""
    counts = {row["playlist"]: row for row in _rows(
        db, "SELECT playlist, count(*) AS done, sum(status = 'matched') AS matched, "
            "sum(status = 'review') AS review, sum(status = 'unmatched') AS unmatched, "
            "sum(status = 'error') AS errors FROM track_results WHERE session_id = ? "
            "GROUP BY playlist", (session["id"],))}
    sizes = session.get("playlist_tracks") or []
    progress = []
    for index, path in enumerate(session["playlists"]):
        size = sizes[index] if index < len(sizes) else None
        done = counts.get(path, {}).get("done", 0)
        progress.append({
            "playlist": path, "tracks": size, "done": done,
            "matched": counts.get(path, {}).get("matched") or 0,
            "review": counts.get(path, {}).get("review") or 0,
            "unmatched": counts.get(path, {}).get("unmatched") or 0,
            "errors": counts.get(path, {}).get("errors") or 0,
            "state": _playlist_state(done, size, session["status"]),
        })
    return progress


def _playlist_state(done: int, size: int | None, session_status: str) -> str:
    if size is not None and done >= size:
        return "done"
    if session_status != "running":
        return session_status if done else "waiting"
    return "running" if done else "waiting"
