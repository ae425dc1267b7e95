"""The dashboard under idle, slow and malformed local clients, on a real loopback port.

Sockets that send half a request and wait, chunked bodies, ids past SQLite's range,
negative limits and wrongly typed bodies: the dashboard keeps answering, and answers 400 or
404 in plain words, never 500.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from dashboard_fixtures import demo_history

from cuepoint_tray.dashboard import DashboardAPI, DashboardServer
from cuepoint_tray.dashboard.server import REQUEST_TIMEOUT_S
from cuepoint_tray.paths import AppPaths
from cuepoint_tray.resources import resource_folder

DEMO = resource_folder("assets", "demo")
TOKEN = "hostile-clients-token-0123456789"


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> AppPaths:
    return demo_history(tmp_path_factory.mktemp("history"))


@pytest.fixture
def server(history: AppPaths) -> Iterator[DashboardServer]:
    with DashboardServer(DashboardAPI(history), token=TOKEN) as running:
        yield running


def api(server: DashboardServer, path: str, method: str = "GET", **options: object
        ) -> requests.Response:
    return requests.request(method, server.url + path, timeout=10,
                            headers={"Authorization": f"Bearer {TOKEN}"}, **options)  # type: ignore[arg-type]


def test_idle_half_requests_do_not_starve_the_dashboard(server: DashboardServer) -> None:
    idle = []
    for _ in range(48):  # three times the 16 that used to hold every worker
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the end
        idle.append(sock)
    try:
        started = time.monotonic()
        answer = api(server, "/api/status")
        assert answer.status_code == 200
        assert time.monotonic() - started < 2
        idle[0].settimeout(REQUEST_TIMEOUT_S + 5)
        assert idle[0].recv(100) == b""  # the server closed the idle socket in time
    finally:
        for sock in idle:
            sock.close()


def test_a_chunked_body_is_refused(server: DashboardServer) -> None:
    def endless() -> Iterator[bytes]:
        for _ in range(10_000):
            yield b"x" * 1024

    answer = api(server, "/api/settings", "POST", data=endless())
    assert answer.status_code == 411
    assert "Content-Length" in answer.json()["error"]


@pytest.mark.parametrize("path", [
    "/api/sessions/9223372036854775808", "/api/sessions/99999999999999999999999/tracks",
    "/api/tracks/9223372036854775808", "/api/sessions/9223372036854775808/report.json",
    "/api/compare?ids=1,9223372036854775808",
])
def test_ids_out_of_range_are_not_found(server: DashboardServer, path: str) -> None:
    answer = api(server, path)
    assert answer.status_code == 404, answer.text
    assert answer.json()["error"]


@pytest.mark.parametrize("path", [
    "/api/sessions?limit=-1", "/api/sessions/1/tracks?limit=-1", "/api/trends?limit=-5",
    "/api/sessions?offset=-3", "/api/sessions?limit=1e999",
])
def test_negative_or_unreadable_limits_are_refused(server: DashboardServer, path: str) -> None:
    answer = api(server, path)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]


@pytest.mark.parametrize(("path", "body"), [
    ("/api/match", {"playlists": "Crate Digging"}),
    ("/api/match", {"playlists": [1, 2]}),
    ("/api/settings", {"values": ["concurrency", 3]}),
    ("/api/settings", {"values": {"concurrency": 1e300}}),
    ("/api/settings", {"values": {"requests_per_second": [1]}}),
    ("/api/tracks/1/review", {"state": 5}),
    ("/api/tracks/1/review", {"state": "changed", "beatport_id": 10**30}),
    ("/api/tracks/1/review", {"state": "changed", "beatport_id": "x"}),
])
def test_wrongly_typed_bodies_get_400_in_words(server: DashboardServer, path: str,
                                               body: object) -> None:
    answer = api(server, path, "POST", json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]


def test_a_nan_setting_is_refused(server: DashboardServer, history: AppPaths) -> None:
    answer = api(server, "/api/settings", "POST",
                 data=b'{"values": {"requests_per_second": NaN}}')
    assert answer.status_code == 400
    assert not Path(history.settings_file).exists() or "nan" not in \
        history.settings_file.read_text().lower()
