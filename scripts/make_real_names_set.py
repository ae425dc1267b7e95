"""Build a labelled matching set from real Beatport track names, at run time.

    python scripts/make_real_names_set.py [--names DIR] [--out DIR] [--seed N]
    cuepoint eval --catalog DIR/catalog.jsonl --xml DIR/rekordbox.xml \
        --playlist "Sets/Real Names" --truth DIR/truth.csv --families DIR/families.csv

The names (artists, titles, mix names exactly as Beatport sold them) are read from
`../shared/eval/real-names/*.jsonl` and never copied into the repository. Everything else is
invented here, deterministically for a seed: lengths, keys, labels, dates, the decoys a store
has beside each track (Original / Extended versions, remixes by other real artists, the same
title by other real artists), and the way the DJ's files carry each name.

Writes into DIR (default: a folder under the system's temporary folder):
- `catalog.jsonl`: API v4-shaped tracks, real ids for the real names, decoys above 20,000,000;
- `rekordbox.xml`: a Rekordbox export whose folder "Sets" holds the playlist "Real Names";
- `truth.csv` (`rekordbox_track_id, acceptable_beatport_ids`, empty = not sold) and
  `families.csv` (`rekordbox_track_id, family`).

Families, each a way real DJs' files and real Beatport names differ:
- `mix_after_dash`: "Left Behind - Original Mix" typed as the title;
- `remixer_in_artist`: the remixer typed in the Artist field, the title with a bare "(Remix)";
- `numbered_filename`: "07 - Artist - Title (Mix)" with an empty Artist, or "Artist - " before
  the title in a filled one;
- `real_mix_name`: mix names without a version word ("RPO Part 1"), nested brackets
  ("DJ Solo Mix (Dirty)"), brackets in the title ("Don't Upset The Rhythm (Go Baby Go)");
- `single_letter_artist`: names with one-letter parts ("Percy X", "Paul T", "L & L") beside a
  store artist named without that part;
- `no_mix_original`: no mix typed, the Original sold beside remixes of about its length;
- `no_mix_absent_original`: no mix typed, the Original not sold, its remixes are (no match);
- `no_mix_remix`: no mix typed for a remix whose length, label and year the DJ's file carries;
- `absent`: tracks the store does not sell, often beside the same title by other artists;
- `as_sold`: the name exactly as sold (the control).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import tempfile
import unicodedata
import xml.etree.ElementTree as ET
import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

Track = dict[str, Any]

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_NAMES = ROOT.parent / "shared" / "eval" / "real-names"
DEFAULT_OUT = Path(tempfile.gettempdir()) / "cuepoint-real-names"
PLAYLIST = ("Sets", "Real Names")
FIRST_DECOY_ID = 20_000_000
FIRST_REKORDBOX_ID = 70_000_001

# Words that say what kind of version a mix is; what stands before them is a remixer's credit
# unless it is one of the descriptive words below.
KIND_WORDS = {"remix", "rmx", "mix", "edit", "re-edit", "reedit", "rework", "bootleg", "dub",
              "vip", "version", "extended", "radio", "club", "vocal", "instrumental",
              "original", "remixed"}
DESCRIPTIVE_WORDS = {
    "original", "extended", "radio", "club", "album", "vocal", "instrumental", "dub", "full",
    "main", "single", "short", "long", "acoustic", "electro", "dubstep", "uplifting", "deep",
    "dark", "tech", "progressive", "disco", "bass", "dirty", "clean", "explicit", "continuous",
    "dj", "part", "intro", "outro", "reprise", "alternative", "alt", "the", "a", "new", "live",
    "special", "summer", "winter", "late", "night", "classic", "old", "school", "house",
    "techno", "trance", "latin", "soul", "funk", "jazz", "piano", "bonus", "exclusive",
    "beatport", "mixed", "unmixed", "vinyl", "digital", "cd", "lp", "ep", "remastered",
}
REMIX_WORDS = {"remix", "rmx"}
VERSION_WORD = re.compile(
    r"\b(mix|remix|edit|dub|version|rework|bootleg|vip|instrumental|acapella|rmx|remaster(?:ed)?"
    r"|extended|radio|club|vocal|original|live|reprise|refix|flip|re-?edit)\b", re.IGNORECASE)
GENRES = [
    (5, "House", 120, 126), (11, "Tech House", 124, 128),
    (6, "Techno (Peak Time / Driving)", 128, 138), (90, "Melodic House & Techno", 120, 126),
    (12, "Deep House", 118, 124), (15, "Progressive House", 120, 126),
    (7, "Trance (Main Floor)", 136, 140), (1, "Drum & Bass", 172, 176),
    (18, "Dubstep", 138, 142), (3, "Electronica", 95, 125), (37, "Indie Dance", 110, 124),
]
MINOR_NOTES = ["Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "Db"]
MAJOR_NOTES = ["B", "F#", "Db", "Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E"]
LABEL_WORDS = ["Tidewater", "Brass Owl", "Kestrel", "Nightfield", "Lowfold", "Halftone",
               "Saltmarsh", "Foxglove", "Greyhound", "Ironbark", "Palisade", "Quayside",
               "Redshift", "Sundial", "Thimble", "Wolfram", "Yarrow", "Ashgrove", "Bellwether",
               "Cinder", "Dovetail", "Eastwick", "Fathom", "Gallows Hill", "Juniper", "Larkspur"]
LABEL_SUFFIXES = ["Records", "Recordings", "Audio", "Music", "Sounds", "Digital"]


# --- reading the real names -----------------------------------------------------------------------

@dataclass(frozen=True)
class RealName:
    """One track as Beatport sold it, with its artists told apart from its remixers."""

    ids: tuple[int, ...]  # more than one when the same name was sold twice (a re-release)
    title: str
    mix: str
    artists: tuple[str, ...]
    remixers: tuple[str, ...]

    @property
    def work(self) -> tuple[str, str]:
        return fold(self.title), fold(self.artists[0])


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^\w]+", " ", bare).split())


def read_names(folder: Path) -> list[RealName]:
    """Every usable row of the name lists: no "Unknown Artist", no name without a mix."""
    rows: dict[tuple[str, tuple[str, ...], str], list[dict[str, Any]]] = defaultdict(list)
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if not row["mix"].strip() or row["artists"] == ["Unknown Artist"]:
                continue
            key = (fold(row["title"]), tuple(sorted(map(fold, row["artists"]))), fold(row["mix"]))
            rows[key].append(row)
    return [real_name(group) for group in rows.values()]


def real_name(group: list[dict[str, Any]]) -> RealName:
    row = group[0]
    credited = remix_credit(row["mix"])
    remixers = tuple(a for a in row["artists"] if credited and fold(a) in fold(credited))
    artists = tuple(a for a in row["artists"] if a not in remixers) or tuple(row["artists"])
    if credited and not remixers:
        remixers = tuple(person_names(credited))
    return RealName(tuple(sorted(r["id"] for r in group)), row["title"], row["mix"], artists,
                    remixers)


def remix_credit(mix: str) -> str:
    """The remixer's credit in a mix name ("Sean Tyas" in "Sean Tyas Remix"), "" for none."""
    tokens = mix.replace("(", " ").replace(")", " ").split()
    for index, token in enumerate(tokens):
        if fold(token) in KIND_WORDS and index:
            credit = " ".join(tokens[:index])
            credit = re.sub(r"'[^']*'", " ", credit).split(" - ")[-1]  # 'Offbeat Thunder'
            credit = re.split(r"'s\b", credit)[0].strip(" ,-")
            named = [w for w in fold(credit).split() if w not in DESCRIPTIVE_WORDS
                     and not w.isdigit()]
            return credit if named else ""
    return ""


