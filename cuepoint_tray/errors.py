"""Errors the DJ sees: each carries a one-line message that says what went wrong and what to do."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cuepoint_tray.domain import RequestReport


class CuepointError(Exception):
    """An error shown to the DJ as one line, without a traceback."""


class RekordboxError(CuepointError):
    """The Rekordbox XML export cannot be used as it is."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        self.path = path
        self.line = line
        where = ""
        if path and line:
            where = f" ({path}, line {line})"
        elif path:
            where = f" ({path})"
        super().__init__(message + where)


class SettingsError(CuepointError):
    """The settings file or a setting's value is wrong. A refused value names its `setting`
    and carries the `sentence` every path (CLI, dashboard, settings file) says about it."""

    def __init__(self, message: str, *, setting: str = "", sentence: str = ""):
        super().__init__(message)
        self.setting = setting
        self.sentence = sentence or message


class ProviderError(CuepointError):
    """Beatport could not be asked, or its answer could not be read."""

    def __init__(self, message: str, report: RequestReport | None = None):
        super().__init__(message)
        self.report = report


class NetworkError(ProviderError):
    """No answer: connection refused or reset, DNS failure, or a timeout."""


class RateLimitedError(ProviderError):
    """Beatport kept answering 429 Too Many Requests."""


class ServerError(ProviderError):
    """Beatport kept answering with a server error (5xx)."""


class AuthError(ProviderError):
    """The API token is missing, wrong or expired."""


class BlockedError(ProviderError):
    """Beatport's website cannot be used by a program: a Cloudflare challenge instead of the
    page, or a page with no data to read (today's search pages). Asking again cannot help:
    the session pauses until the DJ signs in."""


class BadResponseError(ProviderError):
    """An answer arrived but did not have the shape Beatport's pages and API have."""


class NotAnsweringError(NetworkError):
    """Beatport failed so many times in a row that CuePoint stopped asking for a while.

    Raised without touching the network while a host's circuit breaker is open.
    """

    def __init__(self, failures: int, retry_in_s: float, report: RequestReport | None = None):
        super().__init__(f"Beatport is not answering ({failures} failures in a row); "
                         f"trying again in {max(1, math.ceil(retry_in_s))} s", report)
        self.failures = failures
        self.retry_in_s = retry_in_s
