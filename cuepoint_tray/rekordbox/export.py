"""Write a copy of the DJ's Rekordbox XML with Beatport's values in the matched tracks.

The copy is a streaming byte-level rewrite of the original: one expat pass finds where each
matched COLLECTION TRACK's start tag begins, a second pass copies the file through and
rewrites only those start tags. Everything else (declaration, attribute order, TEMPO and
POSITION_MARK, playlists, whitespace) comes out byte for byte, and memory stays flat for a
50,000-track collection. The result is checked with the hardened reader before it replaces
anything, and a CSV of every old → new value lets the DJ undo.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

from cuepoint_tray.changes import FIELD_NAMES, FIELDS, ExportOptions, field_changes
from cuepoint_tray.domain import BeatportTrack
from cuepoint_tray.errors import CuepointError, RekordboxError
from cuepoint_tray.file_writing import spreadsheet_safe, whole_file, whole_file_at
from cuepoint_tray.rekordbox.reader import MAX_BYTES_WITHOUT_A_TAG, read_library
from cuepoint_tray.rekordbox.xml_handler import MAX_DEPTH

_CHUNK = 1 << 20
# Encodings whose bytes for '<', '>', '"' and "'" are ASCII: the byte-level splicing needs it.
_UNSAFE_ENCODINGS = ("utf-16", "utf-32", "ucs-2", "ucs-4", "utf16", "utf32")
_ATTRIBUTE = re.compile(r"""(\s)([^\s=/>]+)(\s*=\s*)("[^"]*"|'[^']*')""")
_START_TAG = re.compile(rb"""<[^>"']*(?:(?:"[^"]*"|'[^']*')[^>"']*)*>""")
CHANGES_COLUMNS = ("track_id", "artist", "title", "field", "old", "new")


