"""The dashboard's HTTP layer: bottle on 127.0.0.1, thin over `DashboardAPI`.

Security, in the order a request meets it (`_guard`):
- only the loopback address is bound, and the Host header must name it with our port (a
  page on another site cannot reach us through DNS rebinding);
- an Origin header, when sent, must be ours, and there is no CORS (a page on another site
  cannot read or post anything);
- every /api/ call carries the per-launch token as `Authorization: Bearer <token>`;
- request bodies are small JSON documents: anything over 64 KiB is refused.
Static files come from the package's `web/` folder only (bottle's `static_file` refuses paths
leading out of it), and plotly.js from the installed plotly package.
"""

from __future__ import annotations

import contextlib
import hmac
import importlib.resources
import json
import logging
import secrets
import socket
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import bottle

from cuepoint_tray.changes import ExportOptions, export_options
from cuepoint_tray.dashboard.api import DashboardAPI, Download
from cuepoint_tray.errors import CuepointError, SettingsError
from cuepoint_tray.finite import finite
from cuepoint_tray.providers.signin import SignInError
from cuepoint_tray.resources import resource_folder
from cuepoint_tray.store.migrations import HistoryError
from cuepoint_tray.store.queries import NotFoundError
from cuepoint_tray.store.recovery import is_damage

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
# A socket silent this long is closed. Longer than a browser keeps a connection it opened
# ahead of need (Chromium: 10 s), or the page's next request would meet a closed socket
# and stall; 64 workers take the idle sockets meanwhile.
REQUEST_TIMEOUT_S = 20.0
# How long the serving loop sleeps between looks for a stop request when nothing arrives.
IDLE_WAIT_S = 30.0
# Ids are SQLite rowids: above this SQLite cannot even look one up.
MAX_ID = 2**63 - 1
MAX_BULK = 5000  # tracks decided in one request (a 64 KiB body holds about this many ids)
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; "
       "form-action 'none'; frame-ancestors 'none'")
# The tray's window, and only it, loads the page as /?window=1: pywebview's bridge (the
# window's `js_api`, which saves exports where the DJ says) builds its functions with
# `new Function`, which "script-src 'self'" refuses. No script of ours evaluates text.
WINDOW_CSP = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-eval'")
_ERRORS: tuple[tuple[type[Exception], int], ...] = (
    (NotFoundError, 404), (SettingsError, 400), (HistoryError, 400), (SignInError, 400),
    (CuepointError, 409),
    (ValueError, 400))

StartResponse = Callable[..., Any]


class DashboardServer:
    """The dashboard on http://127.0.0.1:<port>; `start()` serves it on a daemon thread."""

    def __init__(self, api: DashboardAPI, *, port: int = 0, token: str | None = None,
                 web_root: Path | None = None) -> None:
        self.api = api
        self.token = token or secrets.token_urlsafe(24)
        self.web_root = web_root = web_root or resource_folder("web")
        self._server = make_server("127.0.0.1", port, self._guard, server_class=_PooledServer,
                                   handler_class=_QuietHandler)
        self.port = self._server.server_port
        self.app = _routes(api, web_root)
        self._thread: threading.Thread | None = None
        self._serving = False  # shutdown() would wait for ever on a loop never started

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def page_url(self, page: str = "live", *, window: bool = False) -> str:
        """The address the app opens: the token rides in the fragment, never sent to a
        server, and the page moves it out of the address bar. `window`: for the tray's own
        window (its bridge needs WINDOW_CSP)."""
        return f"{self.url}/{'?window=1' if window else ''}#/{page}?token={self.token}"

    def start(self) -> DashboardServer:
        self._thread = threading.Thread(target=self.serve_forever, name="dashboard-server",
                                        daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._serving = True
        # The loop looks for a stop request only between waits: a long wait keeps an idle
        # app asleep, and `stop` wakes it with a connection rather than waiting it out.
        self._server.serve_forever(IDLE_WAIT_S)

    def stop(self) -> None:
        if self._serving:
            stopping = threading.Thread(target=self._server.shutdown, name="dashboard-stop")
            stopping.start()
            while stopping.is_alive():
                _wake(self._server.server_port)
                stopping.join(0.1)
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> DashboardServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- the guard --------------------------------------------------------------------

    def _guard(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        refusal = self._refusal(environ)
        if refusal is not None:
            status, message = refusal
            return _plain(start_response, status, message)
        return self.app(environ, start_response)

    def _refusal(self, environ: dict[str, Any]) -> tuple[str, str] | None:
        ours = {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}
        if environ.get("HTTP_HOST", "") not in ours:
            return "403 Forbidden", "This dashboard answers only at its own loopback address."
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and origin.removeprefix("http://") not in ours:
            return "403 Forbidden", "Requests from other sites are refused."
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD", "POST"):
            return "405 Method Not Allowed", "Only GET and POST are served."
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            # a chunked body has no length to check first; the page always sends one
            return "411 Length Required", "Send request bodies with a Content-Length."
        if _content_length(environ) > MAX_BODY:
            return "413 Payload Too Large", "Request bodies are limited to 64 KiB."
        if environ.get("PATH_INFO", "").startswith("/api/") and not self._authorised(environ):
            return "401 Unauthorized", ("Open the dashboard from CuePoint (tray menu > Open "
                                        "dashboard) so the page has its access token.")
        return None

    def _authorised(self, environ: dict[str, Any]) -> bool:
        scheme, _, given = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                                  self.token.encode())


def _content_length(environ: dict[str, Any]) -> int:
    try:
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return MAX_BODY + 1
    # chunked bodies have no length: bottle reads them up to MEMFILE_MAX into memory


def _plain(start_response: StartResponse, status: str, message: str) -> list[bytes]:
    body = json.dumps({"error": message}).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body))), *_SECURITY_HEADERS])
    return [body]


