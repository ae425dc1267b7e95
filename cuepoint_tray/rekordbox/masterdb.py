"""Rekordbox 6/7's own library database, `master.db`, read through SQLite's own driver and
never written.

Rekordbox keeps the library in an SQLCipher-encrypted SQLite file. The playlist tree and the
tracks are read with plain SQL through the driver (sqlcipher3, a decrypted copy too; sqlite3
when it is missing): no ORM, so listing a big library costs little and adds little to the
tray's memory.
pyrekordbox, and SQLAlchemy with it (about a second to import, some 60 MB), is imported only
for an intelligent playlist whose rules intelligent.py does not evaluate itself (the common
ones it does: a genre, an artist, a rating, a My Tag, "added in the last N days"). The key
is worked out from the passphrase pyrekordbox carries, once per library, and kept
(masterdb_key.py).

Why a snapshot: Rekordbox may be running. Any SQLite connection to its file — even a
read-only one — takes shared locks while it reads; with a rollback journal that makes
Rekordbox's next write wait or fail with "database is locked", and `immutable=1` (no locks)
would read half-written pages and ignore the WAL. So the file (with its `-wal` and `-journal`
beside it) is copied byte for byte into a private temporary folder, the copy checked to be
unchanged by comparing size and modification time before and after, and only the copy is
opened. Copying takes no lock Rekordbox can see, and SQLite replays a copied WAL or rolls back
a copied hot journal, so the snapshot is the last committed state. The copy is deleted when
the library is dropped.

Only the playlist tree (with each playlist's entries and when it last changed) is read up
front; tracks are read per playlist, when a playlist is matched.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import tempfile
import threading
import time
import weakref
from collections import defaultdict
from collections.abc import Iterable, Sequence
from contextlib import suppress
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from cuepoint_tray.domain import Playlist, PlaylistFolder, RekordboxTrack
from cuepoint_tray.errors import RekordboxError
from cuepoint_tray.rekordbox import intelligent, masterdb_key
from cuepoint_tray.rekordbox.library import PlaylistTree
from cuepoint_tray.rekordbox.tree import ROOT_NAME, RekordboxPlaylist

if TYPE_CHECKING:
    from typing import TypeAlias

    from sqlalchemy.engine import Engine
    from sqlcipher3 import dbapi2 as sqlcipher

    # The driver's connection: sqlite3's, or sqlcipher3's (the same API).
    Connection: TypeAlias = sqlite3.Connection | sqlcipher.Connection

log = logging.getLogger(__name__)

HISTORY_FOLDER = "History"
SNAPSHOT_PREFIX = "cuepoint-masterdb-"
STALE_SNAPSHOT_S = 86400.0
SQLITE_HEADER = b"SQLite format 3\x00"
_SIDE_FILES = ("-wal", "-journal")
_SNAPSHOT_TRIES = 4
_CHUNK = 500  # track IDs per query: below SQLite's oldest limit on bound parameters
_FOLDER, _PLAYLIST, _INTELLIGENT = 1, 0, 4
_TRACK_COLUMNS = """
    SELECT c.ID, c.Title, ar.Name, al.Name, g.Name, lb.Name, c.Subtitle, rx.Name,
           c.ReleaseYear, c.Length, c.BPM, k.ScaleName, c.FolderPath, c.Commnt, c.ISRC
    FROM djmdContent c
    LEFT JOIN djmdArtist ar ON ar.ID = c.ArtistID
    LEFT JOIN djmdAlbum al ON al.ID = c.AlbumID
    LEFT JOIN djmdGenre g ON g.ID = c.GenreID
    LEFT JOIN djmdLabel lb ON lb.ID = c.LabelID
    LEFT JOIN djmdArtist rx ON rx.ID = c.RemixerID
    LEFT JOIN djmdKey k ON k.ID = c.KeyID
