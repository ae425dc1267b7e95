"""Beatport providers: one interface (`Provider`), the API v4 and website implementations, and
the one HTTP client they share."""

from __future__ import annotations

from typing import Protocol

from cuepoint_tray.providers.api_v4 import ApiV4Provider, SignInLost, TokensChanged
from cuepoint_tray.providers.http import ClientSettings, HttpClient, make_http_client
from cuepoint_tray.providers.provider import Provider
from cuepoint_tray.providers.website import WebsiteProvider

__all__ = [
    "ApiV4Provider",
    "BeatportSettings",
    "ClientSettings",
    "HttpClient",
    "Provider",
    "WebsiteProvider",
    "make_http_client",
    "make_provider",
]


class BeatportSettings(Protocol):
    """Where Beatport is and the DJ's sign-in: the app's settings have these, and so may any
    small object (this layer knows nothing of the app's settings file)."""

    @property
    def beatport_api_url(self) -> str: ...
    @property
    def beatport_web_url(self) -> str: ...
    @property
    def beatport_token(self) -> str: ...
    @property
    def beatport_refresh_token(self) -> str: ...
    @property
    def beatport_client_id(self) -> str: ...


def make_provider(settings: BeatportSettings, http: HttpClient, *,
                  on_tokens_changed: TokensChanged | None = None,
                  on_sign_in_lost: SignInLost | None = None) -> Provider:
    """API first: the API v4 provider when the DJ is signed in (or pasted a token); the
    website provider only without an account.

    `on_tokens_changed(access, refresh)` hears of tokens the API renewed, to keep them;
    `on_sign_in_lost(refresh)` of a refresh token Beatport refused (sign in again)."""
    if settings.beatport_token or settings.beatport_refresh_token:
        return ApiV4Provider(http, api_url=settings.beatport_api_url,
                             token=settings.beatport_token,
                             refresh_token=settings.beatport_refresh_token,
                             web_url=settings.beatport_web_url,
                             on_tokens_changed=on_tokens_changed,
                             client_id=settings.beatport_client_id,
                             on_sign_in_lost=on_sign_in_lost)
    return WebsiteProvider(http, web_url=settings.beatport_web_url)
