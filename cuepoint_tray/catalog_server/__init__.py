"""A local Beatport-compatible server: API v4 and website pages over a catalog file.

Tests, benchmarks and the demo run against it instead of beatport.com. It serves Beatport's
shapes, searches with SQLite FTS5, and misbehaves on demand through `Faults`.

Why it lives in the product package, not under tests/: `cuepoint demo` and
`cuepoint catalog-server` are commands a DJ runs (the demo needs no network and no Beatport
account because of it), and the wheel and the frozen app must carry it. Its fault switches
(`PUT /_faults`) and sign-in accounts exist for the tests and benchmarks that drive the real
client against it; it listens on 127.0.0.1 only and is never started by the tray app.
"""

from cuepoint_tray.catalog_server.catalog import Catalog
from cuepoint_tray.catalog_server.faults import Faults
from cuepoint_tray.catalog_server.server import CatalogServer

__all__ = ["Catalog", "CatalogServer", "Faults"]
