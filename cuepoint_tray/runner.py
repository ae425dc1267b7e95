"""A matching session: playlist entries in, events out, with pause, resume and cancel.

Tracks are matched by a small pool of workers (each track's queries run in order, since a
sure match stops them); the per-host throttle in the HTTP client keeps the pool polite.

When Beatport stops answering, the HTTP client's circuit breaker refuses to send
(`NotAnsweringError`). The runner then waits instead of burning through the playlist: the
session shows as paused with the reason, each worker keeps the track it holds, and retries it
when the breaker lets a probe through. The first answer from Beatport resumes the session by
itself; after `wait_for_beatport_s` (see `Waits`) without one, the session stops as paused,
to be resumed later, and the tracks in hand are left for that resume (none is recorded as an
error).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

from cuepoint_tray.domain import MatchResult, QueryRecord, RekordboxTrack
from cuepoint_tray.errors import AuthError, BlockedError, NotAnsweringError
from cuepoint_tray.events import (
    Event,
    QueryDone,
    SessionEnded,
    SessionStarted,
    SessionStatus,
    SessionSummary,
    StateChanged,
    TrackDone,
    TrackJob,
)
from cuepoint_tray.matching.matcher import TrackMatcher
from cuepoint_tray.waits import Waits

log = logging.getLogger(__name__)
Listener = Callable[[Event], None]

# The shortest wait between two tries of a track while Beatport is not answering.
_MIN_RETRY_WAIT_S = 0.05
BEATPORT_BACK = "Beatport is answering again — carrying on"


def jobs_for(playlists: Sequence[tuple[str, Sequence[str]]]) -> list[TrackJob]:
    """One job per playlist entry, in playlist order: [(path, track ids), ...]."""
    return [TrackJob(path, position, track_id)
            for path, track_ids in playlists
            for position, track_id in enumerate(track_ids, start=1)]


class SessionRunner:
    """Runs one session; `pause`, `resume` and `cancel` may be called from any thread."""

    def __init__(self, matcher: TrackMatcher, tracks: Mapping[str, RekordboxTrack], *,
                 provider_name: str, concurrency: int = 4,
                 listeners: Sequence[Listener] = (), wait_for_beatport_s: float | None = None,
                 decisions: Mapping[str, str] | None = None):
        """`decisions`: the DJ's decision (accepted, rejected, picked) by Rekordbox track id,
        from earlier sessions of this library; a track that has one is not put to the DJ
        again, and its result says the decision was used."""
        self.matcher = matcher
        self.tracks = tracks
        self.decisions = dict(decisions or {})
        self.provider_name = provider_name
        self.concurrency = max(1, concurrency)
        self.listeners = list(listeners)
        self.wait_for_beatport_s = (Waits.wait_for_beatport_s if wait_for_beatport_s is None
                                    else wait_for_beatport_s)
        self.summary = SessionSummary()
        self._status: SessionStatus = "running"
        self._reason = ""
        self._stopping = False  # no more tracks will be taken: cancelled or provider down
        self._wait = BeatportWait(self.wait_for_beatport_s)
        # Two locks, always taken in this order. The emit lock orders what listeners hear;
        # it is re-entrant because a listener may pause or cancel, on its own thread. The
        # state lock (a plain Lock: never taken twice) guards status, reason and the wait,
        # and is never held while listeners run.
        self._emit_lock = threading.RLock()
        self._state = threading.Condition(threading.Lock())
        self._queue_lock = threading.Lock()

    @property
    def status(self) -> SessionStatus:
        return self._status

    def run(self, jobs: Sequence[TrackJob], *, already_done: int = 0) -> SessionEnded:
        """Match every job; returns when all are done, or the session is cancelled or stops.

        `already_done` counts tracks finished before a resume, so progress reads right.
        """
        started = time.perf_counter()
        self.summary.tracks = len(jobs) + already_done
        self.summary.done = already_done
        playlists = tuple(dict.fromkeys(job.playlist for job in jobs))
        self._emit(SessionStarted(playlists, self.summary.tracks, self.provider_name,
                                  time.time()))
        queue = iter(jobs)
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="match") as pool:
            workers = [pool.submit(self._work, queue) for _ in range(self.concurrency)]
            self._wait_for(workers)
        self.summary.wall_ms = (time.perf_counter() - started) * 1000
        status: SessionStatus = "completed" if self._status == "running" else self._status
        ended = SessionEnded(status, self.summary, self._reason)
        self._emit(ended)
        return ended

    def _wait_for(self, workers: list[Future[None]]) -> None:
        """Wait for the workers; Ctrl-C cancels cleanly: tracks in flight finish and are kept."""
        for worker in workers:
            while True:
                try:
                    worker.result()
                    break
                except KeyboardInterrupt:
                    self.cancel("stopped with Ctrl-C")

    def pause(self, reason: str = "paused by you") -> None:
        """Pause; a pause while waiting for Beatport becomes the DJ's, and outlasts the wait."""
        def update() -> StateChanged | None:
            waiting, self._wait.pausing = self._wait.pausing, False
            return self._set("paused", reason, only_from="paused" if waiting else "running")
        self._change(update)

    def resume(self) -> None:
        """Carry on; while waiting for Beatport, that means "try now", with a fresh wait."""
        def update() -> StateChanged | None:
            if self._wait.pausing and self._status == "paused":
                self._end_wait()
            return self._set("running", "", only_from="paused")
        self._change(update)

    def cancel(self, reason: str = "cancelled by you") -> None:
        self._change(lambda: self._set("cancelled", reason, only_from=None))

    def stop_for(self, reason: str) -> None:
        """Stop taking tracks because the provider cannot go on; the session can resume later."""
        self._change(lambda: self._set("paused", reason, only_from=None, final=True))

    def _change(self, update: Callable[[], StateChanged | None]) -> None:
        """Change the state with `update` (under the state lock), then tell the listeners;
        the emit lock around both keeps them hearing changes in the order they happened."""
        with self._emit_lock:
            with self._state:
                event = update()
            if event is not None:
                self._emit_locked(event)

    def _set(self, status: SessionStatus, reason: str, *, only_from: str | None,
             final: bool = False) -> StateChanged | None:
        """The new state, as the event to tell, or None when it does not apply. State lock
        held."""
        if self._stopping or only_from is not None and self._status != only_from:
            return None
        self._status, self._reason = status, reason
        self._stopping = final or status == "cancelled"
        self._state.notify_all()
        return StateChanged(status, reason)

    def _next_job(self, queue: Iterator[TrackJob]) -> TrackJob | None:
        with self._state:
            while self._status == "paused" and not self._stopping:
                self._state.wait()
            if self._stopping:
                return None
        with self._queue_lock:
            return next(queue, None)

    def _work(self, queue: Iterator[TrackJob]) -> None:
        while (job := self._next_job(queue)) is not None:
            result = self._match(job)
            if result is None:
                return  # the session stops; this track is left for a resume
            self._finish(job, result)

    def _match(self, job: TrackJob) -> MatchResult | None:
        """The track's result; while Beatport is not answering, wait and match it again.

        None when the session stops first (blocked, token refused, cancelled, gave up waiting).
        """
        track = self.tracks[job.track_id]
        name = f"{track.artist} - {track.name}" if track.artist else track.name

        def report(query: QueryRecord) -> None:
            self._note_answer(query)
            self._emit(QueryDone(job, query, name))

        while True:
            asked_at = time.monotonic()
            try:
                result = self.matcher.match(track, on_query=report)
                decided = self.decisions.get(track.track_id, "")
                return replace(result, decision_used=decided) if decided else result
            except (BlockedError, AuthError) as exc:
                self.stop_for(str(exc))
                return None
            except NotAnsweringError as exc:
                if not self._wait_for_beatport(exc, asked_at):
                    return None
            except Exception as exc:  # one track's failure never ends the session
                log.exception("matching %s failed", name)
                return _failed(track, f"could not match this track ({type(exc).__name__}: "
                                      f"{exc}); the log has the details", asked_at)

    # --- waiting for Beatport ------------------------------------------------------------------

    def _wait_for_beatport(self, refusal: NotAnsweringError, asked_at: float) -> bool:
        """Wait until the track may be tried again; False when the session stops instead."""
        now = time.monotonic()
        give_up_at: float | None = None

        def update() -> StateChanged | None:
            nonlocal give_up_at
            if self._stopping:
                return None
            give_up_at = self._wait.refused(asked_at, now)
            if give_up_at is None:
                return None  # Beatport answered someone since: the refusal is already stale
            if now >= give_up_at:
                self._end_wait()
                return self._set("paused", self._gave_up_reason(), only_from=None, final=True)
            return self._start_waiting(refusal)

        self._change(update)
        if give_up_at is None:
            return not self._stopping
        if now >= give_up_at:
            return False
        return self._sleep_until(min(now + max(refusal.retry_in_s, _MIN_RETRY_WAIT_S),
                                     give_up_at))

    def _start_waiting(self, refusal: NotAnsweringError) -> StateChanged | None:
        """Show the session as paused for Beatport, unless it is paused already. State lock
        held."""
        if self._status != "running":
            return None
        self.summary.waits_for_beatport += 1
        self._wait.pausing = True
        reason = (f"Beatport is not answering ({refusal.failures} failures in a row) — "
                  "waiting for it to come back (trying again in "
                  f"{_duration(max(1, math.ceil(refusal.retry_in_s)))}, for up to "
                  f"{_duration(self.wait_for_beatport_s)}); the session carries on by itself")
        return self._set("paused", reason, only_from="running")

    def _end_wait(self) -> None:
        """The wait is over (Beatport answered, the DJ said "try now", or it lasted too
        long): count it, and wake the workers sleeping on it. State lock held."""
        self.summary.waited_for_beatport_ms += self._wait.end(time.monotonic()) * 1000
        self._state.notify_all()

    def _sleep_until(self, wake_at: float) -> bool:
        """Sleep until `wake_at` or until the wait ends; False when the session stops."""
        with self._state:
            while not self._stopping and self._wait.since is not None:
                left = wake_at - time.monotonic()
                if left <= 0:
                    break
                self._state.wait(left)
            return not self._stopping

    def _note_answer(self, query: QueryRecord) -> None:
        """A query Beatport itself answered ends a wait for it: the session carries on."""
        report = query.report
        if report is None or report.from_cache or report.status is None or report.status >= 500:
            return
        with self._state:
            self._wait.answered_at = time.monotonic()
            if self._wait.since is None:
                return

        def update() -> StateChanged | None:
            if self._wait.since is None:
                return None  # another worker saw Beatport back first
            was_pausing = self._wait.pausing and self._status == "paused" and not self._stopping
            self._end_wait()
            if not was_pausing:
                return None
            self._status, self._reason = "running", ""
            return StateChanged("running", BEATPORT_BACK)

        self._change(update)

    def _gave_up_reason(self) -> str:
        return (f"Beatport has not answered for {_duration(self.wait_for_beatport_s)}: the "
                "session is paused — resume it when Beatport is back (check your internet "
                "connection too).")

    def _finish(self, job: TrackJob, result: MatchResult) -> None:
        with self._emit_lock:
            self.summary.add(result)
            event = TrackDone(job, result, self.summary.done, self.summary.tracks)
            self._emit_locked(event)

    def _emit(self, event: Event) -> None:
        with self._emit_lock:
            self._emit_locked(event)

    def _emit_locked(self, event: Event) -> None:
        for listener in self.listeners:
            try:
                listener(event)
            except Exception:  # a broken listener must not lose the session
                log.exception("a session listener failed on %s", type(event).__name__)


