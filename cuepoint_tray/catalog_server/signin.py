"""The sign-in side of API v4: the docs page and its scripts, login, authorize, token, account.

The paths and answers are those public clients meet on api.beatport.com (see
`beatport-formats.md`, "Signing in"): the docs page names its scripts, one of them holds
`API_CLIENT_ID`; login answers JSON and a `sessionid` cookie; authorize answers a 302 whose
`Location` carries `?code=`, or an HTML error page; the token endpoint speaks OAuth2.
"""

from __future__ import annotations

import html
import json
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl, urlencode

from cuepoint_tray.catalog_server.auth import (
    ACCOUNT,
    AUTHORIZE,
    DOCS,
    DOCS_SCRIPT,
    DOCS_SCRIPTS,
    LOGIN,
    POST_MESSAGE,
    SESSION_COOKIE,
    TOKEN,
    TokenBook,
    bearer_of,
)
from cuepoint_tray.catalog_server.site import Answer, Request, html_answer, json_answer

_BAD_CREDENTIALS = {"non_field_errors": ["Unable to log in with provided credentials."]}


class SignInSite:
    """Answers the sign-in paths over a TokenBook; plain methods, no HTTP."""

    def __init__(self, tokens: TokenBook, api_root: str):
        self.tokens = tokens
        self.api_root = api_root
        self.redirect_uri = f"{api_root}/auth/o/post-message/"

    def answer(self, request: Request) -> Answer | None:
        """The answer to a sign-in path, or None for any other path."""
        path, method = request.path, request.method
        routes = ((DOCS, "GET", self._docs), (DOCS_SCRIPT, "GET", self._script),
                  (LOGIN, "POST", self._login), (AUTHORIZE, "GET", self._authorize),
                  (TOKEN, "POST", self._token), (POST_MESSAGE, "GET", self._post_message),
                  (ACCOUNT, "GET", self._account))
        for pattern, allowed, handler in routes:
            if pattern.fullmatch(path):
                if method != allowed:
                    return json_answer(405, {"detail": f'Method "{method}" not allowed.'})
                return handler(request)
        return None

    def _docs(self, request: Request) -> Answer:
        scripts = "".join(f'<script src="/v4/static/docs/{name}" charset="UTF-8"></script>'
                          for name in DOCS_SCRIPTS)
        return html_answer(200, f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">\
<title>Beatport API v4 Docs</title><link rel="stylesheet" href="/v4/static/docs/swagger-ui.css">\
</head><body><div id="swagger-ui"></div>{scripts}</body></html>""")

    def _script(self, request: Request) -> Answer:
        found = DOCS_SCRIPT.fullmatch(request.path)
        name = found.group(1) if found else ""
        if name not in DOCS_SCRIPTS:
            return html_answer(404, "<h1>Not Found</h1>")
        body = f"/* {name}: the docs page's bundle */\nwindow.ui = window.ui || {{}};\n"
        if name == "docs-init.js" and self.tokens.client_id:
            body += ("window.onload = function() {\n  const ui = SwaggerUIBundle({\n"
                     f"    url: '{self.api_root}/docs/schema/',\n    dom_id: '#swagger-ui',\n"
                     "  });\n  ui.initOAuth({\n"
                     f"    API_CLIENT_ID: '{self.tokens.client_id}',\n"
                     "    usePkceWithAuthorizationCodeGrant: false,\n  });\n};\n")
        return Answer(200, body.encode(), "application/javascript; charset=utf-8")

    def _login(self, request: Request) -> Answer:
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return json_answer(400, {"detail": "JSON parse error."})
        if not isinstance(body, dict):
            return json_answer(400, {"detail": "Invalid data. Expected a dictionary."})
        missing = {field: ["This field is required."] for field in ("username", "password")
                   if not body.get(field)}
        if missing:
            return json_answer(400, missing)
        session = self.tokens.log_in(body["username"], body["password"])
        if session is None:
            return json_answer(400, _BAD_CREDENTIALS)
        username = str(body["username"])
        return json_answer(
            200, _account(username),
            ("Set-Cookie", f"{SESSION_COOKIE}={session}; HttpOnly; Path=/; SameSite=Lax"),
            ("Set-Cookie", "csrftoken=" + session[::-1] + "; Path=/; SameSite=Lax"))

    def _authorize(self, request: Request) -> Answer:
        query = request.query
        username = self.tokens.session_user(_cookie(request, SESSION_COOKIE))
        if username is None:  # not logged in: Django sends the browser to its login page
            target = "/v4/auth/o/authorize/?" + urlencode(query)
            return Answer(302, b"", "text/html; charset=utf-8",
                          (("Location", "/v4/auth/login/?" + urlencode({"next": target})),))
        if query.get("client_id") != self.tokens.client_id:
            return _oauth_error_page("Invalid client_id parameter value.")
        if query.get("redirect_uri") != self.redirect_uri:
            return _oauth_error_page("Mismatching redirect URI.")
        if query.get("response_type") != "code":
            return _oauth_error_page("Unsupported response type.")
        code = self.tokens.authorization_code(username, self.redirect_uri)
        return Answer(302, b"", "text/html; charset=utf-8",
                      (("Location", f"{self.redirect_uri}?{urlencode({'code': code})}"),))

    def _token(self, request: Request) -> Answer:
        # beets sends the fields as query parameters, browsers as a form body: both work.
        form = dict(request.query)
        form.update(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        status, payload = self.tokens.grant(form)
        return json_answer(status, payload, ("Cache-Control", "no-store"),
                           ("Pragma", "no-cache"))

    def _post_message(self, request: Request) -> Answer:
        return html_answer(200, "<!DOCTYPE html><html><body><script>window.opener && "
                                "window.opener.postMessage(location.search, '*');</script>"
                                "</body></html>")

    def _account(self, request: Request) -> Answer:
        grant = self.tokens.owner(bearer_of(request.headers.get("authorization")))
        if grant is None and not self.tokens.accepts(
                bearer_of(request.headers.get("authorization"))):
            return json_answer(401, {"detail": "Authentication credentials were not provided."},
                               ("WWW-Authenticate", 'Bearer realm="api"'))
        username = grant.username if grant is not None and grant.username else "local-dj"
        return json_answer(200, _account(username))


def _account(username: str) -> dict[str, object]:
    return {"id": 1000 + sum(map(ord, username)), "username": username,
            "email": f"{username}@example.com", "first_name": "", "last_name": "",
            "country": "NL", "registration_date": "2019-03-02"}


def _cookie(request: Request, name: str) -> str | None:
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(request.headers.get("cookie", ""))
    except CookieError:
        return None
    morsel = cookies.get(name)
    return morsel.value if morsel is not None else None


def _oauth_error_page(description: str) -> Answer:
    """django-oauth-toolkit's error page: HTML, 400, the error and its description."""
    return html_answer(400, f"""<!DOCTYPE html><html><head><title>Beatport API</title></head>\
<body><div class="block-center"><h2>Error: invalid_request</h2>\
<p>{html.escape(description)}</p></div></body></html>""")
