"""Files a match session writes: results, candidates and queries as CSV, and a JSON summary."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from cuepoint_tray.domain import BeatportTrack, MatchResult
from cuepoint_tray.events import SessionSummary, TrackJob
from cuepoint_tray.file_writing import safe_rows, whole_file, write_whole
from cuepoint_tray.finite import finite
from cuepoint_tray.matching.scoring import WEIGHTS

Row = tuple[TrackJob, MatchResult]

RESULT_COLUMNS = (
    "playlist", "position", "rekordbox_track_id", "rekordbox_artist", "rekordbox_title",
    "rekordbox_mix", "rekordbox_key", "rekordbox_bpm", "rekordbox_label", "rekordbox_genre",
    "rekordbox_year", "status", "confidence", "score", "beatport_track_id", "beatport_artists",
    "beatport_title", "beatport_mix", "beatport_remixers", "beatport_key", "beatport_camelot",
    "beatport_bpm", "beatport_label", "beatport_genre", "beatport_release",
    "beatport_release_date", "beatport_url", "review_candidate_id", "reason", "queries",
    "elapsed_ms",
)


def result_row(job: TrackJob, result: MatchResult) -> dict[str, Any]:
    """The Rekordbox fields beside Beatport's for one track."""
    track, chosen = result.rekordbox, result.match
    row: dict[str, Any] = {
        "playlist": job.playlist, "position": job.position,
        "rekordbox_track_id": track.track_id, "rekordbox_artist": track.artist,
        "rekordbox_title": track.name, "rekordbox_mix": track.mix,
        "rekordbox_key": track.tonality, "rekordbox_bpm": track.average_bpm or "",
        "rekordbox_label": track.label, "rekordbox_genre": track.genre,
        "rekordbox_year": track.year or "", "status": result.status,
        "confidence": result.confidence, "score": round(result.score, 4),
        "review_candidate_id": result.review.id if result.review else "",
        "reason": result.error or result.reason, "queries": len(result.queries),
        "elapsed_ms": round(result.elapsed_ms, 1),
    }
    row.update(_beatport_fields(chosen))
    return row


def _beatport_fields(track: BeatportTrack | None) -> dict[str, Any]:
    if track is None:
        return {name: "" for name in RESULT_COLUMNS if name.startswith("beatport_")}
    return {
        "beatport_track_id": track.id, "beatport_artists": ", ".join(track.artists),
        "beatport_title": track.title, "beatport_mix": track.mix_name,
        "beatport_remixers": ", ".join(track.remixers), "beatport_key": track.key_name,
        "beatport_camelot": track.camelot, "beatport_bpm": track.bpm or "",
        "beatport_label": track.label, "beatport_genre": track.genre,
        "beatport_release": track.release, "beatport_release_date": track.release_date,
        "beatport_url": track.url,
    }


CANDIDATE_COLUMNS = (
    "rekordbox_track_id", "rank", "beatport_track_id", "artists", "title", "mix", "score",
    *(f"{name}_similarity" for name in WEIGHTS), "vetoes", "lost_because", "found_by",
)


def candidate_rows(rows: Iterable[Row]) -> Iterable[dict[str, Any]]:
    for _job, result in rows:
        for candidate in result.candidates:
            row: dict[str, Any] = {
                "rekordbox_track_id": result.rekordbox.track_id, "rank": candidate.rank,
                "beatport_track_id": candidate.track.id,
                "artists": ", ".join(candidate.track.artists), "title": candidate.track.title,
                "mix": candidate.track.mix_name, "score": candidate.score,
                "vetoes": "; ".join(candidate.vetoes), "lost_because": candidate.lost_because,
                "found_by": candidate.found_by,
            }
            for component in candidate.components:
                row[f"{component.name}_similarity"] = component.similarity
            yield row


QUERY_COLUMNS = (
    "rekordbox_track_id", "number", "type", "text", "elapsed_ms", "parse_ms", "candidates",
    "from_cache", "attempts", "status", "error",
)


def query_rows(rows: Iterable[Row]) -> Iterable[dict[str, Any]]:
    for _job, result in rows:
        for number, query in enumerate(result.queries, start=1):
            report = query.report
            yield {
                "rekordbox_track_id": result.rekordbox.track_id, "number": number,
                "type": query.type, "text": query.text, "elapsed_ms": round(query.elapsed_ms, 1),
                "parse_ms": round(query.parse_ms, 2), "candidates": query.candidates,
                "from_cache": report.from_cache if report else "",
                "attempts": report.attempts if report else "",
                "status": report.status if report else "", "error": query.error,
            }


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> None:
    """Written whole (a temporary file renamed), each cell safe to open in a spreadsheet."""
    with whole_file(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(safe_rows(rows))


def write_session_files(folder: Path, rows: Sequence[Row]) -> list[Path]:
    """results.csv, candidates.csv and queries.csv in `folder`; returns their paths."""
    files = [
        (folder / "results.csv", RESULT_COLUMNS, (result_row(j, r) for j, r in rows)),
        (folder / "candidates.csv", CANDIDATE_COLUMNS, candidate_rows(rows)),
        (folder / "queries.csv", QUERY_COLUMNS, query_rows(rows)),
    ]
    for path, columns, content in files:
        write_csv(path, columns, content)
    return [path for path, _, _ in files]


def session_json(meta: dict[str, Any], summary: SessionSummary,
                 rows: Sequence[Row]) -> dict[str, Any]:
    """{"session": {...}, "tracks": [...]}: one entry per playlist track, in playlist order."""
    tracks = []
    for job, result in rows:
        entry = result_row(job, result)
        entry["beatport_track_id"] = result.match.id if result.match else None
        entry["review_candidate_id"] = result.review.id if result.review else None
        entry["candidates"] = len(result.candidates)
        entry["early_exit_at"] = result.early_exit_at
        tracks.append(entry)
    return {"session": {**meta, **summary.as_dict()}, "tracks": tracks}


def write_json(path: Path, document: dict[str, Any]) -> None:
    write_whole(path, json.dumps(finite(document), indent=2, ensure_ascii=False,
                                 allow_nan=False).encode("utf-8"))