_SECURITY_HEADERS = [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"),
                     ("Content-Security-Policy", CSP), ("X-Frame-Options", "DENY")]


def _wake(port: int) -> None:
    """Open and close a connection, so the serving loop's wait ends now."""
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port),
                                                                timeout=1):
        pass


class _PooledServer(WSGIServer):
    """Requests are served by a fixed pool of threads, so each keeps its SQLite connection
    (a thread per request would open, set up and drop a connection for every poll)."""

    allow_reuse_address = True
    request_queue_size = 128  # the default 5 drops connections from a burst of polls
    # Each worker keeps one SQLite connection; 64 outlast a burst of idle or half-sent
    # requests, which REQUEST_TIMEOUT_S then closes.
    workers = 64

    def server_activate(self) -> None:
        super().server_activate()
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="dashboard")

    def process_request(self, request: Any, client_address: Any) -> None:
        self._pool.submit(self._serve, request, client_address)

    def _serve(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        self._pool.shutdown(wait=False, cancel_futures=True)


class _QuietHandler(WSGIRequestHandler):
    # A socket that sends half a request and waits is closed after this long without a
    # byte, so idle clients cannot hold the workers for good.
    timeout = REQUEST_TIMEOUT_S

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("dashboard: " + format, *args)

    def address_string(self) -> str:
        return str(self.client_address[0])  # no reverse DNS lookup per request


# --- routes ------------------------------------------------------------------------------

def _routes(api: DashboardAPI, web_root: Path) -> bottle.Bottle:
    app = bottle.Bottle(catchall=True)
    app.config["json.enable"] = False

    def get(path: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return app.route(path, method="GET")

    def post(path: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return app.route(path, method="POST")

    def answer(handler: Callable[..., Any]) -> Callable[..., Any]:
        return _json(handler, api.recover_history)

    def send_file(handler: Callable[..., Download]) -> Callable[..., Any]:
        return _file(handler, api.recover_history)

    get("/api/status")(answer(api.status))
    get("/api/live")(answer(lambda: api.live(_int_arg("session"), _int_arg("after") or 0)))
    post("/api/live/<action>")(answer(api.control))
    post("/api/match")(answer(lambda: api.match(_texts(_body().get("playlists") or []))))
    get("/api/playlists")(answer(api.playlists))
    get("/api/sessions")(answer(lambda: api.sessions(
        limit=_count_arg("limit") or 50, offset=_count_arg("offset") or 0,
        status=_arg("status"), search=_arg("search"),
        order_by=_arg("order") or "-started_at")))
    get("/api/trends")(answer(lambda: api.trends(_count_arg("limit") or 100)))
    get("/api/sessions/<session_id:int>")(answer(api.session))
    post("/api/sessions/<session_id:int>/resume")(answer(api.resume_session))
    get("/api/sessions/<session_id:int>/tracks")(answer(lambda session_id: api.tracks(
        session_id, status=_arg("status"), confidence=_arg("confidence"),
        review_state=_arg("review_state"), search=_arg("search"),
        needs_decision=_flag("needs_decision"),
        limit=_count_arg("limit") or 500, offset=_count_arg("offset") or 0)))
    get("/api/sessions/<session_id:int>/changes")(answer(lambda session_id: api.changes(
        session_id, only_changing=_flag("only_changing"), fields=_arg("fields"),
        mode=_arg("mode"), limit=_count_arg("limit") or 500,
        offset=_count_arg("offset") or 0)))
    post("/api/sessions/<session_id:int>/review")(answer(
        lambda session_id: _review_many(api, session_id)))
    get("/api/tracks/<track_id:int>")(answer(lambda track_id: api.track(track_id)))
    post("/api/tracks/<track_id:int>/review")(answer(lambda track_id: _review(api, track_id)))
    get("/api/search")(answer(lambda: _search(api)))
    get("/api/compare")(answer(lambda: api.compare(_int_list(_arg("ids") or ""))))
    get("/api/settings")(answer(api.settings))
    get("/api/settings/schema")(answer(api.settings_schema))
    post("/api/settings")(answer(lambda: api.save_settings(_object(_body().get("values") or {}))))
    get("/api/beatport/account")(answer(api.beatport_account))
    post("/api/beatport/sign-in")(answer(lambda: _sign_in(api)))
    post("/api/beatport/sign-out")(answer(api.sign_out))
    get("/api/sessions/<session_id:int>/report.<fmt>")(send_file(api.report))
    get("/api/sessions/<session_id:int>/rekordbox.xml")(send_file(
        lambda session_id: api.rekordbox_export(session_id, write_bpm=_arg("bpm") == "1",
                                                options=_export_options(api))))
    get("/api/sessions/<session_id:int>/rekordbox-changes.csv")(send_file(
        lambda session_id: api.rekordbox_export(session_id, write_bpm=_arg("bpm") == "1",
                                                changes=True, options=_export_options(api))))
    get("/plotly.min.js")(_plotly)
    get("/")(lambda: _index(web_root))
    get("/<path:path>")(lambda path: _static(path, web_root))
    app.error(403)(lambda _error: _error_body("Access denied."))
    app.error(404)(lambda _error: _error_body("Not found."))
    app.error(405)(lambda _error: _error_body("Method not allowed."))
    app.error(500)(lambda _error: _error_body("Something went wrong; the log has details."))
    return app


def _sign_in(api: DashboardAPI) -> dict[str, Any]:
    body = _body()  # the password lives in this request's memory only
    username, password = body.get("username") or "", body.get("password") or ""
    if not isinstance(username, str) or not isinstance(password, str):
        raise ValueError("'username' and 'password' must be text.")
    return api.sign_in(username, password)


def _review(api: DashboardAPI, track_id: int) -> dict[str, Any]:
    body = _body()
    state = body.get("state", "")
    if not isinstance(state, str):
        raise ValueError("'state' must be text: accepted, rejected, picked or undo.")
    beatport_id = _optional_int(body.get("beatport_id"))
    if beatport_id is not None and not 0 < beatport_id <= MAX_ID:
        raise ValueError(f"'{beatport_id}' is no Beatport track id.")
    return api.review(track_id, state, beatport_id)


def _review_many(api: DashboardAPI, session_id: int) -> dict[str, Any]:
    body = _body()
    state = body.get("state", "")
    if not isinstance(state, str):
        raise ValueError("'state' must be text: accepted or rejected.")
    ids = body.get("track_ids")
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool)
                                            and 0 < i <= MAX_ID for i in ids):
        raise ValueError("'track_ids' must be a list of track ids.")
    if len(ids) > MAX_BULK:
        raise ValueError(f"At most {MAX_BULK} tracks can be decided at once.")
    return api.review_many(session_id, state, ids)


def _search(api: DashboardAPI) -> dict[str, Any]:
    track_id = _int_arg("track")
    if track_id is None:
        raise ValueError("Say which track the search is for ('track').")
    if not 0 < track_id <= MAX_ID:
        raise NotFoundError(f"There is no track {track_id}.")
    return api.search(_arg("q") or "", track_id)


def _export_options(api: DashboardAPI) -> ExportOptions:
    """Export options from the query: fields=key,bpm,..., mode=fill|overwrite, comments=0|1;
    keys in the notation of the settings."""
    return export_options(_arg("fields"), _arg("mode"), _arg("comments"),
                          api.load_settings_plain().key_notation)


def _flag(name: str) -> bool:
    value = _arg(name)
    if value not in (None, "0", "1", "true", "false"):
        raise ValueError(f"'{name}' must be 0 or 1.")
    return value in ("1", "true")


def _json(handler: Callable[..., Any], on_damage: Callable[[], str]) -> Callable[..., Any]:
    def respond(**arguments: Any) -> str:
        try:
            _check_ids(arguments)
            result = handler(**arguments)
        except Exception as exc:  # the app's own errors carry words for the DJ
            return _failure(exc, on_damage)
        return _send_json(result)
    return respond


def _check_ids(arguments: dict[str, Any]) -> None:
    """An id in the path that no row can have is "not found", not a server error."""
    for name, value in arguments.items():
        if name.endswith("_id") and isinstance(value, int) and not 0 < value <= MAX_ID:
            raise NotFoundError(f"There is no {name.removesuffix('_id')} {value}.")


def _failure(exc: Exception, on_damage: Callable[[], str]) -> str:
    if is_damage(exc):  # set aside and recovered: the next request reads the fresh file
        bottle.response.status = 503
        return _send_json({"error": on_damage()})
    for kind, status in _ERRORS:
        if isinstance(exc, kind):
            bottle.response.status = status
            return _send_json(_refused(exc))
    log.exception("dashboard API call failed")
    bottle.response.status = 500
    return _send_json({"error": "Something went wrong; the log has details."})


def _refused(exc: Exception) -> dict[str, str]:
    """The error's sentence; a refused setting also names the setting, for the page to show
    the sentence under its field."""
    if isinstance(exc, SettingsError) and exc.setting:
        return {"error": str(exc), "setting": exc.setting, "sentence": exc.sentence}
    return {"error": str(exc)}


def _send_json(value: Any) -> str:
    bottle.response.content_type = "application/json"
    bottle.response.set_header("Cache-Control", "no-store")
    _secure(bottle.response)
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, default=str)
    except ValueError:  # an infinity stored by an older CuePoint: sent as null
        return json.dumps(finite(value), ensure_ascii=False, allow_nan=False, default=str)


