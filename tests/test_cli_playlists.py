"""`cuepoint playlists --xml FILE`: the tree with counts, and one clean error line on bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cuepoint_tray.cli import main

from conftest import DEV_SET, require

BROKEN = '<?xml version="1.0" encoding="UTF-8"?>\n<DJ_PLAYLISTS>\n<COLLECTION>\n<TRACK\n'
NESTED = """<?xml version="1.0" encoding="UTF-8"?>
<DJ_PLAYLISTS Version="1.0.0">
  <COLLECTION Entries="2">
    <TRACK TrackID="1" Name="One"/>
    <TRACK TrackID="2" Name="Two"/>
  </COLLECTION>
  <PLAYLISTS>
    <NODE Type="0" Name="ROOT" Count="2">
      <NODE Type="0" Name="House / Techno" Count="1">
        <NODE Name="Peak" Type="1" KeyType="0" Entries="2">
          <TRACK Key="1"/><TRACK Key="2"/>
        </NODE>
      </NODE>
      <NODE Name="Broken" Type="1" KeyType="0" Entries="1"><TRACK Key="99"/></NODE>
      <NODE Name="Later" Type="1" KeyType="0" Entries="0"/>
    </NODE>
  </PLAYLISTS>
</DJ_PLAYLISTS>
"""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["playlists", *args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_error_line(err: str) -> None:
    assert err.startswith("error: ")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_dev_set_tree(capsys: pytest.CaptureFixture[str]) -> None:
    xml = require(DEV_SET / "rekordbox.xml")
    code, out, err = run(capsys, "--xml", str(xml))
    assert code == 0 and err == ""
    assert out.splitlines() == ["Sets/", "  Dev Set  (300 tracks)", "First Half  (150 tracks)"]


def test_nested_tree_flags_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    xml = tmp_path / "library.xml"
    xml.write_text(NESTED, encoding="utf-8")
    code, out, _err = run(capsys, "--xml", str(xml))
    assert code == 0
    assert out.splitlines() == [
        "House / Techno/", "  Peak  (2 tracks)", "Broken  (1 track, 1 not in the collection)",
        "Later  (empty)"]


@pytest.mark.parametrize(("content", "expected"), [
    (BROKEN, "is cut off before its end"),
    ("", "is empty"),
    ('<?xml version="1.0"?>\n<plist/>\n', "not <DJ_PLAYLISTS>"),
    ('<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "b">]>\n<DJ_PLAYLISTS/>\n',
     "contains an entity declaration"),
])
def test_bad_file_gives_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       content: str, expected: str) -> None:
    xml = tmp_path / "bad.xml"
    xml.write_text(content, encoding="utf-8")
    code, out, err = run(capsys, "--xml", str(xml))
    assert code == 1 and out == ""
    assert_one_error_line(err)
    assert expected in err and str(xml) in err


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "--xml", str(tmp_path / "gone.xml"))
    assert code == 1
    assert_one_error_line(err)
    assert "does not exist" in err


def test_no_xml_given(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys)
    assert code == 1
    assert_one_error_line(err)
    assert "No Rekordbox XML given" in err


def test_real_command_prints_no_traceback(tmp_path: Path) -> None:
    command = Path(sys.executable).with_name("cuepoint")
    if not command.exists():
        pytest.skip(f"{command} is not installed")
    xml = tmp_path / "bad.xml"
    xml.write_text(BROKEN, encoding="utf-8")
    done = subprocess.run([str(command), "playlists", "--xml", str(xml)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1 and done.stdout == ""
    assert_one_error_line(done.stderr)
    assert "is cut off before its end" in done.stderr


def test_listing_leaves_the_system_keyring_alone_and_matching_does_not(tmp_path: Path) -> None:
    """Listing needs no Beatport token: finding keyring's backend alone took a quarter of a
    second of every `cuepoint playlists` (and a locked keyring may ask to be unlocked)."""
    xml = tmp_path / "rekordbox.xml"
    xml.write_text(NESTED, encoding="utf-8")
    code = ("import sys\nfrom cuepoint_tray.cli import _context, build_parser\n"
            "_context(build_parser().parse_args(sys.argv[1:]))\n"
            "print('keyring' in sys.modules)")
    asked = {}
    for command in (["playlists", "--library", str(xml)],
                    ["match", "--library", str(xml), "--playlist", "Later"]):
        done = subprocess.run([sys.executable, "-c", code, "--data-dir", str(tmp_path / "data"),
                               *command], capture_output=True, text=True, timeout=60,
                              check=True)
        asked[command[0]] = done.stdout.strip()
    assert asked == {"playlists": "False", "match": "True"}
