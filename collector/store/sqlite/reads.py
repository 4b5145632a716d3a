"""SQLite implementation of the store seam's ``reads`` part (see collector/store/seam.py): every
read the HTTP API, the CSV exports, the live feed and the counters route make.

Reads run on a small pool of read-only connections (``connect_reader``: they never block the
writer and cannot write by mistake), used from worker threads: ``run(fn, *args)`` runs ``fn`` in
this store's thread pool, so a slow query never blocks the event loop (and with it the feed and
ingest sharing the loop).  Each connection is used by one thread at a time; the pool keeps at most
``size`` idle ones and opens more under load.  There are as many threads as cores: the Python half
of each request holds the GIL, more threads mostly add switching (docs/benchmarks/api.md).

Every statement is parameterised; the only text spliced into SQL comes from the fixed
``_CUSTOMER_SORT_SQL`` table.  Rows come back as plain dicts shaped like the JSON bodies documented
in docs/api.md."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import sqlite3
import threading
from bisect import bisect_right
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from collector.store.sqlite import funnel
from collector.store.sqlite import report_reads
from collector.store.sqlite.counters import robot_counters
from collector.store.seam import CUSTOMER_SORTS
from collector.store.sqlite.db import connect_reader
from collector.store.sqlite.sql import SQLITE, Dialect
from collector.store.seam import DEFAULT_ACTIVE_FLOOR
from collector.store.sqlite import goals as goal_sql
from protocol.timeunits import DAY_MS, day_start, known_zone, local_days_back

T = TypeVar("T")

#: ?sort= values for the customer list -> SQL expression (a leading '-' sorts descending)
_CUSTOMER_SORT_SQL = {
    "score": "h.score", "name": "c.name", "id": "c.id", "scene": "c.scene", "csm": "c.csm",
    "arr": "c.arr", "contract_end": "c.contract_end", "open_alerts": "open_alerts",
    "robots": "coalesce(h.robots_total, known_total)",
    "color": "CASE h.color WHEN 'red' THEN 0 WHEN 'yellow' THEN 1 WHEN 'green' THEN 2 END",
}
assert tuple(_CUSTOMER_SORT_SQL) == CUSTOMER_SORTS
#: PostgreSQL takes an output column's name in ORDER BY only alone, not inside an expression
_CUSTOMER_SORT_PORTABLE = {"robots": "coalesce(h.robots_total, CASE WHEN h.customer IS NULL THEN"
                                     " (SELECT count(*) FROM robots r WHERE r.customer = c.id) END)"}

# Correlated subqueries (one index lookup per customer) rather than GROUP BY over every robot and
# alert: a single customer's page then costs the same whatever the fleet's size.
_CUSTOMER_COLUMNS = """c.id, c.name, c.scene, c.tier, c.csm, c.contract_start, c.contract_end, c.arr, c.assigned,
       COALESCE(c.timezone, {timezone}) AS timezone,
       c.distributor,
       {lifecycle} AS lifecycle, {lifecycle_reason}
           AS lifecycle_reason,
       {extra}h.score, h.color, h.trend, h.computed_ms, h.color_since_ms,
       h.robots_total, h.robots_online, h.robots_offline, h.robots_stale,
       CASE WHEN h.customer IS NULL THEN (SELECT count(*) FROM robots r WHERE r.customer = c.id) END
           AS known_total,
       CASE WHEN h.customer IS NULL THEN (SELECT count(*) FROM robots r WHERE r.customer = c.id
                                          AND r.state = 'online') END AS known_online,
       CASE WHEN h.customer IS NULL THEN (SELECT count(*) FROM robots r WHERE r.customer = c.id
                                          AND r.state = 'offline') END AS known_offline,
       (SELECT count(*) FROM alerts a WHERE a.customer = c.id AND a.state IN ({open})) AS open_alerts"""
_CUSTOMER_FROM = "\nFROM customers c\nLEFT JOIN customer_health h ON h.customer = c.id\n"


def _customer_select(open_states: tuple[str, ...], one: bool = False, d: Dialect = SQLITE) -> str:
    """The customers' summary query counting alerts in ``open_states`` (the API passes
    ``alerts.states.OPEN``); ``one``: plus the score's breakdown and facts."""
    # no state at all: SQLite takes ``IN ()`` (false), PostgreSQL needs a value (``IN (NULL)``: no row)
    marks = ",".join("?" * len(open_states)) or ("" if d.name == "sqlite" else "NULL")
    extra = "h.breakdown, h.facts, " if one else ""
    return ("SELECT " + _CUSTOMER_COLUMNS.format(extra=extra, open=marks, timezone=d.json_text("h.facts", "timezone"),
                                                     lifecycle=d.json_path("h.facts", "lifecycle.stage"),
                                                     lifecycle_reason=d.json_path("h.facts", "lifecycle.reason"))
            + _CUSTOMER_FROM)

