"""Read an XML export's playlist tree without parsing its collection; read a playlist's
tracks when it is matched.

The menu, `cuepoint playlists` and the dashboard need the playlist tree, each entry checked
against the collection, but not the tracks: in a 50,000-track export the PLAYLISTS section is
0.2 MB of 77 MB, the rest is TRACKs with their beat grids and cue points. So:

- the file up to the end of the COLLECTION start tag and the file from `</COLLECTION>` on are
  parsed as one document by `read_library`'s own hardened parser and handler (defusedxml: no
  DOCTYPE, no entity, nothing fetched), with the lines in between counted so that every line
  number is the file's;
- the collection in between is scanned, not parsed, for each TRACK's TrackID (and, when a
  playlist names its tracks by location, each Location), to resolve the entries;
- `tracks_of` checks the whole file with expat (in C, no Python call per element: DOCTYPEs
  and entities refused as everywhere) the first time, then parses the start tags of only the
  wanted TRACKs.

The scan relies on what Rekordbox writes: UTF-8, attributes in double quotes, no comment,
CDATA section or processing instruction in the collection, only TRACK, TEMPO and POSITION_MARK
elements there. `read_tree` answers None for any file that is otherwise (another tool's, a
damaged or hostile one), and the caller reads it whole with `read_library`, so it reads, or
is refused, exactly as before. Damage inside the collection that only a parse would see is
found by `tracks_of`: the session does not start, and the DJ hears what `read_library` says.

The scan's C calls each cover a few megabytes at most, so a thread reading a big export lets
the others (the tray's GTK main loop) run every few milliseconds.

What the scan found is kept for the last collection scanned, under a SHA-256 of its bytes
(hashed without holding the GIL): an export whose collection is byte for byte the same as the
last one (playlists renamed, moved or filled, nothing else touched) is not scanned again, so
a re-read costs the tray a fifth of the CPU and the other threads run throughout.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from xml.parsers import expat

from cuepoint_tray.domain import Playlist, PlaylistFolder, RekordboxTrack
from cuepoint_tray.errors import RekordboxError
from cuepoint_tray.rekordbox.library import ExportTree
from cuepoint_tray.rekordbox.parse_errors import declared_encoding
from cuepoint_tray.rekordbox.reader import MAX_BYTES_WITHOUT_A_TAG, parse_into, read_library
from cuepoint_tray.rekordbox.tree import EntryResolver, MissingEntry, build_root
from cuepoint_tray.rekordbox.xml_handler import ExportHandler, NodeDraft, track_from_attributes

# Bigger exports are streamed by read_library: this reader holds the file in memory while it
# reads (a 50,000-track export is 77 MB).
MAX_FILE_BYTES = 512 << 20
_SLICE = 4 << 20  # bytes per C call over the file's content
_MAX_ID_BYTES = 256
_MAX_TAG_BYTES = 1 << 16

# One pass over the collection: every TRACK start tag with its TrackID (Rekordbox writes it
# first, other tools anywhere in the tag), and every '<' that would make a scan unsafe: a
# comment, CDATA section, DOCTYPE or processing instruction ('<!', '<?'), an element other
# than TRACK, TEMPO and POSITION_MARK ('<' + a letter other than T or P), the end of one
# ('</' + other than T or P), and PLAYLISTS. Both groups are None for those.
_SCAN = re.compile(rb'<(?:TRACK(?=[\s/>])(?:\s+(?:TrackID="([^"]{0,%d})"|[^>]*?\sTrackID="'
                   rb'([^"]{0,%d})"))?|[^TP/]|/[^TP]|/?PL)' % (_MAX_ID_BYTES, _MAX_ID_BYTES))
# The same, with each TRACK start tag's text (to read its Location too).
_SCAN_TAGS = re.compile(rb"<(?:TRACK(?=[\s/>])([^>]{0,%d})>|[^TP/]|/[^TP]|/?PL)"
                        % _MAX_TAG_BYTES)
_SINGLE_QUOTED = re.compile(rb"=\s*'")
_UNUSUAL_ID = re.compile(rb"[&<\x00-\x1f]")
_COLLECTION = re.compile(rb"<COLLECTION(?=[\s/>])")
_START_TAG = re.compile(rb"""<[^>"']*(?:(?:"[^"]*"|'[^']*')[^>"']*)*>""")
_REFERENCE = re.compile(r"&(?:#([0-9]+)|#x([0-9a-fA-F]+)|(lt|gt|amp|quot|apos));|&")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_UTF8 = ("utf-8", "utf-8-sig")
CHANGED = ("The Rekordbox XML changed on disk while CuePoint was reading it: wait until "
           "the export is written, then try again")


class _Unusual(Exception):
    """The file is not as Rekordbox writes it: read it whole instead."""


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where the collection's content is: from the end of its start tag to `</COLLECTION>`."""

    start: int
    end: int