def _error_body(message: str) -> str:
    return _send_json({"error": message})


def _file(handler: Callable[..., Download], on_damage: Callable[[], str]) -> Callable[..., Any]:
    def respond(**arguments: Any) -> Any:
        try:
            _check_ids(arguments)
            download = handler(**arguments)
        except Exception as exc:
            return _failure(exc, on_damage)
        if download.content is not None:
            sent = bottle.HTTPResponse(download.content, **{
                "Content-Type": download.content_type,
                "Content-Disposition": _attachment(download.filename)})
        else:
            sent = bottle.static_file(download.path.name, root=str(download.path.parent),
                                      mimetype=download.content_type,
                                      download=download.filename)
        sent.set_header("Cache-Control", "no-store")
        _secure(sent)
        return sent
    return respond


def _attachment(filename: str) -> str:
    """Content-Disposition for any file name: an ASCII stand-in, and the name in UTF-8."""
    plain = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_"
                    for c in filename)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _static(path: str, web_root: Path) -> Any:
    sent = bottle.static_file(path, root=str(web_root))
    sent.set_header("Cache-Control", "no-cache")
    _secure(sent)
    return sent


def _index(web_root: Path) -> Any:
    sent = _static("index.html", web_root)
    if bottle.request.query.get("window") == "1":
        sent.set_header("Content-Security-Policy", WINDOW_CSP)
    return sent