def person_names(credit: str) -> list[str]:
    return [p.strip() for p in re.split(r"\s+(?:&|vs\.?|and|x)\s+|,\s*", credit) if p.strip()]


def bare_remix(name: RealName) -> str:
    """The mix without its remixer ("Remix", "Extended Remix"), or "" when it is no remix."""
    credit = remix_credit(name.mix)
    rest = name.mix[name.mix.find(credit) + len(credit):].strip() if credit else ""
    words = fold(rest).split()
    plain = all(w in KIND_WORDS or w in DESCRIPTIVE_WORDS for w in words)
    return rest if words and words[-1] in REMIX_WORDS and plain and "(" not in rest else ""


# --- the catalog ----------------------------------------------------------------------------------

@dataclass
class Sound:
    """What the versions of one work share: label, genre, tempo, key, first release."""

    label: dict[str, Any]
    genre: tuple[int, str, int, int]
    bpm: int
    key: dict[str, Any]
    released: date
    length_ms: int


@dataclass
class Store:
    """The catalog being built: tracks, and the recordings each work already has."""

    rng: random.Random
    labels: list[dict[str, Any]]
    tracks: list[Track] = field(default_factory=list)
    sounds: dict[tuple[str, str], Sound] = field(default_factory=dict)
    next_id: int = FIRST_DECOY_ID
    next_release: int = 5_000_000

    def sound(self, work: tuple[str, str]) -> Sound:
        if work not in self.sounds:
            self.sounds[work] = invent_sound(self.rng, self.labels)
        return self.sounds[work]

    def add(self, title: str, mix: str, artists: Iterable[str], remixers: Iterable[str],
            sound: Sound, *, length_ms: int, track_id: int | None = None,
            later: bool = False, label: dict[str, Any] | None = None) -> Track:
        if track_id is None:
            self.next_id += self.rng.randint(1, 9)
            track_id = self.next_id
        released = sound.released + timedelta(days=self.rng.randint(90, 500) if later else 0)
        self.next_release += 1
        label = label or sound.label
        release = {"id": self.next_release, "name": f"{title} (Remixes)" if later else title,
                   "slug": slug(title), "label": label}
        track: Track = {
            "id": track_id, "name": title, "mix_name": mix, "slug": slug(title),
            "artists": [person(name) for name in artists],
            "remixers": [person(name) for name in remixers],
            "bpm": sound.bpm, "key": sound.key,
            "genre": {"id": sound.genre[0], "name": sound.genre[1], "slug": slug(sound.genre[1])},
            "label": label, "release": release,
            "new_release_date": released.isoformat(), "publish_date": released.isoformat(),
            "length_ms": length_ms, "isrc": f"QZ{zlib.crc32(str(track_id).encode()):010d}",
            "catalog_number": f"CAT{track_id % 100000:05d}",
        }
        self.tracks.append(track)
        return track


