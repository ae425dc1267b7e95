"""The files CuePoint writes: whole or not at all, no cell a spreadsheet would run, names a
file system takes, and exports that two downloads at once do not mix.

Real sessions of the demo playlists through the local catalog server, the CLI in its own
process, a real full disk (a small tmpfs, as root) for half-written files.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from cuepoint_tray.catalog_server import CatalogServer
from cuepoint_tray.dashboard import DashboardAPI, DashboardServer
from cuepoint_tray.file_writing import capped_name, write_whole
from cuepoint_tray.paths import resolve_paths
from cuepoint_tray.rekordbox import read_library
from cuepoint_tray.reports import write_tables
from cuepoint_tray.resources import resource_folder
from cuepoint_tray.session import run_match
from cuepoint_tray.settings import Settings

from conftest import tmpfs

DEMO = resource_folder("assets", "demo")
FORMULA = re.compile(r"^[=+\-@\t\r]")
PLAYLIST = "Crate Digging"


@pytest.fixture(scope="module")
def catalog() -> Iterator[CatalogServer]:
    with CatalogServer(DEMO / "catalog.jsonl").start() as server:
        yield server


def demo_xml(folder: Path, *, playlist_name: str = PLAYLIST) -> Path:
    """The demo XML with formulas in every Label and Genre, and the playlist renamed."""
    text = (DEMO / "rekordbox.xml").read_text(encoding="utf-8")
    text = re.sub(r' Label="', ' Label="=HYPERLINK(&quot;http://x&quot;)', text)
    text = re.sub(r' Genre="', ' Genre="@SUM(1)', text)
    text = text.replace(f'Name="{PLAYLIST}"', f'Name="{playlist_name}"')
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "rekordbox.xml"
    path.write_text(text, encoding="utf-8")
    return path


def cuepoint(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cuepoint_tray", "--data-dir", str(data_dir),
                           *args], capture_output=True, text=True, timeout=300)


def cells(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def test_no_csv_cell_would_run_in_a_spreadsheet(catalog: CatalogServer, tmp_path: Path) -> None:
    xml = demo_xml(tmp_path)
    data = tmp_path / "data"
    out = tmp_path / "out"
    matched = cuepoint(data, "match", "--xml", str(xml), "--playlist", PLAYLIST, "--out",
                       str(out), "--beatport-url", catalog.url)
    assert matched.returncode == 0, matched.stderr
    report = cuepoint(data, "report", "1", "--format", "csv", "--out", str(tmp_path / "r"))
    exported = cuepoint(data, "export", "1", "--rekordbox-xml", str(tmp_path / "new.xml"),
                        "--mode", "overwrite", "--comments")  # every hostile value written
    assert report.returncode == 0 and exported.returncode == 0, report.stderr + exported.stderr

    files = [out / "results.csv", out / "candidates.csv", out / "queries.csv",
             Path(report.stdout.strip()), tmp_path / "new-changes.csv"]
    for path in files:
        found = cells(path)
        assert not [cell for cell in found if FORMULA.match(cell)], path
    assert any(cell.startswith("'=HYPERLINK") for cell in cells(out / "results.csv"))
    assert any(cell.startswith("'@SUM") for cell in cells(Path(report.stdout.strip())))
    assert any(cell.startswith("'=HYPERLINK") for cell in cells(tmp_path / "new-changes.csv"))


@pytest.mark.parametrize("name", ["🎧" * 70, "夜" * 100, "Long set " * 1200],
                         ids=["70 emoji", "100 CJK", "10,000 characters"])
def test_long_playlist_names_still_give_reports_and_files(catalog: CatalogServer,
                                                          tmp_path: Path, name: str) -> None:
    xml = demo_xml(tmp_path, playlist_name=name)
    data = tmp_path / "data"
    matched = cuepoint(data, "match", "--xml", str(xml), "--playlist", name.strip(),
                       "--beatport-url", catalog.url)
    report = cuepoint(data, "report", "1", "--format", "html")
    for run in (matched, report):
        assert run.returncode == 0, run.stderr
        assert "Traceback" not in run.stderr
    written = Path(report.stdout.strip())
    assert written.exists() and len(written.name.encode()) <= 255
    session_folders = list((data / "reports").glob("session-1 *"))
    assert session_folders and all(len(f.name.encode()) <= 255 for f in session_folders)


def test_capped_names_stay_whole_characters() -> None:
    assert capped_name("🎧" * 70, 10) == "🎧" * 2
    assert capped_name("short") == "short"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "disk", "256k") as mount_point:
        yield mount_point


def test_a_full_disk_leaves_the_old_files_whole(catalog: CatalogServer, tmp_path: Path,
                                                small_disk: Path) -> None:
    library = read_library(DEMO / "rekordbox.xml")
    paths = resolve_paths(tmp_path / "data").create()
    settings = Settings(beatport_web_url=catalog.url, beatport_api_url=catalog.url + "/v4",
                        requests_per_second=500.0)
    outcome = run_match(library, [library.find_playlist("Demo/Friday Warm-up")], settings,
                        paths)
    folder = small_disk / "out"
    folder.mkdir()
    for name in ("results.csv", "candidates.csv", "queries.csv", "session.json"):
        (folder / name).write_text("the previous run\n", encoding="utf-8")
    (small_disk / "filler").write_bytes(b"\0" * (small_disk.stat().st_size or 0))
    free = shutil.disk_usage(small_disk).free
    (small_disk / "filler").write_bytes(b"\0" * max(0, free - 16 * 1024))  # 16 KB left

    with pytest.raises(OSError):
        write_tables(paths.database, outcome.session_id, folder)
    with pytest.raises(OSError):
        write_whole(folder / "session.json", json.dumps({"rows": ["x" * 1000] * 1000}).encode())

    for name in ("results.csv", "candidates.csv", "queries.csv", "session.json"):
        assert (folder / name).read_text(encoding="utf-8") == "the previous run\n", name
    assert sorted(p.name for p in folder.iterdir()) == [
        "candidates.csv", "queries.csv", "results.csv", "session.json"]  # no temp left


def test_two_export_downloads_at_once_each_get_their_own_file(catalog: CatalogServer,
                                                              tmp_path: Path) -> None:
    xml = tmp_path / "rekordbox.xml"
    shutil.copyfile(DEMO / "rekordbox.xml", xml)
    library = read_library(xml)
    paths = resolve_paths(tmp_path / "data").create()
    settings = Settings(beatport_web_url=catalog.url, beatport_api_url=catalog.url + "/v4",
                        requests_per_second=500.0)
    run_match(library, [library.find_playlist("Demo/Friday Warm-up")], settings, paths)
    with DashboardServer(DashboardAPI(paths)).start() as server:
        headers = {"Authorization": f"Bearer {server.token}"}
        base = f"{server.url}/api/sessions/1/rekordbox.xml"

        def fetch(bpm: bool) -> bytes:
            # Two different exports of the same session: overwriting every field with the
            # Comments note (BPM included), or the defaults without BPM (issue 14's options).
            options = "?mode=overwrite&comments=1" if bpm else "?fields=key,genre,label,year,mix"
            answer = requests.get(base + options, headers=headers, timeout=60)
            assert answer.status_code == 200
            return answer.content

        expected = {True: fetch(True), False: fetch(False)}
        assert expected[True] != expected[False]
        got: list[tuple[bool, bytes]] = []

        def download(bpm: bool) -> None:
            for _ in range(6):
                got.append((bpm, fetch(bpm)))

        threads = [threading.Thread(target=download, args=(bpm,)) for bpm in (True, False)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    assert len(got) == 12
    assert all(content == expected[bpm] for bpm, content in got)


def test_an_export_whose_undo_file_cannot_be_written_writes_no_xml(catalog: CatalogServer,
                                                                   tmp_path: Path) -> None:
    """The XML and its undo CSV are one unit: the undo lands first, so the enriched XML never
    exists without it (here the undo's name is taken by a folder)."""
    xml = tmp_path / "rekordbox.xml"
    shutil.copyfile(DEMO / "rekordbox.xml", xml)
    data = tmp_path / "data"
    matched = cuepoint(data, "match", "--xml", str(xml), "--playlist", PLAYLIST,
                       "--beatport-url", catalog.url)
    assert matched.returncode == 0, matched.stderr
    (tmp_path / "new-changes.csv").mkdir()

    exported = cuepoint(data, "export", "1", "--rekordbox-xml", str(tmp_path / "new.xml"))

    assert exported.returncode == 1 and "Traceback" not in exported.stderr
    assert not (tmp_path / "new.xml").exists()
    assert not list(tmp_path.glob(".*.tmp"))
