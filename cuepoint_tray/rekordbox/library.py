"""A Rekordbox library: the playlist tree every kind of library has (`PlaylistTree`), the
tree of an XML export (`ExportTree`), and an export read whole (`Library`: all its tracks
and the tree)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cuepoint_tray.domain import Playlist, PlaylistFolder, RekordboxTrack
from cuepoint_tray.errors import RekordboxError
from cuepoint_tray.rekordbox import playlist_lookup
from cuepoint_tray.rekordbox.tree import MissingEntry, RekordboxPlaylist, missing_entries, walk
from cuepoint_tray.rekordbox.xml_handler import REEXPORT


class PlaylistTree:
    """What every library offers: its file, its playlist tree, finding a playlist, and a
    playlist's tracks (`tracks_of`, per kind of library)."""

    path: Path
    root: PlaylistFolder
    kind = "xml"  # "xml" or "master.db"
    source = "the Rekordbox XML"  # how messages name the library

    def playlists(self) -> list[Playlist]:
        """Every playlist, depth-first in the order Rekordbox shows them."""
        return [node for node in walk(self.root) if isinstance(node, Playlist)]

    def _folders(self) -> list[PlaylistFolder]:
        return [node for node in walk(self.root) if isinstance(node, PlaylistFolder)]

    def find_playlist(self, path_or_name: str) -> Playlist:
        """The playlist at a path ("Sets/Dev Set") or with a unique name; see playlist_lookup.

        Raises RekordboxError when nothing or several playlists match, or when the playlist
        has entries that point at no track of the collection.
        """
        playlist = playlist_lookup.find_playlist(
            self.playlists(), self._folders(), path_or_name, self.path, source=self.source)
        self._check_entries(playlist)
        return playlist

    def tracks_of(self, playlist: Playlist) -> list[RekordboxTrack]:
        raise NotImplementedError

    def check_matchable(self, playlist: Playlist) -> None:
        """Raise RekordboxError, as `tracks_of` would, when the playlist cannot be matched
        (empty, refused, entries pointing at nothing); reads no more than it must."""
        self.tracks_of(playlist)

    def recently_changed(self) -> RekordboxPlaylist | None:
        """The playlist the DJ changed last, when the library knows (an export does not)."""
        return None

    def _check_entries(self, playlist: Playlist) -> None:
        """Raise when the playlist cannot be matched as the library has it."""


class ExportTree(PlaylistTree):
    """The tree of an XML export: each entry was checked against the collection when the
    tree was read, so whether a playlist can be matched is known without its tracks."""

    def check_matchable(self, playlist: Playlist) -> None:
        self._check_entries(playlist)
        if not playlist.track_ids:
            raise RekordboxError(f"Playlist '{playlist.path_text}' is empty: add tracks in "
                                 "Rekordbox and export again", path=str(self.path))

    def _check_entries(self, playlist: Playlist) -> None:
        # A Playlist the caller built has no record of bad entries: the library's own has.
        if not isinstance(playlist, RekordboxPlaylist):
            playlist = self._playlist_at(playlist.path) or playlist
        if isinstance(playlist, RekordboxPlaylist) and playlist.refused:
            raise RekordboxError(playlist.refused, path=str(self.path))
        missing = missing_entries(playlist)
        if missing:
            raise self._missing_error(playlist, list(missing))

    def _playlist_at(self, path: tuple[str, ...]) -> Playlist | None:
        return next((p for p in self.playlists() if p.path == path), None)

    def _missing_error(self, playlist: Playlist, missing: list[MissingEntry]) -> RekordboxError:
        first = missing[0]
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        return RekordboxError(
            f"Playlist '{playlist.path_text}' has an entry pointing at no track in the "
            f"collection: {first.described}{more}; {REEXPORT}",
            path=str(self.path), line=first.line)


@dataclass(frozen=True)
class Library(ExportTree):
    """The tracks by TrackID in collection order, and the ROOT folder of the playlists."""

    path: Path
    tracks: dict[str, RekordboxTrack]
    root: PlaylistFolder

    def tracks_of(self, playlist: Playlist) -> list[RekordboxTrack]:
        """The playlist's tracks in playlist order; raises when it is empty or has bad entries."""
        self.check_matchable(playlist)
        unknown = [key for key in playlist.track_ids if key not in self.tracks]
        if unknown:
            raise self._missing_error(playlist, [MissingEntry(unknown[0], "0", None)])
        return [self.tracks[track_id] for track_id in playlist.track_ids]
