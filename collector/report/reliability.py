"""The report's reliability figures for a month: availability in opening hours, anomalies per
subsystem in seed 002's three figures, and what was fixed (alerts resolved and how fast).

Plain functions over what ``ReadStore.report_inputs`` read; the thresholds are health's own
(``[health]``), so "a robot with an anomaly" means in the report what it means on the dashboard,
judged on the month's totals instead of the last hours.
"""

from __future__ import annotations

import datetime as dt
import statistics
from zoneinfo import ZoneInfo

from protocol.catalogue import HEALTH_SUBSYSTEMS, error_metrics
from protocol.timeunits import HOUR_MS, parse_hours

#: alert rules and the subsystem an alert of theirs is about (subsystem_degraded names its own)
RULE_SUBSYSTEM = {"robot_offline": "network", "site_outage": "network"}


# ------------------------------------------------------------------ opening hours and availability
def learned_hours(hours: list[tuple[int, str, int]], zone: str, share: float) -> set[int]:
    """Local hours of the day (0-23) with interactions on more than ``share`` of the month's days
    that had any: the venue's hours as its robots lived them (health learns them the same way)."""
    tz = ZoneInfo(zone)
    per_day: dict[str, set[int]] = {}
    for bucket, metric, total in hours:
        if metric == "usage.interactions" and total > 0:
            local = dt.datetime.fromtimestamp(bucket / 1000, tz)
            per_day.setdefault(local.date().isoformat(), set()).add(local.hour)
    if not per_day:
        return set()
    return {h for h in range(24) if sum(1 for s in per_day.values() if h in s) > share * len(per_day)}


def opening(customer: dict, month_hours: list[tuple[int, str, int]], zone: str, share: float):
    """``(is_open(bucket_ms) -> bool, source, text)``: imported hours first, else learned from the
    month's usage, else always open."""
    tz = ZoneInfo(zone)
    span = parse_hours(customer.get("hours") or "")
    if span is not None:
        start, end = span

        def is_open(bucket: int) -> bool:
            local = dt.datetime.fromtimestamp(bucket / 1000, tz)
            minute = local.hour * 60 + local.minute
            if end - start >= 1440:
                return True
            stop = end % 1440
            return start <= minute < stop if start < stop else (minute >= start or minute < stop)
        return is_open, "imported", customer["hours"].strip()
    learned = learned_hours(month_hours, zone, share)
    if learned and len(learned) < 24:
        return (lambda bucket: dt.datetime.fromtimestamp(bucket / 1000, tz).hour in learned), "learned", _runs(learned)
    return (lambda bucket: True), "none", ""


def _runs(hours: set[int]) -> str:
    out = []
    for h in sorted(hours):
        if (h - 1) % 24 in hours and len(hours) < 24:
            continue
        end = h
        while (end + 1) % 24 in hours and (end + 1) % 24 != h:
            end = (end + 1) % 24
        out.append(f"{h:02d}:00-{(end + 1) % 24:02d}:00")
    return ", ".join(out)


def availability(robots: list[dict], robot_hours: dict[str, set[int]], is_open, from_ms: int,
                 through_ms: int) -> dict:
    """Robot-hours in opening hours with data from the robot, over the robot-hours the venue was
    open while the robot was in service (from the hour of its first data); complete hours only."""
    expected = covered = 0
    first_bucket = from_ms - from_ms % HOUR_MS
    if first_bucket < from_ms:
        first_bucket += HOUR_MS  # a half-hour zone: the bucket holding the month's start is the month before's
    open_buckets = [b for b in range(first_bucket, through_ms - HOUR_MS + 1, HOUR_MS) if is_open(b)]
    for robot in robots:
        seen = robot["first_seen_ms"]
        if seen is None or robot["last_window_ms"] is None:
            continue
        start = seen - seen % HOUR_MS
        mine = robot_hours.get(robot["id"], set())
        for b in open_buckets:
            if b >= start:
                expected += 1
                covered += b in mine
    return {"expected_robot_hours": expected, "covered_robot_hours": covered,
            "pct": round(covered * 100.0 / expected, 1) if expected else None}


