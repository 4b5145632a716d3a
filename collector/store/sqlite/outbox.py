"""SQLite implementation of the store seam's ``outbox`` part (see collector/store/seam.py).

The notifier's own write connection (opened when first used): deliveries are marked while a
cycle may be writing on the evaluator's."""

from __future__ import annotations

import sqlite3

from collector.store.seam import Delivery


class SqliteOutboxStore:
    def __init__(self, path: str):
        self.path = path
        self._conn: sqlite3.Connection | None = None

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            from collector.store.sqlite.db import connect_writer
            self._conn = connect_writer(self.path)
        return self._conn

    def due(self, now_ms: int, limit: int = 100) -> list[Delivery]:
        return [Delivery(*row) for row in self.conn.execute(
            "SELECT id, idempotency_key, target, payload, attempts FROM notifications"
            " WHERE delivered_ms IS NULL AND next_attempt_ms <= ? ORDER BY id LIMIT ?", (now_ms, limit))]

    def mark_delivered(self, delivery_id: int, now_ms: int) -> None:
        self.conn.execute("UPDATE notifications SET delivered_ms=?, attempts=attempts+1, last_error=NULL WHERE id=?",
                          (now_ms, delivery_id))

    def mark_failed(self, delivery_id: int, attempts: int, next_attempt_ms: int, error: str) -> None:
        self.conn.execute("UPDATE notifications SET attempts=?, next_attempt_ms=?, last_error=? WHERE id=?",
                          (attempts, next_attempt_ms, error[:500], delivery_id))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
