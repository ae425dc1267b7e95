"""How long a session waits when Beatport is slow or gone, passed down as one value.

The app uses the defaults; tests and `scripts/fault_session.py` pass shorter ones to
`run_match` / `resume_match` instead of rewriting module constants.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Waits:
    """`backoff_s`: the first wait before a retry (it doubles, plus jitter, up to
    `backoff_max_s`); `cool_down_s`: how long a host's circuit breaker stays open at first
    (it doubles up to `max_cool_down_s`); `wait_for_beatport_s`: how long a session waits
    for Beatport to answer again before it stops as paused."""

    backoff_s: float = 1.0
    backoff_max_s: float = 30.0
    cool_down_s: float = 10.0
    max_cool_down_s: float = 60.0
    wait_for_beatport_s: float = 300.0


APP_WAITS = Waits()  # what the app waits; the default wherever waits are taken
