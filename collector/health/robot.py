"""Robot health: per-subsystem error rates over two views, a state per subsystem, one score.

Plain functions over summed counters and a clock passed in.  A view of one robot is a short
vector of sums, one slot per (subsystem, errors | denominator) (``SLOT_OF``), so 10,000 robots
cost no per-metric dictionaries; ``to_slots`` builds one from ``{metric: total}``.
Rates use the catalogue's denominators (e.g. ASR = (unrecognized + misrecognized) / requests);
network is judged on the share of the view's seconds spent offline and on disconnects per hour.
Below ``min_volume`` of a denominator no judgement is made (a quiet robot is not a sick one).
Above it, a subsystem is judged on the lower bound of its rate's confidence interval (Wilson for
rates, Poisson for disconnects), so chance alone does not make a robot sick (``combine``: the
short view when it proves something, else the long view as far as the short one allows); network
is judged only once ``network_min_covered_s`` of the view are covered; a level is left only once
the rate is ``state_margin`` below the threshold (``hold``).
"""

from __future__ import annotations

from math import sqrt
from statistics import NormalDist
from typing import Any

from collector.store.seam import day_view_start, hour_view_start
from protocol.catalogue import HEALTH_SUBSYSTEMS, error_metrics
from protocol.config import Values
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


def _rank(value: float, warn: float, crit: float) -> int:
    return 2 if value >= crit else 1 if value >= warn else 0


NAMES = ("ok", "warn", "crit")


def z_of(confidence: float) -> float:
    """The normal quantile of a two-sided interval at ``confidence`` (0.95 -> 1.96, 0.99 -> 2.576)."""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson(errors: float, n: float, z: float) -> tuple[float, float]:
    """The Wilson score interval of an error rate ``errors / n``: (lower, upper) bound.

    Why Wilson: unlike ``rate +- z * sd`` it stays inside 0..1 and is honest at small ``n`` and
    rates near 0, which is where a robot with 20 tasks an hour lives."""
    return _low(errors, n, z), _high(errors, n, z)


def _low(errors: float, n: float, z: float) -> float:
    """The Wilson interval's lower bound (hot path: no tuple, no max).  A rate above 1 (a robot
    reporting more errors than tasks: several error counters of one subsystem for one failed task,
    or counters out of step) is read as 1, not a ValueError from sqrt that stops every robot's
    health and every alert of the cycle."""
    p = errors / n
    if p > 1.0:
        p = 1.0
    z2n = z * z / n
    low = (p + z2n / 2 - z * sqrt(p * (1.0 - p) / n + z2n / (4 * n))) / (1 + z2n)
    return low if low > 0.0 else 0.0


def _high(errors: float, n: float, z: float) -> float:
    p = errors / n
    if p > 1.0:
        p = 1.0
    z2n = z * z / n
    high = (p + z2n / 2 + z * sqrt(p * (1.0 - p) / n + z2n / (4 * n))) / (1 + z2n)
    return high if high < 1.0 else 1.0


def poisson(k: float, z: float) -> tuple[float, float]:
    """Bounds on the mean of a Poisson count ``k`` (disconnects in a view) at the quantile ``z``
    (Byar's approximation: within a few percent of the exact chi-square bounds from k = 1)."""
    if z <= 0:
        return float(k), float(k)
    low = 0.0 if k <= 0 else k * max(0.0, 1 - 1 / (9 * k) - z / (3 * sqrt(k))) ** 3
    k1 = k + 1
    return low, k1 * (1 - 1 / (9 * k1) + z / (3 * sqrt(k1))) ** 3


def combine(short: tuple | None, long_: tuple | None) -> float | None:
    """The rate a subsystem is judged on, from each view's (lower, upper) bounds: the short view
    when it proves something (its lower bound), else the long view's lower bound as far as the
    short view allows it (not above the short view's upper bound, so a repair shows within the
    hour).  None: neither view has the volume."""
    if short is None:
        return None if long_ is None else long_[0]
    if long_ is None or long_[0] <= short[0]:
        return short[0]
    return max(short[0], min(long_[0], short[1]))


