"""SQLite implementation of the store seam's ``health`` part (see collector/store/seam.py).

The set-based reads of one evaluation cycle: a handful of GROUP BY queries over the rollups,
never one query per robot (10,000 robots must fit in one cycle's budget), and the cycle's writes.

Every read is bounded above by ``now`` (event time), so evaluating a past instant of back-filled
history sees what live evaluation saw then.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from operator import add, sub

from collector.store.sqlite import funnel, marks, scene_usage
from collector.store.sqlite import goals as goal_sql
from collector.store.seam import (CustomerHealthRow, HealthInputs, RobotHealthRow, SlotPlan, StoredRobotHealth,
                                  Vector, ViewCache, day_view_start, hour_view_start)
from collector.store.seam import GoalRequest
from collector.store.sqlite.db import connect_reader
from collector.store.sqlite.shared import OnSharedConnection, SharedConnection
from collector.store.sqlite.sql import SQLITE, dialect
from protocol.catalogue import USAGE_VOLUMES
from protocol.timeunits import DAY_MS, HOUR_MS, local_day, local_day_start, local_days_back, utc_offset_ms

ROBOT_COLUMNS = ("id", "customer", "site", "scene", "interval_s", "first_seen_ms", "last_window_ms", "state",
                 "state_reason", "activated")
CUSTOMER_COLUMNS = ("id", "name", "scene", "tier", "contract_start", "contract_end", "arr", "csm", "timezone",
                    "hours", "site_hours")
LOCAL_TABLE = "health_local_day"
#: each customer's local days one by one (k = 0 today, 1 yesterday, ...), each from its own midnight
DAYS_TABLE = "health_local_days"
#: the days of each time zone (``DAYS_TABLE`` is a view of them through each customer's zone)
ZONE_DAYS = "health_zone_days"
#: how many complete local days back the day-granular reads go (30 days of usage + yesterday)
DAYS_BACK = 31
INDEX_OF = {"counter_hour": "counter_hour_bucket_robot", "counter_day": "counter_day_bucket_robot"}
SLOT_TABLE = "health_slot"

_encode = json.JSONEncoder(sort_keys=True).encode  # json.dumps(x, sort_keys=True), without a new encoder per row


class SqliteHealthStore(OnSharedConnection):
    """On the evaluator's connection (shared with the ``alerts`` part: one cycle, one transaction)."""

    def __init__(self, path: str | None, shared: SharedConnection | None = None):
        super().__init__(path, shared)
        #: learned opening hours, kept while each customer's local day and offset hold (a day's figure)
        self.hours_cache: dict = {}
        #: onboarding robots' interactions per local day over the hours before every customer's today
        self.active_cache: dict = {}
        #: goal series summed from complete local days, kept while their hours' revisions hold
        self.goal_cache: dict = {}
        #: every customer's usage volumes per day and hour bucket, kept while the bucket's revision holds
        self.volume_cache = funnel.VolumeCache()

    # ------------------------------------------------------------------ reads
    def read_inputs(self, now_ms: int, plan: SlotPlan, onboarding_days: int, active_day_interactions: int,
                    cache: ViewCache | None, zone: str = "Asia/Shanghai",
                    learn: tuple[int, float] = (14, 0.5),
                    measures: dict[str, tuple[str, ...]] | None = None) -> HealthInputs:
        """Everything a cycle reads, on the write connection in one read snapshot, except on a
        process's first cycle (see below).  ``measures``: scene -> the metrics of its primary
        measure, read per local day into each customer's ``measure_days`` (``scene_usage``)."""
        conn = self.conn
        t0 = time.perf_counter()
        path = _db_path(conn)
        usage_args = (now_ms, onboarding_days, active_day_interactions, zone, learn, self.hours_cache,
                      self.active_cache, measures)
        # The first cycle of a process reads every bucket, most likely from disk: each bucket and the
        # day-granular reads then run in worker threads of their own so the disk reads overlap (several
        # streams overlap disk waits, docs/benchmarks/health.md).  Later cycles read the current hour
        # and today from the page cache: CPU work, and every result row a worker fetches releases and
        # retakes the GIL, so beside a busy main thread a worker convoys: there everything is read on
        # ``conn``.
        apart = bool(path) and not (cache is not None and cache.buckets)
        with ThreadPoolExecutor(6, thread_name_prefix="health-read") as pool:
            usage = pool.submit(_apart, path, _read_usage, *usage_args) if apart else None
            conn.execute(dialect(conn).snapshot)  # one read snapshot for what is read here
            try:
                # revisions first: a bucket read after them, on any connection, is at least as new
                revs = revisions(conn, now_ms) if cache is not None else {}
                buckets = {(table, b): pool.submit(_apart, path, view_rows, table, now_ms, plan, cache, revs, [b])
                           for table, bs in view_buckets(now_ms).items() for b in bs} if apart else None
                robot_rows = robots(conn)
                unseen = unseen_robots(conn)
                if buckets is not None:
                    hour_rows, day_rows = {}, {}
                    for (table, b), rows in buckets.items():
                        (hour_rows if table == "counter_hour" else day_rows).update(rows.result())
                    hour = short_view(hour_rows, now_ms, cache)
                    day, day_s = merge(day_rows.values()), time.perf_counter() - t0
                    if cache is not None:
                        cache.today = None  # read apart from the short view: the running sum starts next cycle
                else:
                    hour_rows = view_rows(conn, "counter_hour", now_ms, plan, cache, revs)
                    hour = short_view(hour_rows, now_ms, cache)
                    t1 = time.perf_counter()
                    if cache is not None:
                        day = long_view(conn, now_ms, plan, cache, revs, hour_rows)
                    else:
                        day = merge(view_rows(conn, "counter_day", now_ms, plan, None, revs).values())
                    day_s = time.perf_counter() - t1
                views_s = time.perf_counter() - t0
                rest = usage.result() if usage else _read_usage(conn, *usage_args)
            finally:
                conn.execute("COMMIT")
        forget_old(cache, now_ms)
        customer_list, usage_sums_, yesterday, active, week_ago, usage_s = rest
        return HealthInputs(robots=robot_rows, hour=hour, day=day, customers=customer_list, usage=usage_sums_,
                            yesterday=yesterday, active=active, week_ago=week_ago,
                            robot_views_s=views_s, day_view_s=day_s, usage_read_s=usage_s, unseen=unseen)

    def stored_robot_health(self) -> Iterator[StoredRobotHealth]:
        """The stored ``robot_health`` rows, subsystems as their JSON text."""
        for robot, computed_ms, customer, state, score, worst, text in self.conn.execute(
                "SELECT robot, computed_ms, customer, state, score, worst, subsystems FROM robot_health"):
            yield StoredRobotHealth(robot, computed_ms, RobotHealthRow(customer, state, score, worst, text))

    def customer_colors(self) -> dict[str, tuple[str, int]]:
        return {row[0]: (row[1], row[2])
                for row in self.conn.execute("SELECT customer, color, color_since_ms FROM customer_health")}

    # ------------------------------------------------------------------ writes (inside ``transaction``)
    def transaction(self) -> AbstractContextManager[None]:
        return self.shared.transaction()

    def write_robot_health(self, now_ms: int, changed: Iterable[tuple[str, RobotHealthRow]]) -> None:
        self.conn.executemany(
            "INSERT INTO robot_health (robot, computed_ms, customer, state, score, worst, subsystems)"
            " VALUES (?,?,?,?,?,?,?) ON CONFLICT(robot) DO UPDATE SET customer=excluded.customer,"
            " computed_ms=excluded.computed_ms, state=excluded.state, score=excluded.score, worst=excluded.worst,"
            " subsystems=excluded.subsystems",
            [(robot, now_ms, r.customer, r.state, r.score, r.worst,
              r.subsystems if isinstance(r.subsystems, str) else _encode(r.subsystems)) for robot, r in changed])

    def write_customer_health(self, now_ms: int, day_ms: int | dict[str, int],
                              rows: Iterable[CustomerHealthRow]) -> None:
        rows = list(rows)
        self.conn.executemany(
            "INSERT INTO customer_health (customer, computed_ms, score, color, trend, robots_total,"
            " robots_online, robots_offline, robots_stale, color_since_ms, breakdown, facts)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (customer) DO UPDATE SET computed_ms=excluded.computed_ms,"
            " score=excluded.score, color=excluded.color, trend=excluded.trend, robots_total=excluded.robots_total,"
            " robots_online=excluded.robots_online, robots_offline=excluded.robots_offline,"
            " robots_stale=excluded.robots_stale, color_since_ms=excluded.color_since_ms,"
            " breakdown=excluded.breakdown, facts=excluded.facts",
            [(c.customer, now_ms, c.score, c.color, c.trend, c.robots_total, c.robots_online, c.robots_offline,
              c.robots_stale, c.color_since_ms, json.dumps(c.breakdown, sort_keys=True),
              json.dumps(c.facts, sort_keys=True)) for c in rows])
        # ``day_ms``: one day for all, or each customer's own local day (its label, see protocol.timeunits)
        day_of = day_ms.get if isinstance(day_ms, dict) else (lambda _c: day_ms)
        self.conn.executemany("INSERT INTO score_history (customer, day_ms, score, color) VALUES (?,?,?,?)"
                              " ON CONFLICT (customer, day_ms) DO UPDATE SET score=excluded.score, color=excluded.color",
                              [(c.customer, day_of(c.customer), c.score, c.color) for c in rows])

    def add_feed_events(self, events: Iterable[tuple[int, str, dict]]) -> None:
        self.conn.executemany("INSERT INTO feed_events (ts_ms, kind, data) VALUES (?,?,?)",
                              [(ts, kind, json.dumps(data, sort_keys=True)) for ts, kind, data in events])

    # ------------------------------------------------------------------ success goals (issue 14)
    def goals(self) -> list[dict]:
        return goal_sql.goal_rows(self.conn)

    def goal_sums(self, requests: Sequence[GoalRequest]) -> list[list[tuple[float, float]]]:
        """Each day's sums kept in ``goal_cache`` while the store's revisions of that day's hours
        (``rollup_marks``, read once for all requests) and the customer's robots are unchanged: a
        goal's complete local days only change through late data, which then costs a re-read of the
        days it landed in (and the next: a long window's hour fills the next day's first hours for
        ``availability``)."""
        if not requests:
            return []
        marks = goal_sql.Marks(self.conn, min(r.first_ms for r in requests),
                               max(r.first_ms + r.days * DAY_MS for r in requests))
        robots_of = goal_sql.robot_versions(self.conn)
        out = []
        for r in requests:
            hours = None if r.open_hours is None else tuple(sorted(r.open_hours))
            key = (r.customer, r.metric, r.first_ms, hours, r.active_floor)
            robots = robots_of.get(r.customer, (0, 0))
            revs = marks.per_day(r.first_ms, r.days)
            kept = self.goal_cache.get(key)
            if kept is None or kept[0] != robots:
                kept = (robots, {})
            cached: dict[int, tuple] = kept[1]
            stale = {d for d in range(r.days) if d not in cached or cached[d][0] != revs[d]}
            stale |= {d + 1 for d in stale if d + 1 < r.days}
            for a, b in goal_sql.runs(sorted(stale)):
                lo = max(0, a - 1)  # a day of context before: gaps filled across midnight
                part = goal_sql.goal_series(self.conn, r.customer, r.metric, r.first_ms + lo * DAY_MS, b - lo + 1,
                                            hours, r.active_floor)
                for d in range(a, b + 1):
                    cached[d] = (revs[d], part[d - lo])
            if len(self.goal_cache) > 10_000:
                self.goal_cache.clear()
            self.goal_cache[key] = kept
            out.append([cached[d][1] for d in range(r.days)])
        return out

    def trim_feed(self, before_ms: int, limit: int) -> None:
        self.conn.execute("DELETE FROM feed_events WHERE id IN (SELECT id FROM feed_events WHERE ts_ms < ?"
                          " ORDER BY id LIMIT ?)", (before_ms, limit))

    # issue 14: the funnel and the lifecycle stage (collector/store/sqlite/funnel.py)
    def usage_volumes(self, spans: dict[str, tuple[int, int]]) -> dict[str, dict[str, int]]:
        return funnel.volumes(self.conn, spans, self.volume_cache)

    def latest_events(self) -> dict[str, dict[str, dict]]:
        return funnel.latest_events(self.conn)


