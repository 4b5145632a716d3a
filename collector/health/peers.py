"""Peers that fit the scene: each scene's primary usage measure, the customer's figures on it,
its usual level, and the comparison with the customers of the same scene.

Why: scenes are used for different things (DOMAIN.md, seed 002): a KTV robot delivers a lot and
talks little, a museum robot guides, a conference robot signs people in and leads the way.  Judged
on interactions alone a busy KTV reads as unused.  ``[health] scene_measures`` names, per scene,
the metrics whose sum is its primary measure and that measure's benchmark per robot per day;
adoption, ``below_peers`` and ``usage_drop`` use it.

Usual level (seasonality): a week is judged against the same weekdays of the weeks before (their
median), not against the week before alone, so coming back from a holiday spike is not a drop.
"""

from __future__ import annotations

import re
import statistics
from typing import Any, NamedTuple

from protocol.catalogue import METRIC_NAME_RE
from protocol.config import Values

#: scene -> its primary measure: ``"<scene>: <metric> [+ <metric> ...] [@ <benchmark per robot per day>]"``
#: (without ``@``: ``[health] benchmark_interactions``); scenes not listed use ``usage.interactions``
SCENE_MEASURES = (
    "museum: skill.guide + usage.interactions",
    "ktv: skill.delivery @ 300",
    "scenic: usage.interactions",
    "conference: skill.sign_in + skill.lead_way @ 600",
    "mall: usage.interactions",
    "bank: usage.interactions",
    "hospital: usage.interactions",
    "reception: usage.interactions",
)
DEFAULT_METRICS = ("usage.interactions",)
#: local days read per customer: the last 7 and the 4 weeks before them
DAYS = 35
_ENTRY = re.compile(r"^\s*([\w-]+)\s*:\s*([^@]+?)\s*(?:@\s*([0-9.]+)\s*)?$")


class Measure(NamedTuple):
    scene: str
    metrics: tuple[str, ...]
    benchmark: float | None  # None: [health] benchmark_interactions

    @property
    def name(self) -> str:
        """What a CSM reads: ``delivery``, ``guide + interactions``."""
        return " + ".join(m.split(".", 1)[1] for m in self.metrics)


def parse_entry(entry: Any) -> Measure:
    """One ``scene_measures`` entry -> Measure; ValueError saying what is wrong."""
    m = _ENTRY.match(entry) if isinstance(entry, str) else None
    if not m:
        raise ValueError(f"{entry!r} is not '<scene>: <metric> [+ <metric>] [@ <benchmark>]'")
    metrics = tuple(x.strip() for x in m.group(2).split("+"))
    for metric in metrics:
        if not (metric.startswith(("usage.", "skill.")) and METRIC_NAME_RE.match(metric)):
            raise ValueError(f"{metric!r} in {entry!r} is not a usage.* or skill.* metric")
    bench = None
    if m.group(3) is not None:
        try:
            bench = float(m.group(3))
        except ValueError:
            raise ValueError(f"benchmark {m.group(3)!r} in {entry!r} is not a number") from None
        if bench <= 0:
            raise ValueError(f"benchmark in {entry!r} must be positive")
    return Measure(m.group(1).lower(), metrics, bench)


def check_table(value: Any) -> str | None:
    """The settings check of ``health.scene_measures``: a reason, or None."""
    seen = set()
    for entry in value:
        try:
            scene = parse_entry(entry).scene
        except ValueError as exc:
            return str(exc)
        if scene in seen:
            return f"scene {scene!r} is listed twice"
        seen.add(scene)
    return None


def table(entries) -> dict[str, Measure]:
    return {m.scene: m for m in map(parse_entry, entries)}


def measure_of(scene: str, measures: dict[str, Measure]) -> Measure:
    return measures.get((scene or "").lower()) or Measure(scene or "", DEFAULT_METRICS, None)


def wanted(measures: dict[str, Measure]) -> dict[str, tuple[str, ...]]:
    """What the store reads per scene (``""``: a customer of no known scene, every metric of the
    table, as its scene may come from its robots)."""
    out = {scene: m.metrics for scene, m in measures.items()}
    out[""] = tuple(sorted({x for m in measures.values() for x in m.metrics} | set(DEFAULT_METRICS)))
    return out


