"""A small Rekordbox collection with hostile names, its Beatport catalogs, and real sessions.

Used by test_dashboard_browser.py (and scripts/bench_dashboard.py's smoke run): the names
are what a DJ's files and Beatport can really hold — markup, quotes, right-to-left text and
the right-to-left override — so the dashboard must show them literally, never run them.
`demo_history` is the plainest history there is, for the dashboard's HTTP-layer tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from xml.sax.saxutils import quoteattr

from cuepoint_tray.paths import AppPaths, resolve_paths
from cuepoint_tray.settings import Settings

SCRIPT_NAME = "<script>alert(1)</script>"
IMG_NAME = "<img src=x onerror=alert(1)>"
QUOTED_NAME = "\"quoted' & <b>bold</b>"
RTL_NAME = "שיר הלילה \u202eevil\u202c"
ARABIC_NAME = "أغنية الليل"
HOSTILE_NAMES = (SCRIPT_NAME, IMG_NAME, QUOTED_NAME, RTL_NAME, ARABIC_NAME)
HOSTILE_PLAYLIST = "Set <img src=x onerror=alert(2)>"
WARMUP_PLAYLIST = "Warm-up"
FOLDER = "Gigs"

# (rekordbox id, name, artist, mix, in the catalog as (beatport id, mix) or None)
TRACKS: tuple[tuple[str, str, str, str, tuple[int, str] | None], ...] = (
    ("1", SCRIPT_NAME, "Evil DJ", "Original Mix", (7001, "Original Mix")),
    ("2", IMG_NAME, "Markup Crew", "Original Mix", (7002, "Original Mix")),
    ("3", QUOTED_NAME, "Quote & Co", "Original Mix", (7003, "Original Mix")),
    ("4", RTL_NAME, "להקה", "Original Mix", (7004, "Original Mix")),
    ("5", ARABIC_NAME, "فرقة", "Original Mix", (7005, "Original Mix")),
    ("6", "Harbour Lights", "Nadia Okafor", "Extended Mix", (7006, "Extended Mix")),
    ("7", "Copper Sky", "Idris Lindqvist", "Original Mix", (7007, "Original Mix")),
    ("8", "Glass Tide", "Mira Rautio", "Radio Edit", (7008, "Radio Edit")),
    ("9", "Night Bus", "Zelie Ishikawa", "", (7009, "Original Mix")),
    ("10", "Nowhere To Be Found", "Ghost Unit", "Original Mix", None),
)
HOSTILE_IDS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "10")
WARMUP_IDS = ("6", "7", "8", "9")
# Only in the "full" catalog: matched in the second session, unmatched in the first.
LATE_TRACK = "7008"
# A twin of "Night Bus" in another mix makes it doubtful: a track to review.
TWIN = (7019, "Night Bus", "Extended Mix", "Zelie Ishikawa")


@dataclass(frozen=True)
class Collection:
    xml: Path
    full_catalog: Path
    partial_catalog: Path  # without LATE_TRACK


def write_collection(folder: Path) -> Collection:
    """Write the Rekordbox XML and two catalogs (full, and one track short) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    xml = folder / "rekordbox.xml"
    xml.write_text(_export_xml(), encoding="utf-8")
    records = [_record(bp_id, name, mix, artist)
               for _, name, artist, _, found in TRACKS if found for bp_id, mix in [found]]
    records.append(_record(*TWIN))
    full = folder / "catalog-full.jsonl"
    partial = folder / "catalog-partial.jsonl"
    full.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    partial.write_text("".join(json.dumps(r) + "\n" for r in records
                               if str(r["id"]) != LATE_TRACK), encoding="utf-8")
    return Collection(xml, full, partial)


