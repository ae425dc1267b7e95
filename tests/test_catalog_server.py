"""The local Beatport-compatible server, over HTTP: shapes against real captures, search,
paging, auth, every fault switch, /_stats, token refresh and the CLI."""

from __future__ import annotations

import http.client
import importlib.util
import json
import re
import socket
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from cuepoint_tray.catalog_server import Catalog, CatalogServer, Faults
from cuepoint_tray.errors import CuepointError

from conftest import DEV_SET, PROJECT_ROOT, REAL_CAPTURES, require

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NEXT_DATA = re.compile(
    r'<script id="__NEXT_DATA__" type="application/json"[^>]*>(.*?)</script>', re.S)
Serve = Callable[..., CatalogServer]


# --- a small store with the decoys a real one has ------------------------------------------------

def _person(name: str) -> dict[str, Any]:
    return {"id": zlib.crc32(name.encode()) % 900_000, "name": name,
            "slug": re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")}


def _track(track_id: int, name: str, mix: str = "Original Mix", *,
           artists: tuple[str, ...] = ("Ana Núñez",), remixers: tuple[str, ...] = (),
           label: str = "Lowfold Records", release: tuple[int, str] = (1, "Undertow EP"),
           isrc: str | None = None, key: tuple[str, int] = ("Db Minor", 23)) -> dict[str, Any]:
    label_object = {"id": zlib.crc32(label.encode()) % 90_000, "name": label, "slug": "label"}
    return {
        "id": track_id, "name": name, "mix_name": mix, "slug": name.lower().replace(" ", "-"),
        "artists": [_person(artist) for artist in artists],
        "remixers": [_person(remixer) for remixer in remixers], "bpm": 124,
        "key": {"id": key[1], "name": key[0], "camelot_number": 12, "camelot_letter": "A"},
        "genre": {"id": 12, "name": "Deep House", "slug": "deep-house"}, "label": label_object,
        "release": {"id": release[0], "name": release[1], "slug": "release",
                    "label": label_object},
        "new_release_date": "2021-05-14", "publish_date": "2021-05-14", "length_ms": 412_345,
        "isrc": isrc or f"QZT99210{track_id:04d}", "catalog_number": "LOWF001",
    }


STORE = [
    _track(101, "Undertow", isrc="QZT992100101"),
    _track(102, "Undertow", "Extended Mix"),
    _track(103, "Undertow", "Radio Edit"),
    _track(104, "Undertow", "Kolvane Remix", remixers=("Kolvane",),
           release=(2, "Undertow (The Remixes)")),
    _track(105, "Undertow", artists=("Teodor Varga",), label="Brass Owl Audio",
           release=(3, "Undertow")),
    _track(106, "Fjäril", artists=("Bjørn Sørlie", "Øystein"), release=(4, "Fjäril EP"),
           key=("Bb Major", 12)),
    _track(107, "Saltwater (Live)", artists=("Zélie",), release=(5, "Saltwater")),
    _track(108, "Undertow", isrc="QZT992100101", label="Tidewater Music",
           release=(6, "Tidewater Sampler 2023")),
    _track(109, "Quartz Lagoon", "Dub Mix", artists=("Mira Halloran", "Idris Okafor"),
           release=(7, "Quartz Lagoon")),
] + [_track(1000 + n, f"Filler Song {n}", artists=("Filler Artist",), release=(8, "Fillers"))
     for n in range(150)]


@pytest.fixture(scope="module")
def catalog_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store") / "catalog.jsonl"
    path.write_text("".join(json.dumps(track, ensure_ascii=False) + "\n" for track in STORE),
                    encoding="utf-8")
    return path


@pytest.fixture
def serve(catalog_file: Path) -> Iterator[Serve]:
    """Start servers over the small store; every one is stopped after the test."""
    servers: list[CatalogServer] = []

    def start(**options: Any) -> CatalogServer:
        servers.append(CatalogServer(catalog_file, **options).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def server(serve: Serve) -> CatalogServer:
    return serve(token=TOKEN)


def api(server: CatalogServer, path: str, **params: Any) -> requests.Response:
    return requests.get(server.url + path, params=params, headers=AUTH, timeout=5)


def web(server: CatalogServer, path: str, **params: Any) -> requests.Response:
    return requests.get(server.url + path, params=params, timeout=5)


def next_data(page: str) -> dict[str, Any]:
    found = NEXT_DATA.search(page)
    assert found, "no __NEXT_DATA__ script in the page"
    return dict(json.loads(found.group(1)))


def search_data(page: str) -> dict[str, Any]:
    return dict(next_data(page)["props"]["pageProps"]["dehydratedState"]["queries"][0]
                ["state"]["data"])


def search_ids(server: CatalogServer, query: str) -> list[int]:
    tracks = api(server, "/v4/catalog/search/", q=query, type="tracks").json()["tracks"]
    return [track["id"] for track in tracks]


# --- real captures -----------------------------------------------------------------------------

def real_search_page() -> dict[str, Any]:
    html = require(REAL_CAPTURES / "www-search-all-noisia.html").read_text(encoding="utf-8")
    return next_data(html)


def real_track_pages() -> list[dict[str, Any]]:
    names = ["purpose", "purpose_remix", "concussion"]
    pages = [json.loads(require(REAL_CAPTURES / f"www-track-pageprops-noisia_{name}_beatport.json")
                        .read_text(encoding="utf-8")) for name in names]
    return [page.get("props", page) | {"_top": page} for page in pages]


def real_search_tracks() -> list[dict[str, Any]]:
    queries = real_search_page()["props"]["pageProps"]["dehydratedState"]["queries"]
    return list(queries[0]["state"]["data"]["tracks"]["data"])


# Fields our v4 tracks carry beyond the captured track pages: the catalog's convenience
# top-level label (beatport-formats.md) and the API object's own url.
V4_EXTRAS = {"label", "url"}
V4_ESSENTIALS = {"id", "name", "mix_name", "slug", "artists", "remixers", "bpm", "key", "genre",
                 "sub_genre", "release", "isrc", "length", "length_ms", "new_release_date",
                 "publish_date", "catalog_number", "number", "exclusive", "current_status",
                 "sale_type", "price", "sample_url"}
SEARCH_ESSENTIALS = {"track_id", "track_name", "mix_name", "artists", "bpm", "key_name", "key_id",
                     "label", "genre", "release", "release_date", "publish_date", "length",
                     "isrc", "track_number", "catalog_number", "price", "score"}


def test_api_search_has_the_real_answer_shape(server: CatalogServer) -> None:
    real = json.loads(require(REAL_CAPTURES / "api-v4-search-shape.json").read_text())
    ours = api(server, "/v4/catalog/search/", q="undertow", type="tracks").json()
    assert set(ours) == set(real)
    assert ours["order"] == ["tracks"]
    assert all(isinstance(ours[kind], list) for kind in real if kind != "order")
    assert len(ours["tracks"]) == 6


def test_v4_track_matches_the_real_track_pages(server: CatalogServer) -> None:
    ours = api(server, "/v4/catalog/tracks/104/").json()
    for page in real_track_pages():
        real = page["pageProps"]["track"]
        assert set(ours) >= V4_ESSENTIALS and set(real) >= V4_ESSENTIALS
        assert set(ours) - set(real) <= V4_EXTRAS
        assert set(ours["key"]) == set(real["key"])
        assert set(ours["key"]["chord_type"]) == set(real["key"]["chord_type"])
        assert set(ours["release"]) == set(real["release"])
        assert set(ours["release"]["label"]) <= set(real["release"]["label"])
        assert set(ours["release"]["image"]) == set(real["release"]["image"])
        assert set(ours["artists"][0]) <= set(real["artists"][0])
        assert set(ours["genre"]) == set(real["genre"])
        assert set(ours["price"]) == set(real["price"])


def test_v4_track_values_are_derived_from_the_catalog(server: CatalogServer) -> None:
    track = api(server, "/v4/catalog/tracks/104/").json()
    assert (track["name"], track["mix_name"]) == ("Undertow", "Kolvane Remix")
    assert [person["name"] for person in track["remixers"]] == ["Kolvane"]
    assert track["length"] == "6:52" and track["length_ms"] == 412_345
    assert track["key"] | {"url": "", "chord_type": {}} == {
        "id": 23, "name": "Db Minor", "camelot_number": 12, "camelot_letter": "A",
        "letter": "D", "is_sharp": False, "is_flat": True, "chord_type": {}, "url": ""}
    assert track["key"]["chord_type"]["name"] == "Minor"
    assert track["release"]["label"]["name"] == "Lowfold Records"
    assert track["sub_genre"] is None and track["number"] == 1
    assert track["url"] == f"{server.url}/v4/catalog/tracks/104/"


def test_search_page_tracks_have_the_real_search_service_shape(server: CatalogServer) -> None:
    real_tracks = real_search_tracks()
    ours = search_data(web(server, "/search/tracks", q="Undertow Kolvane").text)["data"]
    assert ours[0]["track_id"] == 104
    real_keys = set().union(*(set(track) for track in real_tracks))
    for track in ours:
        assert SEARCH_ESSENTIALS <= set(track) <= real_keys
    sample, real = ours[0], real_tracks[0]
    for field in ("label", "release", "price", "current_status"):
        assert set(sample[field]) == set(real[field]), field
    assert set(sample["genre"][0]) == set(real["genre"][0])
    assert set(sample["artists"][0]) == set(real["artists"][0])


def test_search_page_values_follow_the_search_service_conventions(server: CatalogServer) -> None:
    track = search_data(web(server, "/search/tracks", q="Undertow Kolvane").text)["data"][0]
    assert track["key_name"] == "C# Minor"  # sharps on search pages, flats in API v4
    assert [(a["artist_name"], a["artist_type_name"]) for a in track["artists"]] == [
        ("Ana Núñez", "Artist"), ("Kolvane", "Remixer")]
    assert track["release_date"] == track["publish_date"] == "2021-05-14T00:00:00"
    assert track["length"] == 412_345 and isinstance(track["score"], float)
    assert track["label"]["label_name"] == "Lowfold Records"
    assert track["release"]["release_image_uri"].startswith("https://")


def test_search_page_layout_matches_the_real_page(server: CatalogServer) -> None:
    real = real_search_page()
    ours = next_data(web(server, "/search/tracks", q="undertow", page=1).text)
    assert set(ours) <= set(real) and ours["page"] == "/search/tracks"
    real_query = real["props"]["pageProps"]["dehydratedState"]["queries"][0]
    our_query = ours["props"]["pageProps"]["dehydratedState"]["queries"][0]
    assert set(our_query) == set(real_query)
    assert set(our_query["state"]) == set(real_query["state"])
    key = our_query["queryKey"]
    assert len(key) == 1 and key[0].startswith("search-tracks-q=undertow&")
    assert our_query["queryHash"] == json.dumps(key, separators=(",", ":"))
    data = our_query["state"]["data"]
    assert (data["count"], data["page"], data["per_page"], len(data["data"])) == (6, 1, 25, 6)


def test_search_all_page_holds_tracks_like_the_real_one(server: CatalogServer) -> None:
    real = real_search_page()["props"]["pageProps"]["dehydratedState"]["queries"][0]
    ours = search_data(web(server, "/search", q="filler").text)
    assert set(ours) == set(real["state"]["data"])
    assert len(ours["tracks"]["data"]) == 15


def test_track_page_layout_matches_the_real_page(server: CatalogServer) -> None:
    real = real_track_pages()[0]["_top"]
    ours = next_data(web(server, "/track/anything/106").text)
    assert set(ours) == set(real)
    assert ours["page"] == real["page"] and set(ours["query"]) == set(real["query"])
    props = ours["props"]["pageProps"]
    query = props["dehydratedState"]["queries"][0]
    assert query["queryKey"] == ["track-106"]
    assert query["state"]["data"] == props["track"]
    assert props["track"]["name"] == "Fjäril" and props["track"]["key"]["name"] == "Bb Major"


# --- search ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "expected"), [
    ("Undertow Ana Núñez Extended Mix", 102),
    ("Ana Nunez Undertow Radio Edit", 103),
    ("Teodor Varga Undertow", 105),
    ("Undertow Kolvane Remix", 104),
    ("Quartz Lagoon Mira Halloran Idris Okafor", 109),
    ("Brass Owl Undertow", 105),
])
def test_an_exact_query_ranks_its_track_first(server: CatalogServer, query: str,
                                               expected: int) -> None:
    assert search_ids(server, query)[0] == expected


