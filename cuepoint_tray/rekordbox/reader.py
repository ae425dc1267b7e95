"""Read a Rekordbox XML export into a Library, safely and in one streaming pass.

The export is a file the DJ picked, so it is parsed with defusedxml's SAX driver: entity
declarations, external references and DOCTYPEs are refused, and nothing is fetched. SAX keeps
memory flat (no element tree is built, TRACK children are skipped as they stream past) and
gives the line number of every element for the messages.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol
from xml.sax import SAXParseException
from xml.sax.handler import feature_external_ges, feature_external_pes, property_lexical_handler

from defusedxml import EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.expatreader import DefusedExpatParser

from cuepoint_tray.errors import RekordboxError
from cuepoint_tray.rekordbox import parse_errors
from cuepoint_tray.rekordbox.library import Library
from cuepoint_tray.rekordbox.tree import EntryResolver, build_root
from cuepoint_tray.rekordbox.xml_handler import REEXPORT_SENTENCE, ExportHandler

_READ_BYTES = 1 << 20  # fewer, larger reads: the SAX default (64 KiB) costs time on big files
# The longest run of bytes without a tag opening or closing. Expat holds a tag whole before
# handing it over, so this bounds memory; Rekordbox's longest tags are a few KiB.
MAX_BYTES_WITHOUT_A_TAG = 16 << 20


def read_library(path: str | os.PathLike[str]) -> Library:
    """Read the Rekordbox XML at path; every problem with the file raises RekordboxError."""
    file_path = Path(path)
    with _opened(file_path) as stream:
        handler = _parse(stream, file_path)
    root = build_root(handler.playlists_element, EntryResolver.of_tracks(handler.tracks))
    return Library(path=file_path, tracks=handler.tracks, root=root)


@contextmanager
def _opened(path: Path) -> Iterator[BinaryIO]:
    if not path.exists():
        raise RekordboxError("The Rekordbox XML does not exist: check the path, or export "
                             "your collection from Rekordbox first", path=str(path))
    if path.is_dir():
        raise RekordboxError("The Rekordbox XML path is a folder: give the .xml file inside "
                             "it", path=str(path))
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise RekordboxError(f"The Rekordbox XML cannot be opened ({exc.strerror}): check the "
                             "file's permissions", path=str(path)) from exc
    with stream:
        yield stream


def _parse(stream: BinaryIO, path: Path) -> ExportHandler:
    handler = ExportHandler(path)
    if os.fstat(stream.fileno()).st_size == 0:
        raise parse_errors.empty_file(path)
    parse_into(handler, stream, path)
    return handler


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def parse_into(handler: ExportHandler, stream: Readable, path: Path) -> None:
    """Parse the export's bytes from stream into handler with the hardened parser; every
    problem raises RekordboxError, naming path."""
    parser = _safe_parser(handler)
    try:
        parser.parse(_TagWatch(stream, handler))
    except SAXParseException as exc:
        raise parse_errors.syntax_error(path, exc, handler.started) from exc
    except EntitiesForbidden as exc:
        raise parse_errors.refused_entity(path, exc, handler.line) from exc
    except ExternalReferenceForbidden as exc:
        raise parse_errors.refused_reference(path, exc, handler.line) from exc
    except (LookupError, UnicodeError) as exc:  # an encoding Python's codecs cannot read
        raise parse_errors.undecodable(path, exc) from exc
    except OSError as exc:
        raise RekordboxError(f"The Rekordbox XML could not be read ({exc.strerror or exc}): "
                             "check the disk and export again", path=str(path)) from exc
    handler.finish()


class _TagWatch:
    """The file as the parser reads it, refusing a single tag or text of many megabytes (a
    200 MB attribute would otherwise be held in memory several times over)."""

    def __init__(self, stream: Readable, handler: ExportHandler) -> None:
        self.stream = stream
        self.handler = handler
        self._seen = -1
        self._bytes_since_tag = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        if self.handler.elements_seen != self._seen:
            self._seen, self._bytes_since_tag = self.handler.elements_seen, 0
        self._bytes_since_tag += len(chunk)
        if self._bytes_since_tag > MAX_BYTES_WITHOUT_A_TAG:
            raise self.handler.fail(
                f"The Rekordbox XML has a single tag or text over "
                f"{MAX_BYTES_WITHOUT_A_TAG >> 20} MB long, which Rekordbox never writes; "
                "refused. " + REEXPORT_SENTENCE)
        return chunk

    def close(self) -> None:
        close = getattr(self.stream, "close", None)
        if close is not None:
            close()


def _safe_parser(handler: ExportHandler) -> DefusedExpatParser:
    parser = DefusedExpatParser(bufsize=_READ_BYTES, forbid_dtd=False, forbid_entities=True,
                                forbid_external=True)
    parser.setFeature(feature_external_ges, False)
    parser.setFeature(feature_external_pes, False)
    parser.setContentHandler(handler)
    # The lexical handler sees the end of a DOCTYPE; the handler refuses it there, after
    # defusedxml has had the chance to name an entity declaration inside it.
    parser.setProperty(property_lexical_handler, handler)
    return parser
