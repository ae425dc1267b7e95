import os
import stat
from pathlib import Path

import pytest

from cuepoint_tray.cli import main
from cuepoint_tray.errors import SettingsError
from cuepoint_tray.paths import resolve_paths
from cuepoint_tray.settings import Settings, declared, load_settings, save_settings

from conftest import PROJECT_ROOT


def test_every_setting_has_help_and_is_documented_in_the_readme():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    for declaration in declared():
        assert declaration.metadata["help"].strip(), declaration.name
        assert f"`{declaration.name}`" in readme, f"{declaration.name} missing from README"


def test_settings_round_trip_and_only_changes_are_stored(tmp_path):
    path = tmp_path / "settings.toml"
    save_settings(Settings(requests_per_second=2.5, default_playlist="Sets/Friday"), path)
    assert load_settings(path) == Settings(requests_per_second=2.5, default_playlist="Sets/Friday")
    stored = path.read_text()
    assert "requests_per_second" in stored and "beatport_api_url" not in stored
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # the token may be in there


@pytest.mark.parametrize(("content", "message"), [
    ("requests_per_second = [", "damaged"),
    ("no_such_setting = 1", "Unknown setting 'no_such_setting'"),
    ("concurrency = 'many'", "should be a int"),
])
def test_bad_settings_files_are_explained(tmp_path, content, message):
    path = tmp_path / "settings.toml"
    path.write_text(content)
    with pytest.raises(SettingsError, match=message):
        load_settings(path)


def test_data_dir_moves_everything_under_it(tmp_path):
    paths = resolve_paths(tmp_path / "here").create()
    for folder in (paths.data_dir, paths.cache_dir, paths.log_dir, paths.config_dir,
                   paths.reports_dir):
        assert folder.is_dir() and (tmp_path / "here") in (folder, *folder.parents)


def test_without_data_dir_paths_follow_the_platform(monkeypatch, tmp_path):
    monkeypatch.delenv("CUEPOINT_DATA_DIR")
    paths = resolve_paths(None)
    home = Path(os.environ["HOME"])
    assert home in paths.data_dir.parents and home in paths.config_dir.parents


def test_cli_settings_shows_and_saves(capsys, isolated_dirs):
    assert main(["settings", "--set", "requests_per_second", "3"]) == 0
    out = capsys.readouterr().out
    assert "requests_per_second = 3.0" in out
    assert (isolated_dirs / "config" / "settings.toml").exists()
    assert main(["settings", "--set", "beatport_token", "secret-token"]) == 0
    out = capsys.readouterr().out
    assert "secret-token" not in out and "beatport_token = '(set)'" in out


def test_cli_bad_setting_is_one_line_and_non_zero(capsys):
    assert main(["settings", "--set", "concurrency", "lots"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: Setting 'concurrency'") and err.count("\n") == 1
