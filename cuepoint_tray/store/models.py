"""The history's tables, as peewee models, and the conversions to and from domain objects.

The models are bound to no database: every query names the database it runs on
(`query.execute(db)`), so one process can hold the writer's and the readers' databases, and
tests a fresh file each. Nothing above the store sees a model instance: rows go out as dicts
or domain objects.

Times are seconds since the epoch (UTC) as REAL; JSON columns hold text.
"""

from __future__ import annotations

import json
from typing import Any

from peewee import (
    SQL,
    AutoField,
    BlobField,
    BooleanField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from cuepoint_tray.changes import will_change
from cuepoint_tray.domain import (
    BeatportTrack,
    Candidate,
    Component,
    MatchResult,
    QueryRecord,
    RekordboxTrack,
)
from cuepoint_tray.store.packing import Pack, candidates_value, value_text

SESSION_STATUSES = ("running", "paused", "completed", "cancelled", "interrupted", "failed")
TRACK_STATUSES = ("matched", "review", "unmatched", "error")
REVIEW_STATES = ("auto", "accepted", "rejected", "changed")  # as the track JSON names them
DECISION_STATES = ("accepted", "rejected", "picked")


class JSONField(TextField):
    """Any JSON value, stored as compact text."""

    def db_value(self, value: Any) -> str | None:
        return None if value is None else json.dumps(value, separators=(",", ":"))

    def python_value(self, value: str | None) -> Any:
        return None if value is None else json.loads(value)


class _Table(Model):
    id = AutoField()

    class Meta:
        database = None
        legacy_table_names = False


class SessionTable(_Table):
    """One matching session over one or more playlists, with its running totals."""

    started_at = FloatField()
    ended_at = FloatField(null=True)
    status = TextField(default="running")
    reason = TextField(default="")
    playlists = JSONField(default=list)
    xml_path = TextField(default="")
    xml_sha256 = TextField(default="")
    provider = TextField(default="")
    settings = JSONField(default=dict)  # secrets removed
    app_version = TextField(default="")
    pid = IntegerField(null=True)
    hostname = TextField(default="")
    tracks = IntegerField(default=0)
    done = IntegerField(default=0)
    matched = IntegerField(default=0)
    review = IntegerField(default=0)
    unmatched = IntegerField(default=0)
    errors = IntegerField(default=0)
    queries = IntegerField(default=0)
    requests = IntegerField(default=0)
    cache_hits = IntegerField(default=0)
    retries = IntegerField(default=0)
    rate_limited = IntegerField(default=0)
    wall_ms = FloatField(default=0.0)
    report_path = TextField(default="")  # added in version 2
    playlist_tracks = JSONField(default=list)  # added in version 3: sizes, as `playlists`
    wall_at = FloatField(null=True)  # added in version 4: when wall_ms was written
    # Added in version 4: wall-clock time at least one request waited for its throttle slot;
    # None for sessions of older versions, which kept only the per-query waits.
    throttle_wall_ms = FloatField(null=True)

    class Meta:
        table_name = "sessions"
        indexes = ((("started_at",), False), (("status", "started_at"), False))


def _beatport_columns(prefix: str, *, null: bool) -> dict[str, Any]:
    """Every BeatportTrack field as a column, so an answer can be exported without Beatport."""
    text: dict[str, Any] = {"null": True} if null else {"default": ""}
    listed: dict[str, Any] = {"null": True} if null else {"default": list}
    required: dict[str, Any] = {"null": null}
    return {
        f"{prefix}id": IntegerField(**required),
        f"{prefix}title": TextField(**text),
        f"{prefix}mix_name": TextField(**text),
        f"{prefix}artists": JSONField(**listed),
        f"{prefix}remixers": JSONField(**listed),
        f"{prefix}bpm": FloatField(null=True),
        f"{prefix}key_name": TextField(**text),
        f"{prefix}camelot": TextField(**text),
        f"{prefix}genre": TextField(**text),
        f"{prefix}sub_genre": TextField(**text),
        f"{prefix}label": TextField(**text),
        f"{prefix}release": TextField(**text),
        f"{prefix}release_date": TextField(**text),
        f"{prefix}length_ms": IntegerField(null=True),
        f"{prefix}isrc": TextField(**text),
        f"{prefix}url": TextField(**text),
    }


class TrackTable(_Table):
    """One playlist entry's outcome: the Rekordbox track as read and the Beatport track chosen."""

    session = ForeignKeyField(SessionTable, on_delete="CASCADE", column_name="session_id",
                              index=False)
    playlist = TextField()
    position = IntegerField()
    rb_track_id = TextField()
    rb_name = TextField(default="")
    rb_artist = TextField(default="")
    rb_album = TextField(default="")
    rb_genre = TextField(default="")
    rb_label = TextField(default="")
    rb_mix = TextField(default="")
    rb_remixer = TextField(default="")
    rb_year = IntegerField(null=True)
    rb_total_time = IntegerField(null=True)
    rb_average_bpm = FloatField(null=True)
    rb_tonality = TextField(default="")
    rb_location = TextField(default="")
    rb_comments = TextField(default="")
    status = TextField()
    confidence = TextField(default="none")
    score = FloatField(default=0.0)
    review_candidate_id = IntegerField(null=True)  # candidates.id of the doubtful best one
    # Before version 4 the DJ's review was kept here; it moved to `decisions` (per Rekordbox
    # track, for good) and these three are no longer read or written.
    review_state = TextField(default="auto")
    reviewed_at = FloatField(null=True)
    chosen_candidate_id = IntegerField(null=True)
    reason = TextField(default="")
    error = TextField(default="")
    elapsed_ms = FloatField(default=0.0)
    queries = IntegerField(default=0)
    candidates = IntegerField(default=0)
    early_exit_at = IntegerField(null=True)
    # The Beatport track chosen: its id, its title (for the track list's search), and its
    # other fields in `packed_candidates` (version 5), from the candidate it was.
    bp_id = IntegerField(null=True)
    bp_title = TextField(null=True)
    # Added in version 4: the DJ's decision (accepted, rejected, picked) this session met when
    # it matched the track, and used instead of asking again; "" when there was none.
    decision_used = TextField(default="")
    # The kept candidates' Beatport tracks and scores, and the breakdown (packing.py).
    packed_candidates = BlobField(null=True)
    # Added in version 5: whether exporting the app's own match with the default options
    # changes a field in Rekordbox (`changes.will_change`), for the "will change" counts.
    fills_fields = IntegerField(default=0)

    class Meta:
        table_name = "track_results"
        indexes = (
            (("session", "playlist", "position"), True),
            (("session", "rb_track_id"), False),
            (("session", "status"), False),  # added in version 2: the review queue
        )


class QueryTable(_Table):
    """One query sent for a track, and what it cost."""

    track_result = ForeignKeyField(TrackTable, on_delete="CASCADE",
                                   column_name="track_result_id", index=False)
    # Denormalised so a session's aggregates read one index range, without a join.
    session = ForeignKeyField(SessionTable, on_delete="CASCADE", column_name="session_id",
                              index=False)
    number = IntegerField()
    type = TextField()
    text = TextField(default="")
    elapsed_ms = FloatField(default=0.0)  # request (throttle and retries included) + parsing
    network_ms = FloatField(default=0.0)  # waiting for Beatport, throttle excluded
    parse_ms = FloatField(default=0.0)
    candidate_count = IntegerField(default=0)  # "candidates" before version 5
    from_cache = BooleanField(null=True)  # None when no request was made
    attempts = IntegerField(null=True)
    http_status = IntegerField(null=True)
    retry_after_s = FloatField(null=True)
    rate_limited = BooleanField(default=False)
    error = TextField(default="")
    throttle_wait_ms = FloatField(default=0.0)  # added in version 2

    class Meta:
        table_name = "queries"
        indexes = ((("track_result", "number"), False), (("session", "type"), False))


class CandidateTable(_Table):
    """A Beatport track considered for a track: its identity (the DJ's review points at its
    id). Its Beatport fields and score are in its track's `packed_candidates`, by rank."""

    track_result = ForeignKeyField(TrackTable, on_delete="CASCADE",
                                   column_name="track_result_id", index=False)
    rank = IntegerField()
    bp_id = IntegerField()

    class Meta:
        table_name = "candidates"
        indexes = ((("track_result", "rank"), False),)


class ErrorTable(_Table):
    """Something that went wrong during a session, where, and when."""

    session = ForeignKeyField(SessionTable, on_delete="CASCADE", column_name="session_id",
                              index=False)
    at = FloatField()
    where = TextField(default="")
    message = TextField()

    class Meta:
        table_name = "errors"
        indexes = ((("session", "at"), False),)


class DecisionTable(_Table):
    """The DJ's decision on a Rekordbox track of a library, for good (added in version 4):
    accepted (the app's proposal), rejected (no Beatport match) or picked (another Beatport
    track). The Beatport track to write is kept here whole, so the decision outlives the
    session and the candidate rows it was made from."""

    library = TextField()  # the library's path as sessions store it (`sessions.xml_path`)
    rb_track_id = TextField()
    state = TextField()
    decided_at = FloatField()
    session_id = IntegerField(null=True)  # where it was made (no foreign key: it outlives it)
    track_result_id = IntegerField(null=True)

    class Meta:
        table_name = "decisions"
        indexes = ((("library", "rb_track_id"), True),)


for _name, _field in _beatport_columns("bp_", null=True).items():
    DecisionTable._meta.add_field(_name, _field)


class SchemaVersionTable(_Table):
    """The single row saying which migration the file has reached."""

    version = IntegerField()

    class Meta:
        table_name = "schema_version"
        constraints = [SQL("CHECK (id = 1)")]


MODELS: tuple[type[Model], ...] = (SessionTable, TrackTable, QueryTable, CandidateTable, ErrorTable,
                                   DecisionTable)


# --- conversions at the edge -------------------------------------------------------------

# A track's ISRC is kept in the history as the text of its "isrc" query, not as a column.
_KEPT = tuple(name for name in RekordboxTrack.__slots__ if name != "isrc")


def rekordbox_columns(track: RekordboxTrack) -> dict[str, Any]:
    """A RekordboxTrack as track_results columns."""
    return {"rb_" + name: getattr(track, name) for name in _KEPT}


def rekordbox_from(row: dict[str, Any]) -> RekordboxTrack:
    """The RekordboxTrack a track_results row was made from."""
    return RekordboxTrack(**{name: row["rb_" + name] for name in _KEPT})


def beatport_from(row: dict[str, Any]) -> BeatportTrack | None:
    """The Beatport track a track_results row chose (bp_id and packed_candidates); None if
    none."""
    packed = row.get("packed_candidates")
    return Pack(packed).match(row.get("bp_id")) if row.get("bp_id") is not None else None


def beatport_columns(track: BeatportTrack | None) -> dict[str, Any]:
    """A BeatportTrack as bp_* columns (all None when there is no track)."""
    if track is None:
        return {"bp_" + name: None for name in BeatportTrack.__slots__}
    values = {"bp_" + name: getattr(track, name) for name in BeatportTrack.__slots__}
    values["bp_artists"] = list(track.artists)
    values["bp_remixers"] = list(track.remixers)
    return values


def beatport_of_columns(row: dict[str, Any]) -> BeatportTrack | None:
    """The BeatportTrack in a row's bp_* columns (a decisions row), JSON text or lists
    alike; None if absent."""
    if row.get("bp_id") is None:
        return None
    values = {name: row["bp_" + name] for name in BeatportTrack.__slots__}
    for name in ("artists", "remixers"):
        raw = values[name]
        values[name] = tuple(json.loads(raw) if isinstance(raw, str) else raw or ())
    return BeatportTrack(**values)


def candidate_beatport(row: dict[str, Any]) -> BeatportTrack | None:
    """The Beatport track of a candidates row joined with its track's packed_candidates."""
    return Pack(row.get("packed_candidates")).beatport(row["rank"], row["bp_id"])


def components_json(components: tuple[Component, ...]) -> list[dict[str, Any]]:
    """Score components as JSON-ready dicts."""
    return [{"name": c.name, "similarity": round(c.similarity, 4), "weight": c.weight,
             "detail": c.detail} for c in components]


CANDIDATES_KEPT = 10


def _best_candidate(result: MatchResult) -> tuple[int, Candidate] | None:
    """The chosen (or doubtful, or best) candidate and its 1-based rank."""
    wanted = result.match or result.review
    for rank, candidate in enumerate(result.candidates, start=1):
        if wanted is None or candidate.track.id == wanted.id:
            return rank, candidate
    return None


def kept_candidates(result: MatchResult) -> list[tuple[int, Candidate]]:
    """The candidates stored for a track, with their 1-based ranks: the best
    CANDIDATES_KEPT, and the one chosen or offered for review wherever it ranks.

    A search returns up to 25 per query; the tail never wins and only costs the writer
    (scripts/bench_persistence.py). `track_results.candidates` still counts them all."""
    best = _best_candidate(result)
    wanted = best[0] if best else 0
    return [(rank, candidate) for rank, candidate in enumerate(result.candidates, start=1)
            if rank <= CANDIDATES_KEPT or rank == wanted]


def review_rank(result: MatchResult) -> int | None:
    """The rank of the candidate offered for review, when there is one."""
    if result.review is None:
        return None
    best = _best_candidate(result)
    return best[0] if best else None


def _fields(track: RekordboxTrack | BeatportTrack) -> dict[str, Any]:
    return {name: getattr(track, name) for name in track.__slots__}


def track_columns(session_id: int, playlist: str, position: int, result: MatchResult,
                  kept: list[tuple[int, Candidate]]) -> dict[str, Any]:
    """A MatchResult as a track_results row, but for its `kept` candidates: their value's
    text still to compress under "packed_candidates" (`packing.pack_texts` compresses a
    batch's at once)."""
    best = _best_candidate(result)
    match = result.match
    candidates = candidates_value(kept, best[0] if best else None, match)
    return {
        "session": session_id, "playlist": playlist, "position": position,
        **rekordbox_columns(result.rekordbox),
        "bp_id": match.id if match else None, "bp_title": match.title if match else None,
        "packed_candidates": None if candidates is None else value_text(candidates),
        "fills_fields": int(match is not None
                            and will_change(_fields(result.rekordbox), _fields(match))),
        "status": result.status, "confidence": result.confidence, "score": result.score,
        "reason": result.reason, "error": result.error, "elapsed_ms": result.elapsed_ms,
        "queries": len(result.queries), "candidates": len(result.candidates),
        "early_exit_at": result.early_exit_at, "decision_used": result.decision_used,
    }


def query_columns(query: QueryRecord, number: int) -> dict[str, Any]:
    """A QueryRecord as a queries row (without its track and session ids).

    elapsed_ms is the query's whole cost (request, throttle and retries included, plus
    parsing); network_ms is the part spent waiting for Beatport itself.
    """
    report = query.report
    throttle = report.throttle_wait_ms if report else 0.0
    return {
        "number": number, "type": query.type, "text": query.text,
        "elapsed_ms": query.elapsed_ms + query.parse_ms,
        "network_ms": max(0.0, query.elapsed_ms - throttle), "parse_ms": query.parse_ms,
        "candidate_count": query.candidates,
        "from_cache": report.from_cache if report else None,
        "attempts": report.attempts if report else None,
        "http_status": report.status if report else None,
        "retry_after_s": report.retry_after_s if report else None,
        "rate_limited": bool(report and (report.retry_after_s is not None
                                         or report.status == 429)),
        "error": query.error or (report.error if report else ""),
        "throttle_wait_ms": throttle,
    }
