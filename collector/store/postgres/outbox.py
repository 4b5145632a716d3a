"""PostgreSQL implementation of the store seam's ``outbox`` part: the SQLite part's statements are
portable (``RETURNING``, partial index, ``LIMIT`` in a subquery), so only the connection differs.

Several collectors: only the evaluator's collector runs the notifier (issue 16's lease, still to
do); until then one notifier per database is the deployment rule (docs/scale.md)."""

from __future__ import annotations

from collector.store.postgres.db import PgConnection, connect
from collector.store.sqlite.outbox import SqliteOutboxStore


class PgOutboxStore(SqliteOutboxStore):
    def __init__(self, url: str):
        self.path = url
        self._conn: PgConnection | None = None

    @property
    def conn(self) -> PgConnection:
        if self._conn is None:
            self._conn = connect(self.path)
        return self._conn
