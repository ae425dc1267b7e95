"""Hostile answers from a local server (tests/hostile_server.py, a proxy in front of the
catalog server): each is one track's error or a bounded cost, never the session's end.

- a session of the 300-track dev set where some answers are 200,000 nested JSON arrays
  (RecursionError) or a 302 to themselves (TooManyRedirects) ends completed, every track
  stored, the hit queries carrying their error;
- answer size, results per page, a whole-request deadline against a byte-a-second server,
  and the numbers of a track are bounded; out-of-bounds answers never reach the HTTP cache;
- a session whose answers carry `"bpm": 1e999` stores no infinity: the dashboard's track
  page, report.json and the re-import XML stay readable.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from hostile_server import HostileServer

from cuepoint_tray.catalog_server import CatalogServer
from cuepoint_tray.dashboard import DashboardAPI, DashboardServer
from cuepoint_tray.errors import BadResponseError, NetworkError
from cuepoint_tray.paths import resolve_paths
from cuepoint_tray.providers import ApiV4Provider, HttpClient
from cuepoint_tray.providers.http import MAX_ANSWER_BYTES
from cuepoint_tray.providers.parse import MAX_TRACKS_PER_ANSWER
from cuepoint_tray.rekordbox import Library, read_library
from cuepoint_tray.rekordbox.export import export_enriched
from cuepoint_tray.reports import export_matches, write_report
from cuepoint_tray.session import run_match
from cuepoint_tray.settings import Settings
from cuepoint_tray.store.queries import track_detail

from conftest import DEV_SET, require

PLAYLIST = "Sets/Dev Set"
TRACKS = 300


@pytest.fixture(scope="module")
def library() -> Library:
    return read_library(require(DEV_SET / "rekordbox.xml"))


@pytest.fixture
def hostile(catalog_server: CatalogServer) -> Iterator[HostileServer]:
    with HostileServer(catalog_server.url) as server:
        yield server


def client(tmp_path: Path, **options: float) -> HttpClient:
    settings = {"timeout_s": 5.0, "max_attempts": 2, **options}
    return HttpClient(cache_path=tmp_path / "cache.sqlite3", cache_expiry_days=30,
                      requests_per_second=0, backoff_s=0.05, backoff_max_s=0.1,
                      retry_after_cap_s=1.0, **settings)  # type: ignore[arg-type]


def api(http: HttpClient, server: HostileServer) -> ApiV4Provider:
    return ApiV4Provider(http, api_url=server.url + "/v4", token="t", web_url=server.url)


def cached_answers(tmp_path: Path) -> int:
    with sqlite3.connect(tmp_path / "cache.sqlite3") as db:
        return int(db.execute("SELECT count(*) FROM responses").fetchone()[0])


# --- one bad answer is one track's error ----------------------------------------------------


@pytest.mark.slow
def test_nested_json_and_redirect_loops_are_tracks_errors_not_the_sessions_end(
        hostile: HostileServer, library: Library, tmp_path: Path) -> None:
    def every_few_searches(number: int, path: str, query: dict[str, list[str]]) -> str | None:
        if "/search" not in path:
            return None
        text = zlib.crc32(query.get("q", [""])[0].encode())  # the same answer when asked again
        return "nested" if text % 13 == 0 else "redirect" if text % 17 == 0 else None

    hostile.choose = every_few_searches
    paths = resolve_paths(tmp_path / "data").create()
    # Signed in: an unreadable website page stops the session by design (issue 12), while
    # an unreadable API answer is one query's error.
    settings = Settings(beatport_web_url=hostile.url, beatport_api_url=hostile.url + "/v4",
                        beatport_token="hostile-test", requests_per_second=1000.0,
                        max_attempts=2)

    outcome = run_match(library, [library.find_playlist(PLAYLIST)], settings, paths)

    assert outcome.ended.status == "completed", outcome.ended.reason
    assert hostile.served["nested"] > 5 and hostile.served["redirect"] > 5
    with sqlite3.connect(paths.database) as db:
        positions = [row[0] for row in db.execute(
            "SELECT position FROM track_results ORDER BY position")]
        errors = [row[0] for row in db.execute("SELECT error FROM queries WHERE error != ''")]
    assert positions == list(range(1, TRACKS + 1))
    assert any("nested too deep" in error for error in errors)
    assert any("kept redirecting" in error for error in errors)


# --- bounds -------------------------------------------------------------------------------------


def test_an_answer_over_the_size_bound_is_refused_while_reading_and_never_cached(
        hostile: HostileServer, tmp_path: Path) -> None:
    hostile.choose = lambda number, path, query: "huge"
    http = client(tmp_path)
    tracemalloc.start()
    try:
        with pytest.raises(BadResponseError, match="too large"):
            api(http, hostile).search("anything")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        http.close()
    assert peak < 4 * MAX_ANSWER_BYTES  # 200 MB sent; before: ~950 MB held
    assert cached_answers(tmp_path) == 0


def test_a_page_listing_20000_tracks_keeps_what_was_asked(hostile: HostileServer,
                                                         tmp_path: Path) -> None:
    hostile.choose = lambda number, path, query: "json"
    hostile.payload = {"tracks": [{"id": n, "name": f"Track {n}"} for n in range(1, 20_001)]}
    http = client(tmp_path)
    try:
        found = api(http, hostile).search("anything", per_page=25)
    finally:
        http.close()
    assert len(found.tracks) <= MAX_TRACKS_PER_ANSWER
    assert cached_answers(tmp_path) == 0  # out of bounds: used once, never kept


def test_a_byte_a_second_server_is_held_to_the_requests_deadline(hostile: HostileServer,
                                                                 tmp_path: Path) -> None:
    hostile.choose = lambda number, path, query: "drip"
    http = client(tmp_path, timeout_s=2.0, max_attempts=2)
    started = time.monotonic()
    try:
        with pytest.raises(NetworkError):
            api(http, hostile).search("anything")
    finally:
        http.close()
    elapsed = time.monotonic() - started
    # two asks (an unreadable answer is asked once more) of two 2 s tries; before: the
    # 130-byte answer held each try 130 s
    assert elapsed < 20, elapsed
    assert cached_answers(tmp_path) == 0


def test_numbers_out_of_range_are_left_empty_at_the_parser(hostile: HostileServer,
                                                           tmp_path: Path) -> None:
    hostile.choose = lambda number, path, query: "json"
    hostile.payload = (b'{"tracks": ['
                       b'{"id": 10000000000000000000000000, "name": "Too big an id"},'
                       b'{"id": 7, "name": "Infinite", "bpm": 1e999, "length_ms": 1e300,'
                       b' "new_release_date": "99999-01-01"},'
                       b'{"id": 8, "name": "Fine", "bpm": 128.0, "length_ms": 360000,'
                       b' "new_release_date": "2020-05-01"}]}')
    http = client(tmp_path)
    try:
        found = api(http, hostile).search("anything")
    finally:
        http.close()
    by_id = {track.id: track for track in found.tracks}
    assert set(by_id) == {7, 8}  # the id past 2**53 is no Beatport id: skipped, said in the log
    assert (by_id[7].bpm, by_id[7].length_ms, by_id[7].release_date) == (None, None, "")
    assert (by_id[8].bpm, by_id[8].length_ms, by_id[8].release_date) == (128.0, 360000,
                                                                         "2020-05-01")


@pytest.mark.slow
def test_infinite_bpm_from_beatport_never_reaches_json_or_xml(
        hostile: HostileServer, library: Library, tmp_path: Path) -> None:
    hostile.rewrite = lambda body: re.sub(rb'"bpm":\s*[0-9.]+', b'"bpm":1e999', body)
    paths = resolve_paths(tmp_path / "data").create()
    settings = Settings(beatport_web_url=hostile.url, beatport_api_url=hostile.url + "/v4",
                        beatport_token="hostile-test", requests_per_second=1000.0)
    playlist = library.find_playlist(PLAYLIST)

    outcome = run_match(library, [playlist], settings, paths)

    assert outcome.ended.status == "completed"
    assert hostile.served["relayed"] >= TRACKS  # every track asked Beatport at least once
    with sqlite3.connect(paths.database) as db:
        assert db.execute("SELECT count(*) FROM track_results").fetchone() == (TRACKS,)
        track_ids = [row[0] for row in db.execute("SELECT id FROM track_results")]
        bpms = [candidate["beatport"]["bpm"] for track_id in track_ids
                for candidate in track_detail(paths.database, track_id)["candidates"]]
        assert bpms and [bpm for bpm in bpms if bpm is not None] == []  # 1e999 refused
        matched = db.execute("SELECT id FROM track_results WHERE status = 'matched' "
                             "LIMIT 1").fetchone()[0]
    report = write_report(paths.database, outcome.session_id, "json", tmp_path / "reports")
    json.loads(report.read_text(encoding="utf-8"), parse_constant=_refuse)
    out = tmp_path / "enriched.xml"
    export_enriched(library.path, out, export_matches(paths.database, outcome.session_id),
                    write_bpm=True)
    assert "inf" not in re.findall(r'AverageBpm="([^"]*)"', out.read_text(encoding="utf-8"))
    with DashboardServer(DashboardAPI(paths)).start() as server:
        page = requests.get(f"{server.url}/api/tracks/{matched}", timeout=10,
                            headers={"Authorization": f"Bearer {server.token}"})
    assert page.status_code == 200


def _refuse(constant: str) -> None:
    raise AssertionError(f"{constant} in report.json")
