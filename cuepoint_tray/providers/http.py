"""The one HTTP session CuePoint talks to Beatport through.

requests + requests-cache (SQLite, WAL) + tenacity, with (connect, read) timeouts, a per-host
throttle and `Retry-After`. Transport failures leave this module as the typed errors of
`cuepoint_tray.errors`, and every call tells its caller what it cost in a `RequestReport`.

Layering, from the caller down:

    HttpClient.get ─ tenacity (retries 429, 5xx, timeouts, dropped connections)
      └ CachedSession.send ─ answers from the cache without touching the network
          └ _ThrottledAdapter.send ─ reached on cache misses only: asks the host's circuit
                                     breaker, then waits for a throttle slot

Because the throttle sits in the transport adapter, a cache hit neither waits for nor uses up
a slot, and every retry attempt is throttled like a first try. Likewise the circuit breaker
(`breaker.py`) only guards real sends: while it is open, cached answers still come, and a
retry in progress stops at once with `NotAnsweringError`.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
import requests_cache
from requests.adapters import HTTPAdapter
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)
from tenacity.wait import wait_base

from cuepoint_tray import __version__
from cuepoint_tray.domain import RequestKind, RequestReport
from cuepoint_tray.errors import (
    AuthError,
    BadResponseError,
    BlockedError,
    NetworkError,
    NotAnsweringError,
    ProviderError,
    RateLimitedError,
    ServerError,
)
from cuepoint_tray.providers import answer_cache
from cuepoint_tray.providers.breaker import CircuitBreaker
from cuepoint_tray.waits import APP_WAITS, Waits

_log = logging.getLogger(__name__)
USER_AGENT = f"CuePointTray/{__version__}"
SIGN_IN_HINT = "sign in to Beatport (Settings, or `cuepoint login`)"
BLOCKED_MESSAGE = ("Beatport's website blocked automated access with a Cloudflare challenge: "
                   + SIGN_IN_HINT)
RETRY_AFTER_CAP_S = 60.0
# A connection is set up in well under this on any working network; a longer wait only delays
# the retry. Reading the answer gets the full request_timeout_s.
_CONNECT_TIMEOUT_CAP_S = 5.0
# Auth headers and parameters never take part in a cache key, so a refreshed token still hits.
_NOT_IN_CACHE_KEY = ("Authorization", "Proxy-Authorization", "access_token", "api_key")
_CHALLENGE_MARKERS = ("<title>just a moment", "challenge-platform", "cf_chl_opt",
                      "cf-browser-verification", "attention required! | cloudflare")
_TRANSPORT_FAILURES = (requests.ConnectionError, requests.Timeout,
                       requests.exceptions.ChunkedEncodingError)
# Bounds on one answer (see `_read_bounded`). Beatport's biggest real answer, a 100-track
# search page, is about 1 MB (the 25-track page 225 KB): 5 MB leaves room and still stops an
# answer that would cost hundreds of MB of memory and cache.
MAX_ANSWER_BYTES = 5_000_000
# Beatport redirects once at most (http -> https, a slug); a loop is a broken site.
MAX_REDIRECTS = 5
_READ_CHUNK = 64 * 1024
# A track lookup on the API (/catalog/tracks/<id>/) or the website (/track/<slug>/<id>).
_TRACK_PATH = re.compile(r"/(?:catalog/tracks|track/[^/]+)/\d+/?$")


class HostThrottle:
    """At most `requests_per_second` sends to each host, shared by every thread.

    Each send reserves the next free slot (`next_at = max(now, next_at) + 1/rate`) under a lock
    and sleeps outside it, so N threads together never exceed the rate and never queue on the lock.
    """

    def __init__(self, requests_per_second: float):
        self._interval = 1.0 / requests_per_second if requests_per_second > 0 else 0.0
        self._next_at: dict[str, float] = {}
        self._lock = threading.Lock()
        self._waited_until = 0.0
        self.waited_wall_s = 0.0  # wall-clock time at least one send waited (overlaps once)

    def wait(self, host: str) -> float:
        """Sleep until this send's slot for `host` comes; returns the seconds waited."""
        delay = self._reserve(host)
        if delay > 0:
            time.sleep(delay)
        return delay

    def _reserve(self, host: str) -> float:
        if not self._interval:
            return 0.0
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_at.get(host, now))
            self._next_at[host] = slot + self._interval
            # Waits of parallel sends overlap: count each moment once. Waits are reserved
            # in order of their start (now), so the union grows by what passes the last end.
            self.waited_wall_s += max(0.0, slot - max(now, self._waited_until))
            self._waited_until = max(self._waited_until, slot)
        return slot - now


