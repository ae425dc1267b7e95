"""The desktop notification a finished session raises: what happened, in the DJ's words."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cuepoint_tray.controller import QUIT_REASON, LastSession


@dataclass(frozen=True)
class Notification:
    title: str
    message: str


def session_ended(last: LastSession, playlists: Sequence[str]) -> Notification | None:
    """The notification for a session that just ended; None when the DJ needs none (they
    quit the app, which pauses the session on purpose)."""
    names = " + ".join(f"“{path.rsplit('/', 1)[-1]}”" for path in playlists) or "the session"
    if last.status == "completed":
        return Notification(f"Matched {names}", f"{_counts(last)} · {duration_text(last.wall_ms)}"
                            + (". Open the dashboard to review." if last.review else ""))
    if last.status == "failed":
        return Notification(f"Could not match {names}", last.reason or "Something went wrong.")
    if last.status == "cancelled":
        return Notification(f"Cancelled {names}", f"{_done(last)}: {_counts(last, of=False)}. "
                            "You can resume it from its page in the dashboard.")
    if last.status == "paused" and last.reason != QUIT_REASON:
        return Notification(f"Paused {names}", f"{last.reason.rstrip('.')}. {_done(last)}; "
                            "resume it from the tray menu.")
    return None


def could_not(what: str, reason: str) -> Notification:
    """An intent the app could not carry out ("start matching", "open the report")."""
    return Notification(f"Could not {what}", reason)


def _counts(last: LastSession, *, of: bool = True) -> str:
    """"16 of 18 matched · 0 to review · 2 unmatched"."""
    matched = f"{last.matched} of {last.tracks} matched" if of else f"{last.matched} matched"
    counts = [matched, f"{last.review} to review",
              f"{last.unmatched} unmatched"]
    if last.errors:
        counts.append(f"{last.errors} error{'' if last.errors == 1 else 's'}")
    return " · ".join(counts)


def _done(last: LastSession) -> str:
    done = last.done if last.done is not None else (
        last.matched + last.review + last.unmatched + last.errors)
    return f"{done} of {last.tracks} tracks done" if last.tracks else "No track done"


def duration_text(ms: float) -> str:
    """"4.2 s", "3 min 12 s", "1 h 5 min"."""
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"