"""
_LIVE = "COALESCE({}.rb_local_deleted, 0) = 0"  # Rekordbox marks deleted rows for its sync
NOT_READABLE = ("Rekordbox's library (master.db) could not be read")


class MasterDbLibrary(PlaylistTree):
    """The playlist tree of a master.db snapshot; tracks are read per playlist."""

    kind = "master.db"
    source = "your Rekordbox library"

    def __init__(self, path: Path, root: PlaylistFolder, snapshot: _Snapshot) -> None:
        self.path = path
        self.root = root
        self._snapshot = snapshot
        self._tracks: dict[str, RekordboxTrack] = {}
        self._lock = threading.Lock()

    def tracks_of(self, playlist: Playlist) -> list[RekordboxTrack]:
        """The playlist's tracks in Rekordbox's order; raises when it is empty or refused."""
        own = self._own(playlist)
        if isinstance(own, RekordboxPlaylist) and own.refused:
            raise RekordboxError(own.refused, path=str(self.path))
        if not own.track_ids:
            raise RekordboxError(f"Playlist '{own.path_text}' is empty: add tracks to it in "
                                 "Rekordbox first", path=str(self.path))
        with self._lock:
            wanted = [key for key in dict.fromkeys(own.track_ids) if key not in self._tracks]
            if wanted:
                self._tracks.update(self._snapshot.read(lambda db: _read_tracks(db, wanted)))
            return [self._tracks[key] for key in own.track_ids if key in self._tracks]

    def recently_changed(self) -> RekordboxPlaylist | None:
        """The playlist (not a history) the DJ changed last in Rekordbox, if any has tracks."""
        changed = [p for p in self.playlists() if isinstance(p, RekordboxPlaylist)
                   and p.kind == "playlist" and p.track_ids and p.changed_at is not None]
        return max(changed, key=lambda p: p.changed_at or 0.0, default=None)

    def _own(self, playlist: Playlist) -> Playlist:
        if isinstance(playlist, RekordboxPlaylist):
            return playlist
        return next((p for p in self.playlists() if p.path == playlist.path), playlist)

    def close(self) -> None:
        """Delete the snapshot now (it is deleted anyway when the library is dropped)."""
        self._snapshot.close()


def read_master_db(path: str | os.PathLike[str], *, encrypted: bool = True,
                   key_file: Path | None = None) -> MasterDbLibrary:
    """Read the playlist tree of the master.db at `path`; every problem raises RekordboxError
    in one sentence. `encrypted` is False for a plain (decrypted) copy. `key_file` keeps the
    library's key between runs (masterdb_key.py; None: derived once per process)."""
    source = Path(path)
    snapshot = _Snapshot.of(source, encrypted, key_file)
    try:
        root = snapshot.read(_read_tree)
    except BaseException:
        snapshot.close()
        raise
    return MasterDbLibrary(source, root, snapshot)


# --- the snapshot --------------------------------------------------------------------------------

class _Snapshot:
    """A private copy of master.db (and its WAL or journal), opened on demand, then deleted.

    One connection, shared by the threads that read it (one at a time: the tree before the
    library is handed out, tracks under the library's lock)."""

    def __init__(self, source: Path, copy: Path, encrypted: bool,
                 key_file: Path | None = None) -> None:
        self.source = source
        self.copy = copy
        self.encrypted = encrypted
        self.key_file = key_file
        self._open: list[Connection] = []  # the connection once opened; closed with the copy
        self._cleanup = weakref.finalize(self, _remove, copy.parent, self._open)

    @classmethod
    def of(cls, source: Path, encrypted: bool, key_file: Path | None = None) -> _Snapshot:
        _remove_stale_snapshots()
        folder = Path(tempfile.mkdtemp(prefix=SNAPSHOT_PREFIX))
        try:
            _copy_consistently(source, folder)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return cls(source, folder / "master.db", encrypted, key_file)

    def read(self, work: Any) -> Any:
        """`work(connection)` on the snapshot; database failures become one plain sentence."""
        try:
            return work(self._connection())
        except _driver_errors() as exc:
            raise _database_error(self.source, self.encrypted, exc) from exc

    def _connection(self) -> Connection:
        if not self._open:
            self._open.append(_connect(self.copy, self.encrypted, self.key_file))
        return self._open[0]

    def close(self) -> None:
        self._cleanup()


def _remove_stale_snapshots(now: float | None = None) -> None:
    """Snapshots a killed CuePoint left behind (a day old or more): they are copies of the
    DJ's library, and may be large."""
    cutoff = (time.time() if now is None else now) - STALE_SNAPSHOT_S
    for folder in Path(tempfile.gettempdir()).glob(SNAPSHOT_PREFIX + "*"):
        with suppress(OSError):
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)


def _remove(folder: Path, connections: list[Connection]) -> None:
    for connection in connections:
        with suppress(Exception):  # closing may fail on a thread at exit: the files still go
            connection.close()
    connections.clear()
    shutil.rmtree(folder, ignore_errors=True)


