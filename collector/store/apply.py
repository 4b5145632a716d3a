"""One write transaction: store windows exactly once, keep rollups, robots, customers and rejects.

Raw windows go in as chunks (``collector.store.raw``: one row per robot, stream and hour of a
message).  Rollups change only for windows that were really stored: a message whose seqs the store
holds already (a redelivery) has those windows dropped before anything is summed, so a window
delivered twice is counted once.  Rollup deltas are
summed in Python first and written with one ``executemany`` per table: the upserts are the cost
that grows with traffic, so there are as few of them as the data allows.  The SQL is portable
(``ON CONFLICT ... DO UPDATE``, ``CASE`` instead of two-argument MIN/MAX) so that a PostgreSQL
backend can reuse it with only the parameter style changed.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from itertools import chain

from collector.store import customer_usage, marks, raw
from protocol.timeunits import DAY_MS, HOUR_MS

UPSERT_COUNTER = (
    "INSERT INTO {table} (robot, metric, bucket_ms, total) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (robot, metric, bucket_ms) DO UPDATE SET total = {table}.total + excluded.total")
UPSERT_GAUGE = (
    "INSERT INTO gauge_hour (robot, metric, bucket_ms, n, total, low, high) VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (robot, metric, bucket_ms) DO UPDATE SET n = gauge_hour.n + excluded.n, "
    "total = gauge_hour.total + excluded.total, "
    "low = CASE WHEN excluded.low < gauge_hour.low THEN excluded.low ELSE gauge_hour.low END, "
    "high = CASE WHEN excluded.high > gauge_hour.high THEN excluded.high ELSE gauge_hour.high END")
UPSERT_ROBOT_SEEN = (
    "INSERT INTO robots (id, customer, site, first_seen_ms, last_seen_ms, last_window_ms, clock_skew_ms, "
    "max_span_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
    "customer = excluded.customer, site = excluded.site, "
    "first_seen_ms = CASE WHEN excluded.first_seen_ms < robots.first_seen_ms "
    "THEN excluded.first_seen_ms ELSE robots.first_seen_ms END, "
    "last_seen_ms = CASE WHEN excluded.last_seen_ms > robots.last_seen_ms "
    "THEN excluded.last_seen_ms ELSE robots.last_seen_ms END, "
    "last_window_ms = CASE WHEN robots.last_window_ms IS NULL OR excluded.last_window_ms > robots.last_window_ms "
    "THEN excluded.last_window_ms ELSE robots.last_window_ms END, "
    "clock_skew_ms = excluded.clock_skew_ms, "
    "max_span_ms = CASE WHEN excluded.max_span_ms > robots.max_span_ms "
    "THEN excluded.max_span_ms ELSE robots.max_span_ms END")
UPSERT_ROBOT_STATUS = (
    "INSERT INTO robots (id, customer, site, scene, agent_version, interval_s, first_seen_ms, last_seen_ms, "
    "state, state_reason, state_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
    "customer = excluded.customer, site = excluded.site, "
    "scene = CASE WHEN excluded.scene = '' THEN robots.scene ELSE excluded.scene END, "
    "agent_version = CASE WHEN excluded.agent_version = '' THEN robots.agent_version "
    "ELSE excluded.agent_version END, "
    "interval_s = excluded.interval_s, "
    "last_seen_ms = CASE WHEN excluded.last_seen_ms > robots.last_seen_ms "
    "THEN excluded.last_seen_ms ELSE robots.last_seen_ms END, "
    # a state that did not change keeps its 'since' (a re-delivered retained last will has no ts)
    "state_ms = CASE WHEN robots.state = excluded.state "
    "AND COALESCE(robots.state_reason, '') = COALESCE(excluded.state_reason, '') "
    "AND robots.state_ms IS NOT NULL THEN robots.state_ms ELSE excluded.state_ms END, "
    "state = excluded.state, state_reason = excluded.state_reason "
    "WHERE robots.state_ms IS NULL OR excluded.state_ms >= robots.state_ms")
INSERT_CUSTOMER = (
    "INSERT INTO customers (id, name, assigned, created_ms, updated_ms) VALUES (?, ?, 0, ?, ?) "
    "ON CONFLICT (id) DO NOTHING")
INSERT_REJECT = "INSERT INTO rejects (ts_ms, reason, topic, size, head) VALUES (?, ?, ?, ?, ?)"


#: rows per multi-row statement (SQLite allows 32,766 parameters; PostgreSQL 65,535)
ROWS_PER_STATEMENT = 250


def insert_many(conn: sqlite3.Connection, sql: str, rows: list) -> None:
    """``executemany`` as multi-row ``VALUES (...), (...)`` statements.

    Why: ``executemany`` releases the GIL around every row's step, and a busy MQTT thread then
    keeps it for a whole switch interval each time (a convoy that made flushes 4x slower under
    load).  One statement per 250 rows releases it 250x less often, and does less VM work."""
    if not rows:
        return
    head, tail = sql.split(" VALUES ", 1)
    one, rest = tail.split(")", 1)
    one += ")"
    for i in range(0, len(rows), ROWS_PER_STATEMENT):
        chunk = rows[i:i + ROWS_PER_STATEMENT]
        conn.execute(f"{head} VALUES {', '.join([one] * len(chunk))}{rest}", list(chain.from_iterable(chunk)))


def add_rollups(conn: sqlite3.Connection, hour_sums: dict[tuple[str, int], dict[str, int]],
                owner: dict[str, str]) -> None:
    """Add one write's counter deltas, ``{(robot, hour bucket): {metric: n}}``, to every rollup a window
    feeds: ``counter_hour``, ``counter_day`` (a UTC hour lies inside one UTC day), the per-customer
    usage of ``owner``'s robots (``customer_usage``) and the touched buckets' revisions (``marks``).
    The store's writer and ``collector.store.sqlite.seed`` both go through here, so they cannot drift."""
    hour_rows, day = [], {}
    for (robot, hb), sums in hour_sums.items():
        db = hb - hb % DAY_MS
        for metric, value in sums.items():
            hour_rows.append((robot, metric, hb, value))
            key = (robot, metric, db)
            day[key] = day.get(key, 0) + value
    if not hour_rows:
        return
    insert_many(conn, UPSERT_COUNTER.format(table="counter_hour"), hour_rows)
    insert_many(conn, UPSERT_COUNTER.format(table="counter_day"), [(*k, v) for k, v in day.items()])
    customer_usage.add(conn, customer_usage.deltas(day, owner))
    marks.touch(conn, {row[2] for row in hour_rows}, {key[2] for key in day})