def invent_sound(rng: random.Random, labels: list[dict[str, Any]]) -> Sound:
    genre = rng.choice(GENRES)
    camelot, minor = rng.randint(1, 12), rng.random() < 0.6
    note = (MINOR_NOTES if minor else MAJOR_NOTES)[camelot - 1]
    key = {"id": 2 * camelot - minor, "name": f"{note} {'Minor' if minor else 'Major'}",
           "camelot_number": camelot, "camelot_letter": "A" if minor else "B"}
    released = date(2006, 1, 1) + timedelta(days=rng.randint(0, 12 * 365))
    return Sound(rng.choice(labels), genre, rng.randint(genre[2], genre[3]), key, released,
                 rng.randint(300_000, 460_000))


def person(name: str) -> dict[str, Any]:
    return {"id": 100_000 + zlib.crc32(fold(name).encode()) % 900_000, "name": name,
            "slug": slug(name)}


def slug(text: str) -> str:
    return "-".join(fold(text).split()) or "x"


def make_labels(rng: random.Random) -> list[dict[str, Any]]:
    names = {f"{word} {rng.choice(LABEL_SUFFIXES)}" for word in LABEL_WORDS}
    return [{"id": 30_000 + index * 11, "name": name, "slug": slug(name)}
            for index, name in enumerate(sorted(names))]


def length_apart(rng: random.Random, taken: list[int], low: int, high: int,
                 gap_ms: int = 8_000) -> int:
    """A length in [low, high] at least `gap_ms` from every length already taken."""
    for _ in range(200):
        length = rng.randint(low, high)
        if all(abs(length - other) >= gap_ms for other in taken):
            taken.append(length)
            return length
    taken.append(high + gap_ms * (len(taken) + 1))
    return taken[-1]


