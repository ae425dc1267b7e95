"""The tray's state: one frozen value the menu, the icon and the tooltip are computed from.

`TrayState` joins what the controller says now (`ControllerState`), what the Rekordbox XML
holds (`LibraryView`) and the latest sessions of the history (`RecentSession`). The two
`*_now` functions read the disk to build the last two; everything else here is pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cuepoint_tray.controller import QUIT_REASON, ControllerState, LastSession
from cuepoint_tray.domain import Playlist, PlaylistFolder
from cuepoint_tray.errors import CuepointError
from cuepoint_tray.paths import AppPaths
from cuepoint_tray.rekordbox.current import CurrentLibrary
from cuepoint_tray.settings import Settings

RECENT_LIMIT = 8
RESUMABLE = ("paused", "interrupted")


@dataclass(frozen=True)
class LibraryView:
    """The configured Rekordbox XML as the tray needs it."""

    xml_set: bool = False
    settings_error: str = ""  # why the settings file cannot be read ("" when it can)
    xml_error: str = ""  # why the XML cannot be used, in the DJ's words ("" when it can)
    tree: PlaylistFolder | None = None
    current_playlist: str = ""  # as remembered: the settings' default_playlist
    current_path: tuple[str, ...] | None = None  # where it is in the tree; None: not found
    playlist_error: str = ""  # why the current playlist cannot be matched

    @property
    def current_name(self) -> str:
        if self.current_path:
            return self.current_path[-1]
        return self.current_playlist.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class RecentSession:
    """A session of the history, as the Recent sessions submenu shows it."""

    id: int
    playlists: tuple[str, ...]
    status: str
    started_at: float
    done: int = 0
    tracks: int = 0
    matched: int = 0
    review: int = 0
    unmatched: int = 0
    reason: str = ""
    report_path: str = ""  # "" when no report was written, or it is gone from the disk

    @property
    def title(self) -> str:
        names = [path.rsplit("/", 1)[-1] for path in self.playlists]
        return " + ".join(names) or f"session {self.id}"


@dataclass(frozen=True)
class TrayState:
    session: ControllerState = field(default_factory=ControllerState)
    library: LibraryView = field(default_factory=LibraryView)
    recent: tuple[RecentSession, ...] = ()
    seen_last: bool = True  # the DJ has opened the dashboard since the last session ended
    quitting: bool = False

    @property
    def busy(self) -> bool:
        return self.session.busy

    @property
    def last(self) -> LastSession | None:
        return self.session.last

    @property
    def last_report(self) -> RecentSession | None:
        """The newest session whose report file is on disk."""
        return next((s for s in self.recent if s.report_path), None)

    @property
    def resumable(self) -> RecentSession | None:
        """The newest session, when it stopped half-way and nothing runs now."""
        if self.busy or not self.recent or self.recent[0].status not in RESUMABLE:
            return None
        return self.recent[0]

    @property
    def needs_setup(self) -> bool:
        library = self.library
        return not library.xml_set or bool(library.xml_error or library.settings_error)

    @property
    def last_went_wrong(self) -> bool:
        """The last session failed, or stopped for a reason other than the DJ quitting."""
        last = self.last
        if last is None:
            return False
        return last.status == "failed" or (last.status == "paused" and last.reason != QUIT_REASON)


def library_now(settings: Settings, current: CurrentLibrary) -> LibraryView:
    """Read (or reuse) the configured XML and find the current playlist in it."""
    remembered = settings.default_playlist
    if not settings.rekordbox_xml.strip():
        return LibraryView(current_playlist=remembered)
    try:
        library = current.get(settings.rekordbox_xml)
    except CuepointError as exc:
        return LibraryView(xml_set=True, xml_error=str(exc), current_playlist=remembered)
    view = LibraryView(xml_set=True, tree=library.root, current_playlist=remembered)
    if not remembered:
        return view
    try:
        found = library.find_playlist(remembered)
    except CuepointError as exc:
        return replace(view, playlist_error=str(exc))
    try:
        library.tracks_of(found)  # an empty or broken playlist says so before a match is tried
    except CuepointError as exc:
        return replace(view, current_path=found.path, playlist_error=str(exc))
    return replace(view, current_path=found.path)


def recent_sessions_now(paths: AppPaths, limit: int = RECENT_LIMIT) -> tuple[RecentSession, ...]:
    """The newest sessions of the history (none when there is no history yet)."""
    from cuepoint_tray.store.queries import list_sessions

    if not paths.database.exists():
        return ()
    rows = list_sessions(paths.database, limit=limit)["sessions"]
    return tuple(_recent(row) for row in rows)


def _recent(row: dict[str, Any]) -> RecentSession:
    report = str(row.get("report_path") or "")
    return RecentSession(
        id=row["id"], playlists=tuple(row["playlists"]), status=row["status"],
        started_at=row["started_at"], done=row["done"], tracks=row["tracks"],
        matched=row["matched"], review=row["review"], unmatched=row["unmatched"],
        reason=row.get("reason") or "",
        report_path=report if report and Path(report).exists() else "")


def playlist_count(folder: PlaylistFolder) -> int:
    """How many playlists the tree holds (for the status line)."""
    return sum(1 if isinstance(child, Playlist) else playlist_count(child)
               for child in folder.children)
