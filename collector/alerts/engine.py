"""The alert state machine: pending -> firing -> acknowledged | snoozed -> resolved.

One open alert per (rule, subject).  ``for_s`` must pass from the first sighting, with the firing
condition holding at that moment, before an alert fires; once open, it resolves only after its
clearing condition (a separate threshold) has held for ``clear_for_s``: data flapping around a
threshold gives one alert, not a storm.  Every transition is stored in ``alert_events`` with its
time, actor and facts (the customer's timeline) and in ``feed_events`` for the live feed.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from collector.alerts import outbox
from collector.alerts.rules import NETWORK_RULES, RULE_FUNCTIONS
from collector.alerts.settings import ORDER

OPEN = ("pending", "firing", "acknowledged", "snoozed")
COLUMNS = ("id", "rule", "subject", "customer", "site", "robot", "severity", "state", "summary", "facts",
           "parent_id", "opened_ms", "updated_ms", "fired_ms", "resolved_ms", "snoozed_until_ms",
           "clear_since_ms", "notified_ms", "notify_count", "value")


class AlertNotFound(LookupError):
    pass


class AlertStateError(ValueError):
    pass


def _row(row: tuple) -> dict[str, Any]:
    alert = dict(zip(COLUMNS, row))
    alert["facts"] = json.loads(alert["facts"] or "{}")
    return alert


def open_alerts(conn: sqlite3.Connection) -> dict[tuple[str, str], dict]:
    rows = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM alerts WHERE state <> 'resolved'")
    return {(a["rule"], a["subject"]): a for a in map(_row, rows)}


def get(conn: sqlite3.Connection, alert_id: int) -> dict:
    row = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM alerts WHERE id = ?", (alert_id,)).fetchone()
    if row is None:
        raise AlertNotFound(alert_id)
    return _row(row)


def _save(conn: sqlite3.Connection, a: dict, now_ms: int) -> None:
    conn.execute(
        "UPDATE alerts SET state=?, summary=?, facts=?, parent_id=?, updated_ms=?, fired_ms=?, resolved_ms=?,"
        " snoozed_until_ms=?, clear_since_ms=?, value=? WHERE id=?",
        (a["state"], a["summary"], json.dumps(a["facts"], sort_keys=True), a["parent_id"], now_ms, a["fired_ms"],
         a["resolved_ms"], a["snoozed_until_ms"], a["clear_since_ms"], a["value"], a["id"]))


def _transition(conn, a: dict, to: str, now_ms: int, actor: str = "rules", note: str = "",
                saved: bool = False) -> None:
    """Move ``a`` to state ``to``: the row (unless ``saved``: already written as it is), its
    timeline event and its feed event."""
    before = a["state"]
    a["state"] = to
    if not saved:
        _save(conn, a, now_ms)
    conn.execute("INSERT INTO alert_events (alert_id, ts_ms, from_state, to_state, actor, note, facts)"
                 " VALUES (?,?,?,?,?,?,?)",
                 (a["id"], now_ms, before, to, actor, note, json.dumps(a["facts"], sort_keys=True)))
    feed = {"id": a["id"], "rule": a["rule"], "from": before, "state": to, "severity": a["severity"],
            "customer": a["customer"], "site": a["site"], "robot": a["robot"], "summary": a["summary"],
            "actor": actor, "note": note, "parent_id": a["parent_id"], "ts": now_ms}
    conn.execute("INSERT INTO feed_events (ts_ms, kind, data) VALUES (?, 'alert', ?)",
                 (now_ms, json.dumps(feed, sort_keys=True)))


def _open(conn, rule: str, c: dict, cfg: dict, now_ms: int) -> dict:
    facts = json.dumps(c["facts"], sort_keys=True)
    value = None if c["value"] is None else float(c["value"])  # as the REAL column gives it back
    cur = conn.execute(
        "INSERT INTO alerts (rule, subject, customer, site, robot, severity, state, summary, facts, opened_ms,"
        " updated_ms, value) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (rule, c["subject"], c["customer"], c["site"], c["robot"], cfg["severity"], "pending", c["summary"],
         facts, now_ms, now_ms, value))
    # the row as get() would read it back, without reading it back (2,600 alerts open on a first cycle)
    a = dict.fromkeys(COLUMNS)
    a.update(id=cur.lastrowid, rule=rule, subject=c["subject"], customer=c["customer"], site=c["site"],
             robot=c["robot"], severity=cfg["severity"], summary=c["summary"], facts=json.loads(facts),
             opened_ms=now_ms, updated_ms=now_ms, notify_count=0, value=value)
    _transition(conn, a, "pending", now_ms, note=f"value {c['value']} reached threshold {cfg['threshold']}",
                saved=True)
    return a


def _fire(conn, a: dict, now_ms: int, notify_cfg: dict, note: str, opened: dict | None = None) -> None:
    if a["fired_ms"] is None:
        a["fired_ms"] = now_ms
    if a["rule"] in NETWORK_RULES and a["parent_id"] is None and a["site"] is not None:
        row = conn.execute("SELECT id FROM alerts WHERE rule='site_outage' AND customer=? AND site=?"
                           " AND state IN ('firing','acknowledged','snoozed')", (a["customer"], a["site"])).fetchone()
        if row:
            a["parent_id"] = row[0]
            note = f"{note}; grouped under site_outage alert {row[0]}"
    _transition(conn, a, "firing", now_ms, note=note)
    if a["rule"] == "site_outage":
        for other in (opened or {}).values():  # keep the in-memory open alerts in step
            if (other["rule"] in NETWORK_RULES and other["customer"] == a["customer"]
                    and other["site"] == a["site"] and other["parent_id"] is None):
                other["parent_id"] = a["id"]
        marks = ",".join("?" * len(NETWORK_RULES))
        conn.execute(f"UPDATE alerts SET parent_id=? WHERE rule IN ({marks}) AND customer=? AND site=?"
                     " AND state <> 'resolved' AND parent_id IS NULL",
                     (a["id"], *NETWORK_RULES, a["customer"], a["site"]))
    if a["parent_id"] is None:
        outbox.enqueue(conn, a, "firing", now_ms, notify_cfg)


def _resolve(conn, a: dict, now_ms: int, notify_cfg: dict, note: str) -> None:
    a["resolved_ms"] = now_ms
    a["clear_since_ms"] = None
    _transition(conn, a, "resolved", now_ms, note=note)
    if a["notify_count"]:
        outbox.enqueue(conn, a, "resolved", now_ms, notify_cfg)


SAVED = ("state", "summary", "facts", "value", "parent_id", "clear_since_ms", "snoozed_until_ms")


def step(conn, rule: str, a: dict | None, c: dict | None, cfg: dict, now_ms: int, notify_cfg: dict,
         opened: dict | None = None) -> None:
    """Advance one (rule, subject): ``a`` the open alert or None, ``c`` this cycle's candidate or None.
    An alert that did not change is not written."""
    firing = c is not None and c["firing"] and cfg["enabled"]
    clearing = c is None or c["clearing"] or not cfg["enabled"]
    if a is None:
        if firing:
            a = _open(conn, rule, c, cfg, now_ms)
            if cfg["for_s"] == 0:
                _fire(conn, a, now_ms, notify_cfg, "threshold reached", opened)
        return
    before = tuple(a[k] for k in SAVED)
    if c is not None:
        a["summary"], a["facts"], a["value"] = c["summary"], c["facts"], c["value"]
    if a["state"] == "pending":
        if clearing:
            _resolve(conn, a, now_ms, notify_cfg, "cleared before firing")
        elif firing and now_ms - a["opened_ms"] >= cfg["for_s"]:
            _fire(conn, a, now_ms, notify_cfg, f"held for {cfg['for_s'] // 1000} s", opened)
        elif tuple(a[k] for k in SAVED) != before:
            _save(conn, a, now_ms)
        return
    if a["state"] == "snoozed" and now_ms >= (a["snoozed_until_ms"] or 0):
        a["snoozed_until_ms"] = None
        _fire(conn, a, now_ms, notify_cfg, "snooze ended", opened)
    if clearing:
        if a["clear_since_ms"] is None:
            a["clear_since_ms"] = now_ms
        if now_ms - a["clear_since_ms"] >= cfg["clear_for_s"]:
            _resolve(conn, a, now_ms, notify_cfg, f"cleared for {cfg['clear_for_s'] // 1000} s")
            return
    else:
        a["clear_since_ms"] = None
    repeat = notify_cfg.get("repeat_s", 0)
    if (a["state"] == "firing" and a["parent_id"] is None and repeat > 0 and a["notify_count"]
            and now_ms - (a["notified_ms"] or 0) >= repeat * 1000):
        outbox.enqueue(conn, a, "repeat", now_ms, notify_cfg)
    if tuple(a[k] for k in SAVED) != before:
        _save(conn, a, now_ms)


def run(conn: sqlite3.Connection, ctx: dict, now_ms: int, alert_cfg: dict, notify_cfg: dict) -> dict[str, int]:
    """Evaluate every rule against ``ctx`` and advance every alert; call inside a transaction.

    Durations are compared in ms; settings are in seconds."""
    counts = {}
    opened = open_alerts(conn)
    for rule in ORDER:
        cfg = dict(alert_cfg[rule])
        cfg["for_s"], cfg["clear_for_s"] = cfg["for_s"] * 1000, cfg["clear_for_s"] * 1000
        found = RULE_FUNCTIONS[rule](ctx, cfg) if cfg["enabled"] else []
        by_subject = {c["subject"]: c for c in found}
        subjects = set(by_subject) | {s for (r, s) in opened if r == rule}
        for subject in sorted(subjects):
            step(conn, rule, opened.get((rule, subject)), by_subject.get(subject), cfg, now_ms, notify_cfg, opened)
        counts[rule] = sum(1 for c in found if c["firing"])
    return counts


def acknowledge(conn: sqlite3.Connection, alert_id: int, actor: str, note: str, now: int) -> dict:
    """A CSM takes the alert: no more repeats.  Raises AlertNotFound / AlertStateError."""
    return _act(conn, alert_id, now, lambda a: _ack(conn, a, actor, note, now))


def snooze(conn: sqlite3.Connection, alert_id: int, until_ms: int, reason: str, actor: str, now: int) -> dict:
    """Silence the alert until ``until_ms`` (it fires again then, if still true)."""
    if until_ms <= now:
        raise AlertStateError("snooze until must be in the future")

    def do(a):
        a["snoozed_until_ms"] = until_ms
        _transition(conn, a, "snoozed", now, actor=actor, note=reason)
    return _act(conn, alert_id, now, do)


def _ack(conn, a, actor, note, now):
    a["snoozed_until_ms"] = None
    _transition(conn, a, "acknowledged", now, actor=actor, note=note)


def _act(conn, alert_id, now, action) -> dict:
    conn.execute("BEGIN IMMEDIATE")
    try:
        a = get(conn, alert_id)
        if a["state"] == "resolved":
            raise AlertStateError(f"alert {alert_id} is resolved")
        action(a)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return get(conn, alert_id)