# ---------------------------------------------------------------------- the reads themselves
def _db_path(conn: sqlite3.Connection) -> str | None:
    """The SQLite file (None: in memory, or not SQLite: then every read runs on ``conn``)."""
    if dialect(conn).name != "sqlite":
        return None
    for _, name, path in conn.execute("PRAGMA database_list"):
        if name == "main":
            return path or None
    return None


def _apart(path: str, read, *args):
    """``read(conn, *args)`` on a read-only connection of its own (for a worker thread)."""
    conn = connect_reader(path)
    conn.row_factory = None
    try:
        return read(conn, *args)
    finally:
        conn.close()


def _read_usage(conn: sqlite3.Connection, now_ms: int, onboarding_days: int, floor: int,
                zone: str = "Asia/Shanghai", learn: tuple[int, float] = (14, 0.5),
                hours_cache: dict | None = None, active_cache: dict | None = None,
                measures: dict[str, tuple[str, ...]] | None = None) -> tuple:
    """The day-granular reads, each over the customer's own local days: customers, interactions,
    yesterday's usage, onboarding activity, scores a week ago (and how long they took: they run
    beside the robot views, so the cycle waits for the longer)."""
    t0 = time.perf_counter()
    custs = customers(conn)
    _local_days(conn, custs, now_ms, zone, max(DAYS_BACK, onboarding_days + 1))
    sums = kept(active_cache, "usage_sums", conn, lambda: usage_sums(conn, now_ms))
    learned_hours(conn, custs, *learn, {} if hours_cache is None else hours_cache, sums)
    if measures:
        measure_days(conn, custs, measures, active_cache)
    return (custs, sums, kept(active_cache, "day_usage", conn, lambda: day_usage(conn, now_ms)),
            active_days(conn, now_ms, onboarding_days, floor, active_cache),
            scores_on(conn, now_ms - now_ms % DAY_MS - 7 * DAY_MS), time.perf_counter() - t0)


