"""Catalog tracks in the two shapes Beatport serves them: API v4 and the search service.

What the catalog does not hold but real objects always carry (status, price, artwork
addresses) is filled with constant or id-derived values, so clients meet every field they
would meet on beatport.com. See `beatport-formats.md` for both shapes.
"""

from __future__ import annotations

import uuid
from typing import Any

from cuepoint_tray.catalog_server.catalog import (
    CatalogEntry,
    CatalogKey,
    CatalogNamed,
    CatalogPerson,
    CatalogTrack,
    label_of,
    release_of,
)

Json = dict[str, Any]

MEDIA_URL = "https://geo-media.beatport.com"
SAMPLES_URL = "https://geo-samples.beatport.com"
_NAMESPACE = uuid.UUID("6f1c1a3e-7a52-4d3c-9a8e-2f0c5b4e9d11")
# Search pages spell keys with sharps where API v4 uses flats.
_SHARP_OF = {"Db": "C#", "Eb": "D#", "Gb": "F#", "Ab": "G#", "Bb": "A#"}
_CHORD_TYPE_ID = {"Minor": 1, "Major": 2}
_PRICE = {"code": "EUR", "symbol": "€", "value": 1.49, "display": "€1.49"}
_SAMPLE_MS = 120_000


def guid(kind: str, number: int) -> str:
    """A stable made-up GUID for an object, as Beatport names artwork and samples by GUID."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}-{number}"))


# --- API v4 ---------------------------------------------------------------------------------------

def v4_track(entry: CatalogEntry, api_root: str) -> Json:
    """The track as API v4 (and a website track page) serves it; `api_root` ends in /v4.

    Catalog fields are kept as they are (including the catalog's convenience top-level
    `label`); the rest is what real v4 tracks carry.
    """
    record = entry.record
    track: Json = dict(record)
    track.update(
        artists=[_v4_person(person, api_root) for person in record["artists"]],
        remixers=[_v4_person(person, api_root) for person in record.get("remixers") or []],
        key=v4_key(record.get("key"), api_root),
        genre=_v4_genre(record.get("genre"), api_root),
        sub_genre=None,
        release=_v4_release(record),
        length=clock(record.get("length_ms")),
        number=entry.number,
        slug=record.get("slug") or "",
        mix_name=record.get("mix_name") or "",
        url=f"{api_root}/catalog/tracks/{record['id']}/",
    )
    track.update(_v4_store_fields(record, api_root))
    return track


def v4_key(key: CatalogKey | None, api_root: str) -> Json | None:
    """A v4 key: the catalog's key plus letter, sharp/flat flags and chord type."""
    if not key:
        return None
    note, _, quality = key["name"].partition(" ")
    return {
        **key,
        "letter": note[:1],
        "is_sharp": note.endswith("#"),
        "is_flat": len(note) > 1 and note.endswith("b"),
        "chord_type": {"id": _CHORD_TYPE_ID.get(quality), "name": quality,
                       "url": f"{api_root}/catalog/chord-types/{_CHORD_TYPE_ID.get(quality)}/"},
        "url": f"{api_root}/catalog/keys/{key['id']}/",
    }


