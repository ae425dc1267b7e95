"""Generate the demo data: a small store catalog and a Rekordbox export to match against it.

    python scripts/make_demo.py [--out cuepoint_tray/assets/demo] [--seed 2026] [--tracks 3000]

Writes, deterministically for a seed:
- `catalog.jsonl`: about 3,000 tracks in the format of `eval/dev/catalog.jsonl` (one API
  v4-shaped track a line), with the decoys a store has: Original / Extended / Radio Edit /
  Dub versions, remix packages, re-releases on other labels' compilations (same ISRC), and
  titles shared across artists. Every name is invented here.
- `rekordbox.xml`: a Rekordbox export whose folder "Demo" holds "Friday Warm-up" and
  "Peak Time", plus the root playlist "Crate Digging", with the distortions real libraries
  carry (mix omitted, feat. in the title, artists swapped, accents and case, typos, "01 - "
  prefixes, label in brackets, "Artist - Title" file names, tracks the store lacks).
- `truth.csv`: for each playlist track, the catalog ids that are right answers ("" = absent)
  and the distortion it carries, so the demo's results can be checked.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

Track = dict[str, Any]

# Written into the source tree: the demo ships as package data of cuepoint_tray.
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "cuepoint_tray" / "assets" / "demo"

# --- invented names -------------------------------------------------------------------------------

FIRST_NAMES = [
    "Mira", "Tove", "Jalen", "Ilka", "Bruno", "Nadia", "Kaito", "Selin", "Oskar", "Lumi",
    "Rafa", "Ayla", "Emeric", "Soraya", "Teodor", "Greta", "Idris", "Noor", "Viggo", "Marisol",
    "Anouk", "Joaquín", "Zélie", "Bjørn", "Dagny", "Elio", "Fenna", "Håkon", "Inès", "Jorun",
    "Keanu", "Linnea", "Matteo", "Nell", "Orla", "Pim", "Quinn", "Rosalie", "Sindre", "Thea",
    "Ugo", "Vesna", "Wim", "Xavi", "Yara", "Zofia", "Amaru", "Céleste", "Dorian", "Esmé",
]
LAST_NAMES = [
    "Varga", "Lindqvist", "Okafor", "Halloran", "Kowalczyk", "Nakamura", "Aydın", "Brennan",
    "Castellano", "Dufresne", "Thorsby", "Quillon", "Marrack", "Velden", "Ostrova", "Brisach",
    "Kellermann", "Oyelaran", "Sørlie", "Montalbán", "Vukovic", "Delacroix", "Rautio",
    "Ferrante", "Ishikawa", "Gallardo", "Nyberg", "Achterberg", "Szabó", "Leclercq",
    "Pellegrini", "Haugland", "Moreau-Blanc", "Tanaka-Reyes", "Wójcik", "Løvholt", "Carvalho",
]
ALIAS_STARTS = ["Kol", "Vex", "Nim", "Ore", "Tal", "Zir", "Mau", "Quo", "Sel", "Dru", "Ash",
                "Lyr", "Fen", "Cir", "Hel", "Obs", "Rhe", "Umb"]
ALIAS_ENDS = ["vane", "ora", "ique", "ex", "anth", "ello", "ys", "arde", "onic", "ima", "ux",
              "erra", "oth", "ind"]
ALIAS_WORDS = ["Collective", "Unit", "Ensemble", "Theory", "Signal", "Duo", "Machine"]
TITLE_WORDS = [
    "Lantern", "Meridian", "Saltwater", "Undertow", "Glasshouse", "Orbit", "Fever", "Coast",
    "Halcyon", "Tidal", "Night Bus", "Copper", "Static", "Bloom", "Lowlands", "Parallax",
    "Velvet", "Hours", "Afterglow", "Monsoon", "Quartz", "Ember", "Vertigo", "Solstice",
    "Mirage", "Cascade", "Harbour", "Ferris", "Wheel", "Nocturne", "Satellite", "Pulse",
    "Kaleidoscope", "Driftwood", "Horizon", "Lullaby", "Cathedral", "Marble", "Signal",
    "Wildfire", "Riviera", "Cobalt", "Gravel", "Hologram", "Tangerine", "Smoke", "Circuit",
    "Moth", "Lagoon", "Sirocco", "Pendulum", "Obsidian", "Bonfire", "Runway", "Chrome",
    "Lighthouse", "Canopy", "Sunday", "Vapour", "Equinox", "Prism", "Rooftop", "Avalanche",
    "Jasmine", "Mosaic", "Undergrowth", "Daybreak", "Ricochet", "Sleepwalk", "Tundra",
    "Señales", "Rêverie", "Fjäril", "Ciudad", "Noche", "Sól", "Ängel", "Corazón",
]
TITLE_EXTRAS = ["Deep", "Slow", "Higher", "Under", "Golden", "Hidden", "Electric", "Falling",
                "Lost", "Blue", "Burning", "Quiet", "Endless", "Broken", "Silver"]
LABEL_WORDS = ["Tidewater", "Brass Owl", "Kestrel", "Nightfield", "Ampersand", "Lowfold",
               "Meridian Works", "Halftone", "Saltmarsh", "Ölund", "Señal", "Foxglove",
               "Greyhound", "Ironbark", "Palisade", "Quayside", "Redshift", "Sundial",
               "Thimble", "Umberlight", "Vantablue", "Wolfram", "Yarrow", "Zenith Park", "Ashgrove",
               "Bellwether", "Cinder", "Dovetail", "Eastwick", "Fathom"]
LABEL_SUFFIXES = ["Records", "Recordings", "Audio", "Music", "Sounds", "", "Label", "Limited"]

# Beatport's genres, with their bpm ranges (drum & bass sometimes listed at half time).
GENRES = [
    (5, "House", 120, 126), (11, "Tech House", 124, 128),
    (6, "Techno (Peak Time / Driving)", 128, 138), (2, "Hard Techno", 145, 155),
    (90, "Melodic House & Techno", 120, 126), (12, "Deep House", 118, 124),
    (15, "Progressive House", 120, 126), (7, "Trance (Main Floor)", 136, 140),
    (1, "Drum & Bass", 172, 176), (89, "Afro House", 118, 124),
    (93, "Organic House", 114, 122), (37, "Indie Dance", 110, 124),
    (14, "Minimal / Deep Tech", 124, 130), (3, "Electronica", 95, 125),
]
WARM_UP_GENRES = {"Deep House", "Organic House", "Melodic House & Techno", "Progressive House",
                  "Afro House", "House", "Indie Dance", "Electronica"}
# Camelot order; API v4 spells keys with flats (but F#). Key ids follow the dev catalog.
MINOR_NOTES = ["Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "Db"]
MAJOR_NOTES = ["B", "F#", "Db", "Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E"]
EXTRA_VERSIONS = ["Dub Mix", "Instrumental Mix", "Vocal Mix", "Club Mix"]
LATEST_RELEASE = date(2026, 10, 30)


def slugify(text: str) -> str:
    """A Beatport slug: ASCII letters and digits joined by hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def strip_accents(text: str) -> str:
    """Text without its accents, as some tagging tools leave it."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


# --- the catalog ----------------------------------------------------------------------------------

@dataclass
class Song:
    """One recording idea: title, artists, label and sound, before its versions."""

    title: str
    artists: list[dict[str, Any]]
    label: dict[str, Any]
    genre: tuple[int, str, int, int]
    released: date
    key: dict[str, Any]
    bpm: int
    length_ms: int


@dataclass
class CatalogBuilder:
    """Builds the store's tracks from songs, handing out ids, ISRCs and catalog numbers."""

    rng: random.Random
    tracks: list[Track] = field(default_factory=list)
    next_track_id: int = 20_000_000
    next_release_id: int = 4_100_000
    isrcs: set[str] = field(default_factory=set)
    catalog_numbers: dict[int, int] = field(default_factory=dict)

    def release(self, name: str, label: dict[str, Any]) -> dict[str, Any]:
        self.next_release_id += self.rng.randint(1, 60)
        return {"id": self.next_release_id, "name": name, "slug": slugify(name),
                "label": dict(label)}

    def catalog_number(self, label: dict[str, Any]) -> str:
        count = self.catalog_numbers.get(label["id"], self.rng.randint(1, 80)) + 1
        self.catalog_numbers[label["id"]] = count
        prefix = re.sub(r"[^A-Z]", "", strip_accents(label["name"]).upper())[:4]
        return f"{prefix}{count:03d}"

    def isrc(self, year: int) -> str:
        while True:
            code = (f"QZ{self.rng.choice('HJKLMNPRSTVW')}{self.rng.randint(10, 99)}"
                    f"{year % 100:02d}{self.rng.randint(0, 99999):05d}")
            if code not in self.isrcs:
                self.isrcs.add(code)
                return code

    def add(self, song: Song, mix_name: str, release: dict[str, Any], released: date,
            catalog_number: str, *, remixers: list[dict[str, Any]] | None = None,
            length_ms: int | None = None, isrc: str | None = None) -> Track:
        self.next_track_id += self.rng.randint(1, 40)
        day = released.isoformat()
        track: Track = {
            "id": self.next_track_id, "name": song.title, "mix_name": mix_name,
            "slug": slugify(song.title), "artists": song.artists, "remixers": remixers or [],
            "bpm": song.bpm, "key": song.key,
            "genre": {"id": song.genre[0], "name": song.genre[1], "slug": slugify(song.genre[1])},
            "label": dict(release["label"]), "release": release,
            "new_release_date": day, "publish_date": day,
            "length_ms": length_ms or song.length_ms,
            "isrc": isrc or self.isrc(released.year), "catalog_number": catalog_number,
        }
        self.tracks.append(track)
        return track


