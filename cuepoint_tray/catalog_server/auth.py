"""API v4 bearer tokens: which are accepted, when they expire, and refreshing them."""

from __future__ import annotations

import math
import secrets
import string
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

# Beatport's tokens live about ten minutes; that is what an answer says when no TTL is set.
_DEFAULT_EXPIRES_IN = 600
_TOKEN_ALPHABET = string.ascii_letters + string.digits
SCOPE = "app:locker user:dj"


class TokenBook:
    """The bearer tokens the API accepts.

    With neither a token nor a refresh token, any bearer token passes (the header is still
    required, as on the real API). Otherwise only the initial token and tokens issued by a
    refresh pass, each until `ttl_s` after it was issued when a TTL is set.
    """

    def __init__(self, token: str | None, refresh_token: str | None, ttl_s: float | None,
                 clock: Callable[[], float] = time.monotonic):
        self._refresh_token = refresh_token
        self._ttl_s = ttl_s
        self._clock = clock
        self._open = token is None and refresh_token is None
        self._lock = threading.Lock()
        self._expiry: dict[str, float] = {}
        if token is not None:
            self._issue(token)

    def accepts(self, bearer: str | None) -> bool:
        """Whether a request with this bearer token (None: no Bearer header) may pass."""
        if bearer is None:
            return False
        if self._open:
            return True
        with self._lock:
            expiry = self._expiry.get(bearer)
        return expiry is not None and self._clock() < expiry

    def grant(self, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        """Answer `POST /v4/auth/o/token/` (an OAuth2 refresh grant): status and JSON body."""
        if form.get("grant_type") != "refresh_token":
            return 400, {"error": "unsupported_grant_type"}
        given = form.get("refresh_token", "")
        if self._refresh_token is None or not secrets.compare_digest(
                given.encode(), self._refresh_token.encode()):
            return 400, {"error": "invalid_grant"}
        token = "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(30))
        self._issue(token)
        expires_in = math.ceil(self._ttl_s) if self._ttl_s is not None else _DEFAULT_EXPIRES_IN
        return 200, {"access_token": token, "expires_in": expires_in, "token_type": "Bearer",
                     "scope": SCOPE, "refresh_token": self._refresh_token}

    def _issue(self, token: str) -> None:
        with self._lock:
            self._expiry[token] = self._clock() + self._ttl_s if self._ttl_s is not None \
                else math.inf


def bearer_of(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header, or None."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
