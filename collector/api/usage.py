"""Daily usage of the core volumes for a customer page: the customer per robot against its scene's
peers per robot, over the customer's last 30 **local** days (today last, partial), each summed from
the store's per-customer hourly totals (``customer_hour``: the sum over the customer's robots, kept
at insert time) from its own local midnight, as health sums them (issue 13: a Beijing day is
16:00 to 16:00 UTC, not a UTC day).  An hour bucket counts for the local day holding its start, so
in a zone with a half-hour offset (+05:30) the bucket straddling local midnight belongs to the day
before; across a daylight-saving change a day is 23 or 25 hours.

The zone is the customer's own (``timezone``, imported; else the one its last health cycle used),
else ``[health] timezone``.  ``days`` are day labels (the local date at 00:00 UTC, so the UTC date of
a label is the local date), ``day_starts_ms`` the instants those days began.

Peers are each on **their own** local days, matched by date: the peers' figure for 5 December is
each peer's 5 December per robot in service that day, whatever its zone.  A "day" is a venue's
day; comparing a Beijing museum's day with a Kolkata museum's day is what the chart means, whereas
cutting the peer's day at the customer's midnight would compare evenings with mornings.

Peers need every customer of the scene, the one fleet-wide read of the page.  So one ``FleetUsage``
snapshot of the whole fleet's last 31 local days (one query per zone) is kept and refreshed at
most every ``[http] usage_refresh_s``; a refresh runs in a background thread while requests keep
using the previous snapshot.  The customer's own days that were not complete when the snapshot
was built (today; yesterday too just after its midnight) are read fresh (a few hours of one
customer), so its own figures are exact; its peers' figures are at most twice
``usage_refresh_s`` old.  A customer missing from the snapshot (new since, or its zone changed)
is read in full.

Per robot means per robot in service that day (``collector.health.service``: from its handover or
first day seen, never before the collector's first data), never today's robot count: a fleet
grown from 2 to 10 robots shows its early days per robot of the 2 it had.  ``robots_per_day`` is
that denominator, the peers' likewise."""

from __future__ import annotations

import time
from bisect import bisect_right
from functools import lru_cache

from collector.health.service import start_day
from collector.store.seam import ReadStore
from protocol.catalogue import USAGE_VOLUMES
from protocol.timeunits import known_zone, local_days_back

DAYS = 30


@lru_cache(maxsize=1024)
def _known(zone: str) -> bool:
    return known_zone(zone)


def zone_for(zone: str | None, default: str) -> str:
    """The customer's zone when this machine knows it, else ``default``."""
    return zone if zone and _known(zone) else default


def calendar(zone: str, now_ms: int, days: int = DAYS) -> list[tuple[int, int, int, int]]:
    """The ``days`` local days of ``zone`` up to today, oldest first: ``(label, start_ms, end_ms,
    off_ms)``, each from its own midnight."""
    return list(reversed(local_days_back(zone, now_ms, days - 1)))


def robots_per_day(rows: list[dict], labels: list[int], off: int, data_start_ms: int | None) -> list[int]:
    """Robots of ``rows`` (``reads.robot_starts``) in service on each local day of ``labels``."""
    starts = sorted(s for s in (start_day(r, off, data_start_ms) for r in rows) if s is not None)
    return [bisect_right(starts, label) for label in labels]


def _per(values: list[int], robots: list[int]) -> list[float]:
    return [round(v / n, 2) if n > 0 else 0.0 for v, n in zip(values, robots)]


def _sums(reads: ReadStore, customers: list[str], days: list[tuple[int, int, int, int]]) -> dict:
    """``{customer: {metric: {label: total}}}`` of ``days`` (one zone's) from ``customer_hour``."""
    out: dict[str, dict[str, dict[int, int]]] = {}
    for cust, metric, label, total in reads.customer_hour_days(customers, [d[:3] for d in days], USAGE_VOLUMES):
        out.setdefault(cust, {m: {} for m in USAGE_VOLUMES})[metric][label] = total
    return out


