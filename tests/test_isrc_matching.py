"""ISRC first: a track carrying an ISRC is looked up exactly (API v4 `?isrc=`) before any
search, through the local catalog server; the answer is still scored against the track, so a
wrong ISRC cannot force a wrong match, and several releases of one ISRC are one recording."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from cuepoint_tray.catalog_server import CatalogServer
from cuepoint_tray.dashboard import DashboardAPI
from cuepoint_tray.domain import RekordboxTrack
from cuepoint_tray.evaluation import Results, evaluate, read_truth
from cuepoint_tray.matching.matcher import TrackMatcher
from cuepoint_tray.paths import resolve_paths
from cuepoint_tray.providers import make_http_client, make_provider
from cuepoint_tray.rekordbox import open_library
from cuepoint_tray.session import run_match
from cuepoint_tray.settings import Settings
from cuepoint_tray.store.queries import query_stats_by_type

from conftest import DEV_SET, require
from masterdb_builder import copy_of_xml_library, every_third_isrc


def settings_for(server: CatalogServer, **changes: Any) -> Settings:
    return replace(Settings(beatport_web_url=server.url, beatport_api_url=server.url + "/v4",
                            beatport_token="local", requests_per_second=200.0,
                            max_attempts=2), **changes)


@pytest.fixture(scope="module")
def isrc_library(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The dev set as a master.db, a third of its tracks carrying their Beatport ISRC."""
    isrcs = every_third_isrc(require(DEV_SET / "truth.csv"), DEV_SET / "catalog.jsonl")
    out = tmp_path_factory.mktemp("isrc") / "master.db"
    ids = copy_of_xml_library(require(DEV_SET / "rekordbox.xml"), out, isrcs=isrcs)
    return out, {ids[track_id]: isrc for track_id, isrc in isrcs.items()}


@pytest.fixture
def paths(isolated_dirs: Path) -> Any:
    return resolve_paths(isolated_dirs).create()


def test_a_master_db_playlist_is_matched_isrc_first(catalog_server: CatalogServer,
                                                    isrc_library: Any, paths: Any) -> None:
    db, isrcs = isrc_library
    library = open_library(db)
    playlist = library.find_playlist("First Half")
    results = Results()
    outcome = run_match(library, [playlist], settings_for(catalog_server), paths,
                        listeners=[results])
    assert outcome.ended.status == "completed" and len(results.rows) == 150

    with_isrc = [result for _, result in results.rows if result.rekordbox.isrc]
    assert len(with_isrc) == 50  # every third track
    for result in with_isrc:
        assert result.queries[0].type == "isrc"
        assert result.queries[0].text == isrcs[result.rekordbox.track_id]
    beatport_knows = [r for r in with_isrc if not r.rekordbox.isrc.startswith("ZZ")]
    by_isrc = [r for r in beatport_knows if r.match and r.early_exit_at == 1]
    assert len(by_isrc) >= 0.9 * len(beatport_knows)  # one request, found and sure
    assert all(len(r.queries) == 1 and r.candidates[0].found_by == "isrc" for r in by_isrc)
    unknown = [r for r in with_isrc if r.rekordbox.isrc.startswith("ZZ")]
    assert all(len(r.queries) > 1 for r in unknown)  # an ISRC Beatport lacks: searched on
    without = [result for _, result in results.rows if not result.rekordbox.isrc]
    assert all(q.type != "isrc" for r in without for q in r.queries)

    # The truth file speaks of the XML's TrackIDs: same tracks, same order in the playlist.
    xml = open_library(DEV_SET / "rekordbox.xml")
    in_order = xml.find_playlist("First Half").track_ids
    relabelled = [replace(result, rekordbox=replace(result.rekordbox, track_id=track_id))
                  for (_, result), track_id in zip(results.rows, in_order, strict=True)]
    score = evaluate(relabelled, read_truth(DEV_SET / "truth.csv"))
    assert score.precision >= 0.995 and score.recall >= 0.97

    stats = {row["type"]: row for row in query_stats_by_type(paths.database, outcome.session_id)}
    assert stats["isrc"]["count"] == len(with_isrc)
    served = catalog_server.stats()
    assert served["api_isrc"] == len(with_isrc)
    shown = DashboardAPI(paths).session(outcome.session_id)["query_stats"]
    assert "isrc" in {row["type"] for row in shown}


def catalog_file(folder: Path, records: list[dict[str, Any]]) -> Path:
    path = folder / "catalog.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def record(track_id: int, name: str, artist: str, isrc: str, label: str,
           length_ms: int = 372000, mix: str = "Original Mix") -> dict[str, Any]:
    return {"id": track_id, "name": name, "mix_name": mix, "slug": name.lower(),
            "artists": [{"id": track_id * 10, "name": artist, "slug": artist.lower()}],
            "remixers": [], "bpm": 126, "key": {"id": 8, "name": "A Minor", "camelot_number": 8,
                                                "camelot_letter": "A"},
            "genre": {"id": 1, "name": "Techno", "slug": "techno"},
            "label": {"id": track_id, "name": label, "slug": label.lower()},
            "release": {"id": track_id, "name": name, "slug": name.lower(),
                        "label": {"id": track_id, "name": label, "slug": label.lower()}},
            "new_release_date": "2024-05-01", "publish_date": "2024-05-01",
            "length_ms": length_ms, "isrc": isrc, "catalog_number": f"CAT{track_id}"}


