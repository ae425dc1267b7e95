import pytest

from cuepoint_tray.musical_keys import camelot_of, parse_key


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


@pytest.mark.parametrize(("spelling", "camelot"), [
    # musical, as taggers and Rekordbox write it
    ("Bbmin", "3A"), ("A#min", "3A"), ("Amaj", "11B"), ("Amin", "8A"), ("A minor", "8A"),
    ("F♯m", "11A"), ("E♭", "5B"), ("Db", "3B"), ("C#", "3B"), ("Gbm", "11A"),
    ("Bb Major", "6B"), ("A Minor", "8A"), ("Eb-minor", "2A"), ("bm", "10A"),
    # Open Key: 1d = C major, 1m = A minor, round by fifths
    ("1m", "8A"), ("1d", "8B"), ("2m", "9A"), ("5m", "12A"), ("6m", "1A"), ("12m", "7A"),
    ("8d", "3B"), ("12d", "7B"), ("4M", "11A"), ("01m", "8A"),
    # Camelot with a leading zero
    ("08A", "8A"),
])
def test_every_notation_a_dj_meets(spelling, camelot):
    key = parse_key(spelling)
    assert key is not None, spelling
    assert key.camelot == camelot


@pytest.mark.parametrize("text", ["13m", "0d", "1x", "Hm", "A##m"])
def test_impossible_open_keys_and_notes_give_nothing(text):
    assert parse_key(text) is None


def test_open_key_round_trips_over_the_whole_wheel():
    for number in range(1, 13):
        for letter in "md":
            key = parse_key(f"{number}{letter}")
            assert key is not None and key.open_key == f"{number}{letter}"
    assert parse_key("Am").open_key == "1m" and parse_key("C").open_key == "1d"