@pytest.mark.parametrize("query", ["fjaril bjorn sorlie oystein", "FJÄRIL", "Fjãril",
                                   "BJØRN SØRLIE", "bjørn", "Oystein"])
def test_accents_case_and_folded_letters_match(server: CatalogServer, query: str) -> None:
    assert search_ids(server, query)[0] == 106


def test_plain_letters_find_accented_names(server: CatalogServer) -> None:
    assert search_ids(server, "zelie saltwater")[0] == 107
    assert search_ids(server, "ana nunez")[0] in {101, 102, 103, 104, 108}


@pytest.mark.parametrize("query", [
    '"', '"unbalanced', "(", ")", "Saltwater (Live)", "AND", "Undertow AND", "OR NOT", "-",
    "Undertow -Kolvane", "*", "Under*", "^Undertow", "title:Undertow", "NEAR(Undertow Ana)",
    "'", "Ana's", "{a b}", ":", "\\", "%", "Undertow + Ana", "a\x00b",
])
def test_fts_syntax_in_queries_never_breaks_search(server: CatalogServer, query: str) -> None:
    assert api(server, "/v4/catalog/search/", q=query, type="tracks").status_code == 200
    response = web(server, "/search/tracks", q=query)
    assert response.status_code == 200
    assert next_data(response.text)["props"]["pageProps"]["query"] == query


