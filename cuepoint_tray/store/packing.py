"""The history's compact values: a Beatport track's fields, and a track's candidate scores.

A session stores ten candidates per track, each with its Beatport track and eight score
components whose details repeat the DJ's side ten times. Kept as columns and JSON text that
was 12.8 KB per track (issue 17); packed here it is about a tenth. Two values are packed:

  - a Beatport track's fields but its id (`pack_beatport`), one row per Beatport track in
    `beatport_tracks`, shared by every session that found it;
  - a track's candidate scores (`pack_scores`): for each kept candidate its rank, score,
    components, vetoes, why it lost and the query that found it, plus which one the track's
    breakdown is, in one value on the track's row.

Each is compact JSON (arrays, not objects), compressed with a preset dictionary of the words
these values share (component names, key names, genres, mix names, the store's URL), behind
a format byte:

  - format 2 (written): Zstandard at level 4, the dictionary as raw content;
  - format 1 (read): deflate at level 9, the same dictionary.

Format 2 packs a track's value in about half format 1's time, for 3 % more bytes (53-57
against 96-111 µs, 990 against 956 bytes, over 1,000 tracks of a real session): a long
session packs 4,000 of them on the writer's thread, beside the matching threads
(scripts/bench_session_memory.py measures what storing a session costs).

The dictionary is part of both formats: a value written with a format is read with that
format's dictionary for ever, so change it only as a new format byte, never in place.
Unpacking gives back exactly the values packed (the tests compare them field by field).
"""

from __future__ import annotations

import json
import re
import threading
import zlib
from collections.abc import Sequence
from typing import Any

import orjson
import zstandard

from cuepoint_tray.domain import BeatportTrack, Candidate, Component

FORMAT = 2  # what is written; format 1 is read for ever
_TAG = bytes([FORMAT])
_DEFLATED = bytes([1])  # format 1's tag
_LEVEL = 4
_LARGEST = 1 << 24  # a packed value's text is a few KB: a larger size is a damaged value

# Words the packed values share, most frequent last (deflate reaches the end cheapest).
_DICTIONARY = "".join((
    "Trance (Main Floor)Drum & BassBreaks / Breakbeat / UK BassDubstepHard DanceMainstage",
    "Minimal / Deep TechOrganic House / DowntempoIndie DanceElectronicaNu DiscoFunky House",
    "Progressive HouseAfro HouseDeep HouseMelodic House & TechnoTechno (Raw / Deep / Hypnotic)",
    "Techno (Peak Time / Driving)Hard TechnoTech HouseHouse",
    "Radio EditClub MixDub MixVocal MixInstrumental MixExtended Remix Remix EditExtended Mix",
    "Original Mix",
    "Ab MinorEb MinorBb MinorF MinorC MinorG MinorD MinorA MinorE MinorB MinorF# MinorDb Minor",
    "Ab MajorEb MajorBb MajorF MajorC MajorG MajorD MajorA MajorE MajorB MajorF# MajorDb Major",
    "1A2A3A4A5A6A7A8A9A10A11A12A1B2B3B4B5B6B7B8B9B10B11B12B",
    "https://www.beatport.com/track/https://www.beatport.com/release/",
    '"another title","other artists","a remix by ",", not by ","not the remix by ',
    "same recording, lower score than best, but not sure enough to accept",
    '"lower score (0.',' vs 1.00)"',
    '"title_artist","isrc","title","full",',
    '["release",1.0,0.5,"',
    '["label",1.0,1.0,"',
    '["year",1.0,0.75,"',
    '["key",1.0,0.5,"',
    '["bpm",1.0,1.0,"',
    '["duration",1.0,2.5,"',
    '["version",1.0,2.0,"original vs original"],',
    '["artists",1.0,3.0,"',
    '[["title",1.0,3.0,"\'',
    "' vs '",
)).encode("utf-8")


