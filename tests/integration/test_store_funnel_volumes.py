"""The store's funnel volumes (collector/store/sqlite/funnel.py): the bucket path (whole UTC days
from customer_day, edge hours from customer_hour, kept per bucket while its revision holds), the
one-customer path (hours through the covering index) and the test's own sum of the windows agree,
for whole-hour and half-hour zones; a late window for a past hour is seen at once, and only the
buckets it touched are read again."""

from __future__ import annotations

import random

from collector.health import funnel
from collector.store.sqlite import funnel as volumes_sql
from collector.store.sqlite import seed
from tests.plugins.health import DAY, HOUR, T

ZONES = {"bj": "Asia/Shanghai", "in": "Asia/Kolkata", "ny": "America/New_York", "utc": "UTC"}
NOW = T + 4 * HOUR
METRICS = ("usage.foot_traffic", "usage.solicitations", "usage.wakeups", "usage.interactions")


def build(store) -> list[tuple[str, int, dict]]:
    rng = random.Random(3)
    kept, windows = [], []
    for cid, zone in ZONES.items():
        seed.add_customer(store, cid, "museum", timezone=zone, now_ms=T)
        seed.add_robot(store, f"{cid}-r0", cid, first_seen_ms=T - 40 * DAY, now_ms=NOW)
        for h in range(40 * 24):
            t0 = T - 40 * DAY + h * HOUR + rng.randint(0, 59) * 60_000
            counts = {m: rng.randint(0, 30) for m in METRICS}
            windows.append((f"{cid}-r0", t0, t0 + 30_000, counts))
            kept.append((cid, t0, counts))
    seed.write_windows(store, windows)
    return kept


def own_sum(kept, cid: str, start: int, end: int) -> dict[str, int]:
    """Windows by the hour bucket holding their start, as the rollups file them."""
    out = dict.fromkeys(METRICS, 0)
    for c, t0, counts in kept:
        if c == cid and start <= t0 - t0 % HOUR < end:
            for m in METRICS:
                out[m] += counts[m]
    return out


def spans() -> dict[str, tuple[int, int]]:
    return {cid: funnel.span(*funnel.default_period(NOW, zone), zone) for cid, zone in ZONES.items()}


def test_store_funnel_volumes_paths_agree_with_the_windows(store):
    kept = build(store)
    cache = volumes_sql.VolumeCache()
    every = volumes_sql.volumes(store, spans(), cache)
    for cid, span in spans().items():
        alone = volumes_sql.volumes(store, {cid: span})  # the customer page's path
        assert every[cid] == alone[cid] == own_sum(kept, cid, *span), cid
    # Kolkata's days start at 18:30 UTC: its first bucket is the 19:00 one, its last the 18:00 one
    start, end = spans()["in"]
    assert start % HOUR == 30 * 60_000 and ("customer_hour", start + 30 * 60_000) in volumes_sql.buckets(start, end)


def test_store_funnel_volumes_cache_rereads_only_changed_buckets(store):
    kept = build(store)
    cache = volumes_sql.VolumeCache()
    first = volumes_sql.volumes(store, spans(), cache)
    reads = cache.reads
    assert volumes_sql.volumes(store, spans(), cache) == first and cache.reads == reads  # nothing read again
    late = T - 10 * DAY + 5 * HOUR  # an agent uploading its backlog: a window of ten days ago
    seed.write_windows(store, [("bj-r0", late, late + 1000, {"usage.interactions": 1000})])
    kept.append(("bj", late, {**dict.fromkeys(METRICS, 0), "usage.interactions": 1000}))
    again = volumes_sql.volumes(store, spans(), cache)
    assert again["bj"]["usage.interactions"] == first["bj"]["usage.interactions"] + 1000
    assert all(again[cid] == own_sum(kept, cid, *span) for cid, span in spans().items())
    assert cache.reads == reads + 1  # the day bucket the window went to (inside every span here)
