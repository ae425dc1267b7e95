"""Resume after the Rekordbox XML changed: the playlist is read again and matched to the
stored tracks by Rekordbox track id, never by position.

A real session of the demo's "Crate Digging" is cancelled after 8 tracks; the XML is then
edited as a DJ would (a track inserted at the top, one matched track and one unmatched
track removed, two swapped), and `cuepoint resume` runs in its own process.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from cuepoint_tray.catalog_server import CatalogServer
from cuepoint_tray.events import Event, TrackDone
from cuepoint_tray.paths import resolve_paths
from cuepoint_tray.rekordbox import read_library
from cuepoint_tray.resources import resource_folder
from cuepoint_tray.runner import SessionRunner
from cuepoint_tray.session import run_match
from cuepoint_tray.settings import Settings, save_settings

DEMO = resource_folder("assets", "demo")
NODE = re.compile(r'(<NODE Name="Crate Digging"[^>]*>)(.*?)(</NODE>)', re.S)


def playlist_ids(xml: Path) -> list[str]:
    match = NODE.search(xml.read_text(encoding="utf-8"))
    assert match
    return re.findall(r'Key="(\d+)"', match.group(2))


def set_playlist(xml: Path, ids: list[str]) -> None:
    entries = "".join(f'\n        <TRACK Key="{track_id}"/>' for track_id in ids)
    text = NODE.sub(lambda m: re.sub(r'Entries="\d+"', f'Entries="{len(ids)}"', m.group(1))
                    + entries + "\n      " + m.group(3), xml.read_text(encoding="utf-8"))
    xml.write_text(text, encoding="utf-8")


def stored(database: Path) -> tuple[str, list[tuple[int, str]]]:
    with sqlite3.connect(database) as db:
        (status,) = db.execute("SELECT status FROM sessions WHERE id = 1").fetchone()
        rows = db.execute("SELECT position, rb_track_id FROM track_results "
                          "WHERE session_id = 1 ORDER BY position").fetchall()
    return status, [(int(p), str(t)) for p, t in rows]


def test_resume_matches_by_track_id_after_the_playlist_changed(tmp_path: Path) -> None:
    xml = tmp_path / "rekordbox.xml"
    shutil.copyfile(DEMO / "rekordbox.xml", xml)
    paths = resolve_paths(tmp_path / "data").create()
    library = read_library(xml)
    with CatalogServer(DEMO / "catalog.jsonl").start() as catalog:
        settings = Settings(beatport_web_url=catalog.url, beatport_api_url=catalog.url + "/v4",
                            requests_per_second=200.0, concurrency=1)
        save_settings(settings, paths.settings_file)
        runner: list[SessionRunner] = []

        def cancel_after_eight(event: Event) -> None:
            if isinstance(event, TrackDone) and event.done == 8:
                runner[0].cancel("stopped by the test")

        first = run_match(library, [library.find_playlist("Crate Digging")], settings, paths,
                          listeners=[cancel_after_eight],
                          on_runner=lambda r, _id: runner.append(r))
        assert first.ended.status == "cancelled"
        _, before = stored(paths.database)
        done_ids = [track_id for _, track_id in before]
        assert len(done_ids) == 8

        original = playlist_ids(xml)
        outsider = next(t for t in re.findall(r'TrackID="(\d+)"', xml.read_text())
                        if t not in original)
        changed = [outsider] + [t for t in original if t not in (done_ids[2], original[12])]
        i, j = changed.index(done_ids[0]), changed.index(done_ids[5])
        changed[i], changed[j] = changed[j], changed[i]
        set_playlist(xml, changed)

        resumed = subprocess.run(
            [sys.executable, "-m", "cuepoint_tray", "--data-dir", str(paths.data_dir),
             "resume", "1", "--beatport-url", catalog.url],
            capture_output=True, text=True, timeout=300)

    assert resumed.returncode == 0, resumed.stderr
    assert "note: the playlist has 17 tracks now (it had 18 when" in resumed.stdout
    assert "note: 1 track matched before was removed from the playlist" in resumed.stdout
    assert "note: 2 tracks moved in the playlist" in resumed.stdout
    status, after = stored(paths.database)
    assert status == "completed"
    assert after == list(enumerate(changed, start=1))  # every entry once, at its new place
    with sqlite3.connect(paths.database) as db:
        assert db.execute("SELECT tracks, done FROM sessions WHERE id = 1").fetchone() == (
            len(changed), len(changed))
