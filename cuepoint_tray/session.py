"""Running a match session end to end: Rekordbox playlists in, results and files out.

The composition used by the CLI (and by the tray later): HTTP client, provider, matcher and
runner, wired together and closed again.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cuepoint_tray import __version__
from cuepoint_tray.domain import MatchResult, Playlist
from cuepoint_tray.events import Event, SessionEnded, TrackDone, TrackJob
from cuepoint_tray.matching import TrackMatcher
from cuepoint_tray.paths import AppPaths
from cuepoint_tray.providers import make_http_client, make_provider
from cuepoint_tray.rekordbox import Library
from cuepoint_tray.runner import Listener, SessionRunner, jobs_for
from cuepoint_tray.settings import Settings

Row = tuple[TrackJob, MatchResult]


@dataclass
class MatchOutcome:
    ended: SessionEnded
    rows: list[Row]  # in playlist order
    meta: dict[str, Any] = field(default_factory=dict)


class _Collector:
    """Keeps every finished track, to write the files in playlist order at the end."""

    def __init__(self) -> None:
        self.rows: list[Row] = []

    def __call__(self, event: Event) -> None:
        if isinstance(event, TrackDone):
            self.rows.append((event.job, event.result))


def run_match(library: Library, playlists: Sequence[Playlist], settings: Settings,
              paths: AppPaths, *, listeners: Sequence[Listener] = ()) -> MatchOutcome:
    """Match the playlists' tracks against Beatport; blocks until the session ends."""
    for playlist in playlists:
        library.tracks_of(playlist)  # says clearly which playlist is empty or broken
    jobs = jobs_for([(p.path_text, p.track_ids) for p in playlists])
    collector = _Collector()
    http = make_http_client(settings, paths)
    try:
        provider = make_provider(settings, http)
        runner = SessionRunner(TrackMatcher(provider), library.tracks,
                               provider_name=provider.name,
                               concurrency=settings.concurrency,
                               listeners=[collector, *listeners])
        started = time.time()
        ended = runner.run(jobs)
    finally:
        http.close()
    order = {(job.playlist, job.position): i for i, job in enumerate(jobs)}
    rows = sorted(collector.rows, key=lambda row: order[(row[0].playlist, row[0].position)])
    meta = {
        "status": ended.status, "reason": ended.reason,
        "playlists": [p.path_text for p in playlists], "xml": str(library.path),
        "provider": provider.name, "app_version": __version__, "started_at": started,
    }
    return MatchOutcome(ended, rows, meta)


def default_out_dir(paths: AppPaths, playlists: Sequence[Playlist]) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = "+".join(p.name for p in playlists)
    safe = "".join(c if c.isalnum() or c in "-_ " else "_" for c in name).strip() or "session"
    return paths.reports_dir / f"{stamp} {safe}"
