"""Musical keys in every spelling a DJ meets: musical ("F#m", "Bbmin", "A#min", "Amaj", "C"),
Beatport's names ("Gb Minor" / "F# Minor"), Camelot ("11A") and Open Key ("4m", "1d"), with
flats and sharps written as b/#, ♭/♯ or in words."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_PITCH = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
# The names Beatport's API v4 uses, by pitch class (flats, but F#).
_V4_NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
# Camelot number by pitch class; minor keys are "A", major keys "B".
_CAMELOT_MINOR = {8: 1, 3: 2, 10: 3, 5: 4, 0: 5, 7: 6, 2: 7, 9: 8, 4: 9, 11: 10, 6: 11, 1: 12}
_CAMELOT_MAJOR = {11: 1, 6: 2, 1: 3, 8: 4, 3: 5, 10: 6, 5: 7, 0: 8, 7: 9, 2: 10, 9: 11, 4: 12}

_NOTE_KEY = re.compile(
    r"^\s*([A-Ga-g])[\s-]*(#|♯|b|♭|sharp|flat)?[\s-]*"
    r"(m|min|minor|maj|major|M)?\s*$"
)
_CAMELOT = re.compile(r"^\s*(\d{1,2})\s*([ABab])\s*$")
# Open Key (Traktor, and Rekordbox 4 exports): 1d = C major, 1m = A minor, i.e. Camelot
# 8B / 8A; both wheels go round by fifths in the same direction.
_OPEN_KEY = re.compile(r"^\s*(\d{1,2})\s*([mdMD])\s*$")


@dataclass(frozen=True, slots=True)
class MusicalKey:
    pitch: int  # 0 = C … 11 = B
    minor: bool

    @property
    def camelot(self) -> str:
        table = _CAMELOT_MINOR if self.minor else _CAMELOT_MAJOR
        return f"{table[self.pitch]}{'A' if self.minor else 'B'}"

    @property
    def beatport_name(self) -> str:
        return f"{_V4_NAMES[self.pitch]} {'Minor' if self.minor else 'Major'}"

    @property
    def rekordbox_name(self) -> str:
        return _V4_NAMES[self.pitch] + ("m" if self.minor else "")

    @property
    def open_key(self) -> str:
        number = int(self.camelot[:-1])
        return f"{(number - 8) % 12 + 1}{'m' if self.minor else 'd'}"


@functools.lru_cache(maxsize=1024)  # a library spells its keys a few dozen ways
def parse_key(text: str | None) -> MusicalKey | None:
    """Read a key in any musical, Beatport, Camelot or Open Key spelling; None if unreadable.

    Read four times per track when a session is stored and reported (its key, Beatport's
    key name and Camelot code), so kept: the keys are frozen values."""
    if not text:
        return None
    camelot = _CAMELOT.match(text)
    if camelot:
        return _from_camelot(int(camelot.group(1)), camelot.group(2).upper())
    open_key = _OPEN_KEY.match(text)
    if open_key:
        number = int(open_key.group(1))
        if not 1 <= number <= 12:
            return None
        letter = "A" if open_key.group(2).lower() == "m" else "B"
        return _from_camelot((number + 6) % 12 + 1, letter)
    note = _NOTE_KEY.match(text.replace("Minor", "minor").replace("Major", "major"))
    if not note:
        return None
    letter, accidental, quality = note.groups()
    pitch = _PITCH[letter.upper()]
    if accidental in ("#", "♯", "sharp"):
        pitch += 1
    elif accidental in ("b", "♭", "flat"):
        pitch -= 1
    return MusicalKey(pitch % 12, quality in ("m", "min", "minor"))


def _from_camelot(number: int, letter: str) -> MusicalKey | None:
    table = _CAMELOT_MINOR if letter == "A" else _CAMELOT_MAJOR
    for pitch, camelot_number in table.items():
        if camelot_number == number:
            return MusicalKey(pitch, letter == "A")
    return None


def camelot_of(text: str | None) -> str:
    """The Camelot code of a key in any spelling, or "" when it cannot be read."""
    key = parse_key(text)
    return key.camelot if key else ""
