"""Robot health: per-subsystem error rates over two views, a state per subsystem, one score.

Plain functions over summed counters (``{metric: total}`` per view) and a clock passed in.
Rates use the catalogue's denominators (e.g. ASR = (unrecognized + misrecognized) / requests);
network is judged on the share of the view's seconds spent offline and on disconnects per hour.
Below ``min_volume`` of a denominator no judgement is made (a quiet robot is not a sick one).
A subsystem's state comes from the short view when it has the volume, else from the long view.
"""

from __future__ import annotations

from typing import Any

from protocol.catalogue import HEALTH_SUBSYSTEMS, error_metrics

LEVELS = {"ok": 0, "warn": 1, "crit": 2}
HOUR_MS = 3_600_000
DAY_MS = 86_400_000

#: (error metrics, denominator) of each rated subsystem, from the catalogue
RATED = {
    sub: (tuple(m.name for m in error_metrics(sub)), error_metrics(sub)[0].denominator)
    for sub in HEALTH_SUBSYSTEMS if sub != "network"
}
NETWORK_ERRORS = tuple(m.name for m in error_metrics("network"))


def hour_view_start(now_ms: int) -> int:
    """The short view: the last complete UTC hour and the current one (60 to 120 minutes)."""
    return now_ms - now_ms % HOUR_MS - HOUR_MS


def day_view_start(now_ms: int) -> int:
    """The long view: yesterday and today so far (UTC), 24 to 48 hours, read from the daily
    rollups: 24 hourly buckets per robot would be 12 times the rows and break the cycle's budget."""
    return now_ms - now_ms % DAY_MS - DAY_MS


def _score(value: float, warn: float, crit: float) -> float:
    """100 at 0; 80 at warn; 50 at crit; 0 at twice crit (linear in between)."""
    if value <= 0:
        return 100.0
    if value < warn:
        return 100.0 - 20.0 * value / warn
    if value < crit:
        return 80.0 - 30.0 * (value - warn) / (crit - warn) if crit > warn else 50.0
    if crit <= 0:
        return 0.0
    return max(0.0, 50.0 - 50.0 * (value - crit) / crit)


def _level(value: float, warn: float, crit: float) -> str:
    return "crit" if value >= crit else "warn" if value >= warn else "ok"


def judge(sub: str, counts: dict[str, int], covered_s: float, s: dict) -> dict | None:
    """One view of one subsystem: {rate, errors, volume, state, score}, or None below min volume."""
    if sub == "network":
        if not counts or covered_s <= 0:
            return None
        offline_s = counts.get("net.offline_s", 0)
        offline = min(1.0, offline_s / covered_s)
        per_h = counts.get("net.disconnects", 0) * 3600.0 / covered_s
        ow, oc = s["network_offline_warn"], s["network_offline_crit"]
        dw, dc = s["network_disconnects_warn"], s["network_disconnects_crit"]
        state = max(_level(offline, ow, oc), _level(per_h, dw, dc), key=LEVELS.__getitem__)
        return {"rate": round(offline, 4), "disconnects_per_h": round(per_h, 3),
                "errors": counts.get("net.disconnects", 0) + counts.get("net.errors", 0),
                "offline_s": offline_s, "volume": round(covered_s),
                "state": state, "score": min(_score(offline, ow, oc), _score(per_h, dw, dc))}
    names, denominator = RATED[sub]
    volume = counts.get(denominator, 0)
    if volume < s["min_volume"] or volume <= 0:
        return None
    errors = 0
    for m in names:
        errors += counts.get(m, 0)
    rate = errors / volume
    warn, crit = s[f"{sub}_warn"], s[f"{sub}_crit"]
    return {"rate": round(rate, 4), "errors": errors, "volume": volume,
            "state": _level(rate, warn, crit), "score": _score(rate, warn, crit)}


def robot_state(robot: dict, now_ms: int, s: dict) -> str:
    """online | offline (reported) | stale (not reported offline, but silent for 3 intervals)."""
    if robot["state"] == "offline":
        return "offline"
    last = robot.get("last_window_ms")
    limit = max(s["stale_intervals"] * robot.get("interval_s", 10) * 1000, s["stale_floor_s"] * 1000)
    if last is None or now_ms - last > limit:
        return "stale"
    return "online"


def assess(robot: dict, hour: dict[str, int], day: dict[str, int], now_ms: int, s: dict) -> dict[str, Any]:
    """The health of one robot from its hour-view and day-view counter sums."""
    state = robot_state(robot, now_ms, s)
    first = robot.get("first_seen_ms") or now_ms
    covered_h = max(0.0, (now_ms - max(hour_view_start(now_ms), first)) / 1000)
    covered_d = max(0.0, (now_ms - max(day_view_start(now_ms), first)) / 1000)
    subsystems: dict[str, dict] = {}
    worst, score = None, 100.0
    for sub in HEALTH_SUBSYSTEMS:
        short = judge(sub, hour, covered_h, s) if hour else None
        long_ = judge(sub, day, covered_d, s) if day else None
        # the short view when it has the volume (so a fix shows within the hour); the long view
        # judges robots too quiet for an hour to say anything
        view = short or long_
        level = view["state"] if view else "ok"
        sub_score = view["score"] if view else 100.0
        if sub == "network":
            errors_24h = long_["errors"] if long_ else 0
            den = None
        else:
            den = RATED[sub][1]
            errors_24h = long_["errors"] if long_ else _errors(sub, day)
        entry = {
            "state": "stale" if state == "stale" else level, "level": level, "judged": view is not None,
            "rate_1h": short["rate"] if short else None, "rate_24h": long_["rate"] if long_ else None,
            "volume_1h": short["volume"] if short else hour.get(den, 0) if den else 0,
            "volume_24h": long_["volume"] if long_ else day.get(den, 0) if den else 0,
            "errors_24h": errors_24h, "score": round(sub_score, 1),
        }
        if long_ is not None and sub == "network":
            entry["offline_s_24h"] = long_["offline_s"]
        subsystems[sub] = entry
        if sub_score < score:
            worst, score = sub, sub_score
    return {"robot": robot["id"], "customer": robot["customer"], "site": robot["site"],
            "state": state, "state_reason": robot.get("state_reason"),
            "first_seen_ms": robot.get("first_seen_ms"), "last_window_ms": robot.get("last_window_ms"),
            "score": round(score, 1), "worst": worst, "subsystems": subsystems}


def _errors(sub: str, counts: dict[str, int]) -> int:
    return sum(counts.get(m, 0) for m in RATED[sub][0])