def clock(length_ms: int | None) -> str | None:
    """A length as Beatport shows it: "4:50" (minutes unbounded, seconds truncated)."""
    if length_ms is None:
        return None
    minutes, seconds = divmod(int(length_ms) // 1000, 60)
    return f"{minutes}:{seconds:02d}"


def _v4_person(person: CatalogPerson, api_root: str) -> Json:
    return {**person, "url": f"{api_root}/catalog/artists/{person['id']}/"}


def _v4_genre(genre: CatalogNamed | None, api_root: str) -> Json | None:
    if not genre:
        return None
    return {**genre, "url": f"{api_root}/catalog/genres/{genre['id']}/"}


def _v4_release(record: CatalogTrack) -> Json:
    release = release_of(record)
    release_id = int(release.get("id", 0))
    return {
        "id": release_id,
        "name": release.get("name", ""),
        "slug": release.get("slug", ""),
        "image": _image(f"{MEDIA_URL}/image_size/{{w}}x{{h}}/{guid('release', release_id)}.jpg",
                        release_id, "1400x1400"),
        "label": label_of(record) or None,
    }


def _image(dynamic_uri: str, image_id: int, size: str) -> Json:
    return {"id": image_id, "uri": dynamic_uri.replace("{w}x{h}", size),
            "dynamic_uri": dynamic_uri}


def _v4_store_fields(record: CatalogTrack, api_root: str) -> Json:
    length_ms = int(record.get("length_ms") or 0)
    sample_start = length_ms * 2 // 5
    return {
        "available_worldwide": True,
        "current_status": {"id": 10, "name": "General Content",
                           "url": f"{api_root}/auxiliary/current-status/10/"},
        "enabled": True,
        "exclusive": False,
        "hidden": False,
        "is_available_for_streaming": True,
        "is_hype": False,
        "pre_order": False,
        "pre_order_date": None,
        "price": dict(_PRICE),
        "publish_status": "published",
        "sale_type": {"id": 1, "name": "purchase", "url": f"{api_root}/auxiliary/sale-types/1/"},
        "sample_url": f"{SAMPLES_URL}/track/{guid('track', record['id'])}.LOFI.mp3",
        "sample_start_ms": sample_start,
        "sample_end_ms": min(length_ms, sample_start + _SAMPLE_MS),
        "was_ever_exclusive": False,
    }


# --- search service (website search pages) ------------------------------------------------------

def search_service_track(entry: CatalogEntry, score: float) -> Json:
    """The track as the website's search pages carry it (search-service shape)."""
    record = entry.record
    key = record.get("key")
    released = stamp(record.get("new_release_date"))
    return {
        "score": score,
        "add_date": released,
        "artists": _search_people(record),
        "available_worldwide": 1,
        "bpm": record.get("bpm"),
        "catalog_number": record.get("catalog_number"),
        "change_date": released,
        "chord_type_id": _CHORD_TYPE_ID.get(key["name"].partition(" ")[2]) if key else None,
        "current_status": {"current_status_id": 10, "current_status_name": "General Content"},
        "enabled": 1,
        "encode_status": "CONVERTED",
        "guid": guid("track", record["id"]),
        "is_available_for_streaming": 1,
        "is_classic": 0,
        "isrc": record.get("isrc"),
        "key_id": key["id"] if key else None,
        "key_name": sharp_key_name(key["name"]) if key else None,
        "label": _search_label(record),
        "length": record.get("length_ms"),
        "mix_name": record.get("mix_name") or "",
        "publish_date": stamp(record.get("publish_date")),
        "publish_status": "published",
        "release": _search_release(record),
        "release_date": released,
        "sale_type": "purchase",
        "suggest": {"input": record["name"], "weight": 0},
        "track_id": record["id"],
        "track_name": record["name"],
        "track_number": entry.number,
        "update_date": released,
        "was_ever_exclusive": 0,
        "price": dict(_PRICE),
        "is_explicit": False,
        "genre": _search_genres(record.get("genre")),
    }


def sharp_key_name(name: str) -> str:
    """ "Db Minor" → "C# Minor": the search pages' spelling of a v4 key name."""
    note, space, quality = name.partition(" ")
    return _SHARP_OF.get(note, note) + space + quality


def stamp(date: str | None) -> str | None:
    """ "2020-10-21" → "2020-10-21T00:00:00", the search service's date format."""
    return f"{date}T00:00:00" if date else None


def _search_people(record: CatalogTrack) -> list[Json]:
    # Remixers are mixed into artists[], told apart by their type name.
    return [
        {"artist_id": person["id"], "artist_name": person["name"], "artist_type_name": kind}
        for kind, people in (("Artist", record["artists"]),
                             ("Remixer", record.get("remixers") or []))
        for person in people
    ]


def _search_label(record: CatalogTrack) -> Json | None:
    label = label_of(record)
    if not label:
        return None
    return {"enabled": 1, "label_id": label.get("id"), "label_name": label.get("name")}


def _search_release(record: CatalogTrack) -> Json:
    release = release_of(record)
    release_id = int(release.get("id", 0))
    return {
        "release_id": release_id,
        "release_name": release.get("name", ""),
        "release_image_uri":
            f"{MEDIA_URL}/image_size/1400x1400/{guid('release', release_id)}.jpg",
    }


def _search_genres(genre: CatalogNamed | None) -> list[Json]:
    return [{"genre_id": genre["id"], "genre_name": genre["name"]}] if genre else []
