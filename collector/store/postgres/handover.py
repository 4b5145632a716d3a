"""PostgreSQL implementation of the store seam's ``handover`` part: the SQLite part's statements
(``sqlite/handover.py``: portable), each write one transaction on a connection of its own, each
read on a read-only connection; a new note's id read back with ``RETURNING`` (no ``lastrowid``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from collector.store.postgres.db import PgConnection, connect, connect_reader
from collector.store.sqlite.handover import SqliteHandoverStore
from collector.store.sqlite.sql import POSTGRES


class PgHandoverStore(SqliteHandoverStore):
    snapshot = POSTGRES.snapshot

    @contextlib.contextmanager
    def _read(self) -> Iterator[PgConnection]:
        conn = connect_reader(self.path)
        try:
            yield conn
        finally:
            conn.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[PgConnection]:
        conn = connect(self.path, migrate=False)
        try:
            with conn.raw.transaction():
                yield conn
        finally:
            conn.close()

    @staticmethod
    def _new_id(conn, sql: str, args) -> int:
        return conn.execute(sql + " RETURNING id", args).fetchone()[0]
