"""Scoring: how alike a Rekordbox track and a Beatport track are, in named, weighted parts.

Each component is added only when both sides have the data. A few differences are not a
matter of degree but of identity (another title, other artists, another remix): those are
vetoes, and a vetoed candidate is never accepted however well the rest agrees.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from rapidfuzz import fuzz
from rapidfuzz.distance import Indel

from cuepoint_tray.domain import Component
from cuepoint_tray.matching.normalize import Version, artist_names, fold
from cuepoint_tray.matching.profile import Profile

WEIGHTS: dict[str, float] = {
    "title": 3.0,
    "artists": 3.0,
    "version": 2.0,
    "duration": 2.5,
    "bpm": 1.0,
    "key": 0.5,
    "year": 0.75,
    "label": 1.0,
    "release": 0.5,
}
TITLE_VETO = 0.75  # below this the titles name another work
ARTIST_VETO = 0.5  # below this too few of the DJ's artist words are on the Beatport track
WORD_MATCH = 0.8  # two words count as the same name from this similarity (typos)
MIX_MATCH = 0.9  # a bracketed group names the candidate's mix from this similarity
REMIX_KINDS = frozenset({"remix", "rework"})

Outcome = tuple[float, str] | None  # similarity and detail; None when a side lacks the data


def score(dj: Profile, store: Profile) -> tuple[float, tuple[Component, ...], tuple[str, ...]]:
    """Compare the DJ's track with a Beatport track: (score 0..1, components, vetoes)."""
    dj = read_against(dj, store)
    components: list[Component] = []
    for name, compare in _COMPARISONS:
        outcome = compare(dj, store)
        if outcome is not None:
            similarity, detail = outcome
            components.append(Component(name, round(similarity, 4), WEIGHTS[name], detail))
    total_weight = sum(c.weight for c in components)
    total = sum(c.similarity * c.weight for c in components) / total_weight
    return round(total, 4), tuple(components), _vetoes(dj, store, components)


def read_against(dj: Profile, store: Profile) -> Profile:
    """The DJ's track read in the light of one candidate.

    What the DJ typed can only be told apart with a candidate at hand: a bracketed group with
    no version word is the mix when it names this candidate's mix or remixer ("Illusion (RPO
    Part 1)"), and a bare "(Remix)" is by the candidate's remixer when the DJ typed that
    remixer among the artists ("Aleksus Sanchez, Teezy Milhoan"). A name typed exactly as
    sold is read as the store reads it, however untidy ("Worst Nightmare (Acapella) (Original
    Mix)")."""
    if dj.typed and dj.typed == store.typed:
        return replace(dj, title=store.title, title_variants=store.title_variants,
                       version=store.version, mix=store.mix)
    if not dj.version.stated:
        for group in dj.loose:
            if names_the_mix(group.text, store):
                label = "" if dj.label == fold(group.text) else dj.label
                return replace(dj, title=group.title, title_variants=(), version=store.version,
                               mix=store.mix, label=label)
    if is_bare_remix(dj.version) and store.version.is_credited and _remixer_typed(dj, store):
        return replace(dj, version=replace(dj.version, credit=store.version.credit))
    return dj


def names_the_mix(text: str, store: Profile) -> bool:
    """Whether words the DJ typed name the candidate's mix, or its remixer(s)."""
    typed = fold(text)
    if not typed or not store.mix:
        return False
    if Indel.normalized_similarity(typed, store.mix) >= MIX_MATCH:
        return True
    names = artist_names([text])
    return bool(names and store.remixer_names) and _name_coverage(
        names, store.remixer_names) >= MIX_MATCH


def is_bare_remix(version: Version) -> bool:
    """A remix the DJ named without its remixer: "(Remix)", "(Extended Remix)"."""
    return version.stated and version.kind in REMIX_KINDS and not version.is_credited


def is_remix(store: Profile) -> bool:
    """A remix by someone: Beatport calls it one, or lists its remixers."""
    return store.version.kind in REMIX_KINDS or bool(store.remixer_names)


def _remixer_typed(dj: Profile, store: Profile) -> bool:
    remixers = store.remixer_names or artist_names([store.version.credit])
    return bool(remixers) and _name_coverage(remixers, dj.artist_names) >= 0.6


def doubt(dj: Profile, store: Profile) -> str:
    """Why a candidate that no veto rules out still needs the DJ's eye, or "" when none.

    A remix for a title that names no mix, or someone's version for a bare "(Remix)", is
    accepted only on strong evidence beyond the title: the length within one whole second,
    and the label or the year agreeing."""
    dj = read_against(dj, store)
    if dj.version.is_credited or _strong_evidence(dj, store):
        return ""
    credit = store.version.credit or ", ".join(store.remixer_names) or "someone"
    if not dj.version.stated and is_remix(store):
        return f"a remix by {credit}, and your title names no mix"
    if is_bare_remix(dj.version) and store.version.is_credited:
        return f"a version by {credit}, and your title does not say whose"
    return ""


