"""Find the playlist a DJ means from what they typed: a path like "Sets/Dev Set" or a name.

Names may contain "/" (real libraries have "House / Techno"), so a path is never split on
"/". Instead each playlist's full path is joined with "/" and compared with the whole query,
in this order, stopping at the first step that finds anything:

1. the exact full path ("Sets/Dev Set"; a root playlist's path is its name);
2. the exact name, when one playlist has it (several: the DJ is asked for the full path);
3. steps 1 and 2 again ignoring case and the spaces around names and "/", when that leaves
   one playlist (several: the DJ is asked to pick).

The exact full path wins over a name so that every playlist stays reachable: a root playlist
"Warmup" and "Sets/Warmup" are "Warmup" and "Sets/Warmup". Two paths that join to the same
text ("A/B" > "C" and "A" > "B" > "C") are reported as ambiguous; rename one in Rekordbox.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

from rapidfuzz import fuzz, process, utils

from cuepoint_tray.domain import Playlist, PlaylistFolder
from cuepoint_tray.errors import RekordboxError
from cuepoint_tray.rekordbox.tree import walk

_SPACES_AROUND_SLASH = re.compile(r"\s*/\s*")
_LIST_HINT = "run `cuepoint playlists` to see them all"
_LIST_SENTENCE = "Run `cuepoint playlists` to see them all"


def find_playlist(playlists: Sequence[Playlist], folders: Sequence[PlaylistFolder],
                  query: str, path: Path, *, source: str = "the Rekordbox XML") -> Playlist:
    """The one playlist query names, or a RekordboxError saying what matched or came close.
    `source` names the library in messages ("the Rekordbox XML", "your Rekordbox library")."""
    for same in (_exact, _forgiving):
        matches = _matches(playlists, query, same)
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise _ambiguous(query, matches, path)
    raise _not_found(query, playlists, folders, path, source)


def _matches(playlists: Sequence[Playlist], query: str,
             same: Callable[[str, str], bool]) -> list[Playlist]:
    by_path = [p for p in playlists if same(p.path_text, query)]
    return by_path or [p for p in playlists if same(p.name, query)]


def _exact(text: str, query: str) -> bool:
    return text == query


def _forgiving(text: str, query: str) -> bool:
    return _normal(text) == _normal(query)


def _normal(text: str) -> str:
    return _SPACES_AROUND_SLASH.sub("/", text.strip()).casefold()


def _ambiguous(query: str, matches: Sequence[Playlist], path: Path) -> RekordboxError:
    if len({p.path_text for p in matches}) == 1:
        return RekordboxError(f"{len(matches)} playlists are at '{matches[0].path_text}': "
                              "rename all but one in Rekordbox and export again", path=str(path))
    listed = ", ".join(f"'{p.path_text}'" for p in matches)
    return RekordboxError(f"'{query}' matches {len(matches)} playlists: {listed}; give the "
                          f"full path of the one you mean", path=str(path))


def _not_found(query: str, playlists: Sequence[Playlist], folders: Sequence[PlaylistFolder],
               path: Path, source: str) -> RekordboxError:
    folder = next((f for f in folders if _forgiving("/".join(f.path), query)), None)
    if folder is not None:
        return _folder_named(query, folder, path)
    if not playlists:
        again = " and export the collection again" if "XML" in source else ""
        return RekordboxError(f"{source[0].upper()}{source[1:]} has no playlists: create one "
                              f"in Rekordbox{again}", path=str(path))
    close = suggestions(query, playlists)
    hint = f"did you mean {', '.join(close)}? {_LIST_SENTENCE}" if close else _LIST_HINT
    return RekordboxError(f"No playlist '{query}' in {source}: {hint}", path=str(path))


def _folder_named(query: str, folder: PlaylistFolder, path: Path) -> RekordboxError:
    inside = [node for node in walk(folder) if isinstance(node, Playlist)]
    if not inside:
        return RekordboxError(f"'{query}' is a folder with no playlists in it: {_LIST_HINT}",
                              path=str(path))
    return RekordboxError(f"'{query}' is a folder, not a playlist: choose one of the "
                          f"playlists in it, e.g. '{inside[0].path_text}'", path=str(path))


def suggestions(query: str, playlists: Sequence[Playlist], limit: int = 3) -> list[str]:
    """Up to limit full paths that come close to query, best first, each in quotes."""
    choices = [p.path_text for p in playlists]
    found = process.extract(query, choices, scorer=fuzz.WRatio, processor=utils.default_process,
                            limit=limit, score_cutoff=60)
    return [f"'{choice}'" for choice, _score, _index in found]