def hold(up: int, down: int, previous: int | None) -> int:
    """The level with hysteresis: ``up`` is the level the value reaches at the thresholds,
    ``down`` the level it still holds at ``keep`` (1 - ``state_margin``) times the thresholds
    (``down >= up``).  A subsystem enters a worse level at once; it leaves a level only once the
    value is below ``keep`` times that level's threshold.  Idempotent: holding again from the
    result gives the result (the cycle's cache of unchanged robots relies on it)."""
    if previous is None or previous <= up:
        return up
    return min(previous, down)


def settle(value: float, warn: float, crit: float, keep: float, previous: int | None) -> int:
    """``hold`` for one rate and its thresholds."""
    up = 2 if value >= crit else 1 if value >= warn else 0
    if previous is None or previous <= up:
        return up
    return hold(up, _rank(value, warn * keep, crit * keep), previous)


def judge_network(vec: Vector | None, covered_s: float, min_covered_s: float, z: float) -> tuple | None:
    """One view of the network: ``(offline share, errors, disconnects, offline_s, judged,
    disconnects/h lower, disconnects/h upper)``, or None without data or seconds covered.  The
    view is judged (``judged``) only with ``min_covered_s`` seconds covered: a robot seen for 5
    minutes with one 60-second drop is 20 % offline by chance, not by evidence.  The offline share
    is measured, not sampled, so it has no interval; disconnects are counts (Poisson bounds)."""
    if vec is None or covered_s <= 0:
        return None
    offline_s = vec[OFFLINE_SLOT]
    disconnects = vec[DISCONNECT_SLOT]
    low, high = poisson(disconnects, z)
    per_h = 3600.0 / covered_s
    return (min(1.0, offline_s / covered_s), disconnects + vec[NET_ERROR_SLOT], disconnects, offline_s,
            covered_s >= min_covered_s, low * per_h, high * per_h)


def robot_state(robot: dict, now_ms: int, s: Values) -> str:
    """online | offline (reported) | stale (not reported offline, but silent for 3 intervals)."""
    if robot["state"] == "offline":
        return "offline"
    # a robot known only from its status (no window yet) counts from when it was first seen, so a
    # robot that just booted is not stale before it had a chance to send a window
    last = robot.get("last_window_ms") or robot.get("first_seen_ms")
    limit = max(s.stale_intervals * robot.get("interval_s", 10) * 1000, s.stale_floor_s * 1000)
    if last is None or now_ms - last > limit:
        return "stale"
    return "online"


def plan(s: Values) -> tuple:
    """The settings one cycle needs per subsystem, looked up once instead of 140,000 times:
    ``(sub, limits)``, ``limits`` being (errors slot, denominator slot, warn, crit) for a rated
    subsystem and None for network; and the settings shared by all, ``(min_volume, z, keep,
    network_min_covered_s)``."""
    subs = tuple((sub, None) if sub == "network" else
                 (sub, (ERR_SLOT[sub], DEN_SLOT[sub], getattr(s, f"{sub}_warn"), getattr(s, f"{sub}_crit")))
                 for sub in HEALTH_SUBSYSTEMS)
    return subs, (s.min_volume, z_of(s.confidence), 1.0 - s.state_margin, s.network_min_covered_s)


def previous_levels(levels: tuple) -> dict[str, int]:
    """``{subsystem: level}`` from a stored row's levels (``cycle.levels``: its last item holds
    (level, state) per subsystem in sorted order)."""
    return {sub: LEVELS[pair[0]] for sub, pair in zip(sorted(HEALTH_SUBSYSTEMS), levels[-1])}


