"""The set-based reads of one evaluation cycle: a handful of GROUP BY queries over the rollups,
never one query per robot (10,000 robots must fit in one cycle's budget).

Every read is bounded above by ``now`` (event time), so evaluating a past instant of back-filled
history sees what live evaluation saw then.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict

from protocol.catalogue import HEALTH_SUBSYSTEMS, USAGE_VOLUMES, subsystem_metrics

from collector.health.robot import DAY_MS, HOUR_MS, day_view_start, hour_view_start

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


def _slices(now_ms: int) -> list[tuple[str, str, int]]:
    """(table, index, bucket) of every bucket the two views read, each read on its own so rows
    come ordered by robot (no sort)."""
    hs, ds = hour_view_start(now_ms), day_view_start(now_ms)
    out = [("counter_hour", "counter_hour_bucket_robot", b) for b in (hs, hs + HOUR_MS) if b <= now_ms]
    return out + [("counter_day", "counter_day_bucket_robot", b) for b in (ds, ds + DAY_MS) if b <= now_ms]


def health_counts(conn: sqlite3.Connection, now_ms: int) -> tuple[dict, dict]:
    """``(hour_view, day_view)``: ``{robot: {metric: total}}`` of the health metrics.

    One query per bucket, grouped by robot in index order; each robot's metrics arrive as one
    ``metric=total,...`` string (10,000 rows instead of 200,000)."""
    marks = ",".join("?" * len(HEALTH_METRICS))
    views: dict[str, dict[str, dict[str, int]]] = {"counter_hour": defaultdict(dict), "counter_day": defaultdict(dict)}
    for table, index, bucket in _slices(now_ms):
        sql = (f"SELECT robot, group_concat(metric || '=' || total) FROM {table} INDEXED BY {index}"
               f" WHERE bucket_ms = ? AND metric IN ({marks}) GROUP BY robot")
        sums = views[table]
        for robot, pairs in conn.execute(sql, (bucket, *HEALTH_METRICS)):
            per = sums[robot]
            for pair in pairs.split(","):
                metric, _, total = pair.partition("=")
                per[metric] = per.get(metric, 0) + int(total)
    return views["counter_hour"], views["counter_day"]


def usage_sums(conn: sqlite3.Connection, now_ms: int) -> dict[str, dict[str, int]]:
    """``{customer: {last7, prev7, last30, yesterday, weekday4, <volume>_7d...}}`` over complete UTC
    days.  Walks robots in customer order and seeks each robot's rows: no sort, no full scan."""
    d = now_ms - now_ms % DAY_MS
    weekdays = tuple(d - k * DAY_MS for k in (8, 15, 22, 29))
    sql = ("SELECT r.customer,"
           " SUM(CASE WHEN c.bucket_ms >= ? THEN c.total ELSE 0 END),"
           " SUM(CASE WHEN c.bucket_ms >= ? AND c.bucket_ms < ? THEN c.total ELSE 0 END),"
           " SUM(c.total),"
           " SUM(CASE WHEN c.bucket_ms = ? THEN c.total ELSE 0 END),"
           " SUM(CASE WHEN c.bucket_ms IN (?,?,?,?) THEN c.total ELSE 0 END)"
           " FROM robots r JOIN counter_day c INDEXED BY counter_day_robot_cover"
           " ON c.robot = r.id AND c.metric = 'usage.interactions' AND c.bucket_ms >= ? AND c.bucket_ms < ?"
           " GROUP BY r.customer")
    params = (d - 7 * DAY_MS, d - 14 * DAY_MS, d - 7 * DAY_MS, d - DAY_MS, *weekdays, d - 30 * DAY_MS, d)
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for customer, last7, prev7, last30, yesterday, weekday4 in conn.execute(sql, params):
        out[customer].update(last7=last7, prev7=prev7, last30=last30, yesterday=yesterday, weekday4=weekday4)
    others = [m for m in USAGE_VOLUMES if m != "usage.interactions"]
    sql = ("SELECT r.customer, " + ", ".join(f"SUM(CASE WHEN c.metric = '{m}' THEN c.total ELSE 0 END)" for m in others)
           + " FROM robots r JOIN counter_day c INDEXED BY counter_day_robot_cover"
           f" ON c.robot = r.id AND c.metric IN ({','.join('?' * len(others))}) AND c.bucket_ms >= ?"
           " AND c.bucket_ms < ? GROUP BY r.customer")
    for customer, *totals in conn.execute(sql, (*others, d - 7 * DAY_MS, d)):
        out[customer].update({f"{m}_7d": t for m, t in zip(others, totals)})
    return out


def skills(conn: sqlite3.Connection, now_ms: int) -> dict[str, dict[str, int]]:
    """``{customer: {skill.x: uses}}`` over the last 7 complete days."""
    d = now_ms - now_ms % DAY_MS
    sql = ("SELECT r.customer, group_concat(c.metric || '=' || c.total) FROM robots r"
           " JOIN counter_day c INDEXED BY counter_day_robot_cover ON c.robot = r.id"
           " AND c.metric >= 'skill.' AND c.metric < 'skill/' AND c.bucket_ms >= ? AND c.bucket_ms < ?"
           " GROUP BY r.customer")
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for customer, pairs in conn.execute(sql, (d - 7 * DAY_MS, d)):
        per = out[customer]
        for pair in pairs.split(","):
            metric, _, total = pair.partition("=")
            per[metric] = per.get(metric, 0) + int(total)
    return out


def active_days(conn: sqlite3.Connection, now_ms: int, onboarding_days: int, floor: int) -> dict[str, set[int]]:
    """``{robot: {day_ms}}``: days with more than ``floor`` interactions, for onboarding robots only."""
    since = now_ms - onboarding_days * DAY_MS
    sql = ("SELECT c.robot, c.bucket_ms FROM robots r JOIN counter_day c INDEXED BY counter_day_robot_cover"
           " ON c.robot = r.id AND c.metric = 'usage.interactions' AND c.bucket_ms >= ? AND c.bucket_ms <= ?"
           " WHERE r.first_seen_ms >= ? AND c.total >= ?")
    out: dict[str, set[int]] = defaultdict(set)
    for robot, day in conn.execute(sql, (since - since % DAY_MS, now_ms, since, floor)):
        out[robot].add(day)
    return out


def scores_on(conn: sqlite3.Connection, day_ms: int) -> dict[str, float]:
    return dict(conn.execute("SELECT customer, score FROM score_history WHERE day_ms = ?", (day_ms,)))
