"""Saving the dashboard's files from the tray's window: where the DJ says, never silently.

A browser asks where to save a download (or says where it went); the tray's window is a bare
WebKit view that would put it in a folder of its own choosing without a word. So the page,
when it runs in the window, asks the window (pywebview's `js_api`) to save the file instead:
a Save dialog opens with the server's file name, the file comes from the dashboard server
with the page's token, is written whole where the DJ chose, and the page is told that path
(or that the DJ cancelled) so it can say where the file is.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cuepoint_tray.file_writing import write_whole

log = logging.getLogger(__name__)

TIMEOUT_S = 300.0  # an enriched XML of a big collection takes a while to build
SAVED_FROM = "/api/sessions/"  # the only files the window saves: a session's exports


class WindowFiles:
    """The window's `js_api`: the page calls `window.pywebview.api.save_download(...)`.
    Only public methods are the page's to call; `attach` gives it its window."""

    def __init__(self, dashboard_url: str) -> None:
        """`dashboard_url`: the page the window opens (its origin is the dashboard server)."""
        parts = urlsplit(dashboard_url)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._window: Any = None

    def save_download(self, path: str, token: str) -> dict[str, str]:
        """Fetch `path` from the dashboard, ask where to save it (the Save dialog, with the
        server's file name), and write it there. Returns {"saved": full path}, {"saved": ""}
        when the DJ cancelled, or {"error": one sentence}."""
        if not isinstance(path, str) or not path.startswith(SAVED_FROM) or "//" in path:
            return {"error": "CuePoint's window only saves a session's exports."}
        if self._window is None:
            return {"error": "The window is not ready to save files yet: try again."}
        try:
            content, filename = self._fetch(path, str(token))
        except urllib.error.HTTPError as exc:
            return {"error": _refusal(exc)}
        except (OSError, urllib.error.URLError) as exc:
            return {"error": f"CuePoint is not answering ({exc}): is the app still running?"}
        chosen = _ask_where(self._window, filename)
        if not chosen:
            return {"saved": ""}
        target = Path(chosen)
        try:
            write_whole(target, content)
        except OSError as exc:
            log.warning("saving %s to %s failed: %s", path, target, exc)
            return {"error": f"Could not save {target}: {exc.strerror or exc}. "
                             "Choose another folder."}
        return {"saved": str(target)}

    def _fetch(self, path: str, token: str) -> tuple[bytes, str]:
        request = urllib.request.Request(self._origin + path,
                                         headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310
            content = bytes(response.read())
            message = EmailMessage()
            message["Content-Disposition"] = response.headers.get("Content-Disposition", "")
            name = message.get_filename() or path.split("?", 1)[0].rsplit("/", 1)[-1]
        return content, Path(name).name or "cuepoint-export"


def _refusal(error: urllib.error.HTTPError) -> str:
    """The dashboard's own sentence for a refused file, else its status."""
    try:
        sentence = json.loads(error.read().decode("utf-8")).get("error")
    except (ValueError, OSError, AttributeError):
        sentence = None
    return str(sentence) if sentence else f"The dashboard answered {error.code}: try again."


def attach(files: WindowFiles, window: Any) -> None:
    """Give `files` the pywebview window whose Save dialog it opens."""
    files._window = window


def _ask_where(window: Any, filename: str) -> str | None:
    """The window's native Save dialog, opened in the Downloads folder (else the home
    folder) with `filename`; the path chosen, or None when the DJ cancelled."""
    import webview

    downloads = Path.home() / "Downloads"
    chosen = window.create_file_dialog(webview.FileDialog.SAVE,
                                       directory=str(downloads if downloads.is_dir()
                                                     else Path.home()),
                                       save_filename=filename)
    if not chosen:
        return None
    return str(chosen if isinstance(chosen, str) else chosen[0])
