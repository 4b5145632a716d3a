"""The set-based reads of one evaluation cycle: a handful of GROUP BY queries over the rollups,
never one query per robot (10,000 robots must fit in one cycle's budget).

Every read is bounded above by ``now`` (event time), so evaluating a past instant of back-filled
history sees what live evaluation saw then.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict

from protocol.catalogue import HEALTH_SUBSYSTEMS, USAGE_VOLUMES, subsystem_metrics

from collector.health.robot import day_view_start, hour_view_start

DAY_MS = 86_400_000
HEALTH_METRICS = tuple(m.name for sub in HEALTH_SUBSYSTEMS for m in subsystem_metrics(sub) if m.kind == "counter")


def robots(conn: sqlite3.Connection) -> list[dict]:
    cols = ("id", "customer", "site", "scene", "interval_s", "first_seen_ms", "last_window_ms", "state",
            "state_reason")
    rows = conn.execute(f"SELECT {', '.join(cols)} FROM robots ORDER BY id").fetchall()
    return [dict(zip(cols, row)) for row in rows]


def customers(conn: sqlite3.Connection) -> list[dict]:
    cols = ("id", "name", "scene", "tier", "contract_start", "contract_end", "arr", "csm")
    rows = conn.execute(f"SELECT {', '.join(cols)} FROM customers ORDER BY id").fetchall()
    return [dict(zip(cols, row)) for row in rows]


def health_counts(conn: sqlite3.Connection, now_ms: int) -> tuple[dict, dict]:
    """``(hour_view, day_view)``: ``{robot: {metric: total}}`` of the health metrics, in one scan."""
    marks = ",".join("?" * len(HEALTH_METRICS))
    sql = (f"SELECT robot, metric, SUM(CASE WHEN bucket_ms >= ? THEN total ELSE 0 END), SUM(total)"
           f" FROM counter_hour WHERE bucket_ms >= ? AND bucket_ms <= ? AND metric IN ({marks})"
           f" GROUP BY robot, metric")
    hour: dict[str, dict[str, int]] = defaultdict(dict)
    day: dict[str, dict[str, int]] = defaultdict(dict)
    params = (hour_view_start(now_ms), day_view_start(now_ms), now_ms, *HEALTH_METRICS)
    for robot, metric, short, long_ in conn.execute(sql, params):
        if short:
            hour[robot][metric] = short
        day[robot][metric] = long_
    return hour, day


def usage_sums(conn: sqlite3.Connection, now_ms: int) -> dict[str, dict[str, dict[str, int]]]:
    """``{robot: {metric: {last7, prev7, last30, yesterday, weekday4}}}`` over complete UTC days."""
    d = now_ms - now_ms % DAY_MS
    weekdays = tuple(d - k * DAY_MS for k in (8, 15, 22, 29))
    marks = ",".join("?" * len(USAGE_VOLUMES))
    sql = ("SELECT robot, metric,"
           " SUM(CASE WHEN bucket_ms >= ? THEN total ELSE 0 END),"
           " SUM(CASE WHEN bucket_ms >= ? AND bucket_ms < ? THEN total ELSE 0 END),"
           " SUM(total),"
           " SUM(CASE WHEN bucket_ms = ? THEN total ELSE 0 END),"
           " SUM(CASE WHEN bucket_ms IN (?,?,?,?) THEN total ELSE 0 END)"
           f" FROM counter_day WHERE metric IN ({marks}) AND bucket_ms >= ? AND bucket_ms < ?"
           " GROUP BY robot, metric")
    params = (d - 7 * DAY_MS, d - 14 * DAY_MS, d - 7 * DAY_MS, d - DAY_MS, *weekdays, *USAGE_VOLUMES,
              d - 30 * DAY_MS, d)
    out: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)
    for robot, metric, last7, prev7, last30, yesterday, weekday4 in conn.execute(sql, params):
        out[robot][metric] = {"last7": last7, "prev7": prev7, "last30": last30, "yesterday": yesterday,
                              "weekday4": weekday4}
    return out


def skills(conn: sqlite3.Connection, now_ms: int) -> dict[str, dict[str, int]]:
    """``{customer: {skill.x: uses}}`` over the last 7 complete days."""
    d = now_ms - now_ms % DAY_MS
    sql = ("SELECT r.customer, c.metric, SUM(c.total) FROM counter_day c JOIN robots r ON r.id = c.robot"
           " WHERE c.metric >= 'skill.' AND c.metric < 'skill/' AND c.bucket_ms >= ? AND c.bucket_ms < ?"
           " GROUP BY r.customer, c.metric")
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for customer, metric, total in conn.execute(sql, (d - 7 * DAY_MS, d)):
        out[customer][metric] = total
    return out


def active_days(conn: sqlite3.Connection, now_ms: int, onboarding_days: int, floor: int) -> dict[str, set[int]]:
    """``{robot: {day_ms}}``: days with more than ``floor`` interactions, for onboarding robots only."""
    since = now_ms - onboarding_days * DAY_MS
    sql = ("SELECT c.robot, c.bucket_ms FROM counter_day c JOIN robots r ON r.id = c.robot"
           " WHERE r.first_seen_ms >= ? AND c.metric = 'usage.interactions' AND c.bucket_ms >= ?"
           " AND c.bucket_ms <= ? AND c.total >= ?")
    out: dict[str, set[int]] = defaultdict(set)
    for robot, day in conn.execute(sql, (since, since - since % DAY_MS, now_ms, floor)):
        out[robot].add(day)
    return out


def scores_on(conn: sqlite3.Connection, day_ms: int) -> dict[str, float]:
    return dict(conn.execute("SELECT customer, score FROM score_history WHERE day_ms = ?", (day_ms,)))
