"""The set-based reads of one evaluation cycle: a handful of GROUP BY queries over the rollups,
never one query per robot (10,000 robots must fit in one cycle's budget).

Every read is bounded above by ``now`` (event time), so evaluating a past instant of back-filled
history sees what live evaluation saw then.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict

from protocol.catalogue import HEALTH_SUBSYSTEMS, subsystem_metrics

from collector.health.robot import DAY_MS, HOUR_MS, SLOT_OF, SLOTS, day_view_start, hour_view_start

HEALTH_METRICS = tuple(m.name for sub in HEALTH_SUBSYSTEMS for m in subsystem_metrics(sub) if m.kind == "counter")
HEALTH_SET = frozenset(HEALTH_METRICS)


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


SLOT_TABLE = "health_slot"


def _slot_table(conn: sqlite3.Connection) -> None:
    """A temporary (per-connection) table metric -> slot, so SQL sums each robot's slots itself."""
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {SLOT_TABLE} (metric TEXT PRIMARY KEY, n INTEGER NOT NULL)"
                 " WITHOUT ROWID")
    if conn.execute(f"SELECT count(*) FROM temp.{SLOT_TABLE}").fetchone()[0] != len(SLOT_OF):
        conn.execute(f"DELETE FROM temp.{SLOT_TABLE}")
        conn.executemany(f"INSERT INTO temp.{SLOT_TABLE} (metric, n) VALUES (?, ?)", SLOT_OF.items())


def _fingerprint(conn: sqlite3.Connection, table: str, index: str, bucket: int) -> tuple:
    """(rows, sum of totals) of one bucket: a covered count, ~10x cheaper than reading it.  Rollups
    only grow (upserts add), so an unchanged fingerprint means unchanged sums."""
    return tuple(conn.execute(f"SELECT count(*), total(total) FROM {table} INDEXED BY {index} WHERE bucket_ms = ?",
                              (bucket,)).fetchone())


def _cached(conn, memory: dict | None, key: tuple, read, now_ms: int | None = None):
    """``read()``, or the result kept in ``memory`` for ``key`` while the bucket's fingerprint holds.

    The bucket holding ``now_ms`` (the current hour or today) is read without a fingerprint: live
    ingest adds to it between any two cycles, so checking first would only add a scan.  A bucket's
    fingerprint is taken once per cycle however many reads share it (``memory["marks"]``)."""
    if memory is None:
        return read()
    table, index, bucket = key[:3]
    span = HOUR_MS if table == "counter_hour" else DAY_MS
    if now_ms is not None and bucket <= now_ms < bucket + span:
        memory.setdefault("buckets", {}).pop(key, None)
        return read()
    cache = memory.setdefault("buckets", {})
    marks = memory.setdefault("marks", {})
    mark = marks.get((table, bucket))
    if mark is None:
        mark = marks[(table, bucket)] = _fingerprint(conn, table, index, bucket)
    hit = cache.get(key)
    if hit is not None and hit[0] == mark:
        return hit[1]
    result = read()
    cache[key] = (mark, result)
    return result


def _forget_old(memory: dict | None, keys: set) -> None:
    if memory is not None and "buckets" in memory:
        for key in [k for k in memory["buckets"] if k not in keys]:
            del memory["buckets"][key]


