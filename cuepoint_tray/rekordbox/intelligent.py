"""Rekordbox's intelligent-playlist rules as one plain SQL query on a master.db connection.

An intelligent playlist keeps its rules in djmdPlaylist.SmartList as XML:

    <NODE Id=… LogicalOperator="1" AutomaticUpdate=…>
      <CONDITION PropertyName="genre" Operator="1" ValueUnit="" ValueLeft="Techno"
                 ValueRight=""/>
    </NODE>

LogicalOperator 1 means every condition must hold, anything else any of them. The tracks it
holds are the ones pyrekordbox's SmartList selects (its reading of the rules is what CuePoint
has always used, and what DJs' results so far came from), live (rb_local_deleted = 0) and in
the order they came into the collection (created_at, then ID). This module builds the very
same SQL, with the same parameters, without pyrekordbox and SQLAlchemy: importing those costs
about a second and some 70 MB that the tray would keep.

Evaluated here, natively (anything else returns None and the caller asks pyrekordbox, so what
a playlist holds never changes):
- text: artist, album, originalArtist, producer, genre, key, label, remixedBy (the joined
  table's name; a track without one never matches, not even "is not"), comments, fileName,
  name: is, is not, contains, does not contain, starts with, ends with. Contains/starts/ends
  are SQL LIKE with the DJ's text as typed: SQLite's LIKE ignores case for ASCII letters
  only, and a % or _ in the text is a wildcard.
- grouping (the colour's ID): is, is not. albumArtist: is, is not, and contains / does not
  contain, which pyrekordbox reads as is / is not (kept, so the tracks stay the same).
- numbers: bpm, counter, rating, duration, year: is, is not, greater, less, in range (whole
  numbers, compared as Rekordbox stores them: BPM times 100 is not applied, as before).
- dates: dateCreated, stockDate, dateReleased: is, is not, after, before, in range (a
  YYYY-MM-DD date), in the last / not in the last N days (from now, local time).
- myTag: contains / does not contain the My Tag's ID (negative IDs as Rekordbox writes them
  are shifted by 2**32, as pyrekordbox does).
Refused here as always, without pyrekordbox (refused_rule): a mix name, and "in the last"
a period other than days. Left to pyrekordbox: albumArtist starts/ends with (refused there),
rules that do not parse, an empty value, an unknown property or operator (refused there with
their usual sentences), no conditions, a range whose upper end is not a number or date, and a
query SQLite refuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

_CONTENT = '"djmdContent"'
_MATCH_ALL = 1
_EQUAL, _NOT_EQUAL, _GREATER, _LESS, _IN_RANGE, _IN_LAST, _NOT_IN_LAST = range(1, 8)
_CONTAINS, _NOT_CONTAINS, _STARTS_WITH, _ENDS_WITH = range(8, 12)
_TEXT_OPERATORS = frozenset({_EQUAL, _NOT_EQUAL, _CONTAINS, _NOT_CONTAINS, _STARTS_WITH,
                             _ENDS_WITH})
_NUMBER_OPERATORS = frozenset({_EQUAL, _NOT_EQUAL, _GREATER, _LESS, _IN_RANGE})
_DATE_OPERATORS = _NUMBER_OPERATORS | {_IN_LAST, _NOT_IN_LAST}
_LIKE = {_CONTAINS: "LIKE '%' || ? || '%'", _NOT_CONTAINS: "LIKE '%' || ? || '%'",
         _STARTS_WITH: "LIKE ? || '%'", _ENDS_WITH: "LIKE '%' || ?"}
_COMPARE = {_EQUAL: "= ?", _NOT_EQUAL: "!= ?", _GREATER: "> ?", _LESS: "< ?",
            _IN_RANGE: "BETWEEN ? AND ?", _IN_LAST: "> ?", _NOT_IN_LAST: "< ?"}
_ATTRIBUTES = ("PropertyName", "Operator", "ValueUnit", "ValueLeft", "ValueRight")
_MY_TAG_SHIFT = 2 ** 32  # Rekordbox writes a My Tag's ID as a signed 32-bit number


@dataclass(frozen=True)
class _Property:
    """Where a property's value is: a column of djmdContent, or a name in joined tables."""

    kind: str  # "text", "number", "date" or "mytag"
    column: str  # djmdContent's column, or the joined table's
    joins: tuple[tuple[str, str, str], ...] = ()  # (table, its ID, the column pointing at it)
    stamp: bool = False  # created_at: written as Rekordbox writes its own timestamps


def _named(table: str, pointer: str, column: str = "Name") -> _Property:
    return _Property("text", column, ((table, "ID", pointer),))


