"""Beatport's API v4: search, one track, exact ISRC; a bearer token kept fresh."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, cast

import requests

from cuepoint_tray.domain import BeatportTrack, ProviderResult, RequestKind, RequestReport
from cuepoint_tray.errors import AuthError
from cuepoint_tray.providers.http import HttpClient
from cuepoint_tray.providers.parse import (
    BEATPORT_WEBSITE,
    json_object,
    one_track_from_v4,
    tracks_from_v4,
)
from cuepoint_tray.providers.payloads import TokenAnswer, V4Track
from cuepoint_tray.providers.provider import (
    ABSENT_TRACK_STATUSES,
    asked_again_if_unreadable,
    exact_isrc,
    no_tracks,
    normal_isrc,
    read_answer,
    unexpected_status,
)

_JSON = {"Accept": "application/json"}
# Renew this long before the token expires (at most; half its life for short-lived ones), so a
# request waiting for its throttle slot or in flight never carries a token that lapses on the
# way: with 5 s tokens at 4 requests/s, a tenth of the life (0.5 s) let 25 of 382 requests
# answer 401 in a 300-track session (scripts/bench_signin.py); half the life let none.
_RENEW_MARGIN_S = 60.0
TokensChanged = Callable[[str, str], None]  # (access token, refresh token)
SignInLost = Callable[[str], None]  # (the refresh token Beatport refused)
SIGN_IN_AGAIN = ("Beatport would not renew your sign-in (it has expired, or was used "
                 "elsewhere): sign in to Beatport again (Settings, or `cuepoint login`), then "
                 "resume the session.")


class BearerToken:
    """The API's access token, renewed with the refresh token before it expires.

    Thread-safe: one thread renews while the others wait for the new token, and a 401 seen by
    several threads at once renews the token once.
    """

    def __init__(self, http: HttpClient, token_url: str, access_token: str,
                 refresh_token: str = "", on_change: TokensChanged | None = None, *,
                 client_id: str = "", on_refused: SignInLost | None = None):
        self._http = http
        self._token_url = token_url
        self._access = access_token
        self._refresh = refresh_token
        self._client_id = client_id
        self._on_change = on_change
        self._on_refused = on_refused
        self.renewals = 0
        self._renew_at: float | None = None  # unknown until the first renewal says expires_in
        self._lock = threading.Lock()

    @property
    def can_renew(self) -> bool:
        return bool(self._refresh)

    def current(self, kind: RequestKind) -> str:
        """The token to send now, renewed first when it is about to expire."""
        with self._lock:
            lapsed = self._renew_at is not None and time.monotonic() >= self._renew_at
            if self._refresh and (lapsed or not self._access):
                self._renew(kind)
            return self._access

    def renew_after_refusal(self, refused: str, kind: RequestKind) -> str:
        """A fresh token after `refused` was answered 401 (renewed once, whoever asks first)."""
        with self._lock:
            if self._access == refused:
                self._renew(kind)
            return self._access

    def _renew(self, kind: RequestKind) -> None:
        # Refresh tokens rotate: the one sent now stops working once Beatport answers.
        form = {"grant_type": "refresh_token", "refresh_token": self._refresh}
        if self._client_id:
            form["client_id"] = self._client_id
        try:
            response, report = self._http.post(self._token_url, kind=kind, data=form,
                                               headers=_JSON)
        except AuthError as exc:
            raise self._refused(exc.report) from exc
        answer = _token_answer(response)
        if answer is None:
            raise self._refused(report)
        self.renewals += 1
        self._access = answer["access_token"]
        self._refresh = answer.get("refresh_token") or self._refresh
        expires_in = answer.get("expires_in")
        if isinstance(expires_in, int | float) and expires_in > 0:
            self._renew_at = time.monotonic() + expires_in - min(_RENEW_MARGIN_S, expires_in / 2)
        if self._on_change:
            self._on_change(self._access, self._refresh)

    def _refused(self, report: RequestReport | None) -> AuthError:
        """The sign-in is over: the refresh token was refused (expired, or already used)."""
        if self._on_refused:
            self._on_refused(self._refresh)
        return AuthError(SIGN_IN_AGAIN, report)


def _token_answer(response: requests.Response) -> TokenAnswer | None:
    if response.status_code != 200:
        return None
    try:
        answer = response.json()
    except ValueError:
        return None
    if not isinstance(answer, dict) or not isinstance(answer.get("access_token"), str):
        return None
    return cast(TokenAnswer, answer)




class ApiV4Provider:
    """Tracks from Beatport's API v4 (`settings.beatport_api_url`), with a bearer token."""

    name = "api"
    exact_isrc_lookup = True

    def __init__(self, http: HttpClient, *, api_url: str, token: str, refresh_token: str = "",
                 web_url: str = BEATPORT_WEBSITE, on_tokens_changed: TokensChanged | None = None,
                 client_id: str = "", on_sign_in_lost: SignInLost | None = None):
        self._http = http
        self._api_url = api_url.rstrip("/")
        self._web_url = web_url
        self._token = BearerToken(http, f"{self._api_url}/auth/o/token/", token, refresh_token,
                                  on_tokens_changed, client_id=client_id,
                                  on_refused=on_sign_in_lost)

    @property
    def renewals(self) -> int:
        """How many times the access token was renewed so far."""
        return self._token.renewals

    def search(self, text: str, page: int = 1, per_page: int = 25) -> ProviderResult:
        """Tracks matching `text` (`/catalog/search/?type=tracks`)."""
        return asked_again_if_unreadable(lambda: self._search(text, page, per_page))

    def track_by_id(self, track_id: int) -> ProviderResult:
        """One track (`/catalog/tracks/<id>/`); none when it is gone (404) or restricted (403)."""
        return asked_again_if_unreadable(lambda: self._track(track_id))

    def track_by_isrc(self, isrc: str) -> ProviderResult:
        """The tracks with exactly this ISRC (`/catalog/tracks/?isrc=`)."""
        return asked_again_if_unreadable(lambda: self._isrc(isrc))

    def _search(self, text: str, page: int, per_page: int) -> ProviderResult:
        params = {"q": text, "type": "tracks", "page": page, "per_page": per_page}
        response, report = self._get("/catalog/search/", "search", params)
        self._require_ok(response, report)
        tracks, parse_ms = read_answer(self._http, response, report, self._search_tracks)
        return ProviderResult(tracks=tracks, report=report, parse_ms=parse_ms)

    def _track(self, track_id: int) -> ProviderResult:
        response, report = self._get(f"/catalog/tracks/{int(track_id)}/", "track")
        if response.status_code in ABSENT_TRACK_STATUSES:
            return no_tracks(report)
        self._require_ok(response, report)
        track, parse_ms = read_answer(self._http, response, report, self._one_track)
        return ProviderResult(tracks=(track,), report=report, parse_ms=parse_ms, total=1)

    def _isrc(self, isrc: str) -> ProviderResult:
        response, report = self._get("/catalog/tracks/", "isrc", {"isrc": normal_isrc(isrc)})
        self._require_ok(response, report)
        tracks, parse_ms = read_answer(self._http, response, report, self._page_tracks)
        matching = exact_isrc(tracks, isrc)
        return ProviderResult(tracks=matching, report=report, parse_ms=parse_ms,
                              total=len(matching))

    # --- requests ------------------------------------------------------------------------------

    def _get(self, path: str, kind: RequestKind,
             params: Mapping[str, Any] | None = None) -> tuple[requests.Response, RequestReport]:
        """GET with the bearer token; on a 401, renew the token once and ask again."""
        url = self._api_url + path
        token = self._token.current(kind)
        try:
            return self._http.get(url, kind=kind, params=params, headers=_bearer(token))
        except AuthError:
            if not self._token.can_renew:
                raise
        token = self._token.renew_after_refusal(token, kind)
        return self._http.get(url, kind=kind, params=params, headers=_bearer(token))

    @staticmethod
    def _require_ok(response: requests.Response, report: RequestReport) -> None:
        if response.status_code == 403:
            raise AuthError("Beatport's API refused access (HTTP 403): the token may not allow "
                            "this; sign in to Beatport again (Settings, or `cuepoint login`), "
                            "then resume the session.", report)
        if response.status_code != 200:
            raise unexpected_status(response, report)

    # --- answers --------------------------------------------------------------------------------

    def _search_tracks(self, response: requests.Response) -> tuple[BeatportTrack, ...]:
        answer = json_object(response.json())
        tracks = answer.get("tracks")
        if isinstance(tracks, dict):  # tolerate a paginated {"data"/"results": [...]} wrapper
            tracks = tracks.get("data", tracks.get("results"))
        if tracks is None and "results" in answer:
            tracks = answer["results"]
        return tracks_from_v4(tracks, web_url=self._web_url)

    def _one_track(self, response: requests.Response) -> BeatportTrack:
        return one_track_from_v4(cast(V4Track, json_object(response.json())),
                                 web_url=self._web_url)

    def _page_tracks(self, response: requests.Response) -> tuple[BeatportTrack, ...]:
        return tracks_from_v4(json_object(response.json()).get("results"), web_url=self._web_url)


def _bearer(token: str) -> dict[str, str]:
    return {**_JSON, "Authorization": f"Bearer {token}"}
