"""Beatport's website: search pages and track pages, read from their `__NEXT_DATA__` JSON.

Used only without a Beatport account. Since May 2026 the site's search pages carry no data a
program can read, and it often answers with a Cloudflare challenge: either is an answer that
will not change by asking again, so the first such page makes every later call fail at once
(no request), with one sentence that says to sign in. Until one page has been read, searches
go one at a time, so a session against today's site sends one request, not one per worker.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, cast

import requests

from cuepoint_tray.domain import BeatportTrack, ProviderResult, RequestKind, RequestReport
from cuepoint_tray.errors import BadResponseError, BlockedError
from cuepoint_tray.providers.http import BLOCKED_MESSAGE, SIGN_IN_HINT, HttpClient
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
_TRACK_QUERY = re.compile(r"track-(\d+)")
NO_SEARCH_DATA_MESSAGE = ("Beatport's website no longer lists search results for programs: "
                          + SIGN_IN_HINT)
NO_TRACK_DATA_MESSAGE = ("Beatport's website no longer shows track pages to programs: "
                         + SIGN_IN_HINT)


class NoPageData(UnexpectedShape):
    """A page with no `__NEXT_DATA__` at all: the site's layout, not a passing fault."""


class WebsiteProvider:
    """Tracks from Beatport's website (`settings.beatport_web_url`), no token needed."""

    name = "website"
    # The site has no ISRC look-up: a search for the code costs a request and rarely finds it.
    exact_isrc_lookup = False

    def __init__(self, http: HttpClient, *, web_url: str = BEATPORT_WEBSITE):
        self._http = http
        self._web_url = web_url.rstrip("/")
        self._first_page = threading.Lock()  # held while no page has been read yet
        self._read_one = threading.Event()
        self._refusal: str | None = None  # why the site cannot be used, once it said so

    def search(self, text: str, page: int = 1, per_page: int = 25) -> ProviderResult:
        """Tracks matching `text` (`/search/tracks`), brackets removed from the query."""
        return self._search(search_text(text), page, per_page, "search")

    def track_by_id(self, track_id: int) -> ProviderResult:
        """One track from its page (`/track/<slug>/<id>`); none when it is gone or hidden.

        A page that is not this track's (a release page: its query is not `track-<id>`) is a
        BadResponseError, never read as a track."""
        return self._guarded(lambda: self._track_page(track_id))

    def _track_page(self, track_id: int) -> ProviderResult:
        # Track pages are routed by id (Next's page is /track/[description]/[id]); the slug is
        # decoration we do not know here, and a fixed one keeps the cache key stable.
        url = f"{self._web_url}/track/-/{int(track_id)}"
        response, report = self._http.get(url, kind="track", headers=_HTML)
        if response.status_code in ABSENT_TRACK_STATUSES:
            return no_tracks(report)
        _require_ok(response, report)
        try:
            track, parse_ms = read_answer(self._http, response, report,
                                          lambda answer: self._page_track(answer, track_id))
        except BadResponseError as exc:
            if isinstance(exc.__cause__, NoPageData):
                raise BlockedError(NO_TRACK_DATA_MESSAGE, exc.report) from exc
            raise
        return ProviderResult(tracks=(track,), report=report, parse_ms=parse_ms, total=1)

    def _guarded(self, ask: Callable[[], ProviderResult]) -> ProviderResult:
        """`ask()`, unless the site already said it cannot be used; the first page alone."""
        if self._read_one.is_set():
            return self._noting_refusal(ask)
        with self._first_page:
            return self._noting_refusal(ask)

    def _noting_refusal(self, ask: Callable[[], ProviderResult]) -> ProviderResult:
        if self._refusal is not None:
            raise BlockedError(self._refusal)
        try:
            found = ask()
        except BlockedError as exc:
            self._refusal = str(exc)
            raise
        self._read_one.set()
        return found

    def track_by_isrc(self, isrc: str) -> ProviderResult:
        """Tracks with exactly this ISRC: the site has no ISRC lookup, so search for it."""
        found = self._search(normal_isrc(isrc), 1, 25, "isrc")
        matching = exact_isrc(found.tracks, isrc)
        return ProviderResult(tracks=matching, report=found.report, parse_ms=found.parse_ms,
                              total=len(matching))

    def _search(self, query: str, page: int, per_page: int, kind: RequestKind) -> ProviderResult:
        return self._guarded(lambda: self._search_page(query, page, per_page, kind))

    def _search_page(self, query: str, page: int, per_page: int,
                     kind: RequestKind) -> ProviderResult:
        params = {"q": query, "page": page, "per-page": per_page}
        response, report = self._http.get(f"{self._web_url}/search/tracks", kind=kind,
                                          params=params, headers=_HTML)
        _require_ok(response, report)
        try:
            (tracks, total), parse_ms = read_answer(self._http, response, report,
                                                    self._page_tracks)
        except BadResponseError as exc:  # no readable list: asking again cannot change it
            raise BlockedError(NO_SEARCH_DATA_MESSAGE, exc.report) from exc
        return ProviderResult(tracks=tracks, report=report, parse_ms=parse_ms, total=total)

    def _page_tracks(self, response: requests.Response) -> tuple[tuple[BeatportTrack, ...],
                                                                    int | None]:
        items, total = search_results_of(next_data_of(_page_text(response)))
        return tracks_from_search(items, web_url=self._web_url), total

    def _page_track(self, response: requests.Response, track_id: int) -> BeatportTrack:
        page = next_data_of(_page_text(response))
        return one_track_from_v4(track_of_page(page, track_id), web_url=self._web_url)


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
        raise NoPageData("the page has no __NEXT_DATA__")
    end = html.find("</script>", tag.end())
    if end < 0:
        raise NoPageData("the page's __NEXT_DATA__ is cut off")
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


