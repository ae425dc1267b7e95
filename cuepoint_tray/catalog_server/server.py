"""The catalog server: HTTP/1.1 on 127.0.0.1 over CatalogSite, with fault switches and /_stats.

Each request runs in its own thread. The fault switches sit in front of the site, the way a
CDN and a gateway sit in front of a store: they may reset the connection, delay or hang,
throttle (429, alone or in bursts), challenge website paths (Cloudflare), fail (5xx) or cut
the answer short; behind them, a good answer may come garbled (no `__NEXT_DATA__`, a renamed
field, JSON cut short). `down_s`, or `go_down()` and `come_back()`, take the server away: the
listening socket closes, so connections are refused, and opens again on the same port.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from cuepoint_tray.catalog_server import pages
from cuepoint_tray.catalog_server.auth import CLIENT_ID, TokenBook
from cuepoint_tray.catalog_server.catalog import Catalog
from cuepoint_tray.catalog_server.faults import (
    Fate,
    Faults,
    FaultSwitchboard,
    cut_in_half,
    with_renamed_field,
    without_next_data,
)
from cuepoint_tray.catalog_server.signin import SignInSite
from cuepoint_tray.catalog_server.site import (
    HTML_TYPE,
    Answer,
    CatalogSite,
    Request,
    challenge_answer,
    html_answer,
    is_api,
    json_answer,
    request_kind,
    server_error_answer,
    throttled_answer,
)
from cuepoint_tray.catalog_server.stats import RESET, RequestStats
from cuepoint_tray.errors import CuepointError

log = logging.getLogger("cuepoint.catalog_server")

HOST = "127.0.0.1"
_LOOPBACK_NAMES = (HOST, "localhost")
# How often the serving loop looks for a stop request: short, so tests stop servers quickly.
_POLL_S = 0.05


@dataclass(frozen=True, slots=True)
class Outcome:
    """What to send back: an answer (maybe cut short), or None to drop the connection; and
    what to do once it is sent."""

    answer: Answer | None
    truncate: bool = False
    then: Callable[[], None] | None = None


class CatalogServer:
    """A Beatport-compatible server over a catalog file, on 127.0.0.1.

    The socket is bound on construction, so `url` is known before `start()`. `accounts`
    (name → password) can sign in as on Beatport; `token_ttl_s` is how long access tokens
    live; `client_id` is the one the docs page holds ("" for a docs page without one).
    """

    def __init__(self, catalog_path: Path, *, host: str = HOST, port: int = 0,
                 token: str | None = None, faults: Faults | None = None,
                 refresh_token: str | None = None, token_ttl_s: float | None = None,
                 accounts: Mapping[str, str] | None = None, client_id: str = CLIENT_ID):
        if host not in _LOOPBACK_NAMES:
            raise CuepointError(f"The catalog server only listens on {HOST}, not on {host}.")
        catalog = Catalog.load(Path(catalog_path))
        self._faults = Faults()
        self._switchboard = FaultSwitchboard()
        self._stats = RequestStats()
        self._stop_requested = threading.Event()
        self._lock = threading.Lock()
        # Held for a whole outage change (going down, coming back, stopping), which waits for
        # the serving loop and so cannot hold `_lock`: a come_back() timed to land while
        # go_down() is still closing sockets waits for it instead of racing it.
        self._outage_lock = threading.Lock()
        self._serving = False
        self._stopped = False
        self._down = False  # going or gone down: requests on open connections are reset
        self._listening = True  # false once the listening socket is closed
        self._return: threading.Timer | None = None  # brings the server back after down_s
        self._thread: threading.Thread | None = None
        self._httpd = _bind(port, self)
        self._serving_httpd: _HTTPServer | None = None  # the one the serving loop is on
        self.port = self._httpd.server_port
        self.url = f"http://{HOST}:{self.port}"
        tokens = TokenBook(token, refresh_token, token_ttl_s, accounts=accounts,
                           client_id=client_id)
        self._site = CatalogSite(catalog, base_url=self.url, tokens=tokens)
        self._sign_in = SignInSite(tokens, self._site.api_root)
        self.faults = faults if faults is not None else Faults()
        log.info("catalog server on %s: %d tracks from %s", self.url, len(catalog), catalog_path)

    @property
    def faults(self) -> Faults:
        """The fault switches in force; setting them with `down_s` takes the server away."""
        return self._faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self._faults = faults
        if faults.down_s > 0:
            self.go_down_for(faults.down_s)

    # lifecycle ---------------------------------------------------------------------------------

    def start(self) -> CatalogServer:
        """Serve in a daemon thread; return self (for `with CatalogServer(…).start() as s`)."""
        with self._lock:
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(target=self.serve_forever, daemon=True,
                                                name=f"catalog-server-{self._httpd.server_port}")
                self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until stop() (or Ctrl-C), through any outages."""
        with self._lock:
            if self._stopped or self._serving:
                return
            self._serving = True
        while not self._stop_requested.is_set():
            httpd = self._listener_to_serve()
            if httpd is None:  # down: nothing listens; look again shortly
                self._stop_requested.wait(_POLL_S)
            else:
                httpd.serve_forever(poll_interval=_POLL_S)

    def _listener_to_serve(self) -> _HTTPServer | None:
        """The listener to serve now; None while down or stopping."""
        with self._lock:
            # shutdown() on a listener whose serve_forever is only about to start still works:
            # that serve_forever returns at once.
            up = not (self._down or self._stop_requested.is_set())
            self._serving_httpd = self._httpd if up else None
            return self._serving_httpd

    def stop(self) -> None:
        """Stop serving, end hanging answers and close every connection; idempotent."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            self._stop_requested.set()
            serving, self._serving_httpd = self._serving_httpd, None
        self._cancel_return()
        with self._outage_lock:
            self._close(self._httpd, serving)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    # outages -----------------------------------------------------------------------------------

    def go_down(self) -> None:
        """Close the listening socket and every connection: clients are refused, as when the
        server is gone. Requests that still reach it on a kept-alive connection are reset."""
        with self._outage_lock:
            with self._lock:
                if self._stopped or self._down:
                    return
                self._down = True
                serving, self._serving_httpd = self._serving_httpd, None
            self._close(self._httpd, serving)
            # Keep the port bound but not listening: connections are still refused, and no
            # outgoing connection can be handed this port while the server is away. (If it
            # was taken in the instant between, come_back() binds it afresh.)
            with contextlib.suppress(CuepointError):
                self._httpd = _bind(self.port, self, listen=False)
            self._listening = False
        log.info("catalog server on %s is down", self.url)

    def come_back(self) -> None:
        """Listen again on the same port after `go_down()`."""
        if self._return is not threading.current_thread():
            self._cancel_return()
        with self._outage_lock, self._lock:
            if self._stopped or not self._down:
                return
            try:
                self._httpd.server_activate()
            except OSError:  # the port could not be kept while down
                self._httpd = _bind(self.port, self)
            self._down = False
            self._listening = True
        log.info("catalog server on %s is back", self.url)

    def go_down_for(self, seconds: float) -> None:
        """Go down now and come back after `seconds`, on the same port."""
        self._cancel_return()
        self.go_down()
        timer = threading.Timer(seconds, self.come_back)
        timer.daemon = True
        self._return = timer
        timer.start()

    def _cancel_return(self) -> None:
        timer, self._return = self._return, None
        if timer is not None:
            timer.cancel()

    @property
    def is_down(self) -> bool:
        """Whether the server is gone: connections to its port are refused."""
        return not self._listening

    def _close(self, httpd: _HTTPServer, serving: _HTTPServer | None) -> None:
        if serving is not None:
            serving.shutdown()
        httpd.server_close()
        httpd.close_connections()

    def __enter__(self) -> CatalogServer:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    def stats(self) -> dict[str, Any]:
        """Requests answered so far, by kind and status (what GET /_stats answers)."""
        return self._stats.snapshot()

    # answering ---------------------------------------------------------------------------------

    def respond(self, request: Request) -> Outcome:
        """Decide one request's outcome; sleeps for latency and hangs. Called per thread."""
        if self._down:
            return Outcome(None)  # a kept-alive connection outlived the outage's start
        if request.path in ("/_stats", "/_faults"):
            return self._control(request)
        kind = request_kind(request)
        fate = self._switchboard.decide(self.faults, time.monotonic())
        if fate.reset:
            self._stats.count(kind, RESET)
            return Outcome(None)
        # Waiting on the stop event rather than sleeping lets stop() end a hang at once.
        self._stop_requested.wait(fate.delay_s)
        answer = self._faulted(fate, request) or _garbled(fate, self._answer(request, fate))
        self._stats.count(kind, answer.status)
        return Outcome(answer, truncate=fate.truncate)

    def _faulted(self, fate: Fate, request: Request) -> Answer | None:
        # Edge first (throttle, challenge), then the origin failing, as behind a real CDN.
        if fate.retry_after_s is not None:
            return throttled_answer(request, fate.retry_after_s)
        if fate.cloudflare and not is_api(request.path):
            return challenge_answer(request)
        if fate.error_status is not None:
            return server_error_answer(fate.error_status)
        return None

    def _answer(self, request: Request, fate: Fate) -> Answer:
        try:
            if fate.today_search_pages and request_kind(request) == "web_search":
                return html_answer(200, pages.todays_search_page(request.query.get("q", "")))
            return self._sign_in.answer(request) or self._site.answer(request)
        except Exception:  # a bug here must cost one answer, not the connection's thread
            log.exception("catalog server failed on %s %s", request.method, request.path)
            return server_error_answer(500)

    def _control(self, request: Request) -> Outcome:
        """The test hooks: GET/DELETE /_stats, GET/PUT /_faults."""
        route = (request.method, request.path)
        if route == ("GET", "/_stats"):
            return Outcome(json_answer(200, self.stats()))
        if route == ("DELETE", "/_stats"):
            self._stats.reset()
            return Outcome(json_answer(200, self.stats()))
        if route == ("GET", "/_faults"):
            return Outcome(json_answer(200, self.faults.to_json()))
        if route == ("PUT", "/_faults"):
            return self._replace_faults(request.body)
        return Outcome(json_answer(405, {"detail": f'Method "{request.method}" not allowed.'}))

    def _replace_faults(self, body: bytes) -> Outcome:
        try:
            faults = Faults.from_json(json.loads(body or b"{}"))
        except ValueError as exc:  # json.JSONDecodeError is a ValueError too
            return Outcome(json_answer(400, {"detail": f"Bad fault switches: {exc}"}))
        self._faults = faults
        # Down only once the answer is out, so the client hears that its switch was taken.
        going_down = (lambda: self.go_down_for(faults.down_s)) if faults.down_s > 0 else None
        return Outcome(json_answer(200, faults.to_json()), then=going_down)


