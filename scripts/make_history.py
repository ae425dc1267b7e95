"""Generate a large, realistic history file for the dashboard benchmarks.

    python scripts/make_history.py OUT.sqlite3 --sessions 2000 --tracks-per-session 300 \
        --queries-per-track 2.5 --candidates-per-track 3

Rows go in with executemany in big transactions, straight through sqlite3 and not through
the HistoryWriter: the point is a big file fast. They are written as schema version 3 had
them (candidates in full rows), then the file is opened as the app opens it, which migrates
it to the newest schema (version 5 packs the candidates): so the file is also a test of the
migrations at scale, and the time they took is printed. Playlists
come from a fixed pool and keep their tracks, so sessions are reruns of each other, as a DJ's
are; the statuses, query counts, cache hits and 429s vary around realistic rates.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from peewee import SqliteDatabase

from cuepoint_tray.store import open_history
from cuepoint_tray.store.migrations import STEPS, migrate

QUERY_TYPES = ("isrc", "full", "title_artist", "title", "relaxed")
STATUSES = (("matched", 0.70), ("review", 0.12), ("unmatched", 0.15), ("error", 0.03))
SESSION_STATUSES = (("completed", 0.86), ("cancelled", 0.06), ("interrupted", 0.04),
                    ("paused", 0.02), ("failed", 0.02))
COMPONENTS = ("title", "artists", "version", "duration", "bpm", "key", "year", "label")
GENRES = ("Techno (Peak Time / Driving)", "Melodic House & Techno", "Tech House", "Deep House",
          "Minimal / Deep Tech", "Progressive House", "Afro House", "Trance (Main Floor)")
TRACK_COLUMNS = (
    "id, session_id, playlist, position, rb_track_id, rb_name, rb_artist, rb_album, rb_genre, "
    "rb_label, rb_mix, rb_remixer, rb_year, rb_total_time, rb_average_bpm, rb_tonality, "
    "rb_location, rb_comments, status, confidence, score, breakdown, review_candidate_id, "
    "review_state, reviewed_at, chosen_candidate_id, reason, error, elapsed_ms, queries, "
    "candidates, early_exit_at, bp_id, bp_title, bp_mix_name, bp_artists, bp_remixers, bp_bpm, "
    "bp_key_name, bp_camelot, bp_genre, bp_sub_genre, bp_label, bp_release, bp_release_date, "
    "bp_length_ms, bp_isrc, bp_url")
QUERY_COLUMNS = (
    "track_result_id, session_id, number, type, text, elapsed_ms, network_ms, parse_ms, "
    "candidates, from_cache, attempts, http_status, retry_after_s, rate_limited, error, "
    "throttle_wait_ms")
CANDIDATE_COLUMNS = (
    "id, track_result_id, rank, score, components, vetoes, lost_because, found_by, bp_id, "
    "bp_title, bp_mix_name, bp_artists, bp_remixers, bp_bpm, bp_key_name, bp_camelot, "
    "bp_genre, bp_sub_genre, bp_label, bp_release, bp_release_date, bp_length_ms, bp_isrc, "
    "bp_url")
SESSION_COLUMNS = (
    "id, started_at, ended_at, status, reason, playlists, xml_path, xml_sha256, provider, "
    "settings, app_version, pid, hostname, tracks, done, matched, review, unmatched, errors, "
    "queries, requests, cache_hits, retries, rate_limited, wall_ms, report_path")


def _marks(columns: str) -> str:
    return ",".join("?" * len(columns.split(",")))


@dataclass
class Library:
    """Rekordbox tracks (as tuples of rb_* values) and their Beatport twins (bp_* values)."""

    rekordbox: list[tuple[object, ...]] = field(default_factory=list)
    beatport: list[tuple[object, ...]] = field(default_factory=list)
    breakdowns: list[str] = field(default_factory=list)  # a few shapes, shared


def make_library(rng: random.Random, size: int) -> Library:
    library = Library()
    for n in range(size):
        artist = "" if rng.random() < 0.04 else f"Artist {n % 3000}"
        name = f"Track {n}" if artist else f"Artist {n % 3000} - Track {n}"
        library.rekordbox.append((
            str(100000 + n), name, artist, f"Album {n % 900}", rng.choice(GENRES),
            f"Label {n % 400}", rng.choice(("Original Mix", "Extended Mix", "Remix", "")), "",
            rng.randint(1995, 2026), rng.randint(180, 560), round(rng.uniform(118, 140), 2),
            rng.choice(("Am", "F#m", "Db", "C", "Gm")), f"file:///Music/DJ/{n:06d}.aiff", ""))
        library.beatport.append((
            5_000_000 + n, f"Track {n}", "Original Mix",
            json.dumps([f"Artist {n % 3000}"]), "[]", round(rng.uniform(118, 140), 1),
            "A Minor", "8A", rng.choice(GENRES), "", f"Label {n % 400}", f"Release {n % 5000}",
            f"20{rng.randint(10, 26)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
            rng.randint(180, 560) * 1000, f"GBX{n:09d}",
            f"https://www.beatport.com/track/track-{n}/{5_000_000 + n}"))
    for _ in range(64):
        library.breakdowns.append(json.dumps(
            [{"name": name, "similarity": round(rng.random(), 4), "weight": rng.choice((1, 2, 3)),
              "detail": f"{name} compared"} for name in COMPONENTS], separators=(",", ":")))
    return library


@dataclass
class Counters:
    track_id: int = 0
    candidate_id: int = 0


@dataclass
class SessionTotals:
    done: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("matched", "review", "unmatched", "error"), 0))
    queries: int = 0
    requests: int = 0
    cache_hits: int = 0
    retries: int = 0
    rate_limited: int = 0
    track_ms: float = 0.0


def _weighted(rng: random.Random, choices: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([c for c, _ in choices], [w for _, w in choices])[0]


def _query_count(rng: random.Random, mean: float) -> int:
    # 1 + a Poisson-ish tail, capped at the number of query types.
    extra = 0
    threshold, product, lam = math.exp(-(mean - 1)), rng.random(), mean - 1
    while product > threshold and lam > 0:
        extra += 1
        product *= rng.random()
    return min(len(QUERY_TYPES), 1 + extra)


class Generator:
    """Builds one session's rows at a time."""

    def __init__(self, args: argparse.Namespace, rng: random.Random, library: Library):
        self.args, self.rng, self.library = args, rng, library
        self.counters = Counters()
        pool = len(library.rekordbox)
        self.playlists = {f"Sets/Set {p:03d}": rng.sample(range(pool), args.tracks_per_session)
                          for p in range(args.playlists)}
        self.settings = json.dumps({"requests_per_second": 4.0, "concurrency": 4,
                                    "cache_expiry_days": 30.0, "report_format": "html"})

    def session(self, session_id: int, started_at: float) -> tuple[tuple[object, ...],
                                                                    list[tuple[object, ...]],
                                                                    list[tuple[object, ...]],
                                                                    list[tuple[object, ...]]]:
        rng = self.rng
        playlist = rng.choice(list(self.playlists))
        status = _weighted(rng, SESSION_STATUSES)
        planned = self.playlists[playlist]
        # Sessions that stopped early were over longer playlists: every session matches
        # --tracks-per-session tracks, so the totals come out as asked.
        length = len(planned) if status == "completed" else len(planned) + rng.randint(1, 200)
        totals = SessionTotals()
        tracks: list[tuple[object, ...]] = []
        queries: list[tuple[object, ...]] = []
        candidates: list[tuple[object, ...]] = []
        rerun_cache = rng.random() < 0.6  # the cache still holds most answers
        for position, library_index in enumerate(planned, start=1):
            self._track(session_id, playlist, position, library_index, rerun_cache, totals,
                        tracks, queries, candidates)
        wall_ms = totals.track_ms / 4 * rng.uniform(1.0, 1.3)  # four workers
        session = (session_id, started_at, started_at + wall_ms / 1000, status,
                   "" if status == "completed" else f"{status} by you", json.dumps([playlist]),
                   "/Users/dj/rekordbox.xml", "ab" * 32, "beatport-api", self.settings, "0.1.0",
                   40000 + session_id, "studio-mac", length, totals.done,
                   totals.counts["matched"], totals.counts["review"], totals.counts["unmatched"],
                   totals.counts["error"], totals.queries, totals.requests, totals.cache_hits,
                   totals.retries, totals.rate_limited, wall_ms,
                   f"/Users/dj/CuePoint/reports/{session_id}.html")
        return session, tracks, queries, candidates

    def _track(self, session_id: int, playlist: str, position: int, library_index: int,
               cached_rerun: bool, totals: SessionTotals, tracks: list[tuple[object, ...]],
               queries: list[tuple[object, ...]], candidates: list[tuple[object, ...]]) -> None:
        rng, library = self.rng, self.library
        self.counters.track_id += 1
        track_id = self.counters.track_id
        status = _weighted(rng, STATUSES)
        n_queries = _query_count(rng, self.args.queries_per_track)
        elapsed = self._queries(track_id, session_id, library_index, n_queries, cached_rerun,
                                status == "error", totals, queries)
        n_candidates = 0 if status in ("unmatched", "error") else self.args.candidates_per_track
        first_candidate = self.counters.candidate_id + 1
        for rank in range(1, n_candidates + 1):
            self.counters.candidate_id += 1
            twin = library.beatport[(library_index + rank - 1) % len(library.beatport)]
            candidates.append((self.counters.candidate_id, track_id, rank,
                               round(rng.uniform(0.3, 0.99), 4), rng.choice(library.breakdowns),
                               "[]" if rank == 1 else '["another remix"]',
                               "" if rank == 1 else "lower score", "full", *twin))
        confidence = {"matched": rng.choice(("strong", "strong", "medium")),
                      "review": "low"}.get(status, "none")
        chosen = library.beatport[library_index] if status == "matched" else (None,) * 16
        tracks.append((
            track_id, session_id, playlist, position, *library.rekordbox[library_index], status,
            confidence, round(rng.uniform(0.4, 0.99), 4),
            rng.choice(library.breakdowns) if n_candidates else "[]",
            first_candidate if status == "review" and n_candidates else None, "auto", None,
            None, "", "connection refused" if status == "error" else "", elapsed, n_queries,
            n_candidates, rng.randint(1, n_queries) if status == "matched" else None, *chosen))
        totals.done += 1
        totals.counts[status] += 1
        totals.track_ms += elapsed

    def _queries(self, track_id: int, session_id: int, library_index: int, count: int,
                 cached_rerun: bool, failed: bool, totals: SessionTotals,
                 queries: list[tuple[object, ...]]) -> float:
        rng = self.rng
        spent = 0.0
        for number in range(1, count + 1):
            cached = cached_rerun and rng.random() < 0.85
            limited = not cached and rng.random() < 0.01
            network = 0.0 if cached else rng.lognormvariate(5.6, 0.5)  # ~270 ms median
            throttle = 0.0 if cached else rng.expovariate(1 / 60)
            attempts = 0 if cached else 1 + limited + (rng.random() < 0.02)
            parse = rng.uniform(2, 15)
            elapsed = network + throttle + parse + (1000.0 if limited else 0.0)
            error = "connection refused" if failed and number == count else ""
            queries.append((track_id, session_id, number, QUERY_TYPES[number - 1],
                            f"{QUERY_TYPES[number - 1]} query {library_index}", elapsed, network,
                            parse, 0 if error else rng.randint(0, 25), int(cached),
                            attempts, None if error else (429 if limited else 200),
                            1.0 if limited else None, int(limited), error, throttle))
            spent += elapsed
            totals.queries += 1
            totals.requests += not cached
            totals.cache_hits += cached
            totals.retries += max(0, attempts - 1)
            totals.rate_limited += limited
        return spent


