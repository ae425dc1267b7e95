"""`cuepoint report`, `cuepoint export` and `cuepoint vacuum` over a real session's history.

Two sessions of the demo playlists are matched once per module through the local catalog
server; every test works on its own copy of that data folder and calls the CLI in-process.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import re
import shutil
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from test_store_builders import set_beatport_url

from cuepoint_tray.catalog_server import CatalogServer
from cuepoint_tray.cli import main
from cuepoint_tray.musical_keys import parse_key
from cuepoint_tray.paths import resolve_paths
from cuepoint_tray.rekordbox import read_library
from cuepoint_tray.rekordbox.export import CHANGES_COLUMNS
from cuepoint_tray.reports.tables import RESULT_COLUMNS as CSV_COLUMNS
from cuepoint_tray.resources import resource_folder
from cuepoint_tray.session import run_match
from cuepoint_tray.settings import Settings
from cuepoint_tray.store.queries import final_matches, session_overview

DEMO = resource_folder("assets", "demo")
PLAYLISTS = ("Demo/Friday Warm-up", "Demo/Peak Time")
URL = re.compile(r"""https?://[^\s"'<>)]+""", re.IGNORECASE)


@dataclass(frozen=True)
class History:
    """A data folder holding two finished sessions, and the Rekordbox XML they read."""

    data_dir: Path
    xml: Path
    sessions: tuple[int, ...]  # one per playlist of PLAYLISTS


@pytest.fixture(scope="module")
def matched(tmp_path_factory: pytest.TempPathFactory) -> History:
    """Match each demo playlist once, from a copy of the demo XML (exports must not touch
    the project's assets even if a refusal broke)."""
    root = tmp_path_factory.mktemp("history")
    xml = root / "rekordbox.xml"
    shutil.copyfile(DEMO / "rekordbox.xml", xml)
    library = read_library(xml)
    paths = resolve_paths(root / "data").create()
    sessions = []
    with CatalogServer(DEMO / "catalog.jsonl").start() as server:
        settings = Settings(beatport_web_url=server.url, beatport_api_url=server.url + "/v4",
                            requests_per_second=200.0)
        for name in PLAYLISTS:
            outcome = run_match(library, [library.find_playlist(name)], settings, paths)
            assert outcome.ended.status == "completed"
            assert outcome.ended.summary.matched > 0
            sessions.append(outcome.session_id)
    return History(paths.data_dir, xml, tuple(sessions))


@pytest.fixture
def history(matched: History, tmp_path: Path) -> Iterator[History]:
    """This test's own copy of the module's data folder."""
    copy = tmp_path / "data"
    shutil.copytree(matched.data_dir, copy)
    yield History(copy, matched.xml, matched.sessions)


@pytest.fixture(autouse=True)
def no_leaked_log_files() -> Iterator[None]:
    """main() logs to the data folder's file during a command, and lets go of it after."""
    before = list(logging.getLogger().handlers)
    yield
    assert logging.getLogger().handlers == before


def cli(history: History, *args: str) -> int:
    return main(["--data-dir", str(history.data_dir), *args])


def overview(history: History, session_id: int) -> dict:
    return session_overview(resolve_paths(history.data_dir).database, session_id)


# --- report ------------------------------------------------------------------------------------

def report(history: History, capsys: pytest.CaptureFixture[str], fmt: str,
           out: Path) -> Path:
    """Run `cuepoint report` and return the file it says it wrote."""
    session_id = history.sessions[0]
    assert cli(history, "report", str(session_id), "--format", fmt, "--out", str(out)) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path.parent == out and path.suffix == f".{fmt}" and path.stat().st_size > 0
    return path


def test_html_report_is_self_contained(history, capsys, tmp_path):
    page = report(history, capsys, "html", tmp_path / "out").read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    assert "Friday Warm-up" in page
    assert all(is_beatport(url) for url in URL.findall(page)), URL.findall(page)