def _local_days(conn: sqlite3.Connection, custs: list[dict], now_ms: int, zone: str,
                days_back: int = DAYS_BACK) -> None:
    """Each customer's zone (its own, else ``zone``), UTC offset now and the instant its local day
    began, added to its dict and put in a temporary table (customer, offset, today's start) that
    the day-granular queries join, so SQL sums each customer's own local days from UTC hours.

    A local day is the 24 UTC hour buckets from its start.  In a zone with a half-hour offset
    (+05:30) local midnight falls inside an hour bucket: that bucket counts for the local day
    holding its start (its first half hour belongs to the day before), so such a customer's days
    are its offset shifted by half an hour, never a bucket counted twice or lost."""
    d = dialect(conn)
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {LOCAL_TABLE} (customer TEXT PRIMARY KEY, off_ms BIGINT NOT NULL,"
                 f" start_ms BIGINT NOT NULL, label_ms BIGINT NOT NULL, zone TEXT NOT NULL){d.without_rowid}")
    conn.execute(f"DELETE FROM {d.temp}{LOCAL_TABLE}")
    offsets: dict[str, int] = {}
    for c in custs:
        c["timezone"] = c.get("timezone") or zone
        off = offsets.get(c["timezone"])
        if off is None:
            try:
                off = offsets[c["timezone"]] = utc_offset_ms(c["timezone"], now_ms)
            except (ValueError, KeyError, OSError):  # a zone unknown here: the default's
                c["timezone"] = zone
                off = offsets.setdefault(zone, utc_offset_ms(zone, now_ms))
        c["offset_ms"] = off
        c["day_start_ms"] = start = local_day_start(now_ms, off)
        c["local_day"] = local_day(now_ms, off)
    conn.executemany(f"INSERT INTO {d.temp}{LOCAL_TABLE} (customer, off_ms, start_ms, label_ms, zone) VALUES (?,?,?,?,?)",
                     [(c["id"], c["offset_ms"], c["day_start_ms"], c["local_day"], c["timezone"]) for c in custs])
    # each local day from its own midnight: across a daylight-saving change a day is 23 or 25 hours.
    # Kept per zone (a handful of rows each), each customer's days a view through its zone
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {ZONE_DAYS} (zone TEXT NOT NULL, k INTEGER NOT NULL,"
                 " label_ms BIGINT NOT NULL, start_ms BIGINT NOT NULL, end_ms BIGINT NOT NULL,"
                 f" off_ms BIGINT NOT NULL, PRIMARY KEY (zone, k)){d.without_rowid}")
    conn.execute(f"{d.temp_view(DAYS_TABLE)} AS SELECT t.customer AS customer, z.k AS k,"
                 " z.label_ms AS label_ms, z.start_ms AS start_ms, z.end_ms AS end_ms, z.off_ms AS off_ms"
                 f" FROM {d.temp}{LOCAL_TABLE} t JOIN {d.temp}{ZONE_DAYS} z ON z.zone = t.zone")
    conn.execute(f"DELETE FROM {d.temp}{ZONE_DAYS}")
    conn.executemany(f"INSERT INTO {d.temp}{ZONE_DAYS} (zone, k, label_ms, start_ms, end_ms, off_ms) VALUES (?,?,?,?,?,?)",
                     [(z, k, *day) for z in {c["timezone"] for c in custs}
                      for k, day in enumerate(local_days_back(z, now_ms, days_back))])