def _strong_evidence(dj: Profile, store: Profile) -> bool:
    if dj.duration_s is None or store.duration_s is None:
        return False
    # Rekordbox keeps whole seconds: "within 1 s" is one whole second either way.
    if abs(round(dj.duration_s) - round(store.duration_s)) > 1:
        return False
    label = _label(dj, store)
    same_year = dj.year is not None and dj.year == store.year
    return same_year or (label is not None and label[0] >= 0.85)


def _vetoes(dj: Profile, store: Profile, components: list[Component]) -> tuple[str, ...]:
    by_name = {c.name: c for c in components}
    reasons = []
    if by_name["title"].similarity < TITLE_VETO:
        reasons.append("another title")
    if "artists" in by_name and by_name["artists"].similarity < ARTIST_VETO:
        reasons.append("other artists")
    conflict = version_conflict(dj.version, store.version)
    if conflict:
        reasons.append(conflict)
    return tuple(reasons)


def _title(dj: Profile, store: Profile) -> Outcome:
    best = max(
        (Indel.normalized_similarity(a, b), a, b)
        for a in (dj.title, *dj.title_variants)
        for b in (store.title, *store.title_variants)
    )
    return best[0], f"'{best[1]}' vs '{best[2]}'"


def _artists(dj: Profile, store: Profile) -> Outcome:
    if not dj.artist_names or not store.artist_names:
        return None
    # The DJ's artists should all be on Beatport's track (a remixer typed as an artist too);
    # Beatport listing more artists than the DJ typed is common and costs less.
    dj_names, store_names = dj.artist_names, store.artist_names
    keep = dj.joined & store.joined
    if keep:  # "Precious X Project", "Above & Beyond": one name on both sides, not two
        dj_names = artist_names(dj.credits, keep)
        store_names = artist_names(store.credits, keep)
    found = _name_coverage(dj_names, store_names + store.remixer_names)
    listed = _name_coverage(store_names, dj_names + dj.remixer_names)
    detail = f"{', '.join(dj.artists)} vs {', '.join(store.artists)}"
    return 0.75 * found + 0.25 * listed, detail


def _name_coverage(wanted: tuple[str, ...], pool: tuple[str, ...]) -> float:
    """How many of the `wanted` names stand in `pool`, each graded by its best likeness."""
    if not pool:
        return 0.0
    return sum(max(name_similarity(name, other) for other in pool) for name in wanted) / len(
        wanted)


def name_similarity(a: str, b: str) -> float:
    """Two folded artist names, word by word: 'sveen quinn' ~ 'sven quinn' (a typo), but
    'omar brooks' is not 'alina brooks' (a shared surname is another person)."""
    if a == b or a.replace(" ", "") == b.replace(" ", ""):
        return 1.0
    words_a, words_b = a.split(), b.split()
    shorter, longer = sorted((words_a, words_b), key=len)
    total = 0.0
    for word in shorter:
        best = max(Indel.normalized_similarity(word, other) for other in longer)
        if best < WORD_MATCH:
            return 0.0
        total += best
    return total / len(longer)


def _word_coverage(wanted: frozenset[str], pool: frozenset[str]) -> float:
    """Share of `wanted` words found in `pool`, allowing for typos."""
    total = 0.0
    for word in wanted:
        if word in pool:
            total += 1.0
            continue
        best = max((Indel.normalized_similarity(word, other) for other in pool), default=0.0)
        total += best if best >= WORD_MATCH else 0.0
    return total / len(wanted)


def _version(dj: Profile, store: Profile) -> Outcome:
    similarity = version_similarity(dj.version, store.version)
    return similarity, f"{_describe(dj.version)} vs {_describe(store.version)}"


def version_similarity(dj: Version, store: Version) -> float:
    """How well two versions agree, 0..1 (conflicts are also reported as vetoes)."""
    if is_bare_remix(dj) and store.is_credited and store.kind in REMIX_KINDS:
        return 0.5  # the right kind; whose remix, the DJ did not say
    if dj.is_credited or store.is_credited:
        if not (dj.is_credited and store.is_credited):
            return 0.3 if not dj.stated else 0.0
        credit = _word_coverage(frozenset(dj.credit.split()), frozenset(store.credit.split()))
        same_kind = dj.kind == store.kind or {dj.kind, store.kind} <= {"remix", "rework"}
        cut = 1.0 if (dj.extended, dj.edit) == (store.extended, store.edit) else 0.7
        return credit * (1.0 if same_kind else 0.4) * cut
    if dj.kind == store.kind:
        return 1.0
    if not dj.stated:
        return _UNSTATED.get(store.kind, 0.2)
    if {dj.kind, store.kind} <= {"original", "extended", "club", "remaster"}:
        return 0.4
    return 0.2


