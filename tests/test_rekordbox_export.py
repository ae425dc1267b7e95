"""The enriched Rekordbox export: Beatport's values in matched tracks, all else byte for byte."""

from __future__ import annotations

import csv
import difflib
from pathlib import Path

import pytest
from test_store_builders import beatport

from cuepoint_tray.domain import BeatportTrack
from cuepoint_tray.errors import CuepointError, RekordboxError
from cuepoint_tray.rekordbox import read_library
from cuepoint_tray.rekordbox.export import export_enriched, with_marker

from conftest import DEV_SET, require

SMALL_XML = """<?xml version="1.0" encoding="UTF-8"?>
<DJ_PLAYLISTS Version="1.0.0">
  <PRODUCT Name="rekordbox" Version="6.8.5" Company="AlphaTheta"/>
  <COLLECTION Entries="3">
    <TRACK TrackID="1" Name="Track 1" Artist="Artist &amp; Co" Genre="House" AverageBpm="125.00" Comments="my note" Year="2019" Remixer="" Tonality="Dbm" Label="" Mix="">
      <TEMPO Inizio="0.050" Bpm="125.00" Metro="4/4" Battito="1"/>
      <POSITION_MARK Name="Drop" Type="0" Start="64.2" Num="0"/>
    </TRACK>
    <TRACK TrackID="2" Name="Untouched &quot;one&quot;" Artist="B" Genre="" Tonality="Am" Comments=""/>
    <TRACK TrackID="3" Name="Short" Artist="C" AverageBpm="120.00"/>
  </COLLECTION>
  <PLAYLISTS>
    <NODE Type="0" Name="ROOT" Count="1">
      <NODE Name="Dev Set" Type="1" KeyType="0" Entries="3">
        <TRACK Key="1"/><TRACK Key="2"/><TRACK Key="3"/>
      </NODE>
    </NODE>
  </PLAYLISTS>
</DJ_PLAYLISTS>
"""  # noqa: E501  (Rekordbox writes a TRACK's attributes on one line)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "rekordbox.xml"
    path.write_text(SMALL_XML, encoding="utf-8")
    return path


def matches() -> dict[str, BeatportTrack]:
    first = beatport(5001, 1)  # A Minor, Label, Techno, 2020-05-01, Original Mix, remixer R
    third = BeatportTrack(id=7003, title="Short", mix_name="Extended Mix", key_name="F# Major",
                          genre="Tech <House>", bpm=121.5, release_date="2023-01-02")
    return {"1": first, "3": third}


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.ndiff(before.splitlines(), after.splitlines())
            if line[:1] in "+-"]


def test_matched_tracks_get_beatport_values(source: Path, tmp_path: Path) -> None:
    summary = export_enriched(source, tmp_path / "out.xml", matches())
    track = read_library(summary.out_xml).tracks["1"]
    assert (track.tonality, track.label, track.genre, track.year, track.mix, track.remixer) == \
        ("Am", "Label", "Techno", 2020, "Original Mix", "R")
    assert track.comments == "my note | CuePoint: Beatport 5001"
    assert track.average_bpm == 125.0  # BPM only when asked
    short = read_library(summary.out_xml).tracks["3"]
    assert (short.tonality, short.genre, short.year, short.mix) == \
        ("F#", "Tech <House>", 2023, "Extended Mix")
    assert (summary.tracks_changed, summary.fields_changed) == (2, 12)


def test_everything_else_is_kept_byte_for_byte(source: Path, tmp_path: Path) -> None:
    out = export_enriched(source, tmp_path / "out.xml", matches()).out_xml
    before, after = source.read_text(encoding="utf-8"), out.read_text(encoding="utf-8")
    changed = changed_lines(before, after)
    assert len(changed) == 4  # the two matched TRACK start tags, before and after
    assert all('TrackID="1"' in line or 'TrackID="3"' in line for line in changed)
    assert after.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    assert '<TEMPO Inizio="0.050" Bpm="125.00"' in after and 'Name="Drop"' in after
    assert after[after.index("<PLAYLISTS>"):] == before[before.index("<PLAYLISTS>"):]
    new_tag = next(line for line in after.splitlines() if 'TrackID="1"' in line)
    assert new_tag.startswith('    <TRACK TrackID="1" Name="Track 1" Artist="Artist &amp; Co" '
                              'Genre="Techno" AverageBpm="125.00" Comments="my note | ')
    short_tag = next(line for line in after.splitlines() if 'TrackID="3"' in line)
    assert short_tag.endswith('Genre="Tech &lt;House&gt;" Year="2023" Mix="Extended Mix" '
                              'Comments="CuePoint: Beatport 7003"/>')
    library = read_library(out)
    assert library.tracks["2"] == read_library(source).tracks["2"]
    assert library.playlists()[0].track_ids == ("1", "2", "3")


def test_bpm_is_written_only_when_asked(source: Path, tmp_path: Path) -> None:
    out = export_enriched(source, tmp_path / "out.xml", matches(), write_bpm=True).out_xml
    assert read_library(out).tracks["3"].average_bpm == 121.5
    assert 'AverageBpm="121.50"' in out.read_text(encoding="utf-8")