@dataclass
class Outcome:
    stored: int = 0
    duplicates: int = 0
    statuses: int = 0
    rejects: int = 0
    robots: set = field(default_factory=set)


def _extent(windows) -> tuple[int, int, int]:
    """Earliest t0, latest t1 and longest span of ``windows`` (``(seq, t0, t1, ...)`` tuples)."""
    return min(w[1] for w in windows), max(w[2] for w in windows), max(w[2] - w[1] for w in windows)


def window_rows(windows) -> tuple:
    """A batch's windows as ``(seq, t0, t1, counts, gauges)`` tuples, the shape the writer process
    receives them in and chunks store them in; ``protocol.codec.Window`` objects (callers in the
    same process, tests) are converted."""
    if type(windows[0]) is tuple:
        return windows
    return tuple([(w.seq, w.t0, w.t1, w.c, w.g) for w in windows])


def _unstored(conn: sqlite3.Connection, highs: dict, robot: str, stream: str, windows, pending: list):
    """``windows`` less those whose seq the stream has stored already; ``highs`` kept up to date.

    Agents send in seq order, so a message whose first seq is above the stream's highest stored
    one is new as a whole (no query).  Otherwise the overlapping chunks are read, after writing
    this flush's ``pending`` chunk rows (which it empties) so that the lookup sees them too."""
    key = (robot, stream)
    high = highs.get(key)
    if high is None:
        high = raw.high_seq(conn, robot, stream)
    highs[key] = max(high, windows[-1][0])
    if windows[0][0] > high:
        return windows
    insert_many(conn, raw.INSERT_CHUNK, pending)
    pending.clear()
    stored = raw.stored_seqs(conn, robot, stream, windows[0][0], windows[-1][0])
    return [w for w in windows if w[0] not in stored] if stored else windows


