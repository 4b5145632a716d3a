"""One write transaction: store windows exactly once, keep rollups, robots, customers and rejects.

Raw windows go in as chunks (``collector.store.sqlite.raw``: one row per robot, stream and hour of a
message).  Rollups change only for windows that were really stored: a message whose seqs the store
holds already (a redelivery) has those windows dropped before anything is summed, so a window
delivered twice is counted once.  Rollup deltas are
summed in Python first and written as multi-row upserts per table (``sql.insert_many``): the upserts
are the cost that grows with traffic, so there are as few of them as the data allows.  Rows are
named (``CounterRow``, ``GaugeRow``, ``StatusRow``, ``RobotSeen``...): their fields are the columns
the statements are built from.  The SQL is portable
(``ON CONFLICT ... DO UPDATE``, ``CASE`` instead of two-argument MIN/MAX) so that a PostgreSQL
backend can reuse it with only the parameter style changed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from collector.store.records import Queued, RejectRow, Status, Telemetry, WindowRow
from collector.store.seam import Outcome
from collector.store.sqlite import customer_usage, marks, raw
from collector.store.sqlite.sql import Insert, insert_many
from protocol.timeunits import DAY_MS, HOUR_MS


class CounterRow(NamedTuple):
    """A ``counter_hour`` / ``counter_day`` delta: the sum of one metric's counts in one bucket."""

    robot: str
    metric: str
    bucket_ms: int
    total: int


class GaugeRow(NamedTuple):
    """A ``gauge_hour`` delta: one metric's samples in one hour (count, sum, min, max)."""

    robot: str
    metric: str
    bucket_ms: int
    n: int
    total: float
    low: float
    high: float


class StatusRow(NamedTuple):
    """A ``robots`` upsert from a status message."""

    id: str
    customer: str
    site: str
    scene: str
    agent_version: str
    interval_s: int
    first_seen_ms: int
    last_seen_ms: int
    state: str
    state_reason: str | None
    state_ms: int


class NewCustomerRow(NamedTuple):
    """A customer first named by telemetry (``assigned = 0`` until import-customers fills it in)."""

    id: str
    name: str
    assigned: int
    created_ms: int
    updated_ms: int


@dataclass(slots=True)
class RobotSeen:
    """A ``robots`` upsert from a flush's batches of one robot, folded batch by batch."""

    id: str
    customer: str
    site: str
    first_seen_ms: int
    last_seen_ms: int
    last_window_ms: int
    clock_skew_ms: int
    max_span_ms: int

    COLUMNS = ("id", "customer", "site", "first_seen_ms", "last_seen_ms", "last_window_ms", "clock_skew_ms",
               "max_span_ms")

    def row(self) -> tuple:
        return (self.id, self.customer, self.site, self.first_seen_ms, self.last_seen_ms, self.last_window_ms,
                self.clock_skew_ms, self.max_span_ms)


#: ``make_row(CounterRow, (robot, metric, bucket, total))``: a NamedTuple row from its fields in
#: order, without the NamedTuple constructor's Python-level call (~0.3 us -> ~0.1 us per row, and a
#: flush of one-window messages makes a dozen rollup rows per window)
make_row = tuple.__new__


def _counter_upsert(table: str) -> Insert:
    return Insert(table, CounterRow._fields, "ON CONFLICT (robot, metric, bucket_ms) DO UPDATE SET "
                  f"total = {table}.total + excluded.total")


UPSERT_COUNTER_HOUR = _counter_upsert("counter_hour")
UPSERT_COUNTER_DAY = _counter_upsert("counter_day")
UPSERT_GAUGE = Insert("gauge_hour", GaugeRow._fields, (
    "ON CONFLICT (robot, metric, bucket_ms) DO UPDATE SET n = gauge_hour.n + excluded.n, "
    "total = gauge_hour.total + excluded.total, "
    "low = CASE WHEN excluded.low < gauge_hour.low THEN excluded.low ELSE gauge_hour.low END, "
    "high = CASE WHEN excluded.high > gauge_hour.high THEN excluded.high ELSE gauge_hour.high END"))
