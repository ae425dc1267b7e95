"""Turn the SAX events of a Rekordbox XML export into tracks and a draft of the playlist tree.

The handler keeps only what the DJ's playlists need: one RekordboxTrack per COLLECTION TRACK
and, per playlist NODE, its entry keys with their line numbers. TRACK children (TEMPO,
POSITION_MARK) are never stored, so memory grows with the number of tracks, not cue points.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol
from xml.sax.handler import ContentHandler, LexicalHandler
from xml.sax.xmlreader import AttributesImpl, Locator

from cuepoint_tray.domain import RekordboxTrack
from cuepoint_tray.errors import RekordboxError

NodeKind = Literal["folder", "playlist"]
ROOT_ELEMENT = "DJ_PLAYLISTS"
# Deeper folder trees than this are not a real library; refusing them keeps the recursive
# tree building below Python's recursion limit.
MAX_FOLDER_DEPTH = 200
MAX_DEPTH = MAX_FOLDER_DEPTH + 56  # a real export nests ~6 deep outside the playlist folders
_KINDS: dict[str, NodeKind] = {"0": "folder", "1": "playlist"}
_KEY_TYPES = ("0", "1")
# How the DJ fixes most problems, inside a sentence and as one.
REEXPORT = "export the collection again from Rekordbox (File > Export Collection in xml format)"
REEXPORT_SENTENCE = REEXPORT[0].upper() + REEXPORT[1:]


@dataclass(slots=True)
class NodeDraft:
    """A NODE as read: its kind is None until its Type or its content says which it is."""

    name: str
    kind: NodeKind | None
    key_type: str
    line: int | None
    entries: list[tuple[str, int | None]] = field(default_factory=list)
    children: list[NodeDraft] = field(default_factory=list)


class ExportHandler(ContentHandler, LexicalHandler):
    """Collects tracks and the playlist tree; raises RekordboxError where the export is wrong."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.tracks: dict[str, RekordboxTrack] = {}
        self.playlists_element = NodeDraft("PLAYLISTS", "folder", "0", None)
        self.started = False
        self.saw_collection = False
        self._track_lines: dict[str, int | None] = {}
        self._open_nodes: list[NodeDraft] = []
        self._section = ""
        self._locator: Locator | None = None
        # Lines of the file the parser was not given (the collection, when only the playlist
        # tree is read): added to the parser's line numbers once it is past them.
        self.lines_skipped = 0
        self.depth = 0
        self.elements_seen = 0  # the reader's guard watches it move
        self._starts: dict[str, Callable[[AttributesImpl], None]] = {
            "TRACK": self._start_track,
            "NODE": self._start_node,
            "COLLECTION": self._start_collection,
            "PLAYLISTS": self._start_playlists,
        }

    @property
    def line(self) -> int | None:
        """The line the parser is at, for messages."""
        line = self._locator.getLineNumber() if self._locator else None
        return None if line is None else line + self.lines_skipped

    def fail(self, message: str) -> RekordboxError:
        """An error at the current line of this file."""
        return RekordboxError(message, path=str(self.path), line=self.line)

    # --- SAX callbacks (camelCase: SAX names them) -----------------------------------------

    def setDocumentLocator(self, locator: Locator) -> None:
        self._locator = locator

    def startElement(self, name: str, attrs: AttributesImpl) -> None:
        self.depth += 1
        self.elements_seen += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"The Rekordbox XML has elements nested more than {MAX_DEPTH} deep, "
                            "which Rekordbox never writes; refused. " + REEXPORT_SENTENCE)
        if not self.started:
            self._start_document_element(name)
        start = self._starts.get(name)
        if start is not None:
            start(attrs)

    def endElement(self, name: str) -> None:
        self.depth -= 1
        self.elements_seen += 1
        if name == "NODE" and self._section == "PLAYLISTS" and len(self._open_nodes) > 1:
            self._open_nodes.pop()
        elif name in ("COLLECTION", "PLAYLISTS"):
            self._section = ""

    def endDTD(self) -> None:
        # defusedxml already refuses entity declarations and external references as they
        # come; a bare DOCTYPE is harmless but Rekordbox never writes one, so refuse it too.
        raise self.fail("The Rekordbox XML contains a DOCTYPE declaration, which Rekordbox "
                        "never writes; refused for safety. " + REEXPORT_SENTENCE)

    def finish(self) -> None:
        """Checks that need the whole file: call after the parser has read it all."""
        if not self.saw_collection:
            raise RekordboxError(
                "The Rekordbox XML has no COLLECTION of tracks: " + REEXPORT,
                path=str(self.path))

    # --- elements -------------------------------------------------------------------------

    def _start_document_element(self, name: str) -> None:
        self.started = True
        if name != ROOT_ELEMENT:
            raise self.fail(
                f"This is not a Rekordbox collection: its top element is <{name}>, not "
                f"<{ROOT_ELEMENT}>; in Rekordbox use File > Export Collection in xml format")

    def _start_collection(self, attrs: AttributesImpl) -> None:
        self.saw_collection = True
        self._section = "COLLECTION"

    def _start_playlists(self, attrs: AttributesImpl) -> None:
        self._section = "PLAYLISTS"
        self._open_nodes = [self.playlists_element]

    def _start_track(self, attrs: AttributesImpl) -> None:
        if len(self._open_nodes) > 1:
            self._add_entry(self._open_nodes[-1], attrs)
        elif self._section == "COLLECTION":
            self._add_track(attrs)

    def _add_track(self, attrs: AttributesImpl) -> None:
        track_id = attrs.get("TrackID", "").strip()
        if not track_id:
            raise self.fail(f"A track in the collection has no TrackID: {REEXPORT}")
        if track_id in self.tracks:
            first = self._track_lines[track_id]
            raise self.fail(f"Track ID {track_id} appears twice in the collection (first at "
                            f"line {first}): {REEXPORT}")
        self.tracks[track_id] = track_from_attributes(track_id, attrs)
        self._track_lines[track_id] = self.line

    def _add_entry(self, node: NodeDraft, attrs: AttributesImpl) -> None:
        if node.kind == "folder":
            raise self.fail(f"Folder '{node.name}' (line {node.line}) holds track entries, "
                            f"which only playlists can: {REEXPORT}")
        node.kind = "playlist"
        node.entries.append((attrs.get("Key", ""), self.line))

    def _start_node(self, attrs: AttributesImpl) -> None:
        if self._section != "PLAYLISTS":
            return
        parent = self._open_nodes[-1]
        node = self._node_from_attributes(attrs)
        if parent.kind == "playlist":
            raise self.fail(f"Playlist '{parent.name}' (line {parent.line}) holds the "
                            f"folder or playlist '{node.name}', which a playlist cannot: "
                            f"{REEXPORT}")
        if len(self._open_nodes) > MAX_FOLDER_DEPTH:
            raise self.fail(f"Folders are nested more than {MAX_FOLDER_DEPTH} deep, which "
                            f"Rekordbox never does: {REEXPORT}")
        parent.kind = "folder"
        parent.children.append(node)
        self._open_nodes.append(node)

    def _node_from_attributes(self, attrs: AttributesImpl) -> NodeDraft:
        name = attrs.get("Name", "")
        key_type = attrs.get("KeyType", "0").strip() or "0"
        if key_type not in _KEY_TYPES:
            raise self.fail(f"Playlist '{name}' has KeyType=\"{key_type}\"; Rekordbox writes "
                            f"0 (track IDs) or 1 (file locations): {REEXPORT}")
        # A missing or unknown Type is inferred from the content (children or entries).
        kind = _KINDS.get(attrs.get("Type", "").strip())
        return NodeDraft(name, kind, key_type, self.line)


class Attributes(Protocol):
    def get(self, name: str, default: str, /) -> str: ...


def track_from_attributes(track_id: str, attrs: Attributes) -> RekordboxTrack:
    """A RekordboxTrack from a COLLECTION TRACK's attributes; missing ones read as empty."""
    text = attrs.get
    return RekordboxTrack(
        track_id=track_id, name=text("Name", ""), artist=text("Artist", ""),
        album=text("Album", ""), genre=text("Genre", ""), label=text("Label", ""),
        mix=text("Mix", ""), remixer=text("Remixer", ""), year=_positive_int(text("Year", "")),
        total_time=_positive_int(text("TotalTime", "")),
        average_bpm=_positive_float(text("AverageBpm", "")), tonality=text("Tonality", ""),
        location=text("Location", ""), comments=text("Comments", ""))


def _positive_float(value: str) -> float | None:
    """Rekordbox writes 0 for unknown; some tools write a decimal comma. Unreadable → None."""
    try:
        number = float(value.replace(",", "."))
    except ValueError:
        return None
    return number if number > 0 else None


def _positive_int(value: str) -> int | None:
    number = _positive_float(value)
    return int(number) if number is not None else None
