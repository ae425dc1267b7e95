"""The store's answers, free of HTTP plumbing: a Request in, an Answer out.

API v4 paths (`/v4/…`) answer JSON behind a bearer token; website paths answer Next.js pages.
Paging parameters are spelled as Beatport spells them: `per_page` on the API, `per-page` on
the website.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from cuepoint_tray.catalog_server import pages
from cuepoint_tray.catalog_server.auth import TokenBook, bearer_of, is_sign_in
from cuepoint_tray.catalog_server.catalog import Catalog, CatalogEntry
from cuepoint_tray.catalog_server.shapes import search_service_track, v4_track

KINDS = ("api_search", "api_track", "api_isrc", "web_search", "web_track", "auth", "other")
DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100
MAX_PAGE = 100_000  # keeps OFFSET within SQLite's integers
SEARCH_ALL_PER_TYPE = 15
JSON_TYPE = "application/json"
HTML_TYPE = "text/html; charset=utf-8"

_API_SEARCH = re.compile(r"/v4/catalog/search/?")
_API_TRACK = re.compile(r"/v4/catalog/tracks/([^/]+)/?")
_API_TRACKS = re.compile(r"/v4/catalog/tracks/?")
_WEB_SEARCH_TRACKS = re.compile(r"/search/tracks/?")
_WEB_SEARCH_ALL = re.compile(r"/search/?")
_WEB_TRACK = re.compile(r"/track/([^/]+)/([^/]+)/?")
_NOT_AUTHENTICATED = {"detail": "Authentication credentials were not provided."}
_NOT_FOUND = {"detail": "Not found."}


@dataclass(frozen=True)
class Request:
    """One HTTP request as the site needs it: header names lower-cased, first query values."""

    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def parse(cls, method: str, target: str, headers: Mapping[str, str],
              body: bytes = b"") -> Request:
        """A Request from a request line's method and target ("/path?query")."""
        parts = urlsplit(target)
        query: dict[str, str] = {}
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            query.setdefault(name, value)
        return cls(method.upper(), parts.path or "/", query,
                   {name.lower(): value for name, value in headers.items()}, body)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()


def json_answer(status: int, payload: object, *headers: tuple[str, str]) -> Answer:
    """A JSON answer, compact and UTF-8 like the API's."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return Answer(status, body, JSON_TYPE, headers)


def html_answer(status: int, text: str, *headers: tuple[str, str]) -> Answer:
    """An HTML answer."""
    return Answer(status, text.encode(), HTML_TYPE, headers)


def is_api(path: str) -> bool:
    """Whether a path belongs to API v4 (else it is a website path)."""
    return path == "/v4" or path.startswith("/v4/")


def request_kind(request: Request) -> str:
    """The kind /_stats counts a request under (one of KINDS)."""
    path = request.path
    if is_sign_in(path):
        return "auth"
    routes = ((_API_SEARCH, "api_search"), (_API_TRACKS, "api_isrc"),
              (_API_TRACK, "api_track"), (_WEB_SEARCH_TRACKS, "web_search"),
              (_WEB_SEARCH_ALL, "web_search"), (_WEB_TRACK, "web_track"))
    kind = next((kind for pattern, kind in routes if pattern.fullmatch(path)), "other")
    return "other" if kind == "api_isrc" and "isrc" not in request.query else kind


# --- answers the fault switches give -------------------------------------------------------------

def throttled_answer(request: Request, retry_after_s: int) -> Answer:
    """429 with Retry-After, worded as Django REST framework words it on the API."""
    header = ("Retry-After", str(retry_after_s))
    if is_api(request.path):
        unit = "second" if retry_after_s == 1 else "seconds"
        detail = f"Request was throttled. Expected available in {retry_after_s} {unit}."
        return json_answer(429, {"detail": detail}, header)
    return html_answer(429, pages.simple_page(429, "Too Many Requests"), header)


def server_error_answer(status: int) -> Answer:
    """A 5xx page as the application server (500) or the gateway (502, 503) writes it."""
    return html_answer(status, pages.simple_page(status, HTTPStatus(status).phrase))


def challenge_answer(request: Request) -> Answer:
    """Cloudflare's challenge: 403, `cf-mitigated: challenge`, no page data."""
    ray = secrets.token_hex(8)
    target = request.path + ("?" + urlencode(request.query) if request.query else "")
    return html_answer(
        403, pages.challenge_page(target, ray),
        ("cf-mitigated", "challenge"), ("CF-RAY", f"{ray}-AMS"), ("Server", "cloudflare"),
        ("Cache-Control", "private, max-age=0, no-store, no-cache, must-revalidate"),
        ("Cross-Origin-Opener-Policy", "same-origin"))


# --- the site ------------------------------------------------------------------------------------

