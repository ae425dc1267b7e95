"""Write a large, realistic Rekordbox XML export for benchmarks and stress tests.

    python scripts/make_big_rekordbox_xml.py OUT.xml --tracks 50000 [--playlists 60] [--seed 7]

Like a real export, every TRACK carries all of Rekordbox's attributes, one or more TEMPO
beat-grid markers (a few tracks have hundreds, as dynamically analysed ones do) and memory and
hot cues as POSITION_MARK. Names mix in non-ASCII letters; playlists sit in nested folders,
one playlist uses KeyType 1 (locations) and one name contains "/". Same seed, same file.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote
from xml.sax.saxutils import quoteattr

FIRST = ["Ana", "Sam", "Lady", "DJ", "Marco", "Zoë", "Øystein", "Çelik", "Mañana", "Hana",
         "Jürgen", "Chloé", "Kenji", "Tomás", "Amaru", "Nils", "Beyoncé", "Agnès", "東京"]
LAST = ["Hoff", "Falk", "Costa", "Gallo", "Weber", "Arkadia", "Nakamura", "Sørensen", "Dubois",
        "García", "Kovač", "Ödegaard", "Novak", "Reyes", "Lindqvist", "Ivanova", "北野"]
WORDS = ["Gravity", "Catch", "Fire", "Breathe", "Sun", "Home", "Vibe", "Tension", "Dream",
         "Nightfall", "Señal", "Lumière", "Kraft", "Ritual", "Echoes", "Horizon", "Groove",
         "Pulse", "Mirage", "Tiefe", "Nuit", "Aurora", "Velvet", "Drift", "Orbit", "Haze"]
MIXES = ["Original Mix", "Extended Mix", "Radio Edit", "Dub Mix", "Club Mix", "Remix"]
GENRES = ["Tech House", "Melodic House & Techno", "Techno (Peak Time / Driving)", "Deep House",
          "Progressive House", "Minimal / Deep Tech", "Afro House", ""]
LABELS = ["Xenon Sounds", "Drumcode", "Kompakt", "Innervisions", "Afterlife", "Cercle", ""]
KEYS = ["Am", "Em", "Bm", "F#m", "Dbm", "Abm", "Ebm", "Bbm", "Fm", "Cm", "Gm", "Dm",
        "C", "G", "D", "A", "E", "B", "F#", "Db", "Ab", "Eb", "Bb", "F"]
CRATES = ["Warmup", "Peak Time", "Closing", "Afters", "Deep Cuts", "Vocals", "Tools",
          "Classics", "Fresh", "Löwenbräu Night", "Café Sets", "Ibiza 2024", "東京 Tour"]


def main() -> None:
    args = _parse_args()
    rng = random.Random(args.seed)
    with Path(args.out).open("w", encoding="utf-8", newline="\n") as out:
        out.writelines(export_lines(rng, args.tracks, args.playlists))
    print(f"wrote {args.out}: {args.tracks} tracks, {args.playlists} playlists")


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", metavar="OUT", help="where to write the XML")
    parser.add_argument("--tracks", type=int, default=50_000)
    parser.add_argument("--playlists", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


def export_lines(rng: random.Random, tracks: int, playlists: int) -> Iterator[str]:
    """The export, line by line."""
    ids = [str(10_000_000 + index * 7) for index in range(tracks)]
    locations: dict[str, str] = {}
    yield '<?xml version="1.0" encoding="UTF-8"?>\n<DJ_PLAYLISTS Version="1.0.0">\n'
    yield '  <PRODUCT Name="rekordbox" Version="6.8.5" Company="AlphaTheta"/>\n'
    yield f'  <COLLECTION Entries="{tracks}">\n'
    for track_id in ids:
        yield from _track_lines(rng, track_id, locations)
    yield "  </COLLECTION>\n  <PLAYLISTS>\n"
    yield from _playlist_tree(rng, ids, locations, playlists)
    yield "  </PLAYLISTS>\n</DJ_PLAYLISTS>\n"


def _track_lines(rng: random.Random, track_id: str, locations: dict[str, str]) -> Iterator[str]:
    attrs, bpm, seconds = _track_attributes(rng, track_id)
    locations[track_id] = attrs["Location"]
    yield "    <TRACK " + " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items()) + ">\n"
    # Dynamically analysed tracks get a grid marker every few bars, as Rekordbox writes them.
    markers = 240 if rng.random() < 0.02 else rng.choice([1, 1, 1, 2, 3])
    for index in range(markers):
        start = 0.05 + index * seconds / markers
        yield (f'      <TEMPO Inizio="{start:.3f}" Bpm="{bpm:.2f}" Metro="4/4" '
               f'Battito="{1 + index % 4}"/>\n')
    for num in [-1, -1, *range(rng.randint(0, 8))]:
        start = rng.uniform(0, seconds)
        colour = f' Red="{rng.randint(0, 255)}" Green="40" Blue="226"' if num >= 0 else ""
        yield (f'      <POSITION_MARK Name="{rng.choice(["", "Drop", "Intro", "Break"])}" '
               f'Type="0" Start="{start:.3f}" Num="{num}"{colour}/>\n')
    yield "    </TRACK>\n"


def _track_attributes(rng: random.Random, track_id: str) -> tuple[dict[str, str], float, int]:
    artist = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    if rng.random() < 0.3:
        artist += f" & {rng.choice(FIRST)} {rng.choice(LAST)}"
    title = " ".join(rng.sample(WORDS, rng.randint(1, 3)))
    mix = rng.choice(MIXES)
    bpm = rng.choice([round(rng.uniform(118, 132), 2), float(rng.randint(120, 128))])
    seconds = rng.randint(150, 540)
    file_name = f"{artist} - {title} ({mix}).mp3"
    attrs = {
        "TrackID": track_id, "Name": f"{title} ({mix})", "Artist": artist, "Composer": "",
        "Album": f"{title} EP", "Grouping": "", "Genre": rng.choice(GENRES), "Kind": "MP3 File",
        "Size": str(rng.randint(6_000_000, 20_000_000)), "TotalTime": str(seconds),
        "DiscNumber": "0", "TrackNumber": str(rng.randint(0, 4)),
        "Year": str(rng.choice([0, *range(1995, 2026)])), "AverageBpm": f"{bpm:.2f}",
        "DateAdded": f"20{rng.randint(15, 24)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
        "BitRate": "320", "SampleRate": "44100", "Comments": rng.choice(["", "🔥 banger", ""]),
        "PlayCount": str(rng.randint(0, 40)), "Rating": str(rng.choice([0, 51, 102, 153, 204])),
        "Location": "file://localhost" + quote(f"/Users/dj/Music/{track_id}/{file_name}"),
        "Remixer": "", "Tonality": rng.choice(KEYS), "Label": rng.choice(LABELS), "Mix": mix,
    }
    return attrs, bpm, seconds


Folder = tuple[str, ...]
FOLDERS: list[Folder] = [(), ("Sets",), ("Sets", "Clubs"), ("Sets", "Clubs", "Berlin"),
                         ("Genres",), ("House / Techno",), ("Radio",)]
BY_LOCATION = "Radio Show (by location)"  # the playlist written with KeyType 1


def _playlist_tree(rng: random.Random, ids: list[str], locations: dict[str, str],
                   playlists: int) -> Iterator[str]:
    by_folder: dict[Folder, list[str]] = {folder: [] for folder in FOLDERS}
    by_folder[("Radio",)].append(BY_LOCATION)
    by_folder[()].append("Edits/Bootlegs")  # real libraries have "/" in names
    for index in range(max(playlists - 2, 0)):
        by_folder[rng.choice(FOLDERS)].append(f"{rng.choice(CRATES)} {index + 1}")
    yield f'    <NODE Type="0" Name="ROOT" Count="{len(_children(by_folder, ()))}">\n'
    yield from _folder_body(rng, (), by_folder, ids, locations)
    yield "    </NODE>\n"


def _children(by_folder: dict[Folder, list[str]], folder: Folder) -> list[Folder | str]:
    subfolders: list[Folder | str] = [f for f in by_folder if f[:-1] == folder and f]
    return subfolders + list(by_folder[folder])


def _folder_body(rng: random.Random, folder: Folder, by_folder: dict[Folder, list[str]],
                 ids: list[str], locations: dict[str, str]) -> Iterator[str]:
    pad = "  " * (len(folder) + 3)
    for child in _children(by_folder, folder):
        if isinstance(child, str):
            yield from _playlist(rng, child, ids, locations, pad)
            continue
        count = len(_children(by_folder, child))
        yield f'{pad}<NODE Type="0" Name={quoteattr(child[-1])} Count="{count}">\n'
        yield from _folder_body(rng, child, by_folder, ids, locations)
        yield f"{pad}</NODE>\n"


def _playlist(rng: random.Random, name: str, ids: list[str], locations: dict[str, str],
              pad: str) -> Iterator[str]:
    by_location = name == BY_LOCATION
    chosen = rng.sample(ids, min(len(ids), rng.randint(10, 150)))
    keys = [locations[track_id] for track_id in chosen] if by_location else chosen
    yield (f'{pad}<NODE Name={quoteattr(name)} Type="1" KeyType="{int(by_location)}" '
           f'Entries="{len(keys)}">\n')
    for key in keys:
        yield f"{pad}  <TRACK Key={quoteattr(key)}/>\n"
    yield f"{pad}</NODE>\n"


if __name__ == "__main__":
    main()
