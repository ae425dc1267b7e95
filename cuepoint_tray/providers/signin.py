"""Signing in to Beatport with the DJ's account, the way Beatport's interactive API docs do.

All under the API's base URL (`settings.beatport_api_url`, `…/v4`), see
`beatport-formats.md`, "Signing in":

1. the docs page (`/docs/`) names its scripts; one holds `API_CLIENT_ID: '<id>'` (public);
2. `POST /auth/login/` with the username and password → a session cookie;
3. `GET /auth/o/authorize/` with that cookie, redirects not followed → `Location: …?code=`;
4. `POST /auth/o/token/` swaps the code for an access token and a refresh token;
5. `GET /my/account/` with the token names the account.

The password lives in this module's arguments only: it is sent once, in step 2's body, and
never logged, kept or put into an error message. Each failure is a `SignInError` whose
message is one sentence in the DJ's words. This flow is not an official API, so every step
says plainly when Beatport answered something unexpected.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

from cuepoint_tray import __version__
from cuepoint_tray.errors import CuepointError
from cuepoint_tray.providers.http import what_failed

log = logging.getLogger(__name__)

USER_AGENT = f"CuePointTray/{__version__}"
_SCRIPT_SRC = re.compile(r"""<script[^>]*\bsrc\s*=\s*["']([^"']+\.js)(?:\?[^"']*)?["']""", re.I)
_CLIENT_ID = re.compile(r"""API_CLIENT_ID\s*:\s*["']([^"']+)["']""")
_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.S | re.I)
_TAGS = re.compile(r"<[^>]+>")
_MAX_SCRIPTS = 20
_DETAIL_CHARS = 120
TRY_LATER = "try again in a few minutes, or paste an API token in Settings"


class SignInError(CuepointError):
    """Signing in to Beatport failed; the message says which step and what to do."""


@dataclass(frozen=True)
class SignedIn:
    """What signing in yields: the account's name, the token pair and the client id used."""

    username: str
    access_token: str
    refresh_token: str
    client_id: str
    expires_in: float | None = None


def sign_in(api_url: str, username: str, password: str, *, client_id: str = "",
            timeout_s: float = 15.0) -> SignedIn:
    """Sign in with a Beatport account; `client_id` is the one kept from an earlier sign-in
    ("" finds it on the docs page). Raises SignInError in the DJ's words."""
    if not username.strip() or not password:
        raise SignInError("Enter both your Beatport username (or email) and your password.")
    flow = _Flow(api_url, timeout_s)
    try:
        return flow.run(username.strip(), password, client_id)
    finally:
        flow.close()


def find_client_id(api_url: str, *, timeout_s: float = 15.0) -> str:
    """The public client id Beatport's API docs page signs in with."""
    flow = _Flow(api_url, timeout_s)
    try:
        return flow.client_id()
    finally:
        flow.close()