def daily(measure: Measure, by_metric: dict[str, list[int]] | None) -> list[int]:
    """The measure's local-day totals (``DAYS`` of them, oldest first, the last = yesterday)."""
    out = [0] * DAYS
    for metric in measure.metrics:
        for i, v in enumerate((by_metric or {}).get(metric, ())):
            out[i] += v
    return out


def usual_level(days: list[int], weeks: int = 4) -> tuple[float | None, int]:
    """The customer's usual level of its last 7 days: for each of them, the median of the same
    weekday in the ``weeks`` weeks before, counting only days since its first day of use in the
    span read (a newer customer has fewer weeks; a day with none before it is left out).
    Returns (usual total of the days that have one, the last 7 days' total over the same days)."""
    first = next((i for i, v in enumerate(days) if v > 0), None)
    if first is None:
        return None, 0
    usual, actual, n = 0.0, 0, len(days)
    for i in range(n - 7, n):
        before = [days[j] for j in (i - 7 * k for k in range(1, weeks + 1)) if j >= max(0, first)]
        if before:
            usual += statistics.median(before)
            actual += days[i]
    return (usual, actual) if usual > 0 else (None, 0)


def primary(measure: Measure, days: list[int], robots: int | dict, s: Values) -> dict[str, Any]:
    """The customer's figures on its scene's measure: per robot-day in service over 30 days (``robots``:
    ``health.service.scheduled``'s robot-days, or a robot count in service every day), the last 7
    days against the 7 before and against its usual level (``usual_level``)."""
    if isinstance(robots, dict):
        rd30, rd7, rd_prev = robots["robot_days_30d"], robots["robot_days_7d"], robots["robot_days_prev_7d"]
    else:
        rd30, rd7, rd_prev = 30 * robots, 7 * robots, 7 * robots
    last7, prev7 = sum(days[-7:]), sum(days[-14:-7])
    usual, same_days = usual_level(days, s.usual_weeks)
    bench = measure.benchmark if measure.benchmark is not None else s.benchmark_interactions
    return {
        "measure": measure.name, "metrics": list(measure.metrics), "benchmark": bench,
        "per_robot_day_30d": round(sum(days[-30:]) / rd30, 1) if rd30 > 0 else 0.0,
        "last_7d": last7, "prev_7d": prev7, "prev_per_robot_day": round(prev7 / max(1, rd_prev), 1),
        "trend_7d_pct": None if prev7 <= 0 else round((last7 - prev7) * 100.0 / prev7, 1),
        "usual_7d": None if usual is None else round(usual, 1),
        "usual_per_robot_day": None if usual is None else round(usual / max(1, rd7), 1),
        "vs_usual_pct": None if usual is None else round((same_days - usual) * 100.0 / usual, 1),
    }


def compare(values: dict[str, tuple[str, float, float]], s: Values) -> dict[str, dict]:
    """``{customer: (scene, value, benchmark)}`` -> each customer's standing among the other
    customers of its scene: their ``median`` (of the others, the customer left out), its ``ratio``
    to it (``below_peers`` judges it from ``alerts.below_peers.min_peers`` others), and
    its ``percentile`` (share of the others below it, ties half) only from ``percentile_min_peers``
    others: with fewer a rank says nothing (one peer: always 0 or 100)."""
    by_scene: dict[str, list[tuple[str, float]]] = {}
    for customer, (scene, value, _) in values.items():
        by_scene.setdefault(scene, []).append((customer, value))
    out = {}
    for scene, members in by_scene.items():
        for customer, value in members:
            others = [v for c, v in members if c != customer]
            median = statistics.median(others) if others else None
            below = sum(1 for v in others if v < value) + 0.5 * sum(1 for v in others if v == value)
            ranked = len(others) >= s.percentile_min_peers
            bench = values[customer][2]
            out[customer] = {
                "scene": scene, "peers": len(others), "value": value,
                "median": None if median is None else round(median, 1),
                "ratio": round(value / median, 3) if median else None,
                "percentile": round(100.0 * below / len(others), 1) if ranked and others else None,
                "at_benchmark": value >= bench,
            }
    return out