@pytest.mark.parametrize("query", ["", "   ", "--", "()"])
def test_an_empty_query_finds_nothing_without_error(server: CatalogServer, query: str) -> None:
    answer = api(server, "/v4/catalog/search/", q=query, type="tracks")
    assert answer.status_code == 200 and answer.json()["tracks"] == []
    data = search_data(web(server, "/search/tracks", q=query).text)
    assert (data["data"], data["count"]) == ([], 0)


def test_script_text_in_a_query_cannot_break_the_page(server: CatalogServer) -> None:
    query = "</script><script>alert(1)</script> \u2028 & <b>"
    page = web(server, "/search/tracks", q=query).text
    assert "<script>alert" not in page
    assert next_data(page)["props"]["pageProps"]["query"] == query


def test_paging_and_page_size_clamp(server: CatalogServer) -> None:
    def page_of(**params: Any) -> dict[str, Any]:
        return search_data(web(server, "/search/tracks", q="filler", **params).text)

    first, second = page_of(), page_of(page=2)
    assert first["count"] == 150 and len(first["data"]) == 25
    assert not {t["track_id"] for t in first["data"]} & {t["track_id"] for t in second["data"]}
    assert len(page_of(**{"per-page": 500})["data"]) == 100
    assert len(page_of(page=2, **{"per-page": 100})["data"]) == 50
    assert page_of(page=9)["data"] == []
    assert len(page_of(**{"per-page": 0})["data"]) == 1
    tracks = api(server, "/v4/catalog/search/", q="filler", per_page=1000).json()["tracks"]
    assert len(tracks) == 100
    assert len(api(server, "/v4/catalog/search/", q="filler").json()["tracks"]) == 25
    assert api(server, "/v4/catalog/search/", q="filler", page=7).json()["tracks"] == []


