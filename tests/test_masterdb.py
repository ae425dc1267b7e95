"""Rekordbox's own library, master.db: the real file Rekordbox 6 wrote, and richer libraries
written with pyrekordbox into copies of it. Read-only, without locking it, every field plus
ISRC, the tree with intelligent playlists and histories, and one sentence for a bad file."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cuepoint_tray.errors import RekordboxError
from cuepoint_tray.musical_keys import parse_key
from cuepoint_tray.rekordbox import format_tree, open_library
from cuepoint_tray.rekordbox.locate import library_format
from cuepoint_tray.rekordbox.masterdb import MasterDbLibrary
from cuepoint_tray.rekordbox.tree import RekordboxPlaylist, walk

from conftest import SHARED, require
from masterdb_builder import LibraryBuilder

REAL = SHARED / "fixtures" / "real" / "rekordbox-db"
EVERY_NOTATION = ["Am", "F#m", "Bbmin", "A#min", "Amaj", "8A", "1m", "12d", "A Minor",
                  "Bb Major", "E♭m", "Gb"]


def independent_playlists(plain_db: Path) -> list[str]:
    """The playlist names an SQL reading of the decrypted file sees: live rows, regular
    playlists, folders and intelligent playlists (Rekordbox's system lists left out)."""
    with sqlite3.connect(f"file:{plain_db}?mode=ro", uri=True) as db:
        return sorted(name for (name,) in db.execute(
            "SELECT Name FROM djmdPlaylist WHERE COALESCE(rb_local_deleted, 0) = 0 "
            "AND Attribute IN (0, 1, 4)"))


@pytest.mark.parametrize("name", ["master_locked.db", "master_unlocked.db"])
def test_the_real_rekordbox_file_lists_its_playlists(name: str) -> None:
    library = open_library(require(REAL / name))
    assert isinstance(library, MasterDbLibrary)
    names = sorted(node.name for node in walk(library.root))
    assert names == independent_playlists(require(REAL / "master_unlocked.db"))
    assert names == ["Trial playlist - Cloud Library Sync"]
    assert format_tree(library.root) == ["Trial playlist - Cloud Library Sync  (empty)"]
    with pytest.raises(RekordboxError, match="is empty: add tracks to it in Rekordbox"):
        library.tracks_of(library.find_playlist("Trial playlist - Cloud Library Sync"))


def test_files_are_told_apart_by_content_not_name(tmp_path: Path) -> None:
    locked = tmp_path / "collection.xml"
    locked.write_bytes(require(REAL / "master_locked.db").read_bytes())
    plain = tmp_path / "export.db"
    plain.write_bytes(require(REAL / "master_unlocked.db").read_bytes())
    xml = tmp_path / "master.db"
    xml.write_bytes(require(SHARED / "eval" / "dev" / "rekordbox.xml").read_bytes())
    assert [library_format(p) for p in (locked, plain, xml)] == ["sqlcipher", "sqlite", "xml"]
    assert open_library(locked).kind == open_library(plain).kind == "master.db"
    assert open_library(xml).kind == "xml"


@pytest.fixture(scope="module")
def rich(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A library with folders, playlists, intelligent playlists, histories, ISRCs and keys
    in every notation, written with pyrekordbox into a copy of Rekordbox's own file."""
    require(REAL / "master_locked.db")
    out = tmp_path_factory.mktemp("rich") / "master.db"
    with LibraryBuilder(out) as build:
        ids = [build.track(f"Track {n}", f"Artist {n % 7}", remixer="Remixer" if n == 3 else "",
                           label=f"Label {n % 3}", genre="Techno" if n % 2 else "House",
                           album="The Album", mix="Extended Mix" if n == 3 else "",
                           bpm=120 + n / 4, length=300 + n, key=key,
                           isrc=f"GBAYE26{n:05d}" if n % 3 == 0 else "", year=2020 + n % 5,
                           comments=f"note {n}")
               for n, key in enumerate(EVERY_NOTATION * 2)]
        sets = build.folder("Sets")
        build.playlist("Friday", [ids[5], ids[1], ids[3]], parent=sets)
        club = build.folder("Club", parent=sets)
        build.playlist("Peak Time", ids[:10], parent=club)
        build.playlist("House / Techno", ids[10:], parent=None)
        build.playlist("Nothing yet", [], parent=None)
        build.intelligent("Techno only", [("genre", 1, "Techno")])
        build.intelligent("Extended ones", [("mixName", 8, "Extended")])
        year = build.history("2026", [], folder=True)
        month = build.history("11", [], parent=year, folder=True)
        build.history("2026-11-28", [ids[7], ids[2], ids[9]], parent=month)
    return out


def test_the_tree_has_folders_playlists_intelligent_ones_and_history(rich: Path) -> None:
    library = open_library(rich)
    assert format_tree(library.root) == [
        "Trial playlist - Cloud Library Sync  (empty)",
        "Sets/",
        "  Friday  (3 tracks)",
        "  Club/",
        "    Peak Time  (10 tracks)",
        "House / Techno  (14 tracks)",
        "Nothing yet  (empty)",
        "Techno only  (intelligent, 12 tracks)",
        "Extended ones  (intelligent: CuePoint cannot evaluate its rules)",
        "History/",
        "  2026/",
        "    11/",
        "      2026-11-28  (3 tracks)",
    ]


def test_tracks_come_in_rekordbox_order_with_every_field_and_isrc(rich: Path) -> None:
    library = open_library(rich)
    friday = library.tracks_of(library.find_playlist("Sets/Friday"))
    assert [t.name for t in friday] == ["Track 5", "Track 1", "Track 3"]
    third = friday[2]
    assert (third.artist, third.remixer, third.label, third.genre, third.album, third.mix,
            third.average_bpm, third.total_time, third.tonality, third.year, third.comments,
            third.isrc) == ("Artist 3", "Remixer", "Label 0", "Techno", "The Album",
                            "Extended Mix", 120.75, 303, "A#min", 2023, "note 3",
                            "GBAYE2600003")
    assert third.location.startswith("file://localhost/") and third.location.endswith(".mp3")
    played = library.tracks_of(library.find_playlist("2026-11-28"))
    assert [t.name for t in played] == ["Track 7", "Track 2", "Track 9"]


def test_every_key_notation_in_the_library_is_read(rich: Path) -> None:
    library = open_library(rich)
    tracks = library.tracks_of(library.find_playlist("Peak Time")) + library.tracks_of(
        library.find_playlist("House / Techno"))
    assert {t.tonality for t in tracks} == set(EVERY_NOTATION)
    assert all(parse_key(t.tonality) is not None for t in tracks)
    assert parse_key("1m") == parse_key("Am") == parse_key("8A")


def test_intelligent_playlists_are_evaluated_or_refused_plainly(rich: Path) -> None:
    library = open_library(rich)
    techno = library.tracks_of(library.find_playlist("Techno only"))
    assert len(techno) == 12 and {t.genre for t in techno} == {"Techno"}
    with pytest.raises(RekordboxError) as refused:
        library.tracks_of(library.find_playlist("Extended ones"))
    assert "intelligent playlist" in str(refused.value)
    assert "copy its tracks into a normal playlist" in str(refused.value)
    assert "\n" not in str(refused.value)


def test_the_playlist_changed_last_is_known(rich: Path, tmp_path: Path) -> None:
    copy = tmp_path / "master.db"
    copy.write_bytes(rich.read_bytes())
    from pyrekordbox.masterdb import MasterDatabase

    db = MasterDatabase(copy, unlock=True)
    friday = db.get_playlist(Name="Friday").one()
    song = db.get_content(Title="Track 8").one()
    time.sleep(0.01)
    db.add_to_playlist(friday, song)
    db.commit()
    db.close()
    db.engine.dispose()
    library = open_library(copy)
    recent = library.recently_changed()
    assert recent is not None and recent.path == ("Sets", "Friday")
    assert isinstance(recent, RekordboxPlaylist) and recent.kind == "playlist"
    assert recent.changed_at is not None and abs(recent.changed_at - time.time()) < 120


def test_reading_never_writes_nor_keeps_the_file(rich: Path) -> None:
    before = (hashlib.sha256(rich.read_bytes()).hexdigest(), rich.stat().st_mtime_ns)
    library = open_library(rich)
    library.tracks_of(library.find_playlist("Peak Time"))
    assert (hashlib.sha256(rich.read_bytes()).hexdigest(), rich.stat().st_mtime_ns) == before
    assert sorted(p.name for p in rich.parent.iterdir() if p.name.startswith("master.db")) \
        == ["master.db"]  # no -wal, -shm or -journal left beside Rekordbox's file
    snapshot = library._snapshot.copy  # type: ignore[attr-defined]
    assert snapshot.exists()
    library.close()  # type: ignore[attr-defined]
    assert not snapshot.parent.exists()


def test_a_library_locked_by_another_program_mid_write_still_reads_and_stays_writable(
        tmp_path: Path) -> None:
    """Rekordbox writing (rollback journal, uncommitted): CuePoint reads the last committed
    state, and the writer commits afterwards: CuePoint held no lock it had to wait for."""
    plain = tmp_path / "master.db"
    original = require(REAL / "master_unlocked.db").read_bytes()
    plain.write_bytes(original)
    writer = sqlite3.connect(plain, isolation_level=None, timeout=0)
    writer.execute("PRAGMA cache_size = 1")  # a long write spills into the file before COMMIT
    writer.execute("BEGIN EXCLUSIVE")
    writer.execute("UPDATE djmdPlaylist SET Name = 'Renamed' WHERE ID = '2602250856'")
    writer.execute("DELETE FROM djmdPlaylist WHERE ID = '100000'")
    writer.execute("UPDATE djmdContent SET Commnt = hex(randomblob(2000))")
    assert Path(str(plain) + "-journal").exists()
    assert plain.read_bytes() != original  # uncommitted pages are in the file itself
    library = open_library(plain)
    assert [n.name for n in walk(library.root)] == ["Trial playlist - Cloud Library Sync"]
    writer.execute("COMMIT")  # timeout=0: would fail at once if CuePoint held a lock
    writer.close()
    assert [n.name for n in walk(open_library(plain).root)] == ["Renamed"]


@contextmanager
def a_change_in_the_wal(tmp_path: Path) -> Iterator[Path]:
    """A plain copy of the real master.db whose playlist Rekordbox renamed to "In the WAL",
    the change still in the WAL (Rekordbox's connection open, not checkpointed)."""
    plain = tmp_path / "master.db"
    plain.write_bytes(require(REAL / "master_unlocked.db").read_bytes())
    rekordbox = sqlite3.connect(plain, isolation_level=None)
    rekordbox.execute("PRAGMA journal_mode = WAL")
    rekordbox.execute("PRAGMA wal_autocheckpoint = 0")
    rekordbox.execute("UPDATE djmdPlaylist SET Name = 'In the WAL' WHERE ID = '2602250856'")
    try:
        yield plain
    finally:
        rekordbox.close()


def test_changes_still_in_the_wal_are_read(tmp_path: Path) -> None:
    with a_change_in_the_wal(tmp_path) as plain:
        assert Path(str(plain) + "-wal").stat().st_size > 0
        assert [n.name for n in walk(open_library(plain).root)] == ["In the WAL"]


# --- a bad file gets one sentence -------------------------------------------------------------

def one_sentence(path: Path) -> str:
    with pytest.raises(RekordboxError) as caught:
        open_library(path)
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_a_truncated_master_db(tmp_path: Path) -> None:
    data = require(REAL / "master_locked.db").read_bytes()
    cut = tmp_path / "master.db"
    cut.write_bytes(data[:len(data) // 2 + 1000])
    message = one_sentence(cut)
    assert "damaged (the file is cut short)" in message


def test_a_damaged_master_db(tmp_path: Path) -> None:
    data = bytearray(require(REAL / "master_locked.db").read_bytes())
    for page in range(1, len(data) // 4096):
        data[page * 4096 + 100:page * 4096 + 400] = bytes(300)
    damaged = tmp_path / "master.db"
    damaged.write_bytes(bytes(data))
    assert "it is damaged" in one_sentence(damaged)


def test_a_master_db_with_another_key(tmp_path: Path) -> None:
    from sqlcipher3 import dbapi2

    other = tmp_path / "master.db"
    db = dbapi2.connect(str(other))
    db.execute("PRAGMA key = 'not rekordbox'")
    db.execute("CREATE TABLE djmdPlaylist (ID TEXT)")
    db.execute("INSERT INTO djmdPlaylist VALUES ('1')")
    db.commit()
    db.close()
    assert "encryption key is not the one Rekordbox 6 and 7 use" in one_sentence(other)


def test_an_sqlite_file_that_is_not_rekordbox(tmp_path: Path) -> None:
    other = tmp_path / "history.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    assert "not Rekordbox's library" in one_sentence(other)


def test_a_folder_named_master_db(tmp_path: Path) -> None:
    folder = tmp_path / "master.db"
    folder.mkdir()
    assert "folder" in one_sentence(folder)


def test_the_command_line_says_one_line_for_a_bad_master_db(tmp_path: Path) -> None:
    data = require(REAL / "master_locked.db").read_bytes()
    cut = tmp_path / "master.db"
    cut.write_bytes(data[:70000])
    done = subprocess.run([sys.executable, "-m", "cuepoint_tray", "playlists", "--library",
                           str(cut)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.startswith("error: Rekordbox's library (master.db) could not be read")
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


@pytest.mark.slow
def test_a_5000_track_playlist_reads_in_order(tmp_path: Path) -> None:
    out = tmp_path / "master.db"
    with LibraryBuilder(out) as build:
        ids = [build.track(f"Song {n:05d}", f"Artist {n % 97}", key=EVERY_NOTATION[n % 12],
                           isrc=f"USABC26{n:05d}" if n % 3 == 0 else "", bpm=128, length=360)
               for n in range(5000)]
        build.playlist("Everything", list(reversed(ids)))
    library = open_library(out)
    tracks = library.tracks_of(library.find_playlist("Everything"))
    assert [t.name for t in tracks] == [f"Song {n:05d}" for n in reversed(range(5000))]
    assert sum(1 for t in tracks if t.isrc) == 1667
    assert all(parse_key(t.tonality) for t in tracks)


def test_a_playlist_is_read_from_another_thread_than_the_tree(rich: Path) -> None:
    """The tray reads the tree on one thread and a session's tracks on another."""
    import threading

    library = open_library(rich)
    found: list[object] = []
    worker = threading.Thread(target=lambda: found.append(
        [t.name for t in library.tracks_of(library.find_playlist("Sets/Friday"))]))
    worker.start()
    worker.join(30)
    assert found == [["Track 5", "Track 1", "Track 3"]]


def test_snapshots_a_killed_cuepoint_left_behind_are_removed(rich: Path) -> None:
    import os
    import tempfile

    from cuepoint_tray.rekordbox.masterdb import SNAPSHOT_PREFIX

    old = Path(tempfile.mkdtemp(prefix=SNAPSHOT_PREFIX))
    (old / "master.db").write_bytes(b"a copy of someone's library")
    two_days_ago = time.time() - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))
    recent = Path(tempfile.mkdtemp(prefix=SNAPSHOT_PREFIX))  # another CuePoint's, in use
    try:
        open_library(rich)
        assert not old.exists() and recent.exists()
    finally:
        recent.rmdir()


def test_the_key_is_derived_once_per_library_and_still_checked(rich: Path,
                                                                tmp_path: Path) -> None:
    """Each re-read of the same library opens its new snapshot with the key derived the
    first time (SQLCipher's own derivation is skipped); the tree is the same. A library with
    another salt gets its own key, and one with another key is still refused."""
    from cuepoint_tray.rekordbox import masterdb_key

    first = open_library(rich)
    derived = masterdb_key.derivations
    again = open_library(rich)
    assert masterdb_key.derivations == derived
    assert format_tree(again.root) == format_tree(first.root)
    assert again.tracks_of(again.find_playlist("Sets/Friday")) == first.tracks_of(
        first.find_playlist("Sets/Friday"))
    real = open_library(require(REAL / "master_locked.db"))  # another file, another salt
    assert format_tree(real.root) == ["Trial playlist - Cloud Library Sync  (empty)"]
    assert masterdb_key.derivations <= derived + 1
    test_a_master_db_with_another_key(tmp_path)


def test_the_snapshot_is_never_synced_to_disk(tmp_path: Path) -> None:
    """Closing a snapshot with a copied WAL checkpoints it; synced, that was an fsync of the
    whole copy inside the driver's close(), with the GIL held (a stall of the tray's menu)."""
    with a_change_in_the_wal(tmp_path) as plain:
        library = open_library(plain)
        snapshot = library._snapshot  # type: ignore[attr-defined]
        assert Path(str(snapshot.copy) + "-wal").exists()
        assert snapshot.read(lambda db: db.execute("PRAGMA synchronous").fetchone()) == (0,)
        library.close()  # type: ignore[attr-defined]
        assert not snapshot.copy.parent.exists()