def track_of_page(data: NextData, track_id: int | None = None) -> V4Track:
    """The v4 track of a track page: at `pageProps.track`, or in the dehydrated query whose
    `queryKey` is `track-<id>` (and whose data is that track).

    Any other page (a release page's `release-<id>`, a search) is refused, even though its
    data has an id and a name like a track; so is the page of another track than `track_id`.
    """
    track = _page_props(data).get("track")
    if isinstance(track, dict):
        return cast(V4Track, _wanted(track, track_id))
    keys = []
    for key, state_data in _keyed_query_data(data):
        keys.append(key)
        found = _TRACK_QUERY.fullmatch(key)
        if found and state_data.get("id") == int(found.group(1)):
            return cast(V4Track, _wanted(state_data, track_id))
    raise UnexpectedShape("the page is not a track page" + (
        f" (its query is {', '.join(repr(key) for key in keys)})" if keys else ""))


def _wanted(track: Mapping[str, Any], track_id: int | None) -> Mapping[str, Any]:
    if track_id is not None and track.get("id") != track_id:
        raise UnexpectedShape(f"the page is track {track.get('id')!r}'s, not {track_id}'s")
    return track


def _page_props(data: NextData) -> Mapping[str, Any]:
    props = mapping_of(mapping_of(data.get("props")).get("pageProps"))
    return props or mapping_of(data.get("pageProps"))


def _query_data(data: NextData) -> Iterator[Mapping[str, Any]]:
    for _, state_data in _keyed_query_data(data):
        yield state_data


def _keyed_query_data(data: NextData) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Each dehydrated query's key (its first part, as text) and data."""
    queries = mapping_of(_page_props(data).get("dehydratedState")).get("queries")
    for query in queries if isinstance(queries, list) else ():
        state_data = mapping_of(mapping_of(mapping_of(query).get("state")).get("data"))
        key = mapping_of(query).get("queryKey")
        first = key[0] if isinstance(key, list) and key else key
        if state_data:
            yield (first if isinstance(first, str) else ""), state_data
