"""Whole sessions: the dev set through the real local server, with history, files and faults."""

from __future__ import annotations

import codecs
import json
import subprocess
import sys
from dataclasses import replace

import pytest

from cuepoint_tray.catalog_server import Faults
from cuepoint_tray.cli import main
from cuepoint_tray.evaluation import Results, evaluate, read_truth
from cuepoint_tray.events import TrackDone
from cuepoint_tray.paths import resolve_paths
from cuepoint_tray.rekordbox import read_library
from cuepoint_tray.reports import RENDERERS, build_report
from cuepoint_tray.resources import resource_folder
from cuepoint_tray.session import resume_match, run_match
from cuepoint_tray.settings import Settings
from cuepoint_tray.store.queries import list_sessions, session_overview

from conftest import DEV_SET, PROJECT_ROOT, require


@pytest.fixture(scope="module")
def library():
    return read_library(require(DEV_SET / "rekordbox.xml"))


@pytest.fixture
def paths(isolated_dirs):
    return resolve_paths(isolated_dirs).create()


def settings_for(server, **changes) -> Settings:
    return replace(Settings(beatport_web_url=server.url, beatport_api_url=server.url + "/v4",
                            requests_per_second=200.0, max_attempts=2), **changes)


def test_a_session_is_matched_kept_in_history_and_reported(catalog_server, library, paths):
    playlist = library.find_playlist("First Half")
    results = Results()
    outcome = run_match(library, [playlist], settings_for(catalog_server), paths,
                        listeners=[results])

    assert outcome.ended.status == "completed"
    assert [job.position for job, _ in results.rows] == list(range(1, 151))
    score = evaluate(results.results, read_truth(require(DEV_SET / "truth.csv")))
    assert score.precision >= 0.995 and score.recall >= 0.97 and not score.false_on_absent

    stored = session_overview(paths.database, outcome.session_id)
    assert stored["status"] == "completed"
    assert (stored["done"], stored["matched"]) == (150, outcome.ended.summary.matched)
    assert outcome.report_path is not None and outcome.report_path.exists()
    assert stored["report_path"] == str(outcome.report_path)
    served = catalog_server.stats()["total"]
    assert served == stored["requests"] and served / 150 <= 1.3


def test_a_warm_rerun_sends_no_request(catalog_server, library, paths):
    playlist = library.find_playlist("First Half")
    run_match(library, [playlist], settings_for(catalog_server), paths)
    cold = catalog_server.stats()["total"]
    again = run_match(library, [playlist], settings_for(catalog_server), paths)
    assert catalog_server.stats()["total"] == cold
    assert again.ended.summary.cache_hit_rate == 1.0
    assert list_sessions(paths.database)["total"] == 2


def test_files_hold_every_track_and_why(catalog_server, library, paths, tmp_path):
    playlist = library.find_playlist("First Half")
    outcome = run_match(library, [playlist], settings_for(catalog_server), paths,
                        out_dir=tmp_path)
    results, candidates, queries = (tmp_path / name for name in
                                    ("results.csv", "candidates.csv", "queries.csv"))
    assert {results, candidates, queries, outcome.report_path} <= set(outcome.files)
    assert outcome.report_path is not None and outcome.report_path.parent == tmp_path
    assert results.read_text().count("\n") == 151
    for table in (results, candidates, queries):  # one byte order mark, for Excel
        start = table.read_bytes()[:6]
        assert start.startswith(codecs.BOM_UTF8) and not start[3:].startswith(codecs.BOM_UTF8)
    assert "lost_because" in candidates.read_text().splitlines()[0]
    assert "full" in queries.read_text()
    document = json.loads(RENDERERS["json"](build_report(paths.database, outcome.session_id)))
    truth = read_truth(require(DEV_SET / "truth.csv"))
    assert len(document["tracks"]) == 150
    for entry in document["tracks"]:
        assert "rb_name" not in entry and "bp_id" not in entry  # one spelling: nested only
        if not truth[entry["rekordbox"]["track_id"]]:
            assert entry["beatport"] is None


def test_cancel_then_resume_ends_as_an_uninterrupted_run(catalog_server, library, paths):
    playlist = library.find_playlist("First Half")
    settings = settings_for(catalog_server, concurrency=2)
    whole = run_match(library, [playlist], settings, resolve_paths(paths.data_dir / "other"))

    runners = []

    def cancel_after_40(event):
        if isinstance(event, TrackDone) and event.done == 40:
            runners[0].cancel()

    first = run_match(library, [playlist], settings, paths, listeners=[cancel_after_40],
                      on_runner=lambda runner, _session_id: runners.append(runner))
    assert first.ended.status == "cancelled"
    assert 40 <= first.ended.summary.done < 150

    resumed = resume_match(first.session_id, settings, paths)
    assert resumed.ended.status == "completed"
    assert resumed.session_id == first.session_id
    stored = session_overview(paths.database, first.session_id)
    assert stored["done"] == 150 and stored["status"] == "completed"
    assert stored["matched"] == whole.ended.summary.matched
    assert stored["unmatched"] == whole.ended.summary.unmatched


