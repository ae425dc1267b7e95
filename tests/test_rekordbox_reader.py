"""The Rekordbox XML reader: the dev set, tree and lookup rules, and every kind of bad file."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cuepoint_tray.domain import Playlist, PlaylistFolder, RekordboxTrack
from cuepoint_tray.errors import RekordboxError
from cuepoint_tray.rekordbox import Library, format_tree, read_library

from conftest import DEV_SET, PROJECT_ROOT, require

DEV_XML = DEV_SET / "rekordbox.xml"
HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'


# --- building exports ---------------------------------------------------------------------

def track(track_id: str, **attributes: str) -> str:
    """A COLLECTION TRACK line with a TEMPO and a POSITION_MARK child, as Rekordbox writes."""
    attributes.setdefault("Name", f"Track {track_id}")
    attributes.setdefault("Location", f"file://localhost/Music/{track_id}.mp3")
    text = " ".join(f'{name}="{value}"' for name, value in attributes.items())
    return (f'    <TRACK TrackID="{track_id}" {text}>\n'
            '      <TEMPO Inizio="0.05" Bpm="124.00" Metro="4/4" Battito="1"/>\n'
            '      <POSITION_MARK Name="" Type="0" Start="0.05" Num="-1"/>\n'
            "    </TRACK>\n")


def playlist(name: str, *keys: str, key_type: str = "0") -> str:
    entries = "".join(f'  <TRACK Key="{key}"/>\n' for key in keys)
    return (f'<NODE Name="{name}" Type="1" KeyType="{key_type}" Entries="{len(keys)}">\n'
            f"{entries}</NODE>\n")


def folder(name: str, *children: str) -> str:
    return f'<NODE Type="0" Name="{name}" Count="{len(children)}">\n{"".join(children)}</NODE>\n'


def export(tracks: str = "", nodes: str = "") -> str:
    return (f'{HEADER}<DJ_PLAYLISTS Version="1.0.0">\n'
            '  <PRODUCT Name="rekordbox" Version="6.8.5" Company="AlphaTheta"/>\n'
            f'  <COLLECTION Entries="0">\n{tracks}  </COLLECTION>\n'
            f"  <PLAYLISTS>\n{folder('ROOT', nodes)}  </PLAYLISTS>\n</DJ_PLAYLISTS>\n")


def three_tracks() -> str:
    return track("1") + track("2") + track("3")


def write(tmp_path: Path, text: str | bytes, name: str = "rekordbox.xml") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def line_of(text: str, needle: str) -> int:
    """The 1-based line where needle first appears in text."""
    return text[: text.index(needle)].count("\n") + 1


def refused(path: Path) -> RekordboxError:
    with pytest.raises(RekordboxError) as caught:
        read_library(path)
    return caught.value


# --- the dev set --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dev_library() -> Library:
    return read_library(require(DEV_XML))


def test_dev_set_tree(dev_library: Library) -> None:
    assert dev_library.root.name == "ROOT"
    assert dev_library.root.path == ()
    assert [p.path for p in dev_library.playlists()] == [("Sets", "Dev Set"), ("First Half",)]
    assert format_tree(dev_library.root) == [
        "Sets/", "  Dev Set  (300 tracks)", "First Half  (150 tracks)"]


def test_dev_set_playlists_resolve(dev_library: Library) -> None:
    dev_set = dev_library.find_playlist("Sets/Dev Set")
    assert dev_library.find_playlist("Dev Set") == dev_set
    tracks = dev_library.tracks_of(dev_set)
    assert len(tracks) == 300
    assert all(isinstance(t, RekordboxTrack) for t in tracks)
    assert len(dev_library.tracks_of(dev_library.find_playlist("First Half"))) == 150


def test_dev_set_first_track(dev_library: Library) -> None:
    first = next(iter(dev_library.tracks.values()))
    assert first.track_id == "90000007"
    assert first.name == "Gravity (Original Mix)"
    assert first.artist == "Gabe Costa, Sam Falk, Çelik 37"
    assert (first.year, first.total_time, first.average_bpm) == (2025, 333, 119.0)
    assert first.tonality == "Dbm"


# --- tracks -------------------------------------------------------------------------------

def test_track_fields(tmp_path: Path) -> None:
    xml = export(track("7", Name="Catch (Extended Mix)", Artist="Hana &amp; Øystein",
                       Album="Catch EP", Genre="Tech House", Label="Xenon", Mix="Extended Mix",
                       Remixer="Ana Hoff", Year="2022", TotalTime="319", AverageBpm="129.50",
                       Tonality="F#m", Location="file://localhost/M/c.mp3", Comments="peak"))
    assert read_library(write(tmp_path, xml)).tracks["7"] == RekordboxTrack(
        track_id="7", name="Catch (Extended Mix)", artist="Hana & Øystein", album="Catch EP",
        genre="Tech House", label="Xenon", mix="Extended Mix", remixer="Ana Hoff", year=2022,
        total_time=319, average_bpm=129.5, tonality="F#m", location="file://localhost/M/c.mp3",
        comments="peak")


@pytest.mark.parametrize(("year", "bpm"), [("0", "0.00"), ("", ""), ("n/a", "fast")])
def test_unknown_year_and_bpm_read_as_none(tmp_path: Path, year: str, bpm: str) -> None:
    library = read_library(write(tmp_path, export(track("1", Year=year, AverageBpm=bpm))))
    assert (library.tracks["1"].year, library.tracks["1"].average_bpm) == (None, None)


def test_missing_attributes_read_as_empty(tmp_path: Path) -> None:
    xml = export('    <TRACK TrackID="5"/>\n')
    assert read_library(write(tmp_path, xml)).tracks["5"] == RekordboxTrack("5", "")


def test_decimal_comma_bpm(tmp_path: Path) -> None:
    library = read_library(write(tmp_path, export(track("1", AverageBpm="123,45"))))
    assert library.tracks["1"].average_bpm == 123.45


def test_tracks_keep_collection_order(tmp_path: Path) -> None:
    xml = export(track("30") + track("10") + track("20"))
    assert list(read_library(write(tmp_path, xml)).tracks) == ["30", "10", "20"]


# --- tree and lookup ----------------------------------------------------------------------

NESTED = folder("Sets", folder("Clubs", playlist("Berlin", "1", "2")), playlist("Warmup", "3"),
                folder("Empty")) + playlist("Warmup", "2") + playlist("Peak", "1", "2", "3")


@pytest.fixture
def nested(tmp_path: Path) -> Library:
    return read_library(write(tmp_path, export(three_tracks(), NESTED)))


def test_nested_playlists_depth_first(nested: Library) -> None:
    assert [p.path_text for p in nested.playlists()] == [
        "Sets/Clubs/Berlin", "Sets/Warmup", "Warmup", "Peak"]
    sets = nested.root.children[0]
    assert isinstance(sets, PlaylistFolder) and sets.path == ("Sets",)


def test_format_tree_indents_and_counts(nested: Library) -> None:
    assert format_tree(nested.root) == [
        "Sets/", "  Clubs/", "    Berlin  (2 tracks)", "  Warmup  (1 track)", "  Empty/",
        "Warmup  (1 track)", "Peak  (3 tracks)"]


def test_find_by_path_and_unique_name(nested: Library) -> None:
    assert nested.find_playlist("Sets/Clubs/Berlin").path == ("Sets", "Clubs", "Berlin")
    assert nested.find_playlist("Berlin").path == ("Sets", "Clubs", "Berlin")
    assert [t.track_id for t in nested.tracks_of(nested.find_playlist("Peak"))] == [
        "1", "2", "3"]


def test_full_path_wins_over_a_name(nested: Library) -> None:
    # "Warmup" is a root playlist's full path and also the name of Sets/Warmup.
    assert nested.find_playlist("Warmup").path == ("Warmup",)
    assert nested.find_playlist("Sets/Warmup").path == ("Sets", "Warmup")


def test_forgiving_case_and_spaces(nested: Library) -> None:
    assert nested.find_playlist("  sets / clubs / BERLIN ").path == ("Sets", "Clubs", "Berlin")
    assert nested.find_playlist("peak").path == ("Peak",)


def test_ambiguous_name_lists_paths(tmp_path: Path) -> None:
    xml = export(three_tracks(), folder("A", playlist("Closing", "1")) +
                 folder("B", playlist("Closing", "2")))
    library = read_library(write(tmp_path, xml))
    with pytest.raises(RekordboxError, match="'Closing' matches 2 playlists: 'A/Closing', "
                                             "'B/Closing'; give the full path"):
        library.find_playlist("Closing")


def test_forgiving_match_only_when_unambiguous(tmp_path: Path) -> None:
    xml = export(three_tracks(), playlist("Deep", "1") + playlist("DEEP", "2"))
    library = read_library(write(tmp_path, xml))
    assert library.find_playlist("DEEP").track_ids == ("2",)
    with pytest.raises(RekordboxError, match="'deep ' matches 2 playlists"):
        library.find_playlist("deep ")


def test_unknown_playlist_suggests_close_paths(nested: Library) -> None:
    with pytest.raises(RekordboxError, match="No playlist 'Berlinn' in the Rekordbox XML: did "
                                             "you mean 'Sets/Clubs/Berlin'"):
        nested.find_playlist("Berlinn")


def test_at_most_three_suggestions_with_full_paths(tmp_path: Path) -> None:
    crates = folder("Gigs", *(playlist(f"Warmup {n}", "1") for n in range(1, 6)))
    library = read_library(write(tmp_path, export(three_tracks(), crates)))
    with pytest.raises(RekordboxError) as caught:
        library.find_playlist("Warmup")
    suggested = str(caught.value).split("did you mean ")[1].split("?")[0].split(", ")
    assert len(suggested) == 3
    assert all(name.startswith("'Gigs/Warmup ") for name in suggested)


def test_unknown_playlist_without_close_names(nested: Library) -> None:
    with pytest.raises(RekordboxError, match="No playlist 'zzqx'.*run `cuepoint playlists`"):
        nested.find_playlist("zzqx")


def test_folder_is_not_a_playlist(nested: Library) -> None:
    with pytest.raises(RekordboxError, match="'Sets' is a folder.*e.g. 'Sets/Clubs/Berlin'"):
        nested.find_playlist("Sets")
    with pytest.raises(RekordboxError, match="'sets/empty' is a folder with no playlists"):
        nested.find_playlist("sets/empty")


def test_empty_playlist_raises_from_tracks_of(tmp_path: Path) -> None:
    library = read_library(write(tmp_path, export(three_tracks(), playlist("Nothing Yet"))))
    empty = library.find_playlist("Nothing Yet")
    assert format_tree(library.root) == ["Nothing Yet  (empty)"]
    with pytest.raises(RekordboxError, match="Playlist 'Nothing Yet' is empty: add tracks in "
                                             "Rekordbox and export again"):
        library.tracks_of(empty)


def test_tracks_of_a_playlist_built_by_the_caller(nested: Library) -> None:
    mine = Playlist(name="Mine", path=("Mine",), track_ids=("3", "1"))
    assert [t.track_id for t in nested.tracks_of(mine)] == ["3", "1"]
    with pytest.raises(RekordboxError, match="TrackID '99'"):
        nested.tracks_of(Playlist(name="Bad", path=("Bad",), track_ids=("99",)))


# --- names with "/" -----------------------------------------------------------------------

SLASHES = (folder("House / Techno", playlist("Peak", "1"), playlist("Tech/House", "2")) +
           playlist("Edits/Bootlegs", "3"))


@pytest.fixture
def slashes(tmp_path: Path) -> Library:
    return read_library(write(tmp_path, export(three_tracks(), SLASHES)))


def test_names_with_slash_found_by_full_path(slashes: Library) -> None:
    assert slashes.find_playlist("House / Techno/Peak").path == ("House / Techno", "Peak")
    assert slashes.find_playlist("House / Techno/Tech/House").track_ids == ("2",)
    assert slashes.find_playlist("Edits/Bootlegs").path == ("Edits/Bootlegs",)


def test_names_with_slash_by_name_and_forgiving(slashes: Library) -> None:
    assert slashes.find_playlist("Tech/House").track_ids == ("2",)
    assert slashes.find_playlist("house/techno/peak").track_ids == ("1",)


def test_names_with_slash_in_tree(slashes: Library) -> None:
    assert format_tree(slashes.root) == [
        "House / Techno/", "  Peak  (1 track)", "  Tech/House  (1 track)",
        "Edits/Bootlegs  (1 track)"]


def test_same_text_for_two_paths_is_ambiguous(tmp_path: Path) -> None:
    xml = export(three_tracks(), folder("A/B", playlist("C", "1")) +
                 folder("A", folder("B", playlist("C", "2"))))
    library = read_library(write(tmp_path, xml))
    with pytest.raises(RekordboxError, match="2 playlists are at 'A/B/C': rename"):
        library.find_playlist("A/B/C")


# --- KeyType 1 and entries pointing at nothing ----------------------------------------------

def test_key_type_1_by_location(tmp_path: Path) -> None:
    tracks = (track("1", Location="file://localhost/Music/Caf%C3%A9%20del%20Mar.mp3") +
              track("2", Location="file://localhost/Music/Two Words.mp3") + track("3"))
    keys = ("file://localhost/Music/3.mp3",  # exactly as the track's Location
            "file://localhost/Music/Café del Mar.mp3",  # unquoted Key, quoted Location
            "file://localhost/Music/Two%20Words.mp3")  # quoted Key, unquoted Location
    xml = export(tracks, playlist("By File", *keys, key_type="1"))
    library = read_library(write(tmp_path, xml))
    assert library.find_playlist("By File").track_ids == ("3", "1", "2")


def test_entry_pointing_at_no_track(tmp_path: Path) -> None:
    xml = export(three_tracks(), playlist("Good", "1") + playlist("Broken", "2", "404", "405"))
    library = read_library(write(tmp_path, xml))
    assert format_tree(library.root) == [
        "Good  (1 track)", "Broken  (3 tracks, 2 not in the collection)"]
    assert library.tracks_of(library.find_playlist("Good"))[0].track_id == "1"
    with pytest.raises(RekordboxError) as caught:
        library.find_playlist("Broken")
    assert "Playlist 'Broken' has an entry pointing at no track" in str(caught.value)
    assert "TrackID '404' (and 1 more)" in str(caught.value)
    assert caught.value.line == line_of(xml, 'Key="404"')
    broken = library.playlists()[1]
    with pytest.raises(RekordboxError, match="TrackID '404'"):
        library.tracks_of(broken)


def test_location_entry_pointing_at_no_track(tmp_path: Path) -> None:
    xml = export(three_tracks(), playlist("Files", "file://localhost/gone.mp3", key_type="1"))
    library = read_library(write(tmp_path, xml))
    with pytest.raises(RekordboxError, match="Location 'file://localhost/gone.mp3'") as caught:
        library.find_playlist("Files")
    assert caught.value.line == line_of(xml, "gone.mp3")


# --- structure problems ---------------------------------------------------------------------

def test_playlist_with_children_is_refused(tmp_path: Path) -> None:
    inner = '<NODE Name="Odd" Type="1" KeyType="0">\n' + folder("Inside") + "</NODE>\n"
    xml = export(three_tracks(), inner)
    error = refused(write(tmp_path, xml))
    assert "Playlist 'Odd'" in str(error) and "a playlist cannot" in str(error)
    assert error.line == line_of(xml, 'Name="Inside"')


def test_folder_with_track_entries_is_refused(tmp_path: Path) -> None:
    xml = export(three_tracks(), folder("Crate", '<TRACK Key="1"/>\n'))
    error = refused(write(tmp_path, xml))
    assert "Folder 'Crate'" in str(error) and "only playlists can" in str(error)
    assert error.line == line_of(xml, '<TRACK Key="1"/>')


def test_unknown_key_type_is_refused(tmp_path: Path) -> None:
    xml = export(three_tracks(), playlist("Odd", "1", key_type="7"))
    error = refused(write(tmp_path, xml))
    assert 'KeyType="7"' in str(error) and error.line == line_of(xml, 'Name="Odd"')


def test_track_without_id_is_refused(tmp_path: Path) -> None:
    xml = export('    <TRACK Name="No ID"/>\n')
    error = refused(write(tmp_path, xml))
    assert "has no TrackID" in str(error) and error.line == line_of(xml, "No ID")


def test_folders_nested_too_deep(tmp_path: Path) -> None:
    nodes = playlist("Bottom", "1")
    for depth in range(205):
        nodes = folder(f"F{depth}", nodes)
    error = refused(write(tmp_path, export(three_tracks(), nodes)))
    assert "nested more than 200 deep" in str(error)


# --- weird but valid exports ----------------------------------------------------------------

def test_wrong_entries_attributes_are_ignored(tmp_path: Path) -> None:
    xml = export(three_tracks(), playlist("Two", "1", "2").replace('Entries="2"', 'Entries="9"'))
    library = read_library(write(tmp_path, xml.replace('Entries="0"', 'Entries="77"')))
    assert library.find_playlist("Two").track_ids == ("1", "2")


def test_missing_type_and_key_type_are_inferred(tmp_path: Path) -> None:
    nodes = '<NODE Name="Crate">\n<NODE Name="List">\n<TRACK Key="2"/>\n</NODE>\n</NODE>\n'
    library = read_library(write(tmp_path, export(three_tracks(), nodes)))
    assert format_tree(library.root) == ["Crate/", "  List  (1 track)"]


def test_no_playlists_element(tmp_path: Path) -> None:
    xml = (f'{HEADER}<DJ_PLAYLISTS Version="1.0.0">\n<COLLECTION Entries="3">\n'
           f"{three_tracks()}</COLLECTION>\n</DJ_PLAYLISTS>\n")
    library = read_library(write(tmp_path, xml))
    assert len(library.tracks) == 3 and library.playlists() == []
    assert format_tree(library.root)[0].startswith("(no playlists")
    with pytest.raises(RekordboxError, match="has no playlists"):
        library.find_playlist("Anything")


def test_top_level_nodes_without_root_folder(tmp_path: Path) -> None:
    xml = export(three_tracks()).replace(folder("ROOT", ""), playlist("Loose", "1"))
    library = read_library(write(tmp_path, xml))
    assert [p.path for p in library.playlists()] == [("Loose",)]


def test_utf8_bom_and_crlf(tmp_path: Path) -> None:
    xml = export(track("1", Name="Café"), playlist("Ü", "1")).replace("\n", "\r\n")
    library = read_library(write(tmp_path, b"\xef\xbb\xbf" + xml.encode("utf-8")))
    assert library.tracks["1"].name == "Café"
    assert library.find_playlist("ü").track_ids == ("1",)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be"])
def test_utf16_with_bom(tmp_path: Path, codec: str) -> None:
    xml = export(track("1", Name="東京 Nights"), playlist("Tour", "1"))
    xml = xml.replace('encoding="UTF-8"', 'encoding="UTF-16"')
    data = xml.encode(codec) if codec == "utf-16" else b"\xfe\xff" + xml.encode(codec)
    library = read_library(write(tmp_path, data))
    assert library.tracks["1"].name == "東京 Nights"


def test_windows_1252_declared(tmp_path: Path) -> None:
    xml = export(track("1", Name="Café")).replace("UTF-8", "windows-1252")
    library = read_library(write(tmp_path, xml.encode("cp1252")))
    assert library.tracks["1"].name == "Café"


# --- bad files ------------------------------------------------------------------------------

def test_file_does_not_exist(tmp_path: Path) -> None:
    error = refused(tmp_path / "nope.xml")
    assert "does not exist" in str(error) and "nope.xml" in str(error)


def test_path_is_a_directory(tmp_path: Path) -> None:
    assert "is a folder" in str(refused(tmp_path))


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, export())

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(Path, "open", denied)
    error = refused(path)
    assert "cannot be opened (Permission denied)" in str(error)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file_for_real(tmp_path: Path) -> None:
    path = write(tmp_path, export())
    path.chmod(0)
    assert "cannot be opened" in str(refused(path))


@pytest.mark.parametrize("content", [b"", b"   \n\n", b"\xef\xbb\xbf",
                                     b'<?xml version="1.0" encoding="UTF-8"?>\n'])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    error = refused(write(tmp_path, content))
    assert str(error).startswith("The Rekordbox XML is empty: export the collection again")


def test_not_xml_at_all(tmp_path: Path) -> None:
    error = refused(write(tmp_path, '{"tracks": []}'))
    assert "not an XML export" in str(error) and error.line == 1


def test_malformed_xml_names_the_line(tmp_path: Path) -> None:
    xml = export(track("1") + '    <TRACK TrackID="2" Name="A" Name="B"/>\n' + track("3"))
    error = refused(write(tmp_path, xml))
    assert "is damaged (duplicate attribute" in str(error)
    assert error.line == line_of(xml, 'TrackID="2"')
    assert f"line {error.line})" in str(error)


def test_unescaped_ampersand(tmp_path: Path) -> None:
    xml = export(track("1", Artist="Sam & Dave"))
    error = refused(write(tmp_path, xml))
    assert "is damaged" in str(error) and error.line == line_of(xml, "Sam & Dave")


def test_truncated_xml(tmp_path: Path) -> None:
    xml = export(three_tracks())
    cut = xml[: xml.index('TrackID="3"') + 5]
    error = refused(write(tmp_path, cut))
    assert "is cut off before its end" in str(error)
    assert error.line == cut.count("\n") + 1


def test_truncated_between_elements(tmp_path: Path) -> None:
    xml = export(three_tracks())
    cut = xml[: xml.index("  </COLLECTION>")]
    error = refused(write(tmp_path, cut))
    assert "is cut off before its end" in str(error)


def test_wrong_root_element(tmp_path: Path) -> None:
    xml = HEADER + '<plist version="1.0">\n<dict/>\n</plist>\n'
    error = refused(write(tmp_path, xml))
    assert "its top element is <plist>, not <DJ_PLAYLISTS>" in str(error)
    assert error.line == 2


def test_no_collection(tmp_path: Path) -> None:
    xml = HEADER + "<DJ_PLAYLISTS>\n  <PLAYLISTS/>\n</DJ_PLAYLISTS>\n"
    assert "has no COLLECTION" in str(refused(write(tmp_path, xml)))


def test_duplicate_track_ids(tmp_path: Path) -> None:
    xml = export(track("1") + track("2") + track("1", Name="Again"))
    error = refused(write(tmp_path, xml))
    first = line_of(xml, 'TrackID="1"')
    assert f"Track ID 1 appears twice in the collection (first at line {first})" in str(error)
    assert error.line == line_of(xml, "Again")


def test_invalid_bytes_for_declared_encoding(tmp_path: Path) -> None:
    xml = export(track("1") + track("2", Name="Caf\u00e9"))
    data = xml.encode("utf-8").replace("Café".encode(), "Café".encode("latin-1"))
    error = refused(write(tmp_path, data))
    assert "is not valid UTF-8 as it declares (byte 0xE9" in str(error)
    assert error.line == line_of(xml, "Café")


def test_invalid_bytes_without_declaration(tmp_path: Path) -> None:
    data = b'<DJ_PLAYLISTS>\n<COLLECTION>\n<TRACK TrackID="1" Name="Caf\xe9"/>\n'
    error = refused(write(tmp_path, data))
    assert "is not valid UTF-8 (byte 0xE9" in str(error) and error.line == 3


def test_cut_off_in_the_declaration(tmp_path: Path) -> None:
    error = refused(write(tmp_path, '<?xml version="1.0" enco'))
    assert "is cut off before its end" in str(error)


def test_unknown_declared_encoding(tmp_path: Path) -> None:
    xml = export(three_tracks()).replace("UTF-8", "klingon-8")
    error = refused(write(tmp_path, xml))
    assert "declares the encoding 'klingon-8', which cannot be read" in str(error)


# --- attacks --------------------------------------------------------------------------------

@pytest.fixture
def opened_files() -> Iterator[list[str]]:
    """Every path Python opens while the test runs (an audit hook sees builtins and os.open)."""
    seen: list[str] = []
    active = [True]

    def hook(event: str, args: tuple[object, ...]) -> None:
        if active[0] and event == "open" and isinstance(args[0], str | bytes | os.PathLike):
            seen.append(os.fsdecode(args[0]))

    sys.addaudithook(hook)  # hooks cannot be removed: switch it off instead
    yield seen
    active[0] = False


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    return path


ENTITY_REFUSED = "contains an entity declaration, which Rekordbox never writes; refused for safety"


def test_billion_laughs_is_refused(tmp_path: Path) -> None:
    laughs = "".join(f'  <!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">\n' for n in range(1, 10))
    xml = (HEADER + '<!DOCTYPE DJ_PLAYLISTS [\n  <!ENTITY lol0 "lol">\n' + laughs + "]>\n"
           '<DJ_PLAYLISTS><COLLECTION><TRACK TrackID="1" Name="&lol9;"/></COLLECTION>'
           "</DJ_PLAYLISTS>\n")
    error = refused(write(tmp_path, xml))
    assert ENTITY_REFUSED in str(error) and error.line == 3


def test_xxe_general_entity_is_refused_unread(tmp_path: Path, secret: Path,
                                              opened_files: list[str]) -> None:
    xml = (HEADER + f'<!DOCTYPE DJ_PLAYLISTS [\n<!ENTITY xxe SYSTEM "{secret.as_uri()}">\n]>\n'
           '<DJ_PLAYLISTS><COLLECTION><TRACK TrackID="1" Name="&xxe;"/></COLLECTION>'
           "</DJ_PLAYLISTS>\n")
    error = refused(write(tmp_path, xml))
    assert ENTITY_REFUSED in str(error) and "TOP-SECRET" not in str(error)
    assert str(secret) not in opened_files


def test_xxe_parameter_entity_is_refused_unread(tmp_path: Path, secret: Path,
                                                opened_files: list[str]) -> None:
    xml = (HEADER + f'<!DOCTYPE DJ_PLAYLISTS [<!ENTITY % p SYSTEM "{secret.as_uri()}"> %p;]>\n'
           "<DJ_PLAYLISTS><COLLECTION/></DJ_PLAYLISTS>\n")
    error = refused(write(tmp_path, xml))
    assert ENTITY_REFUSED in str(error)
    assert str(secret) not in opened_files


def test_external_dtd_is_refused_unread(tmp_path: Path, secret: Path,
                                        opened_files: list[str]) -> None:
    xml = (HEADER + f'<!DOCTYPE DJ_PLAYLISTS SYSTEM "{secret.as_uri()}">\n'
           "<DJ_PLAYLISTS><COLLECTION/></DJ_PLAYLISTS>\n")
    error = refused(write(tmp_path, xml))
    assert "refers to an outside file or address, which Rekordbox never writes; refused" \
        in str(error)
    assert error.line == 2 and str(secret) not in opened_files


def test_quadratic_blowup_is_refused(tmp_path: Path) -> None:
    # One big entity used many times: no nesting, so billion-laughs limits alone miss it.
    xml = (HEADER + f'<!DOCTYPE DJ_PLAYLISTS [<!ENTITY a "{"x" * 50_000}">]>\n'
           f'<DJ_PLAYLISTS><COLLECTION><TRACK TrackID="1" Name="{"&a;" * 20_000}"/>'
           "</COLLECTION></DJ_PLAYLISTS>\n")
    assert ENTITY_REFUSED in str(refused(write(tmp_path, xml)))


def test_deeply_nested_elements_are_refused(tmp_path: Path) -> None:
    depth = 100_000
    xml = (HEADER + '<DJ_PLAYLISTS Version="1.0.0"><COLLECTION Entries="0">'
           + "<X>" * depth + "</X>" * depth + "</COLLECTION></DJ_PLAYLISTS>\n")
    error = refused(write(tmp_path, xml))
    assert "nested more than 256 deep" in str(error) and error.line == 2


def test_a_tag_of_many_megabytes_is_refused_before_it_is_held(tmp_path: Path) -> None:
    path = tmp_path / "rekordbox.xml"
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER + '<DJ_PLAYLISTS Version="1.0.0"><COLLECTION Entries="1">'
                  '<TRACK TrackID="1" Name="')
        for _ in range(20):
            out.write("a" * (1 << 20))
        out.write('"/></COLLECTION></DJ_PLAYLISTS>\n')
    assert "single tag or text over 16 MB long" in str(refused(path))


def test_a_real_export_nests_well_within_the_limit(tmp_path: Path) -> None:
    nodes = playlist("Bottom", "1")
    for depth in range(198):  # with ROOT, the deepest folders Rekordbox allows
        nodes = folder(f"F{depth}", nodes)
    library = read_library(write(tmp_path, export(three_tracks(), nodes)))
    assert library.find_playlist("Bottom").track_ids == ("1",)


def test_bare_doctype_is_refused(tmp_path: Path) -> None:
    xml = HEADER + "<!DOCTYPE DJ_PLAYLISTS>\n<DJ_PLAYLISTS><COLLECTION/></DJ_PLAYLISTS>\n"
    error = refused(write(tmp_path, xml))
    assert "contains a DOCTYPE declaration, which Rekordbox never writes; refused for safety" \
        in str(error)


def test_audit_hook_sees_opens(tmp_path: Path, secret: Path, opened_files: list[str]) -> None:
    # Guards the two tests above: the hook does record a file the reader opens.
    read_library(write(tmp_path, export(three_tracks())))
    assert str(tmp_path / "rekordbox.xml") in opened_files


# --- the generator script -------------------------------------------------------------------

def test_generated_export_reads(tmp_path: Path) -> None:
    out = tmp_path / "big.xml"
    script = PROJECT_ROOT / "scripts" / "make_big_rekordbox_xml.py"
    for name in ("a.xml", "big.xml"):
        subprocess.run([sys.executable, str(script), str(tmp_path / name), "--tracks", "400",
                        "--playlists", "12"], check=True, capture_output=True)
    assert (tmp_path / "a.xml").read_bytes() == out.read_bytes()  # same seed, same file
    library = read_library(out)
    assert len(library.tracks) == 400 and len(library.playlists()) == 12
    by_location = library.find_playlist("Radio/Radio Show (by location)")
    assert len(library.tracks_of(by_location)) == len(by_location.track_ids) >= 10
    assert library.find_playlist("Edits/Bootlegs").path == ("Edits/Bootlegs",)
    assert any("House / Techno/" in line for line in format_tree(library.root))
