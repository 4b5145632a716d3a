"""PostgreSQL implementation of the store seam's ``ingest`` part: the writer's flush transaction,
shared with the SQLite backend (``sqlite/apply.py`` through ``db.PgConnection``), made safe for
several collectors writing at once.

Exactly once across collectors: before anything else, the flush takes a transaction-scoped
advisory lock per (robot, stream) it carries, in one statement and in a fixed order (no deadlock
between two flushes).  A second collector holding the same window (a redelivery after a kill, a
shared subscription's re-dispatch) waits at that lock until the first commits or rolls back, and
only then reads the stream's stored seqs: under READ COMMITTED each statement sees what committed
before it began, so it finds the windows and counts them as duplicates.  No per-process memory of
the highest seq is kept: every flush reads its streams' highest seqs inside its transaction, after
taking their locks, in one statement (``STREAM_HIGHS``), and hands them to ``apply_items`` for that
flush only.  The ``window_chunks`` key (robot, stream, last_seq) is the backstop.

Rollups are ``ON CONFLICT ... DO UPDATE`` increments: two collectors adding to one bucket both
land.  Locks are taken in one global order (the stream locks first, sorted; then the tables in
``apply_items``' fixed order, each one's rows in key order: ``sqlite/apply.add_rollups``), so two
flushes wait for each other but do not deadlock.  Should one still happen (status upserts are
not sorted: a robot's statuses must apply in arrival order), PostgreSQL aborts one and ``apply`` retries the whole transaction (it is all or nothing) a few times before
reporting a ``TransientStoreError`` to the writer, which keeps the items and tries again.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import psycopg

from collector.store.postgres import partitions
from collector.store.postgres.db import PgConnection, connect, describe, transient
from collector.store.records import Queued, Telemetry
from collector.store.seam import Outcome, TransientStoreError
from collector.store.sqlite.apply import apply_items
from collector.store.sqlite.ingest import _EXPIRED
from protocol.logs import get_logger

log = get_logger("collector.store.postgres.ingest")

#: a flush's transaction is retried this many times after a deadlock or serialization failure
RETRIES = 5

#: one advisory lock per stream, taken in text order (PostgreSQL evaluates a volatile target list
#: after ORDER BY), so flushes never wait on each other in a cycle
LOCK_STREAMS = ("SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) "
                "FROM unnest(%s::text[]) AS k ORDER BY k")


#: every stream's highest stored seq, read in one statement after the stream locks are held
STREAM_HIGHS = ("SELECT s.robot, s.stream, COALESCE((SELECT MAX(w.last_seq) FROM window_chunks w"
                " WHERE w.robot = s.robot AND w.stream = s.stream), 0)"
                " FROM unnest(%s::text[], %s::text[]) AS s(robot, stream)")


def streams(items: Sequence[Queued]) -> list[tuple[str, str]]:
    return sorted({(rec.robot, rec.stream) for rec in (i.record for i in items) if type(rec) is Telemetry})


def stream_keys(items: Sequence[Queued]) -> list[str]:
    """The lock names of the streams ``items`` write windows to."""
    return sorted({f"{rec.robot}\x1f{rec.stream}" for rec in (i.record for i in items) if type(rec) is Telemetry})


class PgIngestStore:
    def __init__(self, url: str):
        self.url = url
        self._conn: PgConnection | None = None
        self._known_customers: set[str] = set()  # customers are never deleted: "exists" stays true
        self.retries = 0  # transactions retried after a deadlock or serialization failure

    @property
    def conn(self) -> PgConnection:
        if self._conn is None:
            try:
                conn = connect(self.url)
                partitions.ensure(conn.raw, int(time.time() * 1000))  # today's before the first flush
            except psycopg.Error as exc:
                raise TransientStoreError(describe(exc)) from exc
            self._conn = conn
        return self._conn

    def apply(self, items: Sequence[Queued], rejects_kept: int) -> Outcome:
        keys, pairs = stream_keys(items), streams(items)
        for attempt in range(RETRIES + 1):
            conn = self.conn
            try:
                conn.raw.execute("BEGIN")
                highs: dict[tuple[str, str], int] = {}
                if keys:
                    conn.raw.execute(LOCK_STREAMS, (keys,))
                    # each stream's highest seq, read now that no other flush can add to it: one
                    # statement for the flush, not one per message; kept for this flush only
                    highs = {(r, st): int(h) for r, st, h in conn.raw.execute(
                        STREAM_HIGHS, ([p[0] for p in pairs], [p[1] for p in pairs]))}
                # no robot-owner cache: another collector may move a robot to another customer
                outcome = apply_items(conn, items, rejects_kept, self._known_customers, None, highs)
                conn.raw.execute("COMMIT")
                return outcome
            except BaseException as exc:
                self._known_customers.clear()  # may hold customers whose insert was rolled back
                self._reset(conn)
                if not isinstance(exc, psycopg.Error) or not transient(exc):
                    raise
                if attempt == RETRIES or isinstance(exc, psycopg.OperationalError):
                    raise TransientStoreError(describe(exc)) from exc
                self.retries += 1
        raise AssertionError("unreachable")

    def _reset(self, conn: PgConnection) -> None:
        """After a failure: roll back, or drop a broken connection (the next flush reconnects)."""
        if conn.raw.broken or conn.raw.closed:
            self._conn = None
            conn.close()
        else:
            conn.rollback()

    def forget(self) -> None:
        self._known_customers.clear()

    def delete_expired(self, table: str, cutoff_ms: int, limit: int) -> int:
        """Raw chunks: the expired day partitions dropped whole (their rows counted as deleted),
        the days ahead made, then what is left (the default partition) deleted in batches."""
        select, delete = _EXPIRED[table]
        conn = self.conn
        try:
            if table == "window_chunks":
                partitions.ensure(conn.raw, int(time.time() * 1000))
                dropped, rows = partitions.drop_expired(conn.raw, cutoff_ms)
                if dropped:
                    log.info("raw_partitions_dropped", partitions=dropped, rows_estimated=rows)
                    return max(rows, 1)  # something was deleted: retention comes back to this table
            with conn.raw.transaction():
                keys = conn.execute(select, (cutoff_ms, limit)).fetchall()
                if keys:
                    conn.executemany(delete, keys)
        except psycopg.Error as exc:
            self._reset(conn)
            raise TransientStoreError(describe(exc)) from exc
        return len(keys)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