def assess(robot: dict, hour: Vector | None, day: Vector | None, now_ms: int, s: Values,
           planned: tuple | None = None, previous: dict[str, int] | None = None) -> dict[str, Any]:
    """The health of one robot from its hour-view and day-view vectors (None: no data in the view)
    (``planned``: ``plan(s)``, computed once per cycle by the caller; ``previous``: each
    subsystem's last level, for the hysteresis, None for a robot never assessed).

    Each subsystem is judged on a bound of its rate, not the rate itself: the lower bound of its
    Wilson interval at ``confidence`` (as in ``combine``: the short view's bound, or the long
    view's as far as the short view allows); a view under ``min_volume`` is not judged.  A robot at its usual 3.9 % navigation errors over 20
    tasks then does not read warn because 2 tasks of 20 failed, while one at 40 % over 100 does."""
    subs, (min_volume, z, keep, min_covered_s) = planned or plan(s)
    state = robot_state(robot, now_ms, s)
    first = robot.get("first_seen_ms") or now_ms
    covered_h = max(0.0, (now_ms - max(hour_view_start(now_ms), first)) / 1000)
    covered_d = max(0.0, (now_ms - max(day_view_start(now_ms), first)) / 1000)
    stale = state == "stale"
    subsystems: dict[str, dict] = {}
    worst, score = None, 100.0
    for sub, limits in subs:
        before = previous.get(sub) if previous else None
        if limits is None:  # network: share of the view's seconds offline, disconnects per hour
            short = judge_network(hour, covered_h, min_covered_s, z)
            long_ = judge_network(day, covered_d, min_covered_s, z)
            entry = _network(short, long_, s, keep, before)
        else:  # hot path (60,000 times a cycle at 10,000 robots): ``judge`` and ``combine`` inlined
            err, den, warn, crit = limits
            n_h = hour[den] if hour is not None else 0
            n_d = day[den] if day is not None else 0
            short = n_h >= min_volume and n_h > 0
            long_ = n_d >= min_volume and n_d > 0
            e_h = hour[err] if short else 0
            e_d = day[err] if day is not None else 0
            if short:
                value = _low(e_h, n_h, z) if e_h else 0.0
                if long_ and e_d:  # the long view's lower bound, as far as the short view allows
                    low_d = _low(e_d, n_d, z)
                    if low_d > value:
                        high_h = _high(e_h, n_h, z)
                        value = low_d if low_d < high_h else high_h
            elif long_:
                value = _low(e_d, n_d, z) if e_d else 0.0
            else:
                value = None
            if value is None:
                level, sub_score = 0, 100.0
            else:
                level, sub_score = settle(value, warn, crit, keep, before), _score(value, warn, crit)
            entry = {
                "level": NAMES[level], "judged": value is not None,
                "rate_1h": round(e_h / n_h, 4) if short else None,
                "rate_since_yesterday": round(e_d / n_d, 4) if long_ else None,
                "rate_bound": round(value, 4) if value is not None else None,
                "volume_1h": n_h, "volume_since_yesterday": n_d, "errors_since_yesterday": e_d,
                "score": round(sub_score, 1),
            }
        entry["state"] = "stale" if stale else entry["level"]
        subsystems[sub] = entry
        if entry["score"] < score:
            worst, score = sub, entry["score"]
    return {"robot": robot["id"], "customer": robot["customer"], "site": robot["site"],
            "state": state, "state_reason": robot.get("state_reason"),
            "first_seen_ms": robot.get("first_seen_ms"), "last_window_ms": robot.get("last_window_ms"),
            "score": round(score, 1), "worst": worst, "subsystems": subsystems}


def _network(short: tuple | None, long_: tuple | None, s: Values, keep: float, before: int | None) -> dict:
    """The network entry: judged on the worse of the offline share and the disconnects per hour
    (its lower bound), each combined over the views judged (``judge_network``)."""
    s_j = short if short is not None and short[4] else None
    l_j = long_ if long_ is not None and long_[4] else None
    offline = combine(s_j and (s_j[0], s_j[0]), l_j and (l_j[0], l_j[0]))
    per_h = combine(s_j and (s_j[5], s_j[6]), l_j and (l_j[5], l_j[6]))
    if offline is None:
        level, sub_score = 0, 100.0
    else:
        ow, oc = s.network_offline_warn, s.network_offline_crit
        dw, dc = s.network_disconnects_warn, s.network_disconnects_crit
        up = max(_rank(offline, ow, oc), _rank(per_h, dw, dc))
        down = max(_rank(offline, ow * keep, oc * keep), _rank(per_h, dw * keep, dc * keep))
        level, sub_score = hold(up, down, before), min(_score(offline, ow, oc), _score(per_h, dw, dc))
    entry = {
        "level": NAMES[level], "judged": offline is not None,
        "rate_1h": round(short[0], 4) if short else None, "rate_since_yesterday": round(long_[0], 4) if long_ else None,
        "rate_bound": round(offline, 4) if offline is not None else None,
        "disconnects_per_h_bound": round(per_h, 3) if per_h is not None else None,
        "volume_1h": None, "volume_since_yesterday": None, "errors_since_yesterday": long_[1] if long_ else 0,
        "score": round(sub_score, 1),
    }
    if long_ is not None:
        entry["offline_s_since_yesterday"] = long_[3]
    return entry