def health_counts(conn: sqlite3.Connection, now_ms: int, memory: dict | None = None) -> tuple[dict, dict, dict]:
    """``(hour_view, day_view, yesterday)``.

    The views map robot -> slot vector (``robot.SLOT_OF``); one query per bucket, grouped by robot
    in index order, each row of the result already the robot's slot sums.  ``yesterday`` maps
    robot -> ``{metric: total}`` of the usage volumes and skills of the last complete UTC day.
    With ``memory`` (kept by the loop), a bucket whose fingerprint did not change is not re-read:
    in steady state only the current hour and today are."""
    _slot_table(conn)
    if memory is not None:
        memory["marks"] = {}  # fingerprints of this cycle's snapshot only
    cols = ", ".join(f"COALESCE(SUM(c.total) FILTER (WHERE s.n = {k}), 0)" for k in range(SLOTS))
    views: dict[str, dict[str, list[int]]] = {"counter_hour": {}, "counter_day": {}}
    keys = set()
    for table, index, bucket in _slices(now_ms):
        sql = (f"SELECT c.robot, {cols} FROM {table} c INDEXED BY {index}"
               f" JOIN temp.{SLOT_TABLE} s ON s.metric = c.metric WHERE c.bucket_ms = ? GROUP BY c.robot")
        key = (table, index, bucket, "slots")
        keys.add(key)
        rows = _cached(conn, memory, key, lambda: conn.execute(sql, (bucket,)).fetchall(), now_ms)
        sums = views[table]
        for robot, *vec in rows:
            had = sums.get(robot)
            sums[robot] = vec if had is None else [a + b for a, b in zip(had, vec)]
    _forget_old(memory, keys)
    return views["counter_hour"], views["counter_day"]


def usage_sums(conn: sqlite3.Connection, now_ms: int) -> dict[str, dict[str, int]]:
    """``{customer: {last7, prev7, last30, yesterday, weekday4}}``: interactions over complete UTC
    days, from the store's per-customer daily totals (``customer_day``, the sum over the customer's
    robots): 500 customers x 30 days of rows instead of 10,000 robots x 30 days."""
    d = now_ms - now_ms % DAY_MS
    weekdays = tuple(d - k * DAY_MS for k in (8, 15, 22, 29))
    sql = ("SELECT customer,"
           " SUM(CASE WHEN bucket_ms >= ? THEN total ELSE 0 END),"
           " SUM(CASE WHEN bucket_ms >= ? AND bucket_ms < ? THEN total ELSE 0 END),"
           " SUM(total),"
           " SUM(CASE WHEN bucket_ms = ? THEN total ELSE 0 END),"
           " SUM(CASE WHEN bucket_ms IN (?,?,?,?) THEN total ELSE 0 END)"
           " FROM customer_day WHERE bucket_ms >= ? AND bucket_ms < ? AND metric = 'usage.interactions'"
           " GROUP BY customer")
    params = (d - 7 * DAY_MS, d - 14 * DAY_MS, d - 7 * DAY_MS, d - DAY_MS, *weekdays, d - 30 * DAY_MS, d)
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for customer, last7, prev7, last30, yesterday, weekday4 in conn.execute(sql, params):
        out[customer].update(last7=last7, prev7=prev7, last30=last30, yesterday=yesterday, weekday4=weekday4)
    return out


def day_usage(conn: sqlite3.Connection, now_ms: int) -> dict[str, dict[str, int]]:
    """``{customer: {metric: total}}``: the usage volumes and skills of the last complete UTC day,
    summed over the customer's robots (``customer_day``)."""
    day = now_ms - now_ms % DAY_MS - DAY_MS
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for customer, metric, total in conn.execute(
            "SELECT customer, metric, total FROM customer_day WHERE bucket_ms = ?", (day,)):
        out[customer][metric] = total
    return out


def active_days(conn: sqlite3.Connection, now_ms: int, onboarding_days: int, floor: int) -> dict[str, set[int]]:
    """``{robot: {day_ms}}``: days with more than ``floor`` interactions, for onboarding robots only."""
    since = now_ms - onboarding_days * DAY_MS
    sql = ("SELECT c.robot, c.bucket_ms FROM robots r JOIN counter_day c INDEXED BY sqlite_autoindex_counter_day_1"
           " ON c.robot = r.id AND c.metric = 'usage.interactions' AND c.bucket_ms >= ? AND c.bucket_ms <= ?"
           " WHERE r.first_seen_ms >= ? AND c.total >= ?")
    out: dict[str, set[int]] = defaultdict(set)
    for robot, day in conn.execute(sql, (since - since % DAY_MS, now_ms, since, floor)):
        out[robot].add(day)
    return out


def scores_on(conn: sqlite3.Connection, day_ms: int) -> dict[str, float]:
    return dict(conn.execute("SELECT customer, score FROM score_history WHERE day_ms = ?", (day_ms,)))