def _copy_consistently(source: Path, folder: Path) -> None:
    """Copy master.db and its side files; again when Rekordbox wrote while they were copied."""
    _check_file(source)
    for _ in range(_SNAPSHOT_TRIES):
        before = _stamps(source)
        try:
            for suffix in ("", *_SIDE_FILES):
                original = Path(str(source) + suffix)
                if suffix and not original.exists():
                    continue
                shutil.copyfile(original, folder / ("master.db" + suffix))
        except OSError as exc:
            raise _unreadable(source, exc) from exc
        if _stamps(source) == before:
            return
        for leftover in folder.iterdir():
            leftover.unlink()
    raise RekordboxError(f"{NOT_READABLE}: Rekordbox kept writing to it while CuePoint "
                         "copied it; try again in a moment", path=str(source))


def _check_file(source: Path) -> None:
    if not source.exists():
        raise RekordboxError("Rekordbox's library (master.db) is not there: check the path "
                             "in Settings", path=str(source))
    if source.is_dir():
        raise RekordboxError("The Rekordbox library path is a folder: give the master.db "
                             "file inside it", path=str(source))


def _stamps(source: Path) -> tuple[tuple[int, int] | None, ...]:
    def stamp(path: Path) -> tuple[int, int] | None:
        try:
            info = path.stat()
        except OSError:
            return None
        return info.st_size, info.st_mtime_ns

    return tuple(stamp(Path(str(source) + suffix)) for suffix in ("", *_SIDE_FILES))


# --- the connection and its key ----------------------------------------------------------------

def _connect(copy: Path, encrypted: bool, key_file: Path | None) -> Connection:
    """The snapshot opened through the driver, never synced to disk (see _unsynced)."""
    return _unsynced(_open(copy, encrypted, key_file))


def _unsynced(connection: Connection) -> Connection:
    """The snapshot is a throwaway copy: nothing it writes needs to reach the disk. What it
    writes is a copied WAL, checkpointed into the copy when the connection closes, which
    with SQLite's default syncing meant an fsync of the whole just-copied file (80 MB for
    a 50,000-track library, 40-55 ms) inside the driver's close(), which holds the GIL:
    GTK's main loop stalled once on every re-read of the tray's library."""
    connection.execute("PRAGMA synchronous = OFF")
    return connection


def _open(copy: Path, encrypted: bool, key_file: Path | None) -> Connection:
    """An encrypted snapshot with its raw key, the one kept for its salt when SQLCipher
    accepts it, else derived (and then kept); a plain one as it is."""
    if not encrypted:  # sqlcipher3 opens a plain file too, with a newer SQLite than sqlite3's
        return _driver().connect(str(copy), check_same_thread=False)
    salt = _salt(copy)
    if salt is None:  # SQLCipher says what is wrong when it reads the file
        return _keyed(copy, _quoted(masterdb_key.passphrase()))
    kept = masterdb_key.kept_key(salt, key_file)
    if kept is not None:
        from sqlcipher3 import dbapi2

        try:
            return _read_first_page(_keyed(copy, _quoted(kept)))
        except dbapi2.DatabaseError as exc:
            if "not a database" not in str(exc).lower():
                raise
        masterdb_key.forget_key(salt)
        log.info("the key kept for %s was refused: deriving it again", copy.name)
    raw = masterdb_key.derive_key(salt)
    # With the derived key, SQLCipher's own error tells a foreign key from damage.
    connection = _read_first_page(_keyed(copy, _quoted(raw)))
    masterdb_key.keep_key(salt, raw, key_file)
    return connection


def _driver() -> Any:
    """SQLCipher's driver; sqlite3 when it is not installed (then only a plain copy reads)."""
    try:
        from sqlcipher3 import dbapi2
    except ImportError:
        return sqlite3
    return dbapi2


def _keyed(copy: Path, key_literal: str) -> Connection:
    from sqlcipher3 import dbapi2

    connection: Connection = dbapi2.connect(str(copy), check_same_thread=False)
    connection.execute(f"PRAGMA key = {key_literal}")
    return connection


def _read_first_page(connection: Connection) -> Connection:
    """The connection once SQLCipher has read the file's first page, which is when it checks
    the key; closed, and the driver's error raised, when it cannot."""
    try:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except BaseException:
        connection.close()
        raise
    return connection


