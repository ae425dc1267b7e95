"""Beatport's raw track objects → `BeatportTrack`, read defensively.

Two shapes reach us (see `payloads.py`): the API v4 track object (API answers, website track
pages) and the search-service object (website search pages). Real data is untidy: nulls,
missing keys, numbers where text was expected. None of that may stop a session, so every field
is read through a small tolerant accessor, and a record without an id or a name is skipped
with a logged warning.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

from cuepoint_tray.domain import BeatportTrack
from cuepoint_tray.musical_keys import parse_key
from cuepoint_tray.providers.payloads import SearchTrack, V4Track

log = logging.getLogger(__name__)

BEATPORT_WEBSITE = "https://www.beatport.com"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})$")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


# Bounds on what one answer may hold. Outside them a value comes from a broken or hostile
# answer: the field is left empty (a track without an id is skipped), the rest kept.
MAX_TRACK_ID = 2**53 - 1  # ids are 8 digits; JSON stops being exact here, SQLite at 2**63
BPM_RANGE = (20.0, 999.0)  # Beatport lists 50–200; Rekordbox takes up to 999
MAX_LENGTH_MS = 24 * 3600 * 1000  # the longest tracks (DJ mixes) run a few hours
YEAR_RANGE = (1900, 2100)
# Beatport's largest page has 100 tracks; an answer listing more is cut there (the matcher
# keeps what it asked for), so 20,000 tracks cannot cost hundreds of MB.
MAX_TRACKS_PER_ANSWER = 100


class UnexpectedShape(ValueError):
    """An answer's JSON is not laid out the way Beatport lays it out."""


# --- API v4 track object ----------------------------------------------------------------------


def track_from_v4(raw: V4Track, *, web_url: str = BEATPORT_WEBSITE) -> BeatportTrack | None:
    """Read one API v4 track object; None (with a warning) when it has no id or no name."""
    fields = cast(Mapping[str, Any], raw)
    track_id, title = _id(fields.get("id")), _text(fields.get("name"))
    if track_id is None or not title:
        _warn_skipped(fields)
        return None
    release = mapping_of(fields.get("release"))
    key_name, camelot = _v4_key(fields.get("key"))
    return BeatportTrack(
        id=track_id,
        title=title,
        mix_name=_text(fields.get("mix_name")),
        artists=_names(fields.get("artists"), "name"),
        remixers=_names(fields.get("remixers"), "name"),
        bpm=_within(_number(fields.get("bpm")), *BPM_RANGE),
        key_name=key_name,
        camelot=camelot,
        genre=_text(mapping_of(fields.get("genre")).get("name")),
        sub_genre=_text(mapping_of(fields.get("sub_genre")).get("name")),
        label=_v4_label(release, fields),
        release=_text(release.get("name")),
        release_date=_date(fields.get("new_release_date")) or _date(fields.get("publish_date")),
        length_ms=_length(_int(fields.get("length_ms")) or _clock_ms(fields.get("length"))),
        isrc=_text(fields.get("isrc")).upper(),
        url=_v4_url(fields, track_id, title, web_url),
    )


def one_track_from_v4(raw: V4Track, *, web_url: str = BEATPORT_WEBSITE) -> BeatportTrack:
    """The one track of a track lookup or track page; UnexpectedShape without an id or a name
    (a renamed field must not pass for "no such track")."""
    track = track_from_v4(raw, web_url=web_url)
    if track is None:
        raise UnexpectedShape("the track has no id or no name")
    return track


def _v4_key(value: object) -> tuple[str, str]:
    """The key's name and Camelot code; the API's own Camelot fields win over the name."""
    if isinstance(value, str):  # some exports flatten the key to its name
        return _key_from_name(value)
    key = mapping_of(value)
    name, camelot = _key_from_name(_text(key.get("name")))
    number, letter = _int(key.get("camelot_number")), _text(key.get("camelot_letter")).upper()
    if number is not None and 1 <= number <= 12 and letter in ("A", "B"):
        camelot = f"{number}{letter}"
    return name, camelot


