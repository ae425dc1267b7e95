"""The dashboard's read queries on a small history of two sessions over the same playlist.

Session A: 5 tracks (2 matched, 1 review, 1 unmatched without artist, 1 error), completed.
Session B, a rerun: 8 tracks (4 matched, 4 unmatched without artist), slow, one 429,
nothing from the cache, cancelled.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from test_store_builders import PLAYLIST, begin, db_file, ended, query, result, track_done

from cuepoint_tray.domain import BeatportTrack, RekordboxTrack
from cuepoint_tray.store import HistoryError, HistoryWriter, NotFoundError
from cuepoint_tray.store import queries as q


@pytest.fixture
def history(tmp_path: Path) -> Path:
    path = db_file(tmp_path)
    with HistoryWriter(path) as writer:
        write_session_a(writer)
        write_session_b(writer)
    return path


def write_session_a(writer: HistoryWriter) -> None:
    begin(writer, 5)
    outcomes = [
        result(1, elapsed=100, queries=(query("full", elapsed=100),)),
        result(2, "review", elapsed=900,
               queries=(query("full", elapsed=200), query("title", elapsed=300))),
        result(3, "unmatched", artist="", elapsed=1500,
               queries=(query("full", elapsed=400), query("title", elapsed=500),
                        query("isrc", elapsed=600, cached=True))),
        result(4, "error", elapsed=50,
               queries=(query("full", elapsed=50, status=None, error="connection refused"),)),
        result(5, elapsed=10, queries=(query("full", elapsed=100),)),
    ]
    for position, outcome in enumerate(outcomes, start=1):
        writer(track_done(position, outcome, done=position, total=5))
    writer(ended("completed", 5))


def write_session_b(writer: HistoryWriter) -> None:
    begin(writer, 8)
    slow = (query("full", elapsed=2500),)
    outcomes = [
        result(1, confidence="medium", queries=(
            query("full", elapsed=2500, status=429, attempts=2, retry_after=1.0),)),
        result(2, queries=slow),
        result(3, "unmatched", artist="", queries=slow),
        result(4, queries=slow),
        result(5, bp_id=7005, queries=slow),
        *(result(n, "unmatched", artist="", queries=slow) for n in (6, 7, 8)),
    ]
    for position, outcome in enumerate(outcomes, start=1):
        writer(track_done(position, outcome, done=position, total=8))
    writer(ended("cancelled", 8))


def track_id(history: Path, session_id: int, position: int) -> int:
    with closing(sqlite3.connect(history)) as db:
        found = db.execute("SELECT id FROM track_results WHERE session_id = ? AND position = ?",
                           (session_id, position)).fetchone()
    return int(found[0])


def test_list_sessions_pages_filters_and_orders(history: Path) -> None:
    page = q.list_sessions(history)
    assert page["total"] == 2
    assert [s["id"] for s in page["sessions"]] == [2, 1]
    newest = page["sessions"][0]
    assert (newest["status"], newest["done"], newest["matched"], newest["match_rate"]) == (
        "cancelled", 8, 4, 0.5)
    assert newest["playlists"] == [PLAYLIST]
    assert [s["id"] for s in q.list_sessions(history, status="completed")["sessions"]] == [1]
    assert q.list_sessions(history, search="Dev Set")["total"] == 2
    assert q.list_sessions(history, search="100%")["total"] == 0
    ordered = q.list_sessions(history, order_by="match_rate")["sessions"]
    assert [s["id"] for s in ordered] == [1, 2]
    assert [s["id"] for s in q.list_sessions(history, limit=1, offset=1)["sessions"]] == [1]
    with pytest.raises(HistoryError):
        q.list_sessions(history, order_by="id; DROP TABLE sessions")


def test_session_overview(history: Path) -> None:
    overview = q.session_overview(history, 1)
    assert (overview["done"], overview["matched"], overview["review"], overview["unmatched"],
            overview["errors"], overview["queries"], overview["cache_hits"],
            overview["requests"]) == (5, 2, 1, 1, 1, 8, 1, 7)
    assert overview["by_confidence"] == {"strong": 2, "low": 1, "none": 2}
    assert overview["by_review_state"] == {"auto": 5}
    assert overview["early_exits"] == 2
    assert overview["avg_track_ms"] == round((100 + 900 + 1500 + 50 + 10) / 5, 1)
    assert overview["query_costs"]["queries"] == 8
    assert [e["message"] for e in overview["recent_errors"]] == ["connection refused"]
    assert "beatport_token" not in overview["settings"]
    with pytest.raises(NotFoundError):
        q.session_overview(history, 99)


def test_query_stats_by_type(history: Path) -> None:
    stats = {s["type"]: s for s in q.query_stats_by_type(history, 1)}
    assert list(stats) == ["full", "title", "isrc"]
    full = stats["full"]
    assert (full["count"], full["avg_ms"], full["p95_ms"], full["errors"],
            full["cache_hit_rate"], full["avg_candidates"]) == (5, 175.0, 405.0, 1, 0.0, 2.0)
    assert (stats["title"]["count"], stats["title"]["avg_ms"], stats["title"]["p95_ms"]) == (
        2, 405.0, 505.0)
    assert stats["isrc"]["cache_hit_rate"] == 1.0
    assert q.query_stats_by_type(history, 2)[0]["rate_limited"] == 1


def test_slowest_tracks(history: Path) -> None:
    slowest = q.slowest_tracks(history, 1, limit=3)
    assert [t["position"] for t in slowest] == [3, 2, 1]
    assert slowest[0]["rekordbox"]["name"] == "Track 3" and slowest[0]["query_count"] == 3
    assert slowest[2]["beatport"]["artists"] == ["Artist 1", "B"]


def test_tips_name_the_rule_and_the_figure(history: Path) -> None:
    first = {t["rule"]: t for t in q.tips(history, 1)}
    assert list(first) == ["tags", "errors"]
    assert first["tags"]["figure"] == 0.4 and first["errors"]["figure"] == 1
    rerun = {t["rule"]: t for t in q.tips(history, 2)}
    assert list(rerun) == ["cache", "rate_limited", "network", "file_names"]
    assert rerun["cache"]["figure"] == 0.0 and "session 1" in rerun["cache"]["message"]
    assert rerun["rate_limited"]["figure"] == 0.125
    assert "requests_per_second (now 4.0)" in rerun["rate_limited"]["message"]
    assert rerun["network"]["figure"] == 2500.0
    assert rerun["file_names"]["figure"] == 4


def test_trends_oldest_first(history: Path) -> None:
    points = q.trends(history)
    assert [p["id"] for p in points] == [1, 2]
    assert [p["match_rate"] for p in points] == [0.4, 0.5]
    assert [p["requests_per_track"] for p in points] == [1.4, 1.0]
    assert [p["cache_hit_rate"] for p in points] == [0.125, 0.0]
    assert all(p["ms_per_track"] > 0 for p in points)


def test_compare_sessions(history: Path) -> None:
    compared = q.compare_sessions(history, 1, 2)
    metrics = {m["name"]: m for m in compared["metrics"]}
    assert (metrics["matched"]["a"], metrics["matched"]["b"], metrics["matched"]["delta"]) == (
        2, 4, 2)
    changes = {(t["rekordbox"]["track_id"], t["change"]) for t in compared["tracks"]}
    assert changes == {("1001", "confidence_changed"), ("1002", "matched_in_b_only"),
                       ("1004", "matched_in_b_only"), ("1005", "different_track"),
                       ("1006", "only_in_b"), ("1007", "only_in_b"), ("1008", "only_in_b")}
    assert compared["changes"] == {"confidence_changed": 1, "matched_in_b_only": 2,
                                   "different_track": 1, "only_in_b": 3}
    different = next(t for t in compared["tracks"] if t["change"] == "different_track")
    assert (different["a"]["beatport"]["id"], different["b"]["beatport"]["id"]) == (5005, 7005)


def test_track_detail(history: Path) -> None:
    detail = q.track_detail(history, track_id(history, 1, 2))
    track = detail["track"]
    assert track["status"] == "review" and track["beatport"] is None and track["final"] is None
    assert track["rekordbox"]["name"] == "Track 2"
    assert [c["rank"] for c in detail["candidates"]] == [1, 2]
    assert detail["candidates"][1]["vetoes"] == ["another remix"]
    assert detail["candidates"][0]["components"][0]["name"] == "title"
    assert [(x["number"], x["type"]) for x in detail["queries"]] == [(1, "full"), (2, "title")]
    assert track["review_candidate_id"] == detail["candidates"][0]["id"]
    assert detail["candidates"][0]["beatport"]["id"] == 5002  # the shape of track["beatport"]
    assert track["candidate_count"] == len(detail["candidates"]) and "candidates" not in track
    assert not [name for name in track if name.startswith(("rb_", "bp_"))]
    with pytest.raises(NotFoundError):
        q.track_detail(history, 999)


def test_review_queue_and_decisions(history: Path) -> None:
    review, matched = track_id(history, 1, 2), track_id(history, 1, 1)
    assert [t["id"] for t in q.review_queue(history, 1)] == [review]
    assert q.review_queue(history, 1)[0]["review_candidate"]["beatport"]["id"] == 5002
    q.set_review(history, review, "accepted")
    assert q.track_detail(history, review)["track"]["final"]["id"] == 5002
    q.set_review(history, review, "changed", 9002)
    assert q.track_detail(history, review)["track"]["final"]["id"] == 9002
    q.set_review(history, matched, "rejected")
    queue = q.review_queue(history, 1)
    assert [(t["id"], t["review_state"]) for t in queue] == [(matched, "rejected"),
                                                           (review, "changed")]
    assert q.review_queue(history, 1, pending_only=True) == []
    with pytest.raises(NotFoundError):
        q.set_review(history, review, "changed", 123456)
    with pytest.raises(HistoryError):
        q.set_review(history, review, "changed")
    with pytest.raises(HistoryError):
        q.set_review(history, review, "maybe")


def test_final_matches_apply_the_review(history: Path) -> None:
    q.set_review(history, track_id(history, 1, 2), "changed", 9002)
    rows = q.final_matches(history, 1)
    assert [r["position"] for r in rows] == [1, 2, 3, 4, 5]
    assert isinstance(rows[0]["rekordbox"], RekordboxTrack)
    assert isinstance(rows[0]["final"], BeatportTrack)
    assert [r["final"].id if r["final"] else None for r in rows] == [
        5001, 9002, None, None, 5005]
