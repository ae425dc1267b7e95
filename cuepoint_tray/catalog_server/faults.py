"""Fault switches: the ways a real store misbehaves, drawn per request, seeded on demand.

Edge faults (a reset, a hang, a 429, the Cloudflare page, a 5xx) replace the store's answer;
garbling faults (a page without its `__NEXT_DATA__`, a renamed field, JSON cut short) spoil a
good answer the way a broken deploy or proxy would; `down_s` takes the whole server away.
"""

from __future__ import annotations

import math
import random
import re
import threading
from dataclasses import dataclass, fields
from typing import Any

ERROR_STATUSES = (500, 502, 503)
# A client pacing itself at exactly R requests/s still sees its requests arrive a little early
# or late (thread scheduling, the network stack): tolerate that much arrival jitter.
_ARRIVAL_JITTER_S = 0.02


@dataclass
class Faults:
    """The fault switches of a catalog server; a server reads them afresh for every request."""

    latency_ms: float = 0.0          # each answer delayed by this, with ±20 % jitter
    rate_limit: float | None = None  # beyond R requests/s answer 429 with Retry-After
    error_rate: float = 0.0          # share of requests answered 500/502/503
    timeout_rate: float = 0.0        # share of requests that hang hang_s seconds first
    hang_s: float = 30.0
    cloudflare: bool = False         # website paths answer Cloudflare's challenge page
    reset_rate: float = 0.0          # share of connections closed with no answer
    truncate_rate: float = 0.0       # share of answers cut mid-body (the connection drops)
    seed: int | None = None
    # Every burst_429_every_s seconds from when the switches are set, answer everything 429
    # for burst_429_s seconds, with a Retry-After that ends with the burst.
    burst_429_every_s: float | None = None
    burst_429_s: float = 0.0
    no_next_data_rate: float = 0.0   # share of website pages without their __NEXT_DATA__
    renamed_field_rate: float = 0.0  # share of answers whose tracks' name field is renamed
    cut_json_rate: float = 0.0       # share of answers cut in half yet sent as whole
    down_s: float = 0.0              # refuse connections this long from when set, then return
    # Website search pages as beatport.com serves them since May 2026: HTML with no
    # __NEXT_DATA__ and no data a program can read (track pages are left as they are).
    today_search_pages: bool = False

    def __post_init__(self) -> None:
        for name in ("error_rate", "timeout_rate", "reset_rate", "truncate_rate",
                     "no_next_data_rate", "renamed_field_rate", "cut_json_rate"):
            if not 0.0 <= float(getattr(self, name)) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if min(self.latency_ms, self.hang_s, self.burst_429_s, self.down_s) < 0:
            raise ValueError("latency_ms, hang_s, burst_429_s and down_s cannot be negative")
        if self.rate_limit is not None and self.rate_limit <= 0:
            raise ValueError("rate_limit must be above 0 (or null for no limit)")
        if self.burst_429_every_s is not None and self.burst_429_every_s <= 0:
            raise ValueError("burst_429_every_s must be above 0 (or null for no bursts)")

    @classmethod
    def from_json(cls, value: object) -> Faults:
        """Faults from a JSON object; ValueError names unknown or ill-typed switches."""
        if not isinstance(value, dict):
            raise ValueError("the fault switches must be a JSON object")
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"unknown fault switches: {', '.join(unknown)}")
        try:
            return cls(**value)
        except TypeError as exc:
            raise ValueError(str(exc)) from None

    def to_json(self) -> dict[str, Any]:
        """The switches as a JSON object (what GET and PUT /_faults answer)."""
        return {field.name: getattr(self, field.name) for field in fields(self)}


@dataclass(frozen=True, slots=True)
class Fate:
    """What the fault switches decided for one request."""

    reset: bool = False
    delay_s: float = 0.0               # hang and latency together
    retry_after_s: int | None = None   # set when the rate limit refuses the request
    error_status: int | None = None
    cloudflare: bool = False
    truncate: bool = False
    no_next_data: bool = False
    rename_field: bool = False
    cut_json: bool = False
    today_search_pages: bool = False


