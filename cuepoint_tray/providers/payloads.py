"""The raw shapes Beatport answers with, written down as TypedDicts.

Sources: `../shared/beatport-formats.md` and the real captures in
`../shared/fixtures/beatport-real/` (website search page, track pages, API v4 search shape).
Every key is optional (`total=False`): real answers leave fields out or set them to null, and
the parsers in `parse.py` read them defensively. Only the fields CuePoint reads are listed.
"""

from __future__ import annotations

from typing import TypedDict

# --- API v4 track object (API answers and website track pages) --------------------------------


class V4Named(TypedDict, total=False):
    """An artist, remixer, genre, sub-genre or label: `{id, name, slug}`."""

    id: int
    name: str
    slug: str


class V4Key(TypedDict, total=False):
    name: str  # "F Major", "Eb Minor" (flats, but F#)
    camelot_number: int
    camelot_letter: str  # "A" minor, "B" major
    letter: str
    is_sharp: bool
    is_flat: bool


class V4Release(TypedDict, total=False):
    id: int
    name: str
    slug: str
    label: V4Named


class V4Track(TypedDict, total=False):
    id: int
    name: str  # the title without the mix
    mix_name: str
    slug: str
    artists: list[V4Named]
    remixers: list[V4Named]
    bpm: int
    key: V4Key
    genre: V4Named
    sub_genre: V4Named | None
    release: V4Release
    label: V4Named  # only in the catalog files under eval/; Beatport puts it in release
    isrc: str
    length: str  # "4:50"
    length_ms: int
    new_release_date: str  # "YYYY-MM-DD"
    publish_date: str
    catalog_number: str
    url: str  # on the API, the API's own URL of the track, not a page a DJ can open


class V4SearchAnswer(TypedDict, total=False):
    """`GET /v4/catalog/search/?type=tracks`: one list per type (`order` says which came first)."""

    order: list[str]
    tracks: list[V4Track]


class V4TrackPage(TypedDict, total=False):
    """`GET /v4/catalog/tracks/?isrc=`: a paginated list."""

    count: int
    next: str | None
    previous: str | None
    page: str
    per_page: int
    results: list[V4Track]


class TokenAnswer(TypedDict, total=False):
    """`POST /v4/auth/o/token/` with `grant_type=refresh_token`."""

    access_token: str
    refresh_token: str
    expires_in: int  # seconds
    token_type: str
    scope: str


# --- Search-service track object (website search pages) ---------------------------------------


class SearchArtist(TypedDict, total=False):
    artist_id: int
    artist_name: str
    artist_type_name: str  # "Artist" or "Remixer": remixers are mixed into artists[]


class SearchLabel(TypedDict, total=False):
    label_id: int
    label_name: str


class SearchGenre(TypedDict, total=False):
    genre_id: int
    genre_name: str


class SearchRelease(TypedDict, total=False):
    release_id: int
    release_name: str
    release_image_uri: str


class SearchTrack(TypedDict, total=False):
    track_id: int
    track_name: str  # real data sometimes carries the remix in here, mix_name "Original Mix"
    mix_name: str
    artists: list[SearchArtist]
    bpm: int
    key_name: str  # "A# Minor": sharps, unlike the API
    key_id: int
    label: SearchLabel
    genre: list[SearchGenre]
    release: SearchRelease
    release_date: str  # "YYYY-MM-DDT00:00:00"
    publish_date: str
    length: int  # milliseconds
    isrc: str
    track_number: int
    catalog_number: str
    score: float


class SearchResults(TypedDict, total=False):
    """`.data` of `/search/tracks`, or `.tracks` of the all-types `/search`."""

    data: list[SearchTrack]
    count: int


# --- Website pages: the JSON of <script id="__NEXT_DATA__"> ------------------------------------


class QueryState(TypedDict, total=False):
    data: object  # SearchResults, {"tracks": SearchResults, ...} or a V4Track on track pages


class DehydratedQuery(TypedDict, total=False):
    queryKey: list[object]
    state: QueryState


class DehydratedState(TypedDict, total=False):
    queries: list[DehydratedQuery]


class PageProps(TypedDict, total=False):
    track: V4Track  # track pages
    dehydratedState: DehydratedState


class NextProps(TypedDict, total=False):
    pageProps: PageProps


class NextData(TypedDict, total=False):
    """The whole `__NEXT_DATA__`; Next's `/_next/data/` JSON has `pageProps` at the top instead."""

    props: NextProps
    pageProps: PageProps
    page: str
