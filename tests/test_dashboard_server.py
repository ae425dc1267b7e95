"""The dashboard's HTTP layer on a real loopback port: who gets in, what comes out."""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from dashboard_fixtures import demo_history

from cuepoint_tray.catalog_server import CatalogServer
from cuepoint_tray.dashboard import DashboardAPI, DashboardServer
from cuepoint_tray.paths import AppPaths, resolve_paths
from cuepoint_tray.resources import resource_folder
from cuepoint_tray.settings import Settings

DEMO = resource_folder("assets", "demo")
TOKEN = "test-token-0123456789"


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> AppPaths:
    return demo_history(tmp_path_factory.mktemp("history"))


@pytest.fixture(scope="module")
def server(history: AppPaths) -> Iterator[DashboardServer]:
    with DashboardServer(DashboardAPI(history), token=TOKEN) as running:
        yield running


def get(server: DashboardServer, path: str, **headers: str) -> requests.Response:
    return requests.get(server.url + path, headers=headers, timeout=10)


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def raw(server: DashboardServer, method: str, path: str,
        headers: dict[str, str] | None = None, body: bytes | None = None) -> tuple[int, bytes]:
    """A request exactly as written: no client-side normalisation of the path or Host."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for name, value in {"Host": f"127.0.0.1:{server.port}", **(headers or {})}.items():
        connection.putheader(name, value)
    connection.endheaders(body)
    response = connection.getresponse()
    answer = (response.status, response.read())
    connection.close()
    return answer


def test_it_listens_on_loopback_only(server: DashboardServer) -> None:
    assert server.url.startswith("http://127.0.0.1:")
    assert server._server.server_address[0] == "127.0.0.1"


def test_every_api_call_needs_the_token(server: DashboardServer) -> None:
    assert get(server, "/api/sessions", **bearer()).status_code == 200
    assert get(server, "/api/sessions").status_code == 401
    assert get(server, "/api/sessions", **bearer("wrong")).status_code == 401
    assert get(server, "/api/sessions", Authorization=TOKEN).status_code == 401
    assert get(server, f"/api/sessions?token={TOKEN}").status_code == 401
    refused = requests.post(server.url + "/api/settings", json={"values": {}}, timeout=10)
    assert refused.status_code == 401 and "tray menu" in refused.json()["error"]


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1:1",
                                  "localhost", "[::1]:{port}", ""])
def test_a_foreign_host_header_is_refused(server: DashboardServer, host: str) -> None:
    status, body = raw(server, "GET", "/api/sessions",
                       {"Host": host.format(port=server.port), **bearer()})
    assert status == 403 and b"loopback" in body
    status, _ = raw(server, "GET", "/", {"Host": host.format(port=server.port)})
    assert status == 403


def test_localhost_with_our_port_is_accepted(server: DashboardServer) -> None:
    status, _ = raw(server, "GET", "/api/status",
                    {"Host": f"localhost:{server.port}", **bearer()})
    assert status == 200


@pytest.mark.parametrize("origin", ["http://evil.example", "null",
                                    "http://127.0.0.1:1", "https://127.0.0.1:{port}"])
def test_a_foreign_origin_is_refused(server: DashboardServer, origin: str) -> None:
    response = get(server, "/api/sessions", Origin=origin.format(port=server.port), **bearer())
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers


def test_our_own_origin_is_accepted_and_no_cors_is_offered(server: DashboardServer) -> None:
    response = get(server, "/api/sessions", Origin=server.url, **bearer())
    assert response.status_code == 200
    assert not any(name.lower().startswith("access-control") for name in response.headers)
    preflight = requests.options(server.url + "/api/sessions", timeout=10,
                                 headers={"Origin": "http://evil.example",
                                          "Access-Control-Request-Method": "POST"})
    assert preflight.status_code in (403, 405)
    assert "Access-Control-Allow-Origin" not in preflight.headers


@pytest.mark.parametrize("path", ["/../pyproject.toml", "/%2e%2e/pyproject.toml",
                                  "/..%2fpyproject.toml", "/js/../../pyproject.toml",
                                  "/%2e%2e/%2e%2e/etc/passwd", "//etc/passwd",
                                  "/../cuepoint_tray/settings.py"])
def test_static_files_never_leave_the_web_folder(server: DashboardServer, path: str) -> None:
    status, body = raw(server, "GET", path)
    assert status in (400, 403, 404)
    assert b"[project]" not in body and b"root:" not in body and b"_setting(" not in body


def test_oversized_bodies_are_refused(server: DashboardServer) -> None:
    big = json.dumps({"values": {"default_playlist": "x" * 200_000}}).encode()
    status, body = raw(server, "POST", "/api/settings",
                       {**bearer(), "Content-Type": "application/json",
                        "Content-Length": str(len(big))}, big)
    assert status == 413 and b"64 KiB" in body


def test_other_methods_are_refused(server: DashboardServer) -> None:
    for method in ("PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"):
        status, _ = raw(server, method, "/api/sessions", bearer())
        assert status == 405, method


def test_pages_and_answers_carry_the_security_headers(server: DashboardServer) -> None:
    for response in (get(server, "/"), get(server, "/api/status", **bearer())):
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    assert get(server, "/api/status", **bearer()).headers["Cache-Control"] == "no-store"


def test_only_the_trays_window_page_may_build_functions_from_text(
        server: DashboardServer) -> None:
    """pywebview's bridge (the window's Save dialog) needs `new Function`; browsers do not."""
    strict = get(server, "/").headers["Content-Security-Policy"]
    window = get(server, "/?window=1").headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in strict and "script-src 'self' 'unsafe-eval'" in window
    assert window.replace(" 'unsafe-eval'", "") == strict
    assert "/?window=1#/live?token=" in server.page_url("live", window=True)
    assert "window=1" not in server.page_url("live")
    for other in ("/js/app.js?window=1", "/api/status?window=1"):
        policy = get(server, other, **bearer()).headers["Content-Security-Policy"]
        assert "'unsafe-eval'" not in policy, other


def test_errors_come_back_as_json_in_plain_words(server: DashboardServer) -> None:
    missing = get(server, "/api/sessions/999", **bearer())
    assert missing.status_code == 404 and "no session 999" in missing.json()["error"]
    bad = get(server, "/api/sessions?limit=lots", **bearer())
    assert bad.status_code == 400 and "whole number" in bad.json()["error"]
    order = get(server, "/api/sessions?order=password", **bearer())
    assert order.status_code == 400 and "cannot be ordered" in order.json()["error"]
    not_json = requests.post(server.url + "/api/tracks/1/review", data=b"{oops",
                             headers=bearer(), timeout=10)
    assert not_json.status_code == 400 and "not JSON" in not_json.json()["error"]
    unknown = get(server, "/api/nothing-here", **bearer())
    assert unknown.status_code == 404 and unknown.json()["error"]


def test_every_page_has_its_json(server: DashboardServer, history: AppPaths) -> None:
    sessions = get(server, "/api/sessions", **bearer()).json()
    session_id = sessions["sessions"][0]["id"]
    tracks = get(server, f"/api/sessions/{session_id}/tracks", **bearer()).json()
    assert tracks["total"] == 18
    for path in ("/api/status", "/api/live", "/api/trends", "/api/settings",
                 "/api/playlists", f"/api/sessions/{session_id}",
                 f"/api/tracks/{tracks['tracks'][0]['id']}"):
        response = get(server, path, **bearer())
        assert response.status_code == 200, path
        assert response.headers["Content-Type"].startswith("application/json")


def test_a_review_posted_over_http_is_stored(server: DashboardServer) -> None:
    session_id = get(server, "/api/sessions", **bearer()).json()["sessions"][0]["id"]
    track = get(server, f"/api/sessions/{session_id}/tracks", **bearer()).json()["tracks"][0]
    posted = requests.post(f"{server.url}/api/tracks/{track['id']}/review",
                           json={"state": "rejected"}, headers=bearer(), timeout=10)
    assert posted.status_code == 200 and posted.json()["review_state"] == "rejected"
    stored = get(server, f"/api/tracks/{track['id']}", **bearer()).json()["track"]
    assert stored["review_state"] == "rejected" and stored["final"] is None
    requests.post(f"{server.url}/api/tracks/{track['id']}/review", json={"state": "auto"},
                  headers=bearer(), timeout=10).raise_for_status()


def test_reports_and_exports_download_as_files(server: DashboardServer) -> None:
    session_id = get(server, "/api/sessions", **bearer()).json()["sessions"][0]["id"]
    report = get(server, f"/api/sessions/{session_id}/report.json", **bearer())
    assert report.status_code == 200 and "attachment" in report.headers["Content-Disposition"]
    assert report.json()["session_id"] == session_id
    xml = get(server, f"/api/sessions/{session_id}/rekordbox.xml", **bearer())
    assert xml.status_code == 200 and xml.content.startswith(b"<?xml")
    assert b"CuePoint: Beatport" not in xml.content  # Comments only when asked (issue 14)
    xml = get(server, f"/api/sessions/{session_id}/rekordbox.xml?comments=1", **bearer())
    assert xml.status_code == 200 and b"CuePoint: Beatport" in xml.content
    assert get(server, f"/api/sessions/{session_id}/report.pdf", **bearer()).status_code == 409
    assert get(server, f"/api/sessions/{session_id}/report.html").status_code == 401


def test_plotly_is_served_from_the_installed_package(server: DashboardServer) -> None:
    response = get(server, "/plotly.min.js")
    assert response.status_code == 200 and len(response.content) > 1_000_000
    assert "javascript" in response.headers["Content-Type"]
    assert b"plotly" in response.content[:2000].lower()


def test_the_dashboard_command_prints_its_address_and_serves(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "cuepoint_tray", "--data-dir", str(tmp_path / "data"),
         "dashboard", "--no-window", "--token", TOKEN],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/#/live\?token=" + TOKEN, line)
        assert found, line
        answer = requests.get(f"http://127.0.0.1:{found.group(1)}/api/status",
                              headers=bearer(), timeout=10)
        assert answer.status_code == 200 and answer.json()["xml_set"] is False
    finally:
        process.terminate()
        process.wait(10)


def test_fifty_clients_polling_while_a_session_writes_all_get_answers(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from cuepoint_tray.catalog_server import Faults
    from cuepoint_tray.controller import SessionController
    from cuepoint_tray.settings import load_settings, save_settings

    paths = resolve_paths(tmp_path / "data").create()
    with CatalogServer(DEMO / "catalog.jsonl", faults=Faults(latency_ms=20)).start() as catalog:
        save_settings(Settings(rekordbox_library=str(DEMO / "rekordbox.xml"),
                               beatport_web_url=catalog.url,
                               beatport_api_url=catalog.url + "/v4",
                               requests_per_second=200.0), paths.settings_file)
        controller = SessionController(paths, lambda: load_settings(paths.settings_file))
        with DashboardServer(DashboardAPI(paths, controller), token=TOKEN) as server:
            requests.post(server.url + "/api/match", json={"playlists": ["Demo/Peak Time"]},
                          headers=bearer(), timeout=10).raise_for_status()

            def poll(_client: int) -> list[int]:
                statuses = []
                with requests.Session() as http:
                    while not controller.wait(0.05):
                        statuses.append(http.get(server.url + "/api/live", headers=bearer(),
                                                 timeout=10).status_code)
                return statuses

            with ThreadPoolExecutor(50) as clients:
                answers = [s for found in clients.map(poll, range(50)) for s in found]
            final = requests.get(server.url + "/api/live", headers=bearer(),
                                 timeout=10).json()["session"]
    assert len(answers) >= 100 and set(answers) == {200}
    assert final["status"] == "completed" and final["done"] == 40