class _Flow:
    """One sign-in: a cookie jar of its own, never the app's cached HTTP session."""

    def __init__(self, api_url: str, timeout_s: float):
        self.api = api_url.rstrip("/")
        self.redirect_uri = f"{self.api}/auth/o/post-message/"
        self.timeout = (min(timeout_s, 5.0), timeout_s)
        self.http = requests.Session()
        self.http.headers["User-Agent"] = USER_AGENT

    def close(self) -> None:
        self.http.close()

    def run(self, username: str, password: str, kept_client_id: str) -> SignedIn:
        client_id = kept_client_id or self.client_id()
        account = self.log_in(username, password)
        code = self.authorize(client_id, kept=bool(kept_client_id))
        if code is None:  # the kept client id is no longer Beatport's: find it again
            client_id = self.client_id()
            code = self.authorize(client_id, kept=False)
        assert code is not None
        tokens = self.token(code, client_id)
        name = self.account_name(tokens["access_token"]) or str(account.get("username") or
                                                                 username)
        expires_in = tokens.get("expires_in")
        return SignedIn(name, tokens["access_token"], tokens["refresh_token"], client_id,
                        float(expires_in) if isinstance(expires_in, int | float) else None)

    # --- 1. the client id ------------------------------------------------------------------

    def client_id(self) -> str:
        docs_url = f"{self.api}/docs/"
        page = self._send("GET", docs_url, "read Beatport's API docs page")
        if page.status_code != 200:
            raise SignInError(f"Beatport's API docs page, where signing in starts, answered "
                              f"HTTP {page.status_code}: {TRY_LATER}.")
        for source in _SCRIPT_SRC.findall(page.text)[:_MAX_SCRIPTS]:
            script = self._send("GET", urljoin(docs_url, source),
                                "read Beatport's API docs page")
            found = _CLIENT_ID.search(script.text) if script.status_code == 200 else None
            if found:
                log.info("found Beatport's API client id on its docs page")
                return found.group(1).strip()
        raise SignInError("Beatport's API docs page no longer shows the client id CuePoint "
                          "signs in with, so signing in cannot work until CuePoint is "
                          "updated: paste an API token in Settings instead.")

    # --- 2. log in ---------------------------------------------------------------------------

    def log_in(self, username: str, password: str) -> dict[str, Any]:
        answer = self._send("POST", f"{self.api}/auth/login/", "sign in",
                            json={"username": username, "password": password},
                            headers={"Accept": "application/json"})
        body = _json(answer)
        if answer.status_code == 200 and isinstance(body, dict) and "username" in body:
            return body
        if answer.status_code in (400, 401) and _says_wrong_credentials(body):
            raise SignInError("Beatport did not accept that username and password: check "
                              "them (they are the ones you use on beatport.com) and try again.")
        if answer.status_code == 429 or answer.status_code >= 500:
            raise SignInError(f"Beatport could not sign you in just now (HTTP "
                              f"{answer.status_code}): {TRY_LATER}.")
        raise SignInError(f"Beatport did not let you sign in ({_what_it_said(answer, body)}): "
                          "check your account on beatport.com (it may be locked or need "
                          "attention), then try again.")

    # --- 3. authorize ------------------------------------------------------------------------

    def authorize(self, client_id: str, *, kept: bool) -> str | None:
        """The code; None when a kept client id was refused (it is then looked up again)."""
        params = {"response_type": "code", "client_id": client_id,
                  "redirect_uri": self.redirect_uri}
        answer = self._send("GET", f"{self.api}/auth/o/authorize/", "authorize CuePoint",
                            params=params, allow_redirects=False)
        location = answer.headers.get("Location", "") if answer.is_redirect else ""
        codes = parse_qs(urlsplit(urljoin(self.api + "/", location)).query).get("code")
        if codes and codes[0]:
            return codes[0]
        if kept:
            log.info("Beatport refused the kept client id; looking it up again")
            return None
        raise SignInError(f"Beatport refused to let CuePoint use your account "
                          f"({_authorize_refusal(answer)}): {TRY_LATER}.")

    # --- 4. token ------------------------------------------------------------------------------

    def token(self, code: str, client_id: str) -> dict[str, Any]:
        form = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": self.redirect_uri, "client_id": client_id}
        answer = self._send("POST", f"{self.api}/auth/o/token/", "get a token", data=form,
                            headers={"Accept": "application/json"})
        body = _json(answer)
        if (answer.status_code == 200 and isinstance(body, dict)
                and isinstance(body.get("access_token"), str)
                and isinstance(body.get("refresh_token"), str)):
            return body
        raise SignInError(f"Beatport signed you in but would not give CuePoint a token "
                          f"({_what_it_said(answer, body)}): try signing in again; if it "
                          "keeps happening, paste an API token in Settings.")

    # --- 5. the account ------------------------------------------------------------------------

    def account_name(self, access_token: str) -> str:
        """The account's username ("" when Beatport does not say: the login's name is used)."""
        try:
            answer = self._send("GET", f"{self.api}/my/account/", "read your account",
                                headers={"Authorization": f"Bearer {access_token}",
                                         "Accept": "application/json"})
        except SignInError:
            return ""
        body = _json(answer)
        name = body.get("username") if answer.status_code == 200 and isinstance(body, dict) \
            else None
        return name.strip() if isinstance(name, str) else ""

    # --- sending -------------------------------------------------------------------------------

    def _send(self, method: str, url: str, doing: str, **request: Any) -> requests.Response:
        try:
            return self.http.request(method, url, timeout=self.timeout, **request)
        except requests.RequestException as exc:
            raise SignInError(f"Could not reach Beatport to {doing} "
                              f"({what_failed(exc, urlsplit(url).netloc, self.timeout[1])}): "
                              "check your internet connection and try again.") from None


def _json(answer: requests.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return None


def _says_wrong_credentials(body: Any) -> bool:
    """Django REST framework's "Unable to log in with provided credentials." (any field)."""
    text = " ".join(_messages(body)).lower()
    return "credential" in text or ("password" in text and "incorrect" in text)


def _messages(body: Any) -> list[str]:
    """The error texts of a DRF/OAuth error body: {"field": ["…"]}, {"detail": "…"}, …"""
    if isinstance(body, str):
        return [body]
    if isinstance(body, list):
        return [text for item in body for text in _messages(item)]
    if isinstance(body, dict):
        return [text for value in body.values() for text in _messages(value)]
    return []


def _what_it_said(answer: requests.Response, body: Any) -> str:
    """"HTTP 403: Account locked." — the status and Beatport's own words, cut short."""
    said = " ".join(_messages(body)) if body is not None else ""
    said = " ".join(said.split())
    if len(said) > _DETAIL_CHARS:
        said = said[:_DETAIL_CHARS - 1].rstrip() + "…"
    return f"HTTP {answer.status_code}" + (f": {said}" if said else "")


def _authorize_refusal(answer: requests.Response) -> str:
    """What the authorize step said: the error page's paragraph, or where it redirected."""
    if answer.is_redirect:
        return f"HTTP {answer.status_code}, no code in the redirect"
    found = _PARAGRAPH.search(answer.text or "")
    said = " ".join(_TAGS.sub(" ", found.group(1)).split()) if found else ""
    return f"HTTP {answer.status_code}" + (f": {said[:_DETAIL_CHARS]}" if said else "")