def robots(conn: sqlite3.Connection) -> list[dict]:
    """Every robot, with its handover date from the asset registry (``activated``, ``import-robots``;
    None when not registered or not known): onboarding and robot-days in service count from it."""
    cols = ", ".join(f"r.{c}" for c in ROBOT_COLUMNS[:-1])
    rows = conn.execute(f"SELECT {cols}, g.activated FROM robots r LEFT JOIN robot_registry g ON g.robot = r.id"
                        " ORDER BY r.id").fetchall()
    return [dict(zip(ROBOT_COLUMNS, row)) for row in rows]


def unseen_robots(conn: sqlite3.Connection) -> list[dict]:
    """Robots of the asset registry with a handover date (``activated``) that never connected (no
    ``robots`` row): handed over and never switched on is what a CSM must see, so they are in
    service from their handover (robot-days) and listed as never seen."""
    rows = conn.execute("SELECT g.robot, g.customer, g.site, g.activated FROM robot_registry g"
                        " WHERE g.activated IS NOT NULL AND NOT EXISTS (SELECT 1 FROM robots r WHERE r.id = g.robot)"
                        " ORDER BY g.robot").fetchall()
    return [{"id": r, "customer": c, "site": site, "activated": a, "first_seen_ms": None} for r, c, site, a in rows]


def customers(conn: sqlite3.Connection) -> list[dict]:
    rows = conn.execute(f"SELECT {', '.join(CUSTOMER_COLUMNS)} FROM customers ORDER BY id").fetchall()
    return [dict(zip(CUSTOMER_COLUMNS, row)) for row in rows]


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


