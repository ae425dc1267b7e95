"""Counts of the requests a catalog server answered, for tests and benchmarks to read."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from cuepoint_tray.catalog_server.site import KINDS

RESET = "reset"  # the by_status entry for connections closed with no answer


class RequestStats:
    """Requests answered, by kind and by status. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kinds: Counter[str] = Counter()
        self._statuses: Counter[str] = Counter()

    def count(self, kind: str, status: int | str) -> None:
        """Count one request of this kind answered with this status (or RESET)."""
        with self._lock:
            self._kinds[kind] += 1
            self._statuses[str(status)] += 1

    def snapshot(self) -> dict[str, Any]:
        """Every kind (zeros too), "by_status" and "total": what GET /_stats answers."""
        with self._lock:
            counts: dict[str, Any] = {kind: self._kinds[kind] for kind in KINDS}
            counts["by_status"] = dict(sorted(self._statuses.items()))
            counts["total"] = sum(self._kinds.values())
        return counts

    def reset(self) -> None:
        """Start counting afresh (DELETE /_stats)."""
        with self._lock:
            self._kinds.clear()
            self._statuses.clear()
