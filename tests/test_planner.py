"""The query planner: which searches a track gets, and when giving up costs nothing more."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cuepoint_tray.domain import BeatportTrack, Candidate, Component, RekordboxTrack
from cuepoint_tray.evaluation import read_truth
from cuepoint_tray.matching import TrackMatcher
from cuepoint_tray.matching.planner import Answer, PlannedQuery, plan_queries, worth_sending
from cuepoint_tray.matching.profile import rekordbox_profile
from cuepoint_tray.providers import HttpClient, WebsiteProvider
from cuepoint_tray.rekordbox import read_library

from conftest import DEV_SET, require

FULL = PlannedQuery("full", "DJ Meyer Black Tears")
TITLE_ARTIST = PlannedQuery("title_artist", "DJ Meyer Black Tears")
TITLE = PlannedQuery("title", "Black Tears")
ISRC = PlannedQuery("isrc", "QZE261390632")


def candidate(title: float, artists: float | None, vetoes: tuple[str, ...] = ()) -> Candidate:
    parts = [Component("title", title, 3.0)]
    if artists is not None:
        parts.append(Component("artists", artists, 3.0))
    return Candidate(BeatportTrack(id=1, title="x"), 0.5, tuple(parts), vetoes)


SAME_TITLE_OTHER_ARTISTS = candidate(1.0, 0.2, ("other artists",))
ANOTHER_TITLE_SAME_ARTIST = candidate(0.4, 1.0, ("another title",))
ANOTHER_VERSION = candidate(1.0, 1.0, ("a remix by kai mohr",))
TYPO_IN_TITLE = candidate(0.9, 1.0)


@pytest.mark.parametrize(("first", "relaxed_sent"), [
    # the title only by other artists, or nothing close: fewer words find no more
    (Answer(FULL, (SAME_TITLE_OTHER_ARTISTS,)), False),
    (Answer(FULL, (ANOTHER_TITLE_SAME_ARTIST, SAME_TITLE_OTHER_ARTISTS)), False),
    # the DJ's title by the DJ's artists, in another version or misspelt: keep looking
    (Answer(FULL, (SAME_TITLE_OTHER_ARTISTS, ANOTHER_VERSION)), True),
    (Answer(FULL, (TYPO_IN_TITLE,)), True),
    (Answer(FULL, (candidate(1.0, None),)), True),  # no artist to compare: the title decides
    # an answer that says nothing about the store
    (Answer(FULL, (), failed=True), True),
    (Answer(FULL, ()), True),
])
def test_relaxed_queries_are_sent_only_when_they_can_add_a_candidate(first, relaxed_sent):
    assert worth_sending(FULL, []) is True
    assert worth_sending(TITLE_ARTIST, [first]) is relaxed_sent
    assert worth_sending(TITLE, [first, Answer(TITLE_ARTIST, ())]) is relaxed_sent


def test_the_rule_reads_the_first_text_query_not_an_exact_lookup_before_it():
    isrc_miss = Answer(ISRC, ())
    assert worth_sending(TITLE, [isrc_miss, Answer(FULL, (SAME_TITLE_OTHER_ARTISTS,))]) is False
    assert worth_sending(TITLE, [isrc_miss, Answer(FULL, (TYPO_IN_TITLE,))]) is True


def test_the_plan_goes_from_specific_to_relaxed():
    track = RekordboxTrack(track_id="1", name="Black Tears (Paul Sato Remix)",
                           artist="DJ Meyer, Alba Vale")
    assert [(q.type, q.text) for q in plan_queries(rekordbox_profile(track))] == [
        ("full", "DJ Meyer Alba Vale Black Tears paul sato remix"),
        ("title_artist", "DJ Meyer Black Tears"),
        ("title", "Black Tears paul sato remix"),
    ]


# --- giving up, against the local catalog server over the dev set ----------------------------


@pytest.fixture
def matcher(tmp_path: Path, catalog_server) -> Iterator[TrackMatcher]:
    http = HttpClient(cache_path=None, cache_expiry_days=1.0, requests_per_second=1000.0,
                      timeout_s=5.0, max_attempts=2, backoff_s=0.01, backoff_max_s=0.05)
    yield TrackMatcher(WebsiteProvider(http, web_url=catalog_server.url))
    http.close()


@pytest.mark.slow
def test_giving_up_on_tracks_the_store_does_not_sell_is_cheap(matcher, catalog_server):
    library = read_library(require(DEV_SET / "rekordbox.xml"))
    truth = read_truth(require(DEV_SET / "truth.csv"))
    tracks = library.tracks_of(library.find_playlist("Sets/Dev Set"))
    absent = [t for t in tracks if not truth[t.track_id]]
    sold = [t for t in tracks if truth[t.track_id]][:60]
    absent_results = [matcher.match(track) for track in absent]
    assert all(result.match is None for result in absent_results)
    queries = sum(len(result.queries) for result in absent_results)
    assert queries / len(absent) <= 1.6
    sold_results = [matcher.match(track) for track in sold]
    found = [r for r in sold_results if r.match and r.match.id in truth[r.rekordbox.track_id]]
    assert len(found) == len(sold)  # no recall lost for it
    assert catalog_server.stats()["total"] == queries + sum(len(r.queries) for r in sold_results)