# --- the tree --------------------------------------------------------------------------------

class ExportPlaylists(ExportTree):
    """An export's playlist tree, read without its collection; tracks are read per playlist
    (`tracks_of`) from the file as it was when the tree was read."""

    def __init__(self, path: Path, root: PlaylistFolder, stamp: tuple[int, int],
                 layout: _Layout) -> None:
        self.path = path
        self.root = root
        self._stamp = stamp
        self._layout = layout
        self._lock = threading.Lock()
        self._checked = False  # the whole file was found well-formed
        self._tracks: dict[str, RekordboxTrack] = {}

    def tracks_of(self, playlist: Playlist) -> list[RekordboxTrack]:
        """The playlist's tracks in playlist order; raises when it is empty, has bad entries,
        the file is damaged, or it changed since the tree was read."""
        self.check_matchable(playlist)
        with self._lock:
            wanted = {key for key in playlist.track_ids if key not in self._tracks}
            if wanted:
                self._tracks.update(self._read_tracks(wanted))
            unknown = [key for key in playlist.track_ids if key not in self._tracks]
            if unknown:
                raise self._missing_error(playlist, [MissingEntry(unknown[0], "0", None)])
            return [self._tracks[key] for key in playlist.track_ids]

    def _read_tracks(self, wanted: set[str]) -> dict[str, RekordboxTrack]:
        data = _read_unchanged(self.path, self._stamp)
        try:
            if not self._checked:
                if not _well_formed(data):
                    raise _Unusual
                self._checked = True
            return _parse_tracks(_start_tags(data, self._layout, wanted))
        except _Unusual:
            # read_library says what is wrong, in the DJ's words, with the line.
            library = read_library(self.path)
            return {key: library.tracks[key] for key in wanted if key in library.tracks}


def read_tree(path: Path) -> ExportPlaylists | None:
    """The export's playlist tree with every entry resolved, or None when the file must be
    read whole by read_library (it is not as Rekordbox writes it, or it has an error, which
    read_library names). Raises RekordboxError only when the file cannot be read at all."""
    try:
        stamp = _stamp(path)
        if not 0 < stamp[0] <= MAX_FILE_BYTES:
            return None
        data = _read(path)
        if _stamp(path) != stamp:
            raise RekordboxError(CHANGED, path=str(path))
        return _tree(path, data, stamp)
    except _Unusual:
        return None
    except OSError:
        return None  # read_library says why the file cannot be opened or read


def _tree(path: Path, data: bytes, stamp: tuple[int, int]) -> ExportPlaylists:
    if declared_encoding(data[:512])[0] not in _UTF8:
        raise _Unusual
    if _longest_without_a_tag(data) > MAX_BYTES_WITHOUT_A_TAG:
        raise _Unusual  # read_library refuses it, in its words
    layout = _layout(data)
    scanned = _Scanned.of(data, layout)
    handler = ExportHandler(path)
    try:
        parse_into(handler, _Spliced(data, layout, handler, scanned.lines), path)
    except RekordboxError:
        raise _Unusual from None  # read_library names the error with the file's own lines
    # Locations are scanned only when an entry names its track by one (KeyType 1).
    track_ids, (locations, owners) = scanned.scan(data, layout, locations=_names_locations(
        handler.playlists_element))
    resolver = EntryResolver(track_ids, lambda: zip(locations, owners, strict=True))
    return ExportPlaylists(path, build_root(handler.playlists_element, resolver), stamp, layout)


_SEPARATOR = b"\x00"  # in no TrackID (refused by the scan) nor decoded Location (see keep)


