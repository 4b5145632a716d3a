"""A part's lazily opened PostgreSQL connection, and the evaluator's, shared by ``health`` and
``alerts`` so that one cycle's writes are one transaction (as ``sqlite/shared.py``).

Why a lock in ``transaction(immediate=True)``: SQLite's ``BEGIN IMMEDIATE`` makes the alert
writers (the evaluator's cycle, a person's ack or snooze from any API connection) take turns, and
the alert engine relies on it: it reads the open alerts, then writes their next state.  Under
PostgreSQL's READ COMMITTED two such writers could interleave and one's update be lost, so an
immediate transaction takes one transaction-scoped advisory lock, ``ALERT_WRITERS``, first: the same
turn-taking, across every collector sharing the database.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from collector.store.postgres.db import PgConnection, connect

#: the advisory lock of the alert writers ("RPalerts")
ALERT_WRITERS = 0x5250616C65727473


class PgShared:
    """One connection, opened when first used; ``transaction`` as in ``sqlite/shared.py``."""

    def __init__(self, url: str | None = None, conn: PgConnection | None = None):
        self.url = url
        self._conn = conn
        self._owned = conn is None
        self._lock = threading.Lock()

    @property
    def conn(self) -> PgConnection:
        if self._conn is None:
            with self._lock:
                if self._conn is None:
                    self._conn = connect(self.url)
        return self._conn

    @contextmanager
    def transaction(self, immediate: bool = True) -> Iterator[None]:
        """A write transaction (``immediate``: in turn with every other alert writer), or, nested
        in one, part of it."""
        conn = self.conn
        if conn.in_transaction:
            yield
            return
        conn.raw.execute("BEGIN")
        try:
            if immediate:
                conn.raw.execute("SELECT pg_advisory_xact_lock(%s)", (ALERT_WRITERS,))
            yield
            conn.raw.execute("COMMIT")
        except BaseException:
            conn.rollback()
            raise

    def close(self) -> None:
        if self._owned and self._conn is not None:
            self._conn.close()
            self._conn = None