def _export_xml() -> str:
    tracks = "".join(_track_xml(*track[:4]) for track in TRACKS)
    playlists = _playlist_xml(HOSTILE_PLAYLIST, HOSTILE_IDS) + _playlist_xml(WARMUP_PLAYLIST,
                                                                            WARMUP_IDS)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<DJ_PLAYLISTS Version="1.0.0">\n'
            '  <PRODUCT Name="rekordbox" Version="6.8.5" Company="AlphaTheta"/>\n'
            f'  <COLLECTION Entries="{len(TRACKS)}">\n{tracks}  </COLLECTION>\n'
            '  <PLAYLISTS>\n    <NODE Type="0" Name="ROOT" Count="1">\n'
            f'      <NODE Type="0" Name="{FOLDER}" Count="2">\n'
            f"{playlists}"
            "      </NODE>\n    </NODE>\n  </PLAYLISTS>\n</DJ_PLAYLISTS>\n")


def _track_xml(track_id: str, name: str, artist: str, mix: str) -> str:
    full_name = f"{name} ({mix})" if mix else name
    return (f'    <TRACK TrackID="{track_id}" Name={quoteattr(full_name)} '
            f"Artist={quoteattr(artist)} "
            f'Album="" Genre="Techno" Kind="MP3 File" TotalTime="{300 + int(track_id)}" '
            f'AverageBpm="126.00" Year="2021" Tonality="Am" Label="" Mix="" Remixer="" '
            f'Location="file://localhost/Music/{track_id}.mp3">\n'
            '      <TEMPO Inizio="0.05" Bpm="126.00" Metro="4/4" Battito="1"/>\n    </TRACK>\n')


def _playlist_xml(name: str, ids: tuple[str, ...]) -> str:
    entries = "".join(f'          <TRACK Key="{key}"/>\n' for key in ids)
    return (f'        <NODE Name={quoteattr(name)} Type="1" KeyType="0" Entries="{len(ids)}">\n'
            f"{entries}        </NODE>\n")


def _record(bp_id: int, name: str, mix: str, artist: str) -> dict[str, object]:
    number = next((int(t[0]) for t in TRACKS if t[1] == name), 9)
    return {
        "id": bp_id, "name": name, "mix_name": mix, "slug": f"track-{bp_id}",
        "artists": [{"id": bp_id * 10, "name": artist, "slug": "artist"}], "remixers": [],
        "bpm": 126, "key": {"id": 1, "name": "A Minor", "camelot_number": 8, "camelot_letter": "A"},
        "genre": {"id": 6, "name": "Techno", "slug": "techno"},
        "label": {"id": 77, "name": "Label <i>Italic</i>", "slug": "label"},
        "release": {"id": bp_id + 1, "name": f"{name} EP", "slug": "ep",
                    "label": {"id": 77, "name": "Label <i>Italic</i>", "slug": "label"}},
        "new_release_date": "2021-03-01", "publish_date": "2021-03-01",
        "length_ms": (300 + number) * 1000 + 200, "isrc": f"QZ{bp_id:010d}",
        "catalog_number": f"CAT{bp_id}",
    }


def settings_for(catalog_url: str, xml: Path | None = None, **changes: object) -> Settings:
    """Settings that send every request to a local catalog server, fast."""
    settings = Settings(beatport_web_url=catalog_url, beatport_api_url=catalog_url + "/v4",
                        requests_per_second=200.0, max_attempts=2, concurrency=2,
                        rekordbox_library=str(xml) if xml else "")
    return replace(settings, **changes)  # type: ignore[arg-type]


def demo_history(folder: Path) -> AppPaths:
    """A data folder in `folder` holding one real session of the demo's smallest playlist,
    matched against the demo catalog on a local server."""
    from cuepoint_tray.catalog_server import CatalogServer
    from cuepoint_tray.rekordbox import read_library
    from cuepoint_tray.resources import resource_folder
    from cuepoint_tray.session import run_match

    demo = resource_folder("assets", "demo")
    paths = resolve_paths(folder).create()
    library = read_library(demo / "rekordbox.xml")
    with CatalogServer(demo / "catalog.jsonl").start() as catalog:
        settings = Settings(beatport_web_url=catalog.url, beatport_api_url=catalog.url + "/v4",
                            requests_per_second=500.0)
        run_match(library, [library.find_playlist("Crate Digging")], settings, paths)
    return paths