@dataclass(frozen=True, slots=True)
class _Scanned:
    """What the collection's bytes tell, without parsing them: its line breaks, its
    TrackIDs and (when asked) its tracks' Locations with their TrackIDs. Kept for the last
    collection scanned, each list as one NUL-separated bytes object: 100,000 small objects
    kept from one re-read to the next would leave the heap fragmented and the tray's memory
    growing; they are made again, in C, for each tree and go with it."""

    digest: bytes
    lines: int
    track_ids: bytes | None = None
    locations: bytes | None = None  # UTF-8
    owners: bytes | None = None

    @classmethod
    def of(cls, data: bytes, layout: _Layout) -> _Scanned:
        """The last scan when the collection is the same, byte for byte; else only its
        lines, counted now."""
        # hashlib lets go of the GIL while it hashes a big buffer.
        digest = hashlib.sha256(memoryview(data)[layout.start:layout.end]).digest()
        with _last_lock:
            last = _last[0]
            if last is not None and last.digest != digest:
                _last[0] = last = None  # another collection: its scan is of no more use
        if last is not None:
            return last
        return cls(digest, _lines(data, layout))

    def scan(self, data: bytes, layout: _Layout, *,
             locations: bool) -> tuple[_TrackIds, tuple[list[str], list[str]]]:
        """The collection's TrackIDs, and with `locations` its Locations and their
        TrackIDs in order (else two empty lists): from the kept scan when it has them, else
        scanned now and kept. _Unusual as the scans raise it."""
        found: tuple[list[str], list[str]] = ([], [])
        if self.track_ids is not None and (self.locations is not None or not locations):
            if locations and self.locations is not None and self.owners is not None:
                found = (_split(self.locations), _split(self.owners))
            return _TrackIds.of(self.track_ids), found
        track_ids = _TrackIds()
        if locations:
            found = _tracks_with_locations(data, layout, track_ids)
        else:
            _scan_track_ids(data, layout, track_ids)
        self._keep(track_ids, found if locations else None)
        return track_ids, found

    def _keep(self, track_ids: _TrackIds, found: tuple[list[str], list[str]] | None) -> None:
        global collection_scans
        kept = _Scanned(self.digest, self.lines, track_ids.joined())
        if found is not None:
            locations = "\x00".join(found[0])
            if locations.count("\x00") == max(len(found[0]) - 1, 0):  # no NUL of their own
                kept = replace(kept, locations=locations.encode("utf-8"),
                               owners="\x00".join(found[1]).encode("ascii"))
        with _last_lock:
            _last[0] = kept
            collection_scans += 1


def _split(joined: bytes) -> list[str]:
    return joined.decode("utf-8").split("\x00") if joined else []


_last: list[_Scanned | None] = [None]
_last_lock = threading.Lock()
collection_scans = 0  # how many times a collection was scanned (read by the tests)


def _layout(data: bytes) -> _Layout:
    """Where the collection's content starts and ends; _Unusual when anything before it could
    hide or fake its start tag (a comment, a processing instruction), or it is empty."""
    found = _COLLECTION.search(data)
    if found is None:
        raise _Unusual
    before = data[:found.start()]
    declaration = before.find(b"<?xml")
    if b"<!" in before or before.count(b"<?") != (1 if declaration >= 0 else 0) or (
            declaration > 3):  # a declaration comes first, after a byte order mark at most
        raise _Unusual
    tag = _START_TAG.match(data, found.start())
    end = data.rfind(b"</COLLECTION")
    if tag is None or tag.group(0).endswith(b"/>") or end < tag.end():
        raise _Unusual
    return _Layout(tag.end(), end)


class _TrackIds:
    """The collection's TrackIDs, checked as they are added: one bytes object per track is
    all that lives while the tree is built (no list, no decoded copy), so the tray's heap
    is left as it was found."""

    def __init__(self) -> None:
        self._ids: set[bytes] = set()

    @classmethod
    def of(cls, joined: bytes) -> _TrackIds:
        """The TrackIDs `joined` made (already checked when they were added)."""
        track_ids = cls()
        track_ids._ids = set(joined.split(_SEPARATOR)) if joined else set()
        return track_ids

    def joined(self) -> bytes:
        """All the TrackIDs in one bytes object, NUL-separated (none holds a NUL)."""
        return _SEPARATOR.join(self._ids)

    def add(self, raw: bytes) -> bytes:
        """Add a TRACK's TrackID as written; _Unusual for one read_library would refuse
        (missing, empty, repeated) or would read otherwise (escaped, non-ASCII, controls)."""
        value = raw.strip()
        if not value or not raw.isascii() or _UNUSUAL_ID.search(raw) or value in self._ids:
            raise _Unusual
        self._ids.add(value)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.isascii() and key.encode("ascii") in self._ids


