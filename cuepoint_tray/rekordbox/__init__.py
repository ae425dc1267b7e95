"""The DJ's Rekordbox library — an XML export or Rekordbox 6/7's own master.db — read behind one
interface: the playlist tree, finding a playlist, a playlist's tracks."""

from cuepoint_tray.rekordbox.library import Library, PlaylistTree
from cuepoint_tray.rekordbox.locate import choose_library, open_library, open_playlists
from cuepoint_tray.rekordbox.reader import read_library
from cuepoint_tray.rekordbox.tree import format_tree

__all__ = ["Library", "PlaylistTree", "choose_library", "format_tree", "open_library",
           "open_playlists", "read_library"]
