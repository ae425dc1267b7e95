"""Normalisation: turn what a DJ typed, and what Beatport lists, into comparable parts.

Everything here is a pure function of strings, so it is tested table by table.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

# Letters that Unicode does not decompose into a base letter and a mark.
_FOLD = str.maketrans({
    "ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ß": "ss", "ł": "l",
    "Ł": "l", "đ": "d", "Đ": "d", "þ": "th", "Þ": "th", "ð": "d", "ı": "i", "’": "'",
    "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-",
})
_NON_WORD = re.compile(r"[^\w]+")
_FEAT = r"(?:feat\.?|ft\.?|featuring|with)"
_FEAT_SPLIT = re.compile(rf"\s+{_FEAT}\s+", re.IGNORECASE)
_FEAT_IN_TITLE = re.compile(rf"\s*[(\[]?\s*\b{_FEAT}\s+([^()\[\]]+?)\s*[)\]]?\s*$", re.IGNORECASE)
# Lists of names, and words that join two names ("x" only between two names: "Percy X" is
# one artist, "Noisia x Mefjus" two, "Percy X x Soraya" two).
_LIST_SEPARATORS = re.compile(r"\s*[,;/]\s*")
_JOINERS = re.compile(r"\s*(?:&|\+|\bvs\b\.?|\band\b)\s*|\s+x\s+(?!x\s)", re.IGNORECASE)
_NOISE_PREFIX = re.compile(r"^\s*(?:\d{1,3}\s*[-.)_]\s*|\d{1,3}\s+-\s+|[A-H][1-9]\s+)(?=\S)")
# A track number before a file name: "07 - ", "07. ", "A1 - ", "07 " when zero-padded.
_TRACK_NUMBER = re.compile(r"^\s*(?:(?:\d{1,3}|[A-H][1-9])\s*[-.)_]\s*|0\d\s+)(?=\S)")
_VERSION_WORDS = re.compile(
    r"\b(mix|remix|edit|dub|version|rework|bootleg|vip|instrumental|acapella|rmx|remaster(?:ed)?"
    r"|extended|radio|club|vocal|original|live|reprise|refix|flip|re-?edit)\b", re.IGNORECASE)

# Words that name a version; what stands before them in a mix name is the remixer's credit.
_KIND_WORDS: dict[str, str] = {
    "remix": "remix", "rmx": "remix", "rework": "rework", "refix": "rework", "flip": "rework",
    "bootleg": "rework", "reedit": "rework", "re-edit": "rework", "vip": "vip",
    "dub": "dub", "instrumental": "instrumental", "acapella": "acapella", "vocal": "vocal",
    "club": "club", "extended": "extended", "ext": "extended", "radio": "radio",
    "live": "live", "reprise": "reprise", "original": "original", "remaster": "remaster",
    "remastered": "remaster",
}
_FILLER = {"mix", "version", "edit", "the", "s", "'s"}
# Kinds that are a different recording from the original, not just a longer or shorter cut.
DISTINCT_KINDS = frozenset({"dub", "instrumental", "acapella", "vocal", "live", "reprise", "vip"})


def fold(text: str) -> str:
    """Lower case, accents removed, punctuation to single spaces: 'Mr. Núñez' -> 'mr nunez'."""
    return _fold_cached(text)


# The words met again and again (genres, labels, artists in flight) stay; at 65,536 the cache
# kept growing over a session's first 1,500 tracks (scripts/bench_session_memory.py).
@lru_cache(maxsize=4096)
def _fold_cached(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", bare.casefold()).replace("_", " ").strip()


def words(text: str) -> list[str]:
    return fold(text).split()


@dataclass(frozen=True, slots=True)
class Version:
    """What a mix name says: its kind, the remixer's credit, and whether it is extended/edited."""

    kind: str  # "original", "extended", "radio", "club", "remix", "rework", "dub", ...
    credit: str = ""  # folded remixer name(s), "" when none
    extended: bool = False
    edit: bool = False
    stated: bool = False  # False when nothing at all was said about the version
    # Kinds that make another recording, wherever they stand: "Four Tet Remix Instrumental"
    # is not "Four Tet Remix", "Gomi Vocal Dub Mix" not "Gomi Vocal Club Mix".
    marks: frozenset[str] = frozenset()

    @property
    def is_credited(self) -> bool:
        return bool(self.credit)


ORIGINAL_UNSTATED = Version("original")


def parse_version(mix: str) -> Version:
    """Read a mix name such as 'Extended Mix', 'Ext. Mix', 'Paul Sato Remix Edit', 'Kai Dub'."""
    tokens = words(mix)
    if not tokens:
        return ORIGINAL_UNSTATED
    kinds = [(_KIND_WORDS[t], i) for i, t in enumerate(tokens) if t in _KIND_WORDS]
    extended = any(kind == "extended" for kind, _ in kinds)
    edit = "edit" in tokens or any(kind == "radio" for kind, _ in kinds)
    if not kinds:
        only_filler = all(t in _FILLER for t in tokens)
        kind = "radio" if tokens == ["edit"] else ("original" if only_filler else "other")
        return Version(kind, "" if only_filler else " ".join(tokens), False, edit, True)
    main, first_at = _main_kind(kinds)
    credit = [t for t in tokens[:first_at] if t not in _FILLER]
    if main in ("extended", "radio", "club", "original", "remaster") and credit:
        main = "remix"  # "Paul Sato Extended" names a remixer without saying "remix"
    marks = frozenset(kind for kind, _ in kinds if kind in DISTINCT_KINDS)
    return Version(main, " ".join(credit), extended, edit, True, marks)