def _salt(copy: Path) -> bytes | None:
    """The salt SQLCipher keeps in the file's first 16 bytes; None when there is none."""
    try:
        with copy.open("rb") as stream:
            salt = stream.read(masterdb_key.SALT_BYTES)
    except OSError:
        return None
    if len(salt) < masterdb_key.SALT_BYTES or salt == SQLITE_HEADER:
        return None
    return salt


def _quoted(key: str) -> str:
    """A key as PRAGMA key takes it: a raw key x'…' in double quotes (as SQLAlchemy's
    pysqlcipher dialect sends it), a passphrase in single quotes."""
    if key.startswith("x'"):
        return f'"{key}"'
    return "'" + key.replace("'", "''") + "'"


def load_reader() -> None:
    """Import what reading a master.db needs (SQLCipher's driver): the benchmarks time it."""
    with suppress(ImportError):
        from sqlcipher3 import dbapi2  # noqa: F401


def quiet_pyrekordbox() -> None:
    """pyrekordbox prints its warnings ("OS linux not supported") itself: send them to our log."""
    import pyrekordbox  # noqa: F401  (installs its console handler on import)

    logger = logging.getLogger("pyrekordbox")
    for handler in list(logger.handlers):
        if type(handler) is logging.StreamHandler:
            logger.removeHandler(handler)
    logger.propagate = True
    logger.setLevel(logging.ERROR)


@cache
def _driver_errors() -> tuple[type[BaseException], ...]:
    """sqlite3's and SQLCipher's errors (imported when first needed: XML users never do)."""
    errors: list[type[BaseException]] = [sqlite3.Error]
    with suppress(ImportError):
        from sqlcipher3 import dbapi2

        errors.append(dbapi2.Error)
    return tuple(errors)


# --- what goes wrong, in a sentence ---------------------------------------------------------------

def _unreadable(source: Path, exc: OSError) -> RekordboxError:
    if isinstance(exc, PermissionError):
        return RekordboxError(
            f"{NOT_READABLE}: another program holds it or CuePoint may not read it "
            f"({exc.strerror}); close that program, or check the file's permissions",
            path=str(source))
    return RekordboxError(f"{NOT_READABLE} ({exc.strerror or exc}): check the disk",
                          path=str(source))


def _database_error(source: Path, encrypted: bool, exc: BaseException) -> RekordboxError:
    text = str(exc).lower()
    if "no such table" in text or "no such column" in text:
        reason = ("it is an SQLite database but not Rekordbox's library; choose the master.db "
                  "in Rekordbox's folder, or a Rekordbox XML export")
    elif "not a database" in text or "encrypted" in text:
        reason = _not_a_database(source, encrypted)
    elif "malformed" in text or "corrupt" in text or "disk i/o" in text:
        reason = _damaged(source)
    elif "locked" in text or "busy" in text:
        reason = ("another program keeps it locked; close that program (or Rekordbox) and "
                  "try again")
    else:
        reason = f"{exc}; export the collection as XML from Rekordbox instead"
    return RekordboxError(f"{NOT_READABLE}: {reason}", path=str(source))


def _not_a_database(source: Path, encrypted: bool) -> str:
    if _cut_short(source):
        return _damaged(source)
    if encrypted:
        return ("its encryption key is not the one Rekordbox 6 and 7 use, or it is not "
                "Rekordbox's file; choose the master.db in Rekordbox's folder, or a "
                "Rekordbox XML export")
    return "it is not an SQLite database; choose Rekordbox's master.db or an XML export"


def _damaged(source: Path) -> str:
    cut = " (the file is cut short)" if _cut_short(source) else ""
    return (f"it is damaged{cut}; let Rekordbox repair it (it keeps backups), or export the "
            "collection as XML from Rekordbox")


def _cut_short(source: Path) -> bool:
    """A page file whose size is no whole number of pages, or smaller than its header says."""
    try:
        size = source.stat().st_size
        with source.open("rb") as stream:
            header = stream.read(100)
    except OSError:
        return False
    if header.startswith(SQLITE_HEADER) and len(header) == 100:
        page_size = int.from_bytes(header[16:18], "big")
        page_size = 65536 if page_size == 1 else page_size
        pages = int.from_bytes(header[28:32], "big")
        return bool(page_size) and size < page_size * pages
    return size < 1024 or size % 1024 != 0


# --- the playlist tree ---------------------------------------------------------------------------

