"""A catalog file in memory: its tracks by id and ISRC, and a full-text index over them.

The catalog is one Beatport API v4-shaped track per line (the format of
`eval/dev/catalog.jsonl`). Search is SQLite FTS5 with bm25 ranking, the way a store's search
engine ranks: it knows nothing of how any client builds its queries.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NotRequired, TypedDict, cast

from cuepoint_tray.errors import CuepointError


class CatalogPerson(TypedDict):
    id: int
    name: str
    slug: NotRequired[str]


class CatalogKey(TypedDict):
    id: int
    name: str  # "Db Minor": flats, as API v4 spells keys
    camelot_number: NotRequired[int]
    camelot_letter: NotRequired[str]


class CatalogNamed(TypedDict):
    id: int
    name: str
    slug: NotRequired[str]


class CatalogRelease(TypedDict):
    id: int
    name: str
    slug: NotRequired[str]
    label: NotRequired[CatalogNamed]


class CatalogTrack(TypedDict):
    """One line of a catalog file; only id, name and artists are required."""

    id: int
    name: str
    artists: list[CatalogPerson]
    mix_name: NotRequired[str]
    slug: NotRequired[str]
    remixers: NotRequired[list[CatalogPerson]]
    bpm: NotRequired[int | None]
    key: NotRequired[CatalogKey | None]
    genre: NotRequired[CatalogNamed | None]
    label: NotRequired[CatalogNamed | None]
    release: NotRequired[CatalogRelease | None]
    new_release_date: NotRequired[str | None]
    publish_date: NotRequired[str | None]
    length_ms: NotRequired[int | None]
    isrc: NotRequired[str | None]
    catalog_number: NotRequired[str | None]


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """A catalog track with what the store knows beside it: its position on its release."""

    record: CatalogTrack
    number: int


@dataclass(frozen=True, slots=True)
class SearchHit:
    entry: CatalogEntry
    score: float  # higher is better, like the search service's `score`


@dataclass(frozen=True, slots=True)
class SearchPage:
    hits: list[SearchHit]
    total: int


# Letters unicode61's diacritic removal leaves alone but a store's ASCII folding maps, so
# "Oystein" finds "Øystein" as it does on beatport.com.
_FOLD = str.maketrans({
    "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ß": "ss", "ł": "l",
    "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "TH", "ı": "i",
})
_TERM = re.compile(r"\w+")
_MAX_TERMS = 32
# Column weights for bm25, in the order of the index's columns: a title or artist hit says
# more about a track than a shared mix name ("Original Mix") or label.
_COLUMNS = ("title", "mix_name", "artists", "remixers", "label")
_WEIGHTS = (4.0, 1.0, 3.0, 2.0, 1.0)


def fold(text: str) -> str:
    """Text as the index stores it: compatibility-normalised, special letters folded."""
    return unicodedata.normalize("NFKC", text).translate(_FOLD)


def match_expression(text: str) -> str:
    """The FTS5 query for user text: its words, each quoted, OR-ed; "" when it has none.

    Quoting every word keeps FTS5 syntax in user text ("AND", "-", "*", quotes,
    parentheses, column filters) literal, so no query can fail to parse.
    """
    terms = list(dict.fromkeys(term.lower() for term in _TERM.findall(fold(text))))
    return " OR ".join(f'"{term}"' for term in terms[:_MAX_TERMS])


class Catalog:
    """Tracks by id and ISRC, and a ranked full-text search over them. Thread-safe."""

    def __init__(self, records: Iterable[CatalogTrack]):
        self._entries = _number_by_release(list(records))
        self._by_id = {entry.record["id"]: entry for entry in self._entries}
        self._by_isrc: dict[str, list[CatalogEntry]] = defaultdict(list)
        for entry in self._entries:
            isrc = entry.record.get("isrc")
            if isrc:
                self._by_isrc[isrc.upper()].append(entry)
        self._lock = threading.Lock()
        self._db = _build_index(self._entries)

    @classmethod
    def load(cls, path: Path) -> Catalog:
        """Read and index a catalog file; a CuepointError names the file and line at fault."""
        return cls(read_catalog(path))

    def __len__(self) -> int:
        return len(self._entries)

    def track(self, track_id: int) -> CatalogEntry | None:
        """The track with this id, or None."""
        return self._by_id.get(track_id)

    def by_isrc(self, isrc: str) -> list[CatalogEntry]:
        """Every track carrying this ISRC (re-releases share their recording's ISRC)."""
        return list(self._by_isrc.get(isrc.strip().upper(), ()))

    def entries(self) -> list[CatalogEntry]:
        """All tracks, by id."""
        return list(self._entries)

    def search(self, text: str, *, page: int, per_page: int) -> SearchPage:
        """One page of the tracks matching any word of `text`, best first (bm25)."""
        expression = match_expression(text)
        if not expression:
            return SearchPage(hits=[], total=0)
        weights = ", ".join(str(weight) for weight in _WEIGHTS)
        sql = (f"SELECT rowid, bm25(track_text, {weights}) AS rank FROM track_text "
               "WHERE track_text MATCH ? ORDER BY rank, rowid LIMIT ? OFFSET ?")
        with self._lock:
            rows = self._db.execute(sql, (expression, per_page, (page - 1) * per_page)).fetchall()
            total = self._db.execute(
                "SELECT count(*) FROM track_text WHERE track_text MATCH ?", (expression,)
            ).fetchone()[0]
        # bm25 is negative, better matches more so; the search service's score is positive.
        hits = [SearchHit(self._by_id[rowid], round(-rank * 100, 5)) for rowid, rank in rows]
        return SearchPage(hits=hits, total=int(total))


def _number_by_release(records: list[CatalogTrack]) -> list[CatalogEntry]:
    """Entries sorted by id, each numbered by its place on its release (by id, from 1)."""
    records = sorted(records, key=lambda record: record["id"])
    seen: dict[object, int] = defaultdict(int)
    entries = []
    for record in records:
        release_id = release_of(record).get("id", ("single", record["id"]))
        seen[release_id] += 1
        entries.append(CatalogEntry(record=record, number=seen[release_id]))
    return entries


def _build_index(entries: list[CatalogEntry]) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.execute(f"CREATE VIRTUAL TABLE track_text USING fts5({', '.join(_COLUMNS)}, "
               "tokenize='unicode61 remove_diacritics 2')")
    db.executemany(
        "INSERT INTO track_text(rowid, title, mix_name, artists, remixers, label) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (_index_row(entry.record) for entry in entries))
    db.commit()
    return db


def _index_row(record: CatalogTrack) -> tuple[int, str, str, str, str, str]:
    return (record["id"], fold(record["name"]), fold(record.get("mix_name") or ""),
            fold(_names(record["artists"])), fold(_names(record.get("remixers") or [])),
            fold(label_of(record).get("name", "")))


def _names(people: list[CatalogPerson]) -> str:
    return " ; ".join(person["name"] for person in people)


def label_of(record: CatalogTrack) -> dict[str, Any]:
    """The track's label: `release.label` as Beatport has it, else the catalog's `label`."""
    return dict(release_of(record).get("label") or record.get("label") or {})


def release_of(record: CatalogTrack) -> dict[str, Any]:
    """The track's release as a plain dict ({} when the catalog gives none)."""
    return cast(dict[str, Any], record.get("release") or {})


# --- reading the file ---------------------------------------------------------------------------

_HINT = "each line must be one Beatport v4 track as a JSON object (see eval/dev/catalog.jsonl)"


def read_catalog(path: Path) -> list[CatalogTrack]:
    """Every track of a catalog file, checked; CuepointError with the line number if not."""
    try:
        with path.open(encoding="utf-8") as handle:
            records = list(_read_lines(path, handle))
    except OSError as exc:
        raise CuepointError(f"Cannot read the catalog {path}: {exc.strerror or exc}.") from None
    if not records:
        raise CuepointError(f"The catalog {path} holds no tracks: {_HINT}.")
    return records


def _read_lines(path: Path, handle: Iterable[str]) -> Iterator[CatalogTrack]:
    first_line_of: dict[int, int] = {}
    number = 0
    lines = iter(handle)
    while True:
        number += 1
        try:
            line = next(lines)
        except StopIteration:
            return
        except UnicodeDecodeError:
            raise _line_error(path, number, "it is not UTF-8 text") from None
        if not line.strip():
            continue
        record = _parse_line(path, number, line)
        if record["id"] in first_line_of:
            problem = f"track id {record['id']} was already given on line " \
                      f"{first_line_of[record['id']]}"
            raise _line_error(path, number, problem)
        first_line_of[record["id"]] = number
        yield record


def _parse_line(path: Path, number: int, line: str) -> CatalogTrack:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        raise _line_error(path, number, f"it is not JSON ({exc.msg})") from None
    problem = _problem_with(value)
    if problem:
        raise _line_error(path, number, problem)
    return cast(CatalogTrack, value)


def _problem_with(value: object) -> str | None:
    if not isinstance(value, dict):
        return "it is not a JSON object"
    if not _is_int(value.get("id")):
        return 'its "id" is missing or not a whole number'
    if not isinstance(value.get("name"), str):
        return 'its "name" is missing or not text'
    for field in ("artists", "remixers"):
        people = value.get(field, [])
        if field == "artists" and not people:
            return 'it has no "artists"'
        if not isinstance(people, list) or not all(_is_named(person) for person in people):
            return f'its "{field}" is not a list of {{"id", "name"}} objects'
    for field in ("key", "genre", "label", "release"):
        if value.get(field) is not None and not _is_named(value[field]):
            return f'its "{field}" is not an {{"id", "name"}} object'
    return None


def _is_named(value: object) -> bool:
    return isinstance(value, dict) and _is_int(value.get("id")) and isinstance(
        value.get("name"), str)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _line_error(path: Path, number: int, problem: str) -> CuepointError:
    return CuepointError(f"The catalog {path}, line {number}, cannot be used: {problem}; {_HINT}.")
