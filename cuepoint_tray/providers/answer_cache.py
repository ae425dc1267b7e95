"""The local cache of Beatport's answers, kept small: each answer is stored compressed (a
search page is mostly markup that zlib shrinks several times over), and the cache is held
under a cap by letting the answers kept longest ago go first.

requests-cache keeps answers in one SQLite table (`responses`: key, value, expires) and
writes a row anew each time it saves one, so the rowid order is the order they were kept.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Callable
from typing import Any

import requests_cache
from requests_cache.serializers import SerializerPipeline, Stage, pickle_serializer

_log = logging.getLogger(__name__)

COMPRESSION_LEVEL = 6
# Saves between two looks at the cache's size: the look sums the size of every row.
CHECK_EVERY = 50
# Trimming goes below the cap by this share, so it is not needed again at the next save.
TRIM_TO = 0.9
MEGABYTE = 1_000_000


def _compress(data: bytes) -> bytes:
    return zlib.compress(data, COMPRESSION_LEVEL)


def _decompress(data: bytes) -> bytes:
    try:
        return zlib.decompress(data)
    except zlib.error:  # kept before answers were compressed: a plain pickle
        return data


compressed_pickle = SerializerPipeline(
    [*pickle_serializer.stages, Stage(dumps=_compress, loads=_decompress)],
    name="pickle+zlib", is_binary=True)


def stored_bytes(cache: requests_cache.SQLiteCache) -> int:
    """What the kept answers weigh, compressed, in bytes."""
    with cache.responses.connection() as connection:
        row = connection.execute(
            f"SELECT COALESCE(SUM(LENGTH(value)), 0) FROM {cache.responses.table_name}"
        ).fetchone()
    return int(row[0])


def trim(cache: requests_cache.SQLiteCache, cap_bytes: int) -> int:
    """Drop the answers kept longest ago until the rest fit well under `cap_bytes`; returns
    how many went."""
    total = stored_bytes(cache)
    if total <= cap_bytes:
        return 0
    table = cache.responses.table_name
    to_free, freed, last = total - int(cap_bytes * TRIM_TO), 0, None
    with cache.responses.connection() as connection:
        for rowid, size in connection.execute(
                f"SELECT rowid, LENGTH(value) FROM {table} ORDER BY rowid"):
            freed, last = freed + int(size or 0), rowid
            if freed >= to_free:
                break
    if last is None:
        return 0
    with cache.responses.connection(commit=True) as connection:
        gone = connection.execute(f"DELETE FROM {table} WHERE rowid <= ?", (last,)).rowcount
    _log.info("the HTTP cache was over %.0f MB: the %d oldest answers made room",
              cap_bytes / MEGABYTE, gone)
    return int(gone)


def bounded(save: Callable[..., None], cache: requests_cache.SQLiteCache,
            cap_bytes: int) -> Callable[..., None]:
    """`save`, and every CHECK_EVERY saves a trim back under the cap; the cache is trimmed
    once now too (the cap may have been lowered since the last run)."""
    saves = 0
    lock = threading.Lock()
    _trim_if_possible(cache, cap_bytes)

    def save_and_trim(*args: Any, **kwargs: Any) -> None:
        nonlocal saves
        save(*args, **kwargs)
        with lock:
            saves += 1
            due = saves % CHECK_EVERY == 0
        if due:
            _trim_if_possible(cache, cap_bytes)

    return save_and_trim


def _trim_if_possible(cache: requests_cache.SQLiteCache, cap_bytes: int) -> None:
    try:
        trim(cache, cap_bytes)
    except Exception as exc:  # a locked or damaged cache file: the answers still come
        _log.warning("the HTTP cache could not be trimmed: %s", exc)
