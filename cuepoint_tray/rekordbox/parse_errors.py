"""Why an export could not be parsed, in a DJ's words: turns parser failures into RekordboxError.

Expat reports bytes that are wrong for the declared encoding as a generic "invalid token";
the file is decoded again here so the DJ hears that the encoding is the problem.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from xml.parsers.expat import errors as expat_errors
from xml.sax import SAXParseException

from defusedxml import EntitiesForbidden, ExternalReferenceForbidden

from cuepoint_tray.errors import RekordboxError
from cuepoint_tray.rekordbox.xml_handler import REEXPORT, REEXPORT_SENTENCE

_REFUSED = "which Rekordbox never writes; refused for safety"
_CUT_OFF = {
    expat_errors.XML_ERROR_NO_ELEMENTS,
    expat_errors.XML_ERROR_UNCLOSED_TOKEN,
    expat_errors.XML_ERROR_PARTIAL_CHAR,
    expat_errors.XML_ERROR_UNCLOSED_CDATA_SECTION,
}
_DECLARED = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z][\w.:-]*)["']""")
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


def empty_file(path: Path) -> RekordboxError:
    return RekordboxError(f"The Rekordbox XML is empty: {REEXPORT}", path=str(path))


def syntax_error(path: Path, exc: SAXParseException, started: bool) -> RekordboxError:
    """The RekordboxError for XML the parser could not read."""
    reason, line = exc.getMessage(), exc.getLineNumber()
    if not started and reason == expat_errors.XML_ERROR_NO_ELEMENTS:
        return empty_file(path)
    if not started and reason not in _CUT_OFF:
        return RekordboxError(
            f"This file is not an XML export ({reason}): choose the file Rekordbox writes "
            "with File > Export Collection in xml format", path=str(path), line=line)
    wrong_encoding = encoding_error(path)
    if wrong_encoding is not None:
        return wrong_encoding
    if reason in _CUT_OFF:
        return RekordboxError(f"The Rekordbox XML is cut off before its end: {REEXPORT}",
                              path=str(path), line=line)
    column = (exc.getColumnNumber() or 0) + 1
    return RekordboxError(f"The Rekordbox XML is damaged ({reason}, column {column}): "
                          f"{REEXPORT}", path=str(path), line=line)


def refused_entity(path: Path, exc: EntitiesForbidden, line: int | None) -> RekordboxError:
    return RekordboxError(f"The Rekordbox XML contains an entity declaration, {_REFUSED} "
                          f"(entity '{exc.name}'). {REEXPORT_SENTENCE}", path=str(path), line=line)


def refused_reference(path: Path, exc: ExternalReferenceForbidden,
                      line: int | None) -> RekordboxError:
    return RekordboxError(f"The Rekordbox XML refers to an outside file or address, {_REFUSED} "
                          f"('{exc.sysid}'). {REEXPORT_SENTENCE}", path=str(path), line=line)


def undecodable(path: Path, exc: Exception) -> RekordboxError:
    """The RekordboxError for text the parser's decoder gave up on."""
    return encoding_error(path) or RekordboxError(
        f"The Rekordbox XML's text cannot be decoded ({exc}): save it as UTF-8 or {REEXPORT}",
        path=str(path))


def encoding_error(path: Path) -> RekordboxError | None:
    """A RekordboxError when the file's bytes are not valid in its declared encoding."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    encoding, said_by = declared_encoding(data)
    try:
        data.decode(encoding)
    except LookupError:
        return RekordboxError(f"The Rekordbox XML declares the encoding '{encoding}', which "
                              f"cannot be read: {REEXPORT}", path=str(path), line=1)
    except UnicodeDecodeError as exc:
        line = data[:exc.start].decode(encoding, errors="replace").count("\n") + 1
        return RekordboxError(
            f"The Rekordbox XML is not valid {_label(encoding)}{said_by} (byte "
            f"0x{data[exc.start]:02X} cannot be read): save it as UTF-8 or {REEXPORT}",
            path=str(path), line=line)
    return None


def _label(encoding: str) -> str:
    return "UTF-8" if encoding == "utf-8-sig" else encoding.upper()


def declared_encoding(data: bytes) -> tuple[str, str]:
    """The codec the file says it is in, and what says so: byte order mark, declaration, XML."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding, " as its byte order mark says"
    if data.startswith(b"<\x00?\x00"):
        return "utf-16-le", ""
    if data.startswith(b"\x00<\x00?"):
        return "utf-16-be", ""
    declared = _DECLARED.match(data[:300])
    if declared:
        return declared.group(1).decode("ascii").lower(), " as it declares"
    return "utf-8", ""  # XML's default
