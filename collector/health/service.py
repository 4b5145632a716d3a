"""Robot-days in service: the denominator of every per-robot figure.

Why: dividing 30 days of a customer's interactions by 30 x today's robot count makes a new
customer look idle (4 robots at 1,500 a day for 5 days read 250) and a grown fleet look half
used (2 robots grown to 10 read 336 instead of 1,200).  A per-robot-per-day figure is a sum over
the robot-days that could have produced it: each robot counts on the local days it was in service,

- from its **handover** (``activated`` in the asset registry, ``import-robots``) or its first day
  seen, whichever is earlier, but never before the collector's first data (a fleet deployed long
  before its collector has no history before it: those days are not the customer's idleness);
  a robot of the registry that never connected counts from its handover all the same (handed over
  and never switched on is idleness a CSM must see; ``facts.usage.never_seen`` names it);
- only on days its venue was **scheduled**: when the venue's hours are known (imported or learned),
  a weekday on which the fleet showed no sign of life (no interaction and no passer-by
  counted) on every one of its occurrences in the last 4 weeks, while it did on other days, is a
  weekly closing day (a museum closed on Mondays) and is not counted.

Plain functions over robot rows and day labels (a local day's date at 00:00 UTC, see
``protocol.timeunits.local_day``).
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from functools import lru_cache

from protocol.timeunits import DAY_MS, local_day


@lru_cache(maxsize=4096)
def date_label(date: str | None) -> int | None:
    """A local date ``YYYY-MM-DD`` as its day label (None when missing or malformed)."""
    if not date:
        return None
    try:
        return int(dt.datetime.strptime(date, "%Y-%m-%d").replace(tzinfo=dt.timezone.utc).timestamp()) * 1000
    except ValueError:
        return None


def iso(label: int) -> str:
    """A day label as its local date ``YYYY-MM-DD``."""
    return dt.datetime.fromtimestamp(label / 1000, dt.timezone.utc).strftime("%Y-%m-%d")


def start_day(robot: dict, off: int, data_start_ms: int | None) -> int | None:
    """The label of the first local day the robot was in service (None: never seen nor handed over)."""
    first = robot.get("first_seen_ms")
    handed = robot.get("activated")
    start = None if first is None else first + off - (first + off) % DAY_MS  # local_day(first, off)
    if handed:
        label = date_label(handed)
        if label is not None and (start is None or label < start):
            start = label
    if start is not None and data_start_ms is not None:
        start = max(start, local_day(data_start_ms, off))
    return start


def in_service(robots: list[dict], today: int, off: int, data_start_ms: int | None, days: int = 30) -> list[int]:
    """Robots in service on each of the ``days`` complete local days before ``today`` (a label):
    index 0 is yesterday."""
    starts = sorted(s for s in (start_day(r, off, data_start_ms) for r in robots) if s is not None)
    return [bisect_right(starts, today - (i + 1) * DAY_MS) for i in range(days)]


def weekday(label: int) -> int:
    """Monday 0 ... Sunday 6 of a day label (1 January 1970 was a Thursday)."""
    return (label // DAY_MS + 3) % 7


def closing_weekdays(alive: list[bool], counts: list[int], today: int) -> set[int]:
    """Weekdays the venue keeps closed, learned from the last 28 days: a weekday with at least two
    occurrences in service, none with any usage volume, while other days in service had some."""
    seen: dict[int, list[bool]] = {}
    for i in range(min(28, len(alive), len(counts))):
        if counts[i]:
            seen.setdefault(weekday(today - (i + 1) * DAY_MS), []).append(alive[i])
    if not any(any(v) for v in seen.values()):
        return set()
    return {w for w, v in seen.items() if len(v) >= 2 and not any(v)}


def robot_days(counts: list[int], today: int, closed: set[int], span: int) -> int:
    """Robot-days in service over the last ``span`` complete local days, closing weekdays left out."""
    return sum(n for i, n in enumerate(counts[:span]) if weekday(today - (i + 1) * DAY_MS) not in closed)


def scheduled(robots: list[dict], alive: list[bool] | None, today: int, off: int, data_start_ms: int | None,
              hours_known: bool) -> dict:
    """Per customer: robots in service per day (``per_day``, yesterday first), the weekly closing
    days (names of weekdays; only when the venue's hours are known) and the robot-days of the last
    7, 14 (the 7 before the last 7) and 30 complete local days."""
    counts = in_service(robots, today, off, data_start_ms)
    closed = closing_weekdays(alive or [], counts, today) if hours_known else set()
    d7 = robot_days(counts, today, closed, 7)
    return {"per_day": counts, "closed_weekdays": sorted(closed),
            "robot_days_7d": d7, "robot_days_prev_7d": robot_days(counts, today, closed, 14) - d7,
            "robot_days_30d": robot_days(counts, today, closed, 30)}