def test_a_cloudflare_block_pauses_the_session_with_a_plain_reason(catalog_server, library,
                                                                   paths):
    catalog_server.faults = Faults(cloudflare=True)
    outcome = run_match(library, [library.find_playlist("First Half")],
                        settings_for(catalog_server), paths)
    assert outcome.ended.status == "paused"
    assert "blocked automated access" in outcome.ended.reason
    # Issue #12: the way out is signing in (it used to say "add an API token").
    assert "sign in to Beatport (Settings, or `cuepoint login`)" in outcome.ended.reason
    assert outcome.ended.summary.unmatched == 0  # a fault is never reported as "no match"


def test_a_track_that_could_not_be_searched_is_an_error_not_a_no_match(catalog_server, library,
                                                                       paths):
    # Beatport's API answers, but every answer has its tracks' name field renamed: nothing
    # can be read. (Beatport not answering at all makes the session wait:
    # test_network_faults.py. The website's unreadable pages stop the session instead, since
    # issue #12: test_signin.py.)
    catalog_server.faults = Faults(renamed_field_rate=1.0)
    results = Results()
    outcome = run_match(library, [library.find_playlist("First Half")],
                        settings_for(catalog_server, max_attempts=1, beatport_token="local"),
                        paths, listeners=[results])
    summary = outcome.ended.summary
    assert outcome.ended.status == "completed"
    assert summary.errors == 150 and summary.unmatched == 0 and summary.matched == 0
    assert all(r.status == "error" and "could not be read" in r.error for r in results.results)


def test_cli_match_writes_files_and_prints_a_summary(catalog_server, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["settings", "--set", "requests_per_second", "200"]) == 0  # not 4/s: 40 s
    code = main(["match", "--xml", str(require(DEV_SET / "rekordbox.xml")), "--playlist",
                 "First Half",
                 "--beatport-url", catalog_server.url, "--out", str(out),
                 "--json-out", str(tmp_path / "session.json")])
    printed = capsys.readouterr().out
    assert code == 0
    assert "matched" in printed and "to review" in printed and "cache hits" in printed
    document = json.loads((tmp_path / "session.json").read_text())
    assert len(document["tracks"]) == 150
    assert {"results.csv", "candidates.csv", "queries.csv"} <= {p.name for p in out.iterdir()}


def test_cli_unknown_playlist_suggests_names(capsys):
    code = main(["match", "--xml", str(require(DEV_SET / "rekordbox.xml")),
                 "--playlist", "Dev Sett"])
    err = capsys.readouterr().err
    assert code == 1 and "Dev Set" in err and "Traceback" not in err


def test_cli_eval_prints_the_figures(tmp_path):
    command = [sys.executable, "-m", "cuepoint_tray", "--data-dir", str(tmp_path), "eval",
               "--catalog", str(require(DEV_SET / "catalog.jsonl")),
               "--xml", str(require(DEV_SET / "rekordbox.xml")), "--playlist", "First Half",
               "--truth", str(require(DEV_SET / "truth.csv")),
               "--families", str(require(DEV_SET / "families.csv"))]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120,
                          cwd=PROJECT_ROOT)
    assert done.returncode == 0, done.stderr
    for figure in ("precision", "recall", "false on absent", "requests/track", "per family"):
        assert figure in done.stdout
    assert "Traceback" not in done.stderr


def test_history_cli_lists_shows_and_compares(catalog_server, library, paths, capsys):
    playlist = library.find_playlist("First Half")
    first = run_match(library, [playlist], settings_for(catalog_server), paths)
    second = run_match(library, [playlist], settings_for(catalog_server), paths)
    assert main(["sessions"]) == 0
    assert "First Half" in capsys.readouterr().out
    assert main(["show", str(first.session_id)]) == 0
    shown = capsys.readouterr().out
    assert "queries by type" in shown and "full" in shown
    assert main(["compare", str(first.session_id), str(second.session_id)]) == 0
    assert "tracks that differ: none" in capsys.readouterr().out
    assert main(["show", "999"]) == 1
    assert "999" in capsys.readouterr().err


def test_demo_files_exist_and_parse():
    demo = read_library(resource_folder("assets", "demo") / "rekordbox.xml")
    assert demo.find_playlist("Demo/Friday Warm-up").track_ids
    assert (resource_folder("assets", "demo") / "catalog.jsonl").stat().st_size < 3_000_000
