"""A master.db's SQLCipher key, kept on disk per library: a later run reads the library
without deriving the key, and no run imports pyrekordbox or SQLAlchemy for it; a missing,
damaged, wrong or unwritable key file never stops a read. And the entries of every list,
grouped by SQLite, are what reading them row by row gives."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cuepoint_tray.rekordbox import masterdb

from conftest import SHARED, require
from masterdb_builder import LibraryBuilder

REAL = SHARED / "fixtures" / "real" / "rekordbox-db"

# One run of CuePoint reading the library: what it derived, loaded and listed.
READ = """
import json, logging, sys
from pathlib import Path
logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
from cuepoint_tray.rekordbox import format_tree, masterdb_key, open_library
library = open_library(sys.argv[1], key_file=Path(sys.argv[2]))
print(json.dumps({"derived": masterdb_key.derivations, "tree": format_tree(library.root),
                  "loaded": sorted(m for m in ("pyrekordbox", "sqlalchemy") if m in sys.modules)}))
"""


def read_in_a_new_process(library: Path, key_file: Path) -> tuple[dict[str, object], str]:
    done = subprocess.run([sys.executable, "-c", READ, str(library), str(key_file)],
                          capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout), done.stderr


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Playlists and a history, no intelligent playlist (those need pyrekordbox's rules)."""
    require(REAL / "master_locked.db")
    out = tmp_path_factory.mktemp("keyed") / "master.db"
    with LibraryBuilder(out) as build:
        ids = [build.track(f"Track {n}", f"Artist {n}") for n in range(6)]
        sets = build.folder("Sets")
        build.playlist("Friday", [ids[4], ids[0], ids[2]], parent=sets)
        build.history("2026-11-28", ids[:2])
    return out


TREE = ["Trial playlist - Cloud Library Sync  (empty)", "Sets/", "  Friday  (3 tracks)",
        "History/", "  2026-11-28  (2 tracks)"]


def test_a_later_run_reads_with_the_kept_key_and_loads_neither_pyrekordbox_nor_sqlalchemy(
        library: Path, tmp_path: Path) -> None:
    key_file = tmp_path / "cache" / "masterdb-keys.json"
    first, _ = read_in_a_new_process(library, key_file)
    assert first == {"derived": 1, "tree": TREE, "loaded": []}
    assert key_file.stat().st_mode & 0o777 == 0o600
    later, _ = read_in_a_new_process(library, key_file)
    assert later == {"derived": 0, "tree": TREE, "loaded": []}


def test_the_passphrase_read_from_pyrekordbox_s_source_is_the_one_it_carries() -> None:
    from cuepoint_tray.rekordbox import masterdb_key

    masterdb.quiet_pyrekordbox()
    from pyrekordbox.masterdb.database import BLOB
    from pyrekordbox.utils import deobfuscate

    assert masterdb_key._passphrase_in_source() == deobfuscate(BLOB)
    assert masterdb_key.passphrase() == deobfuscate(BLOB)


def test_a_damaged_key_file_is_written_again(library: Path, tmp_path: Path) -> None:
    key_file = tmp_path / "masterdb-keys.json"
    key_file.write_bytes(b"\x00{not json")
    run, log = read_in_a_new_process(library, key_file)
    assert run["derived"] == 1 and run["tree"] == TREE
    assert "is damaged: the key is derived again" in log
    assert read_in_a_new_process(library, key_file)[0]["derived"] == 0


def test_a_kept_key_sqlcipher_refuses_is_derived_again_and_replaced(library: Path,
                                                                    tmp_path: Path) -> None:
    key_file = tmp_path / "masterdb-keys.json"
    read_in_a_new_process(library, key_file)
    kept = json.loads(key_file.read_text())
    (salt, right), = kept["keys"].items()
    kept["keys"][salt] = "x'" + "0" * 64 + "'"
    key_file.write_text(json.dumps(kept))
    run, log = read_in_a_new_process(library, key_file)
    assert run["derived"] == 1 and run["tree"] == TREE
    assert "was refused: deriving it again" in log
    assert json.loads(key_file.read_text())["keys"] == {salt: right}


def test_a_key_file_that_cannot_be_written_never_stops_a_read(library: Path,
                                                             tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    run, log = read_in_a_new_process(library, blocker / "masterdb-keys.json")
    assert run["derived"] == 1 and run["tree"] == TREE
    assert "could not be kept" in log


def test_another_key_is_still_refused_in_one_sentence_with_a_key_file(tmp_path: Path) -> None:
    from sqlcipher3 import dbapi2

    from cuepoint_tray.errors import RekordboxError
    from cuepoint_tray.rekordbox import open_library

    other = tmp_path / "master.db"
    db = dbapi2.connect(str(other))
    db.execute("PRAGMA key = 'not rekordbox'")
    db.execute("CREATE TABLE djmdPlaylist (ID TEXT)")
    db.commit()
    db.close()
    key_file = tmp_path / "masterdb-keys.json"
    with pytest.raises(RekordboxError, match="encryption key is not the one Rekordbox 6 and 7"):
        open_library(other, key_file=key_file)
    assert not key_file.exists()  # a key SQLCipher refused is never kept


def test_the_lists_entries_grouped_by_sqlite_are_those_read_row_by_row(tmp_path: Path) -> None:
    """Ties in TrackNo keep the table's order, no number counts as 0, deleted entries and
    entries without a track are left out but still date the list's last change."""
    plain = tmp_path / "entries.db"
    with sqlite3.connect(plain) as db:
        db.execute("CREATE TABLE djmdSongPlaylist (ID TEXT PRIMARY KEY, PlaylistID TEXT, "
                   "ContentID TEXT, TrackNo INTEGER, updated_at TEXT, rb_local_deleted INTEGER)")
        db.executemany("INSERT INTO djmdSongPlaylist VALUES (?, ?, ?, ?, ?, ?)", [
            ("e1", "A", "30", 3, "2026-01-01 10:00:00.000 +00:00", 0),
            ("e2", "A", "10", 1, "2026-01-02 10:00:00.000 +00:00", None),
            ("e3", "A", "20", 1, "2026-01-01 09:00:00.000 +00:00", 0),
            ("e4", "A", "40", None, "2026-01-01 09:00:00.000 +00:00", 0),
            ("e5", "A", "50", 2, "2026-03-01 09:00:00.000 +00:00", 1),
            ("e6", "B", None, 1, "2026-02-01 09:00:00.000 +00:00", 0),
            ("e7", "B", "60", 5, "2026-01-05 09:00:00.000 +00:00", 1),
            ("e8", None, "70", 1, "2026-01-05 09:00:00.000 +00:00", 0),
            ("e9", "C", "80", 2, "", 0),
            ("e10", "C", "90", 1, "", 0)])
    connection = masterdb._driver().connect(str(plain))
    assert masterdb._sqlite_version(connection) >= (3, 44)  # sqlcipher3's own SQLite
    grouped = masterdb._entries(connection, "djmdSongPlaylist", "PlaylistID")
    row_by_row = masterdb._entries_row_by_row(connection, "djmdSongPlaylist", "PlaylistID")
    assert dict(grouped.ids) == dict(row_by_row.ids) == {
        "A": ["40", "10", "20", "30"], "None": ["70"], "C": ["90", "80"]}
    assert grouped.changed == row_by_row.changed
    assert sorted(grouped.changed) == ["A", "B", "None"]
    assert grouped.changed["A"] == masterdb._timestamp("2026-03-01 09:00:00.000 +00:00")