# --- the DJ's side --------------------------------------------------------------------------------

@dataclass
class Entry:
    """A track of the DJ's collection and the store tracks that are right answers."""

    tags: dict[str, str]
    truth: tuple[int, ...]
    family: str


def rekordbox_key(key: dict[str, Any]) -> str:
    note, _, quality = key["name"].partition(" ")
    return note + ("m" if quality == "Minor" else "")


def file_tags(rng: random.Random, track: Track, track_id: int, *, exact: bool = False,
              label: bool | None = None, year: bool | None = None) -> dict[str, str]:
    """A Rekordbox TRACK's attributes for the file the DJ has of `track`, named as sold."""
    seconds = round(track["length_ms"] / 1000) + (0 if exact else rng.choice([0, 0, 1, -1]))
    bpm = track["bpm"] + rng.choice([0.0, 0.0, 0.01, -0.02])
    keep_label = rng.random() < 0.35 if label is None else label
    keep_year = rng.random() < 0.7 if year is None else year
    return {
        "TrackID": str(track_id), "Name": f"{track['name']} ({track['mix_name']})",
        "Artist": artists_as_sold(track),
        "Composer": "", "Album": track["release"]["name"] if rng.random() < 0.5 else "",
        "Grouping": "", "Genre": track["genre"]["name"] if rng.random() < 0.4 else "",
        "Kind": "MP3 File", "Size": str(seconds * 40_000), "TotalTime": str(seconds),
        "DiscNumber": "0", "TrackNumber": "0",
        "Year": track["new_release_date"][:4] if keep_year else "0",
        "AverageBpm": f"{bpm:.2f}", "DateAdded": "2026-11-02", "BitRate": "320",
        "SampleRate": "44100", "Comments": "", "PlayCount": "0", "Rating": "0", "Location": "",
        "Remixer": "", "Tonality": rekordbox_key(track["key"]) if rng.random() < 0.85 else "",
        "Label": track["label"]["name"] if keep_label else "", "Mix": "",
    }


def artists_as_sold(track: Track) -> str:
    """The Artist field of a file bought from Beatport: artists, then remixers not among them."""
    names = [p["name"] for p in track["artists"]]
    names += [p["name"] for p in track["remixers"] if p["name"] not in names]
    return ", ".join(names)


# --- families -------------------------------------------------------------------------------------

