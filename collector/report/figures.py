"""The monthly value report's figures (the JSON of ``GET /api/v1/customers/{id}/reports/{YYYY-MM}``),
computed from one ``ReadStore.report_inputs`` snapshot, a clock and ``[health]``.

The outcome first (volumes and skills of the local month), then the month against the month before
and against the scene's peers, the funnel, availability and anomalies, what was fixed, goals, the
benchmark, and the risks and next steps (``rules.py``).  Every usage total is a sum of the
customer's hourly rollup over the hours starting inside the local month, the same counters the
robots' ``/counters`` route sums (tested: tests/integration/test_report_figures.py).
"""

from __future__ import annotations

import statistics
from bisect import bisect_right

from collector.health import peers as scene_peers
from collector.health import service as health_service
from collector.report import reliability, rules
from collector.report.period import Month
from protocol.catalogue import USAGE_VOLUMES
from protocol.timeunits import DAY_MS, utc_offset_ms

SCHEMA = "robopulse.report.v1"
#: the skills the report names (DOMAIN.md, the catalogue's), in this order, used or not
SKILLS = ("skill.guide", "skill.sign_in", "skill.delivery", "skill.lead_way", "skill.speech", "skill.qa")
#: health's sign of life of a day: any interaction or passer-by counted (robots count them while on)
LIFE = ("usage.interactions", "usage.foot_traffic")


def _pct(now: float, before: float) -> float | None:
    return None if not before else round((now - before) * 100.0 / before, 1)


def _ratio(a: float, b: float, digits: int = 1) -> float | None:
    return None if not b else round(a * 100.0 / b, digits)


def service(robots: list[dict], days: list[tuple[str, int, int]], through_ms: int, zone: str,
            data_start_ms: int | None, alive: list[bool] | None = None, hours_known: bool = False) -> dict:
    """Robot-days in service over the month's local days (up to ``through_ms``), counted as health
    counts them (``collector/health/service.py``): each robot from the earlier of its handover
    (``activated``) and its first day seen, never before the collector's first data; when the
    venue's hours are known (imported or learned), the venue's weekly closing days (a weekday with
    no sign of life, ``alive``, on every one of its occurrences in service while other days had
    some) are not robot-days.  Returns ``robot_days``, ``per_day`` (robots scheduled on each day,
    0 on a closing day), ``in_service`` (robots in service by the last day) and
    ``closed_weekdays`` (0 = Monday)."""
    counted = [d for d in days if d[1] < through_ms]
    if not counted:
        return {"robot_days": 0, "per_day": [], "in_service": 0, "closed_weekdays": []}
    off = utc_offset_ms(zone, counted[0][1])
    starts = [s for s in (health_service.start_day(r, off, data_start_ms) for r in robots) if s is not None]
    labels = [health_service.date_label(label) for label, _, _ in counted]
    counts = [sum(1 for s in starts if s <= day) for day in labels]
    closed: set[int] = set()
    complete = [i for i, d in enumerate(counted) if d[2] <= through_ms]
    if hours_known and alive is not None and complete:
        last = complete[-1]
        back = list(range(last, -1, -1))  # index 0: the last complete day, as health's "yesterday"
        closed = health_service.closing_weekdays([alive[i] for i in back], [counts[i] for i in back],
                                                 labels[last] + DAY_MS)
    per_day = [0 if health_service.weekday(day) in closed else n for day, n in zip(labels, counts)]
    return {"robot_days": sum(per_day), "per_day": per_day, "in_service": counts[-1],
            "closed_weekdays": sorted(closed)}


def complete_until(month: Month, now_ms: int) -> int:
    """Where the month's complete local days end: the month's end, or today's local midnight for a
    month in progress (health reads complete days only: a day half over is not half a day of use)."""
    if now_ms >= month.to_ms:
        return month.to_ms
    return max([start for _, start, _ in month.days() if start <= now_ms], default=month.from_ms)


def alive_days(rows, days, through_ms: int) -> list[bool]:
    """Per local day (up to ``through_ms``): any interaction or foot traffic, health's sign of life;
    ``rows``: ``(bucket, metric, total)``."""
    counted = [d for d in days if d[1] < through_ms]
    starts = [start for _, start, _ in counted]
    out = [False] * len(counted)
    for b, m, t in rows:
        i = bisect_right(starts, b) - 1
        if t > 0 and m in LIFE and i >= 0 and b < counted[i][2]:
            out[i] = True
    return out


def _sums(hours, lo: int, hi: int) -> dict[str, int]:
    out: dict[str, int] = {}
    for bucket, metric, total in hours:
        if lo <= bucket < hi:
            out[metric] = out.get(metric, 0) + int(total)
    return out


def _per_robot_day(volumes: dict[str, int], rdays: float) -> dict[str, float | None]:
    return {m: (round(volumes.get(m, 0) / rdays, 1) if rdays else None) for m in USAGE_VOLUMES}


def measure_total(sums: dict[str, int], measure: scene_peers.Measure) -> int:
    return sum(int(sums.get(m, 0)) for m in measure.metrics)