@dataclass
class NamePools:
    """The invented people and labels of the demo store."""

    artists: list[dict[str, Any]]
    remixers: list[dict[str, Any]]
    labels: list[dict[str, Any]]
    titles: list[str]


def make_people(rng: random.Random, count: int, first_id: int) -> list[dict[str, Any]]:
    names: list[str] = []
    while len(names) < count:
        roll = rng.random()
        if roll < 0.6:
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        elif roll < 0.85:
            name = rng.choice(ALIAS_STARTS) + rng.choice(ALIAS_ENDS)
        elif roll < 0.93:
            name = f"{rng.choice(ALIAS_STARTS)}{rng.choice(ALIAS_ENDS)} {rng.choice(ALIAS_WORDS)}"
        else:
            name = f"{rng.choice(FIRST_NAMES)} & {rng.choice(FIRST_NAMES)}"
        if name not in names:
            names.append(name)
    return [{"id": first_id + index * 7, "name": name, "slug": slugify(name)}
            for index, name in enumerate(names)]


def make_pools(rng: random.Random) -> NamePools:
    people = make_people(rng, 520, 310_000)
    labels = []
    for index, word in enumerate(LABEL_WORDS):
        name = f"{word} {rng.choice(LABEL_SUFFIXES)}".strip()
        labels.append({"id": 21_000 + index * 13, "name": name, "slug": slugify(name)})
    titles: list[str] = []
    while len(titles) < 700:
        words = rng.sample(TITLE_WORDS, rng.choice([1, 1, 2, 2, 2, 3]))
        if rng.random() < 0.2:
            words.insert(0, rng.choice(TITLE_EXTRAS))
        title = " ".join(words)
        if title not in titles:
            titles.append(title)
    return NamePools(artists=people[:400], remixers=people[400:], labels=labels, titles=titles)


