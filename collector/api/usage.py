"""Daily usage of the core volumes for a customer page: the customer per robot against its scene's
peers per robot, over the last 30 UTC days, from the store's per-customer daily totals
(``customer_day``: the sum over the customer's robots, kept at insert time).

Peers need every customer of the scene, the one fleet-wide read of the page.  So one ``FleetUsage``
snapshot of the whole fleet's 30 days (one query) is kept
and refreshed at most every ``[http] usage_refresh_s``; a refresh runs in a background thread while
requests keep using the previous snapshot.  The customer's own totals are then read fresh for today
(one row per volume), so its current day is exact; its earlier days and its peers' figures
are at most twice ``usage_refresh_s`` old.  A customer missing from the snapshot (new since) is read in
full.

Per robot means per robot in service that day (``collector.health.service``: from its handover or
first day seen, never before the collector's first data), never today's robot count: a fleet
grown from 2 to 10 robots shows its early days per robot of the 2 it had.  ``robots_per_day`` is
that denominator, the peers' likewise."""

from __future__ import annotations

import time

from collector.health.service import start_day
from collector.store.seam import ReadStore
from protocol.catalogue import USAGE_VOLUMES
from protocol.timeunits import DAY_MS, day_start

DAYS = 30


def series(rows, first: int, days: int) -> dict[str, list[int]]:
    """``{metric: [total per day]}`` from ``(customer, metric, day_ms, total)`` rows."""
    out = {m: [0] * days for m in USAGE_VOLUMES}
    for _customer, metric, bucket, total in rows:
        i = (bucket - first) // DAY_MS
        if 0 <= i < days:
            out[metric][i] = total
    return out


def robots_per_day(rows: list[dict], first: int, days: int, data_start_ms: int | None) -> dict[str, list[int]]:
    """``{customer: [robots in service on each UTC day from first]}`` from ``reads.robot_starts``."""
    out: dict[str, list[int]] = {}
    for r in rows:
        start = start_day(r, 0, data_start_ms)
        counts = out.setdefault(r["customer"], [0] * days)
        if start is not None:
            for i in range(max(0, (start - first + DAY_MS - 1) // DAY_MS), days):
                counts[i] += 1
    return out


def _per(values: list[int], robots: list[int]) -> list[float]:
    return [round(v / n, 2) if n > 0 else 0.0 for v, n in zip(values, robots)]


def fleet_usage(reads: ReadStore, first: int, days: int = DAYS) -> dict:
    """Every customer's daily totals, robot counts and scene, and each scene's totals."""
    scene_of = reads.customer_scenes()
    robots = reads.robot_counts()
    data_start = reads.data_start_ms()
    per_day = robots_per_day(reads.robot_starts(), first, days, data_start)
    customers: dict[str, dict[str, list[int]]] = {}
    for cust, metric, bucket, total in reads.customer_days(first, USAGE_VOLUMES):
        i = (bucket - first) // DAY_MS
        if 0 <= i < days:
            customers.setdefault(cust, {m: [0] * days for m in USAGE_VOLUMES})[metric][i] = total
    scenes: dict[str, dict] = {}
    for cust, scene in scene_of.items():
        entry = scenes.setdefault(scene, {"customers": 0, "robots": 0, "robots_per_day": [0] * days,
                                          "totals": {m: [0] * days for m in USAGE_VOLUMES}})
        entry["customers"] += 1
        entry["robots"] += robots.get(cust, 0)
        entry["robots_per_day"] = [a + b for a, b in zip(entry["robots_per_day"], per_day.get(cust, [0] * days))]
        own = customers.get(cust)
        if own:
            for m in USAGE_VOLUMES:
                entry["totals"][m] = [a + b for a, b in zip(entry["totals"][m], own[m])]
    return {"built": time.monotonic_ns(), "first": first, "days": days, "scene_of": scene_of, "robots": robots,
            "customers": customers, "robots_per_day": per_day, "data_start": data_start,
            "scenes": scenes, "peer_series": {}}


def customer_usage(reads: ReadStore, customer: str, scene: str, now_ms: int, fleet: dict) -> dict:
    days, first = fleet["days"], fleet["first"]
    today = day_start(now_ms)
    robots = reads.robot_count(customer)
    known = fleet["scene_of"].get(customer) == scene
    zero = {m: [0] * days for m in USAGE_VOLUMES}
    snap_own = fleet["customers"].get(customer, zero) if known else zero
    if known:  # earlier days from the snapshot, today fresh (one point lookup per volume)
        fresh = reads.customer_day(customer, today, USAGE_VOLUMES)
        own = {m: snap_own[m][:-1] + [fresh.get(m, 0)] for m in USAGE_VOLUMES}
    else:
        own = series(reads.customer_days(first, USAGE_VOLUMES, customer), first, days)
    group = fleet["scenes"].get(scene, {"customers": 0, "robots": 0, "robots_per_day": [0] * days, "totals": zero})
    peer_robots = group["robots"] - (fleet["robots"].get(customer, 0) if known else 0)
    peer_customers = group["customers"] - (1 if known else 0)
    # robots in service per day: the customer's own read fresh, its peers' from the snapshot
    mine = robots_per_day(reads.robot_starts(customer), first, days, fleet["data_start"]).get(customer, [0] * days)
    snap_mine = fleet["robots_per_day"].get(customer, [0] * days) if known else [0] * days
    peer_days = [t - o for t, o in zip(group["robots_per_day"], snap_mine)]

    def peers(metric: str) -> list[float]:
        return _per([t - o for t, o in zip(group["totals"][metric], snap_own[metric])], peer_days)

    # the peers' series only depend on the snapshot: work them out once per customer and snapshot
    memo_key = (customer, scene, known)
    peer_series = fleet["peer_series"].get(memo_key)
    if peer_series is None:
        peer_series = fleet["peer_series"][memo_key] = {m: peers(m) for m in USAGE_VOLUMES}

    return {
        "days": [first + i * DAY_MS for i in range(days)],
        "robots": robots, "peer_customers": peer_customers, "peer_robots": max(0, peer_robots),
        "robots_per_day": mine, "peer_robots_per_day": [max(0, n) for n in peer_days],
        "volumes": {m: {"total": own[m], "per_robot": _per(own[m], mine),
                        "peers_per_robot": peer_series[m]} for m in USAGE_VOLUMES},
    }
