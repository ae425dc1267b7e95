"""The tray menu, built by a pure function of `TrayState` into plain data.

`build_menu(state)` returns `MenuEntry` values: text, the `Intent` the entry posts, whether
it is enabled, checked (radio) or the default (what a left click on the icon does), and a
submenu. `pystray_menu.py` turns them into a pystray.Menu; tests read them directly.

Exactly one entry is the default, and it is always enabled:
- the XML is not set or cannot be read → Settings…
- a session runs → Open dashboard (the live page)
- the current playlist can be matched → Match "<playlist>"
- otherwise → Open dashboard
"""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass, replace

from cuepoint_tray.domain import Playlist, PlaylistFolder
from cuepoint_tray.tray.intents import Intent
from cuepoint_tray.tray.state import RecentSession, TrayState, playlist_count

STATUS_WIDTH = 64
NAME_WIDTH = 48  # a playlist or folder name in the menu: longer ones end in "…"
_DIGITS = frozenset("0123456789")
SIGN_IN = "Sign in to Beatport…"  # shown while signed out; opens Settings, where it is done


@dataclass(frozen=True)
class MenuEntry:
    text: str
    intent: Intent | None = None
    enabled: bool = True
    checked: bool | None = None  # None: not a check item
    radio: bool = False
    default: bool = False
    submenu: tuple[MenuEntry, ...] = ()
    separator: bool = False


SEPARATOR = MenuEntry("", enabled=False, separator=True)


def build_menu(state: TrayState) -> tuple[MenuEntry, ...]:
    """The whole menu for this state, top to bottom."""
    entries = (
        MenuEntry(status_text(state), enabled=False),
        SEPARATOR,
        *_matching(state),
        SEPARATOR,
        *_session_controls(state),
        SEPARATOR,
        *_dashboard(state),
        SEPARATOR,
        _quit(state),
    )
    return _with_default(entries, _default_text(state))


def default_entry(entries: tuple[MenuEntry, ...]) -> MenuEntry | None:
    return next((entry for entry in entries if entry.default), None)


# --- the status line --------------------------------------------------------------------------

def status_text(state: TrayState) -> str:
    """One line saying what CuePoint is doing, also used as the icon's tooltip."""
    session = state.session
    names = _names(session.playlists)
    if state.quitting:
        text = "Closing…" + (" (pausing the session to resume later)" if state.busy else "")
    elif session.phase == "starting":
        text = f"Starting {names}…"
    elif session.phase == "running":
        text = f"Matching {names}: {session.done} of {session.total}"
    elif session.phase == "paused":
        text = f"Paused at {session.done} of {session.total}" + (
            f": {session.reason}" if session.reason else "")
    elif session.phase == "stopping":
        text = f"Stopping at {session.done} of {session.total}…"
    else:
        text = _idle_text(state)
    return _short(text)


def _idle_text(state: TrayState) -> str:
    library, last = state.library, state.last
    if library.settings_error:
        return library.settings_error
    if not library.xml_set:
        return "Set up: export your Rekordbox collection as XML"
    if library.xml_error:
        return f"Rekordbox {'XML' if library.kind == 'xml' else 'library'}: {library.xml_error}"
    if last is not None and last.status == "failed":
        return f"Last session failed: {last.reason}"
    if last is not None and last.status == "completed":
        return (f"Last session: {last.matched} matched · {last.review} to review · "
                f"{last.unmatched} unmatched")
    if last is not None and state.last_went_wrong:
        return f"Last session paused: {last.reason}"
    count = playlist_count(library.tree) if library.tree else 0
    where = "your XML" if library.kind == "xml" else "your Rekordbox library"
    return f"Ready · {count} playlist{'' if count == 1 else 's'} in {where}"


# --- sections ---------------------------------------------------------------------------------

def _matching(state: TrayState) -> list[MenuEntry]:
    library = state.library
    entries = [_match_entry(state)]
    if (resumable := state.resumable) is not None:
        entries.append(MenuEntry(
            f"Resume “{resumable.title}” ({resumable.done} of {resumable.tracks} done)",
            Intent("resume_session", resumable.id)))
    if library.tree is not None:
        entries.append(MenuEntry("Choose playlist", submenu=_playlist_menu(
            library.tree, library.current_path)))
    else:
        entries.append(MenuEntry("Choose playlist", enabled=False))
    entries.append(MenuEntry("Queue playlists…", Intent("open_page", "live"),
                             enabled=library.tree is not None and not state.busy))
    return entries


def _match_entry(state: TrayState) -> MenuEntry:
    library = state.library
    if library.current_path is None:
        return MenuEntry("Match: choose a playlist first", enabled=False)
    intent = Intent("match", "/".join(library.current_path))
    can_match = not state.busy and not state.quitting and not library.playlist_error
    text = f"Match “{_short(library.current_name, NAME_WIDTH)}”"
    if library.changed_at is not None:
        text += f" — changed in Rekordbox {ago(library.changed_at, time.time())}"
    return MenuEntry(text, intent, enabled=can_match)


