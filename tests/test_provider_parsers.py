"""Parsers: Beatport's raw objects and pages → BeatportTrack, on real captures and own fixtures."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any, cast

import pytest

from cuepoint_tray.domain import BeatportTrack
from cuepoint_tray.providers.parse import (
    UnexpectedShape,
    slug_of,
    track_from_search,
    track_from_v4,
    tracks_from_search,
    tracks_from_v4,
)
from cuepoint_tray.providers.payloads import SearchTrack, V4Track
from cuepoint_tray.providers.website import (
    next_data_of,
    search_results_of,
    search_text,
    track_of_page,
)

from conftest import REAL_CAPTURES, require

FIXTURES = Path(__file__).parent / "fixtures" / "beatport"


def _real(name: str) -> str:
    return require(REAL_CAPTURES / name).read_text(encoding="utf-8")


def _fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def _v4(raw: dict[str, Any]) -> BeatportTrack | None:
    return track_from_v4(cast(V4Track, raw))


def _search(raw: dict[str, Any]) -> BeatportTrack | None:
    return track_from_search(cast(SearchTrack, raw))


# --- real captures ------------------------------------------------------------------------------

REAL_TRACK_PAGES = [
    ("concussion", BeatportTrack(
        id=194481, title="Concussion", mix_name="Original Mix", artists=("Noisia",), bpm=86.0,
        key_name="F Minor", camelot="4A", genre="Drum & Bass", label="Vision Recordings",
        release="The Tide / Concussion", release_date="2005-11-14", length_ms=334883,
        isrc="NLCK40700053", url="https://www.beatport.com/track/concussion/194481")),
    ("purpose_remix", BeatportTrack(
        id=16039305, title="Purpose", mix_name="Buunshin Remix", artists=("Noisia", "Phace"),
        remixers=("Buunshin",), bpm=104.0, key_name="F Major", camelot="7B",
        genre="Drum & Bass", label="Vision Recordings", release="The Resonance I",
        release_date="2021-12-17", length_ms=272091, isrc="UKACT2133031",
        url="https://www.beatport.com/track/purpose/16039305")),
    # The trimmed capture: pageProps at the top, the track only inside dehydratedState.
    ("block_control", BeatportTrack(
        id=753324, title="Block Control", mix_name="Original Mix", artists=("Noisia",),
        bpm=86.0, key_name="F Major", camelot="7B", genre="Drum & Bass", label="Moving Shadow",
        release="Block Control EP", release_date="2005-04-11", length_ms=430741,
        isrc="GBAGN0400436", url="https://www.beatport.com/track/block-control/753324")),
]


@pytest.mark.parametrize(("name", "expected"), REAL_TRACK_PAGES,
                         ids=[name for name, _ in REAL_TRACK_PAGES])
def test_real_track_pages_read_as_v4_tracks(name: str, expected: BeatportTrack) -> None:
    page = _real(f"www-track-pageprops-noisia_{name}_beatport.json")
    assert track_from_v4(track_of_page(next_data_of(page))) == expected


def test_real_search_page_reads_all_fifteen_tracks() -> None:
    items, total = search_results_of(next_data_of(_real("www-search-all-noisia.html")))
    tracks = tracks_from_search(items)
    assert len(tracks) == 15 and total is None
    first = tracks[0]
    assert first == BeatportTrack(
        id=14388878, title="Diplodocus (Noisia's 'Outer Edges' Remix) (Live)",
        mix_name="Original Mix", artists=("Noisia",), remixers=("Noisia",), bpm=89.0,
        key_name="Bb Minor", camelot="3A", genre="Drum & Bass", label="Vision Recordings",
        release="Outer Edges x Live", release_date="2020-10-21", length_ms=182989,
        isrc="UKACT2032018",
        url="https://www.beatport.com/track/diplodocus-noisia-s-outer-edges-remix-live/14388878")


def test_real_search_page_splits_remixers_and_normalises_sharps() -> None:
    items, _ = search_results_of(next_data_of(_real("www-search-all-noisia.html")))
    by_id = {track.id: track for track in tracks_from_search(items)}
    contact = by_id[1820366]  # Foreign Beggars – Contact feat. Noisia (Noisia Remix)
    assert contact.artists == ("Foreign Beggars",) and contact.remixers == ("Noisia",)
    dead_limit = by_id[14388916]  # "F# Minor" stays F# in v4 spelling
    assert (dead_limit.key_name, dead_limit.camelot) == ("F# Minor", "11A")
    assert all(track.key_name and track.camelot for track in by_id.values())


def test_real_api_search_shape_has_an_empty_track_list() -> None:
    answer = json.loads(_real("api-v4-search-shape.json"))
    assert tracks_from_v4(answer["tracks"]) == ()


def test_next_data_extraction_is_fast_on_the_real_page() -> None:
    """The reason for str.find + regex over BeautifulSoup: well under a few ms a page."""
    page = _real("www-search-all-noisia.html")
    started = time.perf_counter()
    for _ in range(20):
        next_data_of(page)
    assert (time.perf_counter() - started) / 20 < 0.02


# --- own fixtures -------------------------------------------------------------------------------


def test_own_search_page_keeps_good_records_and_skips_bad_ones(
        caplog: pytest.LogCaptureFixture) -> None:
    items, total = search_results_of(next_data_of(_fixture("website-search-tracks.html")))
    assert total == 457
    with caplog.at_level(logging.WARNING):
        tracks = tracks_from_search(items)
    assert [track.id for track in tracks] == [14388878, 3151019, 14388916, 1000002]
    assert sum("Skipped a Beatport track" in message for message in caplog.messages) == 4
    untidy = tracks[-1]
    assert untidy == BeatportTrack(id=1000002, title="1999", artists=("Prince",),
                                   url="https://www.beatport.com/track/1999/1000002")


def test_own_search_page_feat_title() -> None:
    items, _ = search_results_of(next_data_of(_fixture("website-search-tracks.html")))
    korn = tracks_from_search(items)[1]
    assert korn.title == "Let's Go (feat. Noisia)" and korn.artists == ("Korn", "Noisia")
    assert (korn.key_name, korn.camelot, korn.release_date) == ("F Major", "7B", "2011-11-30")


def test_own_track_page() -> None:
    track = track_from_v4(track_of_page(next_data_of(_fixture("website-track-page.html"))))
    assert track is not None
    assert (track.id, track.title, track.camelot, track.label) == (
        194481, "Concussion", "4A", "Vision Recordings")


def test_untidy_v4_track() -> None:
    raw = json.loads(_fixture("v4-track-untidy.json"))
    assert _v4(raw) == BeatportTrack(
        id=194481, title="Concussion", artists=("Noisia",), bpm=86.0, key_name="F Minor",
        camelot="4A", label="Vision Recordings", release="The Tide / Concussion",
        release_date="2005-11-14", length_ms=334000, isrc="12345",
        url="https://www.beatport.com/track/concussion/194481")


def test_v4_camelot_fields_win_over_the_name_and_label_prefers_release() -> None:
    raw = {"id": 1, "name": "X", "key": {"name": "Eb Minor", "camelot_number": 2,
                                         "camelot_letter": "a"},
           "release": {"label": {"name": "Release Label"}}, "label": {"name": "Top Label"}}
    track = _v4(raw)
    assert track is not None
    assert (track.key_name, track.camelot, track.label) == ("Eb Minor", "2A", "Release Label")


def test_v4_length_and_dates() -> None:
    track = _v4({"id": 1, "name": "X", "length": "1:02:03", "new_release_date": "2020-01-02",
                 "publish_date": "2019-12-31"})
    assert track is not None and (track.length_ms, track.release_date) == (3723000, "2020-01-02")


def test_v4_keeps_a_website_url_and_builds_one_from_the_slug() -> None:
    page = _v4({"id": 5, "name": "X", "url": "https://www.beatport.com/track/x/5"})
    built = _v4({"id": 5, "name": "Y Z", "slug": "y-z"})
    assert page is not None and built is not None
    assert page.url == "https://www.beatport.com/track/x/5"
    assert built.url == "https://www.beatport.com/track/y-z/5"


@pytest.mark.parametrize("raw", [
    {}, {"id": None, "name": "X"}, {"id": 1}, {"id": 1, "name": None}, {"id": 1, "name": "  "},
    {"id": True, "name": "X"}, {"id": "abc", "name": "X"}, {"id": [], "name": {}},
])
def test_v4_records_without_id_or_name_are_skipped(raw: dict[str, Any],
                                                   caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert _v4(raw) is None
    assert "Skipped a Beatport track" in caplog.text


@pytest.mark.parametrize("raw", [
    {"id": 1, "name": "X", "key": "A Minor", "genre": "House", "artists": "Noisia",
     "release": [], "bpm": "fast", "length_ms": "long", "new_release_date": 2020},
    {"id": 1, "name": "X", "key": None, "genre": None, "artists": None, "remixers": [None, 3],
     "release": None, "bpm": -1, "length_ms": None, "isrc": None, "sub_genre": {"name": None}},
])
def test_v4_untidy_fields_never_crash(raw: dict[str, Any]) -> None:
    track = _v4(raw)
    assert track is not None and track.id == 1 and track.title == "X"


def test_search_record_with_only_an_id_and_a_name() -> None:
    assert _search({"track_id": "7", "track_name": "X"}) == BeatportTrack(
        id=7, title="X", url="https://www.beatport.com/track/x/7")


def test_search_key_spellings() -> None:
    track = _search({"track_id": 1, "track_name": "X", "key_name": "C# Major"})
    assert track is not None and (track.key_name, track.camelot) == ("Db Major", "3B")


def test_lists_that_are_not_lists_are_unexpected() -> None:
    with pytest.raises(UnexpectedShape):
        tracks_from_v4({"tracks": []})
    with pytest.raises(UnexpectedShape):
        tracks_from_search(None)


# --- pages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", [
    "<html><body>no data here</body></html>",
    '<html><script id="__NEXT_DATA__" type="application/json">{"props": ',
    _fixture("cloudflare-challenge.html"),
])
def test_pages_without_next_data_are_unexpected(page: str) -> None:
    with pytest.raises(ValueError):
        next_data_of(page)


def test_search_page_of_the_wrong_shape_is_unexpected() -> None:
    with pytest.raises(UnexpectedShape):
        search_results_of(next_data_of(_fixture("website-track-page.html")))
    with pytest.raises(UnexpectedShape):
        track_of_page({"props": {"pageProps": {}}})


def test_search_text_strips_brackets() -> None:
    assert search_text("Diplodocus (Noisia's 'Outer Edges' Remix) [Live] (2020)") == (
        "Diplodocus Noisia's 'Outer Edges' Remix Live 2020")


def test_slug_of() -> None:
    assert slug_of("Let's Go (feat. Noisia)") == "let-s-go-feat-noisia"