class _Node:
    __slots__ = ("id", "seq", "name", "attribute", "parent", "rules", "changed_at")

    def __init__(self, row: Sequence[Any]) -> None:
        self.id, self.seq, self.name, self.attribute, self.parent = (
            str(row[0]), row[1] or 0, row[2] or "", row[3], str(row[4] or "root"))
        self.rules: str = row[5] or ""
        self.changed_at = _timestamp(row[6])


def _read_tree(db: Connection) -> PlaylistFolder:
    nodes = [_Node(row) for row in db.execute(
        "SELECT ID, Seq, Name, Attribute, ParentID, SmartList, updated_at FROM djmdPlaylist "
        f"WHERE {_LIVE.format('djmdPlaylist')}")]
    entries = _entries(db, "djmdSongPlaylist", "PlaylistID")
    for node in nodes:
        node.changed_at = max(filter(None, (node.changed_at, entries.changed.get(node.id))),
                              default=None)
    children = _children(nodes)
    rules = _IntelligentPlaylists(db)
    top = tuple(_build(child, (), children, entries.ids, rules) for child in children["root"])
    history = _history_folder(db)
    return PlaylistFolder(ROOT_NAME, (), tuple(filter(None, (*top, history))))


class _Entries:
    def __init__(self) -> None:
        self.ids: dict[str, list[str]] = defaultdict(list)
        self.changed: dict[str, float] = {}


def _entries(db: Connection, table: str, parent_column: str) -> _Entries:
    """Each list's track IDs in order, and when its entries last changed (deleted ones too).

    One plain scan: joining the tracks, or walking the lists' index, would make SQLCipher
    decrypt pages at random, several times slower on a big library. SQLite groups and
    orders the entries itself, with no lock on Python while it does, and hands back one
    row per list: a 50,000-track library's 70,000 entries would otherwise be as many Python
    tuples, enough to set off a full garbage collection of the tray's heap on the thread
    reading, which holds up GTK's main loop. An SQLite older than 3.44 (no ORDER BY in an
    aggregate) gets the entries row by row and sorted here. A track Rekordbox marked deleted
    while a list still holds it is left out when the list's tracks are read."""
    if _sqlite_version(db) < (3, 44):
        return _entries_row_by_row(db, table, parent_column)
    live = "COALESCE(rb_local_deleted, 0) = 0 AND ContentID IS NOT NULL"
    rows = db.execute(
        f"SELECT {parent_column}, max(updated_at), count(ContentID) FILTER (WHERE {live}), "
        f"group_concat(ContentID, char({_SEPARATOR}) ORDER BY COALESCE(TrackNo, 0), rowid) "
        f"FILTER (WHERE {live}) FROM {table} GROUP BY +{parent_column}").fetchall()
    found = _Entries()
    for parent, changed, count, content in rows:
        key = str(parent)
        if content is not None:
            ids = content.split(chr(_SEPARATOR))
            if len(ids) != count:  # an ID holding the separator: Rekordbox's never do
                return _entries_row_by_row(db, table, parent_column)
            found.ids[key] = ids
        stamp = _timestamp(changed)
        if stamp is not None:
            found.changed[key] = stamp
    return found


_SEPARATOR = 0x1F  # ASCII's unit separator, in no track ID


def _sqlite_version(db: Connection) -> tuple[int, ...]:
    (version,) = db.execute("SELECT sqlite_version()").fetchone()
    return tuple(int(part) for part in str(version).split(".")[:2])


def _entries_row_by_row(db: Connection, table: str, parent_column: str) -> _Entries:
    """_entries for an SQLite before 3.44: the same, sorted in Python."""
    found = _Entries()
    numbered: dict[str, list[tuple[int, str]]] = defaultdict(list)
    latest: dict[str, str] = {}
    rows = db.execute(
        f"SELECT {parent_column}, ContentID, TrackNo, updated_at, rb_local_deleted FROM {table}")
    for parent, content, number, changed, deleted in rows:
        key = str(parent)
        if changed and changed > latest.get(key, ""):
            latest[key] = changed
        if not deleted and content is not None:
            numbered[key].append((number or 0, str(content)))
    for key, entries in numbered.items():
        entries.sort(key=lambda entry: entry[0])
        found.ids[key] = [content for _, content in entries]
    for key, changed in latest.items():
        stamp = _timestamp(changed)
        if stamp is not None:
            found.changed[key] = stamp
    return found


