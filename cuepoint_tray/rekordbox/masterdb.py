"""Rekordbox 6/7's own library database, `master.db`, read through pyrekordbox and never written.

Rekordbox keeps the library in an SQLCipher-encrypted SQLite file; pyrekordbox carries its
key, its table models and the evaluator of intelligent-playlist rules.

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

import hashlib
import logging
import os
import shutil
import tempfile
import threading
import time
import weakref
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from cuepoint_tray.domain import Playlist, PlaylistFolder, RekordboxTrack
from cuepoint_tray.errors import RekordboxError
from cuepoint_tray.rekordbox.library import PlaylistTree
from cuepoint_tray.rekordbox.tree import ROOT_NAME, RekordboxPlaylist

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

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


def read_master_db(path: str | os.PathLike[str], *, encrypted: bool = True) -> MasterDbLibrary:
    """Read the playlist tree of the master.db at `path`; every problem raises RekordboxError
    in one sentence. `encrypted` is False for a plain (decrypted) copy."""
    source = Path(path)
    snapshot = _Snapshot.of(source, encrypted)
    try:
        root = snapshot.read(_read_tree)
    except BaseException:
        snapshot.close()
        raise
    return MasterDbLibrary(source, root, snapshot)


# --- the snapshot --------------------------------------------------------------------------------

class _Snapshot:
    """A private copy of master.db (and its WAL or journal), opened on demand, then deleted."""

    def __init__(self, source: Path, copy: Path, encrypted: bool) -> None:
        self.source = source
        self.copy = copy
        self.encrypted = encrypted
        self._engine: Engine | None = None
        self._cleanup = weakref.finalize(self, _remove, copy.parent, [None])

    @classmethod
    def of(cls, source: Path, encrypted: bool) -> _Snapshot:
        _remove_stale_snapshots()
        folder = Path(tempfile.mkdtemp(prefix=SNAPSHOT_PREFIX))
        try:
            _copy_consistently(source, folder)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return cls(source, folder / "master.db", encrypted)

    def read(self, work: Any) -> Any:
        """`work(connection)` on the snapshot; database failures become one plain sentence."""
        from sqlalchemy.exc import DBAPIError

        try:
            with self._connect() as connection:
                return work(connection)
        except DBAPIError as exc:
            raise _database_error(self.source, self.encrypted, exc.orig or exc) from exc
        except _DRIVER_ERRORS as exc:
            raise _database_error(self.source, self.encrypted, exc) from exc

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        if self._engine is None:
            self._engine = _engine(self.copy, self.encrypted)
            self._cleanup.detach()
            self._cleanup = weakref.finalize(self, _remove, self.copy.parent, [self._engine])
        with self._engine.connect() as connection:
            yield connection

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


def _remove(folder: Path, engines: list[Engine | None]) -> None:
    for engine in engines:
        if engine is not None:
            engine.dispose()
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


def _engine(copy: Path, encrypted: bool) -> Engine:
    """One connection to the snapshot, shared by the threads that read it (one at a time:
    the tree before the library is handed out, tracks under the library's lock). SQLCipher
    derives the key on every new connection (a quarter of a second): once is enough."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import StaticPool

    quiet_pyrekordbox()
    shared = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
    if not encrypted:
        return create_engine(f"sqlite:///{copy}", **shared)
    from pyrekordbox.masterdb.database import BLOB
    from pyrekordbox.utils import deobfuscate
    from sqlalchemy.engine import URL
    from sqlcipher3 import dbapi2

    url = URL.create("sqlite+pysqlcipher", password=_raw_key(copy, deobfuscate(BLOB)),
                     database=str(copy))
    return create_engine(url, module=dbapi2, **shared)


# SQLCipher 4's defaults, which Rekordbox 6 and 7 use (pyrekordbox opens the file with them).
_KDF_ITER = 256_000
_SALT_BYTES = 16
_raw_keys: dict[tuple[bytes, str], str] = {}
_raw_keys_lock = threading.Lock()
key_derivations = 0  # how many times a key was derived (read by the tests)


def _raw_key(copy: Path, passphrase: str) -> str:
    """The key SQLCipher derives from the passphrase and the file's salt (its first 16 bytes),
    as a raw key ("x'…'"): SQLCipher then skips its key derivation, a quarter of a CPU-second
    on every connection, i.e. on every re-read of the library. Derived once per salt (a
    Rekordbox library keeps its salt), by hashlib, which lets go of the GIL meanwhile."""
    global key_derivations
    try:
        with copy.open("rb") as stream:
            salt = stream.read(_SALT_BYTES)
    except OSError:
        return passphrase  # SQLCipher says what is wrong when it opens the file
    if len(salt) < _SALT_BYTES or salt == SQLITE_HEADER:
        return passphrase
    with _raw_keys_lock:
        known = _raw_keys.get((salt, passphrase))
    if known is not None:
        return known
    derived = hashlib.pbkdf2_hmac("sha512", passphrase.encode("utf-8"), salt, _KDF_ITER, 32)
    raw = f"x'{derived.hex()}'"
    with _raw_keys_lock:
        if len(_raw_keys) >= 8:  # a few libraries at most: never grows with re-reads
            _raw_keys.clear()
        _raw_keys[(salt, passphrase)] = raw
        key_derivations += 1
    return raw


def load_reader() -> None:
    """Import what reading a master.db needs (pyrekordbox, SQLAlchemy's SQLite dialects,
    SQLCipher), about a second once per process: the tray does it before the first read."""
    from sqlalchemy.dialects.sqlite import pysqlcipher, pysqlite  # noqa: F401

    quiet_pyrekordbox()
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


def _driver_errors() -> tuple[type[BaseException], ...]:
    import sqlite3

    errors: list[type[BaseException]] = [sqlite3.Error]
    with suppress(ImportError):
        from sqlcipher3 import dbapi2

        errors.append(dbapi2.Error)
    return tuple(errors)


_DRIVER_ERRORS = _driver_errors()


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
    nodes = [_Node(row) for row in db.exec_driver_sql(
        "SELECT ID, Seq, Name, Attribute, ParentID, SmartList, updated_at FROM djmdPlaylist "
        f"WHERE {_LIVE.format('djmdPlaylist')}")]
    entries = _entries(db, "djmdSongPlaylist", "PlaylistID")
    for node in nodes:
        node.changed_at = max(filter(None, (node.changed_at, entries.changed.get(node.id))),
                              default=None)
    children = _children(nodes)
    top = tuple(_build(child, (), children, entries.ids, db) for child in children["root"])
    history = _history_folder(db)
    return PlaylistFolder(ROOT_NAME, (), tuple(filter(None, (*top, history))))


class _Entries:
    def __init__(self) -> None:
        self.ids: dict[str, list[str]] = defaultdict(list)
        self.changed: dict[str, float] = {}


def _entries(db: Connection, table: str, parent_column: str) -> _Entries:
    """Each list's track IDs in order, and when its entries last changed (deleted ones too).

    One plain scan, sorted here: joining the tracks or sorting in SQL would make SQLCipher
    decrypt pages at random, several times slower on a big library. A track Rekordbox marked
    deleted while a list still holds it is left out when the list's tracks are read."""
    found = _Entries()
    numbered: dict[str, list[tuple[int, str]]] = defaultdict(list)
    latest: dict[str, str] = {}
    # The driver's own cursor: SQLAlchemy's row objects cost more than the scan itself here.
    rows = db.connection.driver_connection.execute(  # type: ignore[union-attr]
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
           entries: dict[str, list[str]], db: Connection,
           seen: frozenset[str] = frozenset()) -> PlaylistFolder | Playlist | None:
    path = (*parent, node.name)
    if node.id in seen:
        return None  # a loop of parents: Rekordbox's own tree never has one
    if node.attribute == _FOLDER:
        inside = (_build(child, path, children, entries, db, seen | {node.id})
                  for child in children.get(node.id, ()))
        return PlaylistFolder(node.name, path, tuple(filter(None, inside)))
    if node.attribute == _PLAYLIST:
        return RekordboxPlaylist(node.name, path, tuple(entries.get(node.id, ())),
                                 changed_at=node.changed_at)
    if node.attribute == _INTELLIGENT:
        track_ids, refused = _evaluate(node, path, db)
        return RekordboxPlaylist(node.name, path, track_ids, kind="intelligent",
                                 refused=refused, changed_at=node.changed_at)
    log.info("skipped Rekordbox's system list %r (attribute %s)", node.name, node.attribute)
    return None


# --- intelligent playlists -----------------------------------------------------------------------

def _evaluate(node: _Node, path: tuple[str, ...], db: Connection) -> tuple[tuple[str, ...], str]:
    """The tracks of an intelligent playlist as Rekordbox's rules select them, in the order
    they came into the collection; or no tracks and why it cannot be evaluated."""
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
        return tuple(str(row[0]) for row in db.execute(query)), ""
    except (SQLAlchemyError, ValueError, TypeError, NotImplementedError) as exc:
        log.warning("intelligent playlist %s: %s", name, exc)
        return (), _refusal(name, "CuePoint cannot evaluate its rules")


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
    nodes = [_Node(row) for row in db.exec_driver_sql(
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
    driver = db.connection.driver_connection  # plain rows: see _entries
    for start in range(0, len(track_ids), _CHUNK):
        chunk = list(track_ids[start:start + _CHUNK])
        marks = ", ".join("?" * len(chunk))
        for row in driver.execute(  # type: ignore[union-attr]
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
