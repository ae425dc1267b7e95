"""Which library CuePoint reads: --library (or its old name --xml), the rekordbox_library
setting (or its old name), else Rekordbox's master.db where Rekordbox keeps it on each
platform — tested on any machine by handing the home folder and environment in."""

from __future__ import annotations

from pathlib import Path

import pytest

from cuepoint_tray.cli import main
from cuepoint_tray.errors import SettingsError
from cuepoint_tray.paths import resolve_paths
from cuepoint_tray.rekordbox.current import CurrentLibrary
from cuepoint_tray.rekordbox.locate import choose_library, find_master_db, rekordbox_folder
from cuepoint_tray.settings import Settings, load_settings, save_settings

from conftest import SHARED, require

REAL_DB = SHARED / "fixtures" / "real" / "rekordbox-db" / "master_locked.db"
DEV_XML = SHARED / "eval" / "dev" / "rekordbox.xml"


def place(folder: Path) -> Path:
    folder.mkdir(parents=True)
    target = folder / "master.db"
    target.write_bytes(require(REAL_DB).read_bytes())
    return target


def test_macos_keeps_it_in_library_pioneer(tmp_path: Path) -> None:
    home = tmp_path / "mac-home"
    assert find_master_db("darwin", home, {}) is None
    placed = place(home / "Library" / "Pioneer" / "rekordbox")
    assert find_master_db("darwin", home, {}) == placed


def test_windows_keeps_it_in_appdata(tmp_path: Path) -> None:
    appdata = tmp_path / "Users" / "dj" / "AppData" / "Roaming"
    placed = place(appdata / "Pioneer" / "rekordbox")
    assert find_master_db("win32", tmp_path / "elsewhere", {"APPDATA": str(appdata)}) == placed
    # Without APPDATA, the usual place under the home folder.
    home = tmp_path / "Users" / "dj"
    assert rekordbox_folder("win32", home, {}) == appdata / "Pioneer" / "rekordbox"
    assert find_master_db("win32", home, {}) == placed


def test_linux_has_no_rekordbox(tmp_path: Path) -> None:
    place(tmp_path / "Library" / "Pioneer" / "rekordbox")
    assert rekordbox_folder("linux", tmp_path, {}) is None
    assert find_master_db("linux", tmp_path, {}) is None


def test_the_option_wins_then_the_setting_then_what_is_found(tmp_path: Path) -> None:
    found = place(tmp_path / "Library" / "Pioneer" / "rekordbox")
    where = {"platform": "darwin", "home": tmp_path, "environ": {}}
    assert choose_library("/x/given.xml", "/x/set.xml", **where).how == "given"
    assert choose_library(None, "/x/set.xml", **where).path == Path("/x/set.xml")
    chosen = choose_library(None, "  ", **where)
    assert (chosen.path, chosen.how) == (found, "found")
    assert str(found) in chosen.found_message and "--library" in chosen.found_message
    with pytest.raises(SettingsError, match="No Rekordbox library is set"):
        choose_library(None, "", platform="darwin", home=tmp_path / "nobody", environ={})


def test_a_found_library_is_read_and_reread_when_its_wal_changes(tmp_path: Path) -> None:
    found = place(tmp_path / "Library" / "Pioneer" / "rekordbox")
    current = CurrentLibrary(platform="darwin", home=tmp_path, environ={})
    first = current.get("")
    assert first.path == found and first.kind == "master.db"
    assert current.get("") is first  # unchanged: not copied and read again
    Path(str(found) + "-wal").write_bytes(b"")  # Rekordbox starts writing
    assert current.get("") is not first


def test_old_settings_files_keep_working(tmp_path: Path) -> None:
    file = tmp_path / "settings.toml"
    file.write_text('rekordbox_xml = "/music/rekordbox.xml"\n', encoding="utf-8")
    settings = load_settings(file, with_secrets=False)
    assert settings.rekordbox_library == "/music/rekordbox.xml"
    save_settings(settings, file)
    assert file.read_text(encoding="utf-8") == 'rekordbox_library = "/music/rekordbox.xml"\n'


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_library_and_its_old_name_xml_read_both_kinds(
        capsys: pytest.CaptureFixture[str]) -> None:
    for option in ("--library", "--xml"):
        code, out, _ = run(capsys, "playlists", option, str(require(DEV_XML)))
        assert (code, out.splitlines()[1]) == (0, "  Dev Set  (300 tracks)")
        code, out, _ = run(capsys, "playlists", option, str(require(REAL_DB)))
        assert (code, out) == (0, "Trial playlist - Cloud Library Sync  (empty)\n")


def test_settings_set_takes_the_old_name(capsys: pytest.CaptureFixture[str],
                                         isolated_dirs: Path) -> None:
    code, out, _ = run(capsys, "settings", "--set", "rekordbox_xml", str(require(DEV_XML)))
    assert code == 0 and f"rekordbox_library = '{DEV_XML}'" in out
    code, out, _ = run(capsys, "playlists")
    assert code == 0 and "Dev Set  (300 tracks)" in out
    paths = resolve_paths(isolated_dirs)
    assert load_settings(paths.settings_file).rekordbox_library == str(DEV_XML)


def test_no_library_anywhere_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "match", "--playlist", "Friday")
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "--library" in err and "rekordbox_library" in err


def test_settings_class_has_the_new_name_only() -> None:
    assert Settings(rekordbox_library="x").rekordbox_library == "x"
    assert not hasattr(Settings(), "rekordbox_xml")
