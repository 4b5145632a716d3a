"""SQLite: the four core usage volumes of customers summed over spans of time (the funnel, issue 14),
and the latest commercial event of each kind per customer (the lifecycle stage).

Why a span is read in parts: a customer's local days are UTC hours that are not UTC days (Beijing's
day is 16:00 to 16:00 UTC), but the whole UTC days inside a span are in ``customer_day`` (one row per
day instead of 24).  So a span ``[start, end)`` is the whole UTC days inside it from ``customer_day``
plus the hours before the first and after the last of them from ``customer_hour``: 30 local days
of 500 customers cost 500 x 4 x (30 + 24) rows instead of 500 x 4 x 720.  Both tables hold the same
deltas (collector/store/sqlite/customer_usage.py), so the sum is the hours' sum exactly.

Why per bucket, with a cache: the health cycle reads every customer's 30 days every cycle.  Each
day or hour bucket is read once for every customer (every zone shares UTC buckets) and kept while
its revision (``rollup_marks``, bumped by every write to the bucket, late data included) holds, so
a cycle reads only the buckets that changed, usually none (the spans hold complete local days).
One customer alone (the customer page) is read from the hours through the covering index
``customer_hour_metric`` instead: a few thousand rows, no cache needed."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Mapping

from collector.store.sqlite.sql import dialect
from protocol.catalogue import USAGE_VOLUMES
from protocol.timeunits import DAY_MS, HOUR_MS

_METRICS = ", ".join(f"'{m}'" for m in USAGE_VOLUMES)
#: this many customers or fewer are read customer by customer from the hours (a customer's page)
FEW = 3
_GRAIN = {"customer_day": "counter_day", "customer_hour": "counter_hour"}  # rollup_marks' grain of each


def split(start: int, end: int) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """``[start, end)`` -> (whole UTC days, hours before them, hours after them), each ``(lo, hi)``
    (empty when ``lo >= hi``).  Without a whole UTC day inside, every hour is in the first hour part."""
    day_lo = -(-start // DAY_MS) * DAY_MS
    day_hi = end - end % DAY_MS
    if day_lo >= day_hi:
        return (end, end), (start, end), (end, end)
    return (day_lo, day_hi), (start, day_lo), (day_hi, end)


def buckets(start: int, end: int) -> list[tuple[str, int]]:
    """The ``(table, bucket)`` rows a span sums: its whole UTC days, and the hours (by their start,
    as ``customer_hour`` keys them) before and after them."""
    (d_lo, d_hi), head, tail = split(start, end)
    out = [("customer_day", b) for b in range(d_lo, d_hi, DAY_MS)]
    for lo, hi in (head, tail):
        out += [("customer_hour", b) for b in range(-(-lo // HOUR_MS) * HOUR_MS, hi, HOUR_MS)]
    return out


class VolumeCache:
    """Per ``(table, bucket)``: its revision when read and every customer's volumes in it.  Owned by
    whoever reads repeatedly (the health store keeps one); results never depend on it."""

    def __init__(self) -> None:
        self.buckets: dict[tuple[str, int], tuple[int, dict[str, dict[str, int]]]] = {}
        #: each span's sums with the revisions of its buckets they were summed at
        self.sums: dict[tuple[int, int], tuple[tuple, dict[str, dict[str, int]]]] = {}
        self.reads = 0  # buckets read from the tables (what the cache saved shows in tests)


def _revisions(conn: sqlite3.Connection, needed: set[tuple[str, int]]) -> dict[tuple[str, int], int]:
    out = dict.fromkeys(needed, 0)
    for table, grain in _GRAIN.items():
        mine = [b for t, b in needed if t == table]
        if mine:
            for bucket, rev in conn.execute("SELECT bucket_ms, rev FROM rollup_marks WHERE grain = ? AND bucket_ms >= ?"
                                            " AND bucket_ms <= ?", (grain, min(mine), max(mine))):
                if (table, bucket) in out:
                    out[(table, bucket)] = rev
    return out


def _read(conn: sqlite3.Connection, stale: list[tuple[str, int]]) -> dict[tuple[str, int], dict[str, dict[str, int]]]:
    """Every customer's volumes in each stale bucket (``+metric``: the primary key's bucket, not the
    metric index, which would walk every stored hour of each metric)."""
    out: dict[tuple[str, int], dict[str, dict[str, int]]] = {k: {} for k in stale}
    d = dialect(conn)
    for table in _GRAIN:
        mine = [b for t, b in stale if t == table]
        for i in range(0, len(mine), 200):
            chunk = mine[i:i + 200]
            for bucket, customer, metric, total in conn.execute(
                    f"SELECT bucket_ms, customer, metric, total FROM {table} WHERE bucket_ms IN"
                    f" ({','.join('?' * len(chunk))}) AND {d.unindexed('metric')} IN ({_METRICS})", chunk):
                out[(table, bucket)].setdefault(customer, {})[metric] = total
    return out


def _few(conn: sqlite3.Connection, spans: Mapping[str, tuple[int, int]]) -> dict[str, dict[str, int]]:
    out = {}
    for customer, (start, end) in spans.items():
        row = dict.fromkeys(USAGE_VOLUMES, 0)
        for metric, total in conn.execute(
                f"SELECT metric, SUM(total) FROM customer_hour WHERE metric IN ({_METRICS}) AND customer = ?"
                " AND bucket_ms >= ? AND bucket_ms < ? GROUP BY metric", (customer, start, end)):
            row[metric] = total
        out[customer] = row
    return out


def volumes(conn: sqlite3.Connection, spans: Mapping[str, tuple[int, int]],
            cache: VolumeCache | None = None) -> dict[str, dict[str, int]]:
    """``{customer: (start_ms, end_ms)}`` -> ``{customer: {metric: total}}``: the four usage volumes
    of each customer's robots over its span (UTC ms, end excluded); every customer asked for is in
    the result, with 0 for a volume it never had.  ``cache``: buckets kept from an earlier call."""
    if len(spans) <= FEW and cache is None:
        return _few(conn, spans)
    cache = cache if cache is not None else VolumeCache()
    per_span: dict[tuple[int, int], list[tuple[str, int]]] = {}
    for span in set(spans.values()):
        per_span[span] = buckets(*span)
    needed = {k for ks in per_span.values() for k in ks}
    revs = _revisions(conn, needed)
    stale = set(k for k in needed if k not in cache.buckets or cache.buckets[k][0] != revs[k])
    for key, rows in _read(conn, sorted(stale)).items():
        cache.buckets[key] = (revs[key], rows)
    cache.reads += len(stale)
    for key in set(cache.buckets) - needed:  # buckets no span needs any more (days gone by)
        del cache.buckets[key]
    sums: dict[tuple[int, int], dict[str, dict[str, int]]] = {}
    for span, keys in per_span.items():
        stamp = tuple(revs[k] for k in keys)
        kept = cache.sums.get(span)
        if kept is not None and kept[0] == stamp and not any(k in stale for k in keys):
            sums[span] = kept[1]
            continue
        total: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(USAGE_VOLUMES, 0))
        for key in keys:
            for customer, row in cache.buckets[key][1].items():
                acc = total[customer]
                for metric, value in row.items():
                    acc[metric] += value
        sums[span] = total
    cache.sums = {span: (tuple(revs[k] for k in per_span[span]), total) for span, total in sums.items()}
    return {c: dict(sums[span].get(c) or dict.fromkeys(USAGE_VOLUMES, 0)) for c, span in spans.items()}


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
