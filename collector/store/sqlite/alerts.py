"""SQLite implementation of the store seam's ``alerts`` part (see collector/store/seam.py)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Any

from collector.store.seam import ALERT_COLUMNS, AlertNotFound, AlertStateError
from collector.store.sqlite.shared import OnSharedConnection

_SELECT = f"SELECT {', '.join(ALERT_COLUMNS)} FROM alerts"


def _alert(row: tuple) -> dict[str, Any]:
    alert = dict(zip(ALERT_COLUMNS, row))
    alert["facts"] = json.loads(alert["facts"] or "{}")
    return alert


class SqliteAlertStore(OnSharedConnection):
    """On the evaluator's connection, shared with the ``health`` part so a cycle's writes are one
    transaction (``collector/store/sqlite/shared.py``); a part made on its own opens one."""

    # ------------------------------------------------------------ the alert engine's reads and writes
    def transaction(self, immediate: bool = True) -> AbstractContextManager[None]:
        return self.shared.transaction(immediate)

    def alerts_in(self, states: tuple[str, ...]) -> dict[tuple[str, str], dict]:
        marks = ",".join("?" * len(states))
        return {(a["rule"], a["subject"]): a
                for a in map(_alert, self.conn.execute(f"{_SELECT} WHERE state IN ({marks})", states))}

    def get(self, alert_id: int) -> dict | None:
        row = self.conn.execute(f"{_SELECT} WHERE id = ?", (alert_id,)).fetchone()
        return None if row is None else _alert(row)

    def insert(self, a: dict) -> int:
        cur = self.conn.execute(
            "INSERT INTO alerts (rule, subject, customer, site, robot, severity, state, summary, facts, opened_ms,"
            " updated_ms, value) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (a["rule"], a["subject"], a["customer"], a["site"], a["robot"], a["severity"], a["state"], a["summary"],
             json.dumps(a["facts"], sort_keys=True), a["opened_ms"], a["updated_ms"], a["value"]))
        return cur.lastrowid

    def save(self, a: dict, now_ms: int) -> None:
        self.conn.execute(
            "UPDATE alerts SET state=?, summary=?, facts=?, parent_id=?, updated_ms=?, fired_ms=?, resolved_ms=?,"
            " snoozed_until_ms=?, clear_since_ms=?, value=? WHERE id=?",
            (a["state"], a["summary"], json.dumps(a["facts"], sort_keys=True), a["parent_id"], now_ms, a["fired_ms"],
             a["resolved_ms"], a["snoozed_until_ms"], a["clear_since_ms"], a["value"], a["id"]))

    def add_transition(self, a: dict, from_state: str | None, now_ms: int, actor: str, note: str) -> None:
        self.conn.execute("INSERT INTO alert_events (alert_id, ts_ms, from_state, to_state, actor, note, facts)"
                          " VALUES (?,?,?,?,?,?,?)",
                          (a["id"], now_ms, from_state, a["state"], actor, note, json.dumps(a["facts"], sort_keys=True)))
        feed = {"id": a["id"], "rule": a["rule"], "from": from_state, "state": a["state"], "severity": a["severity"],
                "customer": a["customer"], "site": a["site"], "robot": a["robot"], "summary": a["summary"],
                "actor": actor, "note": note, "parent_id": a["parent_id"], "ts": now_ms}
        self.conn.execute("INSERT INTO feed_events (ts_ms, kind, data) VALUES (?, 'alert', ?)",
                          (now_ms, json.dumps(feed, sort_keys=True)))

    def site_outage_of(self, customer: str, site: str, states: tuple[str, ...]) -> int | None:
        marks = ",".join("?" * len(states))
        row = self.conn.execute(f"SELECT id FROM alerts WHERE rule='site_outage' AND customer=? AND site=?"
                                f" AND state IN ({marks})", (customer, site, *states)).fetchone()
        return row[0] if row else None

    def adopt_children(self, parent_id: int, rules: tuple[str, ...], customer: str, site: str,
                       states: tuple[str, ...]) -> None:
        rule_marks, state_marks = ",".join("?" * len(rules)), ",".join("?" * len(states))
        self.conn.execute(f"UPDATE alerts SET parent_id=? WHERE rule IN ({rule_marks}) AND customer=? AND site=?"
                          f" AND state IN ({state_marks}) AND parent_id IS NULL",
                          (parent_id, *rules, customer, site, *states))

    def grouped_robots(self, alert_id: int) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT DISTINCT coalesce(robot, subject) FROM alerts WHERE parent_id = ? ORDER BY 1", (alert_id,))]

    def queue_notifications(self, alert_id: int, seq: int, now_ms: int,
                            deliveries: Iterable[tuple[str, str, str]]) -> None:
        self.conn.execute("UPDATE alerts SET notify_count = ?, notified_ms = ? WHERE id = ?", (seq, now_ms, alert_id))
        rows = [(key, target, body, now_ms, now_ms) for key, target, body in deliveries]
        if rows:  # no webhook wants it (or none configured): nothing to queue
            self.conn.executemany("INSERT OR IGNORE INTO notifications (idempotency_key, target, payload,"
                                  " created_ms, next_attempt_ms) VALUES (?,?,?,?,?)", rows)

    def trim_delivered(self, before_ms: int, limit: int) -> None:
        self.conn.execute("DELETE FROM notifications WHERE id IN (SELECT id FROM notifications WHERE delivered_ms < ?"
                          " ORDER BY id LIMIT ?)", (before_ms, limit))