def generate(args: argparse.Namespace) -> None:
    out = Path(args.out)
    if out.exists():
        sys.exit(f"{out} exists; remove it first")
    older = SqliteDatabase(str(out), pragmas={"journal_mode": "wal"})
    # The rows below have version 3's columns (version 4 only adds the decisions table and
    # columns with defaults); version 5 then packs their candidates as the app would.
    migrate(older, None, steps=STEPS[:4])
    older.close()
    rng = random.Random(args.seed)
    library = make_library(rng, args.library)
    generator = Generator(args, rng, library)
    connection = sqlite3.connect(out, isolation_level=None)
    connection.execute("PRAGMA synchronous = OFF")  # a benchmark file: speed over safety
    started = time.perf_counter()
    first_start = time.time() - 730 * 86400
    for chunk_start in range(1, args.sessions + 1, args.sessions_per_transaction):
        chunk = range(chunk_start, min(args.sessions + 1,
                                       chunk_start + args.sessions_per_transaction))
        _write_chunk(connection, generator, chunk, first_start, args.sessions)
        print(f"\r{chunk[-1]}/{args.sessions} sessions, "
              f"{time.perf_counter() - started:.0f} s", end="", flush=True)
    _decide_half_the_reviews(connection)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    print(f"\nwrote {out} ({out.stat().st_size / 1e6:.0f} MB) in "
          f"{time.perf_counter() - started:.1f} s")
    migrating = time.perf_counter()
    open_history(out).close()  # migrated to the newest schema, as the app opens it
    for backup in out.parent.glob(f"{out.name}.bak-*"):
        backup.unlink()  # made before migrating a file with data; this one is generated
    print(f"migrated to the newest schema in {time.perf_counter() - migrating:.1f} s "
          f"({out.stat().st_size / 1e6:.0f} MB before a vacuum)")