def test_a_second_export_does_not_repeat_the_marker(source: Path, tmp_path: Path) -> None:
    first = export_enriched(source, tmp_path / "once.xml", matches()).out_xml
    second = export_enriched(first, tmp_path / "twice.xml", matches())
    assert second.out_xml.read_bytes() == first.read_bytes()
    assert second.fields_changed == 0
    assert with_marker("note | CuePoint: Beatport 1", "CuePoint", 2) == \
        "note | CuePoint: Beatport 2"


def test_the_changes_csv_lists_old_and_new_values(source: Path, tmp_path: Path) -> None:
    summary = export_enriched(source, tmp_path / "out.xml", matches())
    assert summary.changes_csv == tmp_path / "out-changes.csv"
    rows = list(csv.DictReader(summary.changes_csv.open(encoding="utf-8-sig")))
    assert len(rows) == summary.fields_changed
    assert {"track_id": "1", "artist": "Artist & Co", "title": "Track 1", "field": "Tonality",
            "old": "Dbm", "new": "Am"} in rows
    assert {"track_id": "3", "artist": "C", "title": "Short", "field": "Mix", "old": "",
            "new": "Extended Mix"} in rows
    assert not [row for row in rows if row["track_id"] == "2"]


def test_refuses_to_overwrite_the_input(source: Path) -> None:
    original = source.read_bytes()
    for target in (source, source.parent / "." / source.name):
        with pytest.raises(CuepointError, match="never overwrites your Rekordbox export"):
            export_enriched(source, target, matches())
    assert source.read_bytes() == original


def test_refuses_a_hard_link_to_the_input(source: Path, tmp_path: Path) -> None:
    link = tmp_path / "link.xml"
    link.hardlink_to(source)
    with pytest.raises(CuepointError, match="choose another file name"):
        export_enriched(source, link, matches())


def test_refuses_a_doctype_and_leaves_no_file(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    hostile = folder / "hostile.xml"
    hostile.write_text(SMALL_XML.replace("<DJ_PLAYLISTS", '<!DOCTYPE x [<!ENTITY a "b">]>'
                                         "\n<DJ_PLAYLISTS", 1), encoding="utf-8")
    with pytest.raises(CuepointError, match="refused for safety"):
        export_enriched(hostile, folder / "out.xml", matches())
    assert sorted(p.name for p in folder.iterdir()) == ["hostile.xml"]


def test_unknown_track_ids_are_reported_not_written(source: Path, tmp_path: Path) -> None:
    summary = export_enriched(source, tmp_path / "out.xml", {"404": beatport(1, 1)})
    assert summary.tracks_not_found == ("404",)
    assert summary.out_xml.read_bytes() == source.read_bytes()


def test_dev_set_export_changes_only_matched_tracks(tmp_path: Path) -> None:
    source = require(DEV_SET / "rekordbox.xml")
    library = read_library(source)
    chosen = list(library.tracks)[:3]
    summary = export_enriched(source, tmp_path / "dev.xml",
                              {key: beatport(6000 + i, i) for i, key in enumerate(chosen)})
    before = source.read_text(encoding="utf-8")
    after = summary.out_xml.read_text(encoding="utf-8")
    assert len(changed_lines(before, after)) == 6
    assert after.count("<TEMPO ") == before.count("<TEMPO ")
    assert after[after.index("<PLAYLISTS>"):] == before[before.index("<PLAYLISTS>"):]
    exported = read_library(summary.out_xml)
    assert [p.track_ids for p in exported.playlists()] == \
        [p.track_ids for p in library.playlists()]
    assert exported.tracks[chosen[0]].comments.endswith("CuePoint: Beatport 6000")
    untouched = list(library.tracks)[3:]
    assert all(exported.tracks[key] == library.tracks[key] for key in untouched)


def test_a_bom_and_windows_line_ends_are_kept(tmp_path: Path) -> None:
    source = tmp_path / "windows.xml"
    source.write_bytes(b"\xef\xbb\xbf" + SMALL_XML.replace("\n", "\r\n").encode())
    out = export_enriched(source, tmp_path / "out.xml", matches()).out_xml
    before, after = source.read_bytes().split(b"\r\n"), out.read_bytes().split(b"\r\n")
    assert after[0] == before[0] and len(after) == len(before)
    assert [i for i, line in enumerate(after) if line != before[i]] == [4, 9]


def test_export_refuses_a_source_with_a_huge_tag_or_deep_nesting(tmp_path: Path) -> None:
    match = {"1": BeatportTrack(id=5, title="T")}
    huge = tmp_path / "huge.xml"
    with huge.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<DJ_PLAYLISTS><COLLECTION>'
                  '<TRACK TrackID="1" Name="')
        for _ in range(20):
            out.write("a" * (1 << 20))
        out.write('"/></COLLECTION></DJ_PLAYLISTS>\n')
    with pytest.raises(RekordboxError, match="over 16 MB long"):
        export_enriched(huge, tmp_path / "out.xml", match)
    deep = tmp_path / "deep.xml"
    deep.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<DJ_PLAYLISTS><COLLECTION>'
                    + "<X>" * 5000 + "</X>" * 5000 + "</COLLECTION></DJ_PLAYLISTS>\n")
    with pytest.raises(RekordboxError, match="nested more than"):
        export_enriched(deep, tmp_path / "out.xml", match)
    assert not (tmp_path / "out.xml").exists()
