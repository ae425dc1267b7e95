"""The SQLCipher key of a Rekordbox master.db, derived once per library and kept on disk.

Rekordbox 6 and 7 encrypt master.db with one passphrase, the same for every library, which
pyrekordbox ships (obfuscated; `passphrase` reads it without importing pyrekordbox).
SQLCipher turns it into the file's key with PBKDF2 over the file's salt (its first 16
bytes): a third of a CPU-second, on every connection. Given the key itself ("raw", x'…'),
SQLCipher skips that. A library keeps its salt, so the key is derived once and kept:

- in this process, by salt, for the tray's re-reads;
- on disk, in a small JSON file in the app's cache folder (`AppPaths.masterdb_keys`), so a
  later run (the command line, the tray after a restart) does not derive it again. The
  callers that know the app's folders pass the file's path.

The key is no secret: every Rekordbox library's key comes from the same published
passphrase and the salt stored in the clear at the file's start. The file is written 0600
all the same (only the user reads it), as a key file should be. A missing, damaged or
unwritable key file never stops a read: the key is derived again and the reason logged.
A kept key is only trusted once SQLCipher accepts it (masterdb._connect).
"""

from __future__ import annotations

import ast
import base64
import hashlib
import importlib.util
import json
import logging
import re
import threading
import zlib
from pathlib import Path

from cuepoint_tray.file_writing import whole_file

log = logging.getLogger(__name__)

# SQLCipher 4's defaults, which Rekordbox 6 and 7 use (pyrekordbox opens the file with them).
KDF_ITER = 256_000
SALT_BYTES = 16
KEPT_LIBRARIES = 8  # a DJ has a few libraries at most: neither file nor memory grows
_FORMAT = 1
_RAW_KEY = re.compile(r"x'[0-9a-f]{64}'")

_known: dict[bytes, str] = {}  # this process's keys by salt (a memo, not a registry)
_lock = threading.Lock()
derivations = 0  # how many keys this process derived (read by the tests)


def kept_key(salt: bytes, key_file: Path | None) -> str | None:
    """The raw key ("x'…'") derived before for this salt, in this process or on disk."""
    with _lock:
        known = _known.get(salt)
    if known is not None or key_file is None:
        return known
    found = _read(key_file).get(salt.hex())
    if found is not None:
        with _lock:
            _remember(salt, found)
    return found


def derive_key(salt: bytes) -> str:
    """The raw key for this salt from Rekordbox's passphrase (imports pyrekordbox for it).
    hashlib lets go of the GIL while it derives."""
    global derivations
    derived = hashlib.pbkdf2_hmac("sha512", passphrase().encode("utf-8"), salt, KDF_ITER, 32)
    with _lock:
        derivations += 1
    return f"x'{derived.hex()}'"


def keep_key(salt: bytes, raw_key: str, key_file: Path | None) -> None:
    """Remember a key SQLCipher accepted, here and in `key_file` (when it is not there yet)."""
    with _lock:
        _remember(salt, raw_key)
    if key_file is None:
        return
    kept = _read(key_file)
    if kept.get(salt.hex()) == raw_key:
        return
    kept.pop(salt.hex(), None)
    kept[salt.hex()] = raw_key  # newest last: the oldest go first
    _write(key_file, dict(list(kept.items())[-KEPT_LIBRARIES:]))


def forget_key(salt: bytes) -> None:
    """Drop a key SQLCipher refused from this process's memory (the file is rewritten when
    the right one is kept)."""
    with _lock:
        _known.pop(salt, None)


def passphrase() -> str:
    """Rekordbox's passphrase, as pyrekordbox carries it (obfuscated).

    Read from pyrekordbox's source, two constants, when it is there as expected: importing
    pyrekordbox runs all of it and SQLAlchemy (about a second, and 60 MB the tray would
    then keep) for them. Imported otherwise (a frozen build without sources, another
    layout); a wrong one would only be refused by SQLCipher, in one sentence."""
    found = _passphrase_in_source()
    if found is not None:
        return found
    from cuepoint_tray.rekordbox.masterdb import quiet_pyrekordbox

    quiet_pyrekordbox()
    from pyrekordbox.masterdb.database import BLOB
    from pyrekordbox.utils import deobfuscate

    return str(deobfuscate(BLOB))


def _passphrase_in_source() -> str | None:
    try:
        spec = importlib.util.find_spec("pyrekordbox")  # finds it without running it
        if spec is None or spec.origin is None:
            return None
        package = Path(spec.origin).parent
        blob = _constant(package / "masterdb" / "database.py", "BLOB")
        key = _constant(package / "utils.py", "BLOB_KEY")
        if blob is None or key is None:
            return None
        # pyrekordbox.utils.deobfuscate:
        data = base64.b85decode(blob)
        xored = bytes(byte ^ key[n % len(key)] for n, byte in enumerate(data))
        return zlib.decompress(xored).decode("utf-8")
    except (OSError, ValueError, SyntaxError, ImportError, zlib.error) as exc:
        log.info("pyrekordbox's passphrase is not where it was: importing pyrekordbox (%s)",
                 exc)
        return None


def _constant(source: Path, name: str) -> bytes | None:
    """The bytes a module's top-level `name = b"..."` assigns, without running the module."""
    for statement in ast.parse(source.read_bytes(), str(source)).body:
        if (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)
                and statement.targets[0].id == name
                and isinstance(statement.value, ast.Constant)
                and isinstance(statement.value.value, bytes)):
            return statement.value.value
    return None


def _remember(salt: bytes, raw_key: str) -> None:
    if salt not in _known and len(_known) >= KEPT_LIBRARIES:
        _known.pop(next(iter(_known)))
    _known[salt] = raw_key


def _read(key_file: Path) -> dict[str, str]:
    """The keys in the file by salt (hex); {} when it is missing or not as written here."""
    try:
        text = key_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        log.info("the master.db key file %s cannot be read (%s): the key is derived again",
                 key_file, exc)
        return {}
    try:
        stored = json.loads(text)
        keys = stored["keys"] if stored.get("format") == _FORMAT else None
    except (ValueError, TypeError, AttributeError, KeyError):
        keys = None
    if not isinstance(keys, dict):
        log.info("the master.db key file %s is damaged: the key is derived again", key_file)
        return {}
    return {salt: key for salt, key in keys.items()
            if isinstance(key, str) and _RAW_KEY.fullmatch(key)
            and re.fullmatch(r"[0-9a-f]{32}", str(salt))}


def _write(key_file: Path, keys: dict[str, str]) -> None:
    """Replace the file whole (a reader never sees half of it); `whole_file`'s temporary
    file, renamed into place, is readable by the user only (0600)."""
    text = json.dumps({"format": _FORMAT, "keys": keys}, indent=1)
    try:
        with whole_file(key_file, "w", encoding="utf-8") as stream:
            stream.write(text)
    except OSError as exc:
        log.info("the master.db key could not be kept in %s (%s): it is derived again "
                 "next time", key_file, exc)
