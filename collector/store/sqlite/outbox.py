"""SQLite implementation of the store seam's ``outbox`` part (see collector/store/seam.py).

The notifier's own write connection (opened when first used): deliveries are marked while a
cycle may be writing on the evaluator's.  A row is *pending* while it is neither delivered nor
dead-lettered; each webhook's pending rows are read in id order from a partial index, so one
webhook's queue never hides another's.  The dead-letter and trim methods look before they write:
most rounds find nothing and take no write lock."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable

from collector.store.seam import Delivery

PENDING = "delivered_ms IS NULL AND dead_ms IS NULL"


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

    def due(self, target: str, now_ms: int, limit: int = 100) -> list[Delivery]:
        rows = [Delivery(*row) for row in self.conn.execute(
            "SELECT id, idempotency_key, target, payload, attempts, next_attempt_ms FROM notifications"
            f" WHERE target = ? AND {PENDING} ORDER BY id LIMIT ?", (target, limit))]
        return rows if rows and rows[0].next_attempt_ms <= now_ms else []

    def mark_delivered(self, delivery_id: int, now_ms: int) -> None:
        self.conn.execute("UPDATE notifications SET delivered_ms=?, attempts=attempts+1, last_error=NULL WHERE id=?",
                          (now_ms, delivery_id))

    def mark_failed(self, delivery_id: int, attempts: int, next_attempt_ms: int, error: str) -> None:
        self.conn.execute("UPDATE notifications SET attempts=?, next_attempt_ms=?, last_error=? WHERE id=?",
                          (attempts, next_attempt_ms, error[:500], delivery_id))

    def dead_letter_orphans(self, targets: Iterable[str], now_ms: int) -> dict[str, int]:
        marks = ",".join("?" * len(keep := tuple(targets)))
        # no webhook configured: every pending row is orphaned (``NOT IN ()`` is SQLite's only)
        return self._dead_letter(f"target NOT IN ({marks})" if keep else "1 = 1", keep, now_ms, "orphaned")

    def dead_letter_expired(self, target: str, created_before_ms: int, now_ms: int) -> int:
        return sum(self._dead_letter("target = ? AND created_ms < ?", (target, created_before_ms), now_ms,
                                     "expired").values())

    def _dead_letter(self, where: str, args: tuple, now_ms: int, reason: str) -> dict[str, int]:
        if not self.conn.execute(f"SELECT 1 FROM notifications WHERE {PENDING} AND {where} LIMIT 1", args).fetchone():
            return {}
        marked = self.conn.execute(f"UPDATE notifications SET dead_ms=?, dead_reason=? WHERE {PENDING} AND {where}"
                                   " RETURNING target", (now_ms, reason, *args)).fetchall()
        return dict(Counter(target for (target,) in marked))

    def trim(self, before_ms: int, limit: int = 5000) -> int:
        deleted = 0
        for column in ("delivered_ms", "dead_ms"):
            if self.conn.execute(f"SELECT 1 FROM notifications WHERE {column} < ? LIMIT 1", (before_ms,)).fetchone():
                deleted += self.conn.execute(
                    f"DELETE FROM notifications WHERE id IN (SELECT id FROM notifications WHERE {column} < ?"
                    " ORDER BY id LIMIT ?)", (before_ms, limit)).rowcount
        return deleted

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