UPSERT_ROBOT_SEEN = Insert("robots", RobotSeen.COLUMNS, (
    "ON CONFLICT (id) DO UPDATE SET "
    "customer = excluded.customer, site = excluded.site, "
    "first_seen_ms = CASE WHEN excluded.first_seen_ms < robots.first_seen_ms "
    "THEN excluded.first_seen_ms ELSE robots.first_seen_ms END, "
    "last_seen_ms = CASE WHEN excluded.last_seen_ms > robots.last_seen_ms "
    "THEN excluded.last_seen_ms ELSE robots.last_seen_ms END, "
    "last_window_ms = CASE WHEN robots.last_window_ms IS NULL OR excluded.last_window_ms > robots.last_window_ms "
    "THEN excluded.last_window_ms ELSE robots.last_window_ms END, "
    "clock_skew_ms = excluded.clock_skew_ms, "
    "max_span_ms = CASE WHEN excluded.max_span_ms > robots.max_span_ms "
    "THEN excluded.max_span_ms ELSE robots.max_span_ms END"))
UPSERT_ROBOT_STATUS = Insert("robots", StatusRow._fields, (
    "ON CONFLICT (id) DO UPDATE SET "
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
    # a status older than the stored one (by the robot's clock) is stale and ignored, unless the
    # stored time is later than this message's receive time: then it came from a clock ahead of
    # ours (ingest clamps new ones to the tolerance, an older store may hold a year-ahead one), and a
    # last will (no ts: its receive time) must win over it
    "WHERE robots.state_ms IS NULL OR excluded.state_ms >= robots.state_ms "
    "OR robots.state_ms > excluded.last_seen_ms"))
INSERT_CUSTOMER = Insert("customers", NewCustomerRow._fields, "ON CONFLICT (id) DO NOTHING")
INSERT_REJECT = Insert("rejects", RejectRow._fields)


def add_rollups(conn: sqlite3.Connection, hour_sums: dict[tuple[str, int], dict[str, int]],
                owner: dict[str, str]) -> None:
    """Add one write's counter deltas, ``{(robot, hour bucket): {metric: n}}``, to every rollup a window
    feeds: ``counter_hour``, ``counter_day`` (a UTC hour lies inside one UTC day), the per-customer
    usage of ``owner``'s robots (``customer_usage``) and the touched buckets' revisions (``marks``).
    The store's writer and ``collector.store.sqlite.seed`` both go through here, so they cannot drift.

    Every upsert's rows go in key order (``sorted``): with several writers sharing a PostgreSQL
    store, two flushes then take the rows' locks in one order and cannot deadlock on them (the
    sort costs well under a millisecond per thousand rows)."""
    hour_rows: list[CounterRow] = []
    hours: set[int] = set()
    day: dict[tuple[str, str, int], int] = {}
    for (robot, hb), sums in hour_sums.items():
        if sums:
            hours.add(hb)
        db = hb - hb % DAY_MS
        for metric, value in sums.items():
            hour_rows.append(make_row(CounterRow, (robot, metric, hb, value)))
            key = (robot, metric, db)
            day[key] = day.get(key, 0) + value
    if not hour_rows:
        return
    insert_many(conn, UPSERT_COUNTER_HOUR, sorted(hour_rows))
    insert_many(conn, UPSERT_COUNTER_DAY, sorted(make_row(CounterRow, (*key, v)) for key, v in day.items()))
    customer_usage.add(conn, customer_usage.deltas(day, owner))
    customer_usage.add(conn, customer_usage.deltas({(r, m, hb): v for r, m, hb, v in hour_rows}, owner), hourly=True)
    marks.touch(conn, hours, {db for _robot, _metric, db in day})


def _extent(windows: Sequence[WindowRow]) -> tuple[int, int, int]:
    """Earliest t0, latest t1 and longest span of ``windows``."""
    return min(w[1] for w in windows), max(w[2] for w in windows), max(w[2] - w[1] for w in windows)


def _unstored(conn: sqlite3.Connection, highs: dict[tuple[str, str], int], robot: str, stream: str,
              windows: tuple[WindowRow, ...], pending: list[raw.ChunkRow]) -> Sequence[WindowRow]:
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


