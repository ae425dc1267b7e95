"""What writing a Beatport track changes in a Rekordbox track (issue 14): one rule for the
track JSON's `changes`, the sessions' `will_change` and the enriched XML."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from cuepoint_tray.changes import ExportOptions, export_options, field_changes, will_change
from cuepoint_tray.domain import BeatportTrack
from cuepoint_tray.errors import CuepointError
from cuepoint_tray.rekordbox.export import export_enriched
from cuepoint_tray.store.queries import dict_of

BEATPORT = BeatportTrack(id=42, title="Tide", mix_name="Extended Mix", artists=("Mira",),
                         remixers=("Nadia",), bpm=124.0, key_name="A Minor", camelot="8A",
                         genre="Techno", label="Deep Label", release_date="2020-05-01")
FINAL = dict_of(BEATPORT)
EMPTY = {"tonality": "", "average_bpm": None, "genre": "", "label": "", "year": None, "mix": ""}
FILLED = {"tonality": "8A", "average_bpm": 126.0, "genre": "House", "label": "Old",
          "year": 2019, "mix": "Original Mix"}


DEFAULTS = ExportOptions()


def changed(rekordbox: dict[str, object], options: ExportOptions = DEFAULTS) -> set[str]:
    return {row["field"] for row in field_changes(rekordbox, FINAL, options) if row["changed"]}


def test_fill_writes_empty_fields_only_and_overwrite_different_ones_too() -> None:
    assert changed(EMPTY) == {"key", "bpm", "genre", "label", "year", "mix"}
    assert changed(FILLED) == set()
    # 8A is A minor: a right key in another spelling is never rewritten.
    assert changed(FILLED, ExportOptions(mode="overwrite")) == {"bpm", "genre", "label",
                                                                "year", "mix"}
    assert changed(EMPTY, ExportOptions(fields=("label", "key"))) == {"label", "key"}
    assert will_change(EMPTY, FINAL) and not will_change(FILLED, FINAL)
    assert not will_change(EMPTY, None)


def test_an_empty_beatport_value_never_erases() -> None:
    bare = dict_of(BeatportTrack(id=1, title="Bare"))
    rows = field_changes(FILLED, bare, ExportOptions(mode="overwrite"))
    assert not any(row["changed"] for row in rows)
    assert [row["old"] for row in rows] == ["Am", "126.00", "House", "Old", "2019",
                                           "Original Mix"]


@pytest.mark.parametrize(("notation", "shown"), [("musical", "Am"), ("camelot", "8A"),
                                                 ("open_key", "1m")])
def test_keys_are_shown_and_written_in_the_notation_chosen(notation: str, shown: str,
                                                           tmp_path: Path) -> None:
    key = field_changes(EMPTY, FINAL, ExportOptions(key_notation=notation))[0]
    assert (key["field"], key["new"], key["written"]) == ("key", shown, shown)
    source = tmp_path / "rekordbox.xml"
    source.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<DJ_PLAYLISTS Version="1.0.0">\n'
        '<PRODUCT Name="rekordbox" Version="6.8.5" Company="AlphaTheta"/>\n'
        '<COLLECTION Entries="1">\n<TRACK TrackID="7" Name="Tide" Artist="Mira" '
        'Tonality="" Genre="House" Label="" Mix="" Year="0" Comments="mine"/>\n'
        '</COLLECTION>\n<PLAYLISTS><NODE Type="0" Name="ROOT" Count="0"/></PLAYLISTS>\n'
        '</DJ_PLAYLISTS>\n', encoding="utf-8")
    out = tmp_path / "out.xml"
    export_enriched(source, out, {"7": BEATPORT},
                    options=ExportOptions(key_notation=notation))
    text = out.read_text(encoding="utf-8")
    assert f'Tonality="{shown}"' in text and 'Genre="House"' in text  # filled, not replaced
    assert 'Label="Deep Label"' in text and 'Year="2020"' in text and 'Comments="mine"' in text
    assert 'Mix="Extended Mix"' in text and 'Remixer="Nadia"' in text
    with out.with_name("out-changes.csv").open(encoding="utf-8-sig") as stream:
        fields = {row["field"] for row in csv.DictReader(stream)}
    assert fields == {"Tonality", "AverageBpm", "Label", "Year", "Mix", "Remixer"}


def test_options_from_words_are_checked() -> None:
    assert export_options("label, key", "overwrite", "1").fields == ("label", "key")
    assert export_options("", None, None) == ExportOptions()
    for bad in ({"fields": "colour"}, {"mode": "replace"}, {"comments": "maybe"},
                {"key_notation": "sol-fa"}):
        with pytest.raises(CuepointError):
            export_options(**bad)  # type: ignore[arg-type]
