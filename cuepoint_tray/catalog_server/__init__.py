"""A local Beatport-compatible server: API v4 and website pages over a catalog file.

Tests, benchmarks and the demo run against it instead of beatport.com. It serves Beatport's
shapes, searches with SQLite FTS5, and misbehaves on demand through `Faults`.
"""

from cuepoint_tray.catalog_server.catalog import Catalog
from cuepoint_tray.catalog_server.faults import Faults
from cuepoint_tray.catalog_server.server import CatalogServer

__all__ = ["Catalog", "CatalogServer", "Faults"]