def _slot_table(conn: sqlite3.Connection, plan: SlotPlan) -> None:
    """A temporary (per-connection) table metric -> slot, so SQL sums each robot's slots itself."""
    d = dialect(conn)
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {SLOT_TABLE} (metric TEXT PRIMARY KEY, n INTEGER NOT NULL)"
                 f"{d.without_rowid}")
    if conn.execute(f"SELECT count(*) FROM {d.temp}{SLOT_TABLE}").fetchone()[0] != len(plan.slot_of):
        conn.execute(f"DELETE FROM {d.temp}{SLOT_TABLE}")
        conn.executemany(f"INSERT INTO {d.temp}{SLOT_TABLE} (metric, n) VALUES (?, ?)", list(plan.slot_of.items()))


def _cached(cache: ViewCache | None, key: tuple[str, int], read, now_ms: int, revs: dict):
    """``read()``, or the result kept in ``cache`` for the bucket ``key`` while the store's revision
    of it (``revs``) holds.  The bucket holding ``now_ms`` (the current hour or today) is read
    every cycle: live ingest adds to it between any two cycles."""
    if cache is None:
        return read()
    table, bucket = key
    span = HOUR_MS if table == "counter_hour" else DAY_MS
    if bucket <= now_ms < bucket + span:
        cache.buckets.pop(key, None)
        return read()
    rev = revs.get(key, 0)
    hit = cache.buckets.get(key)
    if hit is not None and hit[0] == rev:
        return hit[1]
    result = read()
    cache.buckets[key] = (rev, result)
    return result


def forget_old(cache: ViewCache | None, now_ms: int) -> None:
    """Drop cached buckets the views no longer read (call once the cycle's reads are done)."""
    if cache is not None:
        keep = {(t, b) for t, buckets in view_buckets(now_ms).items() for b in buckets}
        for key in [k for k in cache.buckets if k not in keep]:
            del cache.buckets[key]


def _bucket_sql(table: str, slots: int, d=SQLITE) -> str:
    cols = ", ".join(f"COALESCE(SUM(c.total) FILTER (WHERE s.n = {k}), 0)" for k in range(slots))
    return (f"SELECT c.robot, {cols} FROM {table} c{d.indexed(INDEX_OF[table])}"
            f" JOIN {d.temp}{SLOT_TABLE} s ON s.metric = c.metric WHERE c.bucket_ms = ? GROUP BY c.robot")


def view_rows(conn: sqlite3.Connection, table: str, now_ms: int, plan: SlotPlan, cache: ViewCache | None = None,
              revs: dict | None = None, buckets: list[int] | None = None) -> dict[int, list]:
    """``{bucket: [(robot, *slot sums)]}`` of the buckets a view reads (or ``buckets``): one query
    per bucket, grouped by robot in index order, each row already the robot's slot sums
    (``plan.slot_of``).  With ``cache`` (kept by the loop) and ``revs`` (``revisions``), a
    complete bucket whose revision did not change is not re-read."""
    _slot_table(conn, plan)
    sql = _bucket_sql(table, plan.slots, dialect(conn))

    def read(bucket):
        return _cached(cache, (table, bucket), lambda: conn.execute(sql, (bucket,)).fetchall(), now_ms, revs or {})
    return {bucket: read(bucket) for bucket in (view_buckets(now_ms)[table] if buckets is None else buckets)}


def merge(parts) -> dict[str, Vector]:
    """Sum per-bucket rows (``view_rows`` values, or ``{robot: vector}`` dicts) into robot -> vector."""
    sums: dict[str, Vector] = {}
    for part in parts:
        for robot, vec in (part.items() if isinstance(part, dict) else ((row[0], row[1:]) for row in part)):
            had = sums.get(robot)
            sums[robot] = vec if had is None else tuple(map(add, had, vec))
    return sums


def add_rows(base: dict[str, Vector], rows) -> dict[str, Vector]:
    """``base`` (robot -> vector, left as it is) plus one bucket's rows.  The vectors of ``base``
    are shared, not copied: view vectors are tuples, never changed once built (and, holding only
    ints, left alone by the cyclic garbage collector, which otherwise walks them every cycle)."""
    out = dict(base)
    for row in rows:
        robot, vec = row[0], row[1:]
        had = out.get(robot)
        out[robot] = vec if had is None else tuple(map(add, had, vec))
    return out


def short_view(hour_rows: dict[int, list], now_ms: int, cache: ViewCache | None) -> dict[str, Vector]:
    """The short view from its buckets' rows; with ``cache``, the last complete hour is kept as
    robot -> vector (converted once while ``_cached`` serves the same rows), so a cycle only adds
    the current hour to it."""
    cur = now_ms - now_ms % HOUR_MS
    if cache is None or set(hour_rows) != {cur - HOUR_MS, cur}:
        return merge(hour_rows.values())
    rows = hour_rows[cur - HOUR_MS]
    if cache.hour_base is None or cache.hour_base[0] is not rows:
        cache.hour_base = (rows, {row[0]: row[1:] for row in rows})
    return add_rows(cache.hour_base[1], hour_rows[cur])


