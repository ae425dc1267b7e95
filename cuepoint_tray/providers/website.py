"""Beatport's website: search pages and track pages, read from their `__NEXT_DATA__` JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, cast

import requests

from cuepoint_tray.domain import BeatportTrack, ProviderResult, RequestKind, RequestReport
from cuepoint_tray.errors import BlockedError
from cuepoint_tray.providers.http import BLOCKED_MESSAGE, HttpClient
from cuepoint_tray.providers.parse import (
    BEATPORT_WEBSITE,
    UnexpectedShape,
    json_object,
    mapping_of,
    one_track_from_v4,
    tracks_from_search,
)
from cuepoint_tray.providers.payloads import NextData, V4Track
from cuepoint_tray.providers.provider import (
    ABSENT_TRACK_STATUSES,
    asked_again_if_unreadable,
    exact_isrc,
    no_tracks,
    normal_isrc,
    read_answer,
    unexpected_status,
)

_HTML = {"Accept": "text/html,application/xhtml+xml"}
# The site has answered 403 to queries with more than one pair of parentheses; brackets add
# nothing to a full-text search, so they go.
_BRACKETS = re.compile(r"[()\[\]{}]")
_SPACES = re.compile(r"\s+")
# Finding the script tag with str.find and one anchored regex, then json.loads, takes 0.57 ms on
# the real 225 KB search page (json.loads alone: 0.48 ms); BeautifulSoup with html.parser takes
# 6.5 ms for the same tag. Next.js escapes "<" inside the JSON, so "</script>" ends it safely.
_NEXT_DATA_TAG = re.compile(r"""<script[^>]*\bid\s*=\s*["']__NEXT_DATA__["'][^>]*>""")


class WebsiteProvider:
    """Tracks from Beatport's website (`settings.beatport_web_url`), no token needed."""

    name = "website"
    # The site has no ISRC look-up: a search for the code costs a request and rarely finds it.
    exact_isrc_lookup = False

    def __init__(self, http: HttpClient, *, web_url: str = BEATPORT_WEBSITE):
        self._http = http
        self._web_url = web_url.rstrip("/")

    def search(self, text: str, page: int = 1, per_page: int = 25) -> ProviderResult:
        """Tracks matching `text` (`/search/tracks`), brackets removed from the query."""
        return self._search(search_text(text), page, per_page, "search")

    def track_by_id(self, track_id: int) -> ProviderResult:
        """One track from its page (`/track/<slug>/<id>`); none when it is gone or hidden."""
        return asked_again_if_unreadable(lambda: self._track_page(track_id))

    def _track_page(self, track_id: int) -> ProviderResult:
        # Track pages are routed by id (Next's page is /track/[description]/[id]); the slug is
        # decoration we do not know here, and a fixed one keeps the cache key stable.
        url = f"{self._web_url}/track/-/{int(track_id)}"
        response, report = self._http.get(url, kind="track", headers=_HTML)
        if response.status_code in ABSENT_TRACK_STATUSES:
            return no_tracks(report)
        _require_ok(response, report)
        track, parse_ms = read_answer(self._http, response, report, self._page_track)
        return ProviderResult(tracks=(track,), report=report, parse_ms=parse_ms, total=1)

    def track_by_isrc(self, isrc: str) -> ProviderResult:
        """Tracks with exactly this ISRC: the site has no ISRC lookup, so search for it."""
        found = self._search(normal_isrc(isrc), 1, 25, "isrc")
        matching = exact_isrc(found.tracks, isrc)
        return ProviderResult(tracks=matching, report=found.report, parse_ms=found.parse_ms,
                              total=len(matching))

    def _search(self, query: str, page: int, per_page: int, kind: RequestKind) -> ProviderResult:
        return asked_again_if_unreadable(lambda: self._search_page(query, page, per_page, kind))

    def _search_page(self, query: str, page: int, per_page: int,
                     kind: RequestKind) -> ProviderResult:
        params = {"q": query, "page": page, "per-page": per_page}
        response, report = self._http.get(f"{self._web_url}/search/tracks", kind=kind,
                                          params=params, headers=_HTML)
        _require_ok(response, report)
        (tracks, total), parse_ms = read_answer(self._http, response, report, self._page_tracks)
        return ProviderResult(tracks=tracks, report=report, parse_ms=parse_ms, total=total)

    def _page_tracks(self, response: requests.Response) -> tuple[tuple[BeatportTrack, ...],
                                                                    int | None]:
        items, total = search_results_of(next_data_of(_page_text(response)))
        return tracks_from_search(items, web_url=self._web_url), total

    def _page_track(self, response: requests.Response) -> BeatportTrack:
        page = next_data_of(_page_text(response))
        return one_track_from_v4(track_of_page(page), web_url=self._web_url)


def _require_ok(response: requests.Response, report: RequestReport) -> None:
    # Cloudflare's challenge page was recognised in HttpClient; a plain 403 is a refusal too.
    if response.status_code == 403:
        raise BlockedError(BLOCKED_MESSAGE, report)
    if response.status_code != 200:
        raise unexpected_status(response, report)


def _page_text(response: requests.Response) -> str:
    """The page as text. Next.js pages are UTF-8; requests would guess Latin-1 for a text/html
    answer without a charset, or run its slow detector when it has no Content-Type at all."""
    return response.content.decode("utf-8", errors="replace")


def search_text(text: str) -> str:
    """The query as the website takes it: no brackets, single spaces."""
    return _SPACES.sub(" ", _BRACKETS.sub(" ", text)).strip()


# --- __NEXT_DATA__ ----------------------------------------------------------------------------


def next_data_of(html: str) -> NextData:
    """The JSON of the page's `<script id="__NEXT_DATA__">`; a Next data route's JSON as is."""
    if html.lstrip().startswith("{"):  # /_next/data/…json answers carry pageProps at the top
        return cast(NextData, json_object(json.loads(html)))
    named_at = html.find("__NEXT_DATA__")
    tag = _NEXT_DATA_TAG.match(html, html.rfind("<script", 0, named_at)) if named_at >= 0 else None
    if tag is None:
        raise UnexpectedShape("the page has no __NEXT_DATA__")
    end = html.find("</script>", tag.end())
    if end < 0:
        raise UnexpectedShape("the page's __NEXT_DATA__ is cut off")
    return cast(NextData, json_object(json.loads(html[tag.end():end])))


def search_results_of(data: NextData) -> tuple[list[Any], int | None]:
    """The search-service tracks of a search page and how many there are in all.

    `/search/tracks` keeps them at `queries[0].state.data.data[]`, the all-types `/search` at
    `.tracks.data[]`; the first query holding either wins.
    """
    for state_data in _query_data(data):
        results = state_data.get("tracks", state_data)
        if isinstance(results, list):
            return results, None
        if isinstance(results, dict) and isinstance(results.get("data"), list):
            count = results.get("count")
            return results["data"], count if isinstance(count, int) else None
    raise UnexpectedShape("the search page holds no track list")


def track_of_page(data: NextData) -> V4Track:
    """The v4 track of a track page: at `pageProps.track`, or in the dehydrated queries."""
    track = _page_props(data).get("track")
    if isinstance(track, dict):
        return cast(V4Track, track)
    for state_data in _query_data(data):
        if "id" in state_data and "name" in state_data:
            return cast(V4Track, state_data)
    raise UnexpectedShape("the track page holds no track")


def _page_props(data: NextData) -> Mapping[str, Any]:
    props = mapping_of(mapping_of(data.get("props")).get("pageProps"))
    return props or mapping_of(data.get("pageProps"))


def _query_data(data: NextData) -> Iterator[Mapping[str, Any]]:
    queries = mapping_of(_page_props(data).get("dehydratedState")).get("queries")
    for query in queries if isinstance(queries, list) else ():
        state_data = mapping_of(mapping_of(mapping_of(query).get("state")).get("data"))
        if state_data:
            yield state_data
