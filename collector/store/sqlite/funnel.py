"""SQLite: the four core usage volumes of customers summed over spans of time (the funnel, issue 14),
and the latest commercial event of each kind per customer (the lifecycle stage).

Why a span is read in two parts: a customer's local days are UTC hours that are not UTC days
(Beijing's day is 16:00 to 16:00 UTC), but the whole UTC days inside a span are in ``customer_day``
(one row per day instead of 24).  So a span ``[start, end)`` is the whole UTC days inside it from
``customer_day`` plus the hours before the first and after the last of them from ``customer_hour``:
30 local days of 500 customers cost 500 x 4 x (30 + 24) rows instead of 500 x 4 x 720.  Both tables
hold the same deltas (collector/store/sqlite/customer_usage.py), so the sum is the hours' sum exactly.

Customers of one time zone share a span: each distinct span is three range reads on the tables'
primary keys (bucket first), whatever the number of customers in it."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Mapping

from protocol.catalogue import USAGE_VOLUMES
from protocol.timeunits import DAY_MS

_METRICS = ", ".join(f"'{m}'" for m in USAGE_VOLUMES)
#: a span this small names its customers in the query (one customer's page); larger ones read all
_FEW = 20


def split(start: int, end: int) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """``[start, end)`` -> (whole UTC days, hours before them, hours after them), each ``(lo, hi)``
    (empty when ``lo >= hi``).  Without a whole UTC day inside, every hour is in the first hour part."""
    day_lo = -(-start // DAY_MS) * DAY_MS
    day_hi = end - end % DAY_MS
    if day_lo >= day_hi:
        return (end, end), (start, end), (end, end)
    return (day_lo, day_hi), (start, day_lo), (day_hi, end)


def _sum(conn: sqlite3.Connection, table: str, lo: int, hi: int, members: list[str] | None,
         out: dict[str, dict[str, int]]) -> None:
    if lo >= hi:
        return
    sql = (f"SELECT customer, metric, SUM(total) FROM {table} WHERE bucket_ms >= ? AND bucket_ms < ?"
           f" AND metric IN ({_METRICS})")
    args: list = [lo, hi]
    if members is not None:
        sql += f" AND customer IN ({','.join('?' * len(members))})"
        args += members
    for customer, metric, total in conn.execute(sql + " GROUP BY customer, metric", args):
        row = out.get(customer)
        if row is not None:
            row[metric] = row.get(metric, 0) + total


def volumes(conn: sqlite3.Connection, spans: Mapping[str, tuple[int, int]]) -> dict[str, dict[str, int]]:
    """``{customer: (start_ms, end_ms)}`` -> ``{customer: {metric: total}}``: the four usage volumes
    of each customer's robots over its span (UTC ms, end excluded); every customer asked for is in
    the result, with 0 for a volume it never had."""
    groups: dict[tuple[int, int], list[str]] = defaultdict(list)
    for customer, span in spans.items():
        groups[span].append(customer)
    out: dict[str, dict[str, int]] = {}
    for (start, end), members in groups.items():
        part: dict[str, dict[str, int]] = {c: {m: 0 for m in USAGE_VOLUMES} for c in members}
        named = sorted(members) if len(members) <= _FEW else None
        days, head, tail = split(start, end)
        _sum(conn, "customer_day", *days, named, part)
        _sum(conn, "customer_hour", *head, named, part)
        _sum(conn, "customer_hour", *tail, named, part)
        out.update(part)
    return out


def latest_events(conn: sqlite3.Connection) -> dict[str, dict[str, dict]]:
    """``{customer: {kind: {date, robots, amount}}}``: each customer's latest event of each kind
    (dates are the customer's local calendar, ``YYYY-MM-DD``, so text order is date order)."""
    out: dict[str, dict[str, dict]] = defaultdict(dict)
    for customer, kind, date, robots, amount in conn.execute(
            "SELECT e.customer, e.kind, e.date, e.robots, e.amount FROM customer_events e"
            " WHERE e.id = (SELECT f.id FROM customer_events f WHERE f.customer = e.customer AND f.kind = e.kind"
            " ORDER BY f.date DESC, f.id DESC LIMIT 1)"):
        out[customer][kind] = {"date": date, "robots": robots, "amount": amount}
    return dict(out)
