"""Admin actions on alerts (acknowledge, snooze): the only writes the API makes.

The transition itself belongs to the alert engine; this module validates the request body, opens a
short write transaction and records the acting token's name as the event's actor."""

from __future__ import annotations

import json
import sqlite3

from collector.store.db import connect_writer

MAX_SNOOZE_MINUTES = 30 * 24 * 60
MAX_NOTE = 500


class ActionError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def parse_body(body: object, action: str) -> dict:
    """``{"note": str?}`` for ack; ``{"minutes": int}`` or ``{"until_ms": int}`` plus note for snooze."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise ActionError(400, "body must be a JSON object")
    allowed = {"note"} | ({"minutes", "until_ms"} if action == "snooze" else set())
    unknown = set(body) - allowed
    if unknown:
        raise ActionError(400, f"unknown field {sorted(unknown)[0]!r}")
    note = body.get("note", "")
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise ActionError(400, f"note must be a string of at most {MAX_NOTE} characters")
    out = {"note": note}
    if action == "snooze":
        minutes, until = body.get("minutes"), body.get("until_ms")
        if (minutes is None) == (until is None):
            raise ActionError(400, "snooze needs exactly one of minutes or until_ms")
        for name, value in (("minutes", minutes), ("until_ms", until)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise ActionError(400, f"{name} must be an integer")
        if minutes is not None and not 1 <= minutes <= MAX_SNOOZE_MINUTES:
            raise ActionError(400, f"minutes must be between 1 and {MAX_SNOOZE_MINUTES}")
        out["minutes"], out["until_ms"] = minutes, until
    return out


def _transition(conn: sqlite3.Connection, alert_id: int, actor: str, now_ms: int, to_state: str,
                allowed_from: tuple[str, ...], note: str, until_ms: int | None = None) -> dict:
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute("SELECT state, customer, robot, site, rule, severity FROM alerts WHERE id = ?",
                           (alert_id,)).fetchone()
        if row is None:
            raise ActionError(404, f"no alert {alert_id}")
        state, customer, robot, site, rule, severity = row
        if state not in allowed_from:
            raise ActionError(409, f"alert {alert_id} is {state}; cannot go to {to_state}")
        conn.execute("UPDATE alerts SET state = ?, updated_ms = ?, snoozed_until_ms = ? WHERE id = ?",
                     (to_state, now_ms, until_ms, alert_id))
        facts = {"snoozed_until_ms": until_ms} if until_ms is not None else {}
        conn.execute("INSERT INTO alert_events (alert_id, ts_ms, from_state, to_state, actor, note, facts) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)", (alert_id, now_ms, state, to_state, actor, note,
                                                      json.dumps(facts)))
        data = {"id": alert_id, "rule": rule, "severity": severity, "customer": customer, "robot": robot,
                "site": site, "from_state": state, "state": to_state, "actor": actor, "ts_ms": now_ms}
        conn.execute("INSERT INTO feed_events (ts_ms, kind, data) VALUES (?, 'alert', ?)",
                     (now_ms, json.dumps(data)))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return {"id": alert_id, "from_state": state, "state": to_state}


def acknowledge(conn: sqlite3.Connection, alert_id: int, actor: str, now_ms: int, note: str = "") -> dict:
    return _transition(conn, alert_id, actor, now_ms, "acknowledged", ("pending", "firing", "snoozed"), note)


def snooze(conn: sqlite3.Connection, alert_id: int, actor: str, now_ms: int, until_ms: int,
           note: str = "") -> dict:
    if until_ms <= now_ms:
        raise ActionError(400, "until_ms must be in the future")
    return _transition(conn, alert_id, actor, now_ms, "snoozed",
                       ("pending", "firing", "acknowledged", "snoozed"), note, until_ms)


def perform(db_path: str, action: str, alert_id: int, actor: str, now_ms: int, body: dict) -> dict:
    """Run one action in its own short write connection (called in a worker thread)."""
    conn = connect_writer(db_path)
    try:
        if action == "ack":
            return acknowledge(conn, alert_id, actor, now_ms, body["note"])
        until = body["until_ms"] if body.get("until_ms") is not None else now_ms + body["minutes"] * 60_000
        return snooze(conn, alert_id, actor, now_ms, until, body["note"])
    finally:
        conn.close()
