"""Read-only SQL for customers and robots: plain functions over a sqlite3 connection.

Every statement is parameterised; the only text spliced into SQL comes from the fixed
``CUSTOMER_SORTS`` table.  Rows come back as plain dicts shaped like the JSON bodies documented in
docs/api.md and in the OpenAPI document."""

from __future__ import annotations

import json
import sqlite3

from collector.api.params import OPEN_STATES
from protocol.catalogue import USAGE_VOLUMES
from protocol.timeunits import DAY_MS, day_start

#: ?sort= values for the customer list -> SQL expression (a leading '-' sorts descending)
CUSTOMER_SORTS = {
    "score": "h.score", "name": "c.name", "id": "c.id", "scene": "c.scene", "csm": "c.csm",
    "arr": "c.arr", "contract_end": "c.contract_end", "open_alerts": "open_alerts",
    "robots": "coalesce(h.robots_total, known_total)",
    "color": "CASE h.color WHEN 'red' THEN 0 WHEN 'yellow' THEN 1 WHEN 'green' THEN 2 END",
}

_OPEN = ",".join("?" * len(OPEN_STATES))

# Correlated subqueries (one index lookup per customer) rather than GROUP BY over every robot and
# alert: a single customer's page then costs the same whatever the fleet's size.
_CUSTOMER_SELECT = f"""
SELECT c.id, c.name, c.scene, c.tier, c.csm, c.contract_start, c.contract_end, c.arr, c.assigned,
       h.score, h.color, h.trend, h.computed_ms, h.color_since_ms,
       h.robots_total, h.robots_online, h.robots_offline, h.robots_stale,
       CASE WHEN h.customer IS NULL THEN (SELECT count(*) FROM robots r WHERE r.customer = c.id) END
           AS known_total,
       CASE WHEN h.customer IS NULL THEN (SELECT count(*) FROM robots r WHERE r.customer = c.id
                                          AND r.state = 'online') END AS known_online,
       CASE WHEN h.customer IS NULL THEN (SELECT count(*) FROM robots r WHERE r.customer = c.id
                                          AND r.state = 'offline') END AS known_offline,
       (SELECT count(*) FROM alerts a WHERE a.customer = c.id AND a.state IN ({_OPEN})) AS open_alerts
FROM customers c
LEFT JOIN customer_health h ON h.customer = c.id
"""

#: one customer: the summary plus the score's breakdown and facts
_CUSTOMER_ONE = _CUSTOMER_SELECT.replace("h.score, h.color,", "h.breakdown, h.facts, h.score, h.color,", 1)


def _customer_where(f: dict) -> tuple[str, list]:
    clauses, args = [], []
    for key, column in (("scene", "c.scene"), ("csm", "c.csm"), ("tier", "c.tier"),
                        ("color", "h.color"), ("customer", "c.id")):
        if f.get(key) is not None:
            clauses.append(f"{column} = ?")
            args.append(f[key])
    if f.get("q"):
        clauses.append("(instr(lower(c.name), lower(?)) > 0 OR instr(c.id, lower(?)) > 0)")
        args += [f["q"], f["q"]]
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def customer_summary(row: sqlite3.Row) -> dict:
    health = None
    if row["color"] is not None:
        health = {"score": row["score"], "color": row["color"], "trend": row["trend"],
                  "computed_ms": row["computed_ms"], "color_since_ms": row["color_since_ms"]}
    return {
        "id": row["id"], "name": row["name"], "scene": row["scene"], "tier": row["tier"],
        "csm": row["csm"], "contract_start": row["contract_start"], "contract_end": row["contract_end"],
        "arr": row["arr"], "assigned": bool(row["assigned"]), "health": health,
        "robots": ({"total": row["robots_total"], "online": row["robots_online"],
                    "offline": row["robots_offline"], "stale": row["robots_stale"]} if health else
                   {"total": row["known_total"], "online": row["known_online"],
                    "offline": row["known_offline"], "stale": 0}),
        "open_alerts": row["open_alerts"],
    }


def list_customers(conn: sqlite3.Connection, f: dict, sort: str, limit: int, offset: int) -> dict:
    where, args = _customer_where(f)
    desc = sort.startswith("-")
    expr = CUSTOMER_SORTS[sort.lstrip("-")]
    order = f"{expr} {'DESC' if desc else 'ASC'} NULLS LAST, c.id"
    rows = conn.execute(f"{_CUSTOMER_SELECT}{where} ORDER BY {order} LIMIT ? OFFSET ?",
                        [*OPEN_STATES, *args, limit, offset]).fetchall()
    total = conn.execute(f"SELECT count(*) FROM customers c LEFT JOIN customer_health h "
                         f"ON h.customer = c.id{where}", args).fetchone()[0]
    return {"items": [customer_summary(r) for r in rows], "total": total, "limit": limit, "offset": offset}


