"""Writing the DJ's files safely: whole or not at all, cells a spreadsheet will not run, and
names a file system takes.

- `whole_file`: a temporary file beside the target (created 0600 by mkstemp), flushed to
  disk, then renamed over it; a kill or a full disk leaves the old file or none, never half.
  Every file CuePoint writes goes through it (settings, the Rekordbox export and its undo
  CSV, the single-instance address, the tray's menu dump in testing mode, reports).
- `spreadsheet_safe`: a text cell starting with = + - @ or a tab/CR is a formula to Excel,
  LibreOffice and Numbers (CSV injection); a leading ' makes it text and shows nothing.
- `capped_name`: file systems limit a name to 255 bytes, not characters: 70 emoji or 100
  CJK characters already pass that.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMULA_FIRST = frozenset(_FORMULA_START)  # each is one character: for a cell-by-cell check
# Room under the 255-byte limit for a suffix, a ".tmp" and mkstemp's random part.
MAX_NAME_BYTES = 180


@contextlib.contextmanager
def whole_file(path: Path, mode: str = "w", **options: Any) -> Iterator[IO[Any]]:
    """Write `path` through a temporary file that replaces it when the block succeeds."""
    with whole_file_at(path, mode, **options) as (stream, _temporary):
        yield stream


@contextlib.contextmanager
def whole_file_at(path: Path, mode: str = "w",
                  **options: Any) -> Iterator[tuple[IO[Any], Path]]:
    """`whole_file`, also giving the temporary file's path: to read the copy back before it
    replaces anything (the Rekordbox export does)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(descriptor, mode, **options) as stream:
            yield stream, Path(temporary)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_whole(path: Path, content: bytes) -> None:
    with whole_file(path, "wb") as stream:
        stream.write(content)


def spreadsheet_safe(value: Any) -> Any:
    """The cell as a spreadsheet should show it: text that would run gets a leading '."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def safe_rows(rows: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every cell of the rows made `spreadsheet_safe`."""
    for row in rows:
        yield {name: spreadsheet_safe(value) for name, value in row.items()}


def capped_name(name: str, max_bytes: int = MAX_NAME_BYTES) -> str:
    """`name` cut to at most `max_bytes` of UTF-8, on a character boundary."""
    encoded = name.encode("utf-8")
    if len(encoded) <= max_bytes:
        return name
    return encoded[:max_bytes].decode("utf-8", errors="ignore").rstrip(" .")
