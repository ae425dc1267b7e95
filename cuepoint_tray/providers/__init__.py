"""Beatport providers: one interface (`Provider`), the API v4 and website implementations, and
the one HTTP client they share."""

from __future__ import annotations

from cuepoint_tray.providers.api_v4 import ApiV4Provider, SignInLost, TokensChanged
from cuepoint_tray.providers.http import HttpClient, make_http_client
from cuepoint_tray.providers.provider import Provider
from cuepoint_tray.providers.website import WebsiteProvider
from cuepoint_tray.settings import Settings

__all__ = [
    "ApiV4Provider",
    "HttpClient",
    "Provider",
    "WebsiteProvider",
    "make_http_client",
    "make_provider",
]


def make_provider(settings: Settings, http: HttpClient, *,
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
