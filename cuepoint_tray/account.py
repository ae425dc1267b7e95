"""The DJ's Beatport account: signing in and out, and what the app keeps of it.

Kept after signing in: the account's name and the public client id (plain settings), and the
token pair (secrets: the system keyring, else the private settings file) — exactly where a
pasted `beatport_token` goes. The password is passed through and dropped: it is never saved,
logged or shown. The command line, the dashboard and the session runner all come here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

from cuepoint_tray.errors import CuepointError
from cuepoint_tray.providers.signin import SignInError, sign_in
from cuepoint_tray.settings import Settings, load_settings, save_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AccountState:
    """What the settings say about Beatport access, without any secret in it."""

    signed_in: bool  # a token pair from signing in is kept
    account: str  # the account's name ("" when unknown)
    pasted_token: bool  # a token is set by hand (no account name)

    @property
    def has_api_access(self) -> bool:
        return self.signed_in or self.pasted_token


def account_state(settings: Settings) -> AccountState:
    """Signed in, using a pasted token, or neither (the website is used)."""
    has_token = bool(settings.beatport_token or settings.beatport_refresh_token)
    signed_in = has_token and bool(settings.beatport_account)
    return AccountState(signed_in=signed_in,
                        account=settings.beatport_account if signed_in else "",
                        pasted_token=has_token and not signed_in)


def log_in(settings_file: Path, settings: Settings, username: str, password: str) -> str:
    """Sign in to Beatport at `settings.beatport_api_url` and keep the tokens; the account's
    name comes back. Raises SignInError (one sentence) when Beatport says no."""
    signed = sign_in(settings.beatport_api_url, username, password,
                     client_id=settings.beatport_client_id,
                     timeout_s=settings.request_timeout_s)
    stored = load_settings(settings_file)
    save_settings(replace(stored, beatport_token=signed.access_token,
                          beatport_refresh_token=signed.refresh_token,
                          beatport_account=signed.username,
                          beatport_client_id=signed.client_id), settings_file)
    log.info("signed in to Beatport as %s", signed.username)
    return signed.username


def log_out(settings_file: Path) -> str:
    """Forget the account and its tokens (the client id stays: it is public). Returns the
    name of the account that was signed in ("" when none was)."""
    stored = load_settings(settings_file)
    save_settings(replace(stored, beatport_token="", beatport_refresh_token="",
                          beatport_account=""), settings_file)
    log.info("signed out of Beatport")
    return stored.beatport_account


def keep_renewed_tokens(settings_file: Path, access: str, refresh: str) -> None:
    """Save a pair the API renewed, so the next session starts with a valid one; a failure
    only costs a renewal next time (refresh tokens rotate, so the new one must be kept)."""
    try:
        stored = load_settings(settings_file)
        save_settings(replace(stored, beatport_token=access, beatport_refresh_token=refresh),
                      settings_file)
    except (CuepointError, OSError) as exc:
        log.warning("could not save the renewed Beatport tokens: %s", type(exc).__name__)


def forget_refused_sign_in(settings_file: Path, refused_refresh: str) -> None:
    """Beatport refused the refresh token: the DJ is signed out, unless a newer sign-in has
    already replaced it."""
    try:
        stored = load_settings(settings_file)
        if stored.beatport_refresh_token != refused_refresh:
            return
        save_settings(replace(stored, beatport_token="", beatport_refresh_token="",
                              beatport_account=""), settings_file)
        log.info("Beatport refused the refresh token: signed out")
    except (CuepointError, OSError) as exc:
        log.warning("could not forget the refused Beatport sign-in: %s", type(exc).__name__)


__all__ = ["AccountState", "SignInError", "account_state", "forget_refused_sign_in",
           "keep_renewed_tokens", "log_in", "log_out"]