def pack_value(value: Any) -> bytes:
    """Any JSON value packed as the history keeps its packed values (for tools and tests
    that edit a stored value: `unpack_value`, change, `pack_value`).

    The text is what `json.dumps(value, separators=(",", ":"), ensure_ascii=False)` gives,
    written by orjson in a quarter of the time (a long session packs 4,000 of these on the
    writer's thread). Numbers in these values are finite: the providers keep Beatport's
    within their ranges, and scores are rounded similarities."""
    return _TAG + _CODECS.compressor.compress(value_text(value))


def pack_texts(texts: Sequence[bytes]) -> list[bytes]:
    """The values of JSON texts (`value_text`) packed as `pack_value` packs them (the same
    bytes), all compressed in one call to Zstandard.

    The history writer packs a batch's tracks so. A compression lets the other threads take
    the interpreter, and one that lasts as long as a track's made the writer wait to take
    it back and start again cold: one call per batch rather than per track saves about
    0.1 CPU-s per 2,000 tracks, a fifteenth of the writer's (13 paired 2,000-track sessions
    of scripts/bench_session_memory.py, 11 of them cheaper). Each track's value is made text
    at once, not kept for the batch: a batch's values kept alive cost the cycle collector
    more than the call saves (the writer then took 1.5-1.7 CPU-s per 2,000 tracks, against
    1.2-1.6)."""
    if not texts:
        return []
    compressor = _CODECS.compressor
    try:
        # threads=0: in this thread (its default spawns a thread per core for each call)
        batch = compressor.multi_compress_to_buffer(list(texts), threads=0)
    except NotImplementedError:  # zstandard's CFFI backend (PyPy) has no batch call
        return [_TAG + compressor.compress(text) for text in texts]
    return [_TAG + batch[index].tobytes() for index in range(len(texts))]


def value_text(value: Any) -> bytes:
    """The value as the compact JSON text `pack_value` compresses."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:  # an integer beyond 64 bits, or a key that is no text
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def unpack_value(packed: bytes) -> Any:
    """The JSON value `pack_value` packed, in either format; ValueError for a value that is
    not one (an unknown format, or damaged)."""
    body = memoryview(packed)[1:]
    try:
        if packed[:1] == _TAG:
            if not 0 <= zstandard.frame_content_size(body) <= _LARGEST:
                raise ValueError("damaged packed value: its size is missing or impossible")
            text = _CODECS.decompressor.decompress(body)
        elif packed[:1] == _DEFLATED:
            unpacker = zlib.decompressobj(-15, _DICTIONARY)
            text = unpacker.decompress(body) + unpacker.flush()
            if not unpacker.eof:
                raise ValueError("damaged packed value: cut short")
        else:
            raise ValueError(f"unknown packed value format {packed[:1]!r}")
    except (zstandard.ZstdError, zlib.error) as exc:
        raise ValueError(f"damaged packed value: {exc}") from exc
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # NaN or Infinity, which only json.dumps could write
        return json.loads(text)


_ZSTD_DICTIONARY = zstandard.ZstdCompressionDict(_DICTIONARY,
                                                 dict_type=zstandard.DICT_TYPE_RAWCONTENT)
_ZSTD_DICTIONARY.precompute_compress(level=_LEVEL)  # once, not for each value


class _Codecs(threading.local):
    """This thread's Zstandard compressor and decompressor: neither may be shared by two
    threads at once, and making one per value would cost a third of its work."""

    def __init__(self) -> None:
        self.compressor = zstandard.ZstdCompressor(
            level=_LEVEL, dict_data=_ZSTD_DICTIONARY, write_checksum=False, write_dict_id=False)
        self.decompressor = zstandard.ZstdDecompressor(dict_data=_ZSTD_DICTIONARY)


_CODECS = _Codecs()



# --- a track's candidates ---------------------------------------------------------------

_BEATPORT_FIELDS = tuple(name for name in BeatportTrack.__slots__ if name != "id")
BEATPORT_FIELDS = _BEATPORT_FIELDS  # the order of `beatport_values`
_AT = {name: index for index, name in enumerate(_BEATPORT_FIELDS)}
_URL, _TITLE, _KEY_NAME, _CAMELOT, _ARTISTS, _REMIXERS = (
    _AT[name] for name in ("url", "title", "key_name", "camelot", "artists", "remixers"))


_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def _slug(text: str) -> str:
    """Beatport's slug of a title, as the providers make it (frozen here since format 1)."""
    return _NOT_SLUG.sub("-", text.lower()).strip("-") or "track"