def _children(nodes: Iterable[_Node]) -> dict[str, list[_Node]]:
    children: dict[str, list[_Node]] = defaultdict(list)
    known = {node.id for node in nodes}
    for node in nodes:
        # A parent that is gone (deleted in Rekordbox) leaves its orphans at the top.
        children[node.parent if node.parent in known else "root"].append(node)
    for listed in children.values():
        listed.sort(key=lambda node: (node.seq, node.name))
    return children


def _build(node: _Node, parent: tuple[str, ...], children: dict[str, list[_Node]],
           entries: dict[str, list[str]], rules: _IntelligentPlaylists,
           seen: frozenset[str] = frozenset()) -> PlaylistFolder | Playlist | None:
    path = (*parent, node.name)
    if node.id in seen:
        return None  # a loop of parents: Rekordbox's own tree never has one
    if node.attribute == _FOLDER:
        inside = (_build(child, path, children, entries, rules, seen | {node.id})
                  for child in children.get(node.id, ()))
        return PlaylistFolder(node.name, path, tuple(filter(None, inside)))
    if node.attribute == _PLAYLIST:
        return RekordboxPlaylist(node.name, path, tuple(entries.get(node.id, ())),
                                 changed_at=node.changed_at)
    if node.attribute == _INTELLIGENT:
        track_ids, refused = rules.evaluate(node, path)
        return RekordboxPlaylist(node.name, path, track_ids, kind="intelligent",
                                 refused=refused, changed_at=node.changed_at)
    log.info("skipped Rekordbox's system list %r (attribute %s)", node.name, node.attribute)
    return None


# --- intelligent playlists -----------------------------------------------------------------------

class _IntelligentPlaylists:
    """Rekordbox's rules, evaluated as one plain SQL query on the snapshot's connection
    (intelligent.py says which rules); any other rule by pyrekordbox's SmartList as an
    SQLAlchemy query over the same connection, which gives the same tracks. pyrekordbox and
    SQLAlchemy are imported, and the engine made, only for such a rule: a library whose
    intelligent playlists are all evaluated natively never loads them."""

    def __init__(self, db: Connection) -> None:
        self._db = db
        self._engine: Engine | None = None

    def evaluate(self, node: _Node, path: tuple[str, ...]) -> tuple[tuple[str, ...], str]:
        """The playlist's tracks as its rules select them, in the order they came into the
        collection; or no tracks and why it cannot be evaluated."""
        refused = intelligent.refused_rule(node.rules)
        if refused:
            return (), _refusal("/".join(path), f"CuePoint cannot evaluate its rule on {refused}")
        query = intelligent.track_query(node.rules)
        if query is not None:
            with suppress(*_driver_errors()):  # what SQLite refuses, pyrekordbox explains
                return tuple(str(row[0]) for row in self._db.execute(*query)), ""
        return self._by_pyrekordbox(node, path)

    def _by_pyrekordbox(self, node: _Node,
                        path: tuple[str, ...]) -> tuple[tuple[str, ...], str]:
        quiet_pyrekordbox()
        from pyrekordbox.masterdb.models import DjmdContent
        from pyrekordbox.masterdb.smartlist import SmartList
        from sqlalchemy import select
        from sqlalchemy.exc import SQLAlchemyError

        name = "/".join(path)
        rules = SmartList()
        try:
            rules.parse(node.rules)
        except Exception as exc:  # pyrekordbox raises what XML and int() raise
            return (), _refusal(name, f"its rules cannot be read ({type(exc).__name__})")
        unsupported = _unsupported(rules)
        if unsupported:
            return (), _refusal(name, f"CuePoint cannot evaluate its rule on {unsupported}")
        try:
            query = (select(DjmdContent.ID).where(rules.filter_clause())
                     .where(DjmdContent.rb_local_deleted == 0)
                     .order_by(DjmdContent.created_at, DjmdContent.ID))
            with self._sqlalchemy().connect() as connection:
                return tuple(str(row[0]) for row in connection.execute(query)), ""
        except (SQLAlchemyError, ValueError, TypeError, NotImplementedError) as exc:
            log.warning("intelligent playlist %s: %s", name, exc)
            return (), _refusal(name, "CuePoint cannot evaluate its rules")

    def _sqlalchemy(self) -> Engine:
        """An engine whose one connection is the snapshot's (never closed by it: the
        snapshot closes it with the copy)."""
        if self._engine is None:
            from sqlalchemy import create_engine
            from sqlalchemy.pool import StaticPool

            db = self._db
            module: Any = sqlite3
            if not isinstance(db, sqlite3.Connection):
                from sqlcipher3 import dbapi2 as module
            self._engine = create_engine("sqlite://", module=module, creator=lambda: db,
                                         poolclass=StaticPool)
        return self._engine


