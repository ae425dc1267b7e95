"""Rekordbox XML exports: read the collection and playlist tree, find playlists, list them."""

from cuepoint_tray.rekordbox.library import Library
from cuepoint_tray.rekordbox.reader import read_library
from cuepoint_tray.rekordbox.tree import format_tree

__all__ = ["Library", "format_tree", "read_library"]
