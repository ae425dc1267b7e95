"""The HTTP cache on a real SQLite file, fed by the local catalog server: answers are kept
compressed, the cache stays under its cap by dropping the oldest answers first, and answers
kept by an older version (uncompressed) count under the cap."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests_cache

from cuepoint_tray.catalog_server import CatalogServer
from cuepoint_tray.providers import HttpClient
from cuepoint_tray.providers.answer_cache import CHECK_EVERY, stored_bytes

FAST = {"backoff_s": 0.01, "backoff_max_s": 0.05}


def _client(cache: Path, **extra: Any) -> HttpClient:
    return HttpClient(cache_path=cache, cache_expiry_days=1.0, requests_per_second=1000.0,
                      timeout_s=5.0, max_attempts=2, **{**FAST, **extra})


def _cache_of(client: HttpClient) -> requests_cache.SQLiteCache:
    cache = client._session.cache  # type: ignore[attr-defined]
    assert isinstance(cache, requests_cache.SQLiteCache)
    return cache


def _search(client: HttpClient, server: CatalogServer, query: str) -> tuple[str, bool]:
    response, report = client.get(f"{server.url}/search/tracks", kind="search",
                                  params={"q": query, "per-page": 25})
    assert response.status_code == 200
    return response.text, report.from_cache


def test_a_search_page_is_kept_compressed_and_read_back_whole(
        tmp_path: Path, catalog_server: CatalogServer) -> None:
    client = _client(tmp_path / "cache.sqlite3")
    try:
        page, from_cache = _search(client, catalog_server, "gravity")
        assert not from_cache
        kept = stored_bytes(_cache_of(client))
        again, from_cache = _search(client, catalog_server, "gravity")
    finally:
        client.close()
    assert from_cache and again == page
    assert len(page.encode()) > 4 * kept, (len(page), kept)


def test_the_cache_stays_under_its_cap_dropping_the_oldest_answers_first(
        tmp_path: Path, catalog_server: CatalogServer) -> None:
    path = tmp_path / "cache.sqlite3"
    probe = _client(path)
    try:
        _search(probe, catalog_server, "probe")
        one = stored_bytes(_cache_of(probe))
    finally:
        probe.close()
    path.unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    cap_mb = one * 40 / 1_000_000  # room for about 40 answers
    client = _client(path, cache_max_mb=cap_mb)
    try:
        queries = [f"query {n}" for n in range(3 * CHECK_EVERY)]
        for query in queries:
            _search(client, catalog_server, query)
        cache = _cache_of(client)
        assert stored_bytes(cache) <= cap_mb * 1_000_000
        url = f"{catalog_server.url}/search/tracks"
        kept = [cache.contains(url=f"{url}?q={query.replace(' ', '+')}&per-page=25")
                for query in queries]
    finally:
        client.close()
    assert not kept[0] and kept[-1], "the newest answers stay, the oldest go"
    first_kept = kept.index(True)
    assert all(kept[first_kept:]), "answers go strictly oldest first"
    assert 20 <= sum(kept) <= 40


def test_a_lower_cap_is_applied_as_soon_as_the_cache_is_opened(
        tmp_path: Path, catalog_server: CatalogServer) -> None:
    path = tmp_path / "cache.sqlite3"
    client = _client(path)
    try:
        for n in range(10):
            _search(client, catalog_server, f"track {n}")
        full = stored_bytes(_cache_of(client))
    finally:
        client.close()
    smaller = _client(path, cache_max_mb=full / 2 / 1_000_000)
    try:
        assert stored_bytes(_cache_of(smaller)) <= full / 2
        _, from_cache = _search(smaller, catalog_server, "track 9")
    finally:
        smaller.close()
    assert from_cache, "the newest answer is still there"


def test_answers_kept_uncompressed_by_an_older_version_count_under_the_cap_and_go_first(
        tmp_path: Path, catalog_server: CatalogServer) -> None:
    """requests-cache puts the serializer's name in its keys, so an old answer is never read
    as a compressed one: it is asked again, and the old row is the first to make room."""
    path = tmp_path / "cache.sqlite3"
    old = requests_cache.CachedSession(str(path), backend="sqlite", wal=True)
    try:
        for n in range(5):
            old.get(f"{catalog_server.url}/search/tracks", params={"q": f"old {n}"})
        old_bytes = stored_bytes(old.cache)  # type: ignore[arg-type]
    finally:
        old.close()
    client = _client(path, cache_max_mb=old_bytes / 2 / 1_000_000)
    try:
        cache = _cache_of(client)
        assert stored_bytes(cache) <= old_bytes / 2
        page, from_cache = _search(client, catalog_server, "gravity")
        again, from_cache_again = _search(client, catalog_server, "gravity")
    finally:
        client.close()
    assert not from_cache and from_cache_again and again == page