def _decide_half_the_reviews(connection: sqlite3.Connection) -> None:
    """The DJ accepted the proposal of about half the tracks ever put to review (issue 14's
    decisions, one per Rekordbox track), so the reads join a realistic decisions table."""
    columns = CANDIDATE_COLUMNS.split(", ")[8:]
    connection.execute("BEGIN")
    connection.execute(
        f"INSERT OR IGNORE INTO decisions (library, rb_track_id, state, decided_at, "
        f"session_id, track_result_id, {', '.join(columns)}) "
        f"SELECT s.xml_path, t.rb_track_id, 'accepted', s.started_at, t.session_id, t.id, "
        f"{', '.join('c.' + name for name in columns)} FROM track_results t "
        "JOIN sessions s ON s.id = t.session_id JOIN candidates c ON c.id = "
        "t.review_candidate_id WHERE t.status = 'review' AND t.id % 2 = 0")
    connection.execute("COMMIT")


def _write_chunk(connection: sqlite3.Connection, generator: Generator, chunk: range,
                 first_start: float, total: int) -> None:
    rows: dict[str, list[tuple[object, ...]]] = {"s": [], "t": [], "q": [], "c": []}
    for session_id in chunk:
        started_at = first_start + 730 * 86400 * session_id / total
        session, tracks, queries, candidates = generator.session(session_id, started_at)
        rows["s"].append(session)
        rows["t"] += tracks
        rows["q"] += queries
        rows["c"] += candidates
    connection.execute("BEGIN")
    for table, columns, key in (("sessions", SESSION_COLUMNS, "s"),
                                ("track_results", TRACK_COLUMNS, "t"),
                                ("queries", QUERY_COLUMNS, "q"),
                                ("candidates", CANDIDATE_COLUMNS, "c")):
        connection.executemany(f"INSERT INTO {table} ({columns}) VALUES ({_marks(columns)})",
                               rows[key])
    connection.execute("COMMIT")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="the history file to create")
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--tracks-per-session", type=int, default=300)
    parser.add_argument("--queries-per-track", type=float, default=2.5)
    parser.add_argument("--candidates-per-track", type=int, default=3)
    parser.add_argument("--playlists", type=int, default=60, help="distinct playlists")
    parser.add_argument("--library", type=int, default=20000, help="Rekordbox tracks")
    parser.add_argument("--sessions-per-transaction", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args(argv)


if __name__ == "__main__":
    generate(parse_args())
