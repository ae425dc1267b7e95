"""Signing in and bearer tokens, as Beatport's API v4 does them for its interactive docs.

Accounts (given as NAME:PASSWORD) log in at `/v4/auth/login/` and get a session cookie; with it,
`/v4/auth/o/authorize/` hands out a one-use code for the docs page's public client id, and
`/v4/auth/o/token/` swaps the code for an access token and a refresh token. Refresh tokens
rotate: each refresh grant answers a new pair and the old refresh token stops working.

A token and refresh token given when the server starts (a pasted pair, for tests and
benchmarks) are kept as given: that refresh token stays valid and is answered back unchanged.
"""

from __future__ import annotations

import math
import re
import secrets
import string
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# Beatport's tokens live about ten minutes; that is what an answer says when no TTL is set.
_DEFAULT_EXPIRES_IN = 600
_CODE_TTL_S = 60.0
_TOKEN_ALPHABET = string.ascii_letters + string.digits
SCOPE = "app:locker user:dj"
# The public client id of the docs page: 40 letters and digits, like Beatport's.
CLIENT_ID = "CuePointLocalDocsClient0q8Zt4mW2xRkV7sNb"
SESSION_COOKIE = "sessionid"

# The sign-in flow's paths, all under the API's /v4.
DOCS = re.compile(r"/v4/docs/?")
DOCS_SCRIPT = re.compile(r"/v4/static/docs/([a-z\-]+\.js)")
DOCS_SCRIPTS = ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "docs-init.js")
LOGIN = re.compile(r"/v4/auth/login/?")
AUTHORIZE = re.compile(r"/v4/auth/o/authorize/?")
TOKEN = re.compile(r"/v4/auth/o/token/?")
POST_MESSAGE = re.compile(r"/v4/auth/o/post-message/?")
ACCOUNT = re.compile(r"/v4/my/account/?")


def is_sign_in(path: str) -> bool:
    """Whether a path belongs to the sign-in flow (counted as "auth" in /_stats)."""
    return any(pattern.fullmatch(path)
               for pattern in (DOCS, DOCS_SCRIPT, LOGIN, AUTHORIZE, TOKEN, POST_MESSAGE, ACCOUNT))


@dataclass(frozen=True, slots=True)
class Grant:
    """An access token's owner (None for the pasted token) and when it lapses (monotonic)."""

    username: str | None
    expires_at: float


class TokenBook:
    """The accounts, sessions, codes and tokens of one server. Thread-safe.

    With no token, no refresh token and no account, any bearer token passes (the header is
    still required, as on the real API): the demo and most tests need no sign-in.
    """

    def __init__(self, token: str | None, refresh_token: str | None, ttl_s: float | None,
                 clock: Callable[[], float] = time.monotonic, *,
                 accounts: Mapping[str, str] | None = None, client_id: str = CLIENT_ID):
        self.client_id = client_id
        self.ttl_s = ttl_s
        self._pasted_refresh = refresh_token
        self._accounts = dict(accounts or {})
        self._clock = clock
        self._open = token is None and refresh_token is None and not self._accounts
        self._lock = threading.Lock()
        self._access: dict[str, Grant] = {}
        self._refresh: dict[str, str] = {}  # refresh token → username
        self._sessions: dict[str, str] = {}  # session cookie → username
        self._codes: dict[str, tuple[str, str, float]] = {}  # code → (username, redirect, expiry)
        if token is not None:
            self._issue(token, None)

    # --- bearer tokens -----------------------------------------------------------------------

    def accepts(self, bearer: str | None) -> bool:
        """Whether a request with this bearer token (None: no Bearer header) may pass."""
        if bearer is None:
            return False
        return self._open or self.owner(bearer) is not None

    def owner(self, bearer: str | None) -> Grant | None:
        """The grant of a live access token, or None."""
        with self._lock:
            grant = self._access.get(bearer or "")
        return grant if grant is not None and self._clock() < grant.expires_at else None

    # --- logging in ----------------------------------------------------------------------------

    def log_in(self, username: object, password: object) -> str | None:
        """A new session cookie for the right name and password, else None."""
        if not isinstance(username, str) or not isinstance(password, str):
            return None
        known = self._accounts.get(username)
        if known is None or not secrets.compare_digest(known.encode(), password.encode()):
            return None
        session = secrets.token_hex(16)
        with self._lock:
            self._sessions[session] = username
        return session

    def session_user(self, session: str | None) -> str | None:
        with self._lock:
            return self._sessions.get(session or "")

    def authorization_code(self, username: str, redirect_uri: str) -> str:
        """A one-use code for `username`, good for a minute at `redirect_uri`."""
        code = _random(30)
        with self._lock:
            self._codes[code] = (username, redirect_uri, self._clock() + _CODE_TTL_S)
        return code

    # --- the token endpoint --------------------------------------------------------------------

    def grant(self, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        """Answer `POST /v4/auth/o/token/`: status and JSON body, as django-oauth-toolkit."""
        kind = form.get("grant_type")
        if kind == "authorization_code":
            return self._code_grant(form)
        if kind == "refresh_token":
            return self._refresh_grant(form)
        return 400, {"error": "unsupported_grant_type"}

    def _code_grant(self, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        if form.get("client_id") != self.client_id:
            return 401, {"error": "invalid_client"}
        with self._lock:
            username, redirect_uri, expiry = self._codes.pop(form.get("code", ""),
                                                             ("", "", 0.0))
        if not username or self._clock() >= expiry or form.get("redirect_uri") != redirect_uri:
            return 400, {"error": "invalid_grant"}
        return 200, self._pair(username)

    def _refresh_grant(self, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        given = form.get("refresh_token", "")
        if self._pasted_refresh is not None and secrets.compare_digest(
                given.encode(), self._pasted_refresh.encode()):
            return 200, self._answer(self._issue(_random(30), None), self._pasted_refresh)
        with self._lock:
            username = self._refresh.get(given)
        if username is None:
            return 400, {"error": "invalid_grant"}
        if form.get("client_id") != self.client_id:
            return 401, {"error": "invalid_client"}
        with self._lock:
            if self._refresh.pop(given, None) is None:  # another request spent it meanwhile
                return 400, {"error": "invalid_grant"}
        return 200, self._pair(username)

    def _pair(self, username: str) -> dict[str, Any]:
        refresh = _random(30)
        with self._lock:
            self._refresh[refresh] = username
        return self._answer(self._issue(_random(30), username), refresh)

    def _answer(self, access: str, refresh: str) -> dict[str, Any]:
        expires_in = math.ceil(self.ttl_s) if self.ttl_s is not None else _DEFAULT_EXPIRES_IN
        return {"access_token": access, "expires_in": expires_in, "token_type": "Bearer",
                "scope": SCOPE, "refresh_token": refresh}

    def _issue(self, token: str, username: str | None) -> str:
        lifetime = self.ttl_s if self.ttl_s is not None else math.inf
        with self._lock:
            self._access[token] = Grant(username, self._clock() + lifetime)
        return token


def _random(length: int) -> str:
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(length))


def bearer_of(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header, or None."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
