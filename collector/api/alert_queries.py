"""Read-only SQL for alerts and their timeline (alert_events)."""

from __future__ import annotations

import json
import sqlite3

_ALERT_COLUMNS = ("id", "rule", "subject", "customer", "site", "robot", "severity", "state", "summary",
                  "facts", "parent_id", "opened_ms", "updated_ms", "fired_ms", "resolved_ms",
                  "snoozed_until_ms")
_SELECT = "SELECT " + ", ".join(f"a.{c}" for c in _ALERT_COLUMNS) + " FROM alerts a"


def alert_row(row: sqlite3.Row) -> dict:
    out = {c: row[c] for c in _ALERT_COLUMNS}
    out["facts"] = json.loads(out["facts"] or "{}")
    return out


def _where(f: dict) -> tuple[str, list]:
    clauses, args = [], []
    if f.get("states"):
        clauses.append(f"a.state IN ({','.join('?' * len(f['states']))})")
        args += list(f["states"])
    for key in ("customer", "robot", "rule", "severity"):
        if f.get(key) is not None:
            clauses.append(f"a.{key} = ?")
            args.append(f[key])
    for key in ("csm", "scene"):
        if f.get(key) is not None:
            clauses.append(f"a.customer IN (SELECT id FROM customers WHERE {key} = ?)")
            args.append(f[key])
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def list_alerts(conn: sqlite3.Connection, f: dict, limit: int, offset: int, count: bool = True) -> dict:
    where, args = _where(f)
    rows = conn.execute(f"{_SELECT}{where} ORDER BY a.opened_ms DESC, a.id DESC LIMIT ? OFFSET ?",
                        [*args, limit, offset]).fetchall()
    total = conn.execute(f"SELECT count(*) FROM alerts a{where}", args).fetchone()[0] if count else len(rows)
    return {"items": [alert_row(r) for r in rows], "total": total, "limit": limit, "offset": offset}


def get_alert(conn: sqlite3.Connection, alert: int) -> dict | None:
    row = conn.execute(f"{_SELECT} WHERE a.id = ?", (alert,)).fetchone()
    if row is None:
        return None
    out = alert_row(row)
    out["events"] = [_event(r) for r in conn.execute(
        "SELECT id, alert_id, ts_ms, from_state, to_state, actor, note, facts FROM alert_events "
        "WHERE alert_id = ? ORDER BY ts_ms, id", (alert,))]
    return out


def _event(row: sqlite3.Row) -> dict:
    out = dict(row)
    out["facts"] = json.loads(out["facts"] or "{}")
    return out


def timeline(conn: sqlite3.Connection, customer: str | None = None, robot: str | None = None,
             limit: int = 100) -> list[dict]:
    """The alert transitions of a customer (or one robot), newest first: the account's history."""
    column, value = ("a.robot", robot) if robot else ("a.customer", customer)
    rows = conn.execute(
        "SELECT e.id, e.alert_id, e.ts_ms, e.from_state, e.to_state, e.actor, e.note, e.facts, "
        "a.rule, a.severity, a.robot, a.site, a.summary FROM alert_events e "
        f"JOIN alerts a ON a.id = e.alert_id WHERE {column} = ? ORDER BY e.ts_ms DESC, e.id DESC LIMIT ?",
        (value, limit)).fetchall()
    return [_event(r) for r in rows]
