"""The Beatport token never leaves the settings file: not in logs, history, cache, reports,
exports or the dashboard's answers."""

from __future__ import annotations

import logging
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from cuepoint_tray.catalog_server import CatalogServer
from cuepoint_tray.cli import main
from cuepoint_tray.dashboard import DashboardAPI, DashboardServer
from cuepoint_tray.paths import resolve_paths
from cuepoint_tray.rekordbox import read_library
from cuepoint_tray.resources import resource_folder
from cuepoint_tray.session import run_match
from cuepoint_tray.settings import Settings, load_settings, save_settings

DEMO = resource_folder("assets", "demo")
TOKEN = "bp-SECRET-token-5f0c2a9e71"
REFRESH = "bp-SECRET-refresh-77d1b3"


@pytest.fixture
def api_server() -> Iterator[CatalogServer]:
    with CatalogServer(DEMO / "catalog.jsonl", token=TOKEN,
                       refresh_token=REFRESH).start() as server:
        yield server


def test_the_token_appears_in_no_file_but_the_settings(api_server: CatalogServer,
                                                       isolated_dirs: Path,
                                                       tmp_path: Path) -> None:
    paths = resolve_paths(isolated_dirs).create()
    save_settings(Settings(beatport_api_url=api_server.url + "/v4",
                           beatport_web_url=api_server.url, beatport_token=TOKEN,
                           beatport_refresh_token=REFRESH, requests_per_second=500.0),
                  paths.settings_file)
    logging.getLogger().setLevel(logging.DEBUG)  # the most the log could ever say
    xml = str(DEMO / "rekordbox.xml")
    assert main(["match", "--xml", xml, "--playlist", "Crate Digging"]) == 0
    assert api_server.stats()["total"] > 0
    for fmt in ("html", "csv", "json", "txt"):
        assert main(["report", "1", "--format", fmt]) == 0
    assert main(["export", "1", "--rekordbox-xml", str(tmp_path / "out" / "enriched.xml")]) == 0
    assert main(["settings"]) == 0

    with DashboardServer(DashboardAPI(paths), token="dash") as dashboard:
        for path in ("/api/settings", "/api/status", "/api/sessions/1", "/api/live"):
            answer = requests.get(dashboard.url + path, timeout=10,
                                  headers={"Authorization": "Bearer dash"})
            assert answer.status_code == 200
            assert TOKEN not in answer.text and REFRESH not in answer.text

    written = [p for p in [*isolated_dirs.rglob("*"), *tmp_path.joinpath("out").rglob("*")]
               if p.is_file() and p != paths.settings_file]
    assert any(p.name == "history.sqlite3" for p in written)
    assert any(p.suffix == ".log" for p in written)
    for path in written:
        content = path.read_bytes()
        for secret in (TOKEN, REFRESH):
            assert secret.encode() not in content, f"{secret} found in {path}"
    mode = stat.S_IMODE(paths.settings_file.stat().st_mode)
    assert mode == 0o600 and TOKEN in paths.settings_file.read_text(encoding="utf-8")


def test_a_token_the_api_renewed_is_kept_for_the_next_session(isolated_dirs: Path) -> None:
    paths = resolve_paths(isolated_dirs).create()
    with CatalogServer(DEMO / "catalog.jsonl", token=TOKEN, refresh_token=REFRESH,
                       token_ttl_s=1.0).start() as server:
        settings = Settings(beatport_api_url=server.url + "/v4", beatport_web_url=server.url,
                            beatport_token=TOKEN, beatport_refresh_token=REFRESH,
                            requests_per_second=500.0)
        save_settings(settings, paths.settings_file)
        time.sleep(1.1)  # the token in the settings has expired
        library = read_library(DEMO / "rekordbox.xml")
        outcome = run_match(library, [library.find_playlist("Crate Digging")], settings, paths)
        kept = load_settings(paths.settings_file)
        answer = requests.get(server.url + "/v4/catalog/search/", params={"q": "night"},
                              headers={"Authorization": f"Bearer {kept.beatport_token}"},
                              timeout=10)
    assert outcome.ended.status == "completed" and outcome.ended.summary.errors == 0
    assert kept.beatport_token not in ("", TOKEN)
    assert kept.beatport_refresh_token == REFRESH
    assert answer.status_code == 200
