"""Success goals judged from the data (issue 14): each goal's progress per local day, its level now,
a projection to its due date and its status.  Plain functions over the daily sums the store reads
(``goal_series``: a numerator and a denominator per local day), so the health cycle (which feeds the
``goal_at_risk`` rule) and the API (which answers ``GET /api/v1/customers/{id}/goals``) judge a goal
the same way.

The rules (docs/api.md, "Success goals"):
- only complete local days of the customer count (today is never judged half-way);
- ``progress`` is the metric over the last ``WINDOW_DAYS`` complete days inside the goal (fewer at
  its start): the level the customer is at now, as a ratio of sums (interactions / robot-days);
- ``projection`` is that level carried to the due date along the trend of the daily values (least
  squares over the last ``TREND_DAYS`` days), at most ``HORIZON_DAYS`` ahead, never below 0 (nor
  above 100 for a percent);
- ``status``: after the due date, ``achieved`` if the level at the due date reached the target, else
  ``missed``; before it, ``achieved`` while the level is at or above the target, ``on_track`` while
  the projection reaches it (or fewer than ``MIN_DAYS`` complete days were seen: too early to
  judge), otherwise ``at_risk``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from collector.store.goals import PERCENT, unit_of
from collector.store.seam import DEFAULT_ACTIVE_FLOOR, GoalRequest
from protocol.timeunits import parse_hours

STATUSES = ("on_track", "at_risk", "achieved", "missed")
#: why a goal has its status (``reason``; the table of docs/api.md, "Success goals")
REASONS = ("not_started", "too_early", "at_target", "projected_to_reach", "projected_short", "no_data",
           "reached_by_due", "not_reached_by_due")
WINDOW_DAYS = 7
TREND_DAYS = 14
MIN_DAYS = 3
HORIZON_DAYS = 30


def first_ms(start: str, offset_ms: int) -> int:
    """The UTC instant of ``start``'s local midnight in a zone of UTC offset ``offset_ms``."""
    day = dt.date.fromisoformat(start)
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000) - offset_ms


def today_of(now_ms: int, offset_ms: int) -> dt.date:
    """The customer's local date at ``now_ms``."""
    return dt.datetime.fromtimestamp((now_ms + offset_ms) / 1000, dt.UTC).date()


def complete_days(goal: dict, today: dt.date) -> int:
    """How many of the goal's days are complete local days: from its start up to yesterday or its due date."""
    start, due = dt.date.fromisoformat(goal["start"]), dt.date.fromisoformat(goal["due"])
    last = min(due, today - dt.timedelta(days=1))
    return max(0, (last - start).days + 1)


def open_hours(hours: str | None, learned: Sequence[int] | None = None, venue_hours: str | None = None) -> list[int] | None:
    """The venue's open local hours (0-23) for ``availability``: imported ``hours`` (an hour is open
    when its middle lies in them), else the hours health learned (``learned``, or as the text of the
    customer's ``facts.venue.hours``, ``learned: 09:00-21:00, ...``), else None (open all day)."""
    span = parse_hours(hours) if hours else None
    if span is not None:
        start, end = span
        if end - start >= 1440:
            return None
        out = [h for h in range(24) if _inside(h * 60 + 30, start, end % 1440 or 1440)]
        return out or None
    if learned:
        return sorted(learned) if len(learned) < 24 else None
    if venue_hours and venue_hours.startswith("learned: "):
        out: set[int] = set()
        for a, b in re.findall(r"(\d{2}):00-(\d{2}):00", venue_hours):
            h = int(a)
            while True:
                out.add(h)
                h = (h + 1) % 24
                if h == int(b) or len(out) == 24:
                    break
        return sorted(out) if out and len(out) < 24 else None
    return None


def _inside(minute: int, start: int, end: int) -> bool:
    return start <= minute < end if start < end else (minute >= start or minute < end)


def _ratio(pairs: Sequence[tuple[float, float]]) -> float | None:
    num, den = sum(p[0] for p in pairs), sum(p[1] for p in pairs)
    return num / den if den > 0 else None


