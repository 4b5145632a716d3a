"""SQLite implementation of the store seam's ``ingest`` part (see collector/store/seam.py): the
writer thread's one write connection, the flush transaction and retention's deletes.

Caches kept across flushes (they save a query per message or per robot): the customers that
exist, each robot's committed customer, each stream's highest stored seq.  They may only run ahead
of what is committed, so a rolled-back flush clears them.  The per-stream highest seq assumes this
is the store's only writer of windows (one SQLite file, one writer process): a backend shared by
several collectors must read it inside the transaction instead.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from collector.store.records import Queued
from collector.store.seam import Outcome, TransientStoreError
from collector.store.sqlite.apply import apply_items
from collector.store.sqlite.db import connect_writer, describe, rollback

#: streams whose highest stored seq the writer remembers (about 100 bytes each)
MAX_STREAMS_CACHED = 500_000

#: retention per table: a bounded SELECT of expired keys, then deletes by primary key (PostgreSQL
#: runs both as they are)
_EXPIRED = {
    "window_chunks": ("SELECT robot, stream, last_seq FROM window_chunks WHERE received_ms < ? LIMIT ?",
                      "DELETE FROM window_chunks WHERE robot = ? AND stream = ? AND last_seq = ?"),
    "counter_hour": ("SELECT robot, metric, bucket_ms FROM counter_hour WHERE bucket_ms < ? LIMIT ?",
                     "DELETE FROM counter_hour WHERE robot = ? AND metric = ? AND bucket_ms = ?"),
    "counter_day": ("SELECT robot, metric, bucket_ms FROM counter_day WHERE bucket_ms < ? LIMIT ?",
                    "DELETE FROM counter_day WHERE robot = ? AND metric = ? AND bucket_ms = ?"),
    "customer_day": ("SELECT bucket_ms, metric, customer FROM customer_day WHERE bucket_ms < ? LIMIT ?",
                     "DELETE FROM customer_day WHERE bucket_ms = ? AND metric = ? AND customer = ?"),
    "customer_hour": ("SELECT bucket_ms, metric, customer FROM customer_hour WHERE bucket_ms < ? LIMIT ?",
                      "DELETE FROM customer_hour WHERE bucket_ms = ? AND metric = ? AND customer = ?"),
    "rollup_marks": ("SELECT grain, bucket_ms FROM rollup_marks WHERE bucket_ms < ? LIMIT ?",
                     "DELETE FROM rollup_marks WHERE grain = ? AND bucket_ms = ?"),
    "gauge_hour": ("SELECT robot, metric, bucket_ms FROM gauge_hour WHERE bucket_ms < ? LIMIT ?",
                   "DELETE FROM gauge_hour WHERE robot = ? AND metric = ? AND bucket_ms = ?"),
}


class SqliteIngestStore:
    def __init__(self, path: str):
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._known_customers: set[str] = set()          # customers that exist: no insert needed
        self._robot_owners: dict[str, str] = {}          # robot -> customer as committed (usage rollup)
        self._stream_highs: dict[tuple[str, str], int] = {}  # (robot, stream) -> highest seq stored

    @property
    def conn(self) -> sqlite3.Connection:
        """The write connection, opened (and the schema migrated) on first use."""
        if self._conn is None:
            self._conn = connect_writer(self.path)
        return self._conn

    def apply(self, items: Sequence[Queued], rejects_kept: int) -> Outcome:
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransientStoreError(describe(exc)) from exc
        try:
            if len(self._stream_highs) > MAX_STREAMS_CACHED:
                self._stream_highs.clear()  # a lookup per stream refills it
            outcome = apply_items(conn, items, rejects_kept, self._known_customers, self._robot_owners,
                                  self._stream_highs)
            conn.execute("COMMIT")
            return outcome
        except BaseException as exc:
            # the caches were updated as the transaction went: some of what they hold was rolled
            # back (a customer "known" whose row is not there would never be inserted), so they
            # go first, whatever the rollback does
            self.forget()
            rollback(conn)
            if isinstance(exc, sqlite3.OperationalError):  # disk full, I/O, locked: may pass
                raise TransientStoreError(describe(exc)) from exc
            raise

    def forget(self) -> None:
        """Drop what the caches hold; the next flush looks it up again in its transaction."""
        self._known_customers.clear()
        self._robot_owners.clear()
        self._stream_highs.clear()

    def delete_expired(self, table: str, cutoff_ms: int, limit: int) -> int:
        select, delete = _EXPIRED[table]
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                keys = conn.execute(select, (cutoff_ms, limit)).fetchall()
                if keys:
                    conn.executemany(delete, keys)
                conn.execute("COMMIT")
            except BaseException:
                rollback(conn)
                raise
        except sqlite3.Error as exc:
            raise TransientStoreError(describe(exc)) from exc
        return len(keys)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