def _main_kind(kinds: list[tuple[str, int]]) -> tuple[str, int]:
    """The kind that defines the version: a remix beats 'extended' in 'X Extended Remix'."""
    ranked = ("remix", "rework", "vip", "dub", "instrumental", "acapella", "vocal", "live",
              "reprise", "club", "radio", "extended", "remaster", "original")
    found = {kind for kind, _ in kinds}
    main = next(kind for kind in ranked if kind in found)
    return main, min(i for _, i in kinds)


@dataclass(frozen=True, slots=True)
class LooseGroup:
    """Words in brackets, or after a last " - ", that hold no version word and no feat.: part
    of the title ("Go Baby Go"), or a mix name only a candidate can tell ("RPO Part 1")."""

    text: str  # as typed, without its brackets
    title: str  # the folded title read without these words


@dataclass(frozen=True, slots=True)
class TitleParts:
    """A title split into the work's name, its version, featured artists and a bracketed label."""

    title: str  # folded work title, no mix, no feat., no label
    variants: tuple[str, ...]  # other readings of the title (with a numeric prefix kept, ...)
    mix: str  # the raw version text found in the title ("" when none)
    featured: tuple[str, ...]
    bracket_label: str  # text in square brackets that is not a version, e.g. "[Åberg Sounds]"
    loose: tuple[LooseGroup, ...] = ()


def split_title(name: str) -> TitleParts:
    """Take a Rekordbox or Beatport title apart.

    Bracketed groups are judged by what they say, wherever they stand: feat., a version word
    (read as the mix, nested brackets and all: "DJ Solo Mix (Dirty)"), or neither (kept in
    the title, and offered as a possible mix name). A last " - <words>" with a version word
    is the mix ("Left Behind - Original Mix")."""
    parts = _read_brackets(name.strip())
    core = " ".join("".join(parts.kept).split())
    stripped = _NOISE_PREFIX.sub("", core)
    number = core[:len(core) - len(stripped)]
    stripped = _read_dash(stripped, parts)
    trailing_feat = _FEAT_IN_TITLE.search(stripped)
    if trailing_feat:
        parts.featured.extend(split_artists(trailing_feat.group(1)))
        stripped = stripped[:trailing_feat.start()]
    title = fold(stripped) or fold(number)
    variants = (fold(number + stripped),) if number and stripped else ()
    loose = (_loose_group(text, title) for text in parts.loose)
    return TitleParts(title, variants, " ".join(parts.mixes), tuple(parts.featured),
                      parts.label, tuple(group for group in loose if group.title))


@dataclass
class _Reading:
    """What reading a title has found so far."""

    kept: list[str] = field(default_factory=list)  # the title's own words
    featured: list[str] = field(default_factory=list)
    mixes: list[str] = field(default_factory=list)
    loose: list[str] = field(default_factory=list)
    label: str = ""


def _read_brackets(text: str) -> _Reading:
    parts = _Reading()
    for piece, opener in _bracket_groups(text):
        inner = piece.strip()
        feat = (_FEAT_IN_TITLE.match(inner) or re.match(rf"{_FEAT}\s+(.+)$", inner, re.I)
                if opener else None)
        if not opener:
            parts.kept.append(piece)
        elif feat:
            parts.featured.extend(split_artists(feat.group(1)))
        elif _VERSION_WORDS.search(inner):
            parts.mixes.append(inner)
        elif inner:
            parts.loose.append(inner)
            if opener == "[":
                parts.label = inner
            else:
                parts.kept.append(f" {inner} ")
    return parts


def _read_dash(text: str, parts: _Reading) -> str:
    """The text without a mix typed after a dash; words after a dash that name no version
    stay in the title and may be a mix name too."""
    before, tail = _last_dash(text)
    if tail and _VERSION_WORDS.search(tail):
        parts.mixes.append(tail)
        return before
    if tail:
        parts.loose.append(tail)
        return f"{before} {tail}"
    return text


def _last_dash(text: str) -> tuple[str, str]:
    """The text before a " - " and the words after it ("" when there is none): the first
    dash followed by a version word ("Bullet In The Gun - Adam Ellis Remix - Exclusive Bonus
    Track"), else the last one ("Mambo No. 5 - A Little Bit Of...")."""
    dashes = list(_DASH.finditer(text))
    for dash in dashes:
        if fold(text[:dash.start()]) and _VERSION_WORDS.search(text[dash.end():]):
            return text[:dash.start()], text[dash.end():]
    if dashes and fold(text[:dashes[-1].start()]) and fold(text[dashes[-1].end():]):
        return text[:dashes[-1].start()], text[dashes[-1].end():]
    return text, ""


