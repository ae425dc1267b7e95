"""The one interface both Beatport providers offer, and the pieces they share."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol, TypeVar

import requests

from cuepoint_tray.domain import BeatportTrack, ProviderResult, RequestReport
from cuepoint_tray.errors import BadResponseError
from cuepoint_tray.providers.http import HttpClient
from cuepoint_tray.providers.parse import was_cut

_Parsed = TypeVar("_Parsed")
# A track that is gone or restricted answers one of these: "no such track", not a failure.
ABSENT_TRACK_STATUSES = (403, 404)


class Provider(Protocol):
    """Where Beatport tracks come from: the API v4 or the website."""

    name: str  # "api" or "website"
    exact_isrc_lookup: bool  # track_by_isrc asks Beatport for the ISRC itself (not a search)

    def search(self, text: str, page: int = 1, per_page: int = 25) -> ProviderResult:
        """Tracks matching free text, best first, one page of them."""
        ...

    def track_by_id(self, track_id: int) -> ProviderResult:
        """The track with this Beatport id; no tracks when it is gone or restricted."""
        ...

    def track_by_isrc(self, isrc: str) -> ProviderResult:
        """The tracks carrying exactly this ISRC."""
        ...


def read_answer(http: HttpClient, response: requests.Response, report: RequestReport,
                parse: Callable[[requests.Response], _Parsed]) -> tuple[_Parsed, float]:
    """Parse an answer, timing it apart from the network; unreadable → BadResponseError.

    An unreadable answer is dropped from the cache, so that asking again asks Beatport.
    """
    started = time.perf_counter()
    try:
        parsed = parse(response)
    except ValueError as exc:  # UnexpectedShape, and json's JSONDecodeError, are ValueErrors
        http.forget(response)
        raise bad_response(str(exc), report) from exc
    except RecursionError as exc:  # JSON nested deeper than Python's stack: no real answer
        http.forget(response)
        raise bad_response("its JSON is nested too deep", report) from exc
    if was_cut(parsed):  # more tracks than any page holds: used, never kept in the cache
        http.forget(response)
    return parsed, (time.perf_counter() - started) * 1000.0


def asked_again_if_unreadable(ask: Callable[[], ProviderResult]) -> ProviderResult:
    """`ask()`, and once more when its answer could not be read.

    A garbled answer (cut short, a page without its data) is mostly a passing fault of the site
    or of a proxy, and the unreadable answer was dropped from the cache, so the second ask goes
    to Beatport. A change of Beatport's format fails twice and stays a BadResponseError. The
    report that comes out counts both asks.
    """
    try:
        return ask()
    except BadResponseError as first:
        try:
            found = ask()
        except BadResponseError as second:
            second.report = both_asks(first.report, second.report)
            raise
        return replace(found, report=both_asks(first.report, found.report) or found.report)


def both_asks(first: RequestReport | None, second: RequestReport | None) -> RequestReport | None:
    """One report for two asks of the same thing: the second's answer, both asks' costs."""
    if first is None or second is None:
        return second or first
    retry_afters = [s for s in (first.retry_after_s, second.retry_after_s) if s is not None]
    return replace(second, elapsed_ms=first.elapsed_ms + second.elapsed_ms,
                   attempts=first.attempts + second.attempts,
                   throttle_wait_ms=first.throttle_wait_ms + second.throttle_wait_ms,
                   retry_after_s=max(retry_afters) if retry_afters else None)


def bad_response(detail: str, report: RequestReport) -> BadResponseError:
    """The error for an answer that arrived but cannot be read."""
    return BadResponseError(
        f"Beatport's answer could not be read ({detail}): try again later; if it keeps "
        "happening, Beatport has changed its format and CuePoint needs an update.", report)


def no_tracks(report: RequestReport) -> ProviderResult:
    """The result of a lookup whose track is gone or restricted; the report's status says which."""
    return ProviderResult(tracks=(), report=report, total=0)


def unexpected_status(response: requests.Response, report: RequestReport) -> BadResponseError:
    """The error for an answer with a status the provider has no use for."""
    return bad_response(f"HTTP {response.status_code} from {report.url}", report)


def exact_isrc(tracks: tuple[BeatportTrack, ...], isrc: str) -> tuple[BeatportTrack, ...]:
    """Only the tracks whose ISRC is exactly `isrc` (ignoring case and spaces)."""
    wanted = normal_isrc(isrc)
    return tuple(track for track in tracks if normal_isrc(track.isrc) == wanted)


def normal_isrc(isrc: str) -> str:
    """An ISRC as Beatport stores it: upper case, no spaces or dashes."""
    return "".join(isrc.split()).replace("-", "").upper()
