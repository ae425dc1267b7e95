"""A one-line live progress bar for the terminal, fed by session events."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from cuepoint_tray.events import Event, SessionEnded, StateChanged, TrackDone


class ProgressLine:
    """Redraws one line on a terminal; elsewhere prints a line every few seconds."""

    def __init__(self, stream: TextIO | None = None, *, every_s: float = 5.0):
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.every_s = every_s
        self.started = time.perf_counter()
        self.last_print = 0.0
        self.done_before: int | None = None  # tracks done before this run (a resume)

    def __call__(self, event: Event) -> None:
        if isinstance(event, TrackDone):
            self._draw(event)
        elif isinstance(event, StateChanged) and event.reason:
            self._say(f"{event.status}: {event.reason}")
        elif isinstance(event, SessionEnded) and self.live:
            self.stream.write("\n")

    def _draw(self, event: TrackDone) -> None:
        now = time.perf_counter()
        if not self.live and now - self.last_print < self.every_s and event.done < event.total:
            return
        self.last_print = now
        elapsed = now - self.started
        if self.done_before is None:
            self.done_before = event.done - 1
        # This run's pace, waits included: tracks done before a resume took no time here.
        summary_rate = (event.done - self.done_before) / elapsed if elapsed > 0 else 0.0
        remaining = (event.total - event.done) / summary_rate if summary_rate else 0.0
        filled = int(30 * event.done / event.total) if event.total else 30
        line = (f"[{'#' * filled}{'.' * (30 - filled)}] {event.done}/{event.total} "
                f"{summary_rate * 60:5.0f} tracks/min  ETA {_clock(remaining)}")
        if self.live:
            self.stream.write("\r" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def _say(self, text: str) -> None:
        self.stream.write(("\n" if self.live else "") + text + "\n")
        self.stream.flush()


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"
