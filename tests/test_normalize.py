import pytest

from cuepoint_tray.matching.normalize import (
    artist_names,
    fold,
    parse_version,
    split_artists,
    split_filename_style,
    split_title,
)


@pytest.mark.parametrize(("text", "folded"), [
    ("Mr. Núñez", "mr nunez"),
    ("Mœbius Ølbaek", "moebius olbaek"),
    ("ANAÏS  HART", "anais hart"),
    ("Łukasz Straße", "lukasz strasse"),
    ("Rock’n’Roll", "rock n roll"),
])
def test_fold_removes_case_accents_and_punctuation(text, folded):
    assert fold(text) == folded


@pytest.mark.parametrize(("mix", "kind", "credit", "extended", "edit"), [
    ("", "original", "", False, False),
    ("Original Mix", "original", "", False, False),
    ("Original", "original", "", False, False),
    ("Extended Mix", "extended", "", True, False),
    ("Ext. Mix", "extended", "", True, False),
    ("Extended Version", "extended", "", True, False),
    ("Radio Edit", "radio", "", False, True),
    ("Radio", "radio", "", False, True),
    ("Club Mix", "club", "", False, False),
    ("Dub", "dub", "", False, False),
    ("Instrumental Mix", "instrumental", "", False, False),
    ("Paul Sato Remix", "remix", "paul sato", False, False),
    ("Paul Sato Rmx", "remix", "paul sato", False, False),
    ("Adam & Max Remix Edit", "remix", "adam max", False, True),
    ("Yann Brandt Extended Remix", "remix", "yann brandt", True, False),
    ("Kai Mohr Dub", "dub", "kai mohr", False, False),
    ("Lady Deltar Rework", "rework", "lady deltar", False, False),
])
def test_mix_names_read_as_versions(mix, kind, credit, extended, edit):
    version = parse_version(mix)
    assert (version.kind, version.credit, version.extended, version.edit) == (
        kind, credit, extended, edit)
    assert version.stated == bool(mix)


@pytest.mark.parametrize(("name", "title", "mix", "featured", "label"), [
    ("06 - Black Tears (Original Mix)", "black tears", "Original Mix", (), ""),
    ("6. Falling (Radio Edit)", "falling", "Radio Edit", (), ""),
    ("A1 Deep Water", "deep water", "", (), ""),
    ("Aurora Lucid (Extended Mix) [Åberg Sounds]", "aurora lucid", "Extended Mix", (),
     "Åberg Sounds"),
    ("Chaos Before Space Body feat. Anja Rønning", "chaos before space body", "", ("Anja Rønning",),
     ""),
    ("Rêve Moment Call feat. Milo Gallo (Paul Sato Remix)", "reve moment call", "Paul Sato Remix",
     ("Milo Gallo",), ""),
    ("Moon (feat. Alba Vale) [Extended Mix]", "moon", "Extended Mix", ("Alba Vale",), ""),
    ("2 Become 1", "2 become 1", "", (), ""),
])
def test_titles_come_apart_into_work_version_feat_and_label(name, title, mix, featured, label):
    parts = split_title(name)
    assert (parts.title, parts.mix, parts.featured, parts.bracket_label) == (
        title, mix, featured, label)


def test_a_stripped_track_number_keeps_the_unstripped_reading():
    assert "06 black tears" in split_title("06 - Black Tears").variants


@pytest.mark.parametrize(("artist", "names"), [
    ("Milo Frost Feat. Alba Vale", ["Milo Frost", "Alba Vale"]),
    ("Amir & Leon ft. Mr. Gallo", ["Amir", "Leon", "Mr. Gallo"]),
    ("A, B & C vs. D and E; F", ["A", "B", "C", "D", "E", "F"]),
    ("Noisia x Mefjus", ["Noisia", "Mefjus"]),
])
def test_artist_separators(artist, names):
    assert split_artists(artist) == names


def test_artist_names_compare_the_same_whatever_the_grouping():
    typed = artist_names(["Lady Arkadia, Lady Weber & Marco & Zara"])
    listed = artist_names(["Lady Arkadia", "Lady Weber", "Marco & Zara"])
    assert set(typed) == set(listed)
    assert artist_names(["M.r West"]) == artist_names(["Mr. West"]) == ("mr west",)
    assert artist_names(["The Zenith"]) == ("zenith",)


@pytest.mark.parametrize(("name", "expected"), [
    ("Enzo Fink, Leon & Milo - Body (Hana Storm Remix)",
     ("Enzo Fink, Leon & Milo", "Body (Hana Storm Remix)")),
    ("Obsidian5 - Empire Spirit Aurora", ("Obsidian5", "Empire Spirit Aurora")),
    ("06 - Black Tears", None),
    ("No Separator Here", None),
])
def test_file_name_style_titles(name, expected):
    assert split_filename_style(name) == expected
