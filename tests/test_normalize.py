import pytest

from cuepoint_tray.matching.normalize import (
    artist_names,
    fold,
    joined_names,
    parse_version,
    split_artists,
    split_filename_style,
    split_title,
    strip_artist_prefix,
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
    ("Remix", "remix", "", False, False),  # a bare remix: whose, the DJ did not say
    ("Extended Remix", "remix", "", True, False),
    ("DJ Solo Mix (Dirty)", "other", "dj solo mix dirty", False, False),
    ("RPO Part 1", "other", "rpo part 1", False, False),
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
    # the mix after a dash; a dash inside the mix stays in it
    ("Left Behind - Original Mix", "left behind", "Original Mix", (), ""),
    ("Better World – Extended Mix", "better world", "Extended Mix", (), ""),
    ("Bullet Gun - Ada Ellis Remix - Bonus Track", "bullet gun", "Ada Ellis Remix - Bonus Track",
     (), ""),
    ("Circus - Lotus - Mirror Water", "circus lotus mirror water", "", (), ""),
    # brackets read outermost first, nested groups whole, judged by what they hold
    ("Lions Forest (DJ Solo Mix (Dirty))", "lions forest", "DJ Solo Mix (Dirty)", (), ""),
    ("Into Vibe ([Ziggy's Bass Mix])", "into vibe", "[Ziggy's Bass Mix]", (), ""),
    ("Every Heart (Minna) feat. Kris Sa (Gomi Vocal Club Mix)", "every heart minna",
     "Gomi Vocal Club Mix", ("Kris Sa",), ""),
    ("Fade (Original Mix (Part I))", "fade", "Original Mix (Part I)", (), ""),
    ("Cut Off Tag (Extended Mi", "cut off tag", "Extended Mi", (), ""),
])
def test_titles_come_apart_into_work_version_feat_and_label(name, title, mix, featured, label):
    parts = split_title(name)
    assert (parts.title, parts.mix, parts.featured, parts.bracket_label) == (
        title, mix, featured, label)


def test_a_stripped_track_number_keeps_the_unstripped_reading():
    assert "06 black tears" in split_title("06 - Black Tears").variants


@pytest.mark.parametrize(("name", "text", "title_without"), [
    ("Illusion (RPO Part 1)", "RPO Part 1", "illusion"),
    ("Kiss Me (A Tribute to Soulja Boy Tell 'Em)", "A Tribute to Soulja Boy Tell 'Em", "kiss me"),
    ("Revolution (Drum & Bass)", "Drum & Bass", "revolution"),
    ("Illusion - RPO Part 1", "RPO Part 1", "illusion"),
    ("Aurora [Åberg Sounds]", "Åberg Sounds", "aurora"),
])
def test_groups_without_a_version_word_are_offered_as_possible_mix_names(name, text,
                                                                         title_without):
    parts = split_title(name)
    assert [(g.text, g.title) for g in parts.loose] == [(text, title_without)]


@pytest.mark.parametrize(("artist", "names"), [
    ("Milo Frost Feat. Alba Vale", ["Milo Frost", "Alba Vale"]),
    ("Amir & Leon ft. Mr. Gallo", ["Amir", "Leon", "Mr. Gallo"]),
    ("A, B & C vs. D and E; F", ["A", "B", "C", "D", "E", "F"]),
    ("Noisia x Mefjus", ["Noisia", "Mefjus"]),
    # a one-letter part is part of the name: "x" joins only two names
    ("Percy X", ["Percy X"]),
    ("X-Dream", ["X-Dream"]),
    ("Percy X x Sora Naoyin", ["Percy X", "Sora Naoyin"]),
    ("Monica X, Sora Naoyin", ["Monica X", "Sora Naoyin"]),
])
def test_artist_separators(artist, names):
    assert split_artists(artist) == names


def test_a_joined_name_a_candidate_lists_whole_stays_whole():
    assert joined_names(["Precious X Project, Libex"]) == {"precious x project"}
    assert split_artists("Precious X Project, Libex", frozenset({"precious x project"})) == [
        "Precious X Project", "Libex"]
    assert artist_names(["Percy X"]) == ("percy x",)  # the X is not dropped as filler


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
    ("07 - Molemen, PNS - No Axe (Instrumental)", ("Molemen, PNS", "No Axe (Instrumental)")),
    ("07. Molemen - No Axe", ("Molemen", "No Axe")),
    ("A2 - Molemen - No Axe", ("Molemen", "No Axe")),
    ("Left Behind - Original Mix", None),  # a mix after a dash, not an artist before one
    ("03 - Left Behind - Extended Mix", None),
])
def test_file_name_style_titles(name, expected):
    assert split_filename_style(name) == expected


@pytest.mark.parametrize(("name", "artist", "expected"), [
    ("Loom Essence - Algo Rhythm (Original Mix)", "Loom Essence", "Algo Rhythm (Original Mix)"),
    ("07 - Loom Essence - Algo Rhythm", "Loom Essence", "Algo Rhythm"),
    ("PNS, Molemen - No Axe", "Molemen & PNS", "No Axe"),
    ("Circus - Lotus", "Chibet", "Circus - Lotus"),  # not the artist: a title with a dash
    ("Left Behind - Original Mix", "Sole", "Left Behind - Original Mix"),
])
def test_the_artist_typed_before_the_title_goes(name, artist, expected):
    assert strip_artist_prefix(name, artist) == expected


@pytest.mark.parametrize(("mix", "marks"), [
    ("Four Tet Remix Instrumental", {"instrumental"}),
    ("Gomi Vocal Dub Mix", {"vocal", "dub"}),
    ("Gomi Vocal Club Mix", {"vocal"}),
    ("Original Mix", set()),
])
def test_marks_of_another_recording_are_read_anywhere_in_a_mix(mix, marks):
    assert parse_version(mix).marks == marks