def _url_in(url: str, title: str, beatport_id: int) -> str | list[str]:
    """A track page's URL `<site>/track/<slug>/<id>` as [site] (the slug is the title's) or
    [site, slug]; any other URL as it is."""
    site, found, rest = url.rpartition("/track/")
    slug, _, number = rest.partition("/")
    if not found or number != str(beatport_id) or "/" in number:
        return url
    return [site] if slug == _slug(title) else [site, slug]


def _url_out(url: Any, title: str, beatport_id: int) -> Any:
    if not isinstance(url, list):
        return url  # as it was (None in a track row an early CuePoint wrote)
    slug = url[1] if len(url) > 1 else _slug(title)
    return f"{url[0]}/track/{slug}/{beatport_id}"


# Beatport's key names by Camelot code (frozen since format 1): a key name that is its
# Camelot code's is stored as 0.
_KEY_NAMES = dict(zip(
    [f"{number}{letter}" for letter in "AB" for number in range(1, 13)],
    [f"{note} Minor" for note in ("Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#",
                                  "Db")]
    + [f"{note} Major" for note in ("B", "F#", "Db", "Ab", "Eb", "Bb", "F", "C", "G", "D",
                                    "A", "E")], strict=True))


def beatport_values(track: BeatportTrack) -> list[Any]:
    """A Beatport track's fields but its id, in order, as JSON-ready values."""
    t = track
    values = [t.title, t.mix_name, list(t.artists), list(t.remixers), t.bpm, t.key_name,
              t.camelot, t.genre, t.sub_genre, t.label, t.release, t.release_date,
              t.length_ms, t.isrc, t.url]
    if isinstance(t.url, str) and isinstance(t.title, str):
        values[_AT["url"]] = _url_in(t.url, t.title, t.id)
    if t.key_name and _KEY_NAMES.get(t.camelot) == t.key_name:
        values[_AT["key_name"]] = 0
    return values


def beatport_fields(beatport_id: int, values: list[Any]) -> dict[str, Any]:
    """The fields but id of the Beatport track of `beatport_values`, by name (lists as
    lists): what a table needs, without building the track."""
    fields = dict(zip(_BEATPORT_FIELDS, values, strict=True))
    fields["url"] = _url_out(fields["url"], fields["title"], beatport_id)
    if fields["key_name"] == 0:
        fields["key_name"] = _KEY_NAMES[fields["camelot"]]
    return fields


def beatport_track(beatport_id: int, values: list[Any]) -> BeatportTrack:
    """The Beatport track of `beatport_values`, with its id."""
    fields = beatport_fields(beatport_id, values)
    fields["artists"] = tuple(fields["artists"])
    fields["remixers"] = tuple(fields["remixers"])
    return BeatportTrack(id=beatport_id, **fields)


def _seconds(values: list[Any]) -> str | None:
    length = values[_AT["length_ms"]]
    return f"{length / 1000:.0f} s" if length else None


def _bpm(values: list[Any]) -> str | None:
    bpm = values[_AT["bpm"]]
    return f"{bpm:g}" if bpm is not None else None


# The Beatport side of a component's detail ("<DJ's side> vs <Beatport's side>") as the
# scoring words it, computed back from the candidate's own fields. Used only where it gives
# the very text stored (checked when packing); any other detail is kept as it is.
_SIDES: dict[str, Any] = {
    "t": lambda v, at=_AT["title"]: f"'{v[at].lower()}'",
    "a": lambda v, at=_AT["artists"]: ", ".join(v[at]),
    "d": _seconds,
    "b": _bpm,
    "k": lambda v, at=_AT["camelot"]: v[at],
    "y": lambda v, at=_AT["release_date"]: v[at][:4],
    "l": lambda v, at=_AT["label"]: v[at].lower(),
    "r": lambda v, at=_AT["release"]: v[at].lower(),
}