def _scan_track_ids(data: bytes, layout: _Layout, track_ids: _TrackIds) -> None:
    """Every collection TRACK's TrackID; _Unusual for a collection the scan cannot read as
    the parser would."""
    for match in _SCAN.finditer(data, layout.start, layout.end):
        value = match.group(1)
        if value is None:
            value = match.group(2)
            if value is None or _SINGLE_QUOTED.search(data, match.start(), match.end()):
                raise _Unusual
        track_ids.add(value)


def _tracks_with_locations(data: bytes, layout: _Layout,
                           track_ids: _TrackIds) -> tuple[list[str], list[str]]:
    """_scan_track_ids, and the Location and TrackID of each TRACK with a Location, in
    order (two lists, not 50,000 pairs for the garbage collector to walk)."""
    locations: list[str] = []
    owners: list[str] = []
    for match in _SCAN_TAGS.finditer(data, layout.start, layout.end):
        text = match.group(1)
        if text is None or text.count(b'"') % 2 or (
                b"'" in text and _SINGLE_QUOTED.search(text)):
            raise _Unusual  # not a TRACK; a '>' inside a value; values in single quotes
        track_id = _value_of(text, b'TrackID="')
        if track_id is None or len(track_id) > _MAX_ID_BYTES:
            raise _Unusual
        track_id = track_ids.add(track_id)
        location = _value_of(text, b'Location="')
        if location:
            locations.append(_attribute(location))
            owners.append(track_id.decode("ascii"))
    return locations, owners


def _names_locations(node: NodeDraft) -> bool:
    """Whether a playlist under node has entries naming tracks by location (KeyType 1)."""
    return any((child.key_type == "1" and bool(child.entries)) or _names_locations(child)
               for child in node.children)


def _value_of(text: bytes, name_quote: bytes) -> bytes | None:
    """The raw value of the attribute `name="` in a start tag's text whose values are all in
    double quotes (so `name="` inside a value is impossible), or None."""
    at = text.find(name_quote)
    while at > 0 and not text[at - 1:at].isspace():
        at = text.find(name_quote, at + 1)
    if at <= 0:
        return None
    start = at + len(name_quote)
    return text[start:text.find(b'"', start)]


# --- a playlist's tracks ---------------------------------------------------------------------

def _read_unchanged(path: Path, stamp: tuple[int, int]) -> bytes:
    try:
        if _stamp(path) == stamp:
            data = _read(path)
            if _stamp(path) == stamp:
                return data
    except OSError as exc:
        raise RekordboxError(f"The Rekordbox XML could not be read ({exc.strerror or exc}): "
                             "check the disk and export again", path=str(path)) from exc
    raise RekordboxError(CHANGED, path=str(path))


def _well_formed(data: bytes) -> bool:
    """Whether expat reads the whole file without an error, a DOCTYPE, an entity declaration
    or a tag longer than read_library takes. No Python runs per element: the C parser does
    it all, a slice at a time."""
    if _longest_without_a_tag(data) > MAX_BYTES_WITHOUT_A_TAG:
        return False
    parser = expat.ParserCreate()

    def refuse(*_: object) -> Any:
        raise _Unusual

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    try:
        for start in range(0, len(data), _SLICE):
            parser.Parse(data[start:start + _SLICE], False)
        parser.Parse(b"", True)
    except (expat.ExpatError, _Unusual):
        return False
    return True


def _longest_without_a_tag(data: bytes) -> int:
    """The longest run of bytes without a '<' (a tag's own bytes hold none)."""
    longest, last = 0, -1
    for start in range(0, len(data), _SLICE):
        end = min(start + _SLICE, len(data))
        first = data.find(b"<", start, end)
        if first < 0:
            continue
        longest = max(longest, first - last)
        last = data.rfind(b"<", start, end)
    return max(longest, len(data) - last)