def ago(then: float, now: float) -> str:
    """"just now", "5 min ago", "3 h ago", "2 days ago": how long since `then`."""
    seconds = max(0.0, now - then)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    days = int(seconds // 86400)
    return f"{days} day{'' if days == 1 else 's'} ago"


# The last playlist submenu built, with the tree it was built from. The tray builds its
# menu again on every look at the library (every two seconds) to see whether it changed;
# the tree (immutable) is the same object until the library is read again, and naming and
# sorting a big library's 350 playlists took 5-7 ms of each look: 0.3 % of a core, idle.
_last_playlist_menu: tuple[PlaylistFolder, tuple[str, ...] | None, tuple[MenuEntry, ...]] | \
    None = None


def _playlist_menu(tree: PlaylistFolder,
                   current: tuple[str, ...] | None) -> tuple[MenuEntry, ...]:
    global _last_playlist_menu
    last = _last_playlist_menu
    if last is not None and last[0] is tree and last[1] == current:
        return last[2]
    entries = _tree_entries(tree, current)
    _last_playlist_menu = (tree, current, entries)
    return entries


def _tree_entries(folder: PlaylistFolder,
                  current: tuple[str, ...] | None) -> tuple[MenuEntry, ...]:
    entries = tuple(_tree_entry(child, current) for child in sorted(folder.children,
                                                                    key=_menu_order))
    return entries or (MenuEntry("(no playlists: export your collection again)",
                                 enabled=False),)


def _menu_order(node: PlaylistFolder | Playlist) -> tuple[bool, list[tuple[int, str]]]:
    """Folders first, then playlists, each by name as a person sorts them: case and accents
    aside, numbers by their value ("Set 2" before "Set 10")."""
    return not isinstance(node, PlaylistFolder), _natural(node.name)


def _natural(name: str) -> list[tuple[int, str]]:
    plain = unicodedata.normalize("NFKD", name).casefold()
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return [(0, part.zfill(20)) if part[:1] in _DIGITS else (1, part)
            for part in re.split(r"([0-9]+)", plain)]


def _tree_entry(node: PlaylistFolder | Playlist, current: tuple[str, ...] | None) -> MenuEntry:
    name = _short(node.name, NAME_WIDTH) if node.name.strip() else "(unnamed)"
    if isinstance(node, PlaylistFolder):
        if not node.children:
            return MenuEntry(f"{name} (empty folder)", enabled=False)
        return MenuEntry(name, submenu=_tree_entries(node, current))
    count = len(node.track_ids)
    return MenuEntry(f"{name}  ({count})" if count else f"{name}  (empty)",
                     Intent("choose_playlist", node.path_text), enabled=count > 0,
                     checked=node.path == current, radio=True)


def _session_controls(state: TrayState) -> list[MenuEntry]:
    phase = state.session.phase
    if phase == "paused":
        toggle = MenuEntry("Resume", Intent("resume"), enabled=not state.quitting)
    else:
        toggle = MenuEntry("Pause", Intent("pause"),
                           enabled=phase == "running" and not state.quitting)
    cancel = MenuEntry("Cancel session", Intent("cancel"),
                       enabled=phase in ("starting", "running", "paused") and not state.quitting)
    return [toggle, cancel]


def _dashboard(state: TrayState) -> list[MenuEntry]:
    sign_in = [MenuEntry(SIGN_IN, Intent("open_page", "settings"))] \
        if state.beatport_signed_out else []
    return [
        MenuEntry("Open dashboard", Intent("open_page", "live")),
        _recent_entry(state.recent),
        _report_entry(state.last_report),
        *sign_in,
        MenuEntry("Settings…", Intent("open_page", "settings")),
    ]


def _recent_entry(recent: tuple[RecentSession, ...]) -> MenuEntry:
    if not recent:
        return MenuEntry("Recent sessions", enabled=False)
    entries = tuple(MenuEntry(recent_text(session), Intent("open_page", f"session/{session.id}"))
                    for session in recent)
    return MenuEntry("Recent sessions", submenu=(
        *entries, SEPARATOR, MenuEntry("All sessions…", Intent("open_page", "history"))))


def recent_text(session: RecentSession) -> str:
    """"Crate Digging · 15/18 matched · 21 Nov 21:04"."""
    if session.status == "completed":
        outcome = f"{session.matched}/{session.tracks} matched"
    elif session.status in ("failed", "running"):
        outcome = session.status
    else:
        outcome = f"{session.status} at {session.done}/{session.tracks}"
    when = time.strftime("%d %b %H:%M", time.localtime(session.started_at))
    return f"{_short(session.title, 40)} · {outcome} · {when}"


def _report_entry(report: RecentSession | None) -> MenuEntry:
    if report is None:
        return MenuEntry("Export last report", enabled=False)
    kind = report.report_path.rsplit(".", 1)[-1].upper()
    return MenuEntry("Export last report", submenu=(
        MenuEntry(f"Open the report ({kind}) of “{_short(report.title, 40)}”",
                  Intent("open_file", report.report_path)),
        MenuEntry("Show it in its folder", Intent("show_folder", report.report_path)),
        MenuEntry("Export from the dashboard…", Intent("open_page", f"session/{report.id}")),
    ))


def _quit(state: TrayState) -> MenuEntry:
    text = "Quit (pauses the session)" if state.busy else "Quit"
    return MenuEntry(text, Intent("quit"), enabled=not state.quitting)


# --- the default ------------------------------------------------------------------------------

def _default_text(state: TrayState) -> str | None:
    if state.quitting:
        return None
    if state.needs_setup:
        return "Settings…"
    if state.busy:
        return "Open dashboard"
    match = _match_entry(state)
    return match.text if match.enabled and match.intent is not None else "Open dashboard"


def _with_default(entries: tuple[MenuEntry, ...], text: str | None) -> tuple[MenuEntry, ...]:
    marked = False
    out = []
    for entry in entries:
        if not marked and text is not None and entry.text == text and entry.enabled:
            entry, marked = replace(entry, default=True), True
        out.append(entry)
    return tuple(out)


def _names(playlists: tuple[str, ...]) -> str:
    names = [f"“{path.rsplit('/', 1)[-1]}”" for path in playlists]
    return " + ".join(names) if names else "the session"


def _short(text: str, width: int = STATUS_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"
