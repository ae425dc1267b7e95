"""HttpClient against the local catalog server: cache, throttle, retries, Retry-After, errors."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from cuepoint_tray import __version__
from cuepoint_tray.catalog_server import CatalogServer, Faults
from cuepoint_tray.errors import (
    AuthError,
    BlockedError,
    NetworkError,
    NotAnsweringError,
    RateLimitedError,
    ServerError,
)
from cuepoint_tray.paths import resolve_paths
from cuepoint_tray.providers import HttpClient, make_http_client
from cuepoint_tray.providers.breaker import CircuitBreaker
from cuepoint_tray.providers.http import (
    BLOCKED_MESSAGE,
    HostThrottle,
    _drop_vary_on_auth,
    retry_after_s,
)
from cuepoint_tray.settings import Settings

from conftest import DEV_SET, require

FAST = {"backoff_s": 0.01, "backoff_max_s": 0.05}  # retries that cost milliseconds, not seconds


def _client(cache: Path | None = None, *, rps: float = 1000.0, attempts: int = 3,
            timeout_s: float = 5.0, **extra: Any) -> HttpClient:
    return HttpClient(cache_path=cache, cache_expiry_days=1.0, requests_per_second=rps,
                      timeout_s=timeout_s, max_attempts=attempts, **{**FAST, **extra})


@pytest.fixture
def client(tmp_path: Path) -> Iterator[HttpClient]:
    http = _client(tmp_path / "cache.sqlite3")
    yield http
    http.close()


def _search_url(server: CatalogServer) -> str:
    return f"{server.url}/search/tracks"


# --- cache ---------------------------------------------------------------------------------------


def test_second_get_is_a_cache_hit_that_never_reaches_the_server(
        client: HttpClient, catalog_server: CatalogServer) -> None:
    url, params = _search_url(catalog_server), {"q": "zero", "per-page": 5}
    response, first = client.get(url, kind="search", params=params)
    assert response.status_code == 200
    assert (first.from_cache, first.attempts, first.status) == (False, 1, 200)
    assert first.url == f"{url}?q=zero&per-page=5"
    sent = catalog_server.stats()["total"]
    cached, second = client.get(url, kind="search", params=params)
    assert cached.text == response.text
    assert (second.from_cache, second.attempts, second.throttle_wait_ms) == (True, 0, 0.0)
    assert second.status == 200
    assert catalog_server.stats()["total"] == sent == 1


def test_cache_key_ignores_the_authorization_header(
        tmp_path: Path) -> None:
    with CatalogServer(_small_catalog(tmp_path), token="old", refresh_token="r").start() as server:
        http = _client(tmp_path / "cache.sqlite3")
        url = f"{server.url}/v4/catalog/tracks/10118930/"
        _, first = http.get(url, kind="track", headers={"Authorization": "Bearer old"})
        _, second = http.get(url, kind="track", headers={"Authorization": "Bearer refreshed"})
        http.close()
    assert (first.status, first.from_cache, second.from_cache) == (200, False, True)


def test_cache_keeps_a_404_track_but_no_other_404_nor_a_failure(
        client: HttpClient, catalog_server: CatalogServer) -> None:
    missing = f"{catalog_server.url}/v4/catalog/tracks/1/"
    bearer = {"Authorization": "Bearer any"}
    client.get(missing, kind="track", headers=bearer)
    _, again = client.get(missing, kind="track", headers=bearer)
    assert (again.status, again.from_cache) == (404, True)
    past_the_end = f"{catalog_server.url}/v4/catalog/tracks/"
    for _ in range(2):
        _, listing = client.get(past_the_end, kind="isrc", params={"isrc": "X", "page": 9},
                                headers=bearer)
    assert (listing.status, listing.from_cache) == (404, False)
    catalog_server.faults = Faults(error_rate=1.0, seed=1)
    with pytest.raises(ServerError):
        client.get(_search_url(catalog_server), kind="search", params={"q": "x"})
    catalog_server.faults = Faults()
    _, fresh = client.get(_search_url(catalog_server), kind="search", params={"q": "x"})
    assert (fresh.status, fresh.from_cache) == (200, False)


def test_a_cache_hit_neither_waits_for_nor_uses_a_throttle_slot(
        tmp_path: Path, catalog_server: CatalogServer) -> None:
    http = _client(tmp_path / "cache.sqlite3", rps=2.0)  # one send every 0.5 s
    url = _search_url(catalog_server)
    http.get(url, kind="search", params={"q": "one"})
    started = time.perf_counter()
    _, hit = http.get(url, kind="search", params={"q": "one"})
    hit_s = time.perf_counter() - started
    _, miss = http.get(url, kind="search", params={"q": "two"})
    http.close()
    assert hit.from_cache and hit.throttle_wait_ms == 0 and hit_s < 0.1
    # Had the hit taken a slot, this send would wait ~1 s instead of ~0.5 s.
    assert 100 < miss.throttle_wait_ms < 600


# --- retries, Retry-After and the errors they end in --------------------------------------------


def test_server_errors_are_retried_until_an_answer_comes(
        catalog_server: CatalogServer) -> None:
    catalog_server.faults = Faults(error_rate=0.5, seed=7)
    http = _client(attempts=10)
    reports = [http.get(_search_url(catalog_server), kind="search", params={"q": f"x{n}"})[1]
               for n in range(10)]
    http.close()
    assert all(report.status == 200 for report in reports)
    assert sum(report.attempts for report in reports) == catalog_server.stats()["total"]
    assert any(report.attempts > 1 for report in reports)


def test_server_errors_past_max_attempts_raise_server_error(
        catalog_server: CatalogServer) -> None:
    catalog_server.faults = Faults(error_rate=1.0, seed=3)
    http = _client(attempts=3)
    with pytest.raises(ServerError) as raised:
        http.get(_search_url(catalog_server), kind="search", params={"q": "x"})
    http.close()
    report = raised.value.report
    assert report is not None
    assert report.attempts == 3 == catalog_server.stats()["total"]
    assert report.status in (500, 502, 503) and not report.from_cache
    assert "after 3 tries" in str(raised.value) and report.error == str(raised.value)


def test_429_waits_as_long_as_retry_after_says(catalog_server: CatalogServer) -> None:
    catalog_server.faults = Faults(rate_limit=1.0)  # one request a second; then Retry-After: 1
    http = _client(attempts=3)
    http.get(_search_url(catalog_server), kind="search", params={"q": "a"})
    started = time.perf_counter()
    _, report = http.get(_search_url(catalog_server), kind="search", params={"q": "b"})
    waited = time.perf_counter() - started
    http.close()
    assert (report.status, report.attempts, report.retry_after_s) == (200, 2, 1.0)
    assert 0.95 <= waited < 1.8 and report.elapsed_ms >= 950
    assert catalog_server.stats()["by_status"] == {"200": 2, "429": 1}


def test_429_past_max_attempts_raises_rate_limited_and_caps_retry_after(
        catalog_server: CatalogServer) -> None:
    catalog_server.faults = Faults(rate_limit=0.01)  # Retry-After: 100 s, capped to 0.05 s
    http = _client(attempts=3, retry_after_cap_s=0.05)
    http.get(_search_url(catalog_server), kind="search", params={"q": "a"})
    started = time.perf_counter()
    with pytest.raises(RateLimitedError) as raised:
        http.get(_search_url(catalog_server), kind="search", params={"q": "b"})
    http.close()
    assert time.perf_counter() - started < 1.0
    report = raised.value.report
    assert report is not None
    assert (report.status, report.attempts, report.retry_after_s) == (429, 3, 0.05)
    assert "requests_per_second" in str(raised.value)


def test_timeout_raises_network_error(tmp_path: Path) -> None:
    # A server of its own: its hung answers end after this test and must not count elsewhere.
    hang = Faults(timeout_rate=1.0, hang_s=1.0)
    with CatalogServer(_small_catalog(tmp_path), faults=hang).start() as server:
        http = _client(attempts=2, timeout_s=0.2)
        with pytest.raises(NetworkError) as raised:
            http.get(_search_url(server), kind="search", params={"q": "x"})
        http.close()
    report = raised.value.report
    assert report is not None and report.attempts == 2 and report.status is None
    host = server.url.removeprefix("http://")
    assert str(raised.value) == (
        f"Beatport did not answer after 2 tries (no answer from {host} within 0.2 s): "
        "check your internet connection, then resume the session.")


def test_connection_refused_raises_network_error() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago, with no one on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    http = _client(attempts=5)
    with pytest.raises(NetworkError) as raised:
        http.get(f"http://127.0.0.1:{port}/search/tracks", kind="search")
    http.close()
    assert str(raised.value) == (
        f"Beatport did not answer after 5 tries (connection refused at 127.0.0.1:{port}): "
        "check your internet connection, then resume the session.")
    assert raised.value.report is not None and raised.value.report.attempts == 5


def test_reset_connections_are_retried_then_reported(catalog_server: CatalogServer) -> None:
    catalog_server.faults = Faults(reset_rate=1.0)
    http = _client(attempts=2)
    with pytest.raises(NetworkError, match="dropped"):
        http.get(_search_url(catalog_server), kind="search", params={"q": "x"})
    http.close()
    assert catalog_server.stats()["by_status"] == {"reset": 2}


def test_answers_cut_short_are_retried_and_never_cached(
        tmp_path: Path, catalog_server: CatalogServer) -> None:
    catalog_server.faults = Faults(truncate_rate=1.0)
    http = _client(tmp_path / "cache.sqlite3", attempts=2)
    with pytest.raises(NetworkError, match="cut off"):
        http.get(_search_url(catalog_server), kind="search", params={"q": "x"})
    catalog_server.faults = Faults()
    _, report = http.get(_search_url(catalog_server), kind="search", params={"q": "x"})
    http.close()
    assert (report.status, report.from_cache, report.attempts) == (200, False, 1)


# --- the circuit breaker --------------------------------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_failures_in_a_row_and_refuses_without_sending() -> None:
    clock = _Clock()
    breaker = CircuitBreaker(3, cool_down_s=10.0, clock=clock)
    for failed in (True, True, False, True, True):  # an answer in between starts the count anew
        assert breaker.admit("bp") is False
        breaker.record("bp", failed=failed, probe=False)
    assert not breaker.is_open("bp")
    breaker.admit("bp")
    breaker.record("bp", failed=True, probe=False)
    clock.now += 4
    with pytest.raises(NotAnsweringError) as refused:
        breaker.admit("bp")
    assert (refused.value.failures, refused.value.retry_in_s) == (3, 6.0)
    assert str(refused.value) == ("Beatport is not answering (3 failures in a row); "
                                  "trying again in 6 s")
    assert breaker.admit("other host") is False  # one breaker per host


def test_breaker_lets_one_probe_through_and_doubles_the_cool_down_when_it_fails() -> None:
    clock = _Clock()
    breaker = CircuitBreaker(1, cool_down_s=10.0, max_cool_down_s=25.0, clock=clock)
    breaker.admit("bp")
    breaker.record("bp", failed=True, probe=False)
    clock.now += 10
    assert breaker.admit("bp") is True  # the probe
    with pytest.raises(NotAnsweringError):
        breaker.admit("bp")  # only one at a time
    breaker.record("bp", failed=True, probe=True)
    clock.now += 19
    with pytest.raises(NotAnsweringError, match="trying again in 1 s"):
        breaker.admit("bp")
    clock.now += 1
    breaker.record("bp", failed=True, probe=breaker.admit("bp"))
    clock.now += 24
    with pytest.raises(NotAnsweringError):  # 25 s now: the cool-down has its ceiling
        breaker.admit("bp")
    clock.now += 1
    breaker.record("bp", failed=False, probe=breaker.admit("bp"))
    assert not breaker.is_open("bp") and breaker.admit("bp") is False


def test_an_open_breaker_stops_the_traffic_then_a_probe_finds_the_server_back(
        tmp_path: Path, catalog_server: CatalogServer) -> None:
    catalog_server.faults = Faults(error_rate=1.0, seed=5)
    http = _client(tmp_path / "cache.sqlite3", attempts=5,
                   breaker=CircuitBreaker(3, cool_down_s=0.3))
    with pytest.raises(NotAnsweringError) as refused:  # the retries stop when it opens
        http.get(_search_url(catalog_server), kind="search", params={"q": "x"})
    assert catalog_server.stats()["total"] == 3
    report = refused.value.report
    assert report is not None and report.attempts == 3 and report.error == str(refused.value)
    with pytest.raises(NotAnsweringError) as again:
        http.get(_search_url(catalog_server), kind="search", params={"q": "y"})
    assert again.value.report is not None and again.value.report.attempts == 0
    assert catalog_server.stats()["total"] == 3  # nothing sent while open
    catalog_server.faults = Faults()
    time.sleep(0.35)
    _, probe = http.get(_search_url(catalog_server), kind="search", params={"q": "x"})
    http.close()
    assert (probe.status, probe.attempts) == (200, 1) and not http.breaker.is_open(
        urlsplit(catalog_server.url).netloc)


def test_an_open_breaker_still_answers_from_the_cache(
        tmp_path: Path, catalog_server: CatalogServer) -> None:
    http = _client(tmp_path / "cache.sqlite3", breaker=CircuitBreaker(1, cool_down_s=60.0))
    http.get(_search_url(catalog_server), kind="search", params={"q": "kept"})
    catalog_server.faults = Faults(error_rate=1.0, seed=5)
    with pytest.raises(NotAnsweringError):
        http.get(_search_url(catalog_server), kind="search", params={"q": "new"})
    _, cached = http.get(_search_url(catalog_server), kind="search", params={"q": "kept"})
    http.close()
    assert cached.from_cache


def test_429_and_the_challenge_are_answers_not_failures(
        catalog_server: CatalogServer) -> None:
    http = _client(attempts=1, breaker=CircuitBreaker(2, cool_down_s=60.0))
    catalog_server.faults = Faults(rate_limit=0.01)
    http.get(_search_url(catalog_server), kind="search", params={"q": "a"})
    for text in ("b", "c", "d"):
        with pytest.raises(RateLimitedError):
            http.get(_search_url(catalog_server), kind="search", params={"q": text})
    catalog_server.faults = Faults(cloudflare=True)
    for text in ("e", "f", "g"):
        with pytest.raises(BlockedError):
            http.get(_search_url(catalog_server), kind="search", params={"q": text})
    http.close()
    assert not http.breaker.is_open(urlsplit(catalog_server.url).netloc)


# --- refusals ------------------------------------------------------------------------------------


def test_cloudflare_challenge_raises_blocked_without_retrying(
        client: HttpClient, catalog_server: CatalogServer) -> None:
    catalog_server.faults = Faults(cloudflare=True)
    with pytest.raises(BlockedError) as raised:
        client.get(_search_url(catalog_server), kind="search", params={"q": "x"})
    assert str(raised.value) == BLOCKED_MESSAGE
    assert raised.value.report is not None
    assert (raised.value.report.status, raised.value.report.attempts) == (403, 1)


def test_401_raises_auth_error(tmp_path: Path) -> None:
    with CatalogServer(_small_catalog(tmp_path), token="good").start() as server:
        http = _client()
        with pytest.raises(AuthError) as raised:
            http.get(f"{server.url}/v4/catalog/search/", kind="search", params={"q": "x"},
                     headers={"Authorization": "Bearer wrong"})
        http.close()
    assert raised.value.report is not None and raised.value.report.status == 401
    assert "token" in str(raised.value)


def test_other_4xx_answers_are_returned_to_the_caller(
        client: HttpClient, catalog_server: CatalogServer) -> None:
    response, report = client.get(f"{catalog_server.url}/track/x/1", kind="track")
    assert response.status_code == 404 and report.status == 404


# --- throttle ------------------------------------------------------------------------------------


def test_throttle_holds_many_threads_to_the_rate(catalog_server: CatalogServer) -> None:
    rate, sends = 20.0, 24
    http = _client(rps=rate)
    reports = []
    lock = threading.Lock()

    def worker(numbers: range) -> None:
        for number in numbers:
            _, report = http.get(_search_url(catalog_server), kind="search",
                                 params={"q": f"t{number}"})
            with lock:
                reports.append(report)

    threads = [threading.Thread(target=worker, args=(range(n, sends, 6),)) for n in range(6)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    http.close()
    assert len(reports) == sends == catalog_server.stats()["total"]
    assert elapsed >= (sends - 1) / rate - 0.02  # 24 sends at 20/s take at least 1.15 s
    assert sum(report.throttle_wait_ms for report in reports) > 0


def test_throttle_slots_are_spaced_per_host_across_threads() -> None:
    rate = 50.0
    throttle = HostThrottle(rate)
    sent: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            throttle.wait("beatport")
            with lock:
                sent.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Sleeps never end early, so the k-th send cannot come before its slot at k / rate.
    assert len(sent) == 20
    assert all(when - started >= k / rate - 0.002 for k, when in enumerate(sorted(sent)))
    assert throttle.wait("another-host") == 0.0  # hosts do not share slots


# --- small pieces ---------------------------------------------------------------------------------


def test_user_agent_names_the_app_and_version(client: HttpClient,
                                             catalog_server: CatalogServer) -> None:
    response, _ = client.get(_search_url(catalog_server), kind="search", params={"q": "x"})
    assert response.request.headers["User-Agent"] == f"CuePointTray/{__version__}"


def test_vary_on_authorization_is_dropped_so_a_new_token_still_hits_the_cache() -> None:
    response = requests.Response()
    response.headers["Vary"] = "Accept, Authorization"
    _drop_vary_on_auth(response)
    assert response.headers["Vary"] == "Accept"
    response.headers["Vary"] = "authorization"
    _drop_vary_on_auth(response)
    assert "Vary" not in response.headers


@pytest.mark.parametrize(("header", "expected"), [
    ("3", 3.0), (" 0.5 ", 0.5), ("-4", 0.0), (None, None), ("", None), ("soon", None),
])
def test_retry_after_in_seconds(header: str | None, expected: float | None) -> None:
    assert retry_after_s(header) == expected


def test_retry_after_as_an_http_date() -> None:
    now = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert retry_after_s(later, now=now) == 30.0
    assert retry_after_s(format_datetime(now - timedelta(seconds=5), usegmt=True), now=now) == 0.0


def test_make_http_client_caches_in_the_app_folder(catalog_server: CatalogServer) -> None:
    paths = resolve_paths().create()
    http = make_http_client(Settings(requests_per_second=100.0), paths.http_cache)
    http.get(_search_url(catalog_server), kind="search", params={"q": "x"})
    _, report = http.get(_search_url(catalog_server), kind="search", params={"q": "x"})
    http.close()
    assert report.from_cache and paths.http_cache.exists()


def test_no_cache_path_means_no_cache(catalog_server: CatalogServer) -> None:
    http = _client(None)
    reports = [http.get(_search_url(catalog_server), kind="search", params={"q": "x"})[1]
               for _ in range(2)]
    http.close()
    assert [report.from_cache for report in reports] == [False, False]


def _small_catalog(tmp_path: Path) -> Path:
    """The first 50 tracks of the dev catalog, for servers started with their own tokens."""
    lines = require(DEV_SET / "catalog.jsonl").read_text(encoding="utf-8").splitlines()[:50]
    path = tmp_path / "small-catalog.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