# The code of each component's Beatport side; a component not named here, or whose detail
# its code does not give back, keeps its detail as it is.
_CODES = {"title": "t", "artists": "a", "duration": "d", "bpm": "b", "key": "k", "year": "y",
          "label": "l", "release": "r"}


def _side(code: str, values: list[Any]) -> str | None:
    """The candidate's Beatport side of `code` (None where its fields give none)."""
    try:
        return _SIDES[code](values)
    except (TypeError, AttributeError, ValueError):  # a field of an unexpected type
        return None


def _sides(values: list[Any]) -> dict[str, str | None]:
    """The candidate's Beatport sides by code."""
    return {code: _side(code, values) for code in _SIDES}


def _split(name: str, detail: str, sides: dict[str, str | None]) -> tuple[str, str] | None:
    """(the DJ's side, the code of the Beatport side) when the code gives the detail back."""
    code = _CODES.get(name)
    text = sides.get(code) if code else None
    if text is not None and detail.endswith(text) and detail[:-len(text)].endswith(" vs "):
        return detail[:-len(text) - 4], code  # type: ignore[return-value]
    return None


def _header(candidates: list[tuple[Candidate, list[Any]]]) -> list[list[Any]]:
    """The components' names, weights and DJ's sides as the first candidate has them."""
    if not candidates:
        return []
    first, values = candidates[0]
    sides = _sides(values)
    return [[c.name, c.weight, (_split(c.name, c.detail, sides) or ("", ""))[0]]
            for c in first.components]


_Expected = list[tuple[str, float, str | None, Any, str, int]]


def _expected(header: list[list[Any]]) -> _Expected:
    """Each header component's name, weight, Beatport side's code and its function, and the
    detail's start (the DJ's side and " vs ") and its length, worked out once for a track's
    candidates."""
    return [(name, weight, code, _SIDES[code] if code else None, start, len(start))
            for name, weight, dj_side in header
            for code, start in [(_CODES.get(name), f"{dj_side} vs ")]]


def _components(components: tuple[Component, ...], values: list[Any],
                expected: _Expected) -> tuple[Any, float | None]:
    """A candidate's components against the header (`_expected`): [similarity, code] where
    the header's DJ's side, " vs " and the code's Beatport side give the detail back, else
    [similarity, None, detail]; all of them in full ({"full": [[name, similarity, weight,
    detail], ...]}) when names or weights differ. Also the score they give (`_score`).

    Called for each of a long session's 40,000 candidates on the writer's thread, so in one
    pass, a Beatport side worked out only when the detail starts as expected."""
    packed: list[list[Any]] = []
    add = packed.append
    weighted = total = 0.0
    if len(components) == len(expected):
        for component, (name, weight, code, side, start, cut) in zip(components, expected,
                                                                     strict=True):
            if component.name != name or component.weight != weight:
                break  # not the header's components: kept in full, below
            similarity = round(component.similarity, 4)
            weighted += similarity * weight
            total += weight
            detail = component.detail
            if side is not None and detail.startswith(start):
                try:
                    if side(values) == detail[cut:]:
                        add([similarity, code])
                        continue
                except (TypeError, AttributeError, ValueError):  # a field of another type
                    pass
            add([similarity, None, detail])
        else:
            return packed, round(weighted / total, 4) if total else None
    full: list[list[Any]] = [[c.name, round(c.similarity, 4), c.weight, c.detail]
                             for c in components]
    return {"full": full}, _score([similarity for _n, similarity, _w, _d in full],
                                  [weight for _n, _s, weight, _d in full])


