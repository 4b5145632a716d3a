"""Write customers, robots and counter rollups straight into a SQLite store, the way the store does.

For tests, benchmarks and demos that need history without running ingest: a window's counts go
to the hour and day buckets holding its ``t0`` (UTC starts, ms), ``first_seen_ms`` is the earliest
``t0`` and ``last_window_ms`` the highest ``t1``; the per-customer usage rollup (``customer_day``)
follows, for robots that exist, and the touched buckets' revisions (``rollup_marks``) are bumped.
Raw windows are not written.  It writes the store, so it lives in the store (it was health/seed.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from collector.store.sqlite import customer_usage
from collector.store.sqlite.apply import add_rollups
from protocol.timeunits import hour_start


def add_customer(conn: sqlite3.Connection, cid: str, scene: str = "museum", *, name: str | None = None,
                 contract_end: str | None = None, contract_start: str | None = None, arr: float = 0.0,
                 tier: str = "", csm: str = "", timezone: str | None = None, hours: str | None = None,
                 now_ms: int = 0) -> None:
    conn.execute(
        "INSERT INTO customers (id, name, scene, tier, contract_start, contract_end, arr, csm, timezone, hours,"
        " created_ms, updated_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET"
        " scene=excluded.scene, contract_end=excluded.contract_end, arr=excluded.arr, timezone=excluded.timezone,"
        " hours=excluded.hours, updated_ms=excluded.updated_ms",
        (cid, name or cid, scene, tier, contract_start, contract_end, arr, csm, timezone, hours, now_ms, now_ms))


def add_robot(conn: sqlite3.Connection, rid: str, customer: str, site: str = "site-1", *, scene: str = "",
              interval_s: int = 10, state: str = "online", state_reason: str | None = None,
              first_seen_ms: int = 0, now_ms: int = 0) -> None:
    conn.execute(
        "INSERT INTO robots (id, customer, site, scene, interval_s, first_seen_ms, last_seen_ms, state,"
        " state_reason, state_ms) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (rid, customer, site, scene, interval_s, first_seen_ms, now_ms, state, state_reason, now_ms))


def set_state(conn: sqlite3.Connection, rid: str, state: str, reason: str | None, now_ms: int) -> None:
    conn.execute("UPDATE robots SET state=?, state_reason=?, state_ms=? WHERE id=?", (state, reason, now_ms, rid))


def write_windows(conn: sqlite3.Connection, windows: Iterable[tuple[str, int, int, dict[str, int]]]) -> int:
    """Add ``(robot, t0, t1, counts)`` windows to the rollups in one transaction (through the store's
    own ``add_rollups``); returns how many."""
    hour_sums: dict[tuple[str, int], dict[str, int]] = {}
    span: dict[str, list[int]] = {}
    n = 0
    for robot, t0, t1, counts in windows:
        n += 1
        sums = hour_sums.setdefault((robot, hour_start(t0)), {})
        for metric, value in counts.items():
            if value:
                sums[metric] = sums.get(metric, 0) + value
        lo_hi = span.setdefault(robot, [t0, t1])
        lo_hi[0], lo_hi[1] = min(lo_hi[0], t0), max(lo_hi[1], t1)
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")  # (``conn``: a sqlite3 connection, or a PostgreSQL one: postgres/db.py)
    add_rollups(conn, hour_sums, customer_usage.owners(conn, span))
    conn.executemany(
        "UPDATE robots SET first_seen_ms = CASE WHEN last_window_ms IS NULL OR ? < first_seen_ms THEN ?"
        " ELSE first_seen_ms END, last_window_ms = CASE WHEN last_window_ms IS NULL OR last_window_ms < ? THEN ?"
        " ELSE last_window_ms END WHERE id = ?",  # CASE, not two-argument max(): portable (PostgreSQL)
        [(lo, lo, hi, hi, robot) for robot, (lo, hi) in span.items()])
    if own:
        conn.execute("COMMIT")
    return n


def write_window(conn: sqlite3.Connection, robot: str, t0: int, t1: int, counts: dict[str, int]) -> None:
    write_windows(conn, [(robot, t0, t1, counts)])