# ------------------------------------------------------------------ anomalies (seed 002's three figures)
def _denominator(sub: str) -> str | None:
    dens = {m.denominator for m in error_metrics(sub)}
    return dens.pop() if len(dens) == 1 else None


def anomalies(robots: list[dict], counters: dict[str, dict[str, int]], robot_hours: dict[str, set[int]],
              settings) -> dict[str, dict]:
    """Per subsystem: robots with anomalies (the month's rate at or above health's ``warn``
    threshold), anomaly count (its error counters, network: disconnects and NIC errors), anomaly
    rate (robots with anomalies / robots in service), and the error rate itself."""
    in_service = [r["id"] for r in robots if r["last_window_ms"] is not None]
    out = {}
    for sub in HEALTH_SUBSYSTEMS:
        flagged, count, errors, volume = [], 0, 0, 0
        for rid in in_service:
            c = counters.get(rid, {})
            if sub == "network":
                n = c.get("net.disconnects", 0) + c.get("net.errors", 0)
                covered_s = len(robot_hours.get(rid, ())) * 3600
                bad = covered_s >= settings.network_min_covered_s and (
                    c.get("net.offline_s", 0) / covered_s >= settings.network_offline_warn
                    or c.get("net.disconnects", 0) * 3600 / covered_s >= settings.network_disconnects_warn)
            else:
                n = sum(c.get(m.name, 0) for m in error_metrics(sub))
                den = c.get(_denominator(sub) or "", 0)
                errors, volume = errors + n, volume + den
                bad = den >= max(1, settings.min_volume) and n / den >= getattr(settings, f"{sub}_warn")
            count += n
            if bad:
                flagged.append(rid)
        out[sub] = {"robots": len(flagged), "count": count,
                    "rate": round(len(flagged) / len(in_service), 4) if in_service else 0.0,
                    "error_rate": (round(errors / volume, 4) if volume else None) if sub != "network" else None,
                    "robot_ids": flagged[:10]}
    return out


# ------------------------------------------------------------------ what was fixed
def subsystem_of(alert: dict) -> str | None:
    facts = alert.get("facts") or {}
    return facts.get("subsystem") if alert["rule"] == "subsystem_degraded" else RULE_SUBSYSTEM.get(alert["rule"])


def fixed(alerts: list[dict], from_ms: int, to_ms: int) -> dict:
    """Alerts opened in the month, resolved in it (and how long each took from opening), and those
    still open at its end; per subsystem and per rule."""
    def minutes(a):
        return (a["resolved_ms"] - a["opened_ms"]) / 60_000

    opened = [a for a in alerts if from_ms <= a["opened_ms"] < to_ms]
    resolved = [a for a in alerts if a["resolved_ms"] is not None and from_ms <= a["resolved_ms"] < to_ms]
    still_open = [a for a in alerts if a["resolved_ms"] is None or a["resolved_ms"] >= to_ms]

    def summary(resolved_ones, opened_ones) -> dict:
        took = [minutes(a) for a in resolved_ones]
        return {"opened": len(opened_ones), "resolved": len(resolved_ones),
                "median_minutes": round(statistics.median(took), 1) if took else None,
                "max_minutes": round(max(took), 1) if took else None}

    by_sub = {s: summary([a for a in resolved if subsystem_of(a) == s], [a for a in opened if subsystem_of(a) == s])
              for s in HEALTH_SUBSYSTEMS}
    rules = sorted({a["rule"] for a in opened + resolved})
    by_rule = {r: summary([a for a in resolved if a["rule"] == r], [a for a in opened if a["rule"] == r])
               for r in rules}
    return {**summary(resolved, opened), "open_at_end": len(still_open), "by_subsystem": by_sub, "by_rule": by_rule}