def _score(similarities: list[float], weights: list[float]) -> float | None:
    """A candidate's score from its components' similarities and weights, as the scoring
    computes it (frozen here); None when they weigh nothing.

    Added up one by one, in order, as `_components` adds them when it decides the score
    need not be stored: `sum` of floats compensates its rounding from Python 3.12 on, and
    could then give back another last digit than the one the writer compared."""
    weighted = total = 0.0
    for similarity, weight in zip(similarities, weights, strict=True):
        weighted += similarity * weight
        total += weight
    return round(weighted / total, 4) if total else None


def pack_candidates(kept: list[tuple[int, Candidate]], best_rank: int | None,
                    match: BeatportTrack | None, *,
                    breakdown: list[dict[str, Any]] | None = None) -> bytes | None:
    """A track's kept candidates (rank, candidate), packed in one value; None for none.

    `best_rank` is the rank of the chosen (or doubtful, or best) candidate: its components
    are the track's breakdown, and its Beatport track the track's match when it is `match`.
    A match that is no kept candidate, and a `breakdown` that is not the best candidate's
    components (from an older history), are kept in full."""
    value = candidates_value(kept, best_rank, match, breakdown=breakdown)
    return None if value is None else pack_value(value)


def candidates_value(kept: list[tuple[int, Candidate]], best_rank: int | None,
                     match: BeatportTrack | None, *,
                     breakdown: list[dict[str, Any]] | None = None) -> list[Any] | None:
    """What `pack_candidates` packs, not yet packed: the writer makes it text
    (`value_text`) and compresses a batch's texts at once (`pack_texts`)."""
    with_values = [(rank, candidate, beatport_values(candidate.track))
                   for rank, candidate in kept]
    header = _header([(candidate, values) for _rank, candidate, values in with_values])
    expected = _expected(header)
    entries = []
    best: Candidate | None = None
    for rank, candidate, values in with_values:
        if rank == best_rank:
            best = candidate
        vetoes = list(candidate.vetoes)
        lost: str | int = candidate.lost_because
        if vetoes and lost == "; ".join(vetoes):
            lost = 0  # the matcher's own wording: the vetoes joined
        components, computed = _components(candidate.components, values, expected)
        # A score the components give back (the scoring's own) is not stored.
        score = None if computed is not None and computed == candidate.score \
            else candidate.score
        entries.append([rank, score, candidate.found_by, vetoes, lost, components, values])
    extra: dict[str, Any] = {}
    if match is not None and (best is None or best.track != match):
        extra["match"] = beatport_values(match)
    if breakdown is not None and breakdown != ([] if best is None else [
            {"name": c.name, "similarity": round(c.similarity, 4), "weight": c.weight,
             "detail": c.detail} for c in best.components]):
        extra["breakdown"] = breakdown
    if not entries and not extra:
        return None
    return [best_rank, header, entries, extra] if extra else [best_rank, header, entries]


_NO_SCORE = {"score": 0.0, "components": [], "vetoes": [], "lost_because": "", "found_by": ""}


