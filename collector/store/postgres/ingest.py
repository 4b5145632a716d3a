"""PostgreSQL implementation of the store seam's ``ingest`` part: the writer's flush transaction,
shared with the SQLite backend (``sqlite/apply.py`` through ``db.PgConnection``), made safe for
several collectors writing at once.

Exactly once across collectors: before anything else, the flush takes a transaction-scoped
advisory lock per (robot, stream) it carries, in one statement and in a fixed order (no deadlock
between two flushes).  A second collector holding the same window (a redelivery after a kill, a
shared subscription's re-dispatch) waits at that lock until the first commits or rolls back, and
only then reads the stream's stored seqs: under READ COMMITTED each statement sees what committed
before it began, so it finds the windows and counts them as duplicates.  No per-process memory of
the highest seq is kept (``apply_items`` gets no ``stream_highs``): every flush reads it inside its
transaction.  The ``window_chunks`` key (robot, stream, last_seq) is the backstop.

Rollups are ``ON CONFLICT ... DO UPDATE`` increments: two collectors adding to one bucket both
land.  Locks are taken in one global order (the stream locks first, sorted; then the tables in
``apply_items``' fixed order, each one's rows in key order: ``sqlite/apply.add_rollups``), so two
flushes wait for each other but do not deadlock.  Should one still happen (status upserts are
not sorted: a robot's statuses must apply in arrival order), PostgreSQL aborts one and ``apply`` retries the whole transaction (it is all or nothing) a few times before
reporting a ``TransientStoreError`` to the writer, which keeps the items and tries again.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from collector.store.postgres.db import PgConnection, connect, describe, transient
from collector.store.records import Queued, Telemetry
from collector.store.seam import Outcome, TransientStoreError
from collector.store.sqlite.apply import apply_items
from collector.store.sqlite.ingest import _EXPIRED

#: a flush's transaction is retried this many times after a deadlock or serialization failure
RETRIES = 5

#: one advisory lock per stream, taken in text order (PostgreSQL evaluates a volatile target list
#: after ORDER BY), so flushes never wait on each other in a cycle
LOCK_STREAMS = ("SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) "
                "FROM unnest(%s::text[]) AS k ORDER BY k")


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
                self._conn = connect(self.url)
            except psycopg.Error as exc:
                raise TransientStoreError(describe(exc)) from exc
        return self._conn

    def apply(self, items: Sequence[Queued], rejects_kept: int) -> Outcome:
        keys = stream_keys(items)
        for attempt in range(RETRIES + 1):
            conn = self.conn
            try:
                conn.raw.execute("BEGIN")
                if keys:
                    conn.raw.execute(LOCK_STREAMS, (keys,))
                # no robot-owner or stream-high caches: another collector may change either
                outcome = apply_items(conn, items, rejects_kept, self._known_customers, None, None)
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
        select, delete = _EXPIRED[table]
        conn = self.conn
        try:
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
