"""The dashboard: an HTTP-free API over the history and the controller, and a local server."""

from cuepoint_tray.dashboard.api import DashboardAPI, Download
from cuepoint_tray.dashboard.server import DashboardServer

__all__ = ["DashboardAPI", "DashboardServer", "Download"]
