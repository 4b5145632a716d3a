"""SQLite: success goals (issue 14).  The registry part's ``upsert_goals`` / ``find_goal`` (a mixin
of ``SqliteRegistryStore``), and the reads both the API and the health cycle make of them:
``goal_rows`` and ``goal_series``, the daily sums behind a goal's metric over the customer's local
days (``collector/health/goals.py`` turns them into progress and status).

What each metric sums, per local day (a local day is the 24 UTC hours from the customer's local
midnight, as health reckons it: ``collector/store/sqlite/health.py``, ``_local_days``):

| metric | numerator | denominator |
|---|---|---|
| ``interactions_per_robot_day`` | interactions (``customer_hour``) | robots of the customer first seen before the day's end |
| ``skill:<name>`` | ``skill.<name>`` uses (``customer_hour``) | the same robots |
| ``conversion`` | interactions x 100 | foot traffic (``customer_hour``) |
| ``active_day_share`` | robots with an active day (at least ``active_floor`` interactions: ``health.active_day_interactions``, as onboarding counts them; ``counter_hour``) x 100 | the same robots |
| ``availability`` | open robot-hours the robot reported in (any rollup row; up to 2 hours between two reported ones count too), less its ``net.offline_s``, x 100 | open robot-hours (robots first seen before the hour's end) |

Open hours are the local hours of the day passed in (``open_hours``; None = all 24).
"""

from __future__ import annotations

import sqlite3
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Collection, Sequence

from collector.store.seam import DEFAULT_ACTIVE_FLOOR
from collector.store.records import GoalRow
from collector.store.sqlite.db import find_id, identity_id, write_transaction
from collector.store.sqlite.sql import dialect
from protocol.timeunits import DAY_MS, HOUR_MS

GOAL_FIELDS = ("id", "customer", "metric", "target", "start", "due", "note", "actor", "source", "created_ms",
               "updated_ms")
UPSERT_GOAL = ("INSERT INTO customer_goals (customer, metric, target, start, due, note, actor, source, created_ms,"
               " updated_ms) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (customer, metric, start, due) DO UPDATE SET"
               " target = excluded.target, note = excluded.note, actor = excluded.actor, source = excluded.source,"
               " updated_ms = excluded.updated_ms"
               " WHERE customer_goals.target <> excluded.target OR customer_goals.note <> excluded.note")
IDENTITY_WHERE = "customer = ? AND metric = ? AND start = ? AND due = ?"
#: hours without a report between two reported hours that still count as online (as health's
#: learned opening hours fill them: collector/store/sqlite/health.py, GAP_HOURS)
GAP_HOURS = 2


class RegistryGoals:
    """The registry part's success goals (needs ``self.path``)."""

    path: str

    def upsert_goals(self, rows: Sequence[GoalRow], actor: str, source: str,
                     now_ms: int) -> tuple[list[int], list[int]]:
        added: list[int] = []
        updated: list[int] = []
        with write_transaction(self.path) as conn:
            for row in rows:
                found = identity_id(conn, "customer_goals", IDENTITY_WHERE, row.identity)
                cur = conn.execute(UPSERT_GOAL, (*row, actor, source, now_ms, now_ms))
                if cur.rowcount:
                    (updated.append(found) if found is not None else added.append(cur.lastrowid))
        return added, updated

    def find_goal(self, row: GoalRow) -> int | None:
        return find_id(self.path, "customer_goals", IDENTITY_WHERE, row.identity)


def goal_rows(conn: sqlite3.Connection, customer: str | None = None, goal_id: int | None = None) -> list[dict]:
    """Stored goals as dicts (``GOAL_FIELDS``), by customer, then due date, then id."""
    sql, args = f"SELECT {', '.join(GOAL_FIELDS)} FROM customer_goals", []
    if customer is not None:
        sql, args = sql + " WHERE customer = ?", [customer]
    elif goal_id is not None:
        sql, args = sql + " WHERE id = ?", [goal_id]
    return [dict(zip(GOAL_FIELDS, r)) for r in conn.execute(sql + " ORDER BY customer, due, id", args)]


class Marks:
    """The store's revisions of every hour in [lo_ms, hi_ms) (``rollup_marks``: every write to an
    hour bumps its revision, late data included), read once, summed per local day of any goal."""

    def __init__(self, conn: sqlite3.Connection, lo_ms: int, hi_ms: int):
        rows = conn.execute("SELECT bucket_ms, rev FROM rollup_marks WHERE grain = 'counter_hour'"
                            " AND bucket_ms >= ? AND bucket_ms < ? ORDER BY bucket_ms", (lo_ms, hi_ms)).fetchall()
        self.buckets = [b for b, _ in rows]
        self.sums = [0]
        for _, rev in rows:
            self.sums.append(self.sums[-1] + rev)

    def per_day(self, first_ms: int, days: int) -> list[tuple[int, int]]:
        """``(hours marked, their revisions summed)`` of each day from ``first_ms``."""
        out = []
        i = bisect_left(self.buckets, first_ms)
        for d in range(days):
            j = bisect_left(self.buckets, first_ms + (d + 1) * DAY_MS, i)
            out.append((j - i, self.sums[j] - self.sums[i]))
            i = j
        return out


def robot_versions(conn: sqlite3.Connection) -> dict[str, tuple[int, int]]:
    """customer -> (robots, their first sightings summed): what a goal's denominators depend on."""
    return {c: (n, total) for c, n, total in conn.execute(
        f"SELECT customer, count(*), {dialect(conn).total('first_seen_ms')} FROM robots GROUP BY customer")}


