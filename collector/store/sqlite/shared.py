"""The evaluator's write connection, shared by the ``health`` and ``alerts`` parts.

Why shared: one evaluation cycle stores its health rows and the alert transitions they cause in
one transaction (all or nothing), and SQLite transactions belong to a connection.  Opened when
first used; the notifier and the API's actions use connections of their own.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from collector.store.sqlite.db import rollback


class SharedConnection:
    def __init__(self, path: str | None = None, conn: sqlite3.Connection | None = None):
        self.path = path
        self._conn = conn
        self._owned = conn is None
        self._lock = threading.Lock()

    @classmethod
    def of(cls, conn: sqlite3.Connection) -> "SharedConnection":
        """Around a connection someone else opened (and closes): tests and benchmarks."""
        return cls(None, conn)

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            with self._lock:
                if self._conn is None:
                    from collector.store.sqlite.db import connect_writer
                    self._conn = connect_writer(self.path)
        return self._conn

    @contextmanager
    def transaction(self, immediate: bool = True) -> Iterator[None]:
        """A write transaction (``BEGIN IMMEDIATE``), or, nested in one, part of it."""
        conn = self.conn
        if conn.in_transaction:
            yield
            return
        conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
        try:
            yield
            conn.execute("COMMIT")
        except BaseException:
            # a failed COMMIT (disk full) may leave the transaction open: the next cycle would
            # then take itself for nested and never commit; or SQLite has ended it already
            rollback(conn)
            raise

    def close(self) -> None:
        if self._owned and self._conn is not None:
            self._conn.close()
            self._conn = None


class OnSharedConnection:
    """A store part that writes on a ``SharedConnection``: the evaluator's (``shared``), so a
    cycle's writes are one transaction, or one of its own when made alone (``path``)."""

    def __init__(self, path: str | None, shared: SharedConnection | None = None):
        self.path = path
        self.shared = shared or SharedConnection(path)

    @property
    def conn(self) -> sqlite3.Connection:
        return self.shared.conn

    def close(self) -> None:
        self.shared.close()


class EvaluatorParts:
    """The ``health`` and ``alerts`` parts on one connection someone else opened and closes (tests,
    benchmarks, seeding tools that write with the same connection they evaluate on).  A PostgreSQL
    connection (``postgres/db.PgConnection``) gets that backend's parts, so the same tests run on both."""

    def __init__(self, conn: sqlite3.Connection):
        if getattr(conn, "dialect", None) is not None and conn.dialect.name == "postgres":
            from collector.store.postgres.alerts import PgAlertStore
            from collector.store.postgres.health import PgHealthStore
            from collector.store.postgres.shared import PgShared

            shared = PgShared(None, conn)
            self.health, self.alerts = PgHealthStore(None, shared), PgAlertStore(None, shared)
            return
        from collector.store.sqlite.alerts import SqliteAlertStore
        from collector.store.sqlite.health import SqliteHealthStore

        shared = SharedConnection.of(conn)
        self.health = SqliteHealthStore(None, shared)
        self.alerts = SqliteAlertStore(None, shared)
