"""The monthly value report's figures (the JSON of ``GET /api/v1/customers/{id}/reports/{YYYY-MM}``),
computed from one ``ReadStore.report_inputs`` snapshot, a clock and ``[health]``.

The outcome first (volumes and skills of the local month), then the month against the month before
and against the scene's peers, the funnel, availability and anomalies, what was fixed, goals, the
benchmark, and the risks and next steps (``rules.py``).  Every usage total is a sum of the
customer's hourly rollup over the hours starting inside the local month, the same counters the
robots' ``/counters`` route sums (tested: tests/integration/test_report_figures.py).
"""

from __future__ import annotations

from collector.report import reliability, rules
from collector.report.period import Month
from protocol.catalogue import USAGE_VOLUMES

SCHEMA = "robopulse.report.v1"
#: the skills the report names (DOMAIN.md, the catalogue's), in this order, used or not
SKILLS = ("skill.guide", "skill.sign_in", "skill.delivery", "skill.lead_way", "skill.speech", "skill.qa")


def _pct(now: float, before: float) -> float | None:
    return None if not before else round((now - before) * 100.0 / before, 1)


def _ratio(a: float, b: float, digits: int = 1) -> float | None:
    return None if not b else round(a * 100.0 / b, digits)


def robot_days(robots: list[dict], days: list[tuple[str, int, int]], through_ms: int) -> float:
    """Robot-days in service: for each robot with data, the month's days (up to ``through_ms``)
    ending after its first data."""
    total = 0
    for r in robots:
        if r.get("last_window_ms") is None or r.get("first_seen_ms") is None:
            continue
        total += sum(1 for _, start, end in days if start < through_ms and end > r["first_seen_ms"])
    return total


def _sums(hours, lo: int, hi: int) -> dict[str, int]:
    out: dict[str, int] = {}
    for bucket, metric, total in hours:
        if lo <= bucket < hi:
            out[metric] = out.get(metric, 0) + int(total)
    return out


def _per_robot_day(volumes: dict[str, int], rdays: float) -> dict[str, float | None]:
    return {m: (round(volumes.get(m, 0) / rdays, 1) if rdays else None) for m in USAGE_VOLUMES}


def _peers(peers: list[dict], own_per_robot: dict, days, through_ms: int) -> dict:
    """The scene's other customers with data in the month: their volumes per robot-day, the
    customer's figure as a percent of theirs, and its percentile among them (ties count half)."""
    active = [p for p in peers if any(p["totals"].values())]
    totals = {m: sum(p["totals"].get(m, 0) for p in active) for m in USAGE_VOLUMES}
    rdays = sum(robot_days(p["robots"], days, through_ms) for p in active)
    per = _per_robot_day(totals, rdays)
    mine = own_per_robot.get("usage.interactions")
    values = []
    for p in active:
        d = robot_days(p["robots"], days, through_ms)
        if d:
            values.append(p["totals"].get("usage.interactions", 0) / d)
    percentile = None
    if values and mine is not None:
        below = sum(1 for v in values if v < mine) + 0.5 * sum(1 for v in values if v == mine)
        percentile = round(below * 100.0 / len(values), 1)
    return {"customers": len(active), "robot_days": rdays, "per_robot_day": per,
            "ratio_pct": {m: (_ratio(own_per_robot[m], per[m]) if own_per_robot[m] is not None and per[m] else None)
                          for m in USAGE_VOLUMES},
            "percentile": percentile}


def _daily(hours, days, robots: list[dict], through_ms: int) -> dict:
    out = {"days": [], "interactions": [], "foot_traffic": [], "robots": []}
    for label, start, end in days:
        if start >= through_ms:
            break
        s = _sums(hours, start, end)
        out["days"].append(label)
        out["interactions"].append(s.get("usage.interactions", 0))
        out["foot_traffic"].append(s.get("usage.foot_traffic", 0))
        out["robots"].append(sum(1 for r in robots if r.get("last_window_ms") is not None
                                 and r.get("first_seen_ms") is not None and r["first_seen_ms"] < end))
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
    rdays = robot_days(robots, days, through)
    prev_rdays = robot_days(robots, prev_days, month.from_ms)
    volumes = {m: sums.get(m, 0) for m in USAGE_VOLUMES}
    skills = {m: sums.get(m, 0) for m in SKILLS}
    per_robot = _per_robot_day(volumes, rdays)
    prev_volumes = {m: prev_sums.get(m, 0) for m in USAGE_VOLUMES}
    prev_per_robot = _per_robot_day(prev_volumes, prev_rdays)
    first = inputs["first_data_ms"]
    reporting = sum(1 for r in robots if inputs["robot_hours"].get(r["id"]))
    has_data = bool(any(sums.values()) or reporting)
    is_open, source, text = reliability.opening(c, month_hours, month.zone, settings.learn_hours_share)
    funnel_steps = []
    for i, m in enumerate(USAGE_VOLUMES):
        funnel_steps.append({"metric": m, "total": volumes[m],
                             "of_previous_pct": _ratio(volumes[m], volumes[USAGE_VOLUMES[i - 1]]) if i else None})
    daily = _daily(hours, days, robots, through)
    threshold = float(settings.benchmark_interactions)
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
        "robots": {"in_service": sum(1 for r in robots if r.get("last_window_ms") is not None
                                     and r.get("first_seen_ms") is not None and r["first_seen_ms"] < through),
                   "reporting": reporting},
        "robot_days": rdays,
        "outcome": {"volumes": volumes, "skills": skills, "per_robot_day": per_robot},
        "previous": {"month": prev.label, "has_data": bool(first is not None and first < month.from_ms
                                                              and (any(prev_sums.values()) or prev_rdays)),
                     "volumes": prev_volumes, "per_robot_day": prev_per_robot,
                     "change_pct": {m: _pct(volumes[m], prev_volumes[m]) for m in USAGE_VOLUMES},
                     "per_robot_day_change_pct": {m: (_pct(per_robot[m], prev_per_robot[m])
                                                      if per_robot[m] is not None and prev_per_robot[m] else None)
                                                  for m in USAGE_VOLUMES}},
        "peers": {"scene": c.get("scene") or "", **_peers(inputs["peers"], per_robot, days, through)},
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
                      "days_met": sum(1 for n, r in zip(daily["interactions"], daily["robots"]) if r and n / r >= threshold),
                      "days": len(daily["days"])},
    }
    report["risks"] = rules.risks(report) if has_data else []
    report["next_steps"] = rules.next_steps(report) if has_data else []
    return report