def make_song(rng: random.Random, pools: NamePools) -> Song:
    genre = rng.choice(GENRES)
    bpm = rng.randint(genre[2], genre[3])
    if genre[1] == "Drum & Bass" and rng.random() < 0.15:
        bpm //= 2  # listed at half time, as Beatport sometimes does
    camelot = rng.randint(1, 12)
    minor = rng.random() < 0.6
    note = (MINOR_NOTES if minor else MAJOR_NOTES)[camelot - 1]
    quality = "Minor" if minor else "Major"
    key = {"id": 2 * camelot - (1 if minor else 0), "name": f"{note} {quality}",
           "camelot_number": camelot, "camelot_letter": "A" if minor else "B"}
    artist_count = rng.choices([1, 2, 3], weights=[70, 24, 6])[0]
    released = date(2010, 1, 1) + timedelta(days=rng.randint(0, 15 * 365))
    return Song(title=rng.choice(pools.titles), artists=rng.sample(pools.artists, artist_count),
                label=rng.choice(pools.labels), genre=genre, released=released, key=key,
                bpm=bpm, length_ms=rng.randint(300_000, 450_000))


def add_original_release(builder: CatalogBuilder, song: Song) -> list[Track]:
    rng = builder.rng
    name = song.title if rng.random() < 0.5 else f"{song.title} EP"
    release = builder.release(name, song.label)
    number = builder.catalog_number(song.label)
    versions = ["Original Mix"]
    if rng.random() < 0.6:
        versions.append("Extended Mix")
    if rng.random() < 0.4:
        versions.append("Radio Edit")
    if rng.random() < 0.15:
        versions.append(rng.choice(EXTRA_VERSIONS))
    lengths = {"Extended Mix": song.length_ms + rng.randint(40_000, 90_000),
               "Radio Edit": rng.randint(150_000, 225_000)}
    return [builder.add(song, version, release, song.released, number,
                        length_ms=lengths.get(version)) for version in versions]


