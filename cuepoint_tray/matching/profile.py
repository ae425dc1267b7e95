"""Both sides of a comparison, read once into the parts the scorer compares."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from cuepoint_tray.domain import BeatportTrack, RekordboxTrack
from cuepoint_tray.matching.normalize import (
    LooseGroup,
    Version,
    artist_names,
    fold,
    joined_names,
    parse_version,
    split_artists,
    split_filename_style,
    split_title,
    strip_artist_prefix,
)
from cuepoint_tray.musical_keys import MusicalKey, parse_key


@dataclass(frozen=True, slots=True)
class Profile:
    """A track reduced to comparable parts, whichever side it comes from."""

    title: str
    title_variants: tuple[str, ...]
    artists: tuple[str, ...]  # display names, featured artists included
    artist_names: tuple[str, ...]  # folded, split on every separator
    version: Version
    remixer_names: tuple[str, ...]
    duration_s: float | None
    bpm: float | None
    key: MusicalKey | None
    year: int | None
    label: str  # folded
    album: str  # folded
    display_title: str  # the title as typed, without track number, mix or label
    mix: str = ""  # the folded mix name, as typed or sold
    loose: tuple[LooseGroup, ...] = ()  # groups that may be the title's or a mix name
    credits: tuple[str, ...] = ()  # the names as listed, before splitting joined names
    joined: frozenset[str] = frozenset()  # folded credits that splitting would cut
    typed: str = ""  # the folded title and mix as typed or sold, nothing taken apart


def rekordbox_profile(track: RekordboxTrack) -> Profile:
    """Read a Rekordbox track, undoing the usual damage: file-name titles, feat., brackets."""
    name, artist = track.name, track.artist
    if not artist.strip():
        split = split_filename_style(name)
        if split:
            artist, name = split
    else:
        name = strip_artist_prefix(name, artist)
    parts = split_title(name)
    artists = tuple(split_artists(artist)) + parts.featured
    version = _rekordbox_version(track, parts.mix)
    remixers = split_artists(track.remixer) if track.remixer else []
    credits = (artist, *parts.featured)
    return Profile(
        title=parts.title,
        title_variants=parts.variants,
        artists=artists,
        artist_names=artist_names(artists),
        version=version,
        remixer_names=artist_names(remixers),
        duration_s=float(track.total_time) if track.total_time else None,
        bpm=track.average_bpm or None,
        key=parse_key(track.tonality),
        year=track.year if track.year and track.year > 1900 else None,
        label=fold(track.label or parts.bracket_label),
        album=fold(track.album),
        display_title=_display_title(name, parts.title),
        mix=fold(track.mix or parts.mix),
        loose=parts.loose,
        credits=credits,
        joined=joined_names(credits),
        typed=fold(f"{name} {track.mix}"),
    )


def _rekordbox_version(track: RekordboxTrack, mix_in_title: str) -> Version:
    version = parse_version(track.mix or mix_in_title)
    if track.remixer and not version.is_credited:
        # The DJ filled the Remixer column but not the mix: a remix by that remixer.
        return Version("remix", fold(track.remixer), version.extended, version.edit, True)
    return version


def _display_title(name: str, folded_title: str) -> str:
    """The title words as the DJ typed them (accents kept), for sending as a query."""
    kept = [w for w in name.replace("(", " ").replace(")", " ").split()
            if fold(w) and fold(w) in folded_title.split()]
    return " ".join(kept) or folded_title


# A Beatport track meets the matcher again within the few tracks in flight (each query of a
# track returns many of the same results): 2,048 keep those, about 5 MB. At 8,192 the cache
# held ~19 MB and took a session's first 500 tracks to fill, so the session's memory grew
# until then (scripts/bench_session_memory.py, issue 11).
@lru_cache(maxsize=2048)
def beatport_profile(track: BeatportTrack) -> Profile:
    """Read a Beatport track; its title may itself carry feat. or a version in brackets."""
    parts = split_title(track.title)
    version = parse_version(track.mix_name or parts.mix)
    in_title = parse_version(parts.mix)
    if parts.mix and not version.is_credited and (in_title.is_credited or in_title.marks):
        # "Diplodocus (X Remix)" or "Worst Nightmare (Acapella)" with mix "Original Mix"
        version = in_title
    artists = tuple(track.artists) + parts.featured
    credits = (*artists, *track.remixers)
    return Profile(
        title=parts.title,
        title_variants=parts.variants,
        artists=artists,
        artist_names=artist_names(artists),
        version=version,
        remixer_names=artist_names(track.remixers),
        duration_s=track.length_ms / 1000 if track.length_ms else None,
        bpm=track.bpm or None,
        key=parse_key(track.key_name or track.camelot),
        year=_year(track.release_date),
        label=fold(track.label),
        album=fold(track.release),
        display_title=track.title,
        mix=fold(track.mix_name or parts.mix),
        loose=parts.loose,
        credits=credits,
        joined=joined_names(credits),
        typed=fold(f"{track.title} {track.mix_name}"),
    )


def _year(date: str) -> int | None:
    return int(date[:4]) if len(date) >= 4 and date[:4].isdigit() else None