@dataclass
class BeatportWait:
    """Waiting for Beatport to answer again, read and changed under the runner's state lock:
    since when (monotonic; None while it answers), whether the pause shown is this wait's,
    and when it last answered a query."""

    limit_s: float
    since: float | None = None
    pausing: bool = False
    answered_at: float = 0.0

    def refused(self, asked_at: float, now: float) -> float | None:
        """A query asked at `asked_at` was refused: when to give up waiting, or None when
        Beatport answered since (the refusal is stale)."""
        if self.answered_at > asked_at:
            return None
        if self.since is None:
            self.since = now
        return self.since + self.limit_s

    def end(self, now: float) -> float:
        """End the wait; the seconds it lasted."""
        lasted = 0.0 if self.since is None else now - self.since
        self.since, self.pausing = None, False
        return lasted


def _failed(track: RekordboxTrack, error: str, started: float) -> MatchResult:
    """The result of a track whose matching failed: an error with its reason, kept."""
    return MatchResult(rekordbox=track, match=None, confidence="none", score=0.0,
                       candidates=(), queries=(), reason=error, error=error,
                       elapsed_ms=(time.monotonic() - started) * 1000)


def _duration(seconds: float) -> str:
    """"5 min", "90 s": a wait in words."""
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)} min"
    return f"{seconds:g} s"
