"""One evaluation cycle: read the rollups, compute robot and customer health, run the alert rules,
write the results, all at the event time ``now_ms`` passed in.

Reads happen in one read snapshot, computing happens outside any transaction, and the writes go
in one short write transaction (the store's writer shares the database; busy_timeout covers it).
"""

from __future__ import annotations

import gc
import json
import re
import sqlite3
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from collector.alerts import engine
from collector.health import customer as cust
from collector.health import robot as rob
from collector.health import views
from collector.metrics import REGISTRY
from collector.store.sqlite.db import connect_reader
from protocol.catalogue import HEALTH_SUBSYSTEMS
from protocol.timeunits import DAY_MS

CYCLES = REGISTRY.counter("robopulse_health_cycles_total", "health and alert evaluation cycles run")
CYCLE_SECONDS = REGISTRY.gauge("robopulse_health_cycle_seconds", "duration of the last evaluation cycle")


def _scene(customer: dict, robots: list[dict]) -> str:
    if customer.get("scene"):
        return customer["scene"]
    scenes = Counter(r["scene"] for r in robots if r.get("scene"))
    return scenes.most_common(1)[0][0] if scenes else ""


def _db_path(conn: sqlite3.Connection) -> str | None:
    for _, name, path in conn.execute("PRAGMA database_list"):
        if name == "main":
            return path or None
    return None


def _read_usage(conn: sqlite3.Connection, now_ms: int, hs: dict) -> tuple:
    """The day-granular reads: customers, interactions, yesterday's usage, onboarding activity, scores a week ago
    (and how long they took: they run beside the robot views, so the cycle waits for the longer)."""
    t0 = time.perf_counter()
    return (views.customers(conn), views.usage_sums(conn, now_ms), views.day_usage(conn, now_ms),
            views.active_days(conn, now_ms, hs["onboarding_days"], hs["active_day_interactions"]),
            views.scores_on(conn, now_ms - now_ms % DAY_MS - 7 * DAY_MS), time.perf_counter() - t0)


def _apart(path: str, read, *args):
    """``read(conn, *args)`` on a read-only connection of its own (for a worker thread)."""
    conn = connect_reader(path)
    conn.row_factory = None
    try:
        return read(conn, *args)
    finally:
        conn.close()


def _day_view(conn: sqlite3.Connection, now_ms: int, memory: dict | None, revs: dict, hour_rows: dict) -> tuple:
    """The long view and how long it took: from the loop's running sum of today's hours and the
    short view's rows of the same snapshot (``views.long_view``), or read in full without memory."""
    t0 = time.perf_counter()
    if memory is not None:
        return views.long_view(conn, now_ms, memory, revs, hour_rows), time.perf_counter() - t0
    return views.view(conn, "counter_day", now_ms, memory, revs), time.perf_counter() - t0


def _assess_all(robot_rows: list[dict], hour: dict, day: dict, now_ms: int, hs: dict,
                memory: dict | None) -> list[dict]:
    """Every robot's health.  With ``memory``, a robot whose inputs did not change since the last
    cycle keeps its result (the inputs: its view vectors, its row, its state now and the views'
    starts; robots with network offline time or disconnects are always recomputed, as their rate
    depends on the seconds covered)."""
    last = memory.get("assess", {}) if memory is not None else {}
    kept = {}
    out = []
    hs0, ds0 = rob.hour_view_start(now_ms), rob.day_view_start(now_ms)
    planned = rob.plan(hs)
    off, disc = rob.OFFLINE_SLOT, rob.DISCONNECT_SLOT
    for r in robot_rows:
        h, d = hour.get(r["id"]), day.get(r["id"])
        key = None
        if memory is not None and not (h and (h[off] or h[disc])) and not (d and (d[off] or d[disc])):
            # the view lists are built anew every cycle and never changed after: kept as they are
            key = (h, d, rob.robot_state(r, now_ms, hs), hs0, ds0,
                   r["customer"], r["site"], r["state_reason"], r["first_seen_ms"], r["last_window_ms"])
            hit = last.get(r["id"])
            if hit is not None and hit[0] == key:
                out.append(hit[1])
                kept[r["id"]] = hit
                continue
        result = rob.assess(r, h, d, now_ms, hs, planned)
        out.append(result)
        if key is not None:
            kept[r["id"]] = (key, result)
    if memory is not None:
        memory["assess"] = kept
    return out


