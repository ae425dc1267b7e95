"""A circuit breaker per host: stop sending to a Beatport host that keeps failing.

After `failures_to_open` failed sends in a row (no answer, or a 5xx), the host's breaker opens
for a cool-down: sends fail at once with `NotAnsweringError`, and nothing reaches the network.
When the cool-down is over, one send goes through as a probe (half-open). An answer closes the
breaker; another failure opens it again for a cool-down twice as long (up to a maximum).

Failures are counted per send, retries included, rather than per call: when the host is gone,
the breaker opens within a few seconds instead of after several calls' whole retry schedules.
The threshold is high enough that passing faults do not trip it: with 20 % of answers failing,
eight failures in a row come about once in 400 000 sends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from cuepoint_tray.errors import NotAnsweringError
from cuepoint_tray.waits import Waits

FAILURES_TO_OPEN = 8


@dataclass
class _HostState:
    failures: int = 0  # failed sends in a row
    open_until: float | None = None  # monotonic time the cool-down ends; None while closed
    cool_down_s: float = Waits.cool_down_s
    probing: bool = False  # the one send let through after the cool-down is on its way


class CircuitBreaker:
    """One breaker per host; thread-safe. `admit` before each send, `record` its outcome."""

    def __init__(self, failures_to_open: int | None = None, cool_down_s: float | None = None,
                 max_cool_down_s: float | None = None,
                 clock: Callable[[], float] = time.monotonic):
        """Left out, each figure is the app's default (`Waits`)."""
        self.failures_to_open = max(1, failures_to_open or FAILURES_TO_OPEN)
        self.cool_down_s = Waits.cool_down_s if cool_down_s is None else cool_down_s
        self.max_cool_down_s = max(self.cool_down_s, max_cool_down_s or Waits.max_cool_down_s)
        self._clock = clock
        self._hosts: dict[str, _HostState] = {}
        self._lock = threading.Lock()

    def admit(self, host: str) -> bool:
        """May a send to `host` go now? True when it goes as the probe; raises
        NotAnsweringError (without touching the network) while the breaker is open."""
        with self._lock:
            state = self._state(host)
            if state.open_until is None:
                return False
            now = self._clock()
            if now >= state.open_until and not state.probing:
                state.probing = True
                return True
            raise self._refusal(state, now)

    def record(self, host: str, *, failed: bool, probe: bool) -> None:
        """The outcome of an admitted send: `failed` when no answer came, or a 5xx."""
        with self._lock:
            state = self._state(host)
            if probe:
                state.probing = False
            if not failed:
                self._close(state)
                return
            state.failures += 1
            if probe:
                state.cool_down_s = min(state.cool_down_s * 2, self.max_cool_down_s)
                state.open_until = self._clock() + state.cool_down_s
            elif state.open_until is None and state.failures >= self.failures_to_open:
                state.open_until = self._clock() + state.cool_down_s

    def is_open(self, host: str) -> bool:
        """Whether sends to `host` are being refused (a probe may be due)."""
        with self._lock:
            return self._state(host).open_until is not None

    def _state(self, host: str) -> _HostState:
        state = self._hosts.get(host)
        if state is None:
            state = self._hosts[host] = _HostState(cool_down_s=self.cool_down_s)
        return state

    def _close(self, state: _HostState) -> None:
        state.failures = 0
        state.open_until = None
        state.cool_down_s = self.cool_down_s

    @staticmethod
    def _refusal(state: _HostState, now: float) -> NotAnsweringError:
        assert state.open_until is not None
        # While the probe is out, the next try is a cool-down away unless the probe answers.
        wait_s = state.cool_down_s if state.probing else state.open_until - now
        return NotAnsweringError(state.failures, max(0.0, wait_s))

