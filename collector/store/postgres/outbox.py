"""PostgreSQL implementation of the store seam's ``outbox`` part: the SQLite part's statements are
portable (``RETURNING``, partial index, ``LIMIT`` in a subquery), so only the connection differs,
and an empty list of webhooks (SQLite takes ``NOT IN ()``, PostgreSQL does not).

Several collectors: only the evaluator's collector runs the notifier (issue 16's lease, still to
do); until then one notifier per database is the deployment rule (docs/scale.md)."""

from __future__ import annotations

from collections.abc import Iterable

from collector.store.postgres.db import PgConnection, connect
from collector.store.sqlite.outbox import SqliteOutboxStore


class PgOutboxStore(SqliteOutboxStore):
    def __init__(self, url: str):
        self.path = url
        self._conn: PgConnection | None = None

    def dead_letter_orphans(self, targets: Iterable[str], now_ms: int) -> dict[str, int]:
        keep = tuple(targets)
        if not keep:  # PostgreSQL has no empty ``IN ()``: with no webhook configured every row is orphaned
            return self._dead_letter("TRUE", (), now_ms, "orphaned")
        return super().dead_letter_orphans(keep, now_ms)

    @property
    def conn(self) -> PgConnection:
        if self._conn is not None and not self._conn.usable:  # dropped by a database restart
            self._conn.close()
            self._conn = None
        if self._conn is None:
            self._conn = connect(self.path)
        return self._conn