def runs(days: list[int]) -> list[tuple[int, int]]:
    """Sorted day numbers as ``(first, last)`` runs of consecutive days."""
    out: list[tuple[int, int]] = []
    for d in days:
        if out and out[-1][1] == d - 1:
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


def _robot_days(firsts: list[int], first_ms: int, days: int) -> list[int]:
    return [sum(1 for f in firsts if f < first_ms + (d + 1) * DAY_MS) for d in range(days)]


def _customer_days(conn: sqlite3.Connection, customer: str, metric: str, first_ms: int, days: int) -> list[int]:
    out = [0] * days
    for d, total in conn.execute(
            "SELECT (bucket_ms - ?) / ?, SUM(total) FROM customer_hour WHERE metric = ? AND customer = ?"
            " AND bucket_ms >= ? AND bucket_ms < ? GROUP BY 1",
            (first_ms, DAY_MS, metric, customer, first_ms, first_ms + days * DAY_MS)):
        out[d] = total
    return out


def goal_series(conn: sqlite3.Connection, customer: str, metric: str, first_ms: int, days: int,
                open_hours: Collection[int] | None = None, active_floor: int = DEFAULT_ACTIVE_FLOOR) -> list[tuple[float, float]]:
    """``(numerator, denominator)`` of ``metric`` for each of ``days`` local days from ``first_ms``
    (the UTC instant of the first day's local midnight); see the module's table.  ``active_floor``:
    the interactions that make a robot's day active (``health.active_day_interactions``)."""
    if days <= 0:
        return []
    end_ms = first_ms + days * DAY_MS
    robots = conn.execute("SELECT id, first_seen_ms FROM robots WHERE customer = ? ORDER BY id", (customer,)).fetchall()
    firsts = [r[1] for r in robots]
    if metric == "conversion":
        num = _customer_days(conn, customer, "usage.interactions", first_ms, days)
        den = _customer_days(conn, customer, "usage.foot_traffic", first_ms, days)
        return [(100.0 * n, float(f)) for n, f in zip(num, den)]
    if metric == "interactions_per_robot_day" or metric.startswith("skill:"):
        name = "usage.interactions" if metric == "interactions_per_robot_day" else "skill." + metric[len("skill:"):]
        num = _customer_days(conn, customer, name, first_ms, days)
        return [(float(n), float(r)) for n, r in zip(num, _robot_days(firsts, first_ms, days))]
    if metric == "active_day_share":
        active = [0] * days
        for robot, _first in robots:
            for (d,) in conn.execute(
                    f"SELECT (bucket_ms - ?) / ? FROM counter_hour{dialect(conn).indexed('counter_hour_interactions')}"
                    " WHERE robot = ? AND metric = 'usage.interactions' AND bucket_ms >= ? AND bucket_ms < ?"
                    " GROUP BY 1 HAVING SUM(total) >= ?", (first_ms, DAY_MS, robot, first_ms, end_ms, max(1, active_floor))):
                active[d] += 1
        return [(100.0 * a, float(r)) for a, r in zip(active, _robot_days(firsts, first_ms, days))]
    if metric == "availability":
        return _availability(conn, robots, first_ms, days, open_hours)
    raise ValueError(f"unknown goal metric {metric!r}")


def _availability(conn: sqlite3.Connection, robots: list, first_ms: int, days: int,
                  open_hours: Collection[int] | None) -> list[tuple[float, float]]:
    """Open robot-hours and the share of each the robot was online: it reported a window starting in
    that hour (a counter or gauge rollup row), less the seconds its agent counted offline."""
    hours = set(range(24)) if open_hours is None else set(open_hours)
    end_ms = first_ms + days * DAY_MS
    num, den = [0.0] * days, [0.0] * days
    for robot, first_seen in robots:
        seen: dict[int, float] = defaultdict(float)
        for table in ("counter_hour", "gauge_hour"):
            for (bucket,) in conn.execute(f"SELECT DISTINCT bucket_ms FROM {table} WHERE robot = ?"
                                          " AND bucket_ms >= ? AND bucket_ms < ?", (robot, first_ms, end_ms)):
                seen[bucket] = 1.0
        # a window's counts sit in the hour of its start: windows of up to GAP_HOURS + 1 hours (history
        # back-filled in 2-hour windows) leave hours between two reported ones empty, and online
        reported = sorted(seen)
        for before, after in zip(reported, reported[1:]):
            if after - before <= (GAP_HOURS + 1) * HOUR_MS:
                for bucket in range(before + HOUR_MS, after, HOUR_MS):
                    seen[bucket] = 1.0
        for bucket, offline_s in conn.execute(
                "SELECT bucket_ms, total FROM counter_hour WHERE robot = ? AND metric = 'net.offline_s'"
                " AND bucket_ms >= ? AND bucket_ms < ?", (robot, first_ms, end_ms)):
            seen[bucket] = max(0.0, 1.0 - offline_s / 3600.0)
        lo = -(-first_ms // HOUR_MS) * HOUR_MS  # the first whole UTC hour of the first local day
        for bucket in range(max(lo, first_seen - first_seen % HOUR_MS), end_ms, HOUR_MS):
            d, hour = divmod((bucket - first_ms) // HOUR_MS, 24)
            if hour in hours:
                den[d] += 1
                num[d] += seen.get(bucket, 0.0)
    return [(100.0 * n, d) for n, d in zip(num, den)]
