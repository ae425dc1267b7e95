"""The website's HTML pages: Next.js documents whose data sits in `__NEXT_DATA__`.

Layouts follow the real captures in `fixtures/beatport-real/`: search data at
`props.pageProps.dehydratedState.queries[0].state.data`, a track page's v4 track at
`props.pageProps.track` and again in its dehydrated query.
"""

from __future__ import annotations

import html
import json
import time
from typing import Any
from urllib.parse import urlencode

Json = dict[str, Any]

BUILD_ID = "cuepoint-local-catalog"
_LOCALES = ["en", "de", "fr", "es", "it", "ja", "pt", "nl"]
# What Next.js escapes when it writes JSON into a script element, so that no string in the
# data ("</script>", U+2028) can end the element or break the page's JavaScript.
_SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                   "\u2028": "\\u2028", "\u2029": "\\u2029"}


def search_tracks_page(query: str, page: int, per_page: int, tracks: list[Json],
                       count: int) -> str:
    """`/search/tracks?q=…`: one page of search-service tracks with its paging fields."""
    key = "search-tracks-" + urlencode({"q": query, "page": page, "per_page": per_page,
                                         "is_approved": "true", "preorder": "true"})
    data = {"data": tracks, "count": count, "page": page, "per_page": per_page}
    props = {"dehydratedState": _dehydrated(key, data), "query": query}
    next_data = _next_data("/search/tracks", {"q": query, "page": str(page),
                                              "per-page": str(per_page)}, props)
    return _document(f"{query} :: Beatport", next_data)


def search_all_page(query: str, tracks: list[Json]) -> str:
    """`/search?q=…`: every type, 15 of each; this catalog holds only tracks."""
    key = "search-all-" + urlencode({"q": query, "count": 15, "is_approved": "true",
                                      "preorder": "true"})
    data = {kind: {"data": tracks if kind == "tracks" else []}
            for kind in ("tracks", "artists", "charts", "labels", "releases")}
    props = {"dehydratedState": _dehydrated(key, data), "query": query}
    return _document(f"{query} :: Beatport", _next_data("/search", {"q": query}, props))


def track_page(track: Json) -> str:
    """`/track/<slug>/<id>`: the v4 track at `pageProps.track` and in its dehydrated query."""
    props = {"dehydratedState": _dehydrated(f"track-{track['id']}", track), "track": track}
    query = {"description": track.get("slug") or "", "id": str(track["id"])}
    artists = ", ".join(person["name"] for person in track["artists"])
    title = f"{track['name']} ({track.get('mix_name') or 'Original Mix'}) by {artists}"
    return _document(f"{title} :: Beatport", _next_data("/track/[description]/[id]", query, props))


def todays_search_page(query: str) -> str:
    """A search page as beatport.com serves it since May 2026: the App Router's HTML and its
    streamed React payload (`self.__next_f`), no `__NEXT_DATA__`, no track a program can read."""
    title = html.escape(f"{query} :: Beatport" if query else "Search :: Beatport")
    chunks = [
        '[0]',
        '[1,"1:HL[\\"/_next/static/css/app.css\\",\\"style\\"]\\n"]',
        '[1,"2:I[\\"/_next/static/chunks/app/search/page.js\\",[],\\"SearchPage\\"]\\n"]',
        '[1,"0:[\\"$\\",\\"$L2\\",null,{\\"searchParams\\":\\"$undefined\\"}]\\n"]',
    ]
    pushes = "".join(f"<script>(self.__next_f=self.__next_f||[]).push({chunk})</script>"
                     for chunk in chunks)
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"/>\
<meta name="viewport" content="width=device-width, initial-scale=1"/>\
<link rel="stylesheet" href="/_next/static/css/app.css" data-precedence="next"/>\
<script src="/_next/static/chunks/webpack.js" async=""></script><title>{title}</title></head>\
<body><div id="__next"><main><div class="search-results" data-loading="true"></div></main></div>\
{pushes}</body></html>"""


def not_found_page() -> str:
    """The site's 404 page: Next.js' error page, with no data."""
    next_data = _next_data("/_error", {}, {"statusCode": 404})
    return _document("404: This page could not be found :: Beatport", next_data)


def challenge_page(path: str, ray: str) -> str:
    """Cloudflare's managed-challenge interstitial, as scripted clients meet it since 2026."""
    escaped_path = _script_safe(json.dumps(path)[1:-1]).replace("/", "\\/")
    return f"""<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>\
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">\
<meta http-equiv="X-UA-Compatible" content="IE=Edge">\
<meta name="robots" content="noindex,nofollow">\
<meta name="viewport" content="width=device-width,initial-scale=1"></head><body>\
<div class="main-wrapper" role="main"><div class="main-content">\
<noscript><div class="h2"><span id="challenge-error-text">Enable JavaScript and cookies to continue\
</span></div></noscript></div></div><script>(function(){{window._cf_chl_opt={{cvId: '3',\
cZone: "www.beatport.com",cType: 'managed',cRay: '{ray}',cH: '{ray[::-1]}',\
cUPMDTk: "{escaped_path}",cFPWv: 'b',cITimeS: '{int(time.time())}'}};\
var cpo = document.createElement('script');\
cpo.src = '/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1?ray={ray}';\
window._cf_chl_opt.cOgUHash = location.hash === '' && location.href.indexOf('#') !== -1 \
? '#' : location.hash;\
document.getElementsByTagName('head')[0].appendChild(cpo);}}());</script></body></html>"""


def simple_page(status: int, reason: str) -> str:
    """A bare error page as a gateway or proxy writes it (429, 5xx)."""
    return (f"<html>\r\n<head><title>{status} {html.escape(reason)}</title></head>\r\n<body>\r\n"
            f"<center><h1>{status} {html.escape(reason)}</h1></center>\r\n</body>\r\n</html>\r\n")


def _dehydrated(key: str, data: object) -> Json:
    return {"mutations": [], "queries": [{
        "state": {
            "data": data, "dataUpdateCount": 1, "dataUpdatedAt": int(time.time() * 1000),
            "error": None, "errorUpdateCount": 0, "errorUpdatedAt": 0, "fetchFailureCount": 0,
            "fetchFailureReason": None, "fetchMeta": None, "isInvalidated": False,
            "status": "success", "fetchStatus": "idle",
        },
        "queryKey": [key],
        "queryHash": json.dumps([key], separators=(",", ":")),
    }]}


def _next_data(page: str, query: dict[str, str], page_props: Json) -> Json:
    return {
        "props": {"pageProps": page_props, "__N_SSP": True},
        "page": page, "query": query, "buildId": BUILD_ID, "isFallback": False, "gssp": True,
        "customServer": True, "appGip": True, "locale": "en", "locales": _LOCALES,
        "defaultLocale": "en", "scriptLoader": [],
    }


def _document(title: str, next_data: Json) -> str:
    payload = _script_safe(json.dumps(next_data, ensure_ascii=False, separators=(",", ":")))
    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width" />
    <title>{html.escape(title)}</title>
    <meta name="next-head-count" content="3" />
  </head>
  <body>
    <div id="__next"></div>
    <script id="__NEXT_DATA__" type="application/json">{payload}</script>
  </body>
</html>
"""


def _script_safe(json_text: str) -> str:
    for char, escape in _SCRIPT_ESCAPES.items():
        json_text = json_text.replace(char, escape)
    return json_text