def _peers(peers: list[dict], own_per_robot: dict, own_measure: float | None, measure: scene_peers.Measure,
           days, through_ms: int, zone: str, data_start_ms: int | None, settings) -> dict:
    """The scene's other customers with at least one robot-day in service in the month (health's
    peers: a customer with none has no figure yet), used or not: their volumes per robot-day
    (pooled), the customer's figure as a percent of theirs, and on the scene's primary measure
    their median, the customer's ratio to it and its percentile among them (ties count half),
    only from ``health.percentile_min_peers`` of them (fewer: ``null``, as health)."""
    active = []
    for p in peers:
        rows = [(b, "usage.interactions", i) for b, i, _ in p.get("alive", ())]
        _, source, _ = reliability.opening(p, rows, zone, settings.learn_hours_share)
        alive = alive_days([(b, "usage.foot_traffic", v) for b, _, v in p.get("alive", ())], days, through_ms)
        d = service(p["robots"], days, through_ms, zone, data_start_ms, alive, source != "none")["robot_days"]
        if d:
            active.append((p, d))
    totals = {m: sum(p["totals"].get(m, 0) for p, _ in active) for m in USAGE_VOLUMES}
    rdays = sum(d for _, d in active)
    per = _per_robot_day(totals, rdays)
    values = [measure_total(p["totals"], measure) / d for p, d in active]
    ranked = len(values) >= int(settings.percentile_min_peers)
    percentile = None
    if ranked and values and own_measure is not None:
        below = sum(1 for v in values if v < own_measure) + 0.5 * sum(1 for v in values if v == own_measure)
        percentile = round(below * 100.0 / len(values), 1)
    pooled = round(sum(measure_total(p["totals"], measure) for p, _ in active) / rdays, 1) if rdays else None
    # health's low_conversion: the peers with enough foot traffic per robot-day, their median conversion
    conversions = [p["totals"].get("usage.interactions", 0) * 100.0 / p["totals"]["usage.foot_traffic"]
                   for p, d in active if p["totals"].get("usage.foot_traffic", 0) / d >= rules.CONVERSION_MIN_VOLUME]
    median = round(statistics.median(values), 1) if values else None
    return {"customers": len(active), "robot_days": rdays, "per_robot_day": per,
            "ratio_pct": {m: (_ratio(own_per_robot[m], per[m]) if own_per_robot[m] is not None and per[m] else None)
                          for m in USAGE_VOLUMES},
            "percentile": percentile, "percentile_min_peers": int(settings.percentile_min_peers),
            "conversion": {"peers": len(conversions),
                           "median_pct": round(statistics.median(conversions), 1) if conversions else None},
            "measure": {"per_robot_day": pooled, "median": median,
                        "ratio_pct": _ratio(own_measure, pooled) if own_measure is not None and pooled else None,
                        "median_ratio_pct": _ratio(own_measure, median) if own_measure is not None and median else None}}


def _daily(hours, days, per_day: list[int], through_ms: int) -> dict:
    out = {"days": [], "interactions": [], "foot_traffic": [], "robots": []}
    for (label, start, end), robots in zip(days, per_day):
        if start >= through_ms:
            break
        s = _sums(hours, start, end)
        out["days"].append(label)
        out["interactions"].append(s.get("usage.interactions", 0))
        out["foot_traffic"].append(s.get("usage.foot_traffic", 0))
        out["robots"].append(robots)
    return out


