"""Matching: normalisation, the query planner, scoring and the per-track matcher."""

from cuepoint_tray.matching.matcher import TrackMatcher, decide, same_recording
from cuepoint_tray.matching.scoring import WEIGHTS

__all__ = ["WEIGHTS", "TrackMatcher", "decide", "same_recording"]