_PROPERTIES: dict[str, _Property] = {
    "artist": _named("djmdArtist", "ArtistID"),
    "album": _named("djmdAlbum", "AlbumID"),
    "albumArtist": _Property("text", "Name", (("djmdAlbum", "ID", "AlbumID"),
                                              ("djmdArtist", "ID", "AlbumArtistID"))),
    "originalArtist": _named("djmdArtist", "OrgArtistID"),
    "producer": _named("djmdArtist", "ComposerID"),
    "genre": _named("djmdGenre", "GenreID"),
    "key": _named("djmdKey", "KeyID", "ScaleName"),
    "label": _named("djmdLabel", "LabelID"),
    "remixedBy": _named("djmdArtist", "RemixerID"),
    "comments": _Property("text", "Commnt"),
    "fileName": _Property("text", "FileNameL"),
    "name": _Property("text", "Title"),
    "grouping": _Property("text", "ColorID"),
    "bpm": _Property("number", "BPM"),
    "counter": _Property("number", "DJPlayCount"),
    "rating": _Property("number", "Rating"),
    "duration": _Property("number", "Length"),
    "year": _Property("number", "ReleaseYear"),
    "dateCreated": _Property("date", "created_at", stamp=True),
    "stockDate": _Property("date", "StockDate"),
    "dateReleased": _Property("date", "ReleaseDate"),
    "myTag": _Property("mytag", "MyTagID"),
}
_OPERATORS = {"text": _TEXT_OPERATORS, "number": _NUMBER_OPERATORS, "date": _DATE_OPERATORS,
              "mytag": frozenset({_CONTAINS, _NOT_CONTAINS})}
# grouping takes only is / is not in Rekordbox's rules. For the album's artist (a name two
# tables away) pyrekordbox turns "contains" into "is" and cannot say "starts/ends with".
_ONLY = {"grouping": frozenset({_EQUAL, _NOT_EQUAL}),
         "albumArtist": frozenset({_EQUAL, _NOT_EQUAL, _CONTAINS, _NOT_CONTAINS})}
_CONTAINS_IS_EQUAL = frozenset({"albumArtist"})


class _NotNative(Exception):
    """The rules hold something this module does not evaluate: pyrekordbox does."""


def track_query(rules_xml: str, now: datetime | None = None) -> tuple[str, list[Any]] | None:
    """The SQL (and its parameters) selecting an intelligent playlist's track IDs in order;
    None when its rules are not ones evaluated here."""
    try:
        match_all, conditions = _parse(rules_xml)
        clauses: list[str] = []
        parameters: list[Any] = []
        for condition in conditions:
            clause, values = _clause(condition, now or datetime.now())
            clauses.append(clause)
            parameters.extend(values)
    except (_NotNative, ValueError, TypeError, OverflowError):
        return None
    joined = (" AND " if match_all else " OR ").join(clauses)
    where = f"({joined})" if len(clauses) > 1 else joined
    sql = (f"SELECT {_CONTENT}.\"ID\" FROM {_CONTENT} WHERE {where} "
           f"AND {_CONTENT}.rb_local_deleted = ? "
           f"ORDER BY {_CONTENT}.created_at, {_CONTENT}.\"ID\"")
    return sql, [*parameters, 0]


def refused_rule(rules_xml: str) -> str:
    """The rule CuePoint has always refused ("“mixName”", "“dateCreated” in the last
    months": pyrekordbox has no column for a mix name, nor a period but days), named as the
    refusal names it; "" when there is none, or when the rules hold anything pyrekordbox
    would reject first (it then gives its own reason)."""
    try:
        _, conditions = _parse(rules_xml)
        for condition in conditions:
            _check_as_pyrekordbox_does(condition)
    except (_NotNative, ValueError):
        return ""
    for condition in conditions:
        name, unit = condition["PropertyName"], condition["ValueUnit"]
        if name == _MIX_NAME:
            return f"“{name}”"
        if int(condition["Operator"]) in (_IN_LAST, _NOT_IN_LAST) and unit != "day":
            return f"“{name}” in the last {unit or 'period'}s"
    return ""


_MIX_NAME = "mixName"  # a property of Rekordbox's rules pyrekordbox maps to no column


