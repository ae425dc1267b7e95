"""Fault switches: the ways a real store misbehaves, drawn per request, seeded on demand."""

from __future__ import annotations

import math
import random
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
    truncate_rate: float = 0.0       # share of answers cut mid-body
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("error_rate", "timeout_rate", "reset_rate", "truncate_rate"):
            if not 0.0 <= float(getattr(self, name)) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.latency_ms < 0 or self.hang_s < 0:
            raise ValueError("latency_ms and hang_s cannot be negative")
        if self.rate_limit is not None and self.rate_limit <= 0:
            raise ValueError("rate_limit must be above 0 (or null for no limit)")

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
        self._random = random.Random()
        self._bucket: TokenBucket | None = None

    def decide(self, faults: Faults, now: float) -> Fate:
        """The fate of one request arriving at `now` (a monotonic time)."""
        with self._lock:
            self._rearm_if_changed(faults, now)
            # Always draw the same number of values, so a seed gives the same sequence
            # whichever switches are on.
            reset, hang, error, pick, truncate, jitter = (self._random.random() for _ in range(6))
            retry_after = self._bucket.take(now) if self._bucket else None
        return Fate(
            reset=reset < faults.reset_rate,
            delay_s=(faults.hang_s if hang < faults.timeout_rate else 0.0)
            + faults.latency_ms / 1000 * (0.8 + 0.4 * jitter),
            retry_after_s=retry_after,
            error_status=ERROR_STATUSES[int(pick * len(ERROR_STATUSES))]
            if error < faults.error_rate else None,
            cloudflare=faults.cloudflare,
            truncate=truncate < faults.truncate_rate,
        )

    def _rearm_if_changed(self, faults: Faults, now: float) -> None:
        if faults is not self._armed_for:
            self._armed_for = faults
            self._random = random.Random(faults.seed)
            self._bucket = None
        rate = faults.rate_limit
        if rate is None:
            self._bucket = None
        elif self._bucket is None or self._bucket.rate != rate:
            self._bucket = TokenBucket(rate, now)