def _start_tags(data: bytes, layout: _Layout, wanted: set[str]) -> dict[str, bytes]:
    """The start tag of each wanted collection TRACK, by TrackID."""
    tags: dict[str, bytes] = {}
    for match in _SCAN.finditer(data, layout.start, layout.end):
        value = match.group(1) if match.group(1) is not None else match.group(2)
        if value is None:
            raise _Unusual
        track_id = _decoded(value).strip()
        if track_id in wanted and track_id not in tags:
            tag = _START_TAG.match(data, match.start())
            if tag is None:
                raise _Unusual
            tags[track_id] = tag.group(0)
    return tags


def _parse_tracks(tags: dict[str, bytes]) -> dict[str, RekordboxTrack]:
    """RekordboxTracks from TRACK start tags, decoded by expat as the whole file's parse
    would decode them."""
    tracks: dict[str, RekordboxTrack] = {}
    parser = expat.ParserCreate("utf-8")

    def start(name: str, attrs: dict[str, str]) -> None:
        if name == "TRACK":
            track_id = attrs.get("TrackID", "").strip()
            tracks[track_id] = track_from_attributes(track_id, attrs)

    parser.StartElementHandler = start
    closed = (tag if tag.endswith(b"/>") else tag[:-1] + b"/>" for tag in tags.values())
    try:
        parser.Parse(b"<COLLECTION>" + b"".join(closed) + b"</COLLECTION>", True)
    except expat.ExpatError:
        raise _Unusual from None
    return tracks


# --- bytes -----------------------------------------------------------------------------------

class _Spliced:
    """The file without its collection's content, as a stream for the parser: the handler's
    line numbers are moved on by the lines left out once the parser is past them."""

    def __init__(self, data: bytes, layout: _Layout, handler: ExportHandler,
                 lines: int) -> None:
        self._parts = iter([(data, 0, layout.start, 0), (data, layout.end, len(data), lines)])
        self._handler = handler
        self._part: tuple[bytes, int, int, int] | None = None

    def read(self, size: int = -1, /) -> bytes:
        if size == 0:
            return b""
        while self._part is None or self._part[1] >= self._part[2]:
            self._part = next(self._parts, None)
            if self._part is None:
                return b""
            # The parser has handled everything it was given before asking for more.
            self._handler.lines_skipped = self._part[3]
        data, start, end, skipped = self._part
        stop = end if size < 0 else min(end, start + size)
        self._part = (data, stop, end, skipped)
        return data[start:stop]


def _lines(data: bytes, layout: _Layout) -> int:
    """Line breaks between the collection's start and end, counted as expat does (\\n, \\r\\n
    and a lone \\r are one each)."""
    count = 0
    for start in range(layout.start, layout.end, _SLICE):
        end = min(start + _SLICE, layout.end)
        count += data.count(b"\n", start, end)
        if data.find(b"\r", start, end) >= 0:
            # A \r\n across two slices is counted once: as the \n of the next one.
            count += data.count(b"\r", start, end) - data.count(b"\r\n", start, end) - (
                data[end - 1:end + 1] == b"\r\n")
    return count


def _attribute(raw: bytes) -> str:
    """An attribute's value as an XML parser gives it: line ends and tabs read as spaces,
    the five named and the numeric references replaced; _Unusual for anything else."""
    text = _decoded(raw)
    if "&" not in text and "\t" not in text and "\n" not in text and "\r" not in text:
        return text
    text = text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ").replace("\t", " ")
    return _REFERENCE.sub(_reference, text)


def _reference(match: re.Match[str]) -> str:
    decimal, hexadecimal, name = match.groups()
    if name:
        return _NAMED[name]
    if decimal is None and hexadecimal is None:
        raise _Unusual  # an entity the document would have to declare
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if not (code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
            or 0x10000 <= code <= 0x10FFFF):
        raise _Unusual
    return chr(code)


def _decoded(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _Unusual from None


def _read(path: Path) -> bytes:
    with path.open("rb") as stream:
        return stream.read()


def _stamp(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_size, info.st_mtime_ns
