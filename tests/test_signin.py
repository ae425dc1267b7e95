"""Signing in to Beatport (issue #12), over real HTTP against the local catalog server: the
whole flow, renewals during a session, a refresh token used twice, each failure in one
sentence, today's website pausing a session that resumes after signing in, the release page
that is no track, and the password found in no file the app wrote."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from cuepoint_tray.account import account_state, log_in, log_out
from cuepoint_tray.catalog_server import CatalogServer, Faults
from cuepoint_tray.catalog_server.auth import CLIENT_ID
from cuepoint_tray.cli import main
from cuepoint_tray.errors import BadResponseError, BlockedError
from cuepoint_tray.evaluation import Results
from cuepoint_tray.paths import AppPaths, resolve_paths
from cuepoint_tray.providers import HttpClient, WebsiteProvider
from cuepoint_tray.providers.api_v4 import SIGN_IN_AGAIN
from cuepoint_tray.providers.parse import UnexpectedShape
from cuepoint_tray.providers.signin import SignInError, find_client_id, sign_in
from cuepoint_tray.providers.website import NO_SEARCH_DATA_MESSAGE, next_data_of, track_of_page
from cuepoint_tray.rekordbox import Library, read_library
from cuepoint_tray.resources import resource_folder
from cuepoint_tray.session import resume_match, run_match
from cuepoint_tray.settings import Settings, load_settings, save_settings, served_from
from cuepoint_tray.store.queries import session_overview

from conftest import DEV_SET, SHARED, require

REAL = SHARED / "fixtures" / "real" / "beatport"
DEMO = resource_folder("assets", "demo")
DJ, PASSWORD = "dj-anna", "Pw-7c1e9f2b-only-here"
PLAYLIST = "Sets/Dev Set"


@pytest.fixture
def paths(isolated_dirs: Path) -> AppPaths:
    return resolve_paths(isolated_dirs).create()


@pytest.fixture(scope="module")
def library() -> Library:
    return read_library(require(DEV_SET / "rekordbox.xml"))


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., CatalogServer]]:
    """Catalog servers over the demo catalog (or `catalog=`), with DJ's account."""
    servers: list[CatalogServer] = []

    def start(catalog: Path = DEMO / "catalog.jsonl", **options: Any) -> CatalogServer:
        options.setdefault("accounts", {DJ: PASSWORD})
        servers.append(CatalogServer(catalog, **options).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def settings_for(server: CatalogServer, **changes: Any) -> Settings:
    return replace(Settings(**served_from(server.url), requests_per_second=500.0,  # type: ignore[arg-type]
                            max_attempts=2, report_format="json"), **changes)


def signed_in(paths: AppPaths, server: CatalogServer, **changes: Any) -> Settings:
    """Sign DJ in at the server; the settings as a session then reads them."""
    save_settings(settings_for(server, **changes), paths.settings_file)
    log_in(paths.settings_file, load_settings(paths.settings_file), DJ, PASSWORD)
    return load_settings(paths.settings_file)


# --- the flow ------------------------------------------------------------------------------------


def test_the_whole_flow_signs_in_keeps_the_tokens_and_never_the_password(
        serve: Callable[..., CatalogServer], paths: AppPaths) -> None:
    server = serve()
    settings = signed_in(paths, server)
    stats = server.stats()
    # docs page, its three scripts (the id is in the last), login, authorize, token, account
    assert (stats["auth"], stats["total"]) == (8, 8)
    assert stats["by_status"] == {"200": 7, "302": 1}
    assert settings.beatport_account == DJ and settings.beatport_client_id == CLIENT_ID
    assert settings.beatport_token and settings.beatport_refresh_token
    assert account_state(settings).signed_in and account_state(settings).account == DJ
    answer = requests.get(f"{server.url}/v4/my/account/", timeout=5,
                          headers={"Authorization": f"Bearer {settings.beatport_token}"})
    assert answer.json()["username"] == DJ
    assert PASSWORD not in paths.settings_file.read_text(encoding="utf-8")

    # Signing in again uses the kept client id: no docs page this time.
    requests.delete(f"{server.url}/_stats", timeout=5)
    log_in(paths.settings_file, settings, DJ, PASSWORD)
    assert server.stats()["auth"] == 4
    assert log_out(paths.settings_file) == DJ
    after = load_settings(paths.settings_file)
    assert not account_state(after).has_api_access
    assert after.beatport_client_id == CLIENT_ID  # public: kept for the next sign-in


def test_a_client_id_beatport_no_longer_takes_is_looked_up_again(
        serve: Callable[..., CatalogServer]) -> None:
    server = serve()
    signed = sign_in(f"{server.url}/v4", DJ, PASSWORD, client_id="an-old-client-id")
    assert signed.client_id == CLIENT_ID and signed.username == DJ
    assert server.stats()["by_status"]["400"] == 1  # the refused authorize, once


def test_the_server_refuses_what_beatport_refuses(serve: Callable[..., CatalogServer]) -> None:
    server = serve()
    api = f"{server.url}/v4"
    authorize = {"response_type": "code", "client_id": CLIENT_ID,
                 "redirect_uri": f"{api}/auth/o/post-message/"}
    anonymous = requests.get(f"{api}/auth/o/authorize/", params=authorize, timeout=5,
                             allow_redirects=False)
    assert anonymous.status_code == 302 and "/v4/auth/login/" in anonymous.headers["Location"]
    session = requests.Session()
    assert session.post(f"{api}/auth/login/", json={"username": DJ, "password": PASSWORD},
                        timeout=5).cookies.get("sessionid")
    wrong = session.get(f"{api}/auth/o/authorize/", params={**authorize, "client_id": "x"},
                        timeout=5, allow_redirects=False)
    assert wrong.status_code == 400 and "Invalid client_id" in wrong.text
    location = session.get(f"{api}/auth/o/authorize/", params=authorize, timeout=5,
                           allow_redirects=False).headers["Location"]
    code = location.split("code=")[1]
    form = {"grant_type": "authorization_code", "code": code, "client_id": CLIENT_ID,
            "redirect_uri": authorize["redirect_uri"]}
    assert requests.post(f"{api}/auth/o/token/", data=form, timeout=5).status_code == 200
    reused = requests.post(f"{api}/auth/o/token/", data=form, timeout=5)
    assert (reused.status_code, reused.json()) == (400, {"error": "invalid_grant"})
    session.close()


# --- failures, one sentence each ------------------------------------------------------------------


def test_a_wrong_password_says_so_and_keeps_nothing(
        serve: Callable[..., CatalogServer], paths: AppPaths) -> None:
    server = serve()
    save_settings(settings_for(server), paths.settings_file)
    with pytest.raises(SignInError) as raised:
        log_in(paths.settings_file, load_settings(paths.settings_file), DJ, "not-" + PASSWORD)
    assert str(raised.value) == ("Beatport did not accept that username and password: check "
                                 "them (they are the ones you use on beatport.com) and try "
                                 "again.")
    assert not account_state(load_settings(paths.settings_file)).has_api_access
    with pytest.raises(SignInError, match="both your Beatport username"):
        sign_in(f"{server.url}/v4", DJ, "")


def test_a_docs_page_without_a_client_id_says_to_paste_a_token(
        serve: Callable[..., CatalogServer]) -> None:
    server = serve(client_id="")
    with pytest.raises(SignInError, match="no longer shows the client id") as raised:
        sign_in(f"{server.url}/v4", DJ, PASSWORD)
    assert "paste an API token in Settings" in str(raised.value)
    assert server.stats()["auth"] == 4  # the page and its three scripts; never the login


def test_network_down_during_sign_in(serve: Callable[..., CatalogServer]) -> None:
    server = serve()
    server.go_down()
    with pytest.raises(SignInError) as raised:
        sign_in(f"{server.url}/v4", DJ, PASSWORD)
    host = server.url.removeprefix("http://")
    assert str(raised.value) == (f"Could not reach Beatport to read Beatport's API docs page "
                                 f"(connection refused at {host}): check your internet "
                                 "connection and try again.")


class _Stub(ThreadingHTTPServer):
    """A Beatport whose sign-in steps answer what a test sets: path → (status, headers, body)."""

    routes: dict[str, tuple[int, dict[str, str], bytes]]


class _StubHandler(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        status, headers, body = self.server.routes.get(  # type: ignore[attr-defined]
            self.path.split("?")[0], (404, {}, b"{}"))
        self.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _json(status: int, body: object, **headers: str) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json", **headers}, json.dumps(body).encode()


@pytest.fixture
def stub() -> Iterator[_Stub]:
    server = _Stub(("127.0.0.1", 0), _StubHandler)
    docs = b'<html><script src="/v4/static/init.js"></script></html>'
    server.routes = {
        "/v4/docs/": (200, {"Content-Type": "text/html"}, docs),
        "/v4/static/init.js": (200, {}, b"ui.initOAuth({API_CLIENT_ID: 'stub-client'})"),
        "/v4/auth/login/": _json(200, {"username": DJ, "email": "a@b.c"},
                                 **{"Set-Cookie": "sessionid=s1; Path=/"}),
        "/v4/auth/o/authorize/": (302, {"Location": "/v4/auth/o/post-message/?code=c1"}, b""),
        "/v4/auth/o/token/": _json(200, {"access_token": "a1", "refresh_token": "r1",
                                         "expires_in": 600, "token_type": "Bearer"}),
        "/v4/my/account/": _json(200, {"username": DJ}),
    }
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _stub_api(stub: _Stub) -> str:
    return f"http://127.0.0.1:{stub.server_address[1]}/v4"


def test_the_stub_flow_reads_a_relative_redirect(stub: _Stub) -> None:
    signed = sign_in(_stub_api(stub), DJ, PASSWORD)
    assert (signed.access_token, signed.refresh_token, signed.client_id) == (
        "a1", "r1", "stub-client")
    assert find_client_id(_stub_api(stub)) == "stub-client"


@pytest.mark.parametrize(("route", "answer", "sentence"), [
    ("/v4/auth/login/", _json(403, {"detail": "This account is locked. Contact support."}),
     "Beatport did not let you sign in (HTTP 403: This account is locked. Contact support.): "
     "check your account on beatport.com (it may be locked or need attention), then try "
     "again."),
    ("/v4/auth/login/", (200, {"Content-Type": "text/html"}, b"<html>Welcome!</html>"),
     "Beatport did not let you sign in (HTTP 200): check your account on beatport.com (it may "
     "be locked or need attention), then try again."),
    ("/v4/auth/login/", _json(503, {"detail": "Service unavailable"}),
     "Beatport could not sign you in just now (HTTP 503): try again in a few minutes, or "
     "paste an API token in Settings."),
    ("/v4/auth/o/authorize/", (400, {"Content-Type": "text/html"},
                               b"<h2>Error: invalid_request</h2><p>Mismatching redirect URI."
                               b"</p>"),
     "Beatport refused to let CuePoint use your account (HTTP 400: Mismatching redirect URI.): "
     "try again in a few minutes, or paste an API token in Settings."),
    ("/v4/auth/o/token/", _json(400, {"error": "invalid_grant"}),
     "Beatport signed you in but would not give CuePoint a token (HTTP 400: invalid_grant): "
     "try signing in again; if it keeps happening, paste an API token in Settings."),
    ("/v4/docs/", (503, {"Content-Type": "text/html"}, b"<h1>503</h1>"),
     "Beatport's API docs page, where signing in starts, answered HTTP 503: try again in a "
     "few minutes, or paste an API token in Settings."),
], ids=["locked", "unknown-answer", "login-5xx", "authorize-refused", "token-refused",
        "docs-5xx"])
def test_each_failing_step_is_one_plain_sentence(stub: _Stub, route: str, answer: Any,
                                                 sentence: str) -> None:
    stub.routes[route] = answer
    with pytest.raises(SignInError) as raised:
        sign_in(_stub_api(stub), DJ, PASSWORD)
    assert str(raised.value) == sentence and PASSWORD not in str(raised.value)


# --- renewals during a session ---------------------------------------------------------------


@pytest.mark.slow
def test_tokens_expiring_every_two_seconds_renew_through_a_300_track_session(
        serve: Callable[..., CatalogServer], paths: AppPaths, library: Library) -> None:
    server = serve(require(DEV_SET / "catalog.jsonl"), token_ttl_s=2.0)
    settings = signed_in(paths, server, requests_per_second=30.0)
    requests.delete(f"{server.url}/_stats", timeout=5)
    results = Results()
    outcome = run_match(library, [library.find_playlist(PLAYLIST)], settings, paths,
                        listeners=[results])
    summary, stats = outcome.ended.summary, server.stats()
    assert outcome.ended.status == "completed" and outcome.meta["provider"] == "api"
    assert (summary.done, summary.errors) == (300, 0)
    assert not any(result.error for result in results.results)
    renewals = outcome.meta["token_renewals"]
    # One renewal every ~1.8 s of the session (renewed a tenth of the lifetime early).
    assert renewals >= summary.wall_ms / 1000 / 2 - 2 and renewals >= 3
    assert stats["auth"] == renewals  # each renewal one token request, none refused
    assert stats["by_status"].get("400", 0) == 0
    kept = load_settings(paths.settings_file)  # the last rotated pair is kept, and works
    assert kept.beatport_refresh_token != settings.beatport_refresh_token
    granted = requests.post(f"{server.url}/v4/auth/o/token/", timeout=5, data={
        "grant_type": "refresh_token", "refresh_token": kept.beatport_refresh_token,
        "client_id": CLIENT_ID})
    assert granted.status_code == 200


def test_a_refresh_token_used_twice_is_refused_and_the_session_says_sign_in_again(
        serve: Callable[..., CatalogServer], paths: AppPaths) -> None:
    server = serve(token_ttl_s=1.0)
    settings = signed_in(paths, server)
    form = {"grant_type": "refresh_token", "refresh_token": settings.beatport_refresh_token,
            "client_id": CLIENT_ID}
    token_url = f"{server.url}/v4/auth/o/token/"
    assert requests.post(token_url, data=form, timeout=5).status_code == 200
    again = requests.post(token_url, data=form, timeout=5)
    assert (again.status_code, again.json()) == (400, {"error": "invalid_grant"})

    time.sleep(1.1)  # the kept access token has lapsed; its refresh token was spent above
    demo = read_library(DEMO / "rekordbox.xml")
    results = Results()
    outcome = run_match(demo, [demo.find_playlist("Crate Digging")], settings, paths,
                        listeners=[results])
    assert outcome.ended.status == "paused" and outcome.ended.reason == SIGN_IN_AGAIN
    assert "sign in to Beatport again" in SIGN_IN_AGAIN
    assert outcome.ended.summary.done == 0 and results.rows == []
    assert not account_state(load_settings(paths.settings_file)).has_api_access  # signed out

    signed_in(paths, server)
    resumed = resume_match(outcome.session_id, load_settings(paths.settings_file), paths)
    assert resumed.ended.status == "completed" and resumed.ended.summary.errors == 0


# --- today's website -----------------------------------------------------------------------------


def test_todays_website_pauses_at_the_first_page_and_resume_after_signing_in_finishes(
        serve: Callable[..., CatalogServer], paths: AppPaths, library: Library) -> None:
    server = serve(require(DEV_SET / "catalog.jsonl"),
                   faults=Faults(today_search_pages=True))
    settings = settings_for(server)
    save_settings(settings, paths.settings_file)
    outcome = run_match(library, [library.find_playlist(PLAYLIST)], settings, paths)
    assert outcome.ended.status == "paused"
    assert outcome.ended.reason == NO_SEARCH_DATA_MESSAGE == (
        "Beatport's website no longer lists search results for programs: sign in to Beatport "
        "(Settings, or `cuepoint login`)")
    assert server.stats()["total"] == 1 and server.stats()["web_search"] == 1
    summary = outcome.ended.summary
    assert (summary.done, summary.matched, summary.unmatched, summary.errors) == (0, 0, 0, 0)
    stored = session_overview(paths.database, outcome.session_id)
    assert (stored["status"], stored["done"], stored["errors"]) == ("paused", 0, 0)

    signed_in(paths, server)
    resumed = resume_match(outcome.session_id, load_settings(paths.settings_file), paths)
    assert resumed.ended.status == "completed" and resumed.meta["provider"] == "api"
    assert resumed.ended.summary.done == 300 and resumed.ended.summary.errors == 0
    assert server.stats()["web_search"] == 1  # signed in: the website was never asked again


def test_the_cloudflare_page_stops_the_website_after_one_request(
        serve: Callable[..., CatalogServer], tmp_path: Path) -> None:
    server = serve(faults=Faults(cloudflare=True))
    http = HttpClient(cache_path=None, cache_expiry_days=0, requests_per_second=500.0,
                      timeout_s=5.0, max_attempts=3)
    website = WebsiteProvider(http, web_url=server.url)
    failures = []

    def search(text: str) -> None:
        try:
            website.search(text)
        except BlockedError as exc:
            failures.append(str(exc))

    threads = [threading.Thread(target=search, args=(f"query {n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    http.close()
    assert len(failures) == 6 and "sign in to Beatport" in failures[0]
    assert server.stats()["total"] == 1


# --- the release page is no track ------------------------------------------------------------


def _real(name: str) -> dict[str, Any]:
    return json.loads(require(REAL / name).read_text(encoding="utf-8"))


def test_the_real_release_page_is_refused_as_a_track() -> None:
    release = _real("www-release-pageprops_the-reckoning_2026-04.json")
    with pytest.raises(UnexpectedShape, match="not a track page.*release-3371021"):
        track_of_page(release)  # type: ignore[arg-type]
    for name, track_id in (("www-track-pageprops_dub-power_2026-04.json", 15214756),
                           ("www-track-pageprops_operator_2026-04.json", 15553519)):
        assert track_of_page(_real(name), track_id)["id"] == track_id  # type: ignore[arg-type]
    with pytest.raises(UnexpectedShape, match="not 1's"):
        track_of_page(_real("www-track-pageprops_dub-power_2026-04.json"), 1)  # type: ignore[arg-type]


def test_a_release_page_served_as_a_track_page_is_a_bad_response(stub: _Stub) -> None:
    page = json.dumps(_real("www-release-pageprops_the-reckoning_2026-04.json"))
    html = f'<html><script id="__NEXT_DATA__" type="application/json">{page}</script></html>'
    stub.routes["/track/-/3371021"] = (200, {"Content-Type": "text/html"}, html.encode())
    assert next_data_of(html)
    http = HttpClient(cache_path=None, cache_expiry_days=0, requests_per_second=500.0,
                      timeout_s=5.0, max_attempts=2)
    web_url = f"http://127.0.0.1:{stub.server_address[1]}"
    with pytest.raises(BadResponseError, match="not a track page") as raised:
        WebsiteProvider(http, web_url=web_url).track_by_id(3371021)
    http.close()
    assert raised.value.report is not None and raised.value.report.attempts == 1


# --- the password is nowhere ---------------------------------------------------------------------


def test_the_password_is_in_no_file_after_sign_in_session_and_reports(
        serve: Callable[..., CatalogServer], isolated_dirs: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    server = serve(token_ttl_s=3.0, faults=Faults(today_search_pages=True))
    url = ["--beatport-url", server.url]
    logging.getLogger().setLevel(logging.DEBUG)  # the most the log could ever say
    xml = str(DEMO / "rekordbox.xml")
    assert main(["match", "--xml", xml, "--playlist", "Crate Digging", *url]) == 1  # paused
    monkeypatch.setattr("sys.stdin", io.StringIO("wrong-" + PASSWORD + "\n"))
    assert main(["login", "--username", DJ, "--password-stdin", *url]) == 1
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["login", "--username", DJ, "--password-stdin", *url]) == 0
    printed = capsys.readouterr()
    assert "Beatport did not accept that username and password" in printed.err
    assert f"Signed in to Beatport as {DJ}" in printed.out
    assert "cuepoint resume 1" in printed.out
    time.sleep(3.1)  # sessions renew the token
    assert main(["resume", "1", *url]) == 0
    assert main(["match", "--xml", xml, "--playlist", "Crate Digging", *url]) == 0
    for fmt in ("html", "csv", "json", "txt"):
        assert main(["report", "1", "--format", fmt]) == 0
    assert main(["settings"]) == 0
    assert main(["logout"]) == 0
    assert server.stats()["auth"] > 8  # signed in, then renewed

    written = [path for path in isolated_dirs.parent.rglob("*") if path.is_file()]
    assert any(p.name == "history.sqlite3" for p in written)
    assert any(p.suffix == ".log" for p in written)
    assert any(p.name == "settings.toml" for p in written)
    assert any(p.name == "beatport-http.sqlite3" for p in written)
    for path in written:
        assert PASSWORD.encode() not in path.read_bytes(), f"the password is in {path}"
    assert PASSWORD not in capsys.readouterr().out


# --- the demo, the dashboard's API and the server's command line --------------------------------


def test_the_demo_works_while_signed_in_and_leaves_the_sign_in_alone(
        serve: Callable[..., CatalogServer], paths: AppPaths) -> None:
    server = serve()
    signed_in(paths, server)
    assert main(["demo"]) == 0
    kept = load_settings(paths.settings_file)
    assert account_state(kept).signed_in and kept.beatport_account == DJ
    assert server.stats()["total"] == 8  # the sign-in's requests only: the demo has its own


def test_the_dashboard_api_signs_in_and_out_over_http(
        serve: Callable[..., CatalogServer], paths: AppPaths) -> None:
    from cuepoint_tray.dashboard import DashboardAPI, DashboardServer

    server = serve()
    save_settings(settings_for(server), paths.settings_file)
    with DashboardServer(DashboardAPI(paths), token="t") as dashboard:
        def call(path: str, body: object = None) -> requests.Response:
            return requests.request("POST" if body is not None else "GET",
                                    f"{dashboard.url}/api/beatport/{path}", json=body,
                                    headers={"Authorization": "Bearer t"}, timeout=10)

        assert call("account").json() == {"signed_in": False, "account": "",
                                          "pasted_token": False, "paused_session": None,
                                          "paused_reason": ""}
        wrong = call("sign-in", {"username": DJ, "password": "nope"})
        assert wrong.status_code == 400
        assert wrong.json()["error"].startswith("Beatport did not accept that username")
        right = call("sign-in", {"username": DJ, "password": PASSWORD})
        assert right.status_code == 200 and right.json()["account"] == DJ
        assert PASSWORD not in right.text and PASSWORD not in call("account").text
        assert call("sign-out", {}).json()["signed_in"] is False


def test_the_catalog_server_command_refuses_an_account_without_a_password(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog-server", str(DEMO / "catalog.jsonl"), "--account", "dj"]) == 1
    assert capsys.readouterr().err.strip() == (
        "error: --account takes NAME:PASSWORD: a name, a colon, then the password.")
