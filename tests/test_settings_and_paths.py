import os
import stat
from pathlib import Path

import pytest

from cuepoint_tray.cli import main
from cuepoint_tray.errors import SettingsError
from cuepoint_tray.paths import resolve_paths
from cuepoint_tray.secrets_store import SecretsStore
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
    ("concurrency = 'many'", "Requests at once must be a whole number"),
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


class MemoryKeyring:
    """A system keyring as keyring's API sees one (the OS keychain is not reachable here)."""

    def __init__(self) -> None:
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, name: str) -> str | None:
        return self.passwords.get((service, name))

    def set_password(self, service: str, name: str, value: str) -> None:
        self.passwords[(service, name)] = value

    def delete_password(self, service: str, name: str) -> None:
        del self.passwords[(service, name)]


class LockedKeyring(MemoryKeyring):
    def set_password(self, service: str, name: str, value: str) -> None:
        raise RuntimeError("the keyring is locked")


def test_secrets_go_to_the_keyring_when_there_is_one(tmp_path: Path) -> None:
    keyring = MemoryKeyring()
    store = SecretsStore(backend=keyring)
    path = tmp_path / "settings.toml"
    save_settings(Settings(beatport_token="tok-123", requests_per_second=2.0), path, store)
    assert "tok-123" not in path.read_text(encoding="utf-8")
    assert "requests_per_second" in path.read_text(encoding="utf-8")
    assert keyring.passwords == {("CuePoint Tray", "beatport_token"): "tok-123"}
    assert load_settings(path, store).beatport_token == "tok-123"
    assert load_settings(path, store, with_secrets=False).beatport_token == ""  # not asked
    assert load_settings(path, SecretsStore(backend=MemoryKeyring())).beatport_token == ""

    save_settings(Settings(), path, store)  # cleared
    assert keyring.passwords == {} and load_settings(path, store).beatport_token == ""


def test_without_a_usable_keyring_secrets_stay_in_the_private_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    for store in (SecretsStore(), SecretsStore(backend=LockedKeyring())):
        save_settings(Settings(beatport_token="tok-456"), path, store)
        assert "tok-456" in path.read_text(encoding="utf-8")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert load_settings(path, store).beatport_token == "tok-456"
    assert SecretsStore().available is False  # conftest: keyring's fail backend