def test_html_report_links_only_to_beatport(history, capsys, tmp_path):
    """The local catalog's track URLs are its own; give two tracks a Beatport and a foreign
    URL to see which become links."""
    with closing(sqlite3.connect(resolve_paths(history.data_dir).database)) as connection:
        first, second = [row[0] for row in connection.execute(
            "SELECT id FROM track_results WHERE session_id = ? AND bp_id IS NOT NULL "
            "ORDER BY position LIMIT 2", (history.sessions[0],))]
        set_beatport_url(connection, first, "https://www.beatport.com/track/solstice/1")
        set_beatport_url(connection, second, "https://beatport.com.example.net/track/2")
        connection.commit()
    page = report(history, capsys, "html", tmp_path / "out").read_text(encoding="utf-8")
    assert 'href="https://www.beatport.com/track/solstice/1"' in page
    assert "example.net" not in page
    assert all(is_beatport(url) for url in URL.findall(page))


def test_json_report_holds_the_session_totals(history, capsys, tmp_path):
    document = json.loads(report(history, capsys, "json", tmp_path / "out").read_text("utf-8"))
    stored = overview(history, history.sessions[0])
    assert document["session_id"] == history.sessions[0]
    for name in ("tracks", "done", "matched", "review", "unmatched", "errors", "queries"):
        assert document["totals"][name] == stored[name], name
    assert len(document["tracks"]) == stored["tracks"]


def test_csv_report_has_a_row_per_track(history, capsys, tmp_path):
    text = report(history, capsys, "csv", tmp_path / "out").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(text.splitlines()))
    stored = overview(history, history.sessions[0])
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 1 + stored["tracks"]
    statuses = [row[CSV_COLUMNS.index("status")] for row in rows[1:]]
    assert statuses.count("matched") == stored["matched"]


def test_txt_report_reads_as_a_summary(history, capsys, tmp_path):
    text = report(history, capsys, "txt", tmp_path / "out").read_text(encoding="utf-8")
    stored = overview(history, history.sessions[0])
    assert text.startswith("CuePoint report: Friday Warm-up")
    assert f"Tracks:           {stored['done']} of {stored['tracks']}" in text


def test_report_goes_to_the_reports_folder_by_default(history, capsys):
    assert cli(history, "report", str(history.sessions[1]), "--format", "txt") == 0
    path = Path(capsys.readouterr().out.strip())
    assert path.parent == resolve_paths(history.data_dir).reports_dir and path.exists()
    assert "Peak Time" in path.name


# --- export ------------------------------------------------------------------------------------

def test_export_writes_an_enriched_copy_and_an_undo_csv(history, capsys, tmp_path):
    session_id = history.sessions[0]
    source_before = sha256(history.xml)
    out = tmp_path / "enriched.xml"
    # Overwriting, with the Comments note: the defaults fill empty fields only (issue 14).
    assert cli(history, "export", str(session_id), "--rekordbox-xml", str(out),
               "--mode", "overwrite", "--comments") == 0
    printed = capsys.readouterr().out

    assert sha256(history.xml) == source_before
    read_library(out)  # Rekordbox-readable, by our own strict reader at least
    old, new = collection(history.xml), collection(out)
    changes = undo_rows(out.with_name("enriched-changes.csv"))
    assert changes, "a demo session changes some fields"
    for change in changes:
        assert old[change["track_id"]].get(change["field"], "") == change["old"]
        assert new[change["track_id"]][change["field"]] == change["new"]
    changed = {change["track_id"] for change in changes}
    assert f"{len(changed)} tracks, {len(changes)} fields changed" in printed

    exported = {row["rekordbox"].track_id: row["final"]
                for row in final_matches(resolve_paths(history.data_dir).database, session_id)}
    for track_id, beatport in exported.items():
        if beatport is None:
            assert new[track_id] == old[track_id], "an unmatched track is left as it was"
            continue
        assert new[track_id]["Comments"].endswith(f"CuePoint: Beatport {beatport.id}")
        if beatport.label:
            assert new[track_id]["Label"] == beatport.label
        key = parse_key(beatport.key_name) or parse_key(beatport.camelot)
        if key:
            assert new[track_id]["Tonality"] == key.rekordbox_name
    assert any(beatport for beatport in exported.values())


def test_export_refuses_to_overwrite_the_input(history, capsys):
    before = sha256(history.xml)
    code = cli(history, "export", str(history.sessions[0]), "--rekordbox-xml", str(history.xml))
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("error: ") and "never overwrites" in err
    assert sha256(history.xml) == before
    assert not history.xml.with_name("rekordbox-changes.csv").exists()