def get_customer(conn: sqlite3.Connection, customer: str, now_ms: int, days: int = 30) -> dict | None:
    row = conn.execute(f"{_CUSTOMER_ONE} WHERE c.id = ?", [*OPEN_STATES, customer]).fetchone()
    if row is None:
        return None
    out = customer_summary(row)
    out["breakdown"] = json.loads(row["breakdown"]) if row["breakdown"] else []
    out["facts"] = json.loads(row["facts"]) if row["facts"] else {}
    since = day_start(now_ms) - (days - 1) * DAY_MS
    out["score_history"] = [dict(r) for r in conn.execute(
        "SELECT day_ms, score, color FROM score_history WHERE customer = ? AND day_ms >= ? ORDER BY day_ms",
        (customer, since))]
    out["sites"] = [r[0] for r in conn.execute(
        "SELECT DISTINCT site FROM robots WHERE customer = ? ORDER BY site", (customer,))]
    return out


def robots_version(conn: sqlite3.Connection, customer: str) -> tuple:
    """Changes whenever a robot of the customer reports anything (ingest updates last_seen_ms)."""
    return tuple(conn.execute("SELECT count(*), max(last_seen_ms), max(last_window_ms) FROM robots "
                              "WHERE customer = ?", (customer,)).fetchone())


def robot_health_version(conn: sqlite3.Connection, customer: str) -> tuple:
    return tuple(conn.execute("SELECT count(*), max(computed_ms) FROM robot_health WHERE customer = ?",
                              (customer,)).fetchone())


def series(rows, first: int, days: int) -> dict[str, list[int]]:
    out = {m: [0] * days for m in USAGE_VOLUMES}
    for metric, bucket, total in rows:
        i = (bucket - first) // DAY_MS
        if 0 <= i < days:
            out[metric][i] = total
    return out


_ROBOT_SELECT = """
SELECT r.id, r.customer, r.site, r.scene, r.agent_version, r.interval_s, r.first_seen_ms,
       r.last_seen_ms, r.last_window_ms, r.state, r.state_reason, r.state_ms, r.clock_skew_ms,
       h.state AS health_state, h.score, h.worst, h.subsystems, h.computed_ms
FROM robots r
LEFT JOIN robot_health h ON h.robot = r.id
"""


def robot_row(row: sqlite3.Row) -> dict:
    health = None
    if row["health_state"] is not None:
        health = {"state": row["health_state"], "score": row["score"], "worst": row["worst"],
                  "computed_ms": row["computed_ms"], "subsystems": json.loads(row["subsystems"])}
    return {
        "id": row["id"], "customer": row["customer"], "site": row["site"], "scene": row["scene"],
        "agent_version": row["agent_version"], "interval_s": row["interval_s"],
        "first_seen_ms": row["first_seen_ms"], "last_seen_ms": row["last_seen_ms"],
        "last_window_ms": row["last_window_ms"],
        "status": {"state": row["state"], "reason": row["state_reason"], "since_ms": row["state_ms"]},
        "clock_skew_ms": row["clock_skew_ms"],
        "state": row["health_state"] or row["state"],
        "health": health,
    }


def list_robots(conn: sqlite3.Connection, f: dict, limit: int, offset: int) -> dict:
    clauses, args = [], []
    for key, column in (("customer", "r.customer"), ("scene", "r.scene"), ("site", "r.site"),
                        ("state", "coalesce(h.state, r.state)")):
        if f.get(key) is not None:
            clauses.append(f"{column} = ?")
            args.append(f[key])
    if f.get("csm") is not None:
        clauses.append("r.customer IN (SELECT id FROM customers WHERE csm = ?)")
        args.append(f["csm"])
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    rows = conn.execute(f"{_ROBOT_SELECT}{where} ORDER BY r.customer, r.id LIMIT ? OFFSET ?",
                        [*args, limit, offset]).fetchall()
    total = conn.execute(f"SELECT count(*) FROM robots r LEFT JOIN robot_health h ON h.robot = r.id{where}",
                         args).fetchone()[0]
    return {"items": [robot_row(r) for r in rows], "total": total, "limit": limit, "offset": offset}


def customer_exists(conn: sqlite3.Connection, customer: str) -> bool:
    return conn.execute("SELECT 1 FROM customers WHERE id = ?", (customer,)).fetchone() is not None


def get_robot(conn: sqlite3.Connection, robot: str, now_ms: int, days: int = 7) -> dict | None:
    row = conn.execute(f"{_ROBOT_SELECT} WHERE r.id = ?", (robot,)).fetchone()
    if row is None:
        return None
    out = robot_row(row)
    first = day_start(now_ms) - (days - 1) * DAY_MS
    usage: dict[str, list[int]] = {}
    for metric, bucket, total in conn.execute(
            "SELECT metric, bucket_ms, total FROM counter_day WHERE robot = ? AND bucket_ms >= ? "
            "AND (metric LIKE 'usage.%' OR metric LIKE 'skill.%') ORDER BY metric", (robot, first)):
        i = (bucket - first) // DAY_MS
        if 0 <= i < days:
            usage.setdefault(metric, [0] * days)[i] = total
    out["usage"] = {"days": [first + i * DAY_MS for i in range(days)], "metrics": usage}
    return out
