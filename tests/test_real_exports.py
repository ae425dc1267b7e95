"""Every real Rekordbox XML in ../shared/fixtures/real/rekordbox/ (Rekordbox 4.2.5 → 7.2.14)
reads exactly as a plain ElementTree walk of the same file sees it: the tracks with their
fields, the playlist tree and each playlist's entries. The two broken fixtures are refused,
each with its one-line reason."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import unquote

import pytest

from cuepoint_tray.domain import Playlist, PlaylistFolder
from cuepoint_tray.errors import RekordboxError
from cuepoint_tray.rekordbox import open_library
from cuepoint_tray.rekordbox.tree import missing_entries, walk

from conftest import SHARED

FOLDER = SHARED / "fixtures" / "real" / "rekordbox"
BROKEN = {
    "listmusik_test_rekordbox.xml": ("The Rekordbox XML is damaged (mismatched tag", 201),
    "djsynctool_rb670_fixture.xml": ("Track ID 112013117 appears twice", None),
}
EXPORTS = sorted(p.name for p in FOLDER.glob("*.xml")) if FOLDER.is_dir() else []


def number(text: str | None) -> float | None:
    try:
        value = float((text or "").replace(",", "."))
    except ValueError:
        return None
    return value if value > 0 else None


def expected_tracks(root: ET.Element) -> dict[str, dict[str, Any]]:
    """TrackID → fields, as the export's COLLECTION has them (0 and missing read as none)."""
    tracks = {}
    for element in root.iterfind("COLLECTION/TRACK"):
        get = element.attrib.get
        year, time, bpm = number(get("Year")), number(get("TotalTime")), number(get("AverageBpm"))
        tracks[get("TrackID", "").strip()] = {
            "name": get("Name", ""), "artist": get("Artist", ""), "album": get("Album", ""),
            "genre": get("Genre", ""), "label": get("Label", ""), "mix": get("Mix", ""),
            "remixer": get("Remixer", ""), "tonality": get("Tonality", ""),
            "location": get("Location", ""), "comments": get("Comments", ""),
            "year": int(year) if year else None, "total_time": int(time) if time else None,
            "average_bpm": bpm}
    return tracks


def expected_tree(root: ET.Element, tracks: dict[str, Any]) -> list[tuple[Any, ...]]:
    """(kind, path, resolved entries, entries pointing at nothing) for every node, in order."""
    by_location = {fields["location"]: track_id for track_id, fields in tracks.items()}
    by_unquoted = {unquote(location): track_id for location, track_id in by_location.items()}
    nodes = root.findall("PLAYLISTS/NODE")
    if len(nodes) == 1 and nodes[0].get("Name") == "ROOT" and nodes[0].get("Type") != "1":
        nodes = nodes[0].findall("NODE")
    found: list[tuple[Any, ...]] = []

    def visit(node: ET.Element, parent: tuple[str, ...]) -> None:
        path = (*parent, node.get("Name", ""))
        children, entries = node.findall("NODE"), node.findall("TRACK")
        kind = {"0": "folder", "1": "playlist"}.get(node.get("Type", "").strip()) or (
            "folder" if children else "playlist")
        if kind == "folder":
            found.append(("folder", path, (), 0))
            for child in children:
                visit(child, path)
            return
        key_type = node.get("KeyType", "0").strip() or "0"
        resolved, missing = [], 0
        for entry in entries:
            key = entry.get("Key", "")
            track_id = (key.strip() if key.strip() in tracks else None) if key_type == "0" \
                else by_location.get(key) or by_unquoted.get(unquote(key))
            if track_id is None:
                missing += 1
            else:
                resolved.append(track_id)
        found.append(("playlist", path, tuple(resolved), missing))

    for node in nodes:
        visit(node, ())
    return found


def our_tree(root: PlaylistFolder) -> list[tuple[Any, ...]]:
    return [("playlist", node.path, node.track_ids, len(missing_entries(node)))
            if isinstance(node, Playlist) else ("folder", node.path, (), 0)
            for node in walk(root)]


@pytest.mark.parametrize("name", [n for n in EXPORTS if n not in BROKEN])
def test_a_real_export_reads_as_an_independent_parser_sees_it(name: str) -> None:
    path = FOLDER / name
    root = ET.parse(path).getroot()
    library = open_library(path)
    assert library.kind == "xml"
    tracks = expected_tracks(root)
    assert list(library.tracks) == list(tracks)  # type: ignore[attr-defined]
    for track_id, fields in tracks.items():
        track = library.tracks[track_id]  # type: ignore[attr-defined]
        assert {field: getattr(track, field) for field in fields} == fields, track_id
    assert our_tree(library.root) == expected_tree(root, tracks)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_fixture_is_refused_in_one_line(name: str) -> None:
    path = FOLDER / name
    if not path.exists():
        pytest.skip(f"{path} is absent")
    reason, line = BROKEN[name]
    with pytest.raises(RekordboxError) as caught:
        open_library(path)
    message = str(caught.value)
    assert reason in message and "\n" not in message
    assert caught.value.line == line or line is None


def test_the_real_folder_is_there() -> None:
    if not EXPORTS:
        pytest.skip(f"{FOLDER} is absent")
    assert len(EXPORTS) == 25
