"""A hostile Beatport on 127.0.0.1: a proxy in front of the local catalog server that answers
chosen requests the way a broken or malicious server would.

`HostileServer(upstream).start()`; `server.choose = lambda number, path, query: "nested"`
picks, for each request (numbered from 1), one of ANSWERS or None (relay the catalog
server's own answer). `server.rewrite` may change relayed bodies (hostile numbers in
otherwise real answers). Kept in tests/ so the catalog server, which others edit, stays as
it is; it is the fault switches' kin for answers no switch makes.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

Chooser = Callable[[int, str, dict[str, list[str]]], str | None]


class HostileServer:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.choose: Chooser = lambda number, path, query: None
        self.rewrite: Callable[[bytes], bytes] = lambda body: body
        self.payload: Any = None  # what the "json" answer sends (bytes as they are)
        self.served: dict[str, int] = {}
        self._count = 0
        self._lock = threading.Lock()
        owner = self

        class Handler(_Handler):
            server_owner = owner

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> HostileServer:
        threading.Thread(target=self._httpd.serve_forever, args=(0.1,), daemon=True).start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def next_number(self) -> int:
        with self._lock:
            self._count += 1
            return self._count

    def note(self, name: str) -> None:
        with self._lock:
            self.served[name] = self.served.get(name, 0) + 1


class _Handler(BaseHTTPRequestHandler):
    server_owner: HostileServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        owner = self.server_owner
        parts = urlsplit(self.path)
        choice = owner.choose(owner.next_number(), parts.path, parse_qs(parts.query))
        owner.note(choice or "relayed")
        # the client may give up half-way: what a bounded client does
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            ANSWERS.get(choice or "", _relay)(self)

    def send_body(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _relay(handler: _Handler) -> None:
    owner = handler.server_owner
    answer = requests.get(owner.upstream + handler.path, timeout=30,
                          headers={k: v for k, v in handler.headers.items()
                                   if k.lower() in ("authorization", "accept")})
    handler.send_body(answer.status_code, owner.rewrite(answer.content),
                      answer.headers.get("Content-Type", "application/octet-stream"))


def _nested(handler: _Handler) -> None:
    """200,000 nested JSON arrays in an object: json.loads runs out of stack (RecursionError)."""
    handler.send_body(200, b'{"props": ' + b"[" * 200_000 + b"]" * 200_000 + b"}",
                      "application/json")


def _redirect_to_itself(handler: _Handler) -> None:
    handler.send_response(302)
    handler.send_header("Location", handler.path)
    handler.send_header("Content-Length", "0")
    handler.end_headers()


def _huge(handler: _Handler) -> None:
    """200 MB of JSON-ish bytes with no Content-Length (sent until the client hangs up)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Connection", "close")
    handler.end_headers()
    chunk = b" " * (1 << 20)
    handler.wfile.write(b'{"tracks": [')
    for _ in range(200):
        handler.wfile.write(chunk)
    handler.wfile.write(b"]}")
    handler.close_connection = True


def _drip(handler: _Handler) -> None:
    """A valid answer sent one byte a second."""
    body = json.dumps({"tracks": []}).encode() + b" " * 120
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    for byte in body:
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()
        time.sleep(1.0)


def _json(handler: _Handler) -> None:
    payload = handler.server_owner.payload
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    handler.send_body(200, body, "application/json")


ANSWERS: dict[str, Callable[[_Handler], None]] = {
    "nested": _nested, "redirect": _redirect_to_itself, "huge": _huge, "drip": _drip,
    "json": _json,
}
