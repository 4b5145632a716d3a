"""One customer's report for one local month, from the store: read, check, compute.

Why one function: the API, the dashboard's page and the CLI must refuse the same months and show
the same figures.  ``report`` raises ``period.ReportError`` (400 / 404) with a sentence naming the
month; a month with no data gives a report that says so (``has_data`` false), not one of zeros."""

from __future__ import annotations

import datetime as dt

from collector.health import goals as goal_health
from collector.report import figures
from collector.report.period import Month, ReportError, check_month, parse_month
from collector.store.seam import ReadStore
from protocol.timeunits import utc_offset_ms


#: what the report keeps of a judged goal (its day-by-day series stays on the goals route)
GOAL_FIELDS = ("id", "metric", "unit", "target", "start", "due", "note", "progress", "progress_pct", "projection",
               "status", "reason", "days_elapsed", "days_total")


def goals_of(reads: ReadStore, customer: str, month: Month, now_ms: int, active_floor: int) -> dict:
    """The customer's goals started by the month's end, judged as they stood then (the code the
    goals route and the ``goal_at_risk`` rule use, on the complete local days up to the month's
    last, or up to yesterday for the month in progress); ``active_floor``: ``[health]
    active_day_interactions``, as the route passes it."""
    at = min(now_ms, month.to_ms)
    off = utc_offset_ms(month.zone, at - 1)
    today = goal_health.today_of(at, off)
    ctx = reads.goal_customer(customer) or {}
    hours = goal_health.open_hours(ctx.get("hours"), None, ctx.get("venue_hours"))
    last_day = (today - dt.timedelta(days=1)).isoformat()
    items = []
    for goal in reads.list_goals(customer):
        if goal["start"] > last_day:
            continue
        series = reads.goal_series(customer, goal["metric"], goal_health.first_ms(goal["start"], off),
                                   goal_health.complete_days(goal, today),
                                   hours if goal["metric"] == "availability" else None, active_floor)
        judged = goal_health.judge(goal, series, today)
        items.append({k: judged.get(k) for k in GOAL_FIELDS})
    return {"as_of": last_day, "items": items}


def report(reads: ReadStore, customer: str, month_text: str, now_ms: int, health) -> dict:
    """The report's figures (see figures.build); ``health``: the ``[health]`` settings (its
    thresholds, benchmark and default time zone)."""
    row, first = reads.report_customer(customer)
    if row is None:
        raise ReportError(404, f"no customer {customer}")
    zone = row.get("timezone") or health.timezone
    month = parse_month(month_text, zone)
    check_month(month, now_ms, first, customer)
    # a month in progress: per-robot-day figures over its complete local days, the peers' too (health's)
    cut = figures.complete_until(month, now_ms)
    inputs = reads.report_inputs(customer, month.from_ms, month.to_ms, month.previous().from_ms, cut)
    goals = goals_of(reads, customer, month, now_ms, int(health.active_day_interactions))
    return figures.build(inputs, month, now_ms, health, goals)
