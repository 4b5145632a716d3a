"""The set-based reads of one evaluation cycle: a handful of GROUP BY queries over the rollups,
never one query per robot (10,000 robots must fit in one cycle's budget).

Every read is bounded above by ``now`` (event time), so evaluating a past instant of back-filled
history sees what live evaluation saw then.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from operator import add, sub

from protocol.catalogue import HEALTH_SUBSYSTEMS, subsystem_metrics

from collector.health.robot import DAY_MS, HOUR_MS, SLOT_OF, SLOTS, day_view_start, hour_view_start
from collector.store.sqlite import marks

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
    """The store's revision of every bucket the views read (``collector.store.sqlite.marks``).  Read
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


def _bucket_sql(table: str) -> str:
    cols = ", ".join(f"COALESCE(SUM(c.total) FILTER (WHERE s.n = {k}), 0)" for k in range(SLOTS))
    return (f"SELECT c.robot, {cols} FROM {table} c INDEXED BY {INDEX_OF[table]}"
            f" JOIN temp.{SLOT_TABLE} s ON s.metric = c.metric WHERE c.bucket_ms = ? GROUP BY c.robot")


def view_rows(conn: sqlite3.Connection, table: str, now_ms: int, memory: dict | None = None,
              revs: dict | None = None, buckets: list[int] | None = None) -> dict[int, list]:
    """``{bucket: [(robot, *slot sums)]}`` of the buckets a view reads (or ``buckets``): one query
    per bucket, grouped by robot in index order, each row already the robot's slot sums
    (``robot.SLOT_OF``).  With ``memory`` (kept by the loop) and ``revs`` (``revisions``), a
    complete bucket whose revision did not change is not re-read."""
    _slot_table(conn)
    sql = _bucket_sql(table)
    def read(bucket):
        return _cached(memory, (table, bucket), lambda: conn.execute(sql, (bucket,)).fetchall(), now_ms, revs or {})
    return {bucket: read(bucket) for bucket in (view_buckets(now_ms)[table] if buckets is None else buckets)}


def merge(parts) -> dict[str, tuple[int, ...]]:
    """Sum per-bucket rows (``view_rows`` values, or ``{robot: vector}`` dicts) into robot -> vector."""
    sums: dict[str, tuple[int, ...]] = {}
    for part in parts:
        for robot, vec in (part.items() if isinstance(part, dict) else ((row[0], row[1:]) for row in part)):
            had = sums.get(robot)
            sums[robot] = vec if had is None else tuple(map(add, had, vec))
    return sums


def add_rows(base: dict[str, tuple[int, ...]], rows) -> dict[str, tuple[int, ...]]:
    """``base`` (robot -> vector, left as it is) plus one bucket's rows.  The vectors of ``base``
    are shared, not copied: view vectors are tuples, never changed once built (and, holding only
    ints, left alone by the cyclic garbage collector, which otherwise walks them every cycle)."""
    out = dict(base)
    for row in rows:
        robot, vec = row[0], row[1:]
        had = out.get(robot)
        out[robot] = vec if had is None else tuple(map(add, had, vec))
    return out


def _as_dict(memory: dict, name: str, rows: list) -> dict[str, tuple[int, ...]]:
    """A kept bucket's rows as robot -> vector, converted once while ``_cached`` serves the same list."""
    kept = memory.get(name)
    if kept is None or kept[0] is not rows:
        kept = memory[name] = (rows, {row[0]: row[1:] for row in rows})
    return kept[1]


def view(conn: sqlite3.Connection, table: str, now_ms: int, memory: dict | None = None,
         revs: dict | None = None) -> dict[str, tuple[int, ...]]:
    """One view (``counter_hour``: the short view, ``counter_day``: the long view): robot -> slot
    vector, read bucket by bucket (``view_rows``)."""
    return merge(view_rows(conn, table, now_ms, memory, revs).values())


def short_view(hour_rows: dict[int, list], now_ms: int, memory: dict | None) -> dict[str, tuple[int, ...]]:
    """The short view from its buckets' rows; with ``memory``, the last complete hour is kept as
    robot -> vector, so a cycle only adds the current hour to it."""
    cur = now_ms - now_ms % HOUR_MS
    if memory is None or set(hour_rows) != {cur - HOUR_MS, cur}:
        return merge(hour_rows.values())
    return add_rows(_as_dict(memory, "hour_base", hour_rows[cur - HOUR_MS]), hour_rows[cur])


def long_view(conn: sqlite3.Connection, now_ms: int, memory: dict, revs: dict, hour_rows: dict[int, list]
              ) -> dict[str, tuple[int, ...]]:
    """The long view (yesterday and today) without re-reading today's daily bucket every cycle.

    Today's bucket is the sum of today's hours (every window adds the same counts to its hour and
    its day, in one transaction).  So the loop keeps ``C``, the sum of today's hours before the
    current one, and the long view is yesterday + ``C`` + the current hour, which the short view
    has just read.  ``C`` starts as today's daily bucket minus the current hour (read in one
    snapshot, ``hour_rows`` being the short view's rows of this snapshot); when the hour turns,
    the hour that just ended (the short view reads it in full) is added to it.  It is derived
    again from the daily bucket whenever the store's revision of any other hour of today changed
    (late data), and not kept at all while today has data ahead of the current hour (a robot's
    clock ahead: the daily bucket holds it, the hours before now do not)."""
    today, cur = now_ms - now_ms % DAY_MS, now_ms - now_ms % HOUR_MS
    yesterday = view_rows(conn, "counter_day", now_ms, memory, revs, [today - DAY_MS])[today - DAY_MS]
    hours = dict(conn.execute("SELECT bucket_ms, rev FROM rollup_marks WHERE grain = 'counter_hour'"
                              " AND bucket_ms >= ? AND bucket_ms < ?", (today, today + DAY_MS)))
    others = {b: r for b, r in hours.items() if b != cur}
    state, base = memory.get("today"), None
    if state is not None and state["day"] == today:
        end = state["end"]
        if end == cur and others == state["revs"]:
            base = state["sums"]
        elif (end + HOUR_MS == cur and end in hour_rows
              and {b: r for b, r in others.items() if b != end} == state["revs"]):
            base = merge([state["sums"], hour_rows[end]])  # the hour that just ended, read in full
    if base is None:
        day_rows = view_rows(conn, "counter_day", now_ms, None, None, [today])[today]
        if any(b > cur for b in hours):
            memory.pop("today", None)
            return merge([yesterday, day_rows])
        base = {row[0]: row[1:] for row in day_rows}
        for row in hour_rows.get(cur, ()):
            robot, vec = row[0], row[1:]
            had = base.get(robot)
            base[robot] = tuple(map(sub, had, vec)) if had is not None else tuple(-b for b in vec)
    # yesterday + C changes only when one of them does: kept, so a cycle only adds the current hour
    stable = state.get("stable") if state is not None and state["sums"] is base else None
    if stable is None or stable[0] is not yesterday:
        stable = (yesterday, merge([yesterday, base]))
    memory["today"] = {"day": today, "end": cur, "sums": base, "revs": others, "stable": stable}
    return add_rows(stable[1], hour_rows.get(cur, ()))


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