def test_search_with_another_type_returns_no_tracks(server: CatalogServer) -> None:
    answer = api(server, "/v4/catalog/search/", q="undertow", type="releases").json()
    assert answer["tracks"] == [] and answer["order"] == []


# --- lookups, auth, 404s -----------------------------------------------------------------------

def test_isrc_lookup_pages_like_the_api(server: CatalogServer) -> None:
    listing = api(server, "/v4/catalog/tracks/", isrc="qzt992100101").json()
    assert set(listing) == {"count", "next", "previous", "page", "per_page", "results"}
    assert listing["count"] == 2 and {t["id"] for t in listing["results"]} == {101, 108}
    first = api(server, "/v4/catalog/tracks/", isrc="QZT992100101", per_page=1).json()
    assert first["previous"] is None and len(first["results"]) == 1
    second = requests.get(first["next"], headers=AUTH, timeout=5).json()
    assert second["next"] is None and second["previous"] and second["page"] == "2/2"
    assert api(server, "/v4/catalog/tracks/", isrc="XX0000000000").json()["results"] == []


def test_a_page_past_the_end_of_a_list_is_404(server: CatalogServer) -> None:
    answer = api(server, "/v4/catalog/tracks/", isrc="QZT992100101", page=5)
    assert answer.status_code == 404 and answer.json() == {"detail": "Invalid page."}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"},
                                     {"Authorization": f"Basic {TOKEN}"},
                                     {"Authorization": "Bearer"}])
@pytest.mark.parametrize("path", ["/v4/catalog/search/?q=undertow", "/v4/catalog/tracks/101/",
                                  "/v4/catalog/tracks/?isrc=QZT992100101", "/v4/nowhere/"])
def test_the_api_refuses_requests_without_the_token(server: CatalogServer, headers: dict[str, str],
                                                    path: str) -> None:
    answer = requests.get(server.url + path, headers=headers, timeout=5)
    assert answer.status_code == 401
    assert answer.json() == {"detail": "Authentication credentials were not provided."}
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_server_without_a_token_still_wants_a_bearer_header(serve: Serve) -> None:
    server = serve()
    assert requests.get(server.url + "/v4/catalog/tracks/101/", timeout=5).status_code == 401
    answer = requests.get(server.url + "/v4/catalog/tracks/101/",
                          headers={"Authorization": "Bearer anything"}, timeout=5)
    assert answer.status_code == 200


def test_unknown_things_are_404(server: CatalogServer) -> None:
    for path in ("/v4/catalog/tracks/999/", "/v4/catalog/tracks/abc/", "/v4/catalog/nothing/"):
        answer = api(server, path)
        assert answer.status_code == 404 and answer.json() == {"detail": "Not found."}
    for path in ("/track/undertow/999", "/track/undertow/abc", "/no/such/page"):
        page = web(server, path)
        assert page.status_code == 404 and next_data(page.text)["page"] == "/_error"


