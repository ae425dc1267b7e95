"""Normalisation: turn what a DJ typed, and what Beatport lists, into comparable parts.

Everything here is a pure function of strings, so it is tested table by table.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
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
_ARTIST_SEPARATORS = re.compile(r"\s*(?:,|;|/|&|\+|\bx\b|\bvs\.?|\band\b)\s*", re.IGNORECASE)
_NOISE_PREFIX = re.compile(r"^\s*(?:\d{1,3}\s*[-.)_]\s*|\d{1,3}\s+-\s+|[A-H][1-9]\s+)(?=\S)")
_GROUP = re.compile(r"\s*([(\[])([^()\[\]]*)[)\]]")
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


@lru_cache(maxsize=65536)
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
    return Version(main, " ".join(credit), extended, edit, True)


def _main_kind(kinds: list[tuple[str, int]]) -> tuple[str, int]:
    """The kind that defines the version: a remix beats 'extended' in 'X Extended Remix'."""
    ranked = ("remix", "rework", "vip", "dub", "instrumental", "acapella", "vocal", "live",
              "reprise", "club", "radio", "extended", "remaster", "original")
    found = {kind for kind, _ in kinds}
    main = next(kind for kind in ranked if kind in found)
    return main, min(i for _, i in kinds)


@dataclass(frozen=True, slots=True)
class TitleParts:
    """A title split into the work's name, its version, featured artists and a bracketed label."""

    title: str  # folded work title, no mix, no feat., no label
    variants: tuple[str, ...]  # other readings of the title (with a numeric prefix kept, ...)
    mix: str  # the raw version text found in the title ("" when none)
    featured: tuple[str, ...]
    bracket_label: str  # text in square brackets that is not a version, e.g. "[Åberg Sounds]"


def split_title(name: str) -> TitleParts:
    """Take a Rekordbox or Beatport title apart."""
    text = name.strip()
    featured: list[str] = []
    mixes: list[str] = []
    bracket_label = ""
    kept: list[str] = []
    cursor = 0
    for group in _GROUP.finditer(text):
        kept.append(text[cursor:group.start()])
        cursor = group.end()
        opener, inner = group.group(1), group.group(2).strip()
        feat = _FEAT_IN_TITLE.match(inner) or re.match(rf"{_FEAT}\s+(.+)$", inner, re.I)
        if feat:
            featured.extend(split_artists(feat.group(1)))
        elif _VERSION_WORDS.search(inner):
            mixes.append(inner)
        elif opener == "[":
            bracket_label = inner
        else:
            kept.append(f" {inner} ")
    kept.append(text[cursor:])
    core = " ".join("".join(kept).split())
    trailing_feat = _FEAT_IN_TITLE.search(core)
    if trailing_feat:
        featured.extend(split_artists(trailing_feat.group(1)))
        core = core[:trailing_feat.start()]
    stripped = _NOISE_PREFIX.sub("", core)
    variants = tuple(v for v in {fold(core)} if v and stripped != core)
    return TitleParts(fold(stripped) or fold(core), variants, " ".join(mixes),
                      tuple(featured), bracket_label)


def split_artists(text: str) -> list[str]:
    """Split an artist field on feat./ft., commas, '&', 'x', 'vs.', 'and', ';' and '/'.

    Names such as 'Ines & Hana' are split too; matching compares the words of all artists,
    so a split inside a name costs nothing.
    """
    parts: list[str] = []
    for chunk in _FEAT_SPLIT.split(text):
        parts.extend(p.strip() for p in _ARTIST_SEPARATORS.split(chunk))
    return [p for p in parts if p and fold(p)]


def split_filename_style(name: str) -> tuple[str, str] | None:
    """'Artist - Title (Mix)' typed into the title with no artist: return (artist, title)."""
    match = re.match(r"^\s*(.+?)\s+[-–—]\s+(.+)$", name)
    if not match:
        return None
    artist, title = match.group(1), match.group(2)
    if re.fullmatch(r"\d{1,3}|[A-H][1-9]", artist.strip()):  # "01 - Title" is a track number
        return None
    return artist, title


_NAME_FILLER = frozenset({"the", "feat", "ft", "featuring", "and", "x", "vs", "with"})


def artist_names(names: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Folded artist names, split the same way on both sides so that 'Marco & Zara' as one
    Beatport artist and 'Marco', 'Zara' typed by the DJ compare equal.

    Dots are dropped rather than spaced ('M.r West', 'Mr. West' -> 'mr west') and 'The' is
    ignored ('The Zenith' ~ 'Zenith').
    """
    folded = []
    for name in names:
        for part in split_artists(name):
            kept = [w for w in words(part.replace(".", "")) if w not in _NAME_FILLER]
            if kept:
                folded.append(" ".join(kept))
    return tuple(dict.fromkeys(folded))