def _garbled(fate: Fate, answer: Answer) -> Answer:
    """A good answer spoiled as the garbling switches decided; any other answer as it is."""
    if answer.status != 200:
        return answer
    body = answer.body
    if fate.no_next_data and answer.content_type == HTML_TYPE:
        body = without_next_data(body)
    if fate.rename_field:
        body = with_renamed_field(body)
    if fate.cut_json:
        body = cut_in_half(body)
    return answer if body is answer.body else replace(answer, body=body)


# --- HTTP plumbing ------------------------------------------------------------------------------

def _bind(port: int, owner: CatalogServer, listen: bool = True) -> _HTTPServer:
    """A server bound to `port`; listening unless `listen` is false (then connections are
    refused until its `server_activate()`)."""
    try:
        httpd = _HTTPServer(port, owner)
        if listen:
            httpd.server_activate()
        return httpd
    except OSError as exc:
        raise CuepointError(
            f"Cannot listen on {HOST}:{port}: {exc.strerror or exc}. "
            "Choose another --port, or 0 for a free one.") from None


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, owner: CatalogServer):
        self.owner = owner
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__((HOST, port), _Handler, bind_and_activate=False)
        try:
            self.server_bind()
        except BaseException:
            self.server_close()
            raise

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which stalls on machines with slow
        # DNS; the name is never used here.
        socketserver.TCPServer.server_bind(self)
        self.server_name = HOST
        self.server_port = int(self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End every open connection (keep-alive ones idle in their threads too)."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up mid-answer is routine under fault injection: no stderr traceback.
        log.debug("connection from %s failed", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every answer carries Content-Length
    # Headers and body leave in separate writes; with Nagle on, the client's delayed ACK
    # would hold every keep-alive answer back ~40 ms.
    disable_nagle_algorithm = True
    server_version = "CuepointCatalog/1.0"
    sys_version = ""

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _handle(self) -> None:
        owner: CatalogServer = self.server.owner  # type: ignore[attr-defined]
        request = self._read_request()
        if request is None:
            return
        outcome = owner.respond(request)
        try:
            if outcome.answer is None:
                self._reset()
            else:
                self._write(outcome.answer, outcome.truncate)
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        if outcome.then is not None:
            outcome.then()

    def _read_request(self) -> Request | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.send_error(411, "Length Required")
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.send_error(400, "Bad Content-Length")
            return None
        body = self.rfile.read(length) if length > 0 else b""
        return Request.parse(self.command, self.path, dict(self.headers.items()), body)

    def _write(self, answer: Answer, truncate: bool) -> None:
        self.log_request(answer.status)
        self.send_response_only(answer.status)
        if not any(name.lower() == "server" for name, _ in answer.headers):
            self.send_header("Server", self.version_string())
        self.send_header("Date", self.date_time_string())
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers:
            self.send_header(name, value)
        self.end_headers()
        if truncate:
            # Promise the whole body, send half, hang up: what a dropped upstream looks like.
            self.wfile.write(answer.body[: len(answer.body) // 2])
            self.close_connection = True
        else:
            self.wfile.write(answer.body)

    def _reset(self) -> None:
        # SO_LINGER 0 makes close() send a TCP RST: the client sees "connection reset".
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)
