"""The tray's state: one frozen value the menu, the icon and the tooltip are computed from.

`TrayState` joins what the controller says now (`ControllerState`), what the Rekordbox XML
holds (`LibraryView`) and the latest sessions of the history (`RecentSession`). The two
`*_now` functions read the disk to build the last two; everything else here is pure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cuepoint_tray.controller import QUIT_REASON, ControllerState, LastSession
from cuepoint_tray.domain import Playlist, PlaylistFolder
from cuepoint_tray.errors import CuepointError
from cuepoint_tray.paths import AppPaths
from cuepoint_tray.rekordbox.current import CurrentLibrary
from cuepoint_tray.settings import Settings

if TYPE_CHECKING:
    from peewee import SqliteDatabase

RECENT_LIMIT = 8
RESUMABLE = ("paused", "interrupted")


@dataclass(frozen=True)
class LibraryView:
    """The Rekordbox library (an XML export or Rekordbox's master.db) as the tray needs it."""

    xml_set: bool = False  # a library is set, or Rekordbox's own was found
    settings_error: str = ""  # why the settings file cannot be read ("" when it can)
    xml_error: str = ""  # why the library cannot be used, in the DJ's words ("" when it can)
    tree: PlaylistFolder | None = None
    current_playlist: str = ""  # as remembered: the settings' default_playlist
    current_path: tuple[str, ...] | None = None  # where it is in the tree; None: not found
    playlist_error: str = ""  # why the current playlist cannot be matched
    kind: str = "xml"  # "xml" or "master.db"
    found_at: str = ""  # Rekordbox's master.db, when CuePoint found it itself
    # When no playlist was chosen: the current one is the playlist changed last in Rekordbox,
    # at this time (seconds since 1970).
    changed_at: float | None = None

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
    beatport_signed_out: bool = False  # no Beatport account (nor a pasted token) is set

    @property
    def busy(self) -> bool:
        return self.session.busy

    @property
    def last(self) -> LastSession | None:
        """How the last session ended, with what is left to review as the history says now:
        a decision taken since clears the badge and the status line at once."""
        last = self.session.last
        if last is None:
            return None
        now = next((s for s in self.recent if s.id == last.session_id), None)
        return replace(last, review=now.review) if now is not None else last

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


def library_now(settings: Settings, current: CurrentLibrary, *,
                whole_read: bool = True) -> LibraryView:
    """Read (or reuse) the library and find the current playlist in it: the one chosen last,
    else (master.db) the one the DJ changed last in Rekordbox. `whole_read` as in
    open_playlists."""
    remembered = settings.default_playlist
    try:
        choice = current.choose(settings.rekordbox_library)
    except CuepointError:
        return LibraryView(current_playlist=remembered)
    found_at = str(choice.path) if choice.how == "found" else ""
    try:
        library = current.get(str(choice.path), whole_read=whole_read)
    except CuepointError as exc:
        return LibraryView(xml_set=True, xml_error=str(exc), current_playlist=remembered,
                           found_at=found_at)
    view = LibraryView(xml_set=True, tree=library.root, current_playlist=remembered,
                       kind=library.kind, found_at=found_at)
    if not remembered:
        recent = library.recently_changed()
        if recent is None:
            return view
        return replace(view, current_path=recent.path, changed_at=recent.changed_at)
    try:
        found = library.find_playlist(remembered)
    except CuepointError as exc:
        return replace(view, playlist_error=str(exc))
    try:
        library.check_matchable(found)  # an empty or broken playlist says so before a match
    except CuepointError as exc:
        return replace(view, current_path=found.path, playlist_error=str(exc))
    return replace(view, current_path=found.path)


def signed_out_now(settings: Settings) -> bool:
    """Whether the DJ has neither signed in to Beatport nor pasted a token, as far as the
    settings file tells (read without the keyring: the account's name is a plain setting)."""
    return not (settings.beatport_account or settings.beatport_token
                or settings.beatport_refresh_token)


def recent_sessions_now(paths: AppPaths, history: Callable[[], SqliteDatabase],
                        limit: int = RECENT_LIMIT) -> tuple[RecentSession, ...]:
    """The newest sessions of the history (none when there is no history yet), read through
    the app's handle (`history()` opens it, migrated, the first time)."""
    from cuepoint_tray.store.queries import list_sessions

    if not paths.database.exists():
        return ()
    rows = list_sessions(history(), limit=limit)["sessions"]
    return tuple(_recent(row) for row in rows)


def _recent(row: dict[str, Any]) -> RecentSession:
    report = str(row.get("report_path") or "")
    return RecentSession(
        id=row["id"], playlists=tuple(row["playlists"]), status=row["status"],
        started_at=row["started_at"], done=row["done"], tracks=row["tracks"],
        matched=row["matched"], review=row["to_review"], unmatched=row["unmatched"],
        reason=row.get("reason") or "",
        report_path=report if report and Path(report).exists() else "")


def playlist_count(folder: PlaylistFolder) -> int:
    """How many playlists the tree holds (for the status line)."""
    return sum(1 if isinstance(child, Playlist) else playlist_count(child)
               for child in folder.children)
