"""Session reports (HTML, CSV, JSON, text) built from a history written by HistoryWriter.

The session holds hostile names: markup, quotes, a right-to-left override, and Beatport URLs
that must or must not become links.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from test_store_builders import begin, db_file, ended, query, result, track_done

from cuepoint_tray.domain import MatchResult
from cuepoint_tray.errors import CuepointError
from cuepoint_tray.reports import RENDERERS, build_report, export_matches, write_report
from cuepoint_tray.reports.data import key_as_rekordbox
from cuepoint_tray.store import HistoryWriter
from cuepoint_tray.store import queries as q

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
QUOTES = "He said \"hi\" & 'bye'"
RTL = "\u202eabc"
BEATPORT_URL = "https://www.beatport.com/track/deep/5006"
PLAYLISTS = ("Sets/Dev Set", "Sets/Warm: Up?")


def named(outcome: MatchResult, name: str, artist: str | None = None) -> MatchResult:
    """The outcome with the Rekordbox track renamed."""
    track = replace(outcome.rekordbox, name=name, artist=outcome.rekordbox.artist
                    if artist is None else artist)
    return replace(outcome, rekordbox=track)


def with_url(outcome: MatchResult, url: str, genre: str = "Techno") -> MatchResult:
    assert outcome.match is not None
    return replace(outcome, match=replace(outcome.match, url=url, genre=genre))


def outcomes() -> list[MatchResult]:
    return [
        named(result(1, elapsed=300, queries=(query("full", elapsed=300),)), SCRIPT),
        named(result(2, "review", elapsed=900,
                     queries=(query("full", elapsed=200), query("title", elapsed=700))), IMG),
        named(result(3, "unmatched", artist="", elapsed=1500,
                     queries=(query("full", elapsed=500), query("title", elapsed=1000))), QUOTES),
        named(result(4, elapsed=200), RTL, artist=RTL),
        result(5, "error", elapsed=50,
               queries=(query("full", elapsed=50, status=None, error="connection refused"),)),
        with_url(result(6, elapsed=120), BEATPORT_URL, genre=SCRIPT),
        with_url(result(7, elapsed=80), "javascript:alert(1)"),
    ]


@pytest.fixture
def history(tmp_path: Path) -> Path:
    path = db_file(tmp_path)
    with HistoryWriter(path) as writer:
        begin(writer, 7, playlists=PLAYLISTS)
        for position, outcome in enumerate(outcomes(), start=1):
            writer(track_done(position, outcome, playlist=PLAYLISTS[0], done=position, total=7))
        writer(ended("completed", 7))
    return path


def test_report_data_gathers_the_session(history: Path) -> None:
    data = build_report(history, 1)
    assert data.title.startswith("Dev Set, Warm: Up? — ")
    assert data.totals["matched"] == 4 and data.totals["review"] == 1
    assert data.confidence == {"strong": 4, "medium": 0, "low": 1, "none": 2}
    assert [row["position"] for row in data.time_per_track] == list(range(1, 8))
    assert data.time_per_track[2]["elapsed_ms"] == 1500
    assert {s["type"] for s in data.query_stats} == {"full", "title"}
    assert data.slowest[0]["rekordbox"]["name"] == QUOTES
    assert [row["rekordbox"]["name"] for row in data.review] == [IMG]
    first = data.tracks[0]
    assert (first["rekordbox"]["name"], first["final"]["id"], key_as_rekordbox(first["final"]),
            first["rekordbox"]["tonality"]) == (SCRIPT, 5001, "Am", "Am")
    assert data.tracks[2]["final"] is None


def test_export_matches_apply_the_review(history: Path) -> None:
    assert set(export_matches(history, 1)) == {"1001", "1004", "1006", "1007"}
    rows = {row["position"]: row["id"] for row in build_report(history, 1).tracks}
    q.set_review(history, rows[1], "rejected")
    q.set_review(history, rows[2], "accepted")
    matches = export_matches(history, 1)
    assert set(matches) == {"1002", "1004", "1006", "1007"}
    assert matches["1002"].id == 5002


def test_html_escapes_every_text_from_files_and_beatport(history: Path) -> None:
    page = RENDERERS["html"](build_report(history, 1))
    assert isinstance(page, str)
    for raw in (SCRIPT, IMG, QUOTES, "<script", "onerror=alert(1)>"):
        assert raw not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "He said &quot;hi&quot; &amp; &#x27;bye&#x27;" in page
    assert f"<bdi>{RTL}</bdi>" in page  # the override cannot reach past its own text
    assert "javascript:" not in page


def test_html_is_self_contained(history: Path) -> None:
    page = str(RENDERERS["html"](build_report(history, 1)))
    links = re.findall(r"""(\w+)\s*=\s*["']?((?:https?:)?//[^"'\s>]+)""", page)
    assert links == [("href", BEATPORT_URL)]
    assert page.count(f'<a href="{BEATPORT_URL}">') == 1
    assert "url(" not in page and "@import" not in page and "<link" not in page
    assert "prefers-color-scheme: dark" in page


def test_html_shows_title_figures_tips_and_charts(history: Path) -> None:
    data = build_report(history, 1)
    page = str(RENDERERS["html"](data))
    assert f"<h1>{'Dev Set, Warm: Up? — ' + data.started}</h1>" in page
    assert page.count("<svg") == 3
    for caption in ("Time per track", "Outcome", "Average query time by type"):
        assert f"<figcaption>{caption}</figcaption>" in page
    assert "could not be searched" in page  # the errors tip
    assert "Review queue (1)" in page and "Tracks (7)" in page


def test_csv_is_the_track_table(history: Path) -> None:
    content = RENDERERS["csv"](build_report(history, 1))
    assert isinstance(content, bytes) and content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert [row["rekordbox.name"] for row in rows[:4]] == [SCRIPT, IMG, QUOTES, RTL]
    assert rows[0]["final.id"] == "5001" and rows[0]["final.key_name"] == "A Minor"
    assert rows[0]["confidence"] == "strong" and rows[2]["final.id"] == ""
    assert rows[5]["final.genre"] == SCRIPT  # CSV keeps the values as they are
    assert not [name for name in rows[0] if name.startswith(("rb_", "bp_"))]


def test_json_holds_all_the_report_data(history: Path) -> None:
    loaded = json.loads(str(RENDERERS["json"](build_report(history, 1))))
    assert {"overview", "totals", "confidence", "query_stats", "slowest", "tips",
            "time_per_track", "tracks", "review"} <= set(loaded)
    assert loaded["tracks"][0]["rekordbox"]["name"] == SCRIPT
    assert loaded["totals"]["unmatched"] == 1 and loaded["totals"]["errors"] == 1


def test_txt_is_a_readable_summary(history: Path) -> None:
    text = str(RENDERERS["txt"](build_report(history, 1)))
    assert text.startswith("CuePoint report: Dev Set, Warm: Up?")
    assert "Matched:          4 (57%)" in text
    assert "could not be searched" in text
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("#"))
    assert len(lines) - header - 2 == 7  # header, rule, one line a track
    assert "Artist 1 - <script>alert(1)</script> (O…" in text  # cut to the column


@pytest.mark.parametrize("fmt", sorted(RENDERERS))
def test_write_report_names_the_file_safely(history: Path, tmp_path: Path, fmt: str) -> None:
    path = write_report(history, 1, fmt, tmp_path / "reports")
    started = build_report(history, 1).started[:10]
    assert path == tmp_path / "reports" / f"1 Dev Set, Warm_ Up_ {started}.{fmt}"
    assert path.read_bytes()
    assert not list(path.parent.glob("*.tmp"))


def test_write_report_refuses_an_unknown_format(history: Path, tmp_path: Path) -> None:
    with pytest.raises(CuepointError, match="csv, html, json, txt"):
        write_report(history, 1, "pdf", tmp_path)


def test_a_session_without_tracks_still_renders(tmp_path: Path) -> None:
    path = db_file(tmp_path)
    with HistoryWriter(path) as writer:
        begin(writer, 0)
        writer(ended("cancelled", 0))
    data = build_report(path, 1)
    assert data.tracks == [] and data.totals["done"] == 0
    for fmt in RENDERERS:
        assert write_report(path, 1, fmt, tmp_path / "reports").stat().st_size > 0