class Builder:
    """Deals the real names out to the families and builds catalog and collection together."""

    def __init__(self, rng: random.Random, names: list[RealName]):
        self.rng = rng
        self.names = names
        self.store = Store(rng, make_labels(rng))
        self.entries: list[Entry] = []
        self.absent_ids: set[int] = set()
        self.by_work: dict[tuple[str, str], list[RealName]] = defaultdict(list)
        for name in names:
            self.by_work[name.work].append(name)
        self.real_tracks: dict[tuple[int, ...], list[Track]] = {}
        # The mixes each work is sold in (real and decoy): a decoy never repeats one.
        self.stocked: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.people = sorted({a for n in names for a in n.artists})

    # the store -----------------------------------------------------------------------------------

    def stock_real_names(self) -> None:
        """Every real name in the store, one recording each (re-releases share the length)."""
        lengths: dict[tuple[str, str], list[int]] = defaultdict(list)
        for name in self.names:
            sound = self.store.sound(name.work)
            taken = lengths[name.work]
            if taken:
                length = length_apart(self.rng, taken, 280_000, 480_000)
            else:
                length = sound.length_ms
                taken.append(length)
            labels = [sound.label] + [self.rng.choice(self.store.labels) for _ in name.ids[1:]]
            self.stocked[name.work].add(fold(name.mix))
            self.real_tracks[name.ids] = [
                self.store.add(name.title, name.mix, name.artists, name.remixers, sound,
                               length_ms=length, track_id=track_id, later=bool(name.remixers),
                               label=label)
                for track_id, label in zip(name.ids, labels, strict=True)]

    def lengths_of(self, work: tuple[str, str]) -> list[int]:
        return [t["length_ms"] for n in self.by_work[work] for t in self.real_tracks[n.ids]]

    def decoy(self, name: RealName, mix: str, remixers: tuple[str, ...], length_ms: int,
              *, later: bool = False) -> None:
        """Another version of the work, unless the store already sells that mix."""
        if fold(mix) in self.stocked[name.work]:
            return
        self.stocked[name.work].add(fold(mix))
        self.store.add(name.title, mix, name.artists, remixers, self.store.sound(name.work),
                       length_ms=length_ms, later=later)

    def decoy_versions(self, name: RealName, *, original: bool = True) -> None:
        """The versions a store sells beside a track: Original, Extended, another remix."""
        taken, rng = self.lengths_of(name.work), self.rng
        if original and rng.random() < 0.8:
            self.decoy(name, "Original Mix", (), length_apart(rng, taken, 300_000, 460_000))
        if rng.random() < 0.5:
            self.decoy(name, "Extended Mix", (), length_apart(rng, taken, 420_000, 560_000))
        if rng.random() < 0.6:
            remixer = self.someone_else(name)
            self.decoy(name, f"{remixer} Remix", (remixer,),
                       length_apart(rng, taken, 280_000, 480_000), later=True)

    def close_remixes(self, name: RealName, tags: dict[str, str], count: int) -> None:
        """Remixes of the work 2.5-3.5 s from the DJ's file: about its length, yet not the
        whole-second match that would be strong evidence."""
        seconds = int(tags["TotalTime"])
        for _ in range(count):
            remixer = self.someone_else(name)
            near = seconds * 1000 + self.rng.choice([-1, 1]) * self.rng.randint(2_500, 3_500)
            self.decoy(name, f"{remixer} Remix", (remixer,), near, later=True)

    def same_title_elsewhere(self, name: RealName, mix: str = "Original Mix",
                             artist: str | None = None, length_ms: int | None = None) -> None:
        """The same title by another artist, as stores have for common titles; a given
        `artist` with a given length shares the track's tempo and key too (a near twin)."""
        other = artist or self.someone_else(name)
        twin = artist is not None and length_ms is not None
        sound = self.store.sound(name.work if twin else (fold(name.title), fold(other)))
        self.store.add(name.title, mix, (other,), (), sound,
                       length_ms=length_ms or sound.length_ms)

    def someone_else(self, name: RealName) -> str:
        mine = {fold(a) for a in name.artists + name.remixers}
        while True:
            other = self.rng.choice(self.people)
            if fold(other) not in mine:
                return other

    # the DJ's files ------------------------------------------------------------------------------

    def entry(self, name: RealName, family: str, tags: dict[str, str],
              truth: Iterable[int] | None = None) -> None:
        self.entries.append(Entry(tags, tuple(name.ids if truth is None else truth), family))

    def tags_for(self, name: RealName, **options: Any) -> dict[str, str]:
        track = self.real_tracks[name.ids][0]
        return file_tags(self.rng, track, FIRST_REKORDBOX_ID + len(self.entries), **options)

    def as_sold(self, name: RealName) -> None:
        self.decoy_versions(name)
        self.entry(name, "as_sold", self.tags_for(name))

    def mix_after_dash(self, name: RealName) -> None:
        self.decoy_versions(name)
        tags = self.tags_for(name)
        tags["Name"] = f"{name.title} - {name.mix.strip()}"
        self.entry(name, "mix_after_dash", tags)

    def remixer_in_artist(self, name: RealName) -> None:
        self.decoy_versions(name)
        tags = self.tags_for(name)
        joiner = self.rng.choice([", ", ", ", " & "])
        tags["Artist"] = joiner.join(dict.fromkeys(name.artists + name.remixers))
        tags["Name"] = f"{name.title} ({bare_remix(name)})"
        self.entry(name, "remixer_in_artist", tags)

    def numbered_filename(self, name: RealName) -> None:
        self.decoy_versions(name)
        tags = self.tags_for(name)
        number = self.rng.randint(1, 24)
        style = self.rng.choice(["dash", "dash", "dot", "artist_prefix"])
        as_file = f"{tags['Artist']} - {tags['Name']}"
        if style == "artist_prefix":
            tags["Name"] = as_file  # the Artist field stays filled
        else:
            tags["Name"] = (f"{number:02d} - " if style == "dash" else f"{number:02d}. ") + as_file
            tags["Artist"] = ""
        self.entry(name, "numbered_filename", tags)

    def real_mix_name(self, name: RealName) -> None:
        self.decoy_versions(name)
        tags = self.tags_for(name)
        if "(" not in name.mix and "[" not in name.mix and self.rng.random() < 0.3:
            tags["Name"] = f"{name.title} [{name.mix.strip()}]"
        self.entry(name, "real_mix_name", tags)

    def single_letter_artist(self, name: RealName) -> None:
        self.decoy_versions(name)
        track = self.real_tracks[name.ids][0]
        for artist in name.artists:
            without = " ".join(w for w in re.split(r"\s+(?:x\s+)?|\s*&\s*", artist)
                               if len(w) > 1 and fold(w) not in ("x",))
            if without and fold(without) != fold(artist):
                near = track["length_ms"] + self.rng.choice([-1, 1]) * self.rng.randint(
                    4_000, 6_000)
                self.same_title_elsewhere(name, name.mix, without, near)
        self.entry(name, "single_letter_artist", self.tags_for(name))

    def no_mix_original(self, name: RealName) -> None:
        self.decoy_versions(name)
        tags = self.tags_for(name)
        tags["Name"] = name.title
        self.close_remixes(name, tags, self.rng.randint(1, 2))
        self.entry(name, "no_mix_original", tags)

    def no_mix_absent_original(self, name: RealName) -> None:
        self.make_absent(name)
        tags = self.tags_for(name, label=self.rng.random() < 0.5)
        tags["Name"] = name.title
        self.close_remixes(name, tags, self.rng.randint(1, 2))
        self.entry(name, "no_mix_absent_original", tags, truth=())

    def no_mix_remix(self, name: RealName) -> None:
        self.decoy_versions(name)
        evidence = self.rng.choice([(True, True), (True, False), (False, True)])
        tags = self.tags_for(name, exact=True, label=evidence[0], year=evidence[1])
        tags["Name"] = name.title
        self.entry(name, "no_mix_remix", tags)

    def absent(self, name: RealName) -> None:
        self.make_absent(name)
        if self.rng.random() < 0.6:
            self.same_title_elsewhere(name, self.rng.choice(["Original Mix", name.mix]))
        tags = self.tags_for(name)
        if len(self.by_work[name.work]) == 1 and self.rng.random() < 0.3:
            tags["Name"] = name.title  # no mix typed: the store sells no version of the work
        self.entry(name, "absent", tags, truth=())

    def make_absent(self, name: RealName) -> None:
        self.absent_ids.update(name.ids)