def add_remix_package(builder: CatalogBuilder, song: Song, pools: NamePools) -> list[Track]:
    rng = builder.rng
    released = min(LATEST_RELEASE, song.released + timedelta(days=rng.randint(60, 400)))
    release = builder.release(f"{song.title} (The Remixes)", song.label)
    number = builder.catalog_number(song.label)
    tracks = []
    for remixer in rng.sample(pools.remixers, rng.randint(2, 4)):
        kind = rng.choices(["Remix", "Dub", "Rework", "Remix Edit"], weights=[80, 8, 7, 5])[0]
        tracks.append(builder.add(song, f"{remixer['name']} {kind}", release, released, number,
                                  remixers=[remixer], length_ms=rng.randint(290_000, 460_000)))
    return tracks


def add_rerelease(builder: CatalogBuilder, original: Track, song: Song,
                  pools: NamePools) -> Track:
    rng = builder.rng
    label = rng.choice([label for label in pools.labels if label["id"] != song.label["id"]])
    released = min(LATEST_RELEASE, song.released + timedelta(days=rng.randint(200, 1500)))
    name = rng.choice([f"{label['name']} Sampler {released.year}",
                       f"Best of {label['name']} {released.year}",
                       f"{song.genre[1]} Essentials Vol. {rng.randint(1, 9)}"])
    release = builder.release(name, label)
    # A compilation carries the same recording, so the same ISRC, under a new track id.
    return builder.add(song, original["mix_name"], release, released,
                       builder.catalog_number(label), length_ms=original["length_ms"],
                       isrc=original["isrc"])


def build_catalog(rng: random.Random, size: int) -> tuple[list[Track], NamePools]:
    """About `size` tracks, in release order."""
    pools = make_pools(rng)
    builder = CatalogBuilder(rng)
    while len(builder.tracks) < size:
        song = make_song(rng, pools)
        originals = add_original_release(builder, song)
        if rng.random() < 0.35:
            add_remix_package(builder, song, pools)
        if rng.random() < 0.1:
            add_rerelease(builder, originals[0], song, pools)
    return builder.tracks, pools


# --- the Rekordbox export -------------------------------------------------------------------------

@dataclass
class Entry:
    """A track of the DJ's collection, and what the store would rightly match it to."""

    attributes: dict[str, str]
    truth: list[int]
    family: str