def _plotly() -> Any:
    folder = importlib.resources.files("plotly") / "package_data"
    sent = bottle.static_file("plotly.min.js", root=str(folder),
                              mimetype="text/javascript", charset="utf-8")
    sent.set_header("Cache-Control", "max-age=86400")
    _secure(sent)
    return sent


def _secure(response: bottle.BaseResponse) -> None:
    for name, value in _SECURITY_HEADERS:
        response.set_header(name, value)


def _arg(name: str) -> str | None:
    value = bottle.request.query.getunicode(name)
    return value or None


def _int_arg(name: str) -> int | None:
    return _optional_int(_arg(name))


def _optional_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
        raise ValueError(f"'{value}' is not a whole number.")
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"'{value}' is not a whole number.") from None


def _count_arg(name: str) -> int | None:
    """A limit or offset: a whole number, 0 or more (-1 would lift SQLite's LIMIT)."""
    value = _int_arg(name)
    if value is not None and not 0 <= value <= MAX_ID:
        raise ValueError(f"'{name}' must be a whole number from 0.")
    return value


def _int_list(text: str) -> list[int]:
    ids = [int(part) for part in text.split(",") if part.strip()]
    if any(not 0 < number <= MAX_ID for number in ids):
        raise NotFoundError("One of those sessions is not in the history.")
    return ids


def _texts(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError("'playlists' must be a list of playlist paths.")
    return value


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError("'values' must be an object of setting names and values.")
    return value


def _body() -> dict[str, Any]:
    try:
        value = json.loads(bottle.request.body.read(MAX_BODY + 1) or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ValueError("The request body is not JSON.") from None
    if not isinstance(value, dict):
        raise ValueError("The request body must be a JSON object.")
    return value
