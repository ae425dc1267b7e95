"""The DJ's own Beatport look-ups while reviewing: a manual search for a track, and a Beatport
track fetched by id to pick it.

They go through the HTTP client and provider sessions use (`make_http_client`,
`make_provider`): the same per-host throttle and retries, the same answer cache, API or
website as the settings say. A search is scored against the Rekordbox track exactly as
matching scores a candidate, and kept in the history as one more query of that track.
"""

from __future__ import annotations

import threading
from typing import Any

from cuepoint_tray.domain import BeatportTrack, ProviderResult, RekordboxTrack
from cuepoint_tray.errors import CuepointError
from cuepoint_tray.paths import AppPaths
from cuepoint_tray.settings import Settings
from cuepoint_tray.store.models import components_json

MAX_QUERY = 200


class BeatportLookup:
    """One HTTP client and provider for the DJ's look-ups, kept between calls (so its
    throttle spaces them) and made again when the settings change; safe across threads."""

    def __init__(self, paths: AppPaths) -> None:
        self.paths = paths
        self._lock = threading.Lock()
        self._made: tuple[Settings, Any, Any] | None = None  # settings, http client, provider

    def _provider(self, settings: Settings) -> Any:
        from cuepoint_tray.account import forget_refused_sign_in, keep_renewed_tokens
        from cuepoint_tray.providers import make_http_client, make_provider

        if self._made is not None and self._made[0] == settings:
            return self._made[2]
        self.close_locked()
        http = make_http_client(settings, self.paths.http_cache)
        provider = make_provider(
            settings, http,
            on_tokens_changed=lambda access, refresh: keep_renewed_tokens(
                self.paths.settings_file, access, refresh),
            on_sign_in_lost=lambda refresh: forget_refused_sign_in(self.paths.settings_file,
                                                                   refresh))
        self._made = (settings, http, provider)
        return provider

    def search(self, settings: Settings, text: str, per_page: int = 25) -> ProviderResult:
        """Beatport's tracks for `text`; ProviderError and its kin say what went wrong."""
        text = " ".join(text.split())
        if not text:
            raise CuepointError("Type what to search for (artist and title work best).")
        if len(text) > MAX_QUERY:
            raise CuepointError(f"A search is at most {MAX_QUERY} characters long.")
        with self._lock:
            result: ProviderResult = self._provider(settings).search(text, per_page=per_page)
        return result

    def track(self, settings: Settings, beatport_id: int) -> BeatportTrack:
        """The Beatport track with this id; CuepointError, in one sentence, when Beatport
        has none."""
        with self._lock:
            found: ProviderResult = self._provider(settings).track_by_id(beatport_id)
        wanted = next((track for track in found.tracks if track.id == beatport_id), None)
        if wanted is None:
            raise CuepointError(f"Beatport has no track {beatport_id}: check the number (it "
                                "ends the track's Beatport address).")
        return wanted

    def close(self) -> None:
        with self._lock:
            self.close_locked()

    def close_locked(self) -> None:
        if self._made is not None:
            self._made[1].close()
            self._made = None


def scored(rekordbox: RekordboxTrack, tracks: tuple[BeatportTrack, ...]) -> list[dict[str, Any]]:
    """Tracks as candidates of `rekordbox` (the candidate JSON of `queries.candidate_shape`,
    without a stored id), scored as matching scores them, best first."""
    from cuepoint_tray.matching.profile import beatport_profile, rekordbox_profile
    from cuepoint_tray.matching.scoring import score
    from cuepoint_tray.store.queries import dict_of

    profile = rekordbox_profile(rekordbox)
    found = []
    for track in tracks:
        total, components, vetoes = score(profile, beatport_profile(track))
        found.append({"id": None, "rank": 0, "score": round(total, 4),
                      "components": components_json(components), "vetoes": list(vetoes),
                      "lost_because": "; ".join(vetoes), "found_by": "manual",
                      "beatport": dict_of(track)})
    found.sort(key=lambda c: (not c["vetoes"], c["score"]), reverse=True)
    for rank, candidate in enumerate(found, start=1):
        candidate["rank"] = rank
    return found