@dataclass(frozen=True, slots=True)
class ExportSummary:
    """What an export changed and where it wrote."""

    out_xml: Path
    changes_csv: Path
    tracks_changed: int
    fields_changed: int
    tracks_not_found: tuple[str, ...]  # matched TrackIDs the XML's collection lacks


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One attribute of one track, before and after."""

    track_id: str
    artist: str
    title: str
    field: str
    old: str
    new: str


def export_enriched(source_xml: Path, out_xml: Path, matches: dict[str, BeatportTrack], *,
                    write_bpm: bool = False, marker: str = "CuePoint",
                    options: ExportOptions | None = None) -> ExportSummary:
    """Copy source_xml to out_xml with Beatport's values in the tracks of `matches`.

    `matches` maps Rekordbox TrackIDs to the Beatport track to take values from. `options`
    say which fields change (of Tonality, AverageBpm, Genre, Label, Year, Mix with Remixer),
    whether only empty ones ("fill") or different ones too ("overwrite"), the key notation,
    and whether a "<marker>: Beatport <id>" note is put at the end of Comments (replaced,
    never repeated, on a later export); `changes.field_changes` is the rule. Without
    `options`: every field but AverageBpm (unless `write_bpm`) overwritten, with the note.
    Writes `<out stem>-changes.csv` beside out_xml. Raises CuepointError when out_xml is the
    source itself.
    """
    if options is None:
        chosen = tuple(name for name in FIELD_NAMES if name != "bpm" or write_bpm)
        options = ExportOptions(fields=chosen, mode="overwrite", comments=True)
    source, out = Path(source_xml), Path(out_xml)
    _refuse_overwrite(source, out)
    _refuse_database(source)
    found = _find_tracks(source, set(matches))
    changes: list[FieldChange] = []
    with whole_file_at(out, "wb") as (stream, temp), source.open("rb") as original:
        for edit in _copy_with_edits(original, stream, found):
            _apply_beatport(edit, matches[edit.track_id], options, marker)
            changes.extend(edit.changes)
        stream.flush()
        read_library(temp)  # the copy must read back before it replaces anything
        # The undo file lands first, then the XML (as this block ends): a kill between
        # leaves an undo file for changes not made yet, never changes without their undo.
        changes_csv = out.with_name(out.stem + "-changes.csv")
        _write_changes(changes_csv, changes)
    return ExportSummary(out_xml=out, changes_csv=changes_csv,
                         tracks_changed=len({change.track_id for change in changes}),
                         fields_changed=len(changes),
                         tracks_not_found=tuple(sorted(set(matches) - set(found.tracks))))


def _refuse_overwrite(source: Path, out: Path) -> None:
    same = source.resolve() == out.resolve()
    if not same and out.exists() and source.exists():
        same = os.path.samefile(source, out)  # a hard link is the same file too
    if same:
        raise CuepointError(f"CuePoint never overwrites your Rekordbox export; choose another "
                            f"file name than {out}")


def _refuse_database(source: Path) -> None:
    from cuepoint_tray.rekordbox.locate import library_format

    if source.is_file() and library_format(source) != "xml":
        raise CuepointError(
            "This session was read from Rekordbox's own library (master.db), which CuePoint "
            "never writes to: export the collection as XML in Rekordbox (File > Export "
            "Collection in xml format), match it, and export that session instead; or use "
            "the session's results.csv")


# --- pass 1: where the matched tracks' start tags are ----------------------------------

@dataclass(slots=True)
class _Found:
    """The file's encoding, and each wanted TRACK's start-tag offset and attributes."""

    encoding: str = "utf-8"
    tracks: dict[str, tuple[int, dict[str, str]]] = field(default_factory=dict)


def _find_tracks(source: Path, wanted: set[str]) -> _Found:
    """Where the start tag of every COLLECTION TRACK whose TrackID is wanted begins."""
    found = _Found()
    parser = _hardened_expat(source, found)
    stack: list[str] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        track_id = attrs.get("TrackID", "").strip()
        if name == "TRACK" and stack[-1:] == ["COLLECTION"] and track_id in wanted:
            found.tracks.setdefault(track_id, (parser.CurrentByteIndex, attrs))
        stack.append(name)
        if len(stack) > MAX_DEPTH:
            raise RekordboxError(f"The Rekordbox XML has elements nested more than {MAX_DEPTH} "
                                 "deep, which Rekordbox never writes; refused", path=str(source))

    parser.StartElementHandler = start
    parser.EndElementHandler = lambda name: stack.pop()
    _feed(parser, source)
    return found


def _hardened_expat(source: Path, found: _Found) -> Any:
    """An expat parser that refuses what read_library refuses: DOCTYPEs, entities, references.

    pyexpat is used directly (not through SAX) because only it gives the byte offset of each
    start tag, which the byte-for-byte copy needs.
    """
    parser = expat.ParserCreate()

    def refuse(*_: object) -> None:
        raise RekordboxError("The Rekordbox XML contains a DOCTYPE or entity declaration, "
                             "which Rekordbox never writes; refused for safety",
                             path=str(source))

    def check_encoding(version: str, encoding: str | None, standalone: int) -> None:
        if encoding and encoding.lower().replace("_", "-").startswith(_UNSAFE_ENCODINGS):
            raise RekordboxError(f"The Rekordbox XML is encoded in {encoding}; CuePoint "
                                 "writes copies of UTF-8 exports only (Rekordbox's own)",
                                 path=str(source))
        found.encoding = encoding or "utf-8"

    def refuse_reference(*_: object) -> int:
        refuse()
        return 0

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse_reference
    parser.XmlDeclHandler = check_encoding
    return parser


def _feed(parser: Any, source: Path) -> None:
    try:
        with source.open("rb") as stream:
            fed = 0
            while chunk := stream.read(_CHUNK):
                parser.Parse(chunk, False)
                fed += len(chunk)
                _refuse_a_huge_tag(fed - max(parser.CurrentByteIndex, 0), source)
            parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise RekordboxError(f"The Rekordbox XML is not well-formed ({exc})",
                             path=str(source)) from exc
    except OSError as exc:
        raise RekordboxError(f"The Rekordbox XML could not be read ({exc.strerror or exc})",
                             path=str(source)) from exc


def _refuse_a_huge_tag(bytes_since_last_tag: int, source: Path) -> None:
    """Expat holds an unfinished tag whole: refuse one growing past the reader's limit."""
    if bytes_since_last_tag > MAX_BYTES_WITHOUT_A_TAG:
        raise RekordboxError("The Rekordbox XML has a single tag or text over "
                             f"{MAX_BYTES_WITHOUT_A_TAG >> 20} MB long, which Rekordbox never "
                             "writes; refused", path=str(source))


# --- pass 2: copy, rewriting those start tags ------------------------------------------

def _copy_with_edits(original: IO[bytes], stream: IO[bytes],
                     found: _Found) -> Iterator[_TagEdit]:
    """Copy original to stream; yield each wanted track's start tag to edit before it is written."""
    position = 0
    for offset, track_id in sorted((at, key) for key, (at, _) in found.tracks.items()):
        _copy_bytes(original, stream, offset - position)
        tag = _read_start_tag(original)
        position = offset + len(tag)
        edit = _TagEdit(tag.decode(found.encoding), track_id, found.tracks[track_id][1])
        yield edit
        stream.write(edit.text.encode(found.encoding, "xmlcharrefreplace"))
    while chunk := original.read(_CHUNK):
        stream.write(chunk)