def rekordbox_key(key: dict[str, Any] | None) -> str:
    """ "Db Minor" → "Dbm", "F# Major" → "F#": Rekordbox's Tonality spelling."""
    if not key:
        return ""
    note, _, quality = key["name"].partition(" ")
    return note + ("m" if quality == "Minor" else "")


def typo(rng: random.Random, text: str) -> str:
    """One slip of the keyboard in the longest word: two letters swapped, or one dropped."""
    words = text.split(" ")
    index = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[index]
    if len(word) < 4:
        return text
    at = rng.randint(1, len(word) - 3)
    if rng.random() < 0.5:
        word = word[:at] + word[at + 1] + word[at] + word[at + 2:]
    else:
        word = word[:at] + word[at + 1:]
    words[index] = word
    return " ".join(words)


def names(people: list[dict[str, Any]], joiner: str = ", ") -> str:
    return joiner.join(person["name"] for person in people)


Distortion = Callable[[random.Random, Track, dict[str, str]], None]


def _exact(rng: random.Random, track: Track, tags: dict[str, str]) -> None:
    return None


def _mix_omitted(rng: random.Random, track: Track, tags: dict[str, str]) -> None:
    tags["Name"] = track["name"]


def _feat_in_title(rng: random.Random, track: Track, tags: dict[str, str]) -> None:
    main, *featured = track["artists"]
    tags["Artist"] = main["name"]
    tags["Name"] = f"{track['name']} feat. {names(featured, ' & ')}"
    if rng.random() < 0.5:
        tags["Name"] += f" ({track['mix_name']})"


def _artist_order(rng: random.Random, track: Track, tags: dict[str, str]) -> None:
    tags["Artist"] = names(list(reversed(track["artists"])), rng.choice([", ", " & ", " x "]))


def _accents_case(rng: random.Random, track: Track, tags: dict[str, str]) -> None:
    tags["Name"] = strip_accents(tags["Name"]).lower()
    tags["Artist"] = strip_accents(tags["Artist"]).upper() if rng.random() < 0.5 \
        else strip_accents(tags["Artist"])


def _typo_title(rng: random.Random, track: Track, tags: dict[str, str]) -> None:
    tags["Name"] = f"{typo(rng, track['name'])} ({track['mix_name']})"


def _typo_artist(rng: random.Random, track: Track, tags: dict[str, str]) -> None:
    tags["Artist"] = typo(rng, tags["Artist"])


def _noise_prefix(rng: random.Random, track: Track, tags: dict[str, str]) -> None:
    prefix = rng.choice([f"{rng.randint(1, 12):02d} - ", f"A{rng.randint(1, 4)}. ",
                         f"{rng.randint(1, 12):02d} "])
    tags["Name"] = prefix + tags["Name"]


def _label_in_title(rng: random.Random, track: Track, tags: dict[str, str]) -> None:
    tags["Name"] += f" [{track['release']['label']['name']}]"


def _filename_style(rng: random.Random, track: Track, tags: dict[str, str]) -> None:
    tags["Name"] = f"{tags['Artist']} - {tags['Name']}"
    tags["Artist"] = ""


COMPILATION_WORDS = ("Sampler", "Best of", "Essentials")
DISTORTIONS: dict[str, Distortion] = {
    "exact": _exact, "remix": _exact, "rerelease": _exact, "mix_omitted": _mix_omitted,
    "feat_in_title": _feat_in_title,
    "artist_order": _artist_order, "accents_case": _accents_case, "typo_title": _typo_title,
    "typo_artist": _typo_artist, "noise_prefix": _noise_prefix,
    "label_in_title": _label_in_title, "filename_style": _filename_style,
}


def fits(family: str, track: Track) -> bool:
    """Whether a distortion can be shown on this track."""
    if family == "mix_omitted":
        return bool(track["mix_name"] == "Original Mix")
    if family in ("feat_in_title", "artist_order"):
        return len(track["artists"]) >= 2
    if family == "rerelease":
        return any(word in track["release"]["name"] for word in COMPILATION_WORDS)
    if family == "remix":
        return bool(track["remixers"])
    return True


