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
from collector.store import marks

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


INDEX_OF = {"counter_hour": "counter_hour_bucket_robot", "counter_day": "counter_day_bucket_robot"}


def view_buckets(now_ms: int) -> dict[str, list[int]]:
    """The buckets each view reads (``{table: [bucket, ...]}``), each read on its own so rows come
    ordered by robot (no sort): the short view's hours, the long view's days."""
    hs, ds = hour_view_start(now_ms), day_view_start(now_ms)
    return {"counter_hour": [b for b in (hs, hs + HOUR_MS) if b <= now_ms],
            "counter_day": [b for b in (ds, ds + DAY_MS) if b <= now_ms]}


def revisions(conn: sqlite3.Connection, now_ms: int) -> dict[tuple[str, int], int]:
    """The store's revision of every bucket the views read (``collector.store.marks``).  Read
    before the buckets themselves: a bucket read later can only be newer than its revision, so a
    cached result is never newer-stamped than its data (at worst it is read once more)."""
    return marks.revisions(conn, [(t, b) for t, buckets in view_buckets(now_ms).items() for b in buckets])


SLOT_TABLE = "health_slot"


def _slot_table(conn: sqlite3.Connection) -> None:
    """A temporary (per-connection) table metric -> slot, so SQL sums each robot's slots itself."""
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {SLOT_TABLE} (metric TEXT PRIMARY KEY, n INTEGER NOT NULL)"
                 " WITHOUT ROWID")
    if conn.execute(f"SELECT count(*) FROM temp.{SLOT_TABLE}").fetchone()[0] != len(SLOT_OF):
        conn.execute(f"DELETE FROM temp.{SLOT_TABLE}")
        conn.executemany(f"INSERT INTO temp.{SLOT_TABLE} (metric, n) VALUES (?, ?)", SLOT_OF.items())


def _cached(memory: dict | None, key: tuple[str, int], read, now_ms: int, revs: dict):
    """``read()``, or the result kept in ``memory`` for the bucket ``key`` while the store's revision
    of it (``revs``) holds.  The bucket holding ``now_ms`` (the current hour or today) is read
    every cycle: live ingest adds to it between any two cycles."""
    if memory is None:
        return read()
    table, bucket = key
    cache = memory.setdefault("buckets", {})
    span = HOUR_MS if table == "counter_hour" else DAY_MS
    if bucket <= now_ms < bucket + span:
        cache.pop(key, None)
        return read()
    rev = revs.get(key, 0)
    hit = cache.get(key)
    if hit is not None and hit[0] == rev:
        return hit[1]
    result = read()
    cache[key] = (rev, result)
    return result


def forget_old(memory: dict | None, now_ms: int) -> None:
    """Drop cached buckets the views no longer read (call once the cycle's reads are done)."""
    if memory is not None and "buckets" in memory:
        keep = {(t, b) for t, buckets in view_buckets(now_ms).items() for b in buckets}
        for key in [k for k in memory["buckets"] if k not in keep]:
            del memory["buckets"][key]


def view(conn: sqlite3.Connection, table: str, now_ms: int, memory: dict | None = None,
         revs: dict | None = None) -> dict[str, list[int]]:
    """One view (``counter_hour``: the short view, ``counter_day``: the long view): robot -> slot
    vector (``robot.SLOT_OF``).  One query per bucket, grouped by robot in index order, each result
    row already the robot's slot sums.  With ``memory`` (kept by the loop) and ``revs``
    (``revisions``), a complete bucket whose revision did not change is not re-read: in steady
    state only the current hour and today are."""
    _slot_table(conn)
    cols = ", ".join(f"COALESCE(SUM(c.total) FILTER (WHERE s.n = {k}), 0)" for k in range(SLOTS))
    sql = (f"SELECT c.robot, {cols} FROM {table} c INDEXED BY {INDEX_OF[table]}"
           f" JOIN temp.{SLOT_TABLE} s ON s.metric = c.metric WHERE c.bucket_ms = ? GROUP BY c.robot")
    sums: dict[str, list[int]] = {}
    for bucket in view_buckets(now_ms)[table]:
        rows = _cached(memory, (table, bucket), lambda: conn.execute(sql, (bucket,)).fetchall(), now_ms, revs or {})
        for robot, *vec in rows:
            had = sums.get(robot)
            sums[robot] = vec if had is None else [a + b for a, b in zip(had, vec)]
    return sums


def health_counts(conn: sqlite3.Connection, now_ms: int, memory: dict | None = None) -> tuple[dict, dict]:
    """``(hour_view, day_view)`` read one after the other on ``conn`` (see ``view``)."""
    revs = revisions(conn, now_ms) if memory is not None else {}
    out = view(conn, "counter_hour", now_ms, memory, revs), view(conn, "counter_day", now_ms, memory, revs)
    forget_old(memory, now_ms)
    return out


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
    """``{robot: {day_ms}}``: days with at least ``floor`` interactions, for onboarding robots only,
    through the partial covering index of migration 0013 (a short range per robot, no row lookups)."""
    since = now_ms - onboarding_days * DAY_MS
    sql = ("SELECT c.robot, c.bucket_ms FROM robots r JOIN counter_day c INDEXED BY counter_day_interactions"
           " ON c.robot = r.id AND c.metric = 'usage.interactions' AND c.bucket_ms >= ? AND c.bucket_ms <= ?"
           " WHERE r.first_seen_ms >= ? AND c.total >= ?")
    out: dict[str, set[int]] = defaultdict(set)
    for robot, day in conn.execute(sql, (since - since % DAY_MS, now_ms, since, floor)):
        out[robot].add(day)
    return out


def scores_on(conn: sqlite3.Connection, day_ms: int) -> dict[str, float]:
    return dict(conn.execute("SELECT customer, score FROM score_history WHERE day_ms = ?", (day_ms,)))