def fleet_usage(reads: ReadStore, now_ms: int, default_zone: str, days: int = DAYS) -> dict:
    """Every customer's local daily totals and robots in service (by day label, its own last
    ``days + 1`` local days: one more, for a day that starts before the next refresh), its zone and
    scene, and each scene's totals and robots in service by label."""
    scene_of = reads.customer_scenes()
    robots = reads.robot_counts()
    data_start = reads.data_start_ms()
    zones = reads.customer_zones()
    zone_of = {c: zone_for(zones.get(c), default_zone) for c in scene_of}
    by_zone: dict[str, list[str]] = {}
    for cust, zone in zone_of.items():
        by_zone.setdefault(zone, []).append(cust)
    starts: dict[str, list[dict]] = {}
    for r in reads.robot_starts():
        starts.setdefault(r["customer"], []).append(r)
    cal = {zone: calendar(zone, now_ms, days + 1) for zone in by_zone}
    customers: dict[str, dict[str, dict[int, int]]] = {}
    per_day: dict[str, dict[int, int]] = {}
    for zone, members in by_zone.items():
        customers.update(_sums(reads, members, cal[zone]))
        labels = [d[0] for d in cal[zone]]
        for cust in members:
            per_day[cust] = dict(zip(labels, robots_per_day(starts.get(cust, []), labels, cal[zone][-1][3],
                                                            data_start)))
    scenes: dict[str, dict] = {}
    for cust, scene in scene_of.items():
        entry = scenes.setdefault(scene, {"customers": 0, "robots": 0, "robots_per_day": {},
                                          "totals": {m: {} for m in USAGE_VOLUMES}})
        entry["customers"] += 1
        entry["robots"] += robots.get(cust, 0)
        for label, n in per_day.get(cust, {}).items():
            entry["robots_per_day"][label] = entry["robots_per_day"].get(label, 0) + n
        for m, values in customers.get(cust, {}).items():
            for label, total in values.items():
                entry["totals"][m][label] = entry["totals"][m].get(label, 0) + total
    return {"built": time.monotonic_ns(), "built_ms": now_ms, "days": days, "scene_of": scene_of,
            "robots": robots, "zone_of": zone_of, "labels": {z: {d[0] for d in c} for z, c in cal.items()},
            "customers": customers, "robots_per_day": per_day, "data_start": data_start,
            "scenes": scenes, "peer_series": {}}


def customer_usage(reads: ReadStore, customer: str, scene: str, now_ms: int, fleet: dict,
                   zone: str | None, default_zone: str) -> dict:
    """The customer's chart: its own local days (``zone``, else ``default_zone``) against its peers."""
    days = fleet["days"]
    zone = zone_for(zone, default_zone)
    cal = calendar(zone, now_ms, days)
    labels = [d[0] for d in cal]
    robots = reads.robot_count(customer)
    known = fleet["scene_of"].get(customer) == scene and fleet["zone_of"].get(customer) == zone
    empty: dict[str, dict[int, int]] = {m: {} for m in USAGE_VOLUMES}
    snap_own = fleet["customers"].get(customer, empty) if known else empty
    in_snap = fleet["labels"].get(zone, set()) if known else set()
    # days the snapshot holds complete come from it; the others (today, ...) are read fresh
    fresh_days = [d for d in cal if d[0] not in in_snap or d[2] > fleet["built_ms"]]
    fresh = _sums(reads, [customer], fresh_days).get(customer, empty)
    fresh_labels = {d[0] for d in fresh_days}
    own = {m: [(fresh if label in fresh_labels else snap_own)[m].get(label, 0) for label in labels]
           for m in USAGE_VOLUMES}
    group = fleet["scenes"].get(scene, {"customers": 0, "robots": 0, "robots_per_day": {}, "totals": empty})
    peer_robots = group["robots"] - (fleet["robots"].get(customer, 0) if known else 0)
    peer_customers = group["customers"] - (1 if known else 0)
    # robots in service per day: the customer's own read fresh, its peers' from the snapshot
    mine = robots_per_day(reads.robot_starts(customer), labels, cal[-1][3], fleet["data_start"])
    snap_mine = fleet["robots_per_day"].get(customer, {}) if known else {}
    peer_days = [group["robots_per_day"].get(label, 0) - snap_mine.get(label, 0) for label in labels]

    def peers(metric: str) -> list[float]:
        return _per([group["totals"][metric].get(label, 0) - snap_own[metric].get(label, 0) for label in labels],
                    peer_days)

    # the peers' series only depend on the snapshot and the days: work them out once per snapshot
    memo_key = (customer, scene, known, labels[0])
    peer_series = fleet["peer_series"].get(memo_key)
    if peer_series is None:
        peer_series = fleet["peer_series"][memo_key] = {m: peers(m) for m in USAGE_VOLUMES}

    return {
        "days": labels, "day_starts_ms": [d[1] for d in cal], "timezone": zone,
        "robots": robots, "peer_customers": peer_customers, "peer_robots": max(0, peer_robots),
        "robots_per_day": mine, "peer_robots_per_day": [max(0, n) for n in peer_days],
        "volumes": {m: {"total": own[m], "per_robot": _per(own[m], mine),
                        "peers_per_robot": peer_series[m]} for m in USAGE_VOLUMES},
    }
