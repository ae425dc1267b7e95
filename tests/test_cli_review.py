"""`cuepoint review` and the history commands' review counts (issue 14), on a real history
matched through the local catalog server."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from dashboard_fixtures import FOLDER, HOSTILE_PLAYLIST, write_collection

from cuepoint_tray.catalog_server import CatalogServer
from cuepoint_tray.cli import main

NIGHT_BUS = "9"


@dataclass
class Matched:
    data: Path
    xml: Path
    catalog: CatalogServer

    def cli(self, *args: str) -> int:
        return main(["--data-dir", str(self.data), *args])


@pytest.fixture(scope="module")
def matched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matched]:
    root = tmp_path_factory.mktemp("cli-review")
    collection = write_collection(root / "collection")
    with CatalogServer(collection.full_catalog).start() as catalog:
        done = Matched(root / "data", collection.xml, catalog)
        assert done.cli("match", "--xml", str(collection.xml), "--playlist",
                        f"{FOLDER}/{HOSTILE_PLAYLIST}", "--beatport-url", catalog.url) == 0
        yield done


@pytest.fixture
def undecided(matched: Matched, capsys: pytest.CaptureFixture[str]) -> Iterator[Matched]:
    yield matched
    capsys.readouterr()
    matched.cli("review", "1", NIGHT_BUS, "--undo")
    capsys.readouterr()


def test_review_lists_the_tracks_to_decide_with_their_proposals(
        undecided: Matched, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert undecided.cli("review", "1") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("session 1: 1 to review · 0 decided by you")
    header = lines[1].split()
    assert header[:2] == ["track", "id"] and "title" in header and "bpm" in header
    row = lines[2]
    assert row.startswith(f"{NIGHT_BUS} ") and "Zelie Ishikawa - Night Bus" in row
    assert re.search(r"\b7009 proposal\s+Night Bus \(Original Mix\)\s+Zelie Ishikawa\s+Am\s+"
                     r"126\b", row), row
    assert "7019" in lines[3] and "Night Bus (Extended Mix)" in lines[3]
    assert lines[-1].startswith(f"decide: cuepoint --data-dir {undecided.data} review 1 ")


def test_accept_reject_pick_and_undo_from_the_command_line(
        undecided: Matched, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert undecided.cli("review", "1", NIGHT_BUS, "--accept") == 0
    out = capsys.readouterr().out
    assert "accepted: Beatport 7009 Night Bus (Original Mix)" in out
    assert "session 1: 0 left to review" in out
    assert undecided.cli("sessions") == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].split()[5:8] == ["to", "review", "decided"]
    assert listed[1].split()[6:8] == ["0", "1"]  # to review, decided
    assert undecided.cli("show", "1") == 0
    assert "to review 0 · decided by you 1" in capsys.readouterr().out

    assert undecided.cli("review", "1", NIGHT_BUS, "--reject") == 0
    assert "rejected: no Beatport match is written" in capsys.readouterr().out
    # A Beatport id outside the candidates is looked up through the client.
    assert undecided.cli("review", "1", NIGHT_BUS, "--pick", "7006",
                         "--beatport-url", undecided.catalog.url) == 0
    assert "picked: Beatport 7006 Harbour Lights (Extended Mix)" in capsys.readouterr().out
    assert undecided.cli("review", "1", "--all") == 0
    assert "7006 picked" in capsys.readouterr().out
    assert undecided.cli("review", "1", NIGHT_BUS, "--undo") == 0
    assert "session 1: 1 left to review" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "words"), [
    (("review", "1", NIGHT_BUS, "--pick", "424242"), "Beatport has no track 424242"),
    (("review", "1", "77", "--accept"), "Session 1 has no Rekordbox track 77"),
    (("review", "9", NIGHT_BUS, "--accept"), "There is no session 9"),
    (("review", "1", NIGHT_BUS), "Say what to do with the track"),
    (("review", "1", "--accept"), "Say which track"),
])
def test_a_wrong_review_is_one_sentence(undecided: Matched, capsys: pytest.CaptureFixture[str],
                                        args: tuple[str, ...], words: str) -> None:
    capsys.readouterr()
    extra = ("--beatport-url", undecided.catalog.url)
    assert undecided.cli(*args, *extra) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {words}") and err.count("\n") == 1 and "Traceback" not in err


def test_export_options_on_the_command_line(undecided: Matched, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    def exported(*options: str) -> list[dict[str, str]]:
        out = tmp_path / f"out-{len(list(tmp_path.iterdir()))}.xml"
        assert undecided.cli("export", "1", "--rekordbox-xml", str(out), *options) == 0
        with out.with_name(out.stem + "-changes.csv").open(encoding="utf-8-sig") as stream:
            return list(csv.DictReader(stream))

    assert {row["field"] for row in exported()} == {"Label", "Mix"}  # empty ones only
    assert {row["field"] for row in exported("--fields", "label")} == {"Label"}
    assert {row["field"] for row in exported("--fields", "label", "--comments")} == {
        "Label", "Comments"}
    assert exported("--fields", "genre,year", "--mode", "overwrite") == []
    capsys.readouterr()
    out = tmp_path / "bad.xml"
    assert undecided.cli("export", "1", "--rekordbox-xml", str(out), "--fields", "colour") == 1
    assert "'colour' is not a field CuePoint writes" in capsys.readouterr().err


def test_compare_keeps_figures_apart_and_says_when_the_list_is_cut(
        undecided: Matched, capsys: pytest.CaptureFixture[str]) -> None:
    assert undecided.cli("match", "--xml", str(undecided.xml), "--playlist",
                         f"{FOLDER}/{HOSTILE_PLAYLIST}", "--beatport-url",
                         undecided.catalog.url) == 0
    capsys.readouterr()
    assert undecided.cli("compare", "1", "2") == 0
    lines = capsys.readouterr().out.splitlines()
    table = [line.split() for line in lines if line.split()[:1] and line.split()[0] in (
        "wall_ms", "to_review", "decided", "requests")]
    assert all(len(cells) == 4 for cells in table), table  # name, a, b, change: apart
    names = [cells[0] for cells in table]
    assert names == ["to_review", "decided", "requests", "wall_ms"]


def test_compare_lists_fifty_tracks_then_says_how_many_more(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from test_store_builders import begin, db_file, ended, result, track_done

    from cuepoint_tray.store import HistoryWriter

    with HistoryWriter(db_file(tmp_path)) as writer:
        for status in ("matched", "unmatched"):
            begin(writer, 60)
            for position in range(1, 61):
                writer(track_done(position, result(position, status), done=position, total=60))
            writer(ended("completed", 60))
    assert main(["--data-dir", str(tmp_path), "compare", "1", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    listed = [line for line in lines if line.strip().startswith("matched_in_a_only")]
    assert len(listed) == 50 and lines[-1] == "  … and 10 more (--all lists them)"
    assert main(["--data-dir", str(tmp_path), "compare", "1", "2", "--all"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len([line for line in lines if "matched_in_a_only" in line]) == 61  # + the count
    assert "more (--all" not in lines[-1]