def test_track_pages_answer_any_slug(server: CatalogServer) -> None:
    assert web(server, "/track/wrong-slug/101").status_code == 200


# --- fault switches ----------------------------------------------------------------------------

def test_latency_delays_every_answer(serve: Serve) -> None:
    server = serve(token=TOKEN, faults=Faults(latency_ms=150))
    with requests.Session() as session:
        session.get(server.url + "/search/tracks?q=x", timeout=5)  # open the connection
        took = []
        for _ in range(4):
            started = time.perf_counter()
            session.get(server.url + "/search/tracks?q=undertow", timeout=5)
            took.append(time.perf_counter() - started)
    assert min(took) >= 0.115 and max(took) < 0.6  # 150 ms ± 20 % plus overhead


def test_rate_limit_refuses_bursts_with_retry_after(serve: Serve) -> None:
    server = serve(token=TOKEN, faults=Faults(rate_limit=5))
    with requests.Session() as session:
        answers = [session.get(server.url + "/v4/catalog/tracks/101/", headers=AUTH, timeout=5)
                   for _ in range(12)]
        page = session.get(server.url + "/search/tracks?q=x", timeout=5)
    refused = [answer for answer in answers if answer.status_code == 429]
    assert [answer.status_code for answer in answers[:5]] == [200] * 5 and len(refused) >= 5
    assert all(int(answer.headers["Retry-After"]) >= 1 for answer in refused)
    assert refused[0].json()["detail"].startswith("Request was throttled.")
    assert page.status_code == 429 and "Retry-After" in page.headers


def test_a_client_pacing_at_the_rate_limit_is_never_refused(serve: Serve) -> None:
    rate = 20.0
    server = serve(token=TOKEN, faults=Faults(rate_limit=rate))
    statuses = []
    with requests.Session() as session:
        # Empty the bucket first: pacing must hold even with no burst allowance left.
        drained = [session.get(server.url + "/search/tracks?q=x", timeout=5).status_code
                   for _ in range(int(rate) + 5)]
        assert 429 in drained
        started = time.monotonic() + 1 / rate
        for index in range(int(rate)):
            time.sleep(max(0.0, started + index / rate - time.monotonic()))
            statuses.append(session.get(server.url + "/search/tracks?q=undertow",
                                        timeout=5).status_code)
    assert statuses == [200] * int(rate)


def test_error_rate_is_about_p_and_repeats_with_a_seed(serve: Serve) -> None:
    server = serve(token=TOKEN, faults=Faults(error_rate=0.25, seed=11))

    def statuses(count: int) -> list[int]:
        with requests.Session() as session:
            return [session.get(server.url + "/v4/catalog/tracks/101/", headers=AUTH,
                                timeout=5).status_code for _ in range(count)]

    first = statuses(200)
    failed = [status for status in first if status != 200]
    assert 0.17 <= len(failed) / 200 <= 0.33
    assert set(failed) == {500, 502, 503}
    server.faults = Faults(error_rate=0.25, seed=11)
    assert statuses(50) == first[:50]


def test_timeout_rate_makes_a_short_client_timeout_expire(serve: Serve) -> None:
    server = serve(token=TOKEN, faults=Faults(timeout_rate=1.0, hang_s=3.0))
    with pytest.raises(requests.Timeout):
        requests.get(server.url + "/search/tracks?q=undertow", timeout=0.3)
    server.faults = Faults()
    assert web(server, "/search/tracks", q="undertow").status_code == 200


def test_cloudflare_challenges_website_paths_only(serve: Serve) -> None:
    server = serve(token=TOKEN, faults=Faults(cloudflare=True))
    for path in ("/search/tracks?q=undertow", "/track/undertow/101"):
        page = requests.get(server.url + path, timeout=5)
        assert page.status_code == 403 and page.headers["cf-mitigated"] == "challenge"
        assert "<title>Just a moment...</title>" in page.text and "_cf_chl_opt" in page.text
        assert "__NEXT_DATA__" not in page.text and page.headers["Server"] == "cloudflare"
    assert api(server, "/v4/catalog/tracks/101/").status_code == 200


def test_reset_closes_the_connection_without_an_answer(serve: Serve) -> None:
    server = serve(token=TOKEN, faults=Faults(reset_rate=1.0))
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url + "/search/tracks?q=undertow", timeout=5)
    assert server.stats()["by_status"] == {"reset": 1}


def test_truncate_cuts_the_body_short_of_its_content_length(serve: Serve) -> None:
    server = serve(token=TOKEN, faults=Faults(truncate_rate=1.0))
    connection = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]))
    connection.request("GET", "/search/tracks?q=undertow")
    response = connection.getresponse()
    assert response.status == 200 and int(response.headers["Content-Length"]) > 0
    with pytest.raises(http.client.IncompleteRead):
        response.read()
    connection.close()
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        requests.get(server.url + "/search/tracks?q=undertow", timeout=5).json()


