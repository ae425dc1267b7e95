"""Intelligent playlists evaluated without pyrekordbox (rekordbox/intelligent.py), with
pyrekordbox's own evaluation as the oracle: the same track IDs in the same order for every
property and operator, AND and OR, and awkward values (quotes, % and _, accents, case, empty);
rules it does not cover still go to pyrekordbox, refusals keep their sentences; and a library
whose rules are all covered never imports pyrekordbox or SQLAlchemy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cuepoint_tray.rekordbox import intelligent, open_library
from cuepoint_tray.rekordbox.masterdb import MasterDbLibrary, _unsupported
from cuepoint_tray.rekordbox.tree import RekordboxPlaylist, walk

from conftest import SHARED, require
from masterdb_builder import LibraryBuilder

REAL = SHARED / "fixtures" / "real" / "rekordbox-db"
NOW = datetime.now()

# (property, operator, left, right, unit) — operators as Rekordbox numbers them:
# 1 is, 2 is not, 3 greater, 4 less, 5 in range, 6 in the last, 7 not in the last,
# 8 contains, 9 does not contain, 10 starts with, 11 ends with.
Rule = tuple[str, int, str, str, str]
TEXT_VALUES = {
    "artist": ["Artist 1", "artist 1", "Ärtist", "Art", "O'Brien", "50%", "a_b", "1"],
    "album": ["Album A", "Album", "A"],
    "albumArtist": ["Artist 2", "Artist"],
    "originalArtist": ["Artist 3", "Artist"],
    "producer": ["Artist 4", "4"],
    "genre": ["Techno", "techno", "House", "Tech", "no", "Drum & Bass", "Ünïcode"],
    "key": ["Am", "A", "m"],
    "label": ["Label 0", "Label", "0"],
    "remixedBy": ["Remixer", "Rem"],
    "comments": ["note 3", "note", "100%", "x_y", 'say "hi"', "é"],
    "fileName": ["000001.mp3", "0000", ".mp3"],
    "name": ["Track 3", "track", "Track", "é", "%", "_", "'", ""],
}
NUMBER_VALUES = {"bpm": ("12100", "12400"), "counter": ("3", "7"), "rating": ("51", "153"),
                 "duration": ("305", "310"), "year": ("2021", "2023")}
DATE_VALUES = {"dateCreated": (NOW - timedelta(days=6)).strftime("%Y-%m-%d"),
               "stockDate": "2026-06-15", "dateReleased": "2020-01-01"}


def rules() -> list[Rule]:
    found: list[Rule] = []
    for prop, values in TEXT_VALUES.items():
        found += [(prop, op, value, "", "") for value in values for op in (1, 2, 8, 9, 10, 11)]
    for prop, (low, high) in NUMBER_VALUES.items():
        found += [(prop, op, low, "", "") for op in (1, 2, 3, 4)]
        found += [(prop, 5, low, high, ""), (prop, 5, high, low, ""), (prop, 1, "abc", "", "")]
    for prop, day in DATE_VALUES.items():
        found += [(prop, op, day, "", "") for op in (1, 2, 3, 4)]
        found += [(prop, 5, "2019-01-01", day, ""), (prop, 6, "10", "", "day"),
                  (prop, 7, "10", "", "day"), (prop, 6, "400", "", "day"),
                  (prop, 6, "2", "", "month")]
    found += [("grouping", op, value, "", "") for value in ("1", "2") for op in (1, 2)]
    found += [("myTag", op, value, "", "") for value in ("-1234", "123", "7", "x")
              for op in (8, 9)]
    found += [("mixName", 8, "Extended", "", "")]
    return found


def track_fields(n: int) -> dict[str, Any]:
    """What pyrekordbox's builder does not set, varied per track."""
    return {"Rating": (n % 6) * 51, "DJPlayCount": str(n % 9), "ColorID": str(n % 3),
            "StockDate": f"2026-{n % 12 + 1:02d}-15", "ReleaseDate": f"20{15 + n % 10}-01-01",
            "created_at": NOW - timedelta(days=n * 3, hours=n), "Length": 300 + n,
            "BPM": 12000 + 50 * n}


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Rule]]:
    """24 tracks (two marked deleted) with every property varied, and one intelligent
    playlist per rule, written with pyrekordbox into a copy of Rekordbox's own file."""
    require(REAL / "master_locked.db")
    from pyrekordbox.masterdb import models

    out = tmp_path_factory.mktemp("smart") / "master.db"
    artists = ["Artist 1", "ARTIST 1", "Ärtist", "O'Brien", "50% Off", "a_b", "axb", ""]
    genres = ["Techno", "House", "Drum & Bass", "Ünïcode", "TECHNO", ""]
    titles = ["Track 3", "track 3", "été", "100%", "a_b", "it's", 'say "hi"', "Track"]
    every = rules()
    with LibraryBuilder(out) as build:
        ids = [build.track(titles[n % len(titles)] + ("" if n < 8 else f" {n}"),
                           artists[n % len(artists)], remixer="Remixer" if n % 4 == 0 else "",
                           label=f"Label {n % 3}" if n % 5 else "", genre=genres[n % len(genres)],
                           album=f"Album {'AB'[n % 2]}" if n % 7 else "",
                           key=["Am", "C", "F#m", ""][n % 4], year=2019 + n % 6,
                           comments=["note 3", "100% fun", "x_y", 'say "hi"', "café", ""][n % 6])
               for n in range(24)]
        build.db.flush()
        artist_ids = [row.ID for row in build.db.get_artist()]
        tags = ["4294966062", "123", "12345", "7"]
        for n, content_id in enumerate(ids):
            row = build.db.get_content(ID=content_id)
            for name, value in track_fields(n).items():
                setattr(row, name, value)
            row.ComposerID = artist_ids[n % len(artist_ids)] if n % 3 else None
            row.OrgArtistID = artist_ids[(n + 1) % len(artist_ids)] if n % 2 else None
            row.rb_local_deleted = 1 if n in (5, 11) else 0
            if n % 2:
                build.db.add(models.DjmdSongMyTag.create(
                    ID=str(uuid.uuid4()), UUID=str(uuid.uuid4()), MyTagID=tags[n // 2 % 4],
                    ContentID=content_id, TrackNo=1))
        for album in build.db.get_album():
            album.AlbumArtistID = artist_ids[int(album.ID) % len(artist_ids)]
        for number, rule in enumerate(every):
            build.db.flush()
            build.db.create_smart_playlist(f"Rule {number}", smart_list([rule]))
        for number, (logic, combined) in enumerate(COMBINED):
            build.db.flush()
            build.db.create_smart_playlist(f"Combined {number}", smart_list(combined, logic))
    return out, every


# (LogicalOperator, rules): 1 all of them, 2 any (and any other number: any)
COMBINED: list[tuple[int, list[Rule]]] = [
    (1, [("genre", 8, "techno", "", ""), ("rating", 3, "51", "", "")]),
    (2, [("genre", 8, "techno", "", ""), ("rating", 3, "51", "", "")]),
    (2, [("artist", 10, "a", "", ""), ("myTag", 8, "123", "", ""),
         ("dateCreated", 6, "20", "", "day")]),
    (1, [("comments", 9, "%", "", ""), ("bpm", 5, "12100", "12900", ""),
         ("albumArtist", 9, "Artist 2", "", "")]),
    (3, [("key", 1, "Am", "", ""), ("label", 11, "1", "", "")]),
    (1, [("genre", 1, "House", "", ""), ("mixName", 8, "x", "", "")]),
]


def smart_list(conditions: list[Rule], logic: int = 1) -> Any:
    from pyrekordbox.masterdb.smartlist import SmartList

    smart = SmartList(logical_operator=logic)
    for prop, op, left, right, unit in conditions:
        smart.add_condition(prop, op, left, right, unit)
    return smart


def oracle(library_path: Path) -> dict[str, list[str] | str]:
    """Every intelligent playlist's tracks as pyrekordbox selects them, or why CuePoint
    refused it before this module (its rule outside pyrekordbox's columns, or pyrekordbox
    failing on it)."""
    from pyrekordbox.masterdb import MasterDatabase
    from pyrekordbox.masterdb.models import DjmdContent
    from pyrekordbox.masterdb.smartlist import SmartList

    found: dict[str, list[str] | str] = {}
    db = MasterDatabase(library_path, unlock=True)
    try:
        for playlist in db.get_playlist().filter_by(Attribute=4):
            smart = SmartList()
            try:
                smart.parse(playlist.SmartList)
            except Exception:  # noqa: BLE001  what XML and int() raise
                found[playlist.Name] = "its rules cannot be read"
                continue
            if _unsupported(smart):
                found[playlist.Name] = f"CuePoint cannot evaluate its rule on {_unsupported(smart)}"
                continue
            try:
                query = (db.session.query(DjmdContent.ID).filter(smart.filter_clause())
                         .filter(DjmdContent.rb_local_deleted == 0)
                         .order_by(DjmdContent.created_at, DjmdContent.ID))
                found[playlist.Name] = [str(row[0]) for row in query]
            except Exception:  # noqa: BLE001  the rule pyrekordbox cannot evaluate
                found[playlist.Name] = "CuePoint cannot evaluate its rules"
    finally:
        db.close()
    return found


def ours(library_path: Path) -> dict[str, RekordboxPlaylist]:
    library = open_library(library_path)
    assert isinstance(library, MasterDbLibrary)
    return {p.name: p for p in walk(library.root)
            if isinstance(p, RekordboxPlaylist) and p.kind == "intelligent"}


@pytest.fixture(params=["", "Asia/Tokyo", "America/Los_Angeles"])
def local_time(request: pytest.FixtureRequest) -> Iterator[None]:
    """The machine's time zone (dates in rules are local, timestamps in master.db UTC)."""
    before = os.environ.get("TZ")
    if request.param:
        os.environ["TZ"] = request.param
        time.tzset()
    yield
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.mark.usefixtures("local_time")
def test_every_rule_gives_the_tracks_pyrekordbox_gives_in_its_order(
        library: tuple[Path, list[Rule]]) -> None:
    path, every = library
    expected, got = oracle(path), ours(path)
    assert set(got) == set(expected) == {
        *(f"Rule {n}" for n in range(len(every))), *(f"Combined {n}" for n in range(6))}
    cases = [(f"Rule {n}", rule) for n, rule in enumerate(every)]
    for name, rule in [*cases, *((f"Combined {n}", c) for n, c in enumerate(COMBINED))]:
        wanted = expected[name]
        if isinstance(wanted, str):
            assert f"is an intelligent playlist and {wanted}: copy" in got[name].refused, rule
            assert got[name].track_ids == ()
        else:
            assert (list(got[name].track_ids), got[name].refused) == (wanted, ""), rule
    # the rules select something, and not always everything: the comparison means something
    sizes = [len(ids) for ids in expected.values() if isinstance(ids, list)]
    assert sum(1 for size in sizes if 0 < size < max(sizes)) > len(sizes) // 2


def test_the_covered_rules_are_evaluated_natively(library: tuple[Path, list[Rule]]) -> None:
    _, every = library
    native = {rule for rule in every if intelligent.track_query(xml(*rule)) is not None}
    not_native = set(every) - native
    assert not_native == {
        ("mixName", 8, "Extended", "", ""), ("name", 1, "", "", ""), ("name", 2, "", "", ""),
        ("name", 8, "", "", ""), ("name", 9, "", "", ""), ("name", 10, "", "", ""),
        ("name", 11, "", "", ""), ("myTag", 8, "x", "", ""), ("myTag", 9, "x", "", ""),
        *(("albumArtist", op, value, "", "") for op in (10, 11)
          for value in TEXT_VALUES["albumArtist"]),
        *((prop, 6, "2", "", "month") for prop in DATE_VALUES),
        *((prop, 1, "abc", "", "") for prop in NUMBER_VALUES)}


def xml(prop: str, op: int, left: str, right: str, unit: str, logic: int = 1) -> str:
    from xml.sax.saxutils import quoteattr

    return (f'<NODE Id="-1" LogicalOperator="{logic}" AutomaticUpdate="0"><CONDITION '
            f'PropertyName="{prop}" Operator="{op}" ValueUnit="{unit}" '
            f"ValueLeft={quoteattr(left)} ValueRight={quoteattr(right)}/></NODE>")


LOADED = """
import json, sys
from cuepoint_tray.rekordbox import format_tree, open_library
library = open_library(sys.argv[1])
print(json.dumps({"tree": format_tree(library.root),
                  "loaded": sorted(m for m in ("pyrekordbox", "sqlalchemy") if m in sys.modules)}))
"""


def read_in_a_new_process(library: Path) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", LOADED, str(library)], capture_output=True,
                          text=True, timeout=120, check=True)
    loaded: dict[str, Any] = json.loads(done.stdout)
    return loaded