def collection_tags(rng: random.Random, track: Track, track_id: int) -> dict[str, str]:
    """A Rekordbox TRACK's attributes for a file bought from the store, tags intact."""
    seconds = round(track["length_ms"] / 1000) + rng.choice([0, 0, 0, 1, -1])
    year = track["new_release_date"][:4]
    bpm = track["bpm"] + rng.choice([0.0, 0.0, 0.0, -0.01, 0.01, -0.02])
    kind, bitrate = rng.choice([("MP3 File", 320), ("MP3 File", 320), ("AIFF File", 1411),
                                ("WAV File", 1411), ("FLAC File", 1000)])
    return {
        "TrackID": str(track_id), "Name": f"{track['name']} ({track['mix_name']})",
        "Artist": names(track["artists"]), "Composer": "", "Album": track["release"]["name"],
        "Grouping": "", "Genre": track["genre"]["name"] if rng.random() < 0.4 else "",
        "Kind": kind, "Size": str(seconds * bitrate * 125), "TotalTime": str(seconds),
        "DiscNumber": "0", "TrackNumber": "0", "Year": year if rng.random() < 0.7 else "0",
        "AverageBpm": f"{bpm:.2f}", "DateAdded": "2026-03-06", "BitRate": str(bitrate),
        "SampleRate": "44100", "Comments": "", "PlayCount": str(rng.randint(0, 30)),
        "Rating": str(rng.choice([0, 0, 51, 102, 153, 204, 255])), "Location": "",
        "Remixer": names(track["remixers"]) if rng.random() < 0.3 else "",
        "Tonality": rekordbox_key(track["key"]) if rng.random() < 0.85 else "",
        "Label": track["release"]["label"]["name"] if rng.random() < 0.35 else "", "Mix": "",
    }


def file_location(tags: dict[str, str], kind: str) -> str:
    extension = {"MP3 File": "mp3", "AIFF File": "aiff", "WAV File": "wav"}.get(kind, "flac")
    stem = f"{tags['Artist']} - {tags['Name']}" if tags["Artist"] else tags["Name"]
    stem = re.sub(r'[/\\:*?"<>|]', "_", stem)
    return "file://localhost" + quote(f"/Users/dj/Music/Beatport/{stem}.{extension}")


def absent_entry(rng: random.Random, pools: NamePools, catalog: list[Track],
                 track_id: int) -> Entry:
    """A track the store does not sell: invented artist, sometimes a title the store has."""
    model = rng.choice(catalog)
    invented = f"{rng.choice(FIRST_NAMES)} {rng.choice(['Brightwater', 'Ashdown', 'Kilner'])}"
    ghost = dict(model, artists=[{"id": 0, "name": invented, "slug": slugify(invented)}],
                 remixers=[], mix_name=rng.choice(["Original Mix", "Extended Mix"]))
    if rng.random() < 0.5:
        ghost["name"] = rng.choice(pools.titles[:40]) + " " + rng.choice(TITLE_EXTRAS)
    tags = collection_tags(rng, ghost, track_id)
    tags["Label"] = ""
    return Entry(tags, [], "absent")


def playlist_entries(rng: random.Random, catalog: list[Track], pools: NamePools,
                     pool: list[Track], count: int, first_id: int) -> list[Entry]:
    """`count` Rekordbox entries from `pool`, distortions dealt in turn, 1 in 9 absent."""
    by_isrc: dict[str, list[int]] = {}
    for track in catalog:
        by_isrc.setdefault(track["isrc"], []).append(track["id"])
    families = list(DISTORTIONS)
    entries, used = [], set()
    for index in range(count):
        track_id = first_id + index
        if index % 9 == 8:
            entries.append(absent_entry(rng, pools, catalog, track_id))
            continue
        family = families[index % len(families)]
        track = rng.choice([track for track in pool
                            if fits(family, track) and track["id"] not in used])
        used.add(track["id"])
        tags = collection_tags(rng, track, track_id)
        DISTORTIONS[family](rng, track, tags)
        entries.append(Entry(tags, by_isrc[track["isrc"]], family))
    for entry in entries:
        entry.attributes["Location"] = file_location(entry.attributes, entry.attributes["Kind"])
    return entries