def _v4_label(release: Mapping[str, Any], fields: Mapping[str, Any]) -> str:
    return (_text(mapping_of(release.get("label")).get("name"))
            or _text(mapping_of(fields.get("label")).get("name")))


def _v4_url(fields: Mapping[str, Any], track_id: int, title: str, web_url: str) -> str:
    """A page the DJ can open: the API's `url` points at the API itself, so build one instead."""
    url = _text(fields.get("url"))
    if url.startswith("http") and "/v4/" not in url:
        return url
    return track_page_url(web_url, _text(fields.get("slug")) or slug_of(title), track_id)


# --- Search-service track object ----------------------------------------------------------------


def track_from_search(raw: SearchTrack, *, web_url: str = BEATPORT_WEBSITE) -> BeatportTrack | None:
    """Read one search-service track object; None (with a warning) without an id or a name."""
    fields = cast(Mapping[str, Any], raw)
    track_id, title = _id(fields.get("track_id")), _text(fields.get("track_name"))
    if track_id is None or not title:
        _warn_skipped(fields)
        return None
    artists, remixers = _search_artists(fields.get("artists"))
    key_name, camelot = _key_from_name(_text(fields.get("key_name")))
    genres = _dicts(fields.get("genre"))
    return BeatportTrack(
        id=track_id,
        title=title,
        mix_name=_text(fields.get("mix_name")),
        artists=artists,
        remixers=remixers,
        bpm=_within(_number(fields.get("bpm")), *BPM_RANGE),
        key_name=key_name,
        camelot=camelot,
        genre=_text(genres[0].get("genre_name")) if genres else "",
        label=_text(mapping_of(fields.get("label")).get("label_name")),
        release=_text(mapping_of(fields.get("release")).get("release_name")),
        release_date=_date(fields.get("release_date")) or _date(fields.get("publish_date")),
        length_ms=_length(_int(fields.get("length"))),
        isrc=_text(fields.get("isrc")).upper(),
        url=track_page_url(web_url, slug_of(title), track_id),
    )


def _search_artists(value: object) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Split the one artists[] list into artists and remixers, as the API keeps them."""
    artists: list[str] = []
    remixers: list[str] = []
    for artist in _dicts(value):
        name = _text(artist.get("artist_name"))
        if not name:
            continue
        is_remixer = _text(artist.get("artist_type_name")).lower() == "remixer"
        (remixers if is_remixer else artists).append(name)
    return _unique(artists), _unique(remixers)


# --- Lists --------------------------------------------------------------------------------------


def tracks_from_v4(items: object, *, web_url: str = BEATPORT_WEBSITE) -> tuple[BeatportTrack, ...]:
    """Read a list of API v4 track objects, skipping the unreadable ones."""
    return _read_all(items, lambda raw: track_from_v4(cast(V4Track, raw), web_url=web_url))


def tracks_from_search(items: object, *,
                       web_url: str = BEATPORT_WEBSITE) -> tuple[BeatportTrack, ...]:
    """Read a list of search-service track objects, skipping the unreadable ones."""
    return _read_all(items, lambda raw: track_from_search(cast(SearchTrack, raw), web_url=web_url))


_ReadOne = Callable[[Mapping[str, Any]], BeatportTrack | None]


def _read_all(items: object, read: _ReadOne) -> tuple[BeatportTrack, ...]:
    """Every readable track of the list; UnexpectedShape when there were tracks but none could
    be read, which is a renamed field, not "nothing found": that would pass for "no match"."""
    if not isinstance(items, list):
        raise UnexpectedShape(f"expected a list of tracks, found {type(items).__name__}")
    listed = len(items)
    if listed > MAX_TRACKS_PER_ANSWER:
        log.warning("An answer listed %d tracks; kept the first %d", listed,
                    MAX_TRACKS_PER_ANSWER)
        items = items[:MAX_TRACKS_PER_ANSWER]
    tracks = (read(item) for item in items if _is_record(item))
    readable = tuple(track for track in tracks if track is not None)
    if items and not readable:
        raise UnexpectedShape(f"none of the {len(items)} tracks has an id and a name")
    return CutTracks(readable) if listed > MAX_TRACKS_PER_ANSWER else readable


class CutTracks(tuple[BeatportTrack, ...]):
    """The tracks kept of an answer that listed more than MAX_TRACKS_PER_ANSWER: usable,
    but not an answer to keep in the HTTP cache (`was_cut`)."""


def was_cut(parsed: object) -> bool:
    """Whether a parsed answer (tracks, or a tuple holding them) came from an oversized one."""
    if isinstance(parsed, CutTracks):
        return True
    return isinstance(parsed, tuple) and any(isinstance(part, CutTracks) for part in parsed)


def _is_record(item: object) -> bool:
    if isinstance(item, dict):
        return True
    log.warning("Skipped a Beatport track that is not an object: %.120r", item)
    return False


# --- Shared pieces ------------------------------------------------------------------------------


def track_page_url(web_url: str, slug: str, track_id: int) -> str:
    """The website page of a track: `<web>/track/<slug>/<id>`."""
    return f"{web_url.rstrip('/')}/track/{slug or 'track'}/{track_id}"


def slug_of(text: str) -> str:
    """A URL slug in Beatport's style: lower case, runs of other characters turned into '-'."""
    return _NOT_SLUG.sub("-", text.lower()).strip("-")