def long_view(conn: sqlite3.Connection, now_ms: int, plan: SlotPlan, cache: ViewCache, revs: dict,
              hour_rows: dict[int, list]) -> dict[str, Vector]:
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
    yesterday = view_rows(conn, "counter_day", now_ms, plan, cache, revs, [today - DAY_MS])[today - DAY_MS]
    hours = dict(conn.execute("SELECT bucket_ms, rev FROM rollup_marks WHERE grain = 'counter_hour'"
                              " AND bucket_ms >= ? AND bucket_ms < ?", (today, today + DAY_MS)))
    others = {b: r for b, r in hours.items() if b != cur}
    state, base = cache.today, None
    if state is not None and state["day"] == today:
        end = state["end"]
        if end == cur and others == state["revs"]:
            base = state["sums"]
        elif (end + HOUR_MS == cur and end in hour_rows
              and {b: r for b, r in others.items() if b != end} == state["revs"]):
            base = merge([state["sums"], hour_rows[end]])  # the hour that just ended, read in full
    if base is None:
        day_rows = view_rows(conn, "counter_day", now_ms, plan, None, None, [today])[today]
        if any(b > cur for b in hours):
            cache.today = None
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
    cache.today = {"day": today, "end": cur, "sums": base, "revs": others, "stable": stable}
    return add_rows(stable[1], hour_rows.get(cur, ()))


def learned_hours(conn: sqlite3.Connection, custs: list[dict], days: int, share: float, cache: dict,
                  sums: dict | None = None) -> None:
    """Each customer's opening hours as learned from its own usage (``c["learned_hours"]``: the local
    hours of the day, 0-23, with any usage volume on more than ``share`` of its last ``days``
    complete local days), for customers without imported ``hours``.  Read again only when the
    customer's local day, or its 30-day interaction sum from ``sums`` (``usage_sums``: it moves with
    late or back-filled data of past days), changed (``cache``)."""
    want = [c for c in custs if not c.get("hours")]
    sums = sums or {}
    keys = {c["id"]: (c["day_start_ms"], c["offset_ms"], days, share, sums.get(c["id"], {}).get("last30"))
            for c in want}
    missing = [c["id"] for c in want if cache.get(c["id"], (None,))[0] != keys[c["id"]]]
    if missing:
        names = ", ".join(f"'{m}'" for m in USAGE_VOLUMES)
        d = dialect(conn)
        seen: dict[str, dict[int, int]] = defaultdict(dict)
        # each past local day from its own midnight, its hours at that day's offset
        sql = (f"SELECT h.customer, ((h.bucket_ms + d.off_ms) % {DAY_MS}) / {HOUR_MS}, COUNT(DISTINCT d.k)"
               f" FROM {d.temp}{DAYS_TABLE} d {d.cross_join} customer_hour h{d.indexed('customer_hour_metric')}"
               f" ON h.metric IN ({names}) AND h.customer = d.customer"
               " AND h.bucket_ms >= d.start_ms AND h.bucket_ms < d.end_ms"
               f" WHERE d.k BETWEEN 1 AND {min(days, DAYS_BACK)} AND h.total > 0 GROUP BY 1, 2")
        for customer, hour, n in conn.execute(sql):
            seen[customer][hour] = n
        for cid in missing:
            hours = {h for h, n in seen.get(cid, {}).items() if n > share * days}
            cache[cid] = (keys[cid], sorted(fill_gaps(hours)))
    for c in custs:
        c["learned_hours"] = cache[c["id"]][1] if c["id"] in keys else None


#: hours between two used hours of the day that still count as open: a window's counts sit in the
#: hour of its start, so agents' windows of up to 2 hours (history back-filled in 2-hour windows)
#: leave every other hour empty; and a lunch break is not a closing
GAP_HOURS = 2


def fill_gaps(hours: set[int], gap: int = GAP_HOURS) -> set[int]:
    """``hours`` (0-23) with runs of up to ``gap`` missing hours between two of them filled (around
    midnight too): a venue is open from its first used hour to its last."""
    if not hours or len(hours) == 24:
        return set(hours)
    out = set(hours)
    for h in hours:
        for k in range(1, gap + 2):
            if (h + k) % 24 in hours:
                out.update((h + j) % 24 for j in range(1, k))
                break
    return out