class _ThrottledAdapter(HTTPAdapter):
    """The transport: asks leave to send (the circuit breaker), throttles each real send and
    tells the client it happened."""

    def __init__(self, throttle: HostThrottle, admit: Callable[[str], None],
                 on_send: Callable[[float], None], try_deadline_s: float):
        super().__init__(pool_connections=4, pool_maxsize=32)
        self._throttle = throttle
        self._admit = admit
        self._on_send = on_send
        self._try_deadline_s = try_deadline_s

    def send(self, request: requests.PreparedRequest, *args: Any,
             **kwargs: Any) -> requests.Response:
        host = urlsplit(request.url or "").netloc
        self._admit(host)  # raises NotAnsweringError while the host's breaker is open
        self._on_send(self._throttle.wait(host))
        started = time.monotonic()
        kwargs["stream"] = True  # the body is read here, bounded (requests passes keywords)
        response = super().send(request, *args, **kwargs)
        _read_bounded(response, started + self._try_deadline_s)
        _drop_vary_on_auth(response)
        return response


class AnswerTooLargeError(requests.RequestException):
    """An answer over MAX_ANSWER_BYTES: refused while reading, never cached."""


def _read_bounded(response: requests.Response, deadline: float) -> None:
    """Read the body here, at most MAX_ANSWER_BYTES and until `deadline` (the try's whole
    time: a server sending a byte a second never trips the socket's read timeout)."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
        response.close()
        raise AnswerTooLargeError(f"{int(declared) / 1e6:.0f} MB")
    body = bytearray()
    try:
        # read1: what has arrived, not a full chunk (which a drip would hold for ever)
        while chunk := response.raw.read1(_READ_CHUNK, decode_content=True):
            body += chunk
            if len(body) > MAX_ANSWER_BYTES:
                raise AnswerTooLargeError(f"over {MAX_ANSWER_BYTES / 1e6:.0f} MB")
            if time.monotonic() > deadline:
                raise requests.Timeout("the answer kept coming past the request's deadline")
    except (AnswerTooLargeError, requests.Timeout):
        response.close()
        raise
    except Exception as exc:  # urllib3's own failures, as requests would map them
        response.close()
        raise requests.exceptions.ChunkedEncodingError(exc) from exc
    response._content = bytes(body)
    response._content_consumed = True


def _drop_vary_on_auth(response: requests.Response) -> None:
    """The cache is this client's alone: `Vary: Authorization` would make a new token miss."""
    vary = response.headers.get("Vary")
    if vary and "authorization" in vary.lower():
        kept = [name.strip() for name in vary.split(",") if name.strip().lower() != "authorization"]
        response.headers["Vary"] = ", ".join(kept)
        if not kept:
            del response.headers["Vary"]


@dataclass
class _CallStats:
    """What one call of one thread has cost so far; the adapter and the wait add to it."""

    sends: int = 0
    throttle_wait_s: float = 0.0
    retry_after_s: float | None = None
    status: int | None = None
    admitted: tuple[str, bool] | None = None  # (host, as the probe) of the send under way


class _RetryableAnswer(Exception):
    """A 429 or 5xx answer, raised so that tenacity retries it."""

    def __init__(self, response: requests.Response):
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


class _WaitRetryAfter(wait_base):
    """Wait as long as a 429/503's `Retry-After` says (capped), else back off exponentially."""

    def __init__(self, fallback: wait_base, cap_s: float, on_honoured: Callable[[float], None]):
        self._fallback = fallback
        self._cap_s = cap_s
        self._on_honoured = on_honoured

    def __call__(self, retry_state: RetryCallState) -> float:
        failure = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(failure, _RetryableAnswer):
            asked = retry_after_s(failure.response.headers.get("Retry-After"))
            if asked is not None:
                waited = min(asked, self._cap_s)
                self._on_honoured(waited)
                return waited
        return float(self._fallback(retry_state))


