"""One declaration per setting, one check: `cuepoint settings --set`, the settings file and
the dashboard's API (over real HTTP) refuse the same values with the same sentence, and a
refused value changes nothing on disk."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from cuepoint_tray.cli import build_parser, main
from cuepoint_tray.dashboard import DashboardAPI, DashboardServer
from cuepoint_tray.errors import SettingsError
from cuepoint_tray.paths import AppPaths, resolve_paths
from cuepoint_tray.report_formats import REPORT_FORMATS
from cuepoint_tray.reports import RENDERERS
from cuepoint_tray.settings import (
    Settings,
    declared,
    either,
    load_settings,
    save_settings,
)

from conftest import PROJECT_ROOT

TOKEN = "settings-token-0123456789"
KEPT = Settings(requests_per_second=2.5, default_playlist="Sets/Friday")

# Each value as typed on the command line, and the sentence every path says about it.
REFUSED = [
    ("requests_per_second", "0", "Requests per second must be at least 0.001."),
    ("requests_per_second", "-1", "Requests per second must be at least 0.001."),
    ("requests_per_second", "nan", "Requests per second must be a number from 0.001 to 10000."),
    ("requests_per_second", "inf", "Requests per second must be a number from 0.001 to 10000."),
    ("concurrency", "-3", "Requests at once must be at least 1."),
    ("concurrency", "0", "Requests at once must be at least 1."),
    ("concurrency", "65", "Requests at once must be at most 64."),
    ("concurrency", "2.5", "Requests at once must be a whole number."),
    ("request_timeout_s", "0", "Request timeout (seconds) must be at least 0.1."),
    ("max_attempts", "0", "Tries per request must be at least 1."),
    ("cache_expiry_days", "inf", "Cache expiry (days) must be a number from 0 to 3650."),
    ("cache_expiry_days", "-1", "Cache expiry (days) cannot be negative."),
    ("query_retention_days", "-1", "Keep query details (days) cannot be negative."),
    ("report_format", "exe", "Report format must be html, csv, json or txt."),
]
IDS = [f"{name}={value}" for name, value, _ in REFUSED]


def _as_json(name: str, typed: str) -> object:
    """The value as the Settings page sends it: a number when it reads as one."""
    if name == "report_format":
        return typed
    number = float(typed)
    return int(number) if number.is_integer() and name in ("concurrency", "max_attempts",
                                                           "query_retention_days") else number


def _as_toml(name: str, typed: str) -> str:
    return f'{name} = "{typed}"' if name == "report_format" else f"{name} = {typed}"


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    found = resolve_paths(tmp_path / "data").create()
    save_settings(KEPT, found.settings_file)
    return found


@pytest.fixture
def server(paths: AppPaths) -> Iterator[DashboardServer]:
    with DashboardServer(DashboardAPI(paths), token=TOKEN) as running:
        yield running


def _post(server: DashboardServer, values: dict[str, object]) -> requests.Response:
    # json.dumps writes NaN and Infinity as a browser's JSON.parse never would, but a
    # hostile page or script can: Python's json reads them.
    return requests.post(server.url + "/api/settings", data=json.dumps({"values": values}),
                         headers={"Authorization": f"Bearer {TOKEN}",
                                  "Content-Type": "application/json"}, timeout=10)


@pytest.mark.parametrize(("name", "typed", "sentence"), REFUSED, ids=IDS)
def test_the_cli_refuses_with_the_sentence_and_keeps_the_file(
        name: str, typed: str, sentence: str, isolated_dirs: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    file = isolated_dirs / "config" / "settings.toml"
    save_settings(KEPT, file)
    before = file.read_bytes()
    assert main(["settings", "--set", name, typed]) == 1
    err = capsys.readouterr().err
    assert err == f"error: Setting '{name}' in --set: {sentence}\n"
    assert file.read_bytes() == before


@pytest.mark.parametrize(("name", "typed", "sentence"), REFUSED, ids=IDS)
def test_the_settings_file_is_refused_with_the_same_sentence(
        name: str, typed: str, sentence: str, tmp_path: Path) -> None:
    file = tmp_path / "settings.toml"
    file.write_text(_as_toml(name, typed) + "\n", encoding="utf-8")
    with pytest.raises(SettingsError) as refused:
        load_settings(file)
    assert refused.value.sentence == sentence and refused.value.setting == name
    assert str(refused.value) == f"Setting '{name}' in your settings file {file}: {sentence}"


@pytest.mark.parametrize(("name", "typed", "sentence"), REFUSED, ids=IDS)
def test_the_api_refuses_over_http_with_the_same_sentence_and_saves_nothing(
        name: str, typed: str, sentence: str, server: DashboardServer,
        paths: AppPaths) -> None:
    before = paths.settings_file.read_bytes()
    answer = _post(server, {"concurrency": 3, name: _as_json(name, typed)})
    assert answer.status_code == 400
    body = answer.json()
    assert body["setting"] == name and body["sentence"] == sentence
    assert body["error"] == f"Setting '{name}' in the settings page: {sentence}"
    assert paths.settings_file.read_bytes() == before  # concurrency 3 was not saved either


def test_json_numbers_no_setting_can_hold_are_refused(server: DashboardServer,
                                                      paths: AppPaths) -> None:
    before = paths.settings_file.read_bytes()
    for values in ({"concurrency": True}, {"requests_per_second": [1]},
                   {"default_playlist": {"a": 1}}, {"concurrency": "1e400"}):
        assert _post(server, values).status_code == 400, values
    assert paths.settings_file.read_bytes() == before


def test_zero_is_taken_where_it_means_something(server: DashboardServer,
                                                paths: AppPaths) -> None:
    answer = _post(server, {"cache_expiry_days": 0, "query_retention_days": 0,
                            "report_format": "txt"})
    assert answer.status_code == 200, answer.text
    settings = load_settings(paths.settings_file)
    assert settings.cache_expiry_days == 0 and settings.query_retention_days == 0
    assert settings.report_format == "txt" and settings.requests_per_second == 2.5


def test_the_api_carries_each_settings_label_limits_and_choices(
        server: DashboardServer) -> None:
    answer = requests.get(server.url + "/api/settings/schema",
                          headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    schema = {s["name"]: s for s in answer.json()["settings"]}
    assert list(schema) == [d.name for d in declared()]
    assert schema["concurrency"]["label"] == "Requests at once"
    assert schema["concurrency"]["limits"] == {"low": 1, "high": 64, "zero_allowed": False,
                                               "zero": "", "finite_only": True}
    assert schema["query_retention_days"]["limits"]["zero_allowed"] is True
    assert schema["query_retention_days"]["limits"]["zero"] == "keeps them for ever"
    assert [c["value"] for c in schema["report_format"]["choices"]] == list(REPORT_FORMATS)
    assert schema["beatport_token"]["secret"] and schema["beatport_token"]["default"] is None
    assert answer.json()["report_formats"] == [
        {"value": name, "label": kind.label} for name, kind in REPORT_FORMATS.items()]


def test_the_report_formats_are_one_list() -> None:
    """The renderers, the setting's choices and the CLI's --format all name the same formats."""
    assert list(RENDERERS) == list(REPORT_FORMATS)
    choices = next(d.metadata["choices"] for d in declared() if d.name == "report_format")
    assert list(choices) == list(REPORT_FORMATS)
    report = build_parser().parse_args(["report", "1", "--format", "txt"])
    assert report.format == "txt"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["report", "1", "--format", "pdf"])


def _readme_rows() -> dict[str, list[str]]:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in (line for line in section.splitlines() if line.startswith("| `")):
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[0].strip("`")] = cells[1:]
    return rows


def test_every_setting_is_a_row_of_the_readmes_table_with_its_limits() -> None:
    rows = _readme_rows()
    assert list(rows) == [d.name for d in declared()], "the README's table and settings.py differ"
    for declaration in declared():
        default, allowed, what = rows[declaration.name]
        assert what, f"{declaration.name} has no description in the README"
        limits, choices = declaration.metadata["limits"], declaration.metadata["choices"]
        if limits is not None:
            assert allowed == f"{limits.low:g} to {limits.high:g}", declaration.name
        if choices:
            assert allowed == either(choices), declaration.name
        if not declaration.metadata["secret"] and declaration.default not in ("", None):
            assert re.sub(r"[`]", "", default) == (f"{declaration.default:g}" if isinstance(
                declaration.default, float) else str(declaration.default)), declaration.name


def test_a_refused_value_leaves_the_file_as_it_was_even_with_good_values_beside_it(
        isolated_dirs: Path) -> None:
    file = isolated_dirs / "config" / "settings.toml"
    save_settings(KEPT, file)
    assert main(["settings", "--set", "concurrency", "8", "--set", "report_format", "pdf"]) == 1
    assert tomllib.loads(file.read_text(encoding="utf-8")) == {
        "default_playlist": "Sets/Friday", "requests_per_second": 2.5}