def build(inputs: dict, month: Month, now_ms: int, settings, goals: dict) -> dict:
    """The report of ``month`` from ``inputs`` (``ReadStore.report_inputs`` of it, the month before
    included).  ``goals``: ``{"as_of", "items"}`` as ``build.goals_of`` judged them."""
    c = inputs["customer"]
    prev = month.previous()
    days, prev_days = month.days(), prev.days()
    through = min(now_ms, month.to_ms)
    hours = [(int(b), m, int(t)) for b, m, t in inputs["hours"]]
    month_hours = [h for h in hours if month.from_ms <= h[0] < month.to_ms]
    sums = _sums(hours, month.from_ms, month.to_ms)
    prev_sums = _sums(hours, prev.from_ms, month.from_ms)
    robots = inputs["robots"]
    data_start = inputs.get("data_start_ms")
    is_open, source, text = reliability.opening(c, month_hours, month.zone, settings.learn_hours_share)
    known = source != "none"
    prev_hours = [h for h in hours if prev.from_ms <= h[0] < month.from_ms]
    now_service = service(robots, days, through, month.zone, data_start, alive_days(month_hours, days, through), known)
    prev_known = known or reliability.opening(c, prev_hours, month.zone, settings.learn_hours_share)[1] != "none"
    prev_service = service(robots, prev_days, month.from_ms, month.zone, data_start,
                           alive_days(prev_hours, prev_days, month.from_ms), prev_known)
    cut = complete_until(month, now_ms)
    rated = service(robots, days, cut, month.zone, data_start, alive_days(month_hours, days, cut), known)
    rdays, prev_rdays = rated["robot_days"], prev_service["robot_days"]
    rate_sums = _sums(hours, month.from_ms, cut)  # per robot-day: the complete days' usage
    measure = scene_peers.measure_of(c.get("scene") or "", scene_peers.table(settings.scene_measures))
    volumes = {m: sums.get(m, 0) for m in USAGE_VOLUMES}
    skills = {m: sums.get(m, 0) for m in SKILLS}
    per_robot = _per_robot_day({m: rate_sums.get(m, 0) for m in USAGE_VOLUMES}, rdays)
    prev_volumes = {m: prev_sums.get(m, 0) for m in USAGE_VOLUMES}
    prev_per_robot = _per_robot_day(prev_volumes, prev_rdays)
    first = inputs["first_data_ms"]
    reporting = sum(1 for r in robots if inputs["robot_hours"].get(r["id"]))
    has_data = bool(any(sums.values()) or reporting)
    funnel_steps = []
    for i, m in enumerate(USAGE_VOLUMES):
        funnel_steps.append({"metric": m, "total": volumes[m],
                             "of_previous_pct": _ratio(volumes[m], volumes[USAGE_VOLUMES[i - 1]]) if i else None})
    daily = _daily(hours, days, now_service["per_day"], through)
    threshold = float(settings.benchmark_interactions)
    whole = sum(1 for _, start, _ in days if start < cut)  # complete days: the day in progress is not judged
    own, before = measure_total(sums, measure), measure_total(prev_sums, measure)
    own_per = round(measure_total(rate_sums, measure) / rdays, 1) if rdays else None
    before_per = round(before / prev_rdays, 1) if prev_rdays else None
    measure_figures = {
        "scene": measure.scene, "metrics": list(measure.metrics),
        "is_interactions": measure.metrics == ("usage.interactions",),
        "benchmark": measure.benchmark if measure.benchmark is not None else threshold,
        "total": own, "per_robot_day": own_per, "previous_per_robot_day": before_per,
        "per_robot_day_change_pct": _pct(own_per, before_per) if own_per is not None and before_per else None}
    bench_value = per_robot["usage.interactions"]
    report = {
        "schema": SCHEMA,
        "customer": {k: c.get(k) for k in ("id", "name", "scene", "tier", "csm", "contract_start", "contract_end",
                                           "arr", "hours")}
                    | {"timezone": month.zone, "language": c.get("language") or "zh"},
        "month": month.label, "previous_month": prev.label,
        "period": {"from_ms": month.from_ms, "to_ms": month.to_ms, "through_ms": through,
                   "first_day": days[0][0], "last_day": days[-1][0], "days": len(days),
                   "days_elapsed": len(daily["days"]), "complete": now_ms >= month.to_ms},
        "generated_ms": now_ms,
        "has_data": has_data,
        "robots": {"in_service": now_service["in_service"], "reporting": reporting},
        "robot_days": rdays, "complete_until_ms": cut,
        "closed_weekdays": now_service["closed_weekdays"],
        "measure": measure_figures,
        "outcome": {"volumes": volumes, "skills": skills, "per_robot_day": per_robot},
        "previous": {"month": prev.label, "has_data": bool(first is not None and first < month.from_ms
                                                              and (any(prev_sums.values()) or prev_rdays)),
                     "volumes": prev_volumes, "per_robot_day": prev_per_robot,
                     "change_pct": {m: _pct(volumes[m], prev_volumes[m]) for m in USAGE_VOLUMES},
                     "per_robot_day_change_pct": {m: (_pct(per_robot[m], prev_per_robot[m])
                                                      if per_robot[m] is not None and prev_per_robot[m] else None)
                                                  for m in USAGE_VOLUMES}},
        "peers": {"scene": c.get("scene") or "", **_peers(inputs["peers"], per_robot, measure_figures["per_robot_day"],
                                                          measure, days, cut, month.zone, data_start, settings)},
        "daily": daily,
        "funnel": {"steps": funnel_steps,
                   "conversion_pct": _ratio(volumes["usage.interactions"], volumes["usage.foot_traffic"])},
        "availability": {"source": source, "hours": text,
                         **reliability.availability(robots, inputs["robot_hours"], is_open, month.from_ms, through)},
        "anomalies": reliability.anomalies(robots, inputs["robot_counters"], inputs["robot_hours"], settings),
        "alerts": reliability.fixed(inputs["alerts"], month.from_ms, month.to_ms),
        "goals": goals,
        "benchmark": {"threshold": threshold, "interactions_per_robot_day": bench_value,
                      "progress_pct": round(bench_value * 100.0 / threshold, 1) if bench_value is not None else None,
                      "met": bench_value is not None and bench_value >= threshold,
                      "days_met": sum(1 for n, r in zip(daily["interactions"][:whole], daily["robots"][:whole])
                                      if r and n / r >= threshold),
                      "days": sum(1 for r in daily["robots"][:whole] if r)},
    }
    report["risks"] = rules.risks(report) if has_data else []
    report["next_steps"] = rules.next_steps(report) if has_data else []
    return report
