"""Raw windows, stored as chunks: one row per (robot, stream, hour) piece of a message.

Why chunks rather than one row per window: with batched messages (a robot back from an outage
sends up to 500 windows at once) a row, its key and two index entries per window were most of the
store's work per window (docs/benchmarks/store.md), while nothing reads raw windows one at a time:
the counters route reads a robot's ragged hour edges, retention deletes by age.  A message's windows
all come from one robot and stream, with increasing ``seq``; cut where the UTC hour of ``t0``
changes, each piece is one row holding the windows as a msgpack array of
``[seq, t0, t1, counts, gauges]``.  A chunk lies inside one hour bucket, so a time-range read
touches only the chunks of the hours it needs (``bucket_ms`` index).

Exactly once, per window: every ``seq`` of a (robot, stream) is in at most one chunk, and the key
(robot, stream, last_seq) keeps chunks from colliding.  A message whose first seq is above the
highest stored for its stream (``high_seq``, the usual case: agents send in seq order) is new as a
whole; otherwise (a redelivery, an agent resending after a restart) the seqs already stored in the
overlapping chunks (``stored_seqs``) are dropped as duplicates window by window.

The SQL stays portable (plain B-tree indexes, ``LIMIT``, blobs) for the PostgreSQL backend.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import NamedTuple

import msgpack

from collector.store.records import WindowRow
from collector.store.sqlite.sql import Insert, insert_many
from protocol.logs import get_logger
from protocol.timeunits import HOUR_MS

log = get_logger("collector.store.sqlite.raw")



class ChunkRow(NamedTuple):
    """A ``window_chunks`` row: one message's windows of one hour bucket, packed."""

    robot: str
    stream: str
    last_seq: int
    first_seq: int
    bucket_ms: int
    n: int
    received_ms: int
    windows: bytes  # msgpack array of [seq, t0, t1, counts, gauges]


INSERT_CHUNK = Insert("window_chunks", ChunkRow._fields)


def chunk_row(robot: str, stream: str, bucket_ms: int, received_ms: int, windows: list[WindowRow]) -> ChunkRow:
    """A ``window_chunks`` row for ``windows`` (of one hour bucket, in seq order)."""
    return tuple.__new__(ChunkRow, (robot, stream, windows[-1][0], windows[0][0], bucket_ms, len(windows),
                                    received_ms, msgpack.packb(windows)))  # ChunkRow(...) without its Python-level call


def high_seq(conn: sqlite3.Connection, robot: str, stream: str) -> int:
    """The highest seq stored for a stream (0 if none): one seek on the key."""
    row = conn.execute("SELECT MAX(last_seq) FROM window_chunks WHERE robot = ? AND stream = ?",
                       (robot, stream)).fetchone()
    return row[0] or 0


def stored_seqs(conn: sqlite3.Connection, robot: str, stream: str, first: int, last: int) -> set[int]:
    """Which seqs in ``[first, last]`` a stream has stored already."""
    out: set[int] = set()
    for (blob,) in conn.execute(
            "SELECT windows FROM window_chunks WHERE robot = ? AND stream = ? AND last_seq >= ? AND first_seq <= ?",
            (robot, stream, first, last)):
        out.update(w[0] for w in msgpack.unpackb(blob, raw=False) if first <= w[0] <= last)
    return out


def windows_starting(conn: sqlite3.Connection, robot: str, t0_from: int, t0_to: int) -> Iterator[list]:
    """A robot's windows with ``t0_from <= t0 < t0_to``, as ``[seq, t0, t1, counts, gauges]``;
    reads only the chunks of the hours the range touches."""
    first_bucket = t0_from - t0_from % HOUR_MS
    for (blob,) in conn.execute(
            "SELECT windows FROM window_chunks WHERE robot = ? AND bucket_ms >= ? AND bucket_ms < ?",
            (robot, first_bucket, t0_to)):
        for w in msgpack.unpackb(blob, raw=False):
            if t0_from <= w[1] < t0_to:
                yield w


def all_windows(conn: sqlite3.Connection, robot: str | None = None) -> Iterator[tuple]:
    """Every stored window as ``(robot, stream, seq, t0, t1, counts, gauges)`` in (robot, stream,
    seq) order: for tests, tools and exports, not for the hot path."""
    where, args = ("WHERE robot = ?", (robot,)) if robot is not None else ("", ())
    for r, stream, blob in conn.execute(
            f"SELECT robot, stream, windows FROM window_chunks {where} ORDER BY robot, stream, last_seq", args):
        for seq, t0, t1, counts, gauges in msgpack.unpackb(blob, raw=False):
            yield r, stream, seq, t0, t1, counts, gauges


def window_count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT COALESCE(SUM(n), 0) FROM window_chunks").fetchone()[0]


def adopt_legacy_windows(conn: sqlite3.Connection, progress_every: int = 500_000) -> int:
    """Migration 0005: move the rows of the old one-row-per-window ``windows`` table into chunks
    (grouped by robot, stream and hour, received time kept per chunk as the latest of its windows),
    then drop it.  Runs inside the migration's transaction; logs a progress line on big stores."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'windows'").fetchone():
        return 0
    moved = 0
    key, bucket, received, chunk, rows = None, None, 0, [], []

    def close() -> None:
        if chunk:
            rows.append(chunk_row(key[0], key[1], bucket, received, chunk))

    for robot, stream, seq, t0, t1, counts, gauges, received_ms in conn.execute(
            "SELECT robot, stream, seq, t0, t1, counts, gauges, received_ms FROM windows "
            "ORDER BY robot, stream, seq"):
        hb = t0 - t0 % HOUR_MS
        if (robot, stream) != key or hb != bucket:
            close()
            key, bucket, received, chunk = (robot, stream), hb, 0, []
        chunk.append((seq, t0, t1, msgpack.unpackb(counts, raw=False),
                      msgpack.unpackb(gauges, raw=False) if gauges is not None else {}))
        received = max(received, received_ms)
        moved += 1
        if len(rows) >= 1000:
            insert_many(conn, INSERT_CHUNK, rows)
            rows.clear()
        if moved % progress_every == 0:
            log.info("migrating_windows_to_chunks", windows=moved)
    close()
    insert_many(conn, INSERT_CHUNK, rows)
    conn.execute("DROP TABLE windows")
    if moved:
        log.info("migrated_windows_to_chunks", windows=moved)
    return moved