def _unsupported(rules: Any) -> str:
    from pyrekordbox.masterdb.smartlist import PROPERTY_COLUMN_MAP, Operator

    for condition in rules.conditions:
        if condition.property not in PROPERTY_COLUMN_MAP:
            return f"“{condition.property}”"
        relative = condition.operator in (Operator.IN_LAST, Operator.NOT_IN_LAST)
        if relative and condition.unit != "day":
            return f"“{condition.property}” in the last {condition.unit or 'period'}s"
    return ""


def _refusal(name: str, why: str) -> str:
    return (f"'{name}' is an intelligent playlist and {why}: copy its tracks into a normal "
            "playlist in Rekordbox (select all, drag) and match that one")


# --- histories -----------------------------------------------------------------------------------

def _history_folder(db: Connection) -> PlaylistFolder | None:
    """Rekordbox's HISTORY (the sets played, by year and month) as a "History" folder."""
    nodes = [_Node(row) for row in db.execute(
        "SELECT ID, Seq, Name, Attribute, ParentID, NULL, updated_at FROM djmdHistory "
        f"WHERE {_LIVE.format('djmdHistory')}")]
    if not nodes:
        return None
    entries = _entries(db, "djmdSongHistory", "HistoryID")
    children = _children(nodes)
    path = (HISTORY_FOLDER,)
    inside = (_history_node(child, path, children, entries.ids) for child in children["root"])
    return PlaylistFolder(HISTORY_FOLDER, path, tuple(filter(None, inside)))


def _history_node(node: _Node, parent: tuple[str, ...], children: dict[str, list[_Node]],
                  entries: dict[str, list[str]],
                  seen: frozenset[str] = frozenset()) -> PlaylistFolder | Playlist | None:
    path = (*parent, node.name)
    if node.id in seen:
        return None
    if node.attribute == _FOLDER:
        inside = (_history_node(child, path, children, entries, seen | {node.id})
                  for child in children.get(node.id, ()))
        return PlaylistFolder(node.name, path, tuple(filter(None, inside)))
    return RekordboxPlaylist(node.name, path, tuple(entries.get(node.id, ())), kind="history",
                             changed_at=node.changed_at)


# --- tracks --------------------------------------------------------------------------------------

def _read_tracks(db: Connection, track_ids: Sequence[str]) -> dict[str, RekordboxTrack]:
    tracks: dict[str, RekordboxTrack] = {}
    for start in range(0, len(track_ids), _CHUNK):
        chunk = list(track_ids[start:start + _CHUNK])
        marks = ", ".join("?" * len(chunk))
        for row in db.execute(
                f"{_TRACK_COLUMNS} WHERE c.ID IN ({marks}) AND {_LIVE.format('c')}", chunk):
            track = _track(row)
            tracks[track.track_id] = track
    return tracks


def _track(row: Sequence[Any]) -> RekordboxTrack:
    (track_id, title, artist, album, genre, label, mix, remixer, year, length, bpm, key,
     folder_path, comments, isrc) = row
    return RekordboxTrack(
        track_id=str(track_id), name=title or "", artist=artist or "", album=album or "",
        genre=genre or "", label=label or "", mix=mix or "", remixer=remixer or "",
        year=_positive(year), total_time=_positive(length),
        average_bpm=bpm / 100 if isinstance(bpm, int | float) and bpm > 0 else None,
        tonality=key or "", location=_location(folder_path or ""), comments=comments or "",
        isrc=(isrc or "").strip())


def _positive(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and value > 0 else None


def _location(folder_path: str) -> str:
    """The file's path as Rekordbox's XML writes it: file://localhost/ and percent-encoded."""
    if not folder_path:
        return ""
    path = folder_path.replace("\\", "/")
    return "file://localhost" + quote(path if path.startswith("/") else "/" + path,
                                      safe="/:")


def _timestamp(value: Any) -> float | None:
    """Rekordbox's "2022-04-09 21:38:37.315 +00:00" (or a datetime) as seconds since 1970."""
    if isinstance(value, datetime):
        return value.timestamp()
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace(" +", "+").replace(" -", "-")
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None
