import pytest

from cuepoint_tray.keys import camelot_of, parse_key


@pytest.mark.parametrize(("spelling", "camelot", "beatport", "rekordbox"), [
    ("Am", "8A", "A Minor", "Am"),
    ("C", "8B", "C Major", "C"),
    ("F#m", "11A", "F# Minor", "F#m"),
    ("Dbm", "12A", "Db Minor", "Dbm"),
    ("Abm", "1A", "Ab Minor", "Abm"),
    ("B", "1B", "B Major", "B"),
    ("A# Minor", "3A", "Bb Minor", "Bbm"),  # search pages spell with sharps
    ("Eb Minor", "2A", "Eb Minor", "Ebm"),  # API v4 spells with flats
    ("Gb Major", "2B", "F# Major", "F#"),
    ("8A", "8A", "A Minor", "Am"),
    ("12b", "12B", "E Major", "E"),
])
def test_every_spelling_reads_as_the_same_key(spelling, camelot, beatport, rekordbox):
    key = parse_key(spelling)
    assert key is not None
    assert (key.camelot, key.beatport_name, key.rekordbox_name) == (camelot, beatport, rekordbox)


@pytest.mark.parametrize("text", ["", None, "H", "13A", "Am7", "unknown"])
def test_unreadable_keys_give_nothing(text):
    assert parse_key(text) is None
    assert camelot_of(text) == ""


def test_camelot_wheel_is_complete_and_unique():
    codes = {parse_key(f"{n}{letter}").camelot for n in range(1, 13) for letter in "AB"}
    assert len(codes) == 24
