"""Success goals (issue 14, contract section 6): ``import-goals`` and the API's POST.

Header ``customer,metric,target,start,due,note`` (any order, extra columns ignored).  A goal says
what a customer's use of its robots should reach by a date ("interaction conversion 45 % within 7
days", seed 001): a metric of ``METRICS`` (or ``skill:<name>``), a ``target`` in the metric's unit,
and ``start`` / ``due`` dates of the customer's local calendar (both days counted).

The metric set lives here, in the store, because the store validates the names at import and sums
the rollups behind each one (``collector/store/sqlite/goals.py``); health turns those daily sums
into progress and status (``collector/health/goals.py``).

A file with one bad row is refused whole (``csv_import``).  A goal's identity is ``(customer,
metric, start, due)``: a row with a stored identity updates the goal's target and note when they
differ and changes nothing when they are the same, so importing a file again changes nothing.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping

from collector.store import csv_import
from collector.store.csv_import import Report
from collector.store.events import _date, default_actor
from collector.store.records import GoalRow
from collector.store.seam import RegistryStore

#: metric -> (unit, what it measures); ``skill:<name>`` is added for any skill (``SKILL_PREFIX``)
METRICS: dict[str, tuple[str, str]] = {
    "interactions_per_robot_day": ("interactions", "interactions per robot per local day"),
    "conversion": ("%", "interactions / foot traffic x 100"),
    "active_day_share": ("%", "active robot-days (health.active_day_interactions) / robot-days x 100"),
    "availability": ("%", "robot-hours online / robot-hours of the venue's opening hours x 100"),
}
SKILL_PREFIX = "skill:"
SKILL_NAME = re.compile(r"^[a-z0-9_]{1,40}$")
#: metrics whose value is a percent (their targets cannot exceed 100)
PERCENT = ("conversion", "active_day_share", "availability")
COLUMNS = ("customer", "metric", "target", "start", "due", "note")
REQUIRED = ("customer", "metric", "target", "start", "due")
MAX_NOTE = 500
MAX_TARGET = 1e9
#: the longest goal, start to due (about three years): a goal's daily series stays a cheap read
MAX_DAYS = 1100


def known_metric(metric: str) -> bool:
    return metric in METRICS or (metric.startswith(SKILL_PREFIX) and bool(SKILL_NAME.match(metric[len(SKILL_PREFIX):])))


def unit_of(metric: str) -> str:
    return METRICS[metric][0] if metric in METRICS else "uses"


def _target(text: str, metric: str) -> float:
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        raise ValueError(f"target {text[:40]!r} is not a number") from None
    if not math.isfinite(value) or value < 0 or value > MAX_TARGET:
        raise ValueError(f"target {text[:40]!r} must be a number >= 0")
    if metric in PERCENT and value > 100:
        raise ValueError(f"target {text[:40]!r} is a percent for {metric}: at most 100")
    return round(value, 4)


def goal_from(record: Mapping[str, str | None], known: set[str]) -> GoalRow:
    """One goal from a row of text cells (a CSV row, or the API's body as strings); ``known`` are
    the customer ids in the store.  Raises ValueError with the reason."""
    import datetime as dt

    get = lambda key: (record.get(key) or "").strip()  # noqa: E731
    customer = csv_import.stored_customer(get("customer"), known)
    metric = get("metric").lower()
    if not metric:
        raise ValueError("metric is empty")
    if not known_metric(metric):
        raise ValueError(f"unknown metric {get('metric')[:40]!r} (one of {', '.join(METRICS)}, "
                         f"or {SKILL_PREFIX}<name>)")
    if not get("target"):
        raise ValueError("target is empty")
    target = _target(get("target"), metric)
    for column in ("start", "due"):
        if not get(column):
            raise ValueError(f"{column} is empty")
    start, due = _date(get("start"), "start"), _date(get("due"), "due")
    if due < start:
        raise ValueError(f"due {due} is before start {start}")
    if (dt.date.fromisoformat(due) - dt.date.fromisoformat(start)).days >= MAX_DAYS:
        raise ValueError(f"a goal runs at most {MAX_DAYS} days from start to due")
    note = get("note")
    if len(note) > MAX_NOTE:
        raise ValueError(f"note is longer than {MAX_NOTE} characters")
    return GoalRow(customer, metric, target, start, due, note)


def parse(text: str, known: set[str]) -> Report[GoalRow]:
    """Goals and (line, reason) for every bad row.  Raises ValueError for a bad header."""
    return csv_import.parse(text, REQUIRED, ",".join(COLUMNS), lambda record: goal_from(record, known),
                            lambda row: row.identity,
                            lambda _row, line, _first: f"the same goal as line {line} (customer, metric, start, due)")


def import_file(path: str, registry: RegistryStore, out, err, actor: str | None = None,
                now_ms: int | None = None) -> int:
    """Exit status: 0 imported (or nothing new), 1 bad rows (nothing applied), 2 unusable file."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    actor = actor or default_actor()
    report = csv_import.checked(path, "import-goals", "goals", out, err,
                                lambda text: parse(text, registry.customer_ids()))
    if isinstance(report, int):
        return report
    added, updated = registry.upsert_goals(report.rows, actor, "import", now_ms)
    same = len(report.rows) - len(added) - len(updated)
    print(f"imported {len(report.rows)} goals ({len(added)} new, {len(updated)} updated, {same} unchanged) "
          f"as {actor}", file=out)
    return 0