def _check_as_pyrekordbox_does(condition: dict[str, str]) -> None:
    """Raise when pyrekordbox would not read the condition (a property it does not know, an
    operator the property does not take, a range without its upper end)."""
    name = condition["PropertyName"]
    found = _PROPERTIES.get(name)
    allowed = _TEXT_OPERATORS if name in (_MIX_NAME, "albumArtist") else (
        _ONLY.get(name) or (_OPERATORS[found.kind] if found else frozenset()))
    operator = int(condition["Operator"])
    if operator not in allowed or (operator == _IN_RANGE and not condition["ValueRight"]):
        raise _NotNative


def _parse(rules_xml: str) -> tuple[bool, list[dict[str, str]]]:
    """Whether every condition must hold, and the conditions' attributes; the checks are
    those pyrekordbox makes, so a rule it would refuse is never evaluated here."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        root = fromstring(rules_xml)
    except (ParseError, DefusedXmlException) as exc:
        raise _NotNative from exc
    for number in ("Id", "LogicalOperator", "AutomaticUpdate"):
        int(_attribute(root.attrib, number))
    conditions = [{name: _attribute(child.attrib, name) for name in _ATTRIBUTES}
                  for child in root.findall("CONDITION")]
    if not conditions:
        raise _NotNative
    return int(root.attrib["LogicalOperator"]) == _MATCH_ALL, conditions


def _attribute(attributes: dict[str, str], name: str) -> str:
    if name not in attributes:
        raise _NotNative
    return attributes[name]


def _clause(condition: dict[str, str], now: datetime) -> tuple[str, list[Any]]:
    """One condition as an SQL expression on djmdContent, and its parameters."""
    name = condition["PropertyName"]
    found = _PROPERTIES.get(name)
    operator = int(condition["Operator"])
    if found is None or operator not in _ONLY.get(name, _OPERATORS[found.kind]):
        raise _NotNative
    values = _values(found, operator, condition, now)
    if name in _CONTAINS_IS_EQUAL and operator in (_CONTAINS, _NOT_CONTAINS):
        test = _COMPARE[_EQUAL]
    else:
        test = _LIKE.get(operator) or _COMPARE[operator]
    if found.kind == "mytag":
        clause = (f'EXISTS (SELECT 1 FROM "djmdSongMyTag" WHERE {_CONTENT}."ID" = '
                  f'"djmdSongMyTag"."ContentID" AND ("djmdSongMyTag"."MyTagID" {test}))')
    elif found.joins:
        clause = _joined(found, test)
    else:
        clause = f'({_CONTENT}."{found.column}" {test})'
    return (f"NOT ({clause})" if operator == _NOT_CONTAINS else clause), values


def _joined(found: _Property, test: str) -> str:
    """A name in joined tables: EXISTS a row pointed at whose name passes (so a track
    pointing at none never matches), nested for an album's artist."""
    outer = _CONTENT
    opened: list[str] = []
    for table, key, pointer in found.joins:
        opened.append(f'EXISTS (SELECT 1 FROM "{table}" WHERE "{table}"."{key}" = '
                      f'{outer}."{pointer}" AND ')
        outer = f'"{table}"'
    return "".join(opened) + f'({outer}."{found.column}" {test})' + ")" * len(opened)


def _values(found: _Property, operator: int, condition: dict[str, str],
            now: datetime) -> list[Any]:
    left, right = condition["ValueLeft"], condition["ValueRight"]
    if left == "":
        raise _NotNative  # pyrekordbox compares with NULL: left to it
    if operator in (_IN_LAST, _NOT_IN_LAST):
        if condition["ValueUnit"] != "day":
            raise _NotNative
        return [_date_value(found, now - timedelta(days=int(left)))]
    if operator == _IN_RANGE and right == "":
        raise _NotNative  # pyrekordbox refuses a range without its upper end
    ends: Sequence[str] = (left, right) if operator == _IN_RANGE else (left,)
    if found.kind == "number":
        return [int(end) for end in ends]
    if found.kind == "date":
        return [_date_value(found, datetime.strptime(end, "%Y-%m-%d")) for end in ends]
    if found.kind == "mytag" and int(left) < 0:
        return [str(int(left) + _MY_TAG_SHIFT)]
    if found.kind == "mytag":
        int(left)  # pyrekordbox refuses a My Tag that is not a number
    return [left]


def _date_value(found: _Property, moment: datetime) -> str:
    """A date as the rule compares it: created_at in Rekordbox's own "YYYY-MM-DD HH:MM:SS.mmm
    +00:00" (in UTC, from local time; the seconds left out at a whole second, a quirk kept so
    the tracks stay the same); the text columns as SQLite's driver writes a datetime."""
    if not found.stamp:
        return moment.isoformat(" ")
    text = moment.astimezone(UTC).isoformat(" ")
    return text[:-9] + " " + text[-6:]