def _slope(values: Sequence[float | None]) -> float:
    """Least-squares slope per day of the values that are not None (0 with fewer than ``MIN_DAYS``)."""
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(points) < MIN_DAYS:
        return 0.0
    n = len(points)
    mx = sum(i for i, _ in points) / n
    my = sum(v for _, v in points) / n
    sxx = sum((i - mx) ** 2 for i, _ in points)
    return sum((i - mx) * (v - my) for i, v in points) / sxx if sxx else 0.0


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def judge(goal: dict, series: Sequence[tuple[float, float]], today: dt.date, with_days: bool = True) -> dict:
    """A goal (a ``customer_goals`` row as a dict) judged on ``series``: the ``(numerator,
    denominator)`` of each of its complete local days from its start (``complete_days`` of them).
    ``with_days``: with the per-day list (``days``; empty without)."""
    start, due = dt.date.fromisoformat(goal["start"]), dt.date.fromisoformat(goal["due"])
    target = float(goal["target"])
    percent = goal["metric"] in PERCENT
    values = [(num / den if den > 0 else None) for num, den in series]
    days = [{"date": (start + dt.timedelta(days=i)).isoformat(), "value": _round(v),
             "numerator": round(num, 2), "denominator": round(den, 2)}
            for i, ((num, den), v) in enumerate(zip(series, values))] if with_days else []
    n = len(series)
    level = _ratio(series[-WINDOW_DAYS:]) if n else None
    over = n and start + dt.timedelta(days=n - 1) >= due
    days_left = max(0, (due - today).days + 1)  # today and the days after it, through the due date
    slope = _slope(values[-TREND_DAYS:])
    projection = None
    if level is not None:
        projection = level if over else max(0.0, level + slope * min(days_left, HORIZON_DAYS))
        if percent:
            projection = min(100.0, projection)
    if over:
        status, reason = ("achieved", "reached_by_due") if level is not None and level >= target else ("missed", "not_reached_by_due")
    elif n == 0:
        status, reason = "on_track", "not_started"
    elif level is not None and level >= target:
        status, reason = "achieved", "at_target"
    elif n < MIN_DAYS:
        status, reason = "on_track", "too_early"
    elif projection is not None and projection >= target:
        status, reason = "on_track", "projected_to_reach"
    else:
        status, reason = "at_risk", "no_data" if level is None else "projected_short"
    return {**goal, "unit": unit_of(goal["metric"]), "progress": _round(level),
            "progress_pct": _round(100.0 * level / target) if level is not None and target > 0 else None,
            "projection": _round(projection), "trend_per_day": round(slope, 4), "status": status, "reason": reason,
            "days_total": (due - start).days + 1, "days_elapsed": n, "days_left": days_left,
            "window_days": min(WINDOW_DAYS, n), "days": days}


def judge_all(store, customers: dict[str, dict], now_ms: int, active_floor: int = DEFAULT_ACTIVE_FLOOR) -> list[dict]:
    """Every stored goal of the cycle's ``customers`` (their dicts carry ``offset_ms``, ``hours``,
    ``learned_hours``) judged at ``now_ms``, without the per-day list (the rules do not read it);
    ``store``: the health part (``goals``, ``goal_sums``); ``active_floor``:
    ``health.active_day_interactions``."""
    todo, requests = [], []
    for goal in store.goals():
        c = customers.get(goal["customer"])
        if c is None:
            continue
        off = c.get("offset_ms") or 0
        today = today_of(now_ms, off)
        hours = open_hours(c.get("hours"), c.get("learned_hours")) if goal["metric"] == "availability" else None
        todo.append((goal, today))
        requests.append(GoalRequest(goal["customer"], goal["metric"], first_ms(goal["start"], off),
                                    complete_days(goal, today), hours, active_floor))
    return [judge(goal, series, today, with_days=False)
            for (goal, today), series in zip(todo, store.goal_sums(requests))]
