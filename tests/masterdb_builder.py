"""Build Rekordbox master.db libraries for tests and benchmarks, with pyrekordbox's own write API,
in a copy of the real master.db Rekordbox 6 wrote (../shared/fixtures/real/rekordbox-db/).

Tracks, artists, labels, genres, albums, keys, folders, playlists, intelligent playlists and
HISTORY sets go in as pyrekordbox's models of Rekordbox's tables; pyrekordbox has no call for
keys and histories, so their rows are made from its models directly. The audio files are empty
files (pyrekordbox wants them to exist).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

REAL_DB = Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures" / "real" / \
    "rekordbox-db"


class LibraryBuilder:
    """A master.db being written; `close()` commits and closes it (also as a context manager)."""

    def __init__(self, out: Path, *, encrypted: bool = True, fresh: bool = True) -> None:
        from cuepoint_tray.rekordbox.masterdb import quiet_pyrekordbox

        quiet_pyrekordbox()
        from pyrekordbox.masterdb import MasterDatabase

        if fresh:
            source = REAL_DB / ("master_locked.db" if encrypted else "master_unlocked.db")
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, out)
        self.path = out
        self.audio = out.parent / f"{out.stem}-audio"
        self.audio.mkdir(exist_ok=True)
        self.db = MasterDatabase(out, unlock=encrypted)
        self._named: dict[tuple[str, str], str] = {}
        self._device = self.db.get_device().first()
        self._count = 0

    @classmethod
    def reopen(cls, path: Path, *, encrypted: bool = True) -> LibraryBuilder:
        """A library written before, opened again to add to it or change it."""
        return cls(path, encrypted=encrypted, fresh=False)

    def __enter__(self) -> LibraryBuilder:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- tracks -------------------------------------------------------------------------------

    def track(self, title: str, artist: str = "", *, remixer: str = "", label: str = "",
              genre: str = "", album: str = "", mix: str = "", bpm: float | None = None,
              length: int | None = None, key: str = "", isrc: str = "",
              year: int | None = None, comments: str = "", folder: str = "") -> str:
        """Add one track to the collection; returns its Rekordbox ID."""
        from pyrekordbox.masterdb import models

        self._count += 1
        file = self.audio / f"{self._count:06d}.mp3"
        file.touch()
        content_id = str(self.db.generate_unused_id(models.DjmdContent))
        row = models.DjmdContent.create(
            ID=content_id, UUID=str(uuid.uuid4()), Title=title,
            FolderPath=(folder or str(file)).replace("\\", "/"), FileNameL=file.name,
            FileType=1, ArtistID=self._id(models.DjmdArtist, artist),
            RemixerID=self._id(models.DjmdArtist, remixer),
            LabelID=self._id(models.DjmdLabel, label), GenreID=self._id(models.DjmdGenre, genre),
            AlbumID=self._id(models.DjmdAlbum, album), KeyID=self._key(key), Subtitle=mix,
            BPM=round(bpm * 100) if bpm else 0, Length=length or 0, ISRC=isrc,
            ReleaseYear=year or 0, Commnt=comments, DeviceID=self._device.ID,
            MasterDBID=self._device.MasterDBID, MasterSongID=content_id,
            rb_file_id=content_id, StockDate="2026-11-01", DateCreated="2026-11-01",
            created_at=datetime(2026, 11, 1) + timedelta(seconds=self._count))
        self.db.add(row)
        return content_id

    def _id(self, model: Any, name: str) -> str | None:
        if not name:
            return None
        found = self._named.get((model.__name__, name))
        if found is None:
            found = str(self.db.generate_unused_id(model))
            self.db.add(model.create(ID=found, UUID=str(uuid.uuid4()), Name=name))
            self._named[(model.__name__, name)] = found
        return found

    def _key(self, name: str) -> str | None:
        from pyrekordbox.masterdb import models

        if not name:
            return None
        found = self._named.get(("key", name))
        if found is None:
            found = str(self.db.generate_unused_id(models.DjmdKey))
            self.db.add(models.DjmdKey.create(ID=found, UUID=str(uuid.uuid4()), ScaleName=name,
                                              Seq=len(self._named)))
            self._named[("key", name)] = found
        return found

    # --- playlists ----------------------------------------------------------------------------

    def folder(self, name: str, parent: Any = None) -> Any:
        self.db.flush()
        return self.db.create_playlist_folder(name, parent=parent)

    def playlist(self, name: str, track_ids: Sequence[str], parent: Any = None) -> Any:
        """A playlist holding track_ids in this order."""
        from pyrekordbox.masterdb import models

        self.db.flush()
        playlist = self.db.create_playlist(name, parent=parent)
        for number, content_id in enumerate(track_ids, start=1):
            self.db.add(models.DjmdSongPlaylist.create(
                ID=str(uuid.uuid4()), UUID=str(uuid.uuid4()), PlaylistID=playlist.ID,
                ContentID=content_id, TrackNo=number))
        return playlist

    def intelligent(self, name: str, conditions: Iterable[tuple[str, int, str]],
                    parent: Any = None, *, match_all: bool = True) -> Any:
        """An intelligent playlist: conditions are (property, operator, value) as Rekordbox
        stores them, e.g. ("genre", 1, "Techno")."""
        from pyrekordbox.masterdb.smartlist import SmartList

        rules = SmartList(logical_operator=1 if match_all else 2)
        for prop, operator, value in conditions:
            rules.add_condition(prop, operator, value)
        self.db.flush()
        return self.db.create_smart_playlist(name, rules, parent=parent)

    def history(self, name: str, track_ids: Sequence[str], parent: str = "root", *,
                folder: bool = False) -> str:
        """A HISTORY list (or, with `folder`, a year/month folder); returns its ID."""
        from pyrekordbox.masterdb import models

        history_id = str(self.db.generate_unused_id(models.DjmdHistory))
        self.db.add(models.DjmdHistory.create(
            ID=history_id, UUID=str(uuid.uuid4()), Seq=self._count, Name=name,
            Attribute=1 if folder else 0, ParentID=parent, DateCreated="2026-11-28"))
        for number, content_id in enumerate(track_ids, start=1):
            self.db.add(models.DjmdSongHistory.create(
                ID=str(uuid.uuid4()), UUID=str(uuid.uuid4()), HistoryID=history_id,
                ContentID=content_id, TrackNo=number))
        return history_id

    def close(self) -> None:
        self.db.commit()
        self.db.close()
        self.db.engine.dispose()


def copy_of_xml_library(xml: Path, out: Path, *, isrcs: dict[str, str] | None = None,
                        encrypted: bool = True) -> dict[str, str]:
    """A master.db holding an XML export's tracks and playlists (tree and order kept), with
    `isrcs` (Rekordbox TrackID → ISRC) on the tracks named; returns TrackID → content ID."""
    from cuepoint_tray.domain import Playlist, PlaylistFolder
    from cuepoint_tray.rekordbox import read_library

    library = read_library(xml)
    isrcs = isrcs or {}
    ids: dict[str, str] = {}
    with LibraryBuilder(out, encrypted=encrypted) as builder:
        for track in library.tracks.values():
            ids[track.track_id] = builder.track(
                track.name, track.artist, remixer=track.remixer, label=track.label,
                genre=track.genre, album=track.album, mix=track.mix, bpm=track.average_bpm,
                length=track.total_time, key=track.tonality, year=track.year,
                comments=track.comments, isrc=isrcs.get(track.track_id, ""))

        def add(folder: PlaylistFolder, parent: Any) -> None:
            for child in folder.children:
                if isinstance(child, Playlist):
                    builder.playlist(child.name, [ids[t] for t in child.track_ids], parent)
                else:
                    add(child, builder.folder(child.name, parent))

        add(library.root, None)
    return ids


def catalog_isrcs(catalog: Path) -> dict[int, str]:
    """Beatport ID → ISRC of every track of a catalog file."""
    import json

    found: dict[int, str] = {}
    with catalog.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record.get("isrc"):
                found[int(record["id"])] = record["isrc"]
    return found


def every_third_isrc(truth: Path, catalog: Path) -> dict[str, str]:
    """An ISRC for every third Rekordbox track of the truth file: a library where a third of
    the tracks carry ISRCs. A track Beatport sells carries the ISRC of the Beatport track it
    is; one it does not (or without an ISRC there) carries an ISRC Beatport does not know,
    as files from other stores do."""
    import csv

    isrcs = catalog_isrcs(catalog)
    chosen: dict[str, str] = {}
    with truth.open(encoding="utf-8", newline="") as rows:
        for number, row in enumerate(csv.DictReader(rows)):
            if number % 3:
                continue
            ids = [int(i) for i in row["acceptable_beatport_ids"].split("|") if i]
            known = isrcs.get(ids[0]) if ids else None
            chosen[row["rekordbox_track_id"]] = known or f"ZZOTH26{number:05d}"
    return chosen
