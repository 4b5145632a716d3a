"""Summed counters of a robot's windows with ``from <= t0`` and ``t1 <= to``, from rollups.

A window is attributed to the hour and day holding its ``t0``.  So the whole UTC days inside the
range come from ``counter_day``, the whole hours left at either side from ``counter_hour``, and
only the ragged edges (less than an hour at each end) from raw windows.  One correction keeps the
answer exact: a window that starts inside the rolled-up part may end after ``to``; those are
found among the raw windows that start within the robot's longest window span before ``to`` and
subtracted.  The work is bounded by the range's days, hours and edges, never by the raw table.
"""

from __future__ import annotations

import sqlite3

from collector.store.sqlite.raw import all_windows, windows_starting
from protocol.timeunits import DAY_MS, HOUR_MS


def _ceil(value: int, step: int) -> int:
    return -(-value // step) * step


def _floor(value: int, step: int) -> int:
    return value // step * step


def _add(totals: dict[str, int], rows, sign: int = 1) -> None:
    for metric, total in rows:
        totals[metric] = totals.get(metric, 0) + sign * int(total)


def _sum_counts(counts_seq) -> tuple[dict[str, int], int]:
    """The summed counters of an iterable of windows' counter maps, and how many windows."""
    sums: dict[str, int] = {}
    n = 0
    for counts in counts_seq:
        n += 1
        for metric, value in counts.items():
            sums[metric] = sums.get(metric, 0) + value
    return sums, n


def _raw(conn, robot: str, t0_from: int, t0_to: int, ends_after: bool, to_ms: int) -> tuple[dict[str, int], int]:
    """Sums of the windows with ``t0_from <= t0 < t0_to`` and ``t1 > to_ms`` (``ends_after``) or
    ``t1 <= to_ms``, and how many."""
    return _sum_counts(counts for _seq, _t0, t1, counts, _gauges in windows_starting(conn, robot, t0_from, t0_to)
                       if (t1 > to_ms) == ends_after)


def _rollup(conn, table: str, robot: str, metrics: list[str], lo: int, hi: int) -> list:
    if lo >= hi or not metrics:
        return []
    marks = ",".join("?" * len(metrics))
    return conn.execute(
        f"SELECT metric, SUM(total) FROM {table} WHERE robot = ? AND metric IN ({marks}) "
        f"AND bucket_ms >= ? AND bucket_ms < ? GROUP BY metric", (robot, *metrics, lo, hi)).fetchall()


def robot_counters(conn: sqlite3.Connection, robot: str, from_ms: int, to_ms: int) -> dict | None:
    """``{"counters": {...}, "sources": {...}}``, or None when the robot is unknown."""
    row = conn.execute("SELECT max_span_ms FROM robots WHERE id = ?", (robot,)).fetchone()
    if row is None:
        return None
    max_span = int(row[0] or 0)
    totals: dict[str, int] = {}
    sources = {"days": 0, "hours": 0, "raw_windows": 0, "corrected_windows": 0}
    a, b = _ceil(from_ms, HOUR_MS), _floor(to_ms, HOUR_MS)
    if a >= b:  # less than one whole hour: raw only
        sums, n = _raw(conn, robot, from_ms, to_ms, False, to_ms)
        _add(totals, sums.items())
        sources["raw_windows"] = n
        return {"counters": {k: v for k, v in sorted(totals.items()) if v}, "sources": sources}
    metrics = [r[0] for r in conn.execute("SELECT DISTINCT metric FROM counter_day WHERE robot = ?", (robot,))]
    d0, d1 = _ceil(a, DAY_MS), _floor(b, DAY_MS)
    if d0 < d1:
        _add(totals, _rollup(conn, "counter_day", robot, metrics, d0, d1))
        _add(totals, _rollup(conn, "counter_hour", robot, metrics, a, d0))
        _add(totals, _rollup(conn, "counter_hour", robot, metrics, d1, b))
        sources["days"] = (d1 - d0) // DAY_MS
        sources["hours"] = (d0 - a + b - d1) // HOUR_MS
    else:
        _add(totals, _rollup(conn, "counter_hour", robot, metrics, a, b))
        sources["hours"] = (b - a) // HOUR_MS
    # windows counted in the rollups that end after `to` are outside the range: take them out
    overhang, n = _raw(conn, robot, max(a, to_ms - max_span), b, True, to_ms)
    _add(totals, overhang.items(), -1)
    sources["corrected_windows"] = n
    for lo, hi in ((from_ms, a), (b, to_ms)):
        if lo < hi:
            sums, n = _raw(conn, robot, lo, hi, False, to_ms)
            _add(totals, sums.items())
            sources["raw_windows"] += n
    return {"counters": {k: v for k, v in sorted(totals.items()) if v}, "sources": sources}


def raw_counters(conn: sqlite3.Connection, robot: str, from_ms: int, to_ms: int) -> dict[str, int]:
    """The same sum straight from every raw window of the robot (the reference the tests and the
    benchmark compare with; it reads the robot's chunks without the hour-bucket index the route
    uses)."""
    sums, _ = _sum_counts(counts for _r, _s, _seq, t0, t1, counts, _g in all_windows(conn, robot)
                          if from_ms <= t0 and t1 <= to_ms)
    return {k: v for k, v in sorted(sums.items()) if v}