def test_429_bursts_refuse_everything_until_the_burst_ends(serve: Serve) -> None:
    server = serve(token=TOKEN, faults=Faults(burst_429_every_s=1.5, burst_429_s=0.6))
    refused = web(server, "/search/tracks", q="undertow")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert api(server, "/v4/catalog/tracks/101/").status_code == 429
    time.sleep(0.7)
    assert web(server, "/search/tracks", q="undertow").status_code == 200
    time.sleep(0.85)  # 1.55 s in: the next burst
    assert web(server, "/search/tracks", q="undertow").status_code == 429


def test_no_next_data_serves_website_pages_without_their_data(serve: Serve) -> None:
    server = serve(token=TOKEN, faults=Faults(no_next_data_rate=1.0))
    for path in ("/search/tracks?q=undertow", "/track/undertow/101"):
        page = requests.get(server.url + path, timeout=5)
        assert page.status_code == 200 and "<title>" in page.text
        assert "__NEXT_DATA__" not in page.text and '"track_id"' not in page.text
    assert api(server, "/v4/catalog/tracks/101/").json()["id"] == 101  # JSON is left alone


def test_renamed_field_renames_every_tracks_name(serve: Serve) -> None:
    server = serve(token=TOKEN, faults=Faults(renamed_field_rate=1.0))
    found = api(server, "/v4/catalog/search/", q="undertow", type="tracks").json()["tracks"]
    assert found and all("name" not in track and track["title_name"] for track in found)
    searched = search_data(web(server, "/search/tracks", q="undertow").text)["data"]
    assert searched and all("track_name" not in track and "title_name" in track
                            for track in searched)
    track = next_data(web(server, "/track/undertow/101").text)["props"]["pageProps"]["track"]
    assert track["title_name"] == "Undertow" and "name" not in track


