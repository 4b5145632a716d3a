"""Per-customer daily usage totals (``customer_day``), kept by the store at insert time.

Why: customer health reads 30 days of usage for every customer every cycle.  Summed from the
robot rollups that is 10,000 robots x 30 days of rows for 500 customers; from ``customer_day`` it
is 500 x 30.  The rows are written in the same transaction as the robot rollups, from the same
deltas (only windows really inserted), so they are exactly-once like them.

Invariant (tested): a ``customer_day`` row is the sum of ``counter_day`` over the robots that
belong to the customer *now* (``robots.customer``), for the usage volumes and every ``skill.*``
metric: exactly what health used to compute by joining robots.  So a robot moved to another
customer takes its history along (``move``), as the join did.  ``rebuild`` recomputes the table
from ``counter_day`` (for stores filled by other means than the store, e.g. benchmark builders).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from protocol.catalogue import USAGE_VOLUMES

_VOLUMES = frozenset(USAGE_VOLUMES)


def usage_where(col: str = "metric") -> str:
    """The same metric set in SQL (migration 0003 spells it out too)."""
    names = ", ".join(f"'{m}'" for m in USAGE_VOLUMES)
    return f"({col} IN ({names}) OR ({col} >= 'skill.' AND {col} < 'skill/'))"


UPSERT = ("INSERT INTO customer_day (bucket_ms, metric, customer, total) VALUES (?, ?, ?, ?) "
          "ON CONFLICT (bucket_ms, metric, customer) DO UPDATE SET total = customer_day.total + excluded.total")
#: the same per UTC hour (``customer_hour``, migration 0017): health sums a customer's local days from it
UPSERT_HOUR = UPSERT.replace("customer_day", "customer_hour")
#: each customer table and the robot rollup it sums
TABLES = (("customer_day", "counter_day"), ("customer_hour", "counter_hour"))


def is_usage(metric: str) -> bool:
    return metric in _VOLUMES or metric.startswith("skill.")


def owners(conn: sqlite3.Connection, robots: Iterable[str]) -> dict[str, str]:
    """``{robot: customer}`` as stored now (robots not stored are left out)."""
    robots = list(robots)
    out: dict[str, str] = {}
    for i in range(0, len(robots), 500):
        chunk = robots[i:i + 500]
        out.update(conn.execute(f"SELECT id, customer FROM robots WHERE id IN ({','.join('?' * len(chunk))})",
                                chunk))
    return out


def deltas(day: dict[tuple[str, str, int], int], owner: dict[str, str]) -> dict[tuple[int, str, str], int]:
    """This flush's robot day deltas ``{(robot, metric, day): n}`` -> ``{(day, metric, customer): n}``
    for the usage metrics of robots with an owner."""
    out: dict[tuple[int, str, str], int] = {}
    for (robot, metric, bucket), value in day.items():
        if is_usage(metric):
            customer = owner.get(robot)
            if customer is not None:
                key = (bucket, metric, customer)
                out[key] = out.get(key, 0) + value
    return out


def add(conn: sqlite3.Connection, rows: dict[tuple[int, str, str], int], hourly: bool = False) -> None:
    """Add ``deltas`` to ``customer_day`` (``hourly``: of hour buckets, to ``customer_hour``)."""
    if rows:
        conn.executemany(UPSERT_HOUR if hourly else UPSERT, sorted((*k, v) for k, v in rows.items() if v))  # key order


def move(conn: sqlite3.Connection, robot: str, old: str, new: str) -> None:
    """The robot now belongs to ``new``: its stored usage history leaves ``old`` and joins ``new``
    (daily and hourly).  Call after the robot's row changed and before this flush's deltas are added."""
    for table, source in TABLES:
        sql = (f"INSERT INTO {table} (bucket_ms, metric, customer, total) SELECT bucket_ms, metric, ?, {{sign}}total"
               f" FROM {source} WHERE robot = ? AND {usage_where()} ON CONFLICT (bucket_ms, metric, customer)"
               f" DO UPDATE SET total = {table}.total + excluded.total")
        conn.execute(sql.format(sign="-"), (old, robot))
        conn.execute(sql.format(sign=""), (new, robot))
        # rows the move emptied, found by key (no scan of the whole table)
        conn.execute(f"DELETE FROM {table} WHERE (bucket_ms, metric) IN (SELECT bucket_ms, metric FROM {source}"
                     f" WHERE robot = ? AND {usage_where()}) AND customer = ? AND total = 0", (robot, old))


def settle(conn: sqlite3.Connection, claimed: dict[str, set[str]], before: dict[str, str]) -> dict[str, str]:
    """Each robot's customer after this flush's robot upserts, moving the history of robots that
    changed customer.  ``claimed``: the customers this flush's items named per robot; ``before``:
    the stored customer of those robots before the upserts.  Only robots whose items disagree
    with the stored customer (or with each other) are read back: a status may be ignored as stale."""
    owner = {r: next(iter(cs)) for r, cs in claimed.items() if len(cs) == 1}
    unsure = [r for r, cs in claimed.items() if len(cs) > 1 or (r in before and before[r] not in cs)]
    if unsure:
        owner.update(owners(conn, unsure))
        for r in unsure:
            if r in before and r in owner and owner[r] != before[r]:
                move(conn, r, before[r], owner[r])
    return owner


#: the invariant as a query: each row of the table summed from ``counter_day`` over the owner's robots
FROM_ROBOTS = ("SELECT c.bucket_ms, c.metric, r.customer, SUM(c.total) FROM counter_day c JOIN robots r"
               f" ON r.id = c.robot WHERE {usage_where('c.metric')} GROUP BY c.bucket_ms, c.metric, r.customer")


def rebuild(conn: sqlite3.Connection) -> None:
    """Recompute every row from ``counter_day`` / ``counter_hour`` (the migrations' back-fill)."""
    conn.execute("DELETE FROM customer_day")
    conn.execute(f"INSERT INTO customer_day (bucket_ms, metric, customer, total) {FROM_ROBOTS}")
    conn.execute("DELETE FROM customer_hour")
    conn.execute("INSERT INTO customer_hour (bucket_ms, metric, customer, total) "
                 + FROM_ROBOTS.replace("counter_day", "counter_hour"))


def expected(conn: sqlite3.Connection) -> dict[tuple[int, str, str], int]:
    """What the invariant says the table holds, summed from ``counter_day`` (for tests and checks)."""
    return {(b, m, c): t for b, m, c, t in conn.execute(FROM_ROBOTS)}


def stored(conn: sqlite3.Connection) -> dict[tuple[int, str, str], int]:
    return {(b, m, c): t for b, m, c, t in conn.execute("SELECT bucket_ms, metric, customer, total FROM customer_day")}
