"""PostgreSQL implementation of the store seam's ``alerts`` part: the SQLite part's statements
(portable: they run through ``db.PgConnection``), less the two that are not: an insert's new id
(``RETURNING id``, no ``lastrowid``) and queueing a notification once per key (``ON CONFLICT DO
NOTHING`` for SQLite's ``INSERT OR IGNORE``)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from collector.store.postgres.shared import PgShared
from collector.store.sqlite.alerts import SqliteAlertStore


class PgAlertStore(SqliteAlertStore):
    def __init__(self, url: str | None, shared: PgShared | None = None):
        self.path = url
        self.shared = shared or PgShared(url)

    def insert(self, a: dict) -> int:
        return self.conn.execute(
            "INSERT INTO alerts (rule, subject, customer, site, robot, severity, state, summary, facts, opened_ms,"
            " updated_ms, value) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
            (a["rule"], a["subject"], a["customer"], a["site"], a["robot"], a["severity"], a["state"], a["summary"],
             json.dumps(a["facts"], sort_keys=True), a["opened_ms"], a["updated_ms"], a["value"])).fetchone()[0]

    def queue_notifications(self, alert_id: int, seq: int, now_ms: int,
                            deliveries: Iterable[tuple[str, str, str]]) -> None:
        self.conn.execute("UPDATE alerts SET notify_count = ?, notified_ms = ? WHERE id = ?", (seq, now_ms, alert_id))
        rows = [(key, target, body, now_ms, now_ms) for key, target, body in deliveries]
        if rows:
            self.conn.executemany("INSERT INTO notifications (idempotency_key, target, payload, created_ms,"
                                  " next_attempt_ms) VALUES (?,?,?,?,?) ON CONFLICT (idempotency_key) DO NOTHING",
                                  rows)