def _key_from_name(name: str) -> tuple[str, str]:
    """Any spelling ("A# Minor", "Bb Minor", "3A") → Beatport v4's spelling and its Camelot
    code; ("", "") when the text is no key at all."""
    key = parse_key(name)
    return (key.beatport_name, key.camelot) if key else ("", "")


def _warn_skipped(fields: Mapping[str, Any]) -> None:
    log.warning("Skipped a Beatport track without an id or a name: %.200r", dict(fields))


def _text(value: object) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 20:
        return int(value)  # a longer one is no id (and past 4300 digits int() refuses)
    return None


def _number(value: object) -> float | None:
    """A positive, finite number (JSON's 1e999 reads as infinity), else None."""
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            number = float(value)
        else:
            number = float(value) if isinstance(value, str) else 0.0
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def _id(value: object) -> int | None:
    track_id = _int(value)
    return track_id if track_id is not None and 0 < track_id <= MAX_TRACK_ID else None


def _within(number: float | None, low: float, high: float) -> float | None:
    return number if number is not None and low <= number <= high else None


def _length(ms: int | None) -> int | None:
    return ms if ms is not None and 0 < ms <= MAX_LENGTH_MS else None


def mapping_of(value: object) -> Mapping[str, Any]:
    """`value` when it is a JSON object, else an empty one: for reading nested optional parts."""
    return value if isinstance(value, dict) else {}


def json_object(value: object) -> dict[str, Any]:
    """`value` when it is a JSON object; UnexpectedShape otherwise."""
    if not isinstance(value, dict):
        raise UnexpectedShape(f"expected a JSON object, found {type(value).__name__}")
    return value


def _dicts(value: object) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _names(value: object, field: str) -> tuple[str, ...]:
    return _unique(_text(item.get(field)) for item in _dicts(value))


def _unique(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(name for name in names if name))


def _date(value: object) -> str:
    """"2020-10-21T00:00:00" or "2020-10-21" → "2020-10-21"; anything else → ""."""
    text = _text(value)
    if not _DATE.match(text):
        return ""
    return text[:10] if YEAR_RANGE[0] <= int(text[:4]) <= YEAR_RANGE[1] else ""


def _clock_ms(value: object) -> int | None:
    """"4:50" or "1:02:03" → milliseconds."""
    match = _CLOCK.match(_text(value))
    if not match:
        return None
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return ((hours * 60 + minutes) * 60 + seconds) * 1000