def test_cut_json_sends_half_an_answer_as_if_it_were_whole(serve: Serve) -> None:
    server = serve(token=TOKEN)
    whole = api(server, "/v4/catalog/tracks/101/").content
    server.faults = Faults(cut_json_rate=1.0)
    cut = api(server, "/v4/catalog/tracks/101/")
    assert cut.status_code == 200 and cut.content == whole[: len(whole) // 2]
    assert int(cut.headers["Content-Length"]) == len(cut.content)
    with pytest.raises(ValueError):
        cut.json()


def test_garbling_spares_answers_that_are_not_200(serve: Serve) -> None:
    server = serve(token=TOKEN, faults=Faults(cut_json_rate=1.0, renamed_field_rate=1.0))
    assert api(server, "/v4/catalog/tracks/999/").json() == {"detail": "Not found."}


def test_down_refuses_connections_then_serves_again_on_the_same_port(serve: Serve) -> None:
    server = serve(token=TOKEN)
    with requests.Session() as kept_alive:
        assert kept_alive.get(server.url + "/search/tracks?q=x", timeout=5).status_code == 200
        server.go_down()
        assert server.is_down
        with pytest.raises(requests.ConnectionError, match="refused|reset|aborted"):
            kept_alive.get(server.url + "/search/tracks?q=x", timeout=5)
        with pytest.raises(requests.ConnectionError, match="refused"):
            requests.get(server.url + "/search/tracks?q=x", timeout=5)
        server.come_back()
        assert web(server, "/search/tracks", q="undertow").status_code == 200


def test_put_down_s_answers_then_goes_away_for_that_long(serve: Serve) -> None:
    server = serve(token=TOKEN)
    put = requests.put(server.url + "/_faults", json={"down_s": 0.6}, timeout=5)
    assert put.status_code == 200 and put.json()["down_s"] == 0.6
    deadline = time.monotonic() + 0.3  # it goes down once the answer is out
    while not server.is_down and time.monotonic() < deadline:
        time.sleep(0.01)
    with pytest.raises(requests.ConnectionError, match="refused"):
        requests.get(server.url + "/search/tracks?q=x", timeout=5)
    time.sleep(0.8)
    assert web(server, "/search/tracks", q="undertow").status_code == 200
    server.faults = Faults(down_s=30.0)  # set in-process: down at once
    assert server.is_down
    started = time.perf_counter()
    server.stop()  # also while down, and it cancels the return
    assert time.perf_counter() - started < 2 and server.is_down


@pytest.mark.parametrize("switches", [
    {"no_next_data_rate": 1.5}, {"renamed_field_rate": -0.1}, {"cut_json_rate": 2},
    {"down_s": -1}, {"burst_429_s": -1}, {"burst_429_every_s": 0},
])
def test_new_switches_are_checked(switches: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Faults.from_json(switches)


def test_put_faults_replaces_the_switches_at_runtime(server: CatalogServer) -> None:
    put = requests.put(server.url + "/_faults", json={"error_rate": 1.0, "seed": 3}, timeout=5)
    assert put.status_code == 200 and put.json()["error_rate"] == 1.0
    assert server.faults == Faults(error_rate=1.0, seed=3)
    assert web(server, "/search/tracks", q="undertow").status_code in (500, 502, 503)
    assert requests.get(server.url + "/_faults", timeout=5).json()["seed"] == 3
    for bad in (b'{"nope": 1}', b'{"error_rate": 2}', b"not json", b"[1]"):
        assert requests.put(server.url + "/_faults", data=bad, timeout=5).status_code == 400
    requests.put(server.url + "/_faults", json={}, timeout=5)
    assert web(server, "/search/tracks", q="undertow").status_code == 200


# --- stats, tokens, lifecycle ------------------------------------------------------------------

def test_stats_count_requests_by_kind_and_status(server: CatalogServer) -> None:
    api(server, "/v4/catalog/search/", q="undertow")
    api(server, "/v4/catalog/tracks/101/")
    api(server, "/v4/catalog/tracks/999/")
    api(server, "/v4/catalog/tracks/", isrc="QZT992100101")
    web(server, "/search/tracks", q="undertow")
    web(server, "/search", q="undertow")
    web(server, "/track/undertow/101")
    web(server, "/favicon.ico")
    requests.get(server.url + "/v4/catalog/tracks/101/", timeout=5)
    stats = requests.get(server.url + "/_stats", timeout=5).json()
    assert stats == {"api_search": 1, "api_track": 3, "api_isrc": 1, "web_search": 2,
                     "web_track": 1, "auth": 0, "other": 1,
                     "by_status": {"200": 6, "401": 1, "404": 2}, "total": 9}
    assert server.stats() == stats  # reading /_stats is not counted
    assert requests.delete(server.url + "/_stats", timeout=5).json()["total"] == 0
    assert server.stats()["by_status"] == {}


def test_tokens_expire_and_refresh(serve: Serve) -> None:
    server = serve(token="first", refresh_token="R", token_ttl_s=0.5)
    token_url = server.url + "/v4/auth/o/token/"

    def status_with(token: str) -> int:
        return requests.get(server.url + "/v4/catalog/tracks/101/", timeout=5,
                            headers={"Authorization": f"Bearer {token}"}).status_code

    assert status_with("first") == 200
    time.sleep(0.6)
    assert status_with("first") == 401
    granted = requests.post(token_url, data={"grant_type": "refresh_token",
                                             "refresh_token": "R"}, timeout=5)
    body = granted.json()
    assert granted.status_code == 200
    assert set(body) == {"access_token", "expires_in", "refresh_token", "token_type", "scope"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 1
    assert status_with(body["access_token"]) == 200
    wrong = requests.post(token_url, data={"grant_type": "refresh_token", "refresh_token": "X"},
                          timeout=5)
    assert wrong.status_code == 400 and wrong.json() == {"error": "invalid_grant"}
    other = requests.post(token_url, data={"grant_type": "password"}, timeout=5)
    assert other.json() == {"error": "unsupported_grant_type"}
    assert server.stats()["auth"] == 3


def test_keep_alive_serves_several_requests_on_one_connection(server: CatalogServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]))
    for path in ("/search/tracks?q=undertow", "/no/such/page", "/v4/catalog/tracks/101/"):
        connection.request("GET", path, headers=AUTH)
        response = response_of(connection)
        assert response[1] == len(response[2])
    first_socket = connection.sock
    connection.request("GET", "/track/undertow/101")
    response_of(connection)
    assert connection.sock is first_socket
    connection.close()


def response_of(connection: http.client.HTTPConnection) -> tuple[int, int, bytes]:
    response = connection.getresponse()
    return response.status, int(response.headers["Content-Length"]), response.read()


def test_stop_is_idempotent_and_frees_the_port(catalog_file: Path) -> None:
    server = CatalogServer(catalog_file).start()
    port = int(server.url.rsplit(":", 1)[1])
    with CatalogServer(catalog_file, port=0) as unstarted:
        assert unstarted.url.startswith("http://127.0.0.1:")
    server.stop()
    server.stop()
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))


def test_stop_ends_a_hanging_answer(serve: Serve) -> None:
    server = serve(token=TOKEN, faults=Faults(timeout_rate=1.0, hang_s=30.0))
    with pytest.raises(requests.Timeout):
        requests.get(server.url + "/search/tracks?q=x", timeout=0.2)
    started = time.perf_counter()
    server.stop()
    assert time.perf_counter() - started < 2


