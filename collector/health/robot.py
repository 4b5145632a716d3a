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

from collector.store.seam import day_view_start, hour_view_start
from protocol.catalogue import HEALTH_SUBSYSTEMS, error_metrics
from protocol.timeunits import DAY_MS, HOUR_MS  # noqa: F401  (re-exported for health's callers)

LEVELS = {"ok": 0, "warn": 1, "crit": 2}
#: (error metrics, denominator) of each rated subsystem, from the catalogue
RATED = {
    sub: (tuple(m.name for m in error_metrics(sub)), error_metrics(sub)[0].denominator)
    for sub in HEALTH_SUBSYSTEMS if sub != "network"
}

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


Vector = tuple[int, ...]  # a view of one robot (collector.store.seam.Vector)


def to_slots(counts: dict[str, int]) -> list[int]:
    """``{metric: total}`` -> a view vector (metrics outside the health subsystems are ignored)."""
    vec = [0] * SLOTS
    for metric, total in counts.items():
        slot = SLOT_OF.get(metric)
        if slot is not None:
            vec[slot] += total
    return vec


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


def judge(sub: str, vec: Vector | None, covered_s: float, s: dict, limits: tuple | None = None,
          scored: bool = True) -> tuple | None:
    """One view of one subsystem: ``(rate, errors, volume, state, score, offline_s)``, or None when
    not judged (no data in the view, or a denominator under ``min_volume``).  Hot path: 140,000
    calls per cycle at 10,000 robots, so a tuple and no rounding here; ``limits`` (``plan``: slots
    and thresholds of a rated subsystem, looked up once per cycle) saves the settings lookups, and
    ``scored=False`` (a view that does not decide: only its figures are shown) leaves state and
    score None."""
    if vec is None:
        return None
    if limits is None:
        if sub == "network":
            return _judge_network(vec, covered_s, s, scored)
        limits = (ERR_SLOT[sub], DEN_SLOT[sub], s[f"{sub}_warn"], s[f"{sub}_crit"], s["min_volume"])
    err, den, warn, crit, min_volume = limits
    volume = vec[den]
    if volume < min_volume or volume <= 0:
        return None
    errors = vec[err]
    rate = errors / volume
    if not scored:
        return (rate, errors, volume, None, None, None)
    return (rate, errors, volume, "crit" if rate >= crit else "warn" if rate >= warn else "ok",
            _score(rate, warn, crit), None)


def _judge_network(vec: Vector, covered_s: float, s: dict, scored: bool) -> tuple | None:
    """Network: the share of the view's seconds offline and disconnects per hour, the worse of the two."""
    if covered_s <= 0:
        return None
    offline_s = vec[OFFLINE_SLOT]
    offline = min(1.0, offline_s / covered_s)
    if not scored:
        return (offline, vec[DISCONNECT_SLOT] + vec[NET_ERROR_SLOT], None, None, None, offline_s)
    per_h = vec[DISCONNECT_SLOT] * 3600.0 / covered_s
    ow, oc = s["network_offline_warn"], s["network_offline_crit"]
    dw, dc = s["network_disconnects_warn"], s["network_disconnects_crit"]
    state = max(_level(offline, ow, oc), _level(per_h, dw, dc), key=LEVELS.__getitem__)
    return (offline, vec[DISCONNECT_SLOT] + vec[NET_ERROR_SLOT], None, state,
            min(_score(offline, ow, oc), _score(per_h, dw, dc)), offline_s)


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
    ``(sub, limits)``, ``limits`` being ``judge``'s (None for network)."""
    return tuple((sub, None) if sub == "network" else
                 (sub, (ERR_SLOT[sub], DEN_SLOT[sub], s[f"{sub}_warn"], s[f"{sub}_crit"], s["min_volume"]))
                 for sub in HEALTH_SUBSYSTEMS)


def assess(robot: dict, hour: Vector | None, day: Vector | None, now_ms: int, s: dict,
           planned: tuple | None = None) -> dict[str, Any]:
    """The health of one robot from its hour-view and day-view vectors (None: no data in the view),
    each subsystem's views judged by ``judge`` (``planned``: ``plan(s)``, computed once per cycle
    by the caller)."""
    state = robot_state(robot, now_ms, s)
    first = robot.get("first_seen_ms") or now_ms
    covered_h = max(0.0, (now_ms - max(hour_view_start(now_ms), first)) / 1000)
    covered_d = max(0.0, (now_ms - max(day_view_start(now_ms), first)) / 1000)
    stale = state == "stale"
    subsystems: dict[str, dict] = {}
    worst, score = None, 100.0
    for sub, limits in planned or plan(s):
        short = judge(sub, hour, covered_h, s, limits)
        long_ = judge(sub, day, covered_d, s, limits, short is None)  # scored only when it decides
        view = short or long_
        level = view[3] if view else "ok"
        sub_score = view[4] if view else 100.0
        if limits is None:  # network: share of the view's seconds offline, disconnects per hour
            entry = {
                "state": "stale" if stale else level, "level": level, "judged": view is not None,
                "rate_1h": round(short[0], 4) if short else None, "rate_24h": round(long_[0], 4) if long_ else None,
                "volume_1h": None, "volume_24h": None, "errors_24h": long_[1] if long_ else 0,
                "score": round(sub_score, 1),
            }
            if long_ is not None:
                entry["offline_s_24h"] = long_[5]
        else:
            err, den = limits[0], limits[1]
            entry = {
                "state": "stale" if stale else level, "level": level, "judged": view is not None,
                "rate_1h": round(short[0], 4) if short else None,
                "rate_24h": round(long_[0], 4) if long_ else None,
                "volume_1h": hour[den] if hour is not None else 0, "volume_24h": day[den] if day is not None else 0,
                "errors_24h": day[err] if day is not None else 0,
                "score": round(sub_score, 1),
            }
        subsystems[sub] = entry
        if sub_score < score:
            worst, score = sub, sub_score
    return {"robot": robot["id"], "customer": robot["customer"], "site": robot["site"],
            "state": state, "state_reason": robot.get("state_reason"),
            "first_seen_ms": robot.get("first_seen_ms"), "last_window_ms": robot.get("last_window_ms"),
            "score": round(score, 1), "worst": worst, "subsystems": subsystems}