def _copy_bytes(original: IO[bytes], stream: IO[bytes], count: int) -> None:
    while count > 0:
        chunk = original.read(min(count, _CHUNK))
        if not chunk:
            break
        stream.write(chunk)
        count -= len(chunk)


def _read_start_tag(original: IO[bytes]) -> bytes:
    """The bytes from '<' to the '>' that ends the tag ('>' inside a quoted value is text)."""
    start, size = original.tell(), 1 << 12
    while True:
        block = original.read(size)
        tag = _START_TAG.match(block)
        if tag or len(block) < size:  # found, or the file ends inside the tag (checked later)
            found = tag.group(0) if tag else block
            original.seek(start + len(found))
            return found
        original.seek(start)
        size *= 4


class _TagEdit:
    """A TRACK start tag's text with some attributes set; records each real change."""

    def __init__(self, text: str, track_id: str, values: dict[str, str]) -> None:
        self.text = text
        self.track_id = track_id
        self.values = dict(values)
        self.changes: list[FieldChange] = []

    def set(self, name: str, value: str) -> None:
        old = self.values.get(name)
        if old == value or (old is None and not value):
            return
        self.text = _with_attribute(self.text, name, value, present=old is not None)
        self.values[name] = value
        self.changes.append(FieldChange(self.track_id, self.values.get("Artist", ""),
                                        self.values.get("Name", ""), name, old or "", value))


def _with_attribute(tag: str, name: str, value: str, *, present: bool) -> str:
    quoted = '"' + _escape(value) + '"'
    if present:
        def replace(match: re.Match[str]) -> str:
            if match.group(2) != name:
                return match.group(0)
            return match.group(1) + name + match.group(3) + quoted
        return _ATTRIBUTE.sub(replace, tag)
    body = tag[:len(tag) - (2 if tag.endswith("/>") else 1)].rstrip()
    return f"{body} {name}={quoted}{tag[len(body):]}"


def _escape(value: str) -> str:
    # Character references for whitespace controls, or attribute normalisation would turn
    # them into spaces when Rekordbox reads the file back.
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;")
            .replace("\t", "&#9;"))


# --- what changes ------------------------------------------------------------------------

def _apply_beatport(edit: _TagEdit, track: BeatportTrack, options: ExportOptions,
                    marker: str) -> None:
    """Set the fields the options allow from the Beatport track; empty values never erase."""
    values = edit.values
    year = values.get("Year", "").strip()
    rekordbox = {"tonality": values.get("Tonality", ""), "average_bpm": values.get("AverageBpm"),
                 "genre": values.get("Genre", ""), "label": values.get("Label", ""),
                 "year": "" if year in ("", "0") else year, "mix": values.get("Mix", "")}
    final = {name: getattr(track, name) for name in BeatportTrack.__slots__}
    attributes = {name: attribute for name, _, attribute in FIELDS}
    for change in field_changes(rekordbox, final, options):
        if change["changed"]:
            edit.set(attributes[change["field"]], change["written"])
    remixers = ", ".join(track.remixers)
    if "mix" in options.fields and remixers and (
            options.mode == "overwrite" or not values.get("Remixer", "")):
        edit.set("Remixer", remixers)
    if options.comments:
        edit.set("Comments", with_marker(edit.values.get("Comments", ""), marker, track.id))


def with_marker(comments: str, marker: str, beatport_id: int) -> str:
    """Comments ending in "<marker>: Beatport <id>", any earlier such note removed first."""
    earlier = re.compile(r"\s*(?:\|\s*)?" + re.escape(marker) + r": Beatport \d+")
    kept = earlier.sub("", comments).strip()
    note = f"{marker}: Beatport {beatport_id}"
    return f"{kept} | {note}" if kept else note


# --- writing -------------------------------------------------------------------------------

def _write_changes(path: Path, changes: list[FieldChange]) -> None:
    # utf-8-sig: Excel, where a DJ is likely to open it, reads UTF-8 only with the BOM.
    with whole_file(path, "w", encoding="utf-8-sig", newline="") as stream:
        write_rows: Callable[[list[list[str]]], None] = csv.writer(stream).writerows
        write_rows([list(CHANGES_COLUMNS)])
        write_rows([[spreadsheet_safe(cell) for cell in
                     (c.track_id, c.artist, c.title, c.field, c.old, c.new)] for c in changes])
