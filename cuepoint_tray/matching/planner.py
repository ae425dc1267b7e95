"""The query planner: for each track, an ordered list of searches from specific to relaxed."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cuepoint_tray.matching.profile import Profile


@dataclass(frozen=True, slots=True)
class PlannedQuery:
    type: str  # recorded with every query: "full", "title_artist", "title"
    text: str


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