@pytest.fixture
def small_catalog(tmp_path: Path) -> Any:
    records = [
        record(1, "Glass Tide", "Mara Lind", "GBAYE2400001", "Tidewater"),
        # the same recording on a compilation: same ISRC, another label, 2 s longer
        record(2, "Glass Tide", "Mara Lind", "GBAYE2400001", "Best Of Techno", 374000),
        record(3, "Night Shift", "Ola Berg", "GBAYE2400002", "Nordic"),
    ]
    with CatalogServer(catalog_file(tmp_path, records)).start() as server:
        yield server


def matcher_for(server: CatalogServer, paths: Any) -> tuple[TrackMatcher, Any]:
    settings = settings_for(server)
    http = make_http_client(settings, paths.http_cache)
    provider = make_provider(settings, http)
    return TrackMatcher(provider, isrc_lookup=provider.track_by_isrc), http


def test_releases_of_one_isrc_are_one_recording(small_catalog: CatalogServer,
                                                paths: Any) -> None:
    matcher, http = matcher_for(small_catalog, paths)
    try:
        result = matcher.match(RekordboxTrack("1", "Glass Tide", "Mara Lind", total_time=372,
                                              isrc="GB-AYE-24-00001"))
    finally:
        http.close()
    assert result.match is not None and result.match.id in (1, 2)
    assert result.confidence == "strong" and result.early_exit_at == 1
    assert [q.type for q in result.queries] == ["isrc"]


def test_a_wrong_isrc_does_not_force_a_wrong_match(small_catalog: CatalogServer,
                                                   paths: Any) -> None:
    matcher, http = matcher_for(small_catalog, paths)
    try:  # the tag carries Glass Tide's ISRC, but the file is Night Shift
        result = matcher.match(RekordboxTrack("2", "Night Shift", "Ola Berg", total_time=372,
                                              isrc="GBAYE2400001"))
    finally:
        http.close()
    assert [q.type for q in result.queries][0] == "isrc"
    assert len(result.queries) > 1  # the ISRC's answer did not satisfy: searched on
    assert result.match is not None and result.match.id == 3


def test_a_malformed_isrc_is_not_asked(small_catalog: CatalogServer, paths: Any) -> None:
    matcher, http = matcher_for(small_catalog, paths)
    try:
        result = matcher.match(RekordboxTrack("3", "Night Shift", "Ola Berg", isrc="n/a"))
    finally:
        http.close()
    assert "isrc" not in [q.type for q in result.queries]


def test_the_website_provider_sends_no_isrc_query(catalog_server: CatalogServer,
                                                  isrc_library: Any, paths: Any) -> None:
    db, _ = isrc_library
    library = open_library(db)
    results = Results()
    outcome = run_match(library, [library.find_playlist("Dev Set")],
                        settings_for(catalog_server, beatport_token=""), paths,
                        listeners=[results])
    assert outcome.meta["provider"] == "website"
    assert all(q.type != "isrc" for _, r in results.rows for q in r.queries)
    assert catalog_server.stats()["api_isrc"] == 0


def test_unreadable_keys_are_reported_once_with_a_count(catalog_server: CatalogServer,
                                                        paths: Any, tmp_path: Path) -> None:
    xml = tmp_path / "keys.xml"
    tracks = "".join(
        f'<TRACK TrackID="{n}" Name="Song {n}" Artist="Someone" Tonality="{key}"/>'
        for n, key in enumerate(["Am", "Xm7", "1m", "Xm7", "??"], start=1))
    entries = "".join(f'<TRACK Key="{n}"/>' for n in range(1, 6))
    xml.write_text(f'<?xml version="1.0" encoding="UTF-8"?><DJ_PLAYLISTS Version="1.0.0">'
                   f'<COLLECTION Entries="5">{tracks}</COLLECTION><PLAYLISTS>'
                   f'<NODE Type="0" Name="ROOT" Count="1"><NODE Name="Keys" Type="1" KeyType="0"'
                   f' Entries="5">{entries}</NODE></NODE></PLAYLISTS></DJ_PLAYLISTS>',
                   encoding="utf-8")
    library = open_library(xml)
    outcome = run_match(library, [library.find_playlist("Keys")], settings_for(catalog_server),
                        paths)
    notes = outcome.meta["notices"]
    assert len(notes) == 1 and notes[0].startswith("3 tracks carry a key CuePoint cannot read")
    assert "'Xm7', '??'" in notes[0]
    overview = DashboardAPI(paths).session(outcome.session_id)["overview"]
    assert [e["message"] for e in overview["recent_errors"]] == notes