def apply_items(conn: sqlite3.Connection, items: list, rejects_kept: int,
                known_customers: set | None = None, robot_owners: dict | None = None,
                stream_highs: dict | None = None) -> Outcome:
    """Write ``items`` (``collector.store.writer.Item``) in the caller's open transaction.

    ``known_customers`` (kept by the writer across flushes) saves re-inserting customers that exist;
    ``robot_owners`` (robot -> customer as committed, kept likewise) saves reading robots' customers
    back for the per-customer usage rollup (``customer_usage``); ``stream_highs`` ((robot, stream) ->
    highest seq stored) saves looking it up per message.  Each may only run ahead of what is
    committed (a rolled-back flush leaves them so): the caller clears them after a rollback."""
    out = Outcome()
    highs = stream_highs if stream_highs is not None else {}
    # sums per (robot, hour bucket) first: one small dict per bucket, one lookup per metric (a
    # batch's windows mostly share a robot and an hour); the day sums come from the hour sums
    hour_sums: dict[tuple, dict[str, int]] = {}
    gauge_sums: dict[tuple, dict[str, list]] = {}
    seen: dict[str, list] = {}
    customers: dict[str, int] = {}
    claimed: dict[str, set] = {}  # robot -> customers its items name (usage rollup by customer)
    rejects = []
    statuses = []
    chunks: list[tuple] = []
    chunk_row = raw.chunk_row
    for item in items:
        if item.kind == "telemetry":
            b = item.value.batch
            robot, stream, received = b.robot, b.stream, item.received_ms
            received_windows = window_rows(b.windows)
            windows = _unstored(conn, highs, robot, stream, received_windows, chunks)
            out.duplicates += len(received_windows) - len(windows)
            out.stored += len(windows)
            lo, hi, span = None, None, 0
            bucket, hs, gs, chunk = None, None, None, None
            for w in windows:
                _seq, t0, t1, counts, gauges = w
                lo = t0 if lo is None or t0 < lo else lo
                hi = t1 if hi is None or t1 > hi else hi
                span = max(span, t1 - t0)
                hb = t0 - t0 % HOUR_MS
                if hb != bucket:
                    if chunk:
                        chunks.append(chunk_row(robot, stream, bucket, received, chunk))
                    bucket, chunk = hb, []
                    hs = hour_sums.get((robot, hb))
                    if hs is None:
                        hs = hour_sums[(robot, hb)] = {}
                    gs = gauge_sums.get((robot, hb))
                    if gs is None:
                        gs = gauge_sums[(robot, hb)] = {}
                chunk.append(w)
                for metric, value in counts.items():
                    if value:
                        hs[metric] = hs.get(metric, 0) + value
                for metric, value in gauges.items():
                    g = gs.get(metric)
                    if g is None:
                        gs[metric] = [1, value, value, value]
                    else:
                        g[0] += 1
                        g[1] += value
                        if value < g[2]:
                            g[2] = value
                        if value > g[3]:
                            g[3] = value
            if chunk:
                chunks.append(chunk_row(robot, stream, bucket, received, chunk))
            else:  # every window was a duplicate: the robot was still seen
                lo, hi, span = _extent(received_windows)
            row = seen.get(robot)
            if row is None:
                seen[robot] = [robot, b.customer, b.site, lo, received, hi, b.sent - received, span]
            else:
                row[1], row[2] = b.customer, b.site
                row[3] = min(row[3], lo)
                row[4] = max(row[4], received)
                row[5] = max(row[5], hi)
                row[6] = b.sent - received
                row[7] = max(row[7], span)
            customers[b.customer] = received
            claimed.setdefault(robot, set()).add(b.customer)
        elif item.kind == "status":
            d = item.value.doc
            state_ms = d.get("ts", item.received_ms)
            statuses.append((d["robot"], d["customer"], d["site"], d.get("scene", ""), d.get("agent", ""),
                             d.get("interval_s", 10), item.received_ms, item.received_ms, d["state"],
                             d.get("reason") if d["state"] == "offline" else None, state_ms))
            customers[d["customer"]] = item.received_ms
            claimed.setdefault(d["robot"], set()).add(d["customer"])
        else:
            rejects.append(item.value)
    insert_many(conn, raw.INSERT_CHUNK, chunks)
    if known_customers is not None:
        customers = {c: ms for c, ms in customers.items() if c not in known_customers}
    if customers:
        conn.executemany(INSERT_CUSTOMER, [(c, c, ms, ms) for c, ms in customers.items()])
        if known_customers is not None:
            known_customers.update(customers)
    owners = robot_owners if robot_owners is not None else {}
    before = {r: owners[r] for r in claimed if r in owners}
    missing = [r for r in claimed if r not in owners]
    if missing:
        before.update(customer_usage.owners(conn, missing))
    if seen:
        insert_many(conn, UPSERT_ROBOT_SEEN, list(seen.values()))
    if statuses:
        conn.executemany(UPSERT_ROBOT_STATUS, statuses)
    # a robot that changed customer takes its stored usage along (before this flush's deltas land)
    owner = customer_usage.settle(conn, claimed, before) if claimed else {}
    owners.update(owner)
    add_rollups(conn, hour_sums, owner)
    gauge_rows = [(robot, metric, hb, *g) for (robot, hb), sums in gauge_sums.items() for metric, g in sums.items()]
    if gauge_rows:
        insert_many(conn, UPSERT_GAUGE, gauge_rows)
    if rejects:
        conn.executemany(INSERT_REJECT, rejects)
        # keep the newest rejects_kept rows: ids only grow, so one range delete bounds the table
        conn.execute("DELETE FROM rejects WHERE id <= (SELECT MAX(id) FROM rejects) - ?", (rejects_kept,))
    out.statuses, out.rejects = len(statuses), len(rejects)
    out.robots = set(seen) | {s[0] for s in statuses}
    return out
