"""The playlist tree: built from the drafts the handler read, walked, and shown as text."""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from cuepoint_tray.domain import Playlist, PlaylistFolder, RekordboxTrack
from cuepoint_tray.rekordbox.xml_handler import NodeDraft

ROOT_NAME = "ROOT"
_KEY_KINDS = {"0": "TrackID", "1": "Location"}


@dataclass(frozen=True, slots=True)
class MissingEntry:
    """A playlist entry whose Key names no track of the collection."""

    key: str
    key_type: str  # "0": Key is a TrackID; "1": Key is a Location
    line: int | None

    @property
    def described(self) -> str:
        return f"{_KEY_KINDS.get(self.key_type, 'Key')} '{self.key}'"


@dataclass(frozen=True, slots=True)
class RekordboxPlaylist(Playlist):
    """A Playlist as the library has it: where it starts in an export and which entries point
    at nothing; in a master.db, what kind of list it is and when the DJ last changed it."""

    line: int | None = None
    missing: tuple[MissingEntry, ...] = ()
    kind: str = "playlist"  # "playlist", "intelligent" or "history"
    refused: str = ""  # why it cannot be matched (an intelligent playlist's rules), in words
    changed_at: float | None = None  # seconds since 1970; master.db only


Locations = Callable[[], Iterable[tuple[str, str]]]


class EntryResolver:
    """Maps playlist entry keys to TrackIDs: KeyType 0 by TrackID, KeyType 1 by Location.

    `track_ids` holds the collection's TrackIDs; `locations()` gives (Location, TrackID) for
    each track that has a Location, in collection order, and is called only when an entry
    is a Location."""

    def __init__(self, track_ids: Container[str], locations: Locations) -> None:
        self._track_ids = track_ids
        self._locations_of_tracks = locations
        self._by_location: dict[str, str] | None = None
        self._by_unquoted_location: dict[str, str] | None = None

    @classmethod
    def of_tracks(cls, tracks: Mapping[str, RekordboxTrack]) -> EntryResolver:
        """The resolver for a collection read whole."""
        return cls(tracks, lambda: ((track.location, track.track_id)
                                    for track in tracks.values() if track.location))

    def track_id(self, key: str, key_type: str) -> str | None:
        """The TrackID the entry points at, or None when it points at no track."""
        if key_type == "0":
            key = key.strip()
            return key if key in self._track_ids else None
        return self._by_exact_location().get(key) or self._by_unquoted().get(unquote(key))

    # Both maps are built on first use: most exports use KeyType 0 only, and Rekordbox's own
    # Keys match the Locations exactly. Tools differ in what they percent-encode, hence the
    # second comparison of both sides URL-unquoted.
    def _by_exact_location(self) -> dict[str, str]:
        if self._by_location is None:
            self._by_location = self._locations(lambda location: location)
        return self._by_location

    def _by_unquoted(self) -> dict[str, str]:
        if self._by_unquoted_location is None:
            self._by_unquoted_location = self._locations(unquote)
        return self._by_unquoted_location

    def _locations(self, spelling: Callable[[str], str]) -> dict[str, str]:
        by_location: dict[str, str] = {}
        for location, track_id in self._locations_of_tracks():
            by_location.setdefault(spelling(location), track_id)
        return by_location


def build_root(playlists_element: NodeDraft, resolver: EntryResolver) -> PlaylistFolder:
    """The ROOT folder from the PLAYLISTS draft, with every entry resolved to a TrackID."""
    top = playlists_element.children
    # Rekordbox wraps everything in one folder NODE named ROOT. Without it (other tools),
    # the top-level nodes themselves are the root's children.
    if len(top) == 1 and top[0].kind != "playlist" and top[0].name == ROOT_NAME:
        top = top[0].children
    children = tuple(_build_node(node, (), resolver) for node in top)
    return PlaylistFolder(name=ROOT_NAME, path=(), children=children)


def _build_node(node: NodeDraft, parent_path: tuple[str, ...],
                resolver: EntryResolver) -> PlaylistFolder | Playlist:
    path = (*parent_path, node.name)
    if node.kind == "folder":
        children = tuple(_build_node(child, path, resolver) for child in node.children)
        return PlaylistFolder(name=node.name, path=path, children=children)
    return _build_playlist(node, path, resolver)


def _build_playlist(node: NodeDraft, path: tuple[str, ...],
                    resolver: EntryResolver) -> RekordboxPlaylist:
    track_ids: list[str] = []
    missing: list[MissingEntry] = []
    for key, line in node.entries:
        track_id = resolver.track_id(key, node.key_type)
        if track_id is None:
            missing.append(MissingEntry(key, node.key_type, line))
        else:
            track_ids.append(track_id)
    return RekordboxPlaylist(name=node.name, path=path, track_ids=tuple(track_ids),
                             line=node.line, missing=tuple(missing))


def walk(folder: PlaylistFolder) -> Iterator[PlaylistFolder | Playlist]:
    """Every folder and playlist under folder (not folder itself), depth-first, tree order."""
    for child in folder.children:
        yield child
        if isinstance(child, PlaylistFolder):
            yield from walk(child)


def missing_entries(playlist: Playlist) -> tuple[MissingEntry, ...]:
    """The entries of a playlist read from an export that point at no track."""
    return playlist.missing if isinstance(playlist, RekordboxPlaylist) else ()


def format_tree(root: PlaylistFolder) -> list[str]:
    """Lines for `cuepoint playlists`: folders end in "/", playlists show their track count."""
    lines = [_tree_line(node) for node in walk(root)]
    return lines or ["(no playlists: create some in Rekordbox)"]


def _tree_line(node: PlaylistFolder | Playlist) -> str:
    indent = "  " * (len(node.path) - 1)
    name = node.name or "(unnamed)"
    if isinstance(node, PlaylistFolder):
        return f"{indent}{name}/"
    return f"{indent}{name}  ({_count_text(node)})"


def _count_text(playlist: Playlist) -> str:
    if isinstance(playlist, RekordboxPlaylist) and playlist.refused:
        return "intelligent: CuePoint cannot evaluate its rules"
    missing = len(missing_entries(playlist))
    count = len(playlist.track_ids) + missing
    intelligent = isinstance(playlist, RekordboxPlaylist) and playlist.kind == "intelligent"
    if count == 0:
        return "intelligent, empty" if intelligent else "empty"
    text = ("intelligent, " if intelligent else "") + f"{count} track" + (
        "" if count == 1 else "s")
    if missing:
        text += f", {missing} not in the collection"
    return text
