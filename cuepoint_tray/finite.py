"""Numbers that JSON and XML can carry: infinities and NaN become nothing (None).

The parser already refuses them from Beatport; this is the last guard at every place a
number leaves the app (dashboard answers, report.json, --json-out), for rows an older
CuePoint stored, so one such value cannot break a page for good."""

from __future__ import annotations

import math
from typing import Any


def finite(value: Any) -> Any:
    """`value` with every non-finite float in it (through dicts, lists, tuples) as None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    return value
