"""What the DJ asked for from the tray, as plain data: menu entries carry them, the app acts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Action = Literal[
    "match",           # match the current playlist
    "choose_playlist",  # argument: the playlist's path, "Folder/Playlist"
    "resume_session",  # argument: the session id
    "pause",
    "resume",
    "cancel",
    "open_page",       # argument: a dashboard page, "live", "history", "session/12", ...
    "show_window",     # bring the window forward as it is (a second launch asks for this)
    "open_file",       # argument: a path, opened with the OS's default application
    "show_folder",     # argument: a path, its folder opened in the OS's file manager
    "quit",
]


@dataclass(frozen=True)
class Intent:
    action: Action
    argument: str | int | None = None
