"""Robot health: per-subsystem error rates over two views, a state per subsystem, one score.

Plain functions over summed counters and a clock passed in.  A view of one robot is a short
vector of sums, one slot per (subsystem, errors | denominator) (``SLOT_OF``), so 10,000 robots
cost no per-metric dictionaries; ``to_slots`` builds one from ``{metric: total}``.
Rates use the catalogue's denominators (e.g. ASR = (unrecognized + misrecognized) / requests);
network is judged on the share of the view's seconds spent offline and on disconnects per hour.
Below ``min_volume`` of a denominator no judgement is made (a quiet robot is not a sick one).
A subsystem's state comes from the short view when it has the volume, else from the long view.
"""

from __future__ import annotations

from typing import Any

from protocol.catalogue import HEALTH_SUBSYSTEMS, error_metrics
from protocol.timeunits import DAY_MS, HOUR_MS

LEVELS = {"ok": 0, "warn": 1, "crit": 2}
#: (error metrics, denominator) of each rated subsystem, from the catalogue
RATED = {
    sub: (tuple(m.name for m in error_metrics(sub)), error_metrics(sub)[0].denominator)
    for sub in HEALTH_SUBSYSTEMS if sub != "network"
}
NETWORK_ERRORS = tuple(m.name for m in error_metrics("network"))

#: metric -> slot of a view vector; a rated subsystem has an errors slot and a denominator slot
SLOT_OF: dict[str, int] = {}
ERR_SLOT: dict[str, int] = {}
DEN_SLOT: dict[str, int] = {}
for _sub, (_errors, _den) in RATED.items():
    ERR_SLOT[_sub], DEN_SLOT[_sub] = len(ERR_SLOT) * 2, len(ERR_SLOT) * 2 + 1
    SLOT_OF.update({m: ERR_SLOT[_sub] for m in _errors})
    SLOT_OF[_den] = DEN_SLOT[_sub]
OFFLINE_SLOT, DISCONNECT_SLOT, NET_ERROR_SLOT = len(RATED) * 2, len(RATED) * 2 + 1, len(RATED) * 2 + 2
SLOT_OF.update({"net.offline_s": OFFLINE_SLOT, "net.disconnects": DISCONNECT_SLOT, "net.errors": NET_ERROR_SLOT})
SLOTS = len(RATED) * 2 + 3


def to_slots(counts: dict[str, int]) -> list[int]:
    """``{metric: total}`` -> a view vector (metrics outside the health subsystems are ignored)."""
    vec = [0] * SLOTS
    for metric, total in counts.items():
        slot = SLOT_OF.get(metric)
        if slot is not None:
            vec[slot] += total
    return vec


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


def judge(sub: str, vec: list[int] | None, covered_s: float, s: dict) -> tuple | None:
    """One view of one subsystem: ``(rate, errors, volume, state, score, offline_s)``, or None when
    not judged (no data in the view, or a denominator under ``min_volume``).  Hot path: 140,000
    calls per cycle at 10,000 robots, so a tuple and no rounding here."""
    if vec is None:
        return None
    if sub == "network":
        if covered_s <= 0:
            return None
        offline_s = vec[OFFLINE_SLOT]
        offline = min(1.0, offline_s / covered_s)
        per_h = vec[DISCONNECT_SLOT] * 3600.0 / covered_s
        ow, oc = s["network_offline_warn"], s["network_offline_crit"]
        dw, dc = s["network_disconnects_warn"], s["network_disconnects_crit"]
        state = max(_level(offline, ow, oc), _level(per_h, dw, dc), key=LEVELS.__getitem__)
        return (offline, vec[DISCONNECT_SLOT] + vec[NET_ERROR_SLOT], None, state,
                min(_score(offline, ow, oc), _score(per_h, dw, dc)), offline_s)
    volume = vec[DEN_SLOT[sub]]
    if volume < s["min_volume"] or volume <= 0:
        return None
    errors = vec[ERR_SLOT[sub]]
    rate = errors / volume
    warn, crit = s[f"{sub}_warn"], s[f"{sub}_crit"]
    return (rate, errors, volume, _level(rate, warn, crit), _score(rate, warn, crit), None)