class TokenBucket:
    """Capacity max(1, R), refilled at R per second; one token a request."""

    def __init__(self, rate: float, now: float):
        self.rate = rate
        self._capacity = max(1.0, rate)
        self._tokens = self._capacity
        self._updated = now

    def take(self, now: float) -> int | None:
        """None when the request may pass, else the whole seconds until one may (Retry-After)."""
        self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self._tokens >= 1.0 - _ARRIVAL_JITTER_S * self.rate:
            self._tokens -= 1.0
            return None
        return max(1, math.ceil((1.0 - self._tokens) / self.rate))


class FaultSwitchboard:
    """Draws each request's fate from the switches in force. Thread-safe.

    Replacing the server's Faults object restarts the random sequence from its seed and
    refills the rate-limit bucket, so a test that sets a seed sees a repeatable sequence.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed_for: Faults | None = None
        self._armed_at = 0.0
        self._random = random.Random()
        # The garbling faults draw from their own sequence, so that adding them left the
        # sequence of the older switches, for a given seed, as it was.
        self._garbling = random.Random()
        self._bucket: TokenBucket | None = None

    def decide(self, faults: Faults, now: float) -> Fate:
        """The fate of one request arriving at `now` (a monotonic time)."""
        with self._lock:
            self._rearm_if_changed(faults, now)
            # Always draw the same number of values, so a seed gives the same sequence
            # whichever switches are on.
            reset, hang, error, pick, truncate, jitter = (self._random.random() for _ in range(6))
            no_data, rename, cut = (self._garbling.random() for _ in range(3))
            retry_after = _later(self._bucket.take(now) if self._bucket else None,
                                 _burst_left(faults, now - self._armed_at))
        return Fate(
            reset=reset < faults.reset_rate,
            delay_s=(faults.hang_s if hang < faults.timeout_rate else 0.0)
            + faults.latency_ms / 1000 * (0.8 + 0.4 * jitter),
            retry_after_s=retry_after,
            error_status=ERROR_STATUSES[int(pick * len(ERROR_STATUSES))]
            if error < faults.error_rate else None,
            cloudflare=faults.cloudflare,
            truncate=truncate < faults.truncate_rate,
            no_next_data=no_data < faults.no_next_data_rate,
            rename_field=rename < faults.renamed_field_rate,
            cut_json=cut < faults.cut_json_rate,
            today_search_pages=faults.today_search_pages,
        )

    def _rearm_if_changed(self, faults: Faults, now: float) -> None:
        if faults is not self._armed_for:
            self._armed_for = faults
            self._armed_at = now
            self._random = random.Random(faults.seed)
            self._garbling = random.Random(None if faults.seed is None else f"garble{faults.seed}")
            self._bucket = None
        rate = faults.rate_limit
        if rate is None:
            self._bucket = None
        elif self._bucket is None or self._bucket.rate != rate:
            self._bucket = TokenBucket(rate, now)


def _burst_left(faults: Faults, since_armed_s: float) -> int | None:
    """Whole seconds until the 429 burst in progress ends (its Retry-After); None between."""
    every = faults.burst_429_every_s
    if every is None or faults.burst_429_s <= 0:
        return None
    into_burst = since_armed_s % every
    if into_burst >= faults.burst_429_s:
        return None
    return max(1, math.ceil(faults.burst_429_s - into_burst))


def _later(first: int | None, second: int | None) -> int | None:
    """The longer of two Retry-After values, either of which may be absent."""
    if first is None or second is None:
        return second if first is None else first
    return max(first, second)


# --- what the garbling faults do to a good answer's body -----------------------------------------

_NEXT_DATA_SCRIPT = re.compile(rb'<script[^>]*\bid="__NEXT_DATA__"[^>]*>.*?</script>', re.DOTALL)
# The field every track object must have, as the API (name) and the search service
# (track_name) spell it. In JSON text a quote inside a string is escaped, so these byte
# strings only ever match keys.
_NAME_KEYS = (b'"track_name":', b'"name":')
RENAMED_NAME_KEY = b'"title_name":'


def without_next_data(body: bytes) -> bytes:
    """A website page without its `<script id="__NEXT_DATA__">`: a page of a broken deploy."""
    return _NEXT_DATA_SCRIPT.sub(b"", body)


def with_renamed_field(body: bytes) -> bytes:
    """The answer with its tracks' name field renamed `title_name`: a silent format change."""
    for key in _NAME_KEYS:
        body = body.replace(key, RENAMED_NAME_KEY)
    return body


def cut_in_half(body: bytes) -> bytes:
    """The first half of the body, to be sent as if it were all of it."""
    return body[: len(body) // 2]