class Pack:
    """A track's packed candidates, unpacked: each candidate's Beatport track and score by
    rank, the track's match and its breakdown."""

    __slots__ = ("best_rank", "header", "by_rank", "extra", "_names", "_weights")

    def __init__(self, packed: bytes | None) -> None:
        values = unpack_value(packed) if packed else [None, [], []]
        self.best_rank: int | None = values[0]
        self.header: list[list[Any]] = values[1]
        self.by_rank: dict[int, list[Any]] = {entry[0]: entry for entry in values[2]}
        self.extra: dict[str, Any] = values[3] if len(values) > 3 else {}
        self._names = tuple(name for name, _weight, _side in self.header)
        self._weights = [weight for _name, weight, _side in self.header]

    def beatport(self, rank: int, beatport_id: int) -> BeatportTrack | None:
        """The Beatport track of the candidate at `rank` (None when none is stored there)."""
        entry = self.by_rank.get(rank)
        return None if entry is None else beatport_track(beatport_id, entry[6])

    def score(self, rank: int) -> dict[str, Any]:
        """score, components, vetoes, lost_because and found_by of the candidate at `rank`."""
        entry = self.by_rank.get(rank)
        if entry is None:
            return dict(_NO_SCORE)
        _rank, score, found_by, vetoes, lost, packed, values = entry
        components = self._components(packed, values)
        if score is None:
            score = _score([c["similarity"] for c in components],
                           [c["weight"] for c in components])
        return {"score": score, "components": components,
                "vetoes": vetoes, "lost_because": "; ".join(vetoes) if lost == 0 else lost,
                "found_by": found_by}

    def table_cells(self, rank: int, beatport_id: int, similarity_names: tuple[str, ...]
                    ) -> list[Any] | None:
        """The candidate at `rank` as table cells, without dicts (candidates.csv's 40,000
        rows for a long session), or None when none is stored there: score, the similarity
        of each of `similarity_names` ("" for one it lacks), vetoes joined with "; ",
        lost_because, found_by, beatport_id, then the Beatport fields but id in
        `BEATPORT_FIELDS` order, lists joined with ", "."""
        entry = self.by_rank.get(rank)
        if entry is None:
            return None
        _rank, score, found_by, vetoes, lost, packed, values = entry
        if isinstance(packed, dict):
            names = tuple(name for name, _s, _w, _d in packed["full"])
            similarities = [similarity for _n, similarity, _w, _d in packed["full"]]
            weights = [weight for _n, _s, weight, _d in packed["full"]]
        else:
            names, weights = self._names, self._weights
            similarities = [item[0] for item in packed]
        if score is None:
            score = _score(similarities, weights)
        joined = "; ".join(vetoes)
        cells = [score]
        if names == similarity_names:
            cells += similarities
        else:
            by_name = dict(zip(names, similarities, strict=True))
            cells += [by_name.get(name, "") for name in similarity_names]
        cells += [joined, joined if lost == 0 else lost, found_by, beatport_id, *values]
        start = len(cells) - len(values)
        cells[start + _URL] = _url_out(values[_URL], values[_TITLE], beatport_id)
        if values[_KEY_NAME] == 0:
            cells[start + _KEY_NAME] = _KEY_NAMES[values[_CAMELOT]]
        for at in (start + _ARTISTS, start + _REMIXERS):
            if isinstance(cells[at], list):
                cells[at] = ", ".join(cells[at])
        return cells

    def match(self, beatport_id: int | None) -> BeatportTrack | None:
        """The track's match (its bp_id given), from the best candidate or kept in full."""
        if beatport_id is None or (values := self._match_values()) is None:
            return None
        return beatport_track(beatport_id, values)

    def match_fields(self, beatport_id: int | None) -> dict[str, Any] | None:
        """`match` as a track's fields by name, id first, lists as lists (what the track
        shape holds), without building the track."""
        if beatport_id is None or (values := self._match_values()) is None:
            return None
        return {"id": beatport_id, **beatport_fields(beatport_id, values)}

    def _match_values(self) -> list[Any] | None:
        """The `beatport_values` of the track's match: kept in full, else the best
        candidate's (None when neither is stored)."""
        if "match" in self.extra:
            return self.extra["match"]
        entry = self.by_rank.get(self.best_rank) if self.best_rank is not None else None
        return None if entry is None else entry[6]

    def breakdown(self) -> list[dict[str, Any]]:
        """The components of the chosen (or doubtful, or best) candidate: the track's."""
        if "breakdown" in self.extra:
            return list(self.extra["breakdown"])
        entry = self.by_rank.get(self.best_rank) if self.best_rank is not None else None
        return [] if entry is None else self._components(entry[5], entry[6])

    def _components(self, packed: Any, values: list[Any]) -> list[dict[str, Any]]:
        if isinstance(packed, dict):
            return [{"name": name, "similarity": similarity, "weight": weight,
                     "detail": detail} for name, similarity, weight, detail in packed["full"]]
        out = []
        for (name, weight, dj_side), item in zip(self.header, packed, strict=True):
            detail = item[2] if item[1] is None else f"{dj_side} vs {_SIDES[item[1]](values)}"
            out.append({"name": name, "similarity": item[0], "weight": weight,
                        "detail": detail})
        return out
