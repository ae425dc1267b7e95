"""A matching session: playlist entries in, events out, with pause, resume and cancel.

Tracks are matched by a small pool of workers (each track's queries run in order, since a
sure match stops them); the per-host throttle in the HTTP client keeps the pool polite.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from cuepoint_tray.domain import MatchResult, QueryRecord, RekordboxTrack
from cuepoint_tray.errors import AuthError, BlockedError
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

log = logging.getLogger(__name__)
Listener = Callable[[Event], None]


def jobs_for(playlists: Sequence[tuple[str, Sequence[str]]]) -> list[TrackJob]:
    """One job per playlist entry, in playlist order: [(path, track ids), ...]."""
    return [TrackJob(path, position, track_id)
            for path, track_ids in playlists
            for position, track_id in enumerate(track_ids, start=1)]


class SessionRunner:
    """Runs one session; `pause`, `resume` and `cancel` may be called from any thread."""

    def __init__(self, matcher: TrackMatcher, tracks: Mapping[str, RekordboxTrack], *,
                 provider_name: str, concurrency: int = 4,
                 listeners: Sequence[Listener] = ()):
        self.matcher = matcher
        self.tracks = tracks
        self.provider_name = provider_name
        self.concurrency = max(1, concurrency)
        self.listeners = list(listeners)
        self.summary = SessionSummary()
        self._status: SessionStatus = "running"
        self._reason = ""
        self._stopping = False  # no more tracks will be taken: cancelled or provider down
        self._state = threading.Condition()
        self._queue_lock = threading.Lock()
        # Re-entrant: a listener may pause or cancel, which emits StateChanged on its thread.
        self._emit_lock = threading.RLock()

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
        self._set_state("paused", reason, only_from="running")

    def resume(self) -> None:
        self._set_state("running", "", only_from="paused")

    def cancel(self, reason: str = "cancelled by you") -> None:
        self._set_state("cancelled", reason, only_from=None)

    def stop_for(self, reason: str) -> None:
        """Stop taking tracks because the provider cannot go on; the session can resume later."""
        self._set_state("paused", reason, only_from=None, final=True)

    def _set_state(self, status: SessionStatus, reason: str, *, only_from: str | None,
                   final: bool = False) -> None:
        with self._state:
            if self._stopping:
                return
            if only_from is not None and self._status != only_from:
                return
            self._status, self._reason = status, reason
            self._stopping = final or status == "cancelled"
            self._state.notify_all()
        self._emit(StateChanged(status, reason))

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
            track = self.tracks[job.track_id]
            name = f"{track.artist} - {track.name}" if track.artist else track.name

            def report(query: QueryRecord, job: TrackJob = job, name: str = name) -> None:
                self._emit(QueryDone(job, query, name))

            try:
                result = self.matcher.match(track, on_query=report)
            except (BlockedError, AuthError) as exc:
                self.stop_for(str(exc))
                return
            self._finish(job, result)

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