_ROBOT_SELECT = """
SELECT r.id, r.customer, r.site, r.scene, r.agent_version, r.interval_s, r.first_seen_ms,
       r.last_seen_ms, r.last_window_ms, r.state, r.state_reason, r.state_ms, r.clock_skew_ms,
       h.state AS health_state, h.score, h.worst, h.subsystems, h.computed_ms
FROM robots r
LEFT JOIN robot_health h ON h.robot = r.id
"""

_ALERT_COLUMNS = ("id", "rule", "subject", "customer", "site", "robot", "severity", "state", "summary",
                  "facts", "parent_id", "opened_ms", "updated_ms", "fired_ms", "resolved_ms",
                  "snoozed_until_ms")
_ALERT_SELECT = "SELECT " + ", ".join(f"a.{c}" for c in _ALERT_COLUMNS) + " FROM alerts a"

_VERSION_SQL = """
SELECT (SELECT max(computed_ms) FROM customer_health), (SELECT count(*) FROM customer_health),
       (SELECT max(id) FROM alert_events), (SELECT max(updated_ms) FROM customers),
       (SELECT count(*) FROM customers), (SELECT max(rowid) FROM robots), (SELECT count(*) FROM robots)
"""


def _customer_where(f: dict, d: Dialect = SQLITE) -> tuple[str, list]:
    clauses, args = [], []
    for key, column in (("scene", "c.scene"), ("csm", "c.csm"), ("tier", "c.tier"),
                        ("color", "h.color"), ("customer", "c.id")):
        if f.get(key) is not None:
            clauses.append(f"{column} = ?")
            args.append(f[key])
    if f.get("lifecycle") is not None:  # the stage the last health cycle chose (collector/health/lifecycle.py)
        clauses.append(f"{d.json_path('h.facts', 'lifecycle.stage')} = ?")
        args.append(f["lifecycle"])
    if f.get("q"):
        clauses.append(f"({d.strpos}(lower(c.name), lower(?)) > 0 OR {d.strpos}(c.id, lower(?)) > 0)")
        args += [f["q"], f["q"]]
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def _customer_summary(row: sqlite3.Row) -> dict:
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
        "open_alerts": row["open_alerts"], "timezone": row["timezone"],
        "distributor": row["distributor"] or "",
        "lifecycle": row["lifecycle"], "lifecycle_reason": row["lifecycle_reason"],
    }


def _robot_row(row: sqlite3.Row) -> dict:
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


def _alert_row(row: sqlite3.Row) -> dict:
    out = {c: row[c] for c in _ALERT_COLUMNS}
    out["facts"] = json.loads(out["facts"] or "{}")
    return out


def _event(row: sqlite3.Row) -> dict:
    out = dict(row)
    out["facts"] = json.loads(out["facts"] or "{}")
    return out


def _alert_where(f: dict) -> tuple[str, list]:
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


def _marks(values: tuple) -> str:
    return ",".join("?" * len(values))