# --- dealing the names out ------------------------------------------------------------------------

def single_letter_part(name: RealName) -> bool:
    return any(re.search(r"(?:^|\s)[^\W\d_](?:\s|$)", a) for a in name.artists)


def real_mix_shape(name: RealName) -> bool:
    """A mix without a version word, nested brackets, or brackets in the title itself."""
    return (not VERSION_WORD.search(name.mix) or bool(re.search(r"[()\[\]]", name.mix))
            or bool(re.search(r"[()\[\]]", name.title)))


def deal(builder: Builder) -> None:
    """Give every real name one family: the rare shapes first, then the rest in shares."""
    rng = builder.rng
    names = list(builder.names)
    rng.shuffle(names)
    left: list[RealName] = []
    remixes = 0
    for name in names:
        if real_mix_shape(name):
            builder.real_mix_name(name)
        elif single_letter_part(name):
            builder.single_letter_artist(name)
        elif bare_remix(name) and remixes < 330:
            remixes += 1
            (builder.remixer_in_artist if remixes <= 280 else builder.no_mix_remix)(name)
        else:
            left.append(name)
    shares = [("no_mix_original", 250), ("no_mix_absent_original", 150), ("absent", 250),
              ("mix_after_dash", 330), ("numbered_filename", 330)]
    for family, count in shares:
        fitting = [n for n in left if family not in ("no_mix_original", "no_mix_absent_original")
                   or (fold(n.mix) == "original mix" and len(builder.by_work[n.work]) == 1)]
        for name in fitting[:count]:
            left.remove(name)
            getattr(builder, family)(name)
    for name in left:
        builder.as_sold(name)