def test_the_server_only_binds_loopback(catalog_file: Path) -> None:
    with pytest.raises(CuepointError, match="127.0.0.1"):
        CatalogServer(catalog_file, host="0.0.0.0")
    with CatalogServer(catalog_file) as taken, pytest.raises(CuepointError, match="Cannot listen"):
        CatalogServer(catalog_file, port=int(taken.url.rsplit(":", 1)[1]))


# --- catalog files -----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "line", "problem"), [
    ('{"id": 1, "name": "A", "artists": [{"id": 2, "name": "B"}]}\nnot json\n', 2, "not JSON"),
    ('\n\n{"name": "A", "artists": []}\n', 3, '"id"'),
    ('{"id": 1, "name": "A", "artists": []}\n', 1, "no \"artists\""),
    ('{"id": 1, "name": "A", "artists": [{"id": 2, "name": "B"}], "key": "Am"}\n', 1, '"key"'),
    ('{"id": 1, "name": "A", "artists": [{"id": 2, "name": "B"}]}\n' * 2, 2, "already"),
    ("[1, 2]\n", 1, "not a JSON object"),
])
def test_a_bad_catalog_line_is_named(tmp_path: Path, text: str, line: int, problem: str) -> None:
    path = tmp_path / "catalog.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CuepointError, match=f"line {line}, .*{re.escape(problem)}"):
        Catalog.load(path)


def test_missing_empty_and_binary_catalogs_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CuepointError, match="Cannot read the catalog"):
        Catalog.load(tmp_path / "missing.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(CuepointError, match="no tracks"):
        Catalog.load(tmp_path / "empty.jsonl")
    (tmp_path / "binary.jsonl").write_bytes(b'{"id": 1}\n\xff\xfe\x00\n')
    with pytest.raises(CuepointError, match="line"):
        Catalog.load(tmp_path / "binary.jsonl")


def test_the_dev_catalog_indexes_whole_and_ranks_sensibly() -> None:
    # How fast it loads is for a benchmark, not a timed assertion (it failed on busy machines).
    path = require(DEV_SET / "catalog.jsonl")
    catalog = Catalog.load(path)
    assert len(catalog) >= 20_000
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    artists = " ".join(person["name"] for person in first["artists"])
    best = catalog.search(f"{artists} {first['name']}", page=1, per_page=5).hits[0].entry.record
    assert best["name"] == first["name"] and best["artists"] == first["artists"]


# --- the CLI and the demo ----------------------------------------------------------------------

def test_the_cli_prints_its_address_and_serves(catalog_file: Path) -> None:
    command = [sys.executable, "-m", "cuepoint_tray", "catalog-server", str(catalog_file),
               "--port", "0", "--token", TOKEN, "--seed", "1"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, cwd=PROJECT_ROOT)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.fullmatch(r"listening on (http://127\.0\.0\.1:(\d+))\n", line)
        assert found and int(found.group(2)) > 0, line
        answer = requests.get(found.group(1) + "/v4/catalog/tracks/101/", headers=AUTH, timeout=5)
        assert answer.json()["name"] == "Undertow"
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_the_cli_names_the_bad_catalog_line(tmp_path: Path) -> None:
    path = tmp_path / "catalog.jsonl"
    path.write_text(json.dumps(STORE[0]) + "\n" + json.dumps(STORE[1])[:-3] + "\n")
    done = subprocess.run([sys.executable, "-m", "cuepoint_tray", "catalog-server", str(path)],
                          capture_output=True, text=True, timeout=30, cwd=PROJECT_ROOT)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "line 2" in done.stderr and done.stderr.startswith("error: ")


def _make_demo_module() -> Any:
    spec = importlib.util.spec_from_file_location("make_demo", PROJECT_ROOT / "scripts" /
                                                  "make_demo.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_demo"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_make_demo_is_deterministic_small_and_servable(tmp_path: Path) -> None:
    make_demo = _make_demo_module()
    sizes = make_demo.write_demo(tmp_path / "a", 7, 3000)
    make_demo.write_demo(tmp_path / "b", 7, 3000)
    for name in sizes:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert sizes["catalog.jsonl"] <= 2_500_000
    catalog = Catalog.load(tmp_path / "a" / "catalog.jsonl")
    assert 2900 <= len(catalog) <= 3200
    xml = (tmp_path / "a" / "rekordbox.xml").read_text(encoding="utf-8")
    for name in ('Name="Demo"', 'Name="Friday Warm-up"', 'Name="Peak Time"',
                 'Name="Crate Digging"', 'Entries="60"', 'Entries="40"'):
        assert name in xml
