"""The usage funnel of seed 002: foot traffic -> solicitations -> wake-ups -> interactions, with the
conversion at each step, over a period of the customer's local days.

Why: a customer whose robots see many people but talk to few is losing value it already paid for;
the funnel shows at which step (nobody called over, nobody wakes the robot, nobody goes on to an
interaction), and ``low_conversion`` (collector/alerts/rules.py) compares its overall conversion
with the median of its scene's customers.  Scenes differ (DOMAIN.md), so a funnel is only ever
compared within a scene.

The volumes are the summed counters of the customer's robots (``customer_hour``/``customer_day``,
read by the store's ``usage_volumes``); here they become rates.  A rate is a percent, ``None`` when
its denominator is 0 (no foot traffic: no conversion, not 0 %).  A step may pass 100 % (people wake
a robot that never called them over): it is reported as counted, not capped.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable

from protocol.catalogue import USAGE_VOLUMES
from protocol.timeunits import DAY_MS, local_day, utc_offset_ms

#: the four stages in funnel order, named as in the catalogue without ``usage.``
STAGES = tuple(m.split(".", 1)[1] for m in USAGE_VOLUMES)
#: the default period: this many complete local days, ending yesterday (local)
DAYS = 30


def pct(part: float, whole: float) -> float | None:
    return None if whole <= 0 else round(100.0 * part / whole, 2)


def label(day: str) -> int:
    """``YYYY-MM-DD`` -> its label (the date at 00:00 UTC, ms), as ``protocol.timeunits.local_day``."""
    d = dt.date.fromisoformat(day)
    return int(dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC).timestamp()) * 1000


def date_of(day_label: int) -> str:
    return dt.datetime.fromtimestamp(day_label / 1000, dt.UTC).date().isoformat()


def default_period(now_ms: int, zone: str, days: int = DAYS) -> tuple[str, str]:
    """The last ``days`` complete local days in ``zone`` (today excluded: its figures still grow)."""
    last = local_day(now_ms, utc_offset_ms(zone, now_ms)) - DAY_MS
    return date_of(last - (days - 1) * DAY_MS), date_of(last)


def span(first: str, last: str, zone: str) -> tuple[int, int]:
    """Local dates ``first``..``last`` (inclusive) in ``zone`` -> ``[start, end)`` in UTC ms: from
    the first day's local midnight to the midnight after the last, each with the offset of its own
    instant (a daylight-saving change inside the period moves the end, not the start)."""
    lo, hi = label(first), label(last) + DAY_MS
    return lo - utc_offset_ms(zone, lo), hi - utc_offset_ms(zone, hi)


def build(totals: dict[str, int], first: str, last: str, robots: int) -> dict:
    """The funnel of one customer (or a scene: its customers' totals summed) from its volumes."""
    vols = {s: int(totals.get(f"usage.{s}", 0)) for s in STAGES}
    days = (label(last) - label(first)) // DAY_MS + 1
    stages = [{"stage": STAGES[0], "volume": vols[STAGES[0]], "rate": None}]
    for before, after in zip(STAGES, STAGES[1:]):
        stages.append({"stage": after, "volume": vols[after], "rate": pct(vols[after], vols[before])})
    return {"from": first, "to": last, "days": days, "volumes": vols, "stages": stages,
            "conversion": pct(vols["interactions"], vols["foot_traffic"]),
            "robots": robots, "robot_days": robots * days,
            "foot_traffic_per_robot_day": round(vols["foot_traffic"] / (robots * days), 1) if robots else None}


def scene_funnels(funnels: Iterable[tuple[str, dict]], first: str, last: str) -> dict[str, dict]:
    """``(scene, customer funnel)`` pairs -> per scene: the summed funnel, its customers, and the
    median of the conversions of its customers that had foot traffic (``median_conversion``)."""
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    robots: dict[str, int] = defaultdict(int)
    conversions: dict[str, list[float]] = defaultdict(list)
    members: dict[str, int] = defaultdict(int)
    for scene, f in funnels:
        members[scene] += 1
        robots[scene] += f["robots"]
        for s, v in f["volumes"].items():
            totals[scene][f"usage.{s}"] += v
        if f["conversion"] is not None:
            conversions[scene].append(f["conversion"])
    out = {}
    for scene in sorted(members):
        out[scene] = {**build(totals[scene], first, last, robots[scene]), "scene": scene,
                      "customers": members[scene],
                      "median_conversion": round(statistics.median(conversions[scene]), 2)
                      if conversions[scene] else None}
    return out


def attach(health, customers: dict[str, dict], now_ms: int, days: int = DAYS) -> None:
    """Put each customer's funnel over its last ``days`` complete local days into its facts
    (``facts.funnel``), with the median conversion of the other customers of its scene that had foot
    traffic (``facts.funnel.scene``): what ``low_conversion`` judges and the customer page shows."""
    periods, spans = {}, {}
    for cid, c in customers.items():
        zone = c.get("timezone") or "UTC"  # the cycle gives every customer a zone it knows
        periods[cid] = first, last = default_period(now_ms, zone, days)
        spans[cid] = span(first, last, zone)
    totals = health.usage_volumes(spans) if spans else {}
    for cid, c in customers.items():
        first, last = periods[cid]
        c["facts"]["funnel"] = build(totals.get(cid, {}), first, last, c["robots"]["total"])
    by_scene: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for cid, c in customers.items():
        if c["facts"]["funnel"]["conversion"] is not None:
            by_scene[c["scene"]].append((cid, c["facts"]["funnel"]["conversion"]))
    for cid, c in customers.items():
        others = [v for other, v in by_scene.get(c["scene"], []) if other != cid]
        c["facts"]["funnel"]["scene"] = {"scene": c["scene"], "peers": len(others),
                                         "median_conversion": round(statistics.median(others), 2) if others else None}
