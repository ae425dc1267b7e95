"""The playlist tree read without parsing the collection (rekordbox/tree_first.py) against
the export read whole (read_library): the same tree, the same tracks per playlist, the same
refusals, on every real export, a generated big library and files made to trip a scan."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_rekordbox_reader import HEADER, export, folder, playlist, track

from cuepoint_tray.errors import RekordboxError
from cuepoint_tray.rekordbox import format_tree, open_playlists, read_library
from cuepoint_tray.rekordbox.library import PlaylistTree
from cuepoint_tray.rekordbox.tree_first import CHANGED, ExportPlaylists, read_tree

from conftest import PROJECT_ROOT, SHARED, require

REAL = SHARED / "fixtures" / "real" / "rekordbox"
REAL_EXPORTS = sorted(p.name for p in REAL.glob("*.xml")) if REAL.is_dir() else []


def outcome(read: Any) -> tuple[str, Any]:
    """What reading gives: ("tree", its lines and playlists) or ("refused", message, line)."""
    try:
        library = read()
    except RekordboxError as exc:
        return ("refused", (str(exc), exc.line))
    return ("tree", (format_tree(library.root), library.playlists()))


def tracks_or_refusal(library: PlaylistTree) -> list[Any]:
    found: list[Any] = []
    for each in library.playlists():
        try:
            found.append(library.tracks_of(each))
        except RekordboxError as exc:
            found.append((str(exc), exc.line))
    return found


def assert_reads_as_a_whole_read(path: Path, *, scanned: bool) -> None:
    """open_playlists gives what read_library gives; `scanned`: the collection was scanned,
    not read whole."""
    assert (read_tree(path) is not None) == scanned
    whole, quick = outcome(lambda: read_library(path)), outcome(lambda: open_playlists(path))
    assert quick == whole
    if whole[0] == "tree":
        assert tracks_or_refusal(open_playlists(path)) == tracks_or_refusal(read_library(path))


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "rekordbox.xml"
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return path


# --- real and generated exports -------------------------------------------------------------

@pytest.mark.parametrize("name", REAL_EXPORTS)
def test_every_real_export_reads_as_the_whole_read_gives(name: str) -> None:
    path = require(REAL / name)
    refused = name in ("listmusik_test_rekordbox.xml", "djsynctool_rb670_fixture.xml")
    assert_reads_as_a_whole_read(path, scanned=not refused)


def test_the_real_exports_are_there() -> None:
    require(REAL)
    assert len(REAL_EXPORTS) >= 20


@pytest.mark.slow
def test_a_generated_big_library_reads_as_the_whole_read_gives(tmp_path: Path) -> None:
    """Nested folders, non-ASCII names, a "/" in a name, one playlist by Location."""
    path = tmp_path / "big.xml"
    subprocess.run([sys.executable, str(PROJECT_ROOT / "scripts" / "make_big_rekordbox_xml.py"),
                    str(path), "--tracks", "6000", "--playlists", "40"], check=True,
                   capture_output=True)
    assert b'KeyType="1"' in path.read_bytes()
    assert_reads_as_a_whole_read(path, scanned=True)
    tree = read_tree(path)
    assert isinstance(tree, ExportPlaylists) and tree.root == read_library(path).root


# --- exports made to trip a scan ------------------------------------------------------------

def by_location(*tracks_and_keys: tuple[str, str]) -> str:
    """An export whose one playlist names its tracks by these Locations (as written)."""
    tracks = "".join(track(track_id, Location=location)
                     for track_id, location in tracks_and_keys)
    return export(tracks, playlist("By file", *[location for _, location in tracks_and_keys],
                                   key_type="1"))


SCANNED = {
    "Rekordbox's own": export(
        track("1") + track("2") + track("3"),
        folder("Sets", playlist("Friday", "1", "3"), playlist("Empty")) + playlist("Two", "2")),
    "entries pointing at nothing": export(
        track("1") + track("2"), playlist("Broken", "1", "7", "8") + playlist("Good", "2")),
    "TrackID after the other attributes": export(
        '    <TRACK Name="Late" Location="file://localhost/a.mp3" TrackID="5"/>\n'
        '    <TRACK\n      Name="Lines"\n      TrackID="6">\n    </TRACK>\n',
        playlist("P", "5", "6", "9")),
    "Locations with references and spaces": by_location(
        ("1", "file://localhost/Music/Drum &amp; Bass.mp3"),
        ("2", "file://localhost/Music/It&apos;s%20a%20Shame.mp3"),
        ("3", "file://localhost/Music/Caf&#233; &#x4E2D;.mp3"),
        ("4", "file://localhost/Music/tab\there.mp3")),
    "a Location key spelled differently": export(
        track("1", Location="file://localhost/Music/A%20B.mp3"),
        playlist("P", "file://localhost/Music/A B.mp3", "file://localhost/nowhere.mp3",
                 key_type="1")),
    "CRLF line ends": export(track("1") + track("2"),
                             playlist("P", "1", "5")).replace("\n", "\r\n"),
    "lone CR line ends": export(track("1"), playlist("P", "1", "5")).replace("\n", "\r"),
    "a '>' inside a value": export(
        track("1", Name="a > b", Location="file://localhost/x.mp3"), playlist("P", "1")),
    "a UTF-8 byte order mark": "\ufeff" + export(track("1"), playlist("P", "1")),
    "no declaration": export(track("1"), playlist("P", "1")).replace(HEADER, ""),
    "no PLAYLISTS": export(track("1")).split("  <PLAYLISTS>")[0] + "</DJ_PLAYLISTS>\n",
    "a playlist in a playlist": export(
        track("1"), '<NODE Name="P" Type="1"><TRACK Key="1"/><NODE Name="Q" Type="1"/></NODE>'),
    "cut off in the playlists": export(track("1"), playlist("P", "1"))[:-40],
    "a DOCTYPE after the collection": export(track("1"), playlist("P", "1")).replace(
        "  <PLAYLISTS>", "<!DOCTYPE x>  <PLAYLISTS>"),
}
WHOLE_READ = {
    "a comment hiding a TRACK": export(
        track("1") + '<!-- <TRACK TrackID="2" Name="Hidden"/> -->\n', playlist("P", "1", "2")),
    "CDATA in the collection": export(
        track("1") + "<X><![CDATA[ <TRACK TrackID='2'/> ]]></X>", playlist("P", "1", "2")),
    "a processing instruction": export(track("1") + "<?pi <TRACK TrackID='2'?>",
                                       playlist("P", "1", "2")),
    "single-quoted attributes": export(
        "    <TRACK Name='x TrackID=\"9\"' TrackID='1'/>\n", playlist("P", "1", "9")),
    "an escaped TrackID": export('    <TRACK TrackID="&#49;"/>\n', playlist("P", "1")),
    "a TRACK without TrackID": export('    <TRACK Name="x"/>\n', playlist("P")),
    "a repeated TrackID": export(track("1") + track("1"), playlist("P", "1")),
    "a NODE in the collection": export(track("1") + '<NODE Name="x"/>', playlist("P", "1")),
    "PLAYLISTS inside the collection": export(
        track("1") + "<PLAYLISTS></PLAYLISTS>", playlist("P", "1")),
    "another element in the collection": export(track("1") + "<X>" * 300 + "</X>" * 300,
                                                playlist("P", "1")),
    "a comment before the collection": export(track("1"), playlist("P", "1")).replace(
        "<DJ_PLAYLISTS", "<!-- <COLLECTION> --><DJ_PLAYLISTS"),
    "an empty collection": export(playlist("P")).replace(
        '<COLLECTION Entries="0">\n', '<COLLECTION Entries="0"/>\n<X>').replace(
        "</COLLECTION>", "</X>"),
    "no collection": export().replace("COLLECTION", "NOTHING"),
    "wrong root": HEADER + "<plist><COLLECTION></COLLECTION></plist>",
    "an entity declaration": export(track("1"), playlist("P", "1")).replace(
        HEADER, HEADER + '<!DOCTYPE DJ_PLAYLISTS [<!ENTITY a "b">]>\n'),
    "an external entity": export(track("1", Name="&xxe;"), playlist("P", "1")).replace(
        HEADER, HEADER + '<!DOCTYPE DJ_PLAYLISTS [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'),
    "cut off in the collection": export(track("1"))[:300],
}


@pytest.mark.parametrize("name", sorted(SCANNED))
def test_an_export_the_scan_can_read_reads_as_the_whole_read_gives(tmp_path: Path,
                                                                    name: str) -> None:
    path = write(tmp_path, SCANNED[name])
    scanned = name not in ("a playlist in a playlist", "cut off in the playlists",
                           "a DOCTYPE after the collection")
    assert_reads_as_a_whole_read(path, scanned=scanned)


@pytest.mark.parametrize("name", sorted(WHOLE_READ))
def test_an_export_a_scan_could_misread_is_read_whole(tmp_path: Path, name: str) -> None:
    assert_reads_as_a_whole_read(write(tmp_path, WHOLE_READ[name]), scanned=False)


def test_encodings_other_than_utf8_are_read_whole(tmp_path: Path) -> None:
    text = export(track("1", Name="Café"), playlist("P", "1"))
    latin = text.replace('encoding="UTF-8"', 'encoding="windows-1252"').encode("cp1252")
    assert_reads_as_a_whole_read(write(tmp_path, latin), scanned=False)
    assert_reads_as_a_whole_read(write(tmp_path, text.replace(
        'encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")), scanned=False)


def test_lines_are_the_files_own_past_the_collection(tmp_path: Path) -> None:
    text = export(track("1") + track("2") + "\r\n\r\r\n", playlist("P", "1", "9"))
    path = write(tmp_path, text)
    tree = open_playlists(path)
    assert isinstance(tree, ExportPlaylists)
    with pytest.raises(RekordboxError) as caught:
        tree.tracks_of(tree.playlists()[0])
    whole = text.replace("\r\n", "\n").replace("\r", "\n")
    assert caught.value.line == whole[:whole.index('Key="9"')].count("\n") + 1


# --- what the scan cannot see: found when a playlist is matched -----------------------------

DAMAGED_COLLECTIONS = {
    "a mismatched tag": track("1") + '<TRACK TrackID="2"></TEMPO>',
    "an undeclared entity": track("1") + '    <TRACK TrackID="2" Name="&lol9;"/>\n',
    "bytes that are not UTF-8": track("1") + '    <TRACK TrackID="2" Name="caf\udce9"/>\n',
    "a repeated attribute": '    <TRACK TrackID="1" Name="a" Name="b"/>\n' + track("2"),
}


@pytest.mark.parametrize("name", sorted(DAMAGED_COLLECTIONS))
def test_damage_inside_the_collection_stops_the_match_as_the_whole_read_does(
        tmp_path: Path, name: str) -> None:
    text = export(DAMAGED_COLLECTIONS[name], playlist("P", "1"))
    path = write(tmp_path, text.encode("utf-8", "surrogateescape"))
    with pytest.raises(RekordboxError) as whole:
        read_library(path)
    tree = open_playlists(path)
    assert isinstance(tree, ExportPlaylists)  # the listing shows the playlists
    with pytest.raises(RekordboxError) as matched:
        tree.tracks_of(tree.playlists()[0])
    assert (str(matched.value), matched.value.line) == (str(whole.value), whole.value.line)


def test_a_tag_of_many_megabytes_is_refused_as_the_whole_read_refuses_it(
        tmp_path: Path) -> None:
    path = tmp_path / "rekordbox.xml"
    with path.open("w", encoding="utf-8") as out:
        out.write(export(track("1") + '<TRACK TrackID="2" Name="', playlist("P", "1"))
                  .split("<PLAYLISTS>")[0].rsplit("  </COLLECTION>", 1)[0])
        for _ in range(20):
            out.write("a" * (1 << 20))
        out.write('"/>\n  </COLLECTION>\n  <PLAYLISTS>\n' + folder("ROOT", playlist("P", "1"))
                  + "  </PLAYLISTS>\n</DJ_PLAYLISTS>\n")
    assert read_tree(path) is None
    with pytest.raises(RekordboxError, match="over 16 MB"):
        open_playlists(path)


def test_an_export_changed_after_its_tree_was_read_is_not_matched_from_it(
        tmp_path: Path) -> None:
    path = write(tmp_path, export(track("1") + track("2"), playlist("P", "1", "2")))
    tree = open_playlists(path)
    first = tree.playlists()[0]
    path.write_text(export(track("2"), playlist("P", "2")) + "\n", encoding="utf-8")
    with pytest.raises(RekordboxError, match="changed on disk") as caught:
        tree.tracks_of(first)
    assert str(caught.value).startswith(CHANGED)


def test_tracks_are_read_once_per_tree(tmp_path: Path) -> None:
    """The session's start asks for a playlist's tracks twice (to check, then to match)."""
    path = write(tmp_path, export(track("1") + track("2"), playlist("P", "1", "2", "1")))
    tree = open_playlists(path)
    first = tree.tracks_of(tree.playlists()[0])
    assert [t.track_id for t in first] == ["1", "2", "1"]
    path.unlink()  # a second call needs nothing from the file
    assert tree.tracks_of(tree.playlists()[0]) == first


# --- a collection scanned once while it stays the same --------------------------------------

def test_playlists_changed_around_the_same_collection_are_read_without_a_new_scan(
        tmp_path: Path) -> None:
    """Renaming and refilling playlists leaves the collection's bytes as they were: the
    re-read reuses its scan, and still gives what the whole read gives."""
    from cuepoint_tray.rekordbox import tree_first

    tracks = track("1") + track("2") + track("3")
    path = write(tmp_path, export(tracks, playlist("Friday", "1", "3") + playlist("Gone", "9")))
    assert_reads_as_a_whole_read(path, scanned=True)
    scans = tree_first.collection_scans
    path.write_text(export(tracks, folder("Sets", playlist("Saturday", "3", "2", "7"))),
                    encoding="utf-8")
    assert_reads_as_a_whole_read(path, scanned=True)
    assert format_tree(open_playlists(path).root) == format_tree(read_library(path).root)
    assert tree_first.collection_scans == scans  # the same collection: not scanned again


def test_a_changed_collection_is_scanned_again(tmp_path: Path) -> None:
    """One track gone from the collection: the entry pointing at it is now refused, as the
    whole read refuses it, even with the playlists unchanged."""
    from cuepoint_tray.rekordbox import tree_first

    nodes = playlist("Friday", "1", "3")
    path = write(tmp_path, export(track("1") + track("2") + track("3"), nodes))
    tree = open_playlists(path)
    assert tree.tracks_of(tree.playlists()[0])
    scans = tree_first.collection_scans
    path.write_text(export(track("1") + track("2"), nodes), encoding="utf-8")
    assert_reads_as_a_whole_read(path, scanned=True)
    with pytest.raises(RekordboxError, match="pointing at no track"):
        open_playlists(path).find_playlist("Friday")
    assert tree_first.collection_scans > scans


def test_the_same_collection_named_by_location_later_is_scanned_for_its_locations(
        tmp_path: Path) -> None:
    """A scan kept without Locations is not enough once a playlist names tracks by file."""
    tracks = track("1") + track("2")
    path = write(tmp_path, export(tracks, playlist("P", "1")))
    assert_reads_as_a_whole_read(path, scanned=True)
    path.write_text(export(tracks, playlist("P", "1") + playlist(
        "By file", "file://localhost/Music/2.mp3", "file://localhost/Music/7.mp3",
        key_type="1")), encoding="utf-8")
    assert_reads_as_a_whole_read(path, scanned=True)
    by_file = open_playlists(path).playlists()[1]
    assert by_file.track_ids[:1] == ("2",)