def genre_pool(catalog: list[Track], warm: bool) -> list[Track]:
    """The tracks fit for a warm-up (deeper genres) or for peak time (the rest)."""
    return [track for track in catalog if (track["genre"]["name"] in WARM_UP_GENRES) == warm]


def rekordbox_xml(playlists: dict[str, list[Entry]], loose: list[Entry]) -> str:
    """The export: COLLECTION of every entry, PLAYLISTS with folder Demo and a root list."""
    root = ET.Element("DJ_PLAYLISTS", Version="1.0.0")
    ET.SubElement(root, "PRODUCT", Name="rekordbox", Version="6.8.5", Company="AlphaTheta")
    everyone = [entry for entries in playlists.values() for entry in entries] + loose
    collection = ET.SubElement(root, "COLLECTION", Entries=str(len(everyone)))
    for entry in everyone:
        element = ET.SubElement(collection, "TRACK", entry.attributes)
        ET.SubElement(element, "TEMPO", Inizio="0.025", Bpm=entry.attributes["AverageBpm"],
                      Metro="4/4", Battito="1")
    tree = ET.SubElement(ET.SubElement(root, "PLAYLISTS"), "NODE", Type="0", Name="ROOT",
                         Count="2")
    folder = ET.SubElement(tree, "NODE", Type="0", Name="Demo", Count="2")
    for name, entries in playlists.items():
        parent = folder if name != "Crate Digging" else tree
        node = ET.SubElement(parent, "NODE", Name=name, Type="1", KeyType="0",
                             Entries=str(len(entries)))
        for entry in entries:
            ET.SubElement(node, "TRACK", Key=entry.attributes["TrackID"])
    ET.indent(root, space="  ")
    # Rekordbox writes empty elements as <TEMPO …/>; a quote cannot occur inside a value.
    text = ET.tostring(root, encoding="unicode").replace('" />', '"/>')
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + text + "\n"


# --- main -----------------------------------------------------------------------------------------

def write_demo(out: Path, seed: int, size: int) -> dict[str, int]:
    """Write catalog.jsonl, rekordbox.xml and truth.csv into `out`; return their sizes."""
    rng = random.Random(seed)
    catalog, pools = build_catalog(rng, size)
    warm = playlist_entries(rng, catalog, pools, genre_pool(catalog, True), 60, 70_000_001)
    peak = playlist_entries(rng, catalog, pools, genre_pool(catalog, False), 40, 70_001_001)
    crate = playlist_entries(rng, catalog, pools, catalog, 18, 70_002_001)
    loose = playlist_entries(rng, catalog, pools, catalog, 8, 70_003_001)
    playlists = {"Friday Warm-up": warm, "Peak Time": peak, "Crate Digging": crate}
    out.mkdir(parents=True, exist_ok=True)
    with (out / "catalog.jsonl").open("w", encoding="utf-8", newline="\n") as handle:
        for track in catalog:
            handle.write(json.dumps(track, ensure_ascii=False) + "\n")
    (out / "rekordbox.xml").write_text(rekordbox_xml(playlists, loose), encoding="utf-8")
    with (out / "truth.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["rekordbox_track_id", "acceptable_beatport_ids", "family"])
        for entry in warm + peak + crate:
            writer.writerow([entry.attributes["TrackID"],
                             "|".join(str(track_id) for track_id in entry.truth), entry.family])
    return {name: (out / name).stat().st_size
            for name in ("catalog.jsonl", "rekordbox.xml", "truth.csv")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--seed", type=int, default=2026, help="random seed")
    parser.add_argument("--tracks", type=int, default=3000, help="about this many tracks")
    args = parser.parse_args()
    for name, size in write_demo(args.out, args.seed, args.tracks).items():
        print(f"{args.out / name}: {size:,} bytes")


if __name__ == "__main__":
    main()
