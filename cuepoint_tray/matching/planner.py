"""The query planner: for each track, an ordered list of searches from specific to relaxed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from cuepoint_tray.domain import Candidate
from cuepoint_tray.matching.profile import Profile
from cuepoint_tray.matching.scoring import ARTIST_VETO, TITLE_VETO

TEXT_QUERIES = frozenset({"full", "title_artist", "title"})
# Queries made of fewer of the first query's words, for when that one ranked the track low.
RELAXED_QUERIES = frozenset({"title_artist", "title"})


@dataclass(frozen=True, slots=True)
class PlannedQuery:
    type: str  # recorded with every query: "isrc", "full", "title_artist", "title"
    text: str


@dataclass(frozen=True, slots=True)
class Answer:
    """What one query sent for a track brought back, scored."""

    query: PlannedQuery
    candidates: tuple[Candidate, ...]  # every track it returned, seen before or not
    failed: bool = False


def plan_queries(profile: Profile) -> list[PlannedQuery]:
    """Searches to try in order; the matcher stops at the first that gives a sure match.

    1. full: every artist, the title and the version's own words (remixer, "extended"), so
       that full-text ranking puts the exact version first among many tracks sharing a title.
    2. title_artist: the first artist and the title, for when extra words pushed it down.
    3. title: the title and version alone, for misspelt or missing artists.
    """
    title = profile.display_title
    version = _version_words(profile)
    queries = [
        PlannedQuery("full", _join(*profile.artists, title, version)),
        PlannedQuery("title_artist", _join(profile.artists[0] if profile.artists else "", title)),
        PlannedQuery("title", _join(title, version)),
    ]
    unique: list[PlannedQuery] = []
    for query in queries:
        if query.text and query.text not in {q.text for q in unique}:
            unique.append(query)
    return unique


# CC-XXX-YY-NNNNN: country, registrant, year, designation (dashes and spaces dropped).
_ISRC = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}\d{7}$")


def isrc_query(isrc: str) -> PlannedQuery | None:
    """The exact look-up tried before any search when the track carries a well-formed ISRC.

    Its answer is scored like any search's, so a wrong ISRC in a tag cannot force a match."""
    code = "".join(isrc.split()).replace("-", "").upper()
    return PlannedQuery("isrc", code) if _ISRC.match(code) else None


def _version_words(profile: Profile) -> str:
    version = profile.version
    if version.credit:
        return f"{version.credit} {version.kind}"
    if version.kind in ("original", "other") or not version.stated:
        return ""
    return version.kind


def _join(*parts: str) -> str:
    return " ".join(" ".join(parts).split())


def worth_sending(query: PlannedQuery, answered: Sequence[Answer]) -> bool:
    """Whether `query` can still bring a candidate the queries already answered could not.

    A relaxed query searches fewer of the first text query's words. When that first query
    already returned the title only by other artists, or nothing close to the title, the
    store's ranking had every chance to put the DJ's track first: searching with fewer words
    can only return more of the same, so giving up there costs nothing. A failed or empty
    first answer says nothing, and the plan goes on."""
    if query.type not in RELAXED_QUERIES:
        return True
    first = next((a for a in answered if a.query.type in TEXT_QUERIES), None)
    if first is None or first.failed or not first.candidates:
        return True
    return any(is_close(candidate) for candidate in first.candidates)


def is_close(candidate: Candidate) -> bool:
    """The DJ's title by the DJ's artists, whatever its version."""
    parts = {c.name: c.similarity for c in candidate.components}
    return parts.get("title", 0.0) >= TITLE_VETO and parts.get("artists", 1.0) >= ARTIST_VETO