def robot_state(robot: dict, now_ms: int, s: dict) -> str:
    """online | offline (reported) | stale (not reported offline, but silent for 3 intervals)."""
    if robot["state"] == "offline":
        return "offline"
    # a robot known only from its status (no window yet) counts from when it was first seen, so a
    # robot that just booted is not stale before it had a chance to send a window
    last = robot.get("last_window_ms") or robot.get("first_seen_ms")
    limit = max(s["stale_intervals"] * robot.get("interval_s", 10) * 1000, s["stale_floor_s"] * 1000)
    if last is None or now_ms - last > limit:
        return "stale"
    return "online"


def plan(s: dict) -> tuple:
    """The settings one cycle needs per subsystem, looked up once instead of 140,000 times:
    ``(sub, err_slot, den_slot, warn, crit)`` (slots None for network, judged by ``judge``)."""
    subs = tuple((sub, None, None, 0.0, 0.0) if sub == "network" else
                 (sub, ERR_SLOT[sub], DEN_SLOT[sub], s[f"{sub}_warn"], s[f"{sub}_crit"]) for sub in HEALTH_SUBSYSTEMS)
    return subs, s["min_volume"]


def assess(robot: dict, hour: list[int] | None, day: list[int] | None, now_ms: int, s: dict,
           planned: tuple | None = None) -> dict[str, Any]:
    """The health of one robot from its hour-view and day-view vectors (None: no data in the view).

    Same result as judging each subsystem with ``judge``; written out inline because it runs for
    every robot every cycle (``planned``: ``plan(s)``, computed once per cycle by the caller)."""
    subs, min_volume = planned or plan(s)
    state = robot_state(robot, now_ms, s)
    first = robot.get("first_seen_ms") or now_ms
    covered_h = max(0.0, (now_ms - max(hour_view_start(now_ms), first)) / 1000)
    covered_d = max(0.0, (now_ms - max(day_view_start(now_ms), first)) / 1000)
    stale = state == "stale"
    subsystems: dict[str, dict] = {}
    worst, score = None, 100.0
    for sub, err, den, warn, crit in subs:
        if err is None:  # network: share of the view's seconds offline, disconnects per hour
            short, long_ = judge(sub, hour, covered_h, s), judge(sub, day, covered_d, s)
            view = short or long_
            level = view[3] if view else "ok"
            sub_score = view[4] if view else 100.0
            entry = {
                "state": "stale" if stale else level, "level": level, "judged": view is not None,
                "rate_1h": round(short[0], 4) if short else None, "rate_24h": round(long_[0], 4) if long_ else None,
                "volume_1h": None, "volume_24h": None, "errors_24h": long_[1] if long_ else 0,
                "score": round(sub_score, 1),
            }
            if long_ is not None:
                entry["offline_s_24h"] = long_[5]
        else:
            vol_h = hour[den] if hour is not None else 0
            vol_d = day[den] if day is not None else 0
            rate_h = rate_d = None
            if hour is not None and vol_h >= min_volume and vol_h > 0:
                rate_h = hour[err] / vol_h
            if day is not None and vol_d >= min_volume and vol_d > 0:
                rate_d = day[err] / vol_d
            rate = rate_h if rate_h is not None else rate_d
            if rate is None:
                level, sub_score = "ok", 100.0
            else:
                level = "crit" if rate >= crit else "warn" if rate >= warn else "ok"
                sub_score = _score(rate, warn, crit)
            entry = {
                "state": "stale" if stale else level, "level": level, "judged": rate is not None,
                "rate_1h": round(rate_h, 4) if rate_h is not None else None,
                "rate_24h": round(rate_d, 4) if rate_d is not None else None,
                "volume_1h": vol_h, "volume_24h": vol_d, "errors_24h": day[err] if day is not None else 0,
                "score": round(sub_score, 1),
            }
        subsystems[sub] = entry
        if sub_score < score:
            worst, score = sub, sub_score
    return {"robot": robot["id"], "customer": robot["customer"], "site": robot["site"],
            "state": state, "state_reason": robot.get("state_reason"),
            "first_seen_ms": robot.get("first_seen_ms"), "last_window_ms": robot.get("last_window_ms"),
            "score": round(score, 1), "worst": worst, "subsystems": subsystems}