# When the DJ said nothing about the version, how likely each Beatport version is theirs.
_UNSTATED = {"original": 1.0, "remaster": 0.9, "extended": 0.7, "club": 0.6, "radio": 0.6,
             "other": 0.4}


def version_conflict(dj: Version, store: Version) -> str:
    """Why two versions cannot be the same recording, or "" when they can."""
    if dj.is_credited and store.is_credited:
        credit = _word_coverage(frozenset(dj.credit.split()), frozenset(store.credit.split()))
        if credit < 0.6:
            return f"remix by {store.credit}, not by {dj.credit}"
    elif dj.is_credited:
        return f"not the remix by {dj.credit}"
    elif store.is_credited and dj.stated and not is_bare_remix(dj):
        return f"a remix by {store.credit}"
    elif is_bare_remix(dj) and store.kind not in REMIX_KINDS and not store.is_credited:
        return f"{_describe(store)}, not a remix"
    # A dub, an instrumental, a vocal mix... is another recording, whoever made it.
    if dj.marks != store.marks and (dj.stated or store.marks):
        return f"{_describe(store)}, not {_describe(dj)}"
    return ""


def _describe(version: Version) -> str:
    if not version.stated:
        return "original (no mix named)"
    if version.credit:
        return f"{version.credit} {version.kind}"
    return version.kind


def _duration(dj: Profile, store: Profile) -> Outcome:
    if dj.duration_s is None or store.duration_s is None:
        return None
    gap = abs(dj.duration_s - store.duration_s)
    similarity = 1.0 if gap <= 3 else max(0.0, 1 - (gap - 3) / 12)
    return similarity, f"{dj.duration_s:.0f} s vs {store.duration_s:.0f} s"


def _bpm(dj: Profile, store: Profile) -> Outcome:
    if not dj.bpm or not store.bpm:
        return None
    # Beatport lists some drum & bass at half tempo (86 for 172): compare both readings.
    gap = min(abs(dj.bpm - store.bpm * factor) for factor in (1, 2, 0.5))
    similarity = 1.0 if gap <= 1.0 else 0.6 if gap <= 2.5 else 0.2 if gap <= 5 else 0.0
    return similarity, f"{dj.bpm:g} vs {store.bpm:g}"


def _key(dj: Profile, store: Profile) -> Outcome:
    if dj.key is None or store.key is None:
        return None
    a, b = dj.key.camelot, store.key.camelot
    number_a, number_b = int(a[:-1]), int(b[:-1])
    steps = min((number_a - number_b) % 12, (number_b - number_a) % 12)
    if a == b:
        similarity = 1.0
    elif (steps == 0) or (steps == 1 and a[-1] == b[-1]):
        similarity = 0.5  # relative key, or a neighbour on the wheel: a common analysis slip
    else:
        similarity = 0.0
    return similarity, f"{a} vs {b}"


def _year(dj: Profile, store: Profile) -> Outcome:
    if dj.year is None or store.year is None:
        return None
    gap = abs(dj.year - store.year)
    return (1.0 if gap == 0 else 0.6 if gap == 1 else 0.0), f"{dj.year} vs {store.year}"


def _label(dj: Profile, store: Profile) -> Outcome:
    if not dj.label or not store.label:
        return None
    similarity = Indel.normalized_similarity(dj.label, store.label)
    if similarity < 0.85:
        # "Together" for "Together Records": one name inside the other counts for less.
        similarity = 0.7 if fuzz.token_set_ratio(dj.label, store.label) >= 99 else 0.0
    return similarity, f"{dj.label} vs {store.label}"


def _release(dj: Profile, store: Profile) -> Outcome:
    if not dj.album or not store.album:
        return None
    similarity = fuzz.token_set_ratio(dj.album, store.album) / 100
    return (similarity if similarity >= 0.8 else 0.0), f"{dj.album} vs {store.album}"


_COMPARISONS: tuple[tuple[str, Callable[[Profile, Profile], Outcome]], ...] = (
    ("title", _title),
    ("artists", _artists),
    ("version", _version),
    ("duration", _duration),
    ("bpm", _bpm),
    ("key", _key),
    ("year", _year),
    ("label", _label),
    ("release", _release),
)