def apply_items(conn: sqlite3.Connection, items: Sequence[Queued], rejects_kept: int,
                known_customers: set[str] | None = None, robot_owners: dict[str, str] | None = None,
                stream_highs: dict[tuple[str, str], int] | None = None) -> Outcome:
    """Write ``items`` in the caller's open transaction.

    ``known_customers`` (kept by the writer across flushes) saves re-inserting customers that exist;
    ``robot_owners`` (robot -> customer as committed, kept likewise) saves reading robots' customers
    back for the per-customer usage rollup (``customer_usage``); ``stream_highs`` ((robot, stream) ->
    highest seq stored) saves looking it up per message.  Each may only run ahead of what is
    committed (a rolled-back flush leaves them so): the caller clears them after a rollback."""
    out = Outcome()
    highs = stream_highs if stream_highs is not None else {}
    # sums per (robot, hour bucket) first: one small dict per bucket, one lookup per metric (a
    # batch's windows mostly share a robot and an hour); the day sums come from the hour sums.
    # A gauge's sums are [n, total, low, high] lists here (GaugeRow's last four columns): the
    # innermost loop, where a list's item updates are cheapest
    hour_sums: dict[tuple[str, int], dict[str, int]] = {}
    gauge_sums: dict[tuple[str, int], dict[str, list]] = {}
    seen: dict[str, RobotSeen] = {}
    customers: dict[str, int] = {}
    claimed: dict[str, set[str]] = {}  # robot -> customers its items name (usage rollup by customer)
    rejects: list[RejectRow] = []
    statuses: list[StatusRow] = []
    chunks: list[raw.ChunkRow] = []
    chunk_row = raw.chunk_row
    for item in items:
        rec = item.record
        received = item.received_ms
        if type(rec) is Telemetry:
            robot, stream = rec.robot, rec.stream
            windows = _unstored(conn, highs, robot, stream, rec.windows, chunks)
            out.duplicates += len(rec.windows) - len(windows)
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
                lo, hi, span = _extent(rec.windows)
            r = seen.get(robot)
            if r is None:
                seen[robot] = RobotSeen(robot, rec.customer, rec.site, lo, received, hi, rec.sent - received, span)
            else:
                r.customer, r.site = rec.customer, rec.site
                r.first_seen_ms = min(r.first_seen_ms, lo)
                r.last_seen_ms = max(r.last_seen_ms, received)
                r.last_window_ms = max(r.last_window_ms, hi)
                r.clock_skew_ms = rec.sent - received
                r.max_span_ms = max(r.max_span_ms, span)
            customers[rec.customer] = received
            claimed.setdefault(robot, set()).add(rec.customer)
        elif type(rec) is Status:
            statuses.append(StatusRow(rec.robot, rec.customer, rec.site, rec.scene, rec.agent, rec.interval_s,
                                      received, received, rec.state, rec.reason,
                                      received if rec.ts is None else rec.ts))
            customers[rec.customer] = received
            claimed.setdefault(rec.robot, set()).add(rec.customer)
        else:
            rejects.append(rec)
    insert_many(conn, raw.INSERT_CHUNK, chunks)
    if known_customers is not None:
        customers = {c: ms for c, ms in customers.items() if c not in known_customers}
    if customers:
        conn.executemany(INSERT_CUSTOMER.sql(), sorted(NewCustomerRow(c, c, 0, ms, ms) for c, ms in customers.items()))
        if known_customers is not None:
            known_customers.update(customers)
    owners = robot_owners if robot_owners is not None else {}
    before = {r: owners[r] for r in claimed if r in owners}
    missing = [r for r in claimed if r not in owners]
    if missing:
        before.update(customer_usage.owners(conn, missing))
    if seen:
        insert_many(conn, UPSERT_ROBOT_SEEN, sorted(r.row() for r in seen.values()))  # key order: see add_rollups
    if statuses:
        conn.executemany(UPSERT_ROBOT_STATUS.sql(), statuses)
    # a robot that changed customer takes its stored usage along (before this flush's deltas land)
    owner = customer_usage.settle(conn, claimed, before) if claimed else {}
    owners.update(owner)
    add_rollups(conn, hour_sums, owner)
    gauge_rows = [make_row(GaugeRow, (robot, metric, hb, g[0], g[1], g[2], g[3]))
                  for (robot, hb), sums in gauge_sums.items() for metric, g in sums.items()]
    if gauge_rows:
        insert_many(conn, UPSERT_GAUGE, sorted(gauge_rows))
    if rejects:
        conn.executemany(INSERT_REJECT.sql(), rejects)
        # keep the newest rejects_kept rows: ids only grow, so one range delete bounds the table
        conn.execute("DELETE FROM rejects WHERE id <= (SELECT MAX(id) FROM rejects) - ?", (rejects_kept,))
    out.statuses, out.rejects = len(statuses), len(rejects)
    out.robots = set(seen) | {s.id for s in statuses}
    return out