def compute(conn: sqlite3.Connection, now_ms: int, hs: dict, memory: dict | None = None) -> dict[str, Any]:
    """Read and compute, no writes: ``{robots: [...], customers: {id: ...}, sites: {robot: site}}``.

    Everything is read on ``conn`` in one read snapshot, except on a process's first cycle, when the
    long view and the day-granular reads run in worker threads on read-only connections of their
    own (see below)."""
    t0 = time.perf_counter()
    path = _db_path(conn)
    # The first cycle of a process reads every bucket, most likely from disk: each bucket and the
    # day-granular reads then run in worker threads of their own so the disk reads overlap (five
    # streams measured 10 % faster than two from a cold cache).  Later cycles read the current hour
    # and today from the page cache: CPU work, and every result row a worker fetches releases and
    # retakes the GIL, so beside a busy main thread a worker's 30,000 rows took 0.3-0.8 s instead
    # of 0.07 s (a convoy): there everything is read on ``conn``.
    apart = bool(path) and not (memory or {}).get("buckets")
    with ThreadPoolExecutor(6, thread_name_prefix="health-read") as pool:
        usage = pool.submit(_apart, path, _read_usage, now_ms, hs) if apart else None
        conn.execute("BEGIN")  # one read snapshot for what is read here
        try:
            # revisions first: a bucket read after them, on any connection, is at least as new
            revs = views.revisions(conn, now_ms) if memory is not None else {}
            buckets = {(table, b): pool.submit(_apart, path, views.view_rows, table, now_ms, memory, revs, [b])
                       for table, bs in views.view_buckets(now_ms).items() for b in bs} if apart else None
            robot_rows = views.robots(conn)
            if buckets is not None:
                hour_rows, day_rows = {}, {}
                for (table, b), rows in buckets.items():
                    (hour_rows if table == "counter_hour" else day_rows).update(rows.result())
                hour = views.short_view(hour_rows, now_ms, memory)
                day, day_s = views.merge(day_rows.values()), time.perf_counter() - t0
                if memory is not None:
                    memory.pop("today", None)  # read apart from the short view: the running sum starts next cycle
            else:
                hour_rows = views.view_rows(conn, "counter_hour", now_ms, memory, revs)
                hour = views.short_view(hour_rows, now_ms, memory)
                day, day_s = _day_view(conn, now_ms, memory, revs, hour_rows)
            views_s = time.perf_counter() - t0
            rest = usage.result() if usage else _read_usage(conn, now_ms, hs)
        finally:
            conn.execute("COMMIT")
    views.forget_old(memory, now_ms)
    customer_list, usage, yesterday, active, week_ago, usage_s = rest
    customer_rows = {c["id"]: c for c in customer_list}
    read_s = time.perf_counter() - t0
    robots = _assess_all(robot_rows, hour, day, now_ms, hs, memory)
    assess_s = time.perf_counter() - t0 - read_s
    by_customer_rows: dict[str, list[dict]] = defaultdict(list)
    by_customer: dict[str, list[dict]] = defaultdict(list)
    for row, health in zip(robot_rows, robots):
        by_customer_rows[row["customer"]].append(row)
        by_customer[row["customer"]].append(health)
    ids = sorted(set(customer_rows) | set(by_customer))
    uses, scenes, skills = {}, {}, {}
    for cid in ids:
        c = customer_rows.get(cid) or {"id": cid, "scene": ""}
        scenes[cid] = _scene(c, by_customer_rows[cid])
        day_before = yesterday.get(cid, {})
        uses[cid] = cust.usage(usage.get(cid, {}), day_before, len(by_customer[cid]))
        skills[cid] = {m: v for m, v in day_before.items() if m.startswith("skill.")}
    peers = cust.peer_percentiles({cid: (scenes[cid], uses[cid]["interactions_per_robot_day_30d"])
                                   for cid in ids if by_customer[cid]})
    customers = {}
    for cid in ids:
        c = dict(customer_rows.get(cid) or {"id": cid})
        c["scene"] = scenes[cid]
        customers[cid] = cust.assess(c, by_customer[cid], uses[cid], skills.get(cid, {}),
                                     peers.get(cid, {"scene": scenes[cid], "peers": 0, "percentile": None}),
                                     active, by_customer_rows[cid], week_ago.get(cid), now_ms, hs)
    return {"robots": robots, "customers": customers, "now": now_ms,
            "sites": {r["id"]: r["site"] for r in robot_rows},
            "timing": {"read_s": read_s, "robot_views_s": views_s, "day_view_s": day_s, "usage_read_s": usage_s,
                       "assess_s": assess_s,
                       "compute_s": time.perf_counter() - t0 - read_s}}