_DASH = re.compile(r"\s+[-–—]\s+")


def _bracket_groups(text: str) -> list[tuple[str, str]]:
    """The text cut at its outermost brackets: (piece, opener), opener "" between groups.

    Nested brackets stay inside their group; a group left open at the end (a cut-off tag)
    runs to the end."""
    pieces: list[tuple[str, str]] = []
    depth, start, opener = 0, 0, ""
    for at, char in enumerate(text):
        if char in "([":
            if depth == 0:
                pieces.append((text[start:at], ""))
                start, opener = at + 1, char
            depth += 1
        elif char in ")]" and depth:
            depth -= 1
            if depth == 0:
                pieces.append((text[start:at], opener))
                start = at + 1
    pieces.append((text[start:], opener if depth else ""))
    return [(piece, kind) for piece, kind in pieces if piece or kind]


def _loose_group(text: str, title: str) -> LooseGroup:
    words, group = title.split(), fold(text).split()
    for at in range(len(words) - len(group), -1, -1):  # the last place the words stand
        if words[at:at + len(group)] == group:
            return LooseGroup(text, " ".join(words[:at] + words[at + len(group):]))
    return LooseGroup(text, title)  # a square-bracketed group is not in the title


def split_artists(text: str, keep: frozenset[str] = frozenset()) -> list[str]:
    """Split an artist field on feat./ft., commas, '&', 'x', 'vs.', 'and', ';' and '/'.

    Names such as 'Ines & Hana' are split too; matching compares the words of all artists,
    so a split inside a name costs nothing. A name whose folded form is in `keep` (a name a
    candidate lists whole, 'Precious X Project') is not split; 'x' separates only two names.
    """
    parts: list[str] = []
    for chunk in _FEAT_SPLIT.split(text):
        for item in _LIST_SEPARATORS.split(chunk.strip()):
            if fold(item) in keep:
                parts.append(item.strip())
            else:
                parts.extend(p.strip() for p in _JOINERS.split(item.strip()))
    return [p for p in parts if p and fold(p)]


def joined_names(names: list[str] | tuple[str, ...]) -> frozenset[str]:
    """The folded names among `names` that splitting would cut ('above beyond')."""
    return frozenset(fold(item) for name in names for chunk in _FEAT_SPLIT.split(name)
                     for item in _LIST_SEPARATORS.split(chunk.strip())
                     if len(split_artists(item)) > 1)


def split_filename_style(name: str) -> tuple[str, str] | None:
    """'Artist - Title (Mix)' typed into the title with no artist: return (artist, title).

    A track number before it goes ('07 - Molemen, PNS - No Axe'); 'Title - Extended Mix' and
    '01 - Title' are no file names."""
    text = _TRACK_NUMBER.sub("", name)
    match = re.match(r"^\s*(.+?)\s+[-–—]\s+(.+)$", text)
    if not match:
        return None
    artist, title = match.group(1), match.group(2)
    if re.fullmatch(r"\d{1,3}|[A-H][1-9]", artist.strip()) or _only_version(title):
        return None
    return artist, title


def strip_artist_prefix(name: str, artist: str) -> str:
    """The title without a track number and the artist typed before it:
    'Loom In Essence - Algo Rhythm' with the artist 'Loom In Essence' -> 'Algo Rhythm'."""
    split = split_filename_style(name)
    if split is None or not artist.strip():
        return name
    typed, title = split
    if _ends_as_a_mix(title):
        return name  # "Pompero - Forseco Remix": the dash comes before the mix
    names = set(artist_names([typed]))
    return title if names and names <= set(artist_names([artist])) else name


def _ends_as_a_mix(text: str) -> bool:
    """No bracketed group, and a version word last: 'Forseco Remix', not 'Dub Track'."""
    last = words(text)[-1:]
    return "(" not in text and "[" not in text and bool(last) and bool(
        _VERSION_WORDS.fullmatch(last[0]))


def _only_version(text: str) -> bool:
    """Whether `text` says nothing but a version: 'Extended Mix', 'Original'."""
    version = parse_version(text)
    return version.kind != "other" and not version.credit and all(
        t in _KIND_WORDS or t in _FILLER for t in words(text))


_NAME_FILLER = frozenset({"the", "feat", "ft", "featuring", "and", "vs", "with"})


def artist_names(names: list[str] | tuple[str, ...],
                 keep: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """Folded artist names, split the same way on both sides so that 'Marco & Zara' as one
    Beatport artist and 'Marco', 'Zara' typed by the DJ compare equal.

    Dots are dropped rather than spaced ('M.r West', 'Mr. West' -> 'mr west') and 'The' is
    ignored ('The Zenith' ~ 'Zenith'). Names in `keep` stay whole (see `split_artists`).
    """
    folded = []
    for name in names:
        for part in split_artists(name, keep):
            kept = [w for w in words(part.replace(".", "")) if w not in _NAME_FILLER]
            if kept:
                folded.append(" ".join(kept))
    return tuple(dict.fromkeys(folded))