def retry_after_s(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds a `Retry-After` header asks for, given as seconds or as an HTTP date."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def is_challenge(response: requests.Response) -> bool:
    """Whether this is Cloudflare's challenge page rather than Beatport's answer."""
    if response.status_code not in (403, 503):
        return False
    if response.headers.get("cf-mitigated", "").lower() == "challenge":
        return True
    head = response.content[:20_000].decode("utf-8", errors="replace").lower()
    return any(marker in head for marker in _CHALLENGE_MARKERS)


class HttpClient:
    """GET (and POST) with cache, throttle, retries, timeouts and a circuit breaker per host
    (`breaker`, shared by every thread); safe to share across threads."""

    def __init__(self, *, cache_path: Path | None, cache_expiry_days: float,
                 requests_per_second: float, timeout_s: float, max_attempts: int,
                 user_agent: str = USER_AGENT, backoff_s: float = 1.0,
                 backoff_max_s: float = 30.0, retry_after_cap_s: float = RETRY_AFTER_CAP_S,
                 breaker: CircuitBreaker | None = None, cache_max_mb: float = 200.0):
        self._local = threading.local()
        self._timeout = (min(timeout_s, _CONNECT_TIMEOUT_CAP_S), timeout_s)
        self._session = _session(cache_path, cache_expiry_days, cache_max_mb)
        self._session.headers["User-Agent"] = user_agent
        self._session.max_redirects = MAX_REDIRECTS
        self.breaker = breaker or CircuitBreaker()
        # A try has timeout_s for everything (connect, headers, body); a call, all its tries
        # and the waits between them (which Retry-After may stretch to its cap).
        self.call_deadline_s = (timeout_s + backoff_max_s) * max(1, max_attempts) + \
            retry_after_cap_s
        self.throttle = HostThrottle(requests_per_second)
        adapter = _ThrottledAdapter(self.throttle, self._admit,
                                    self._count_send, try_deadline_s=timeout_s)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        backoff = wait_exponential_jitter(multiplier=backoff_s, max=backoff_max_s,
                                          jitter=backoff_s)
        self._retrying = Retrying(
            stop=stop_after_attempt(max(1, max_attempts)) | stop_after_delay(
                self.call_deadline_s),
            wait=_WaitRetryAfter(backoff, retry_after_cap_s, self._count_retry_after),
            retry=retry_if_exception_type((_RetryableAnswer, *_TRANSPORT_FAILURES)),
            reraise=True,
        )

    def get(self, url: str, *, kind: RequestKind, params: Mapping[str, Any] | None = None,
            headers: Mapping[str, str] | None = None) -> tuple[requests.Response, RequestReport]:
        """GET `url`, from the cache when it can; raises a `ProviderError` subclass on failure.

        Answers with 4xx statuses other than 401 and 429 are returned for the caller to read
        (a 404 track is "no such track", not a failure).
        """
        return self._call("GET", url, kind=kind, params=params, headers=headers)

    def post(self, url: str, *, kind: RequestKind, data: Mapping[str, str],
             headers: Mapping[str, str] | None = None) -> tuple[requests.Response, RequestReport]:
        """POST a form, never cached, throttled and retried like `get`; `kind` names the
        request this one is made for."""
        return self._call("POST", url, kind=kind, data=data, headers=headers)

    def forget(self, response: requests.Response) -> None:
        """Drop a cached answer that turned out unreadable, so the next call asks again."""
        key = getattr(response, "cache_key", None)
        if key and isinstance(self._session, requests_cache.CachedSession):
            self._session.cache.delete(key)

    def close(self) -> None:
        """Close the connections and the cache database."""
        self._session.close()

    # --- one call ---------------------------------------------------------------------------

    def _call(self, method: str, url: str, *, kind: RequestKind,
              **request: Any) -> tuple[requests.Response, RequestReport]:
        self._local.stats = _CallStats()
        started = time.perf_counter()
        full_url = requests.Request(method, url, params=request.get("params")).prepare().url or url
        try:
            response = self._retrying(self._send_once, method, url, request)
        except NotAnsweringError as exc:
            raise self._failure(kind, full_url, started, exc) from None
        except _RetryableAnswer as exc:
            error = _answer_error(exc.response, self._stats.sends)
            raise self._failure(kind, full_url, started, error) from None
        except _TRANSPORT_FAILURES as exc:
            error = _network_error(exc, full_url, self._stats.sends, self._timeout[1])
            raise self._failure(kind, full_url, started, error) from exc
        except requests.RequestException as exc:  # too many redirects, too big, a bad URL
            raise self._failure(kind, full_url, started, _unreadable(exc)) from exc
        failure = _refusal(response)
        if failure:
            raise self._failure(kind, full_url, started, failure)
        return response, self._report(kind, full_url, started,
                                      from_cache=bool(getattr(response, "from_cache", False)))

    def _send_once(self, method: str, url: str, request: dict[str, Any]) -> requests.Response:
        try:
            response = self._session.request(method, url, timeout=self._timeout, **request)
        except _TRANSPORT_FAILURES:
            self._tell_breaker(failed=True)
            raise
        except BaseException:
            self._tell_breaker(failed=False)  # something other than the host went wrong
            raise
        self._stats.status = response.status_code
        challenge = is_challenge(response)
        # A 429 is the host answering (and saying when to come back): not a failure.
        self._tell_breaker(failed=response.status_code >= 500 and not challenge)
        retryable = response.status_code == 429 or response.status_code >= 500
        if retryable and not challenge:
            raise _RetryableAnswer(response)
        return response

    def _failure(self, kind: RequestKind, url: str, started: float,
                 error: ProviderError) -> ProviderError:
        error.report = self._report(kind, url, started, from_cache=False, error=str(error))
        return error

    def _report(self, kind: RequestKind, url: str, started: float, *, from_cache: bool,
                error: str = "") -> RequestReport:
        stats = self._stats
        return RequestReport(
            kind=kind, url=url, status=stats.status,
            elapsed_ms=(time.perf_counter() - started) * 1000.0,
            from_cache=from_cache, attempts=stats.sends,
            throttle_wait_ms=stats.throttle_wait_s * 1000.0,
            retry_after_s=stats.retry_after_s, error=error)

    # --- per-thread accounting --------------------------------------------------------------

    @property
    def _stats(self) -> _CallStats:
        stats: _CallStats | None = getattr(self._local, "stats", None)
        if stats is None:
            stats = self._local.stats = _CallStats()
        return stats

    def _admit(self, host: str) -> None:
        self._stats.admitted = (host, self.breaker.admit(host))

    def _tell_breaker(self, *, failed: bool) -> None:
        """The outcome of the send the breaker let through, if one was (cache hits are not)."""
        admitted, self._stats.admitted = self._stats.admitted, None
        if admitted is not None:
            host, probe = admitted
            self.breaker.record(host, failed=failed, probe=probe)

    def _count_send(self, throttle_wait_s: float) -> None:
        self._stats.sends += 1
        self._stats.throttle_wait_s += throttle_wait_s

    def _count_retry_after(self, waited_s: float) -> None:
        previous = self._stats.retry_after_s
        self._stats.retry_after_s = max(previous or 0.0, waited_s)


def _session(cache_path: Path | None, cache_expiry_days: float,
             cache_max_mb: float) -> requests.Session:
    if cache_path is None or cache_expiry_days <= 0:
        return requests.Session()
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    session = requests_cache.CachedSession(
        str(cache_path), backend="sqlite", wal=True, serializer=answer_cache.compressed_pickle,
        expire_after=timedelta(days=cache_expiry_days),
        allowable_codes=(200, 404), allowable_methods=("GET",), filter_fn=_worth_keeping,
        ignored_parameters=_NOT_IN_CACHE_KEY, match_headers=False,
        cache_control=False,  # Beatport's own cache headers would defeat the DJ's setting
    )
    cache = session.cache
    assert isinstance(cache, requests_cache.SQLiteCache)
    session.cache.save_response = _never_fatal(answer_cache.bounded(  # type: ignore[method-assign]
        cache.save_response, cache, int(cache_max_mb * answer_cache.MEGABYTE)))
    return session


def _never_fatal(save: Callable[..., None]) -> Callable[..., None]:
    """Keeping an answer is a saving, not a need: a full disk or a locked cache file must not
    fail the request that got the answer."""
    def save_if_possible(*args: Any, **kwargs: Any) -> None:
        try:
            save(*args, **kwargs)
        except Exception as exc:
            _log.warning("the answer was not kept in the HTTP cache: %s", exc)
    return save_if_possible


def _worth_keeping(response: requests.Response) -> bool:
    """Answers worth reusing: 200s, and the 404 of a track lookup (the track is gone).

    A 404 anywhere else may be a passing fault of the site, and failures must be asked again.
    """
    if len(response.content) > MAX_ANSWER_BYTES:
        return False
    if response.status_code == 200:
        return True
    path = urlsplit(response.request.url or "").path if response.request else ""
    return response.status_code == 404 and _TRACK_PATH.search(path) is not None


# --- failures in the DJ's words -------------------------------------------------------------------


def _refusal(response: requests.Response) -> ProviderError | None:
    """An answer that must not reach the caller: the Cloudflare page or a rejected token."""
    if is_challenge(response):
        return BlockedError(BLOCKED_MESSAGE)
    if response.status_code == 401:
        return AuthError("Beatport refused the API token (HTTP 401): it may have expired — "
                         "sign in to Beatport again (Settings, or `cuepoint login`) or paste a "
                         "fresh token in settings, then resume the session.")
    return None


def _unreadable(exc: requests.RequestException) -> ProviderError:
    """An answer this client will not take, in the DJ's words; never retried."""
    if isinstance(exc, AnswerTooLargeError):
        what = f"the answer was too large ({exc}; Beatport's are under 1 MB)"
    elif isinstance(exc, requests.TooManyRedirects):
        what = f"the answer kept redirecting (over {MAX_REDIRECTS} times)"
    else:
        what = f"the request failed ({type(exc).__name__}: {exc})"
    return BadResponseError(f"Beatport's answer could not be used: {what}. Try again later; if "
                            "it keeps happening, tell the CuePoint developers.")


def _answer_error(response: requests.Response, attempts: int) -> ProviderError:
    tries = _tries(attempts)
    if response.status_code == 429:
        return RateLimitedError(
            f"Beatport kept answering 'too many requests' after {tries}: lower "
            "requests_per_second in settings, wait a few minutes, then resume the session.")
    return ServerError(
        f"Beatport answered with a server error (HTTP {response.status_code}) after {tries}: "
        "Beatport may be having trouble; try again later, then resume the session.")


def _network_error(exc: BaseException, url: str, attempts: int, timeout_s: float) -> NetworkError:
    what = what_failed(exc, urlsplit(url).netloc, timeout_s)
    return NetworkError(f"Beatport did not answer after {_tries(attempts)} ({what}): check your "
                        "internet connection, then resume the session.")


def what_failed(exc: BaseException, host: str, timeout_s: float) -> str:
    """What went wrong on the way to `host`, in a few words: the causes an exception wraps
    are looked through, since requests nests the one that says it."""
    causes = list(_causes(exc))
    if isinstance(exc, requests.Timeout) or _any_of(causes, TimeoutError):
        return f"no answer from {host} within {timeout_s:g} s"
    if _any_of(causes, ConnectionRefusedError):
        return f"connection refused at {host}"
    if _any_of(causes, socket.gaierror) or _named(causes, "NameResolutionError"):
        return f"could not look up {host}"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return f"the answer from {host} was cut off"
    if _any_of(causes, ConnectionResetError) or _named(causes, "RemoteDisconnected",
                                                        "ProtocolError"):
        return f"the connection to {host} was dropped"
    return f"could not connect to {host}"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps: causes, contexts, urllib3's `reason`, args."""
    seen: set[int] = set()
    pending: list[object] = [exc]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend([current.__cause__, current.__context__, getattr(current, "reason", None),
                        *current.args])


def _any_of(causes: list[BaseException], *kinds: type[BaseException]) -> bool:
    return any(isinstance(cause, kinds) for cause in causes)


def _named(causes: list[BaseException], *names: str) -> bool:
    return any(type(cause).__name__ in names for cause in causes)


def _tries(attempts: int) -> str:
    return "1 try" if attempts == 1 else f"{attempts} tries"


class ClientSettings(Protocol):
    """What the HTTP client is made from: the app's settings have these, and so may any
    small object (this layer knows nothing of the app's settings file)."""

    @property
    def cache_expiry_days(self) -> float: ...
    @property
    def cache_max_mb(self) -> float: ...
    @property
    def requests_per_second(self) -> float: ...
    @property
    def request_timeout_s(self) -> float: ...
    @property
    def max_attempts(self) -> int: ...


def make_http_client(settings: ClientSettings, cache_path: Path | None,
                     waits: Waits = APP_WAITS) -> HttpClient:
    """The HTTP client the app uses, caching in `cache_path` (None: no cache), with the
    retries' and circuit breaker's `waits`."""
    return HttpClient(
        cache_path=cache_path,
        cache_expiry_days=settings.cache_expiry_days,
        cache_max_mb=settings.cache_max_mb,
        requests_per_second=settings.requests_per_second,
        timeout_s=settings.request_timeout_s,
        max_attempts=settings.max_attempts,
        backoff_s=waits.backoff_s,
        backoff_max_s=waits.backoff_max_s,
        breaker=CircuitBreaker(cool_down_s=waits.cool_down_s,
                               max_cool_down_s=waits.max_cool_down_s),
    )