SORTED_SUBSYSTEMS = tuple(sorted(HEALTH_SUBSYSTEMS))  # the order of the stored JSON (sort_keys)
#: each subsystem's level and state, in stored order (keys sorted: "level" comes before "state")
_STORED_LEVELS = re.compile(r'"level": "(\w+)".*?"state": "(\w+)"')


def _levels(row: tuple) -> tuple:
    """What must reach the store at once: customer, state, worst subsystem, the score's 5-point
    band and every subsystem's level and state (the rest are figures that may wait)."""
    subs = row[4]
    return (row[0], row[1], row[2] // 5, row[3], tuple((subs[k]["level"], subs[k]["state"]) for k in SORTED_SUBSYSTEMS))


_encode = json.JSONEncoder(sort_keys=True).encode  # json.dumps(x, sort_keys=True), without a new encoder per row


def _stored_memory(conn: sqlite3.Connection) -> dict[str, tuple]:
    """The stored ``robot_health`` rows in the loop's memory form ``{robot: (row, written_ms, levels)}``,
    ``written_ms`` being the row's ``computed_ms``: a restarted loop then writes exactly what a loop
    that had kept running would (same rows, same figure refresh), instead of rewriting every row
    whose figures moved.  The subsystems stay JSON text (``row[4]``) and their levels are picked
    out of it with a regular expression: 4x cheaper than parsing 10,000 documents (``_unchanged``
    compares the text itself when it must)."""
    out = {}
    for robot, computed_ms, customer, state, score, worst, text in conn.execute(
            "SELECT robot, computed_ms, customer, state, score, worst, subsystems FROM robot_health"):
        levels = (customer, state, score // 5, worst, tuple(_STORED_LEVELS.findall(text)))
        out[robot] = ((customer, state, score, worst, text), computed_ms, levels)
    return out


def _unchanged(kept: tuple, row: tuple) -> bool:
    """Is ``row`` the row last written (``kept``: with its subsystems as a dict or as stored text)?"""
    if isinstance(kept[4], str):
        return kept[:4] == row[:4] and kept[4] == _encode(row[4])
    return kept == row


def _write_health(conn: sqlite3.Connection, ctx: dict, now_ms: int, memory: dict | None = None,
                  refresh_ms: int = 0) -> None:
    """Write what changed.  ``memory`` (kept by the loop between cycles) holds the rows last written,
    so unchanged robots cost a dict comparison, not a JSON dump; a row whose state, score band, worst
    subsystem and subsystem levels are unchanged but whose figures moved is rewritten at most every
    ``refresh_ms`` (see ``_levels``); a memory that has no rows yet (the loop's first cycle) starts
    from the stored rows (``_stored_memory``).  Without memory the stored rows are read and every
    change is written."""
    if memory is not None and "robots" not in memory:
        # the loop's first cycle after a start: the stored rows are what it last wrote
        memory["robots"] = _stored_memory(conn)
    if memory is not None:
        previous = memory["robots"]  # robot -> (row, written_ms, levels of row)
        stored = None
    else:  # compare with the stored JSON text
        stored = {row[0]: row[1:] for row in
                  conn.execute("SELECT robot, customer, state, score, worst, subsystems FROM robot_health")}
        previous = {}
    before = {robot: row[1] for robot, row in stored.items()} if stored is not None else \
        {robot: kept[0][1] for robot, kept in previous.items()}
    current, changed = {}, []
    for r in ctx["robots"]:
        row = (r["customer"], r["state"], r["score"], r["worst"], r["subsystems"])
        if stored is None:
            levels = _levels(row)
            kept = previous.get(r["robot"])
            if kept is not None and ((now_ms - kept[1] < refresh_ms and kept[2] == levels) or _unchanged(kept[0], row)):
                current[r["robot"]] = kept  # unchanged, or only figures moved and written recently
                continue
            changed.append((r["robot"], now_ms, *row[:4], _encode(row[4])))
        else:
            text = (*row[:4], _encode(row[4]))
            if stored.get(r["robot"]) != text:
                changed.append((r["robot"], now_ms, *text))
            levels = _levels(row)
        current[r["robot"]] = (row, now_ms, levels)
    if memory is not None:
        memory["robots"] = current
    conn.executemany(
        "INSERT INTO robot_health (robot, computed_ms, customer, state, score, worst, subsystems)"
        " VALUES (?,?,?,?,?,?,?) ON CONFLICT(robot) DO UPDATE SET customer=excluded.customer,"
        " computed_ms=excluded.computed_ms, state=excluded.state, score=excluded.score, worst=excluded.worst,"
        " subsystems=excluded.subsystems", changed)
    feed = [(now_ms, "robot_state", json.dumps({"robot": r["robot"], "customer": r["customer"], "site": r["site"],
                                                "from": before[r["robot"]], "state": r["state"], "ts": now_ms},
                                               sort_keys=True))
            for r in ctx["robots"] if r["robot"] in before and before[r["robot"]] != r["state"]]
    previous = {row[0]: row[1:] for row in conn.execute("SELECT customer, color, color_since_ms FROM customer_health")}
    day = now_ms - now_ms % DAY_MS
    rows, history = [], []
    for cid, c in ctx["customers"].items():
        old_color, since = previous.get(cid, (None, now_ms))
        if old_color != c["color"]:
            since = now_ms
            if old_color is not None:
                feed.append((now_ms, "customer_health", json.dumps(
                    {"customer": cid, "from": old_color, "color": c["color"], "score": c["score"],
                     "trend": c["trend"], "ts": now_ms}, sort_keys=True)))
        n = c["robots"]
        rows.append((cid, now_ms, c["score"], c["color"], c["trend"], n["total"], n["online"], n["offline"],
                     n["stale"], since, json.dumps(c["breakdown"], sort_keys=True),
                     json.dumps(c["facts"], sort_keys=True)))
        history.append((cid, day, c["score"], c["color"]))
    conn.executemany(
        "INSERT OR REPLACE INTO customer_health (customer, computed_ms, score, color, trend, robots_total,"
        " robots_online, robots_offline, robots_stale, color_since_ms, breakdown, facts)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    conn.executemany("INSERT OR REPLACE INTO score_history (customer, day_ms, score, color) VALUES (?,?,?,?)",
                     history)
    conn.executemany("INSERT INTO feed_events (ts_ms, kind, data) VALUES (?,?,?)", feed)


def _trim(conn: sqlite3.Connection, now_ms: int, settings: dict, limit: int = 5000) -> None:
    """Retention, a bounded slice per cycle so the write transaction stays short."""
    feed_before = now_ms - settings["health"]["feed_retention_days"] * DAY_MS
    conn.execute("DELETE FROM feed_events WHERE id IN (SELECT id FROM feed_events WHERE ts_ms < ? ORDER BY id"
                 " LIMIT ?)", (feed_before, limit))
    sent_before = now_ms - settings["notify"]["keep_delivered_days"] * DAY_MS
    conn.execute("DELETE FROM notifications WHERE id IN (SELECT id FROM notifications WHERE delivered_ms < ?"
                 " ORDER BY id LIMIT ?)", (sent_before, limit))


@contextmanager
def _gc_paused():
    """No cyclic garbage collection while a cycle runs.

    Why: a cycle over 10,000 robots allocates millions of short-lived tuples and dicts, which sets off
    full (generation 2) collections that walk every object of the process, 0.15-0.2 s a cycle
    (measured in docs/benchmarks/health.md). Reference counting frees what a cycle allocates; the
    collector runs as usual again as soon as the cycle is over, so nothing accumulates."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def evaluate(conn: sqlite3.Connection, now_ms: int, settings: dict, memory: dict | None = None) -> dict[str, Any]:
    """One cycle at event time ``now_ms`` (see ``_evaluate``), with the cyclic GC paused."""
    with _gc_paused():
        return _evaluate(conn, now_ms, settings, memory)


def _evaluate(conn: sqlite3.Connection, now_ms: int, settings: dict, memory: dict | None = None) -> dict[str, Any]:
    """One cycle at event time ``now_ms``; ``settings`` holds the parsed ``health``, ``alerts`` and
    ``notify`` sections (the collector config will do).  ``memory``: an empty dict the caller keeps
    between cycles of the same store (saves re-reading what the last cycle wrote); the results do
    not depend on it.  Returns a small summary."""
    started = time.perf_counter()
    ctx = compute(conn, now_ms, settings["health"], memory)
    t0 = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    try:
        _write_health(conn, ctx, now_ms, memory, settings["health"]["detail_refresh_s"] * 1000)
        t1 = time.perf_counter()
        fired = engine.run(conn, ctx, now_ms, settings["alerts"], settings["notify"])
        _trim(conn, now_ms, settings)
        conn.execute("COMMIT")
        ctx["timing"].update(health_write_s=t1 - t0, alerts_s=time.perf_counter() - t1)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    seconds = time.perf_counter() - started
    CYCLES.inc()
    CYCLE_SECONDS.set(seconds)
    return {"robots": len(ctx["robots"]), "customers": len(ctx["customers"]), "firing": fired,
            "seconds": seconds, **{k: round(v, 3) for k, v in ctx["timing"].items()}}