def kept(cache: dict | None, name: str, conn: sqlite3.Connection, read):
    """``read()``, or its result kept in ``cache[name]`` while the customers' local days and the store's
    revisions (``rollup_marks``) of every hour before the latest of their local midnights hold: such a
    read (complete local days only) cannot change otherwise.  Live data goes to hours after it."""
    if cache is None:
        return read()
    d = dialect(conn)
    lo, hi = conn.execute(f"SELECT min(start_ms), max(start_ms) FROM {d.temp}{LOCAL_TABLE}").fetchone()
    if lo is None:
        return read()
    key = (tuple(map(tuple, conn.execute(f"SELECT customer, off_ms, start_ms FROM {d.temp}{LOCAL_TABLE}"))),
           conn.execute(f"SELECT count(*), {d.total('rev')} FROM rollup_marks WHERE grain = 'counter_hour'"
                        " AND bucket_ms >= ? AND bucket_ms < ?", (lo - 31 * DAY_MS, hi)).fetchone())
    hit = cache.get(name)
    if hit is not None and hit[0] == key:
        return hit[1]
    result = read()
    cache[name] = (key, result)
    return result


def measure_days(conn: sqlite3.Connection, custs: list[dict], measures: dict[str, tuple[str, ...]],
                 cache: dict | None) -> None:
    """Each customer's scene measure per local day (``c["measure_days"]``, see ``scene_usage``),
    kept as ``kept`` keeps the sums while the customers' scenes and the table are unchanged too."""
    d = dialect(conn)
    lo = conn.execute(f"SELECT min(start_ms) FROM {d.temp}{LOCAL_TABLE}").fetchone()[0] or 0
    # ``kept`` watches the hours of the last 31 days; the 35 days read reach further back
    older = conn.execute(f"SELECT count(*), {d.total('rev')} FROM rollup_marks WHERE grain = 'counter_hour'"
                         " AND bucket_ms >= ? AND bucket_ms < ?",
                         (lo - (scene_usage.DAYS + 1) * DAY_MS, lo - 31 * DAY_MS)).fetchone()
    want = (tuple(sorted(measures.items())), tuple((c["id"], c.get("scene") or "") for c in custs), older)
    got = kept(cache, "measure_days", conn, lambda: (want, scene_usage.read(conn, custs, measures, LOCAL_TABLE)))
    if got[0] != want:
        got = (want, scene_usage.read(conn, custs, measures, LOCAL_TABLE))
        if cache is not None:
            cache["measure_days"] = (cache["measure_days"][0], got)
    for c in custs:
        c["measure_days"] = got[1].get(c["id"], {})


def usage_sums(conn: sqlite3.Connection, now_ms: int) -> dict[str, dict]:
    """``{customer: {daily, alive, last7, prev7, last30, yesterday, weekday4, last_use_ms}}`` over
    the customer's last 30 complete local days, each day from its own local midnight
    (``DAYS_TABLE``: a daylight-saving change moves the boundaries), from the store's per-customer
    hourly totals (``customer_hour``, the sum over the customer's robots): 500 customers x 24 x 30
    rows instead of 10,000 robots' hours.  ``daily[i]``: interactions of the local day ``i + 1``
    days before today (``daily[0]`` is yesterday); ``alive[i]``: that day had any interaction or foot
    traffic (robots count passers-by while they are on: a day without either is a day the fleet was
    off, or the venue closed).  The sums are of ``daily``: ``weekday4`` is the same weekday in each of
    the 4 weeks before yesterday."""
    # interactions, and foot traffic for a sign of life (robots count passers-by while they are on)
    names = "'usage.foot_traffic', 'usage.interactions'"
    d = dialect(conn)
    sql = ("SELECT d.customer, d.k, SUM(CASE WHEN h.metric = 'usage.interactions' THEN h.total ELSE 0 END),"
           " SUM(h.total), MAX(CASE WHEN h.metric = 'usage.interactions' AND h.total > 0 THEN h.bucket_ms END)"
           f" FROM {d.temp}{DAYS_TABLE} d {d.cross_join} customer_hour h{d.indexed('customer_hour_metric')}"
           f" ON h.metric IN ({names}) AND h.customer = d.customer"
           " AND h.bucket_ms >= d.start_ms AND h.bucket_ms < d.end_ms"
           " WHERE d.k BETWEEN 1 AND 30 GROUP BY d.customer, d.k")
    days: dict[str, tuple[list[int], list[bool], list]] = {}
    for customer, k, interactions, volumes, last_use in conn.execute(sql):
        daily, alive, last = days.setdefault(customer, ([0] * 30, [False] * 30, [None]))
        daily[k - 1], alive[k - 1] = interactions, volumes > 0
        if last_use is not None and (last[0] is None or last_use > last[0]):
            last[0] = last_use
    out: dict[str, dict] = defaultdict(dict)
    for customer, (daily, alive, last) in days.items():
        out[customer].update(daily=daily, alive=alive, last7=sum(daily[:7]), prev7=sum(daily[7:14]),
                             last30=sum(daily), yesterday=daily[0],
                             weekday4=daily[7] + daily[14] + daily[21] + daily[28], last_use_ms=last[0])
    return out