class SqliteReadStore:
    """The reads part: pooled read-only connections and a thread pool to run reads in."""

    #: the SQL words that differ per backend (``sql.Dialect``); the PostgreSQL part sets its own
    dialect = SQLITE
    #: the cache marker's query (``data_version``)
    version_sql = _VERSION_SQL

    def __init__(self, path: str, size: int = 8, threads: int | None = None):
        self.path = path
        self.size = size
        self.threads = threads or min(8, max(2, os.cpu_count() or 2))
        self._idle: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue(maxsize=size)
        self._executor: ThreadPoolExecutor | None = None
        #: the funnel's day and hour buckets, kept while their revisions hold (one reader at a time)
        self._volumes = funnel.VolumeCache()
        self._volumes_lock = threading.Lock()

    # ------------------------------------------------------------ running reads off the event loop
    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in one of this store's worker threads (``fn`` calls the read methods below
        and may serialize its result there too, so the event loop only moves bytes)."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="store-reader")
        return await asyncio.get_running_loop().run_in_executor(self._executor, lambda: fn(*args))

    def close(self) -> None:
        """Stop the worker threads and close the idle connections (the store opens new ones if
        used again)."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return

    @contextlib.contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = self._idle.get_nowait()
        except queue.Empty:
            conn = self._open()
        try:
            yield conn
        except BaseException:
            conn.close()  # a connection that failed mid-query is not reused
            raise
        if conn.in_transaction:
            conn.rollback()
        try:
            self._idle.put_nowait(conn)
        except queue.Full:
            conn.close()

    def _open(self):
        """A new read-only connection whose rows read by name and by index (``sqlite3.Row``)."""
        return connect_reader(self.path)

    # ------------------------------------------------------------ cache markers
    def data_version(self) -> tuple:
        """Changes whenever health is recomputed, an alert moves, or a customer or robot is added."""
        with self._conn() as conn:
            return tuple(conn.execute(self.version_sql).fetchone())

    def robots_version(self, customer: str) -> tuple:
        """Changes whenever a robot of the customer reports anything (ingest updates last_seen_ms)."""
        with self._conn() as conn:
            return tuple(conn.execute("SELECT count(*), max(last_seen_ms), max(last_window_ms) FROM robots "
                                      "WHERE customer = ?", (customer,)).fetchone())

    def robot_health_version(self, customer: str) -> tuple:
        with self._conn() as conn:
            return tuple(conn.execute("SELECT count(*), max(computed_ms) FROM robot_health WHERE customer = ?",
                                      (customer,)).fetchone())

    # ------------------------------------------------------------ customers
    def list_customers(self, f: dict, sort: str, limit: int, offset: int, open_states: tuple[str, ...]) -> dict:
        where, args = _customer_where(f, self.dialect)
        desc = sort.startswith("-")
        key = sort.lstrip("-")
        expr = _CUSTOMER_SORT_SQL[key] if self.dialect.name == "sqlite" else \
            _CUSTOMER_SORT_PORTABLE.get(key, _CUSTOMER_SORT_SQL[key])
        order = f"{expr} {'DESC' if desc else 'ASC'} NULLS LAST, c.id"
        with self._conn() as conn:
            select = _customer_select(open_states, d=self.dialect)
            rows = conn.execute(f"{select}{where} ORDER BY {order} LIMIT ? OFFSET ?",
                                [*open_states, *args, limit, offset]).fetchall()
            total = conn.execute(f"SELECT count(*) FROM customers c LEFT JOIN customer_health h "
                                 f"ON h.customer = c.id{where}", args).fetchone()[0]
        return {"items": [_customer_summary(r) for r in rows], "total": total, "limit": limit, "offset": offset}

    def get_customer(self, customer: str, now_ms: int, open_states: tuple[str, ...], days: int = 30) -> dict | None:
        with self._conn() as conn:
            row = conn.execute(f"{_customer_select(open_states, one=True, d=self.dialect)} WHERE c.id = ?",
                               [*open_states, customer]).fetchone()
            if row is None:
                return None
            out = _customer_summary(row)
            out["breakdown"] = json.loads(row["breakdown"]) if row["breakdown"] else []
            out["facts"] = json.loads(row["facts"]) if row["facts"] else {}
            # the last ``days`` local days recorded: day labels of the customer's zone, whose today is
            # not the UTC date away from UTC (+14: a day ahead), so a cut-off a day early and a limit
            since = day_start(now_ms) - days * DAY_MS
            out["score_history"] = [dict(r) for r in reversed(conn.execute(
                "SELECT day_ms, score, color FROM score_history WHERE customer = ? AND day_ms >= ?"
                " ORDER BY day_ms DESC LIMIT ?", (customer, since, days)).fetchall())]
            out["sites"] = [r[0] for r in conn.execute(
                "SELECT DISTINCT site FROM robots WHERE customer = ? ORDER BY site", (customer,))]
        return out

    def customer_exists(self, customer: str) -> bool:
        with self._conn() as conn:
            return conn.execute("SELECT 1 FROM customers WHERE id = ?", (customer,)).fetchone() is not None

    def customer_names(self) -> dict[str, str]:
        with self._conn() as conn:
            return dict(conn.execute("SELECT id, name FROM customers").fetchall())

    def customer_zones(self) -> dict[str, str | None]:
        with self._conn() as conn:
            return dict(conn.execute(f"SELECT c.id, COALESCE(c.timezone, {self.dialect.json_text('h.facts', 'timezone')})"
                                     " FROM customers c LEFT JOIN customer_health h ON h.customer = c.id"))

    def customer_facts(self, ids: list[str]) -> dict[str, dict]:
        """The stored health facts of ``ids`` (customers without health are left out)."""
        out: dict[str, dict] = {}
        with self._conn() as conn:
            for i in range(0, len(ids), 500):
                chunk = ids[i:i + 500]
                out.update((c, json.loads(f)) for c, f in conn.execute(
                    f"SELECT customer, facts FROM customer_health WHERE customer IN ({_marks(tuple(chunk))})", chunk))
        return out

    # ------------------------------------------------------------ daily usage (customer_day)
    def customer_scenes(self) -> dict[str, str]:
        with self._conn() as conn:
            return dict(conn.execute("SELECT id, scene FROM customers"))

    def robot_counts(self) -> dict[str, int]:
        """Robots per customer."""
        with self._conn() as conn:
            return dict(conn.execute("SELECT customer, count(*) FROM robots GROUP BY customer"))

    def robot_count(self, customer: str) -> int:
        with self._conn() as conn:
            return conn.execute("SELECT count(*) FROM robots WHERE customer = ?", (customer,)).fetchone()[0]

    def customer_days(self, since_ms: int, metrics: tuple[str, ...],
                      customer: str | None = None) -> list[tuple[str, str, int, int]]:
        """``(customer, metric, day_ms, total)`` of ``customer_day`` from ``since_ms`` on, for the
        whole fleet or one customer."""
        sql = (f"SELECT customer, metric, bucket_ms, total FROM customer_day "
               f"WHERE bucket_ms >= ? AND metric IN ({_marks(metrics)})")
        args: list = [since_ms, *metrics]
        if customer is not None:
            sql += " AND customer = ?"
            args.append(customer)
        with self._conn() as conn:
            return conn.execute(sql, args).fetchall()

    def customer_day(self, customer: str, day_ms: int, metrics: tuple[str, ...]) -> dict[str, int]:
        """One customer's totals of one day (a point lookup per metric)."""
        with self._conn() as conn:
            return dict(conn.execute(
                f"SELECT metric, total FROM customer_day WHERE bucket_ms = ? AND metric IN ({_marks(metrics)}) "
                f"AND customer = ?", (day_ms, *metrics, customer)))

    def customer_hour_days(self, customers: list[str], days: list[tuple[int, int, int]],
                           metrics: tuple[str, ...]) -> list[tuple[str, str, int, int]]:
        """``(customer, metric, label, total)``: each of ``days`` (``(label, start_ms, end_ms)``, local
        days of one zone, each from its own midnight) summed from ``customer_hour`` for ``customers``
        (all of that zone).  An hour bucket counts for the day holding its start (``+05:30``: the
        bucket straddling local midnight belongs to the day before), as health sums local days."""
        if not customers or not days:
            return []
        # one query per day: grouped in the covering index's own order (metric, customer), no sort of
        # every hour (a single query grouped by day sorted 1.5M rows: 7 s for 500 customers, this 1 s)
        out: list[tuple[str, str, int, int]] = []
        with self._conn() as conn:
            for i in range(0, len(customers), 500):
                chunk = customers[i:i + 500]
                sql = ("SELECT customer, metric, ?, SUM(total) FROM customer_hour"
                       f"{self.dialect.indexed('customer_hour_metric')}"
                       f" WHERE metric IN ({_marks(metrics)}) AND customer IN ({_marks(tuple(chunk))})"
                       " AND bucket_ms >= ? AND bucket_ms < ? GROUP BY metric, customer")
                for label, start, end in days:
                    out.extend(conn.execute(sql, [label, *metrics, *chunk, start, end]).fetchall())
        return out

    def robot_starts(self, customer: str | None = None) -> list[dict]:
        # registry robots handed over that never connected count from their handover (health/service.py)
        unseen = ("SELECT g.customer, NULL, g.activated FROM robot_registry g WHERE g.activated IS NOT NULL"
                  " AND NOT EXISTS (SELECT 1 FROM robots r WHERE r.id = g.robot)")
        sql = ("SELECT r.customer, r.first_seen_ms, g.activated FROM robots r"
               " LEFT JOIN robot_registry g ON g.robot = r.id")
        args: list = []
        if customer is not None:
            sql += " WHERE r.customer = ?"
            unseen += " AND g.customer = ?"
            args.append(customer)
        sql += " UNION ALL " + unseen
        args *= 2
        with self._conn() as conn:
            return [{"customer": c, "first_seen_ms": f, "activated": a} for c, f, a in conn.execute(sql, args)]

    def data_start_ms(self) -> int | None:
        with self._conn() as conn:
            return conn.execute("SELECT min(first_seen_ms) FROM robots").fetchone()[0]

    # ------------------------------------------------------------ robots
    def list_robots(self, f: dict, limit: int, offset: int) -> dict:
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
        with self._conn() as conn:
            rows = conn.execute(f"{_ROBOT_SELECT}{where} ORDER BY r.customer, r.id LIMIT ? OFFSET ?",
                                [*args, limit, offset]).fetchall()
            total = conn.execute(f"SELECT count(*) FROM robots r LEFT JOIN robot_health h ON h.robot = r.id{where}",
                                 args).fetchone()[0]
        return {"items": [_robot_row(r) for r in rows], "total": total, "limit": limit, "offset": offset}

    def get_robot(self, robot: str, now_ms: int, days: int = 7, zone: str = "Asia/Shanghai") -> dict | None:
        """A robot with the last ``days`` local days (today last) of its ``usage.*`` and ``skill.*``
        counters, in its customer's zone (imported, else the one health used, else ``zone``), each
        day summed from the robot's hours from its own local midnight (``counter_hour``; an hour
        counts for the local day holding its start, as everywhere)."""
        with self._conn() as conn:
            row = conn.execute(f"{_ROBOT_SELECT} WHERE r.id = ?", (robot,)).fetchone()
            if row is None:
                return None
            out = _robot_row(row)
            found = conn.execute(
                f"SELECT COALESCE(c.timezone, {self.dialect.json_text('h.facts', 'timezone')}) FROM customers c"
                " LEFT JOIN customer_health h ON h.customer = c.id WHERE c.id = ?", (out["customer"],)).fetchone()
            local = found[0] if found and found[0] and known_zone(found[0]) else zone
            cal = list(reversed(local_days_back(local, now_ms, days - 1)))  # oldest first
            lo, hi = cal[0][1], cal[-1][2]
            # the metrics it counted (its daily rows, a short range per robot), then their hours
            metrics = [m for (m,) in conn.execute(
                "SELECT DISTINCT metric FROM counter_day WHERE robot = ? AND bucket_ms >= ? "
                "AND (metric LIKE 'usage.%' OR metric LIKE 'skill.%')", (robot, lo - lo % DAY_MS))]
            starts = [d[1] for d in cal]
            usage: dict[str, list[int]] = {}
            if metrics:
                for metric, bucket, total in conn.execute(
                        f"SELECT metric, bucket_ms, total FROM counter_hour WHERE robot = ? AND metric IN"
                        f" ({_marks(tuple(metrics))}) AND bucket_ms >= ? AND bucket_ms < ? ORDER BY metric",
                        (robot, *metrics, lo, hi)):
                    usage.setdefault(metric, [0] * days)[bisect_right(starts, bucket) - 1] += total
        out["usage"] = {"days": [d[0] for d in cal], "day_starts_ms": starts, "timezone": local,
                        "metrics": dict(sorted(usage.items()))}
        return out

    def robot_counters(self, robot: str, from_ms: int, to_ms: int) -> dict | None:
        """Summed counters of the windows with ``from <= t0`` and ``t1 <= to`` (store/counters.py);
        None for an unknown robot."""
        with self._conn() as conn:
            return robot_counters(conn, robot, from_ms, to_ms)

    # ------------------------------------------------------------ alerts and their timeline
    def list_alerts(self, f: dict, limit: int, offset: int, count: bool = True) -> dict:
        """Alerts newest first; ``f["states"]`` a tuple of states (empty: any)."""
        where, args = _alert_where(f)
        with self._conn() as conn:
            rows = conn.execute(f"{_ALERT_SELECT}{where} ORDER BY a.opened_ms DESC, a.id DESC LIMIT ? OFFSET ?",
                                [*args, limit, offset]).fetchall()
            total = (conn.execute(f"SELECT count(*) FROM alerts a{where}", args).fetchone()[0] if count
                     else len(rows))
        return {"items": [_alert_row(r) for r in rows], "total": total, "limit": limit, "offset": offset}

    def get_alert(self, alert: int) -> dict | None:
        """One alert with ``events``, every transition oldest first."""
        with self._conn() as conn:
            row = conn.execute(f"{_ALERT_SELECT} WHERE a.id = ?", (alert,)).fetchone()
            if row is None:
                return None
            out = _alert_row(row)
            out["events"] = [_event(r) for r in conn.execute(
                "SELECT id, alert_id, ts_ms, from_state, to_state, actor, note, facts FROM alert_events "
                "WHERE alert_id = ? ORDER BY ts_ms, id", (alert,))]
        return out

    def timeline(self, customer: str | None = None, robot: str | None = None, limit: int = 100) -> list[dict]:
        """The alert transitions of a customer (or one robot), newest first: the account's history."""
        column, value = ("a.robot", robot) if robot else ("a.customer", customer)
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT e.id, e.alert_id, e.ts_ms, e.from_state, e.to_state, e.actor, e.note, e.facts, "
                "a.rule, a.severity, a.robot, a.site, a.summary FROM alert_events e "
                f"JOIN alerts a ON a.id = e.alert_id WHERE {column} = ? ORDER BY e.ts_ms DESC, e.id DESC LIMIT ?",
                (value, limit)).fetchall()
        return [_event(r) for r in rows]

    # ------------------------------------------------------------ the live feed (feed_events)
    def feed_last_id(self) -> int:
        with self._conn() as conn:
            return conn.execute("SELECT coalesce(max(id), 0) FROM feed_events").fetchone()[0]

    def feed_oldest_id(self) -> int:
        with self._conn() as conn:
            return conn.execute("SELECT coalesce(min(id), 0) FROM feed_events").fetchone()[0]

    def feed_after(self, after: int, limit: int) -> list[tuple[int, int, str, str]]:
        """``(id, ts_ms, kind, data)`` of the events after ``after``, oldest first."""
        with self._conn() as conn:
            return conn.execute("SELECT id, ts_ms, kind, data FROM feed_events WHERE id > ? ORDER BY id LIMIT ?",
                                (after, limit)).fetchall()

    # ------------------------------------------------------------ commercial events, outcomes (issue 14)
    # ------------------------------------------------------------ funnel (issue 14)
    def usage_volumes(self, spans: dict[str, tuple[int, int]]) -> dict[str, dict[str, int]]:
        """The four usage volumes per customer over its span (``collector.store.sqlite.funnel``);
        many customers through the store's bucket cache, one customer from its hours."""
        with self._conn() as conn:
            if len(spans) <= funnel.FEW:
                return funnel.volumes(conn, spans)
            with self._volumes_lock:
                return funnel.volumes(conn, spans, self._volumes)

    def customer_funnel_inputs(self) -> list[dict]:
        """Every customer with what a funnel or a comparison with its peers needs: scene, tier,
        zone, robots, score and colour, lifecycle stage (the last health cycle's)."""
        with self._conn() as conn:
            return [dict(r) for r in conn.execute(
                "SELECT c.id, c.name, c.scene, c.tier, c.csm,"
                f" COALESCE(c.timezone, {self.dialect.json_text('h.facts', 'timezone')})"
                " AS timezone, (SELECT count(*) FROM robots r WHERE r.customer = c.id) AS robots, h.score, h.color,"
                f" {self.dialect.json_path('h.facts', 'lifecycle.stage')} AS lifecycle"
                " FROM customers c LEFT JOIN customer_health h ON h.customer = c.id ORDER BY c.id")]

    def list_events(self, customer: str | None = None, limit: int = 100_000) -> list[dict]:
        sql = f"SELECT {_EVENT_FIELDS} FROM customer_events"
        args: list = []
        if customer is not None:
            sql += " WHERE customer = ?"
            args.append(customer)
        with self._conn() as conn:
            return [dict(r) for r in conn.execute(sql + " ORDER BY date, id LIMIT ?", [*args, limit])]

    def get_event(self, event_id: int) -> dict | None:
        with self._conn() as conn:
            row = conn.execute(f"SELECT {_EVENT_FIELDS} FROM customer_events WHERE id = ?", (event_id,)).fetchone()
        return dict(row) if row else None

    def outcomes_version(self) -> tuple:
        with self._conn() as conn:
            return tuple(conn.execute(_OUTCOMES_VERSION_SQL).fetchone())

    def outcome_inputs(self) -> tuple[list[dict], list[dict]]:
        """Customers and events in one read transaction (a consistent snapshot for the rates)."""
        with self._conn() as conn:
            conn.execute(self.dialect.snapshot)
            customers = [dict(r) for r in conn.execute(
                "SELECT c.id, c.name, c.scene, c.tier, c.csm, coalesce(c.distributor, '') AS distributor, "
                "c.contract_start, c.contract_end, c.arr, h.score, h.color "
                "FROM customers c LEFT JOIN customer_health h ON h.customer = c.id ORDER BY c.id")]
            events = [dict(r) for r in conn.execute(
                f"SELECT {_EVENT_FIELDS} FROM customer_events ORDER BY date, id")]
            conn.execute("COMMIT")
        return customers, events

    # ------------------------------------------------------------ a CSM's book of business (issue 14)
    def csm_book(self, csm: str, since_ms: int, since_date: str,
                 open_states: tuple[str, ...]) -> dict | None:
        """One CSM's customers (the overview's summaries), their unresolved alerts, and what may have
        changed since ``since_ms`` / ``since_date`` (a superset of every customer's last 7 local days:
        ``collector/api/book.py`` cuts each customer's own): alerts fired or resolved, the daily colours
        of ``score_history`` and the commercial events.  One read transaction; None for a CSM with no
        customer."""
        with self._conn() as conn:
            conn.execute(self.dialect.snapshot)
            try:
                rows = conn.execute(f"{_customer_select(open_states, d=self.dialect)} WHERE c.csm = ? ORDER BY c.id",
                                    [*open_states, csm]).fetchall()
                if not rows:
                    return None
                book = "SELECT id FROM customers WHERE csm = ?"
                alerts = [_alert_row(r) for r in conn.execute(
                    f"{_ALERT_SELECT} WHERE a.customer IN ({book}) AND (a.resolved_ms IS NULL "
                    "OR a.resolved_ms >= ? OR a.fired_ms >= ?) ORDER BY a.opened_ms DESC, a.id DESC",
                    (csm, since_ms, since_ms))]
                colors = [dict(r) for r in conn.execute(
                    f"SELECT customer, day_ms, color FROM score_history WHERE customer IN ({book}) AND day_ms >= ? "
                    "ORDER BY customer, day_ms", (csm, since_ms - 2 * DAY_MS))]
                events = [dict(r) for r in conn.execute(
                    f"SELECT {_EVENT_FIELDS} FROM customer_events WHERE customer IN ({book}) AND date >= ? "
                    "ORDER BY date, id", (csm, since_date))]
            finally:
                conn.execute("COMMIT")
        return {"customers": [_customer_summary(r) for r in rows], "alerts": alerts,
                "colors": colors, "events": events}

    def csm_book_version(self, csm: str) -> tuple:
        """Changes whenever a customer, health, an alert's state, an event or a goal changes (the book's
        cache marker; ``csm`` is for backends that can tell one book's changes apart)."""
        with self._conn() as conn:
            return (*conn.execute(self.version_sql).fetchone(), *conn.execute(_OUTCOMES_VERSION_SQL).fetchone(),
                    *conn.execute("SELECT count(*), max(updated_ms) FROM customer_goals").fetchone())
    # monthly value report (issue 15): collector/store/sqlite/report_reads.py
    def report_customers(self) -> list[tuple[str, str]]:
        with self._conn() as conn:
            return report_reads.report_customers(conn)

    def report_customer(self, customer: str) -> tuple[dict | None, int | None]:
        with self._conn() as conn:
            return report_reads.customer_row(conn, customer), report_reads.first_data_ms(conn, customer)

    def report_inputs(self, customer: str, from_ms: int, to_ms: int, prev_from_ms: int,
                      peers_to_ms: int | None = None) -> dict:
        """One read transaction: a consistent snapshot of the month."""
        with self._conn() as conn:
            conn.execute(self.dialect.snapshot)
            try:
                return report_reads.report_inputs(conn, customer, from_ms, to_ms, prev_from_ms, peers_to_ms)
            finally:
                conn.execute("COMMIT")

    # ------------------------------------------------------------ success goals (issue 14)
    def list_goals(self, customer: str | None = None) -> list[dict]:
        with self._conn() as conn:
            return goal_sql.goal_rows(conn, customer)

    def get_goal(self, goal_id: int) -> dict | None:
        with self._conn() as conn:
            rows = goal_sql.goal_rows(conn, goal_id=goal_id)
        return rows[0] if rows else None

    def goal_customer(self, customer: str) -> dict | None:
        with self._conn() as conn:
            row = conn.execute(
                f"SELECT c.timezone, c.hours, {self.dialect.json_text('h.facts', 'timezone')},"
                f" {self.dialect.json_path('h.facts', 'venue.hours')}"
                " FROM customers c LEFT JOIN customer_health h ON h.customer = c.id WHERE c.id = ?",
                (customer,)).fetchone()
        if row is None:
            return None
        return {"timezone": row[0] or row[2], "hours": row[1], "venue_hours": row[3]}

    def goal_series(self, customer: str, metric: str, first_ms: int, days: int,
                    open_hours=None, active_floor: int = DEFAULT_ACTIVE_FLOOR) -> list[tuple[float, float]]:
        with self._conn() as conn:
            conn.execute(self.dialect.snapshot)  # one snapshot for the series' reads
            try:
                return goal_sql.goal_series(conn, customer, metric, first_ms, days, open_hours, active_floor)
            finally:
                conn.execute("COMMIT")


_EVENT_FIELDS = ("id, customer, date, kind, amount, robots, referred_by, contract_end, previous_end, note, "
                 "actor, source, created_ms")
_OUTCOMES_VERSION_SQL = """
SELECT (SELECT max(id) FROM customer_events), (SELECT count(*) FROM customer_events),
       (SELECT max(updated_ms) FROM customers), (SELECT count(*) FROM customers),
       (SELECT max(computed_ms) FROM customer_health), (SELECT count(*) FROM customer_health)
"""