# --- writing --------------------------------------------------------------------------------------

def rekordbox_xml(entries: list[Entry]) -> str:
    root = ET.Element("DJ_PLAYLISTS", Version="1.0.0")
    ET.SubElement(root, "PRODUCT", Name="rekordbox", Version="6.8.5", Company="AlphaTheta")
    collection = ET.SubElement(root, "COLLECTION", Entries=str(len(entries)))
    for entry in entries:
        entry.tags["Location"] = location(entry.tags)
        element = ET.SubElement(collection, "TRACK", entry.tags)
        ET.SubElement(element, "TEMPO", Inizio="0.025", Bpm=entry.tags["AverageBpm"],
                      Metro="4/4", Battito="1")
    tree = ET.SubElement(ET.SubElement(root, "PLAYLISTS"), "NODE", Type="0", Name="ROOT",
                         Count="1")
    folder = ET.SubElement(tree, "NODE", Type="0", Name=PLAYLIST[0], Count="1")
    node = ET.SubElement(folder, "NODE", Name=PLAYLIST[1], Type="1", KeyType="0",
                         Entries=str(len(entries)))
    for entry in entries:
        ET.SubElement(node, "TRACK", Key=entry.tags["TrackID"])
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def location(tags: dict[str, str]) -> str:
    stem = f"{tags['Artist']} - {tags['Name']}" if tags["Artist"] else tags["Name"]
    return "file://localhost" + quote(f"/Users/dj/Music/{re.sub(r'[/:*?<>|]', '_', stem)}.mp3")


def write_set(names_dir: Path, out: Path, seed: int) -> dict[str, int]:
    """Build the set and write its four files; return the count of entries per family."""
    names = read_names(names_dir)
    if not names:
        raise SystemExit(f"No real names found in {names_dir} (*.jsonl).")
    builder = Builder(random.Random(seed), names)
    builder.stock_real_names()
    deal(builder)
    out.mkdir(parents=True, exist_ok=True)
    tracks = sorted((t for t in builder.store.tracks if t["id"] not in builder.absent_ids),
                    key=lambda t: t["id"])
    with (out / "catalog.jsonl").open("w", encoding="utf-8", newline="\n") as handle:
        handle.writelines(json.dumps(t, ensure_ascii=False) + "\n" for t in tracks)
    (out / "rekordbox.xml").write_text(rekordbox_xml(builder.entries), encoding="utf-8")
    write_csv(out / "truth.csv", ("rekordbox_track_id", "acceptable_beatport_ids"),
              ((e.tags["TrackID"], "|".join(map(str, e.truth))) for e in builder.entries))
    write_csv(out / "families.csv", ("rekordbox_track_id", "family"),
              ((e.tags["TrackID"], e.family) for e in builder.entries))
    counts: dict[str, int] = defaultdict(int)
    for entry in builder.entries:
        counts[entry.family] += 1
    counts["catalog tracks"] = len(tracks)
    return dict(counts)


def write_csv(path: Path, header: tuple[str, str], rows: Iterable[tuple[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--names", type=Path, default=DEFAULT_NAMES,
                        help="folder of the real-names .jsonl files (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="output folder (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=18, help="random seed (default: %(default)s)")
    args = parser.parse_args()
    counts = write_set(args.names, args.out, args.seed)
    for family, count in sorted(counts.items()):
        print(f"{family:<24} {count}")
    print(f"written to {args.out}; playlist \"{'/'.join(PLAYLIST)}\"")


if __name__ == "__main__":
    main()