def test_export_refuses_a_hard_link_to_the_input(history, capsys, tmp_path):
    link = tmp_path / "same-file.xml"
    os.link(history.xml, link)
    before = sha256(history.xml)
    assert cli(history, "export", str(history.sessions[0]), "--rekordbox-xml", str(link)) == 1
    assert "never overwrites" in capsys.readouterr().err
    assert sha256(history.xml) == before


def test_export_says_when_the_sessions_xml_is_gone(history, capsys, tmp_path):
    with closing(sqlite3.connect(resolve_paths(history.data_dir).database)) as connection:
        connection.execute("UPDATE sessions SET xml_path = ?", (str(tmp_path / "moved.xml"),))
        connection.commit()
    out = tmp_path / "enriched.xml"
    assert cli(history, "export", str(history.sessions[0]), "--rekordbox-xml", str(out)) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "moved.xml" in err and "Traceback" not in err
    assert not out.exists()


# --- vacuum ------------------------------------------------------------------------------------

def test_vacuum_keeps_every_row_without_a_retention(history, capsys):
    before = row_counts(history)
    assert cli(history, "vacuum") == 0
    assert capsys.readouterr().out.startswith("dropped 0 query rows")
    assert row_counts(history) == before
    assert integrity(history) == "ok"


def test_vacuum_drops_the_queries_of_sessions_older_than_the_retention(history, capsys):
    old, recent = history.sessions
    assert cli(history, "settings", "--set", "query_retention_days", "30") == 0
    with closing(sqlite3.connect(resolve_paths(history.data_dir).database)) as connection:
        connection.execute("UPDATE sessions SET started_at = started_at - 40 * 86400 "
                           "WHERE id = ?", (old,))
        connection.commit()
    before = row_counts(history)
    capsys.readouterr()

    assert cli(history, "vacuum") == 0
    assert capsys.readouterr().out.startswith(f"dropped {before['queries', old]} query rows")
    after = row_counts(history)
    assert before["queries", old] > 0 and after["queries", old] == 0
    assert after["queries", recent] == before["queries", recent] > 0
    assert after["tracks", old] == before["tracks", old]  # the session still reads
    assert overview(history, old)["done"] == before["tracks", old]
    assert integrity(history) == "ok"


# --- unknown sessions and bad arguments -------------------------------------------------------

@pytest.mark.parametrize("command", [["report", "999"], ["report", "999", "--format", "csv"],
                                     ["export", "999", "--rekordbox-xml", "OUT"],
                                     ["resume", "999"]])
def test_an_unknown_session_is_one_clear_line(history, capsys, tmp_path, command):
    command = [str(tmp_path / "out.xml") if part == "OUT" else part for part in command]
    assert cli(history, *command) == 1
    err = capsys.readouterr().err
    assert err == "error: There is no session 999 in the history.\n"
    assert not (tmp_path / "out.xml").exists()


def test_an_unknown_report_format_is_refused_by_the_parser(history, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli(history, "report", str(history.sessions[0]), "--format", "pdf")
    assert stopped.value.code == 2
    assert "invalid choice: 'pdf'" in capsys.readouterr().err


# --- helpers ---------------------------------------------------------------------------------

def is_beatport(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host == "beatport.com" or host.endswith(".beatport.com")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def collection(xml: Path) -> dict[str, dict[str, str]]:
    """Each COLLECTION TRACK's attributes by TrackID (the test's files are trusted)."""
    tree = ET.parse(xml)
    return {track.attrib["TrackID"]: dict(track.attrib)
            for track in tree.getroot().iterfind("COLLECTION/TRACK")}


def undo_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.DictReader(stream)
        assert tuple(reader.fieldnames or ()) == CHANGES_COLUMNS
        return list(reader)


def row_counts(history: History) -> dict[tuple[str, int], int]:
    """Query and track rows per session."""
    counts: dict[tuple[str, int], int] = {}
    with closing(sqlite3.connect(resolve_paths(history.data_dir).database)) as connection:
        for session_id in history.sessions:
            for table, name in (("queries", "queries"), ("track_results", "tracks")):
                counts[name, session_id] = connection.execute(
                    f"SELECT count(*) FROM {table} WHERE session_id = ?",
                    (session_id,)).fetchone()[0]
    return counts


def integrity(history: History) -> str:
    with closing(sqlite3.connect(resolve_paths(history.data_dir).database)) as connection:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