def day_usage(conn: sqlite3.Connection, now_ms: int) -> dict[str, dict[str, int]]:
    """``{customer: {metric: total}}``: the usage volumes and skills of the customer's last complete
    local day (yesterday, local, from its own midnight), summed over its robots (``customer_hour``)."""
    out: dict[str, dict[str, int]] = defaultdict(dict)
    d = dialect(conn)
    lo, hi = conn.execute(f"SELECT min(start_ms), max(end_ms) FROM {d.temp}{DAYS_TABLE} WHERE k = 1").fetchone()
    if lo is None:
        return out
    # the hours' rows in key order (all customers' yesterdays lie within [lo, hi)), each looked up
    # in the customers' days: CROSS JOIN keeps customer_hour the outer loop
    for customer, metric, total in conn.execute(
            f"SELECT h.customer, h.metric, SUM(h.total) FROM customer_hour h {d.cross_join} {d.temp}{DAYS_TABLE} d"
            " ON d.customer = h.customer AND d.k = 1 AND h.bucket_ms >= d.start_ms AND h.bucket_ms < d.end_ms"
            " WHERE h.bucket_ms >= ? AND h.bucket_ms < ? GROUP BY h.customer, h.metric", (lo, hi)):
        out[customer][metric] = total
    return out


def active_days(conn: sqlite3.Connection, now_ms: int, onboarding_days: int, floor: int,
                cache: dict | None = None) -> dict[str, set[int]]:
    """``{robot: {local day label}}``: the robot's customer's local days (``_local_days``) with at least
    ``floor`` interactions, for onboarding robots only, summed from the robot's hours (the partial
    covering index ``counter_hour_interactions``, migration 0017: a short range per robot).

    Summing 30 days of hours per onboarding robot is the heaviest read of the cycle, so with
    ``cache`` (kept by the store between cycles) the hours before the earliest local midnight of
    all customers (every one of them in a complete local day of every customer) are summed once
    and kept while the store's revisions of those hours (``rollup_marks``: late data bumps them),
    the onboarding robots and the customers' days are unchanged; each cycle adds the hours since."""
    since = now_ms - onboarding_days * DAY_MS
    d = dialect(conn)
    lo = conn.execute(f"SELECT min(start_ms) FROM {d.temp}{LOCAL_TABLE}").fetchone()[0]
    if lo is None:
        return {}
    boundary = lo - lo % HOUR_MS
    first = lo - (onboarding_days + 1) * DAY_MS
    # each of the customer's local days from its own midnight (``DAYS_TABLE``: daylight saving moves
    # the boundaries), a short range of the robot's hours per day
    sql = ("SELECT c.robot, d.label_ms, SUM(c.total)"
           f" FROM robots r {d.cross_join} {d.temp}{DAYS_TABLE} d ON d.customer = r.customer AND d.k <= ?"
           f" {d.cross_join} counter_hour c{d.indexed('counter_hour_interactions')}"
           " ON c.robot = r.id AND c.metric = 'usage.interactions' AND c.bucket_ms >= d.start_ms"
           " AND c.bucket_ms < d.end_ms AND c.bucket_ms <= ? AND c.bucket_ms {part} ? WHERE r.first_seen_ms >= ?"
           " GROUP BY 1, 2")

    def read(part: str, edge: int) -> dict[tuple[str, int], int]:
        return {(robot, day): n for robot, day, n in conn.execute(sql.format(part=part), (
            onboarding_days + 1, now_ms, edge, since))}

    if cache is None:
        sums = read("<", boundary)
    else:
        key = (boundary, onboarding_days, since - since % DAY_MS,
               conn.execute(f"SELECT count(*), {d.total('rev')} FROM rollup_marks WHERE grain = 'counter_hour'"
                            " AND bucket_ms >= ? AND bucket_ms < ?", (first, boundary)).fetchone(),
               conn.execute(f"SELECT {d.concat_agg}(id || ':' || customer || ':' || first_seen_ms, ',') FROM robots"
                            " WHERE first_seen_ms >= ?", (since,)).fetchone()[0],
               tuple(map(tuple, conn.execute(f"SELECT customer, off_ms, start_ms FROM {d.temp}{LOCAL_TABLE}"))))
        if cache.get("key") != key:
            cache["key"], cache["sums"] = key, read("<", boundary)
        sums = dict(cache["sums"])
    for k, n in read(">=", boundary).items():
        sums[k] = sums.get(k, 0) + n
    out: dict[str, set[int]] = defaultdict(set)
    for (robot, day), n in sums.items():
        if n >= floor:
            out[robot].add(day)
    return out


def scores_on(conn: sqlite3.Connection, day_ms: int) -> dict[str, float]:
    """Each customer's recorded score of its local day 7 days before its today (``day_ms``, the
    UTC reckoning, is kept for the signature: the local days come from ``_local_days``)."""
    return dict(conn.execute(f"SELECT s.customer, s.score FROM {dialect(conn).temp}{LOCAL_TABLE} t JOIN score_history s"
                             " ON s.customer = t.customer AND s.day_ms = t.label_ms - ?", (7 * DAY_MS,)))