@pytest.fixture(scope="module")
def common_rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Intelligent playlists a DJ makes: a genre, added in the last 30 days, a rating, a
    My Tag, a label or an artist (OR), a BPM range."""
    require(REAL / "master_locked.db")
    from pyrekordbox.masterdb.smartlist import SmartList

    out = tmp_path_factory.mktemp("common") / "master.db"
    with LibraryBuilder(out) as build:
        ids = [build.track(f"Track {n}", f"Artist {n}", genre="Techno" if n % 2 else "House",
                           label=f"Label {n % 2}", bpm=120 + n) for n in range(6)]
        build.db.flush()
        for n, content_id in enumerate(ids):  # one added every 10 days, the last just now
            build.db.get_content(ID=content_id).created_at = NOW - timedelta(days=10 * n)
        build.intelligent("Techno", [("genre", 1, "Techno")])
        build.intelligent("Fresh", [("dateCreated", 6, "30")])  # unit set below
        build.intelligent("Label or artist", [("label", 1, "Label 0"), ("artist", 8, "3")],
                          match_all=False)
        build.db.flush()
        fresh = build.db.get_playlist(Name="Fresh").one()
        rules = SmartList()
        rules.parse(fresh.SmartList)
        rules.conditions[0].unit = "day"
        fresh.SmartList = rules.to_xml()
        smart = SmartList()
        smart.add_condition("rating", 3, "0")
        smart.add_condition("myTag", 9, "-1234")
        smart.add_condition("bpm", 5, "12000", "12300")
        build.db.create_smart_playlist("Rated, untagged, 120-123", smart)
    return out


def test_covered_rules_load_neither_pyrekordbox_nor_sqlalchemy(common_rules: Path) -> None:
    read = read_in_a_new_process(common_rules)
    assert read["loaded"] == []
    tree = [line for line in read["tree"] if "intelligent" in line]
    assert len(tree) == 4 and not any("cannot" in line for line in tree)
    assert "Techno  (intelligent, 3 tracks)" in read["tree"]
    expected = oracle(common_rules)
    got = ours(common_rules)
    assert {name: list(p.track_ids) for name, p in got.items()} == expected
    assert [len(expected[name] or ()) for name in ("Fresh", "Label or artist")] == [3, 4]


def test_a_rule_refused_as_always_loads_nothing_and_keeps_its_sentence(
        common_rules: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "master.db"
    shutil.copyfile(common_rules, copy)
    with LibraryBuilder.reopen(copy) as build:
        build.intelligent("Extended ones", [("genre", 1, "House"), ("mixName", 8, "Extended")])
    read = read_in_a_new_process(copy)
    assert read["loaded"] == []
    assert "Extended ones  (intelligent: CuePoint cannot evaluate its rules)" in read["tree"]
    refused = ours(copy)["Extended ones"].refused
    assert refused == ("'Extended ones' is an intelligent playlist and CuePoint cannot evaluate "
                       "its rule on “mixName”: copy its tracks into a normal playlist in "
                       "Rekordbox (select all, drag) and match that one")
    assert oracle(copy)["Extended ones"] == "CuePoint cannot evaluate its rule on “mixName”"


def test_an_uncovered_rule_still_goes_to_pyrekordbox(common_rules: Path,
                                                     tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "master.db"
    shutil.copyfile(common_rules, copy)
    with LibraryBuilder.reopen(copy) as build:
        build.intelligent("Named house", [("genre", 1, "House"), ("name", 2, "")])
    read = read_in_a_new_process(copy)
    assert read["loaded"] == ["pyrekordbox", "sqlalchemy"]
    named_house = oracle(copy)["Named house"]  # an empty value: pyrekordbox's IS NOT NULL
    assert isinstance(named_house, list) and len(named_house) == 3
    assert list(ours(copy)["Named house"].track_ids) == named_house


@pytest.mark.parametrize("rules, why", [
    ("", "its rules cannot be read (ParseError)"),
    ('<NODE Id="1" LogicalOperator="1" AutomaticUpdate="0"><CONDITION PropertyName="genre" '
     'Operator="1" ValueLeft="x" ValueRight=""/></NODE>', "its rules cannot be read (KeyError)"),
    ('<NODE Id="1" LogicalOperator="1" AutomaticUpdate="0"><CONDITION PropertyName="tempo" '
     'Operator="1" ValueUnit="" ValueLeft="x" ValueRight=""/></NODE>',
     "its rules cannot be read (ValueError)"),
    ('<NODE Id="1" LogicalOperator="1" AutomaticUpdate="0"><CONDITION PropertyName="dateCreated" '
     'Operator="6" ValueUnit="month" ValueLeft="2" ValueRight=""/></NODE>',
     "CuePoint cannot evaluate its rule on “dateCreated” in the last months"),
])
def test_rules_that_cannot_be_read_keep_their_sentences(common_rules: Path, tmp_path: Path,
                                                        rules: str, why: str) -> None:
    import shutil

    copy = tmp_path / "master.db"
    shutil.copyfile(common_rules, copy)
    with LibraryBuilder.reopen(copy) as build:
        build.db.get_playlist(Name="Techno").one().SmartList = rules
    assert intelligent.track_query(rules) is None
    assert ours(copy)["Techno"].refused == (
        f"'Techno' is an intelligent playlist and {why}: copy its tracks into a normal "
        "playlist in Rekordbox (select all, drag) and match that one")


def test_the_real_rekordbox_file_agrees_with_pyrekordbox() -> None:
    """The real master.db Rekordbox 6 wrote holds no intelligent playlist today (so the
    builder's copies above are the real check); if it gains one, it is compared too."""
    real = require(REAL / "master_locked.db")
    expected, got = oracle(real), ours(real)
    assert set(got) == set(expected)
    for name, wanted in expected.items():
        if isinstance(wanted, str):
            assert wanted in got[name].refused
        else:
            assert list(got[name].track_ids) == wanted