class CatalogSite:
    """Beatport's API v4 and website over one catalog; plain methods, no HTTP."""

    def __init__(self, catalog: Catalog, *, base_url: str, tokens: TokenBook):
        self.catalog = catalog
        self.base_url = base_url.rstrip("/")
        self.api_root = self.base_url + "/v4"
        self.tokens = tokens

    def answer(self, request: Request) -> Answer:
        """The store's answer to one request."""
        if is_api(request.path):
            return self._api(request)
        return self._website(request)

    # API v4 --------------------------------------------------------------------------------

    def _api(self, request: Request) -> Answer:
        bearer = bearer_of(request.headers.get("authorization"))
        if not self.tokens.accepts(bearer):
            return json_answer(401, _NOT_AUTHENTICATED, ("WWW-Authenticate", 'Bearer realm="api"'))
        if request.method != "GET":
            return json_answer(405, {"detail": f'Method "{request.method}" not allowed.'})
        if _API_SEARCH.fullmatch(request.path):
            return json_answer(200, self.api_search(request.query))
        if _API_TRACKS.fullmatch(request.path):
            return self._api_track_list(request.query)
        found = _API_TRACK.fullmatch(request.path)
        track = self.api_track(found.group(1)) if found else None
        return json_answer(200, track) if track else json_answer(404, _NOT_FOUND)

    def api_search(self, query: Mapping[str, str]) -> dict[str, Any]:
        """`GET /v4/catalog/search/`: one list per type; this catalog holds only tracks."""
        types = {name.strip() for name in query.get("type", "").split(",") if name.strip()}
        tracks: list[dict[str, Any]] = []
        if not types or "tracks" in types:
            found = self.catalog.search(query.get("q", ""), page=page_number(query.get("page")),
                                        per_page=page_size(query.get("per_page")))
            tracks = [v4_track(hit.entry, self.api_root) for hit in found.hits]
        # `order` lists the types that have results, as in the real answer's shape.
        return {"tracks": tracks, "artists": [], "releases": [], "labels": [], "charts": [],
                "playlists": [], "order": ["tracks"] if tracks else []}

    def api_track(self, track_id: str) -> dict[str, Any] | None:
        """`GET /v4/catalog/tracks/<id>/`: the v4 track, or None (404)."""
        entry = self.catalog.track(int(track_id)) if track_id.isdigit() else None
        return v4_track(entry, self.api_root) if entry else None

    def _api_track_list(self, query: Mapping[str, str]) -> Answer:
        listing = self.api_track_list(query)
        if listing is None:
            return json_answer(404, {"detail": "Invalid page."})
        return json_answer(200, listing)

    def api_track_list(self, query: Mapping[str, str]) -> dict[str, Any] | None:
        """`GET /v4/catalog/tracks/?isrc=…`: a paginated list; None for a page past the end.

        Like a django-filter list, an empty `isrc=` filters nothing.
        """
        isrc = query.get("isrc", "")
        entries = self.catalog.by_isrc(isrc) if isrc else self.catalog.entries()
        page, per_page = page_number(query.get("page")), page_size(query.get("per_page"))
        if page > 1 and (page - 1) * per_page >= len(entries):
            return None
        shown = entries[(page - 1) * per_page: page * per_page]
        return {
            "count": len(entries),
            "next": self._list_url(query, page + 1) if page * per_page < len(entries) else None,
            "previous": self._list_url(query, page - 1) if page > 1 else None,
            "page": f"{page}/{max(1, -(-len(entries) // per_page))}",
            "per_page": per_page,
            "results": [v4_track(entry, self.api_root) for entry in shown],
        }

    def _list_url(self, query: Mapping[str, str], page: int) -> str:
        return f"{self.api_root}/catalog/tracks/?{urlencode({**query, 'page': page})}"

    # website -------------------------------------------------------------------------------

    def _website(self, request: Request) -> Answer:
        if request.method != "GET":
            return html_answer(405, pages.simple_page(405, "Method Not Allowed"))
        query, path = request.query, request.path
        if _WEB_SEARCH_TRACKS.fullmatch(path):
            return html_answer(200, self.search_tracks_page(query))
        if _WEB_SEARCH_ALL.fullmatch(path):
            return html_answer(200, self.search_all_page(query))
        found = _WEB_TRACK.fullmatch(path)
        page = self.track_page(found.group(2)) if found else None
        return html_answer(200, page) if page else html_answer(404, pages.not_found_page())

    def search_tracks_page(self, query: Mapping[str, str]) -> str:
        """`/search/tracks?q=&page=&per-page=`: search-service tracks with paging fields."""
        text, page = query.get("q", ""), page_number(query.get("page"))
        per_page = page_size(query.get("per-page"))
        found = self.catalog.search(text, page=page, per_page=per_page)
        tracks = [search_service_track(hit.entry, hit.score) for hit in found.hits]
        return pages.search_tracks_page(text, page, per_page, tracks, found.total)

    def search_all_page(self, query: Mapping[str, str]) -> str:
        """`/search?q=`: the all-types page, 15 tracks."""
        text = query.get("q", "")
        found = self.catalog.search(text, page=1, per_page=SEARCH_ALL_PER_TYPE)
        return pages.search_all_page(text, [search_service_track(h.entry, h.score)
                                            for h in found.hits])

    def track_page(self, track_id: str) -> str | None:
        """`/track/<slug>/<id>`: the track page (any slug, as on the real site), or None."""
        entry: CatalogEntry | None = self.catalog.track(int(track_id)) if track_id.isdigit() \
            else None
        return pages.track_page(v4_track(entry, self.api_root)) if entry else None


def page_number(value: str | None) -> int:
    """A `page` parameter: numbered from 1; anything unreadable is page 1."""
    try:
        return min(MAX_PAGE, max(1, int(value or 1)))
    except ValueError:
        return 1


def page_size(value: str | None) -> int:
    """A `per_page` / `per-page` parameter: 25 by default, clamped to 1–100."""
    try:
        return min(MAX_PER_PAGE, max(1, int(value or DEFAULT_PER_PAGE)))
    except ValueError:
        return DEFAULT_PER_PAGE
