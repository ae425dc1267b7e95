"""What the notification says when a session ends, in the DJ's words."""

from __future__ import annotations

from cuepoint_tray.controller import QUIT_REASON, LastSession
from cuepoint_tray.tray.notification import Notification, duration_text, session_ended


def test_a_completed_session_gives_its_counts_and_time() -> None:
    last = LastSession(4, "completed", tracks=18, matched=15, review=2, unmatched=1,
                       wall_ms=4_200)
    assert session_ended(last, ["Crate Digging"]) == Notification(
        "Matched “Crate Digging”",
        "15 of 18 matched · 2 to review · 1 unmatched · 4.2 s. Open the dashboard to review.")


def test_errors_and_queues_are_named() -> None:
    last = LastSession(4, "completed", tracks=100, matched=97, errors=3, wall_ms=192_000)
    notice = session_ended(last, ["Demo/Friday Warm-up", "Demo/Peak Time"])
    assert notice is not None
    assert notice.title == "Matched “Friday Warm-up” + “Peak Time”"
    assert notice.message == "97 of 100 matched · 0 to review · 0 unmatched · 3 errors · 3 min 12 s"


def test_a_failure_gives_the_reason_in_plain_words() -> None:
    last = LastSession(None, "failed", "Beatport cannot be reached: check your connection.")
    assert session_ended(last, ["Peak Time"]) == Notification(
        "Could not match “Peak Time”", "Beatport cannot be reached: check your connection.")


def test_a_session_stopped_by_beatport_says_how_to_go_on() -> None:
    last = LastSession(5, "paused", "Beatport's website blocked CuePoint: set an API token.",
                       tracks=60, matched=10, review=1, unmatched=1)
    notice = session_ended(last, ["Demo/Friday Warm-up"])
    assert notice == Notification(
        "Paused “Friday Warm-up”", "Beatport's website blocked CuePoint: set an API token. "
        "12 of 60 tracks done; resume it from the tray menu.")


def test_cancelled() -> None:
    last = LastSession(6, "cancelled", "cancelled by you", tracks=18, matched=4, unmatched=1)
    notice = session_ended(last, ["Crate Digging"])
    assert notice is not None and notice.title == "Cancelled “Crate Digging”"
    assert notice.message.startswith("5 of 18 tracks done: 4 matched · 0 to review")


def test_quitting_raises_no_notification() -> None:
    assert session_ended(LastSession(7, "paused", QUIT_REASON, tracks=60), ["Friday"]) is None


def test_durations() -> None:
    assert [duration_text(ms) for ms in (350, 59_940, 61_000, 3_725_000)] == [
        "0.3 s", "59.9 s", "1 min 1 s", "1 h 2 min"]
