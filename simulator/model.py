"""What one robot counted in one window: pure, seeded functions of (scenario, robot, time).

The same (seed, robot, t0, t1) always gives the same counts, whichever process or run asks, so a
test can predict a scenario and a back-fill in 1-hour windows tells the same story as 10-second
live windows.  Usage follows the scene profile, the opening hours, the day shape, the weekday,
the customer's engagement (level *and* steadiness: a customer who does not care swings widely)
and the faults that apply; error counts are draws against their catalogue denominators.
"""

from __future__ import annotations

import hashlib
import math
import random

from protocol.catalogue import BY_NAME
from protocol.timeunits import DAY_MS, HOUR_MS
from simulator.profiles import BASE_ERRORS, NAV_SKILLS, PATROLS_PER_H, PROFILES, VOLUMES, day_shape, error_rate
from simulator.scenario import Customer, Fault, Robot, Scenario


def rng_for(seed: int, *parts: object) -> random.Random:
    """A generator seeded from the parts with a stable hash (Python's ``hash`` is salted per run)."""
    digest = hashlib.blake2b(repr((seed, *parts)).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 40:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


# ---------------------------------------------------------------- rhythm

def local_day(scn: Scenario, t_ms: int) -> int:
    return (t_ms + scn.utc_offset_s * 1000) // DAY_MS


def activity(scn: Scenario, customer: Customer, t_ms: int) -> float:
    """0 when closed; otherwise the day shape times the scene's weekday weight."""
    local_ms = t_ms + scn.utc_offset_s * 1000
    day = local_ms // DAY_MS
    minute = (local_ms % DAY_MS) / 60_000
    for opened_day, m in ((day, minute), (day - 1, minute + 1440)):  # today, or last night's late shift
        if customer.open_min <= m < customer.close_min:
            weekday = (opened_day + 3) % 7  # 1970-01-01 was a Thursday
            if weekday in customer.closed_days:
                return 0.0
            x = (m - customer.open_min) / (customer.close_min - customer.open_min)
            return day_shape(x) * PROFILES[customer.scene].weekly[weekday]
    return 0.0


def usage_level(scn: Scenario, customer: Customer, robot: Robot, t_ms: int,
                faults: tuple[Fault, ...]) -> float:
    """How much this robot is used today, relative to its scene profile (before the day shape)."""
    e = customer.engagement
    level = 0.2 + 0.8 * e
    placement = 0.8 + 0.4 * rng_for(scn.seed, robot.id, "placement").random()
    day = local_day(scn, t_ms)
    swing = 0.06 + 0.5 * (1.0 - e) ** 1.3
    daily = math.exp(rng_for(scn.seed, robot.id, day).gauss(0.0, swing) - swing * swing / 2)
    shared = math.exp(rng_for(scn.seed, customer.id, day).gauss(0.0, swing) - swing * swing / 2)
    days_in = (t_ms - customer.onboarded_ms) / DAY_MS
    ramp = min(1.0, 0.35 + 0.65 * days_in / 5.0)
    factor = level * placement * daily * shared * ramp
    for f in faults:
        if f.kind == "disengaging" and t_ms >= f.start_ms:
            factor *= 1.0 + (f.to - 1.0) * f.progress(t_ms)
        elif f.kind == "never_onboarded":
            factor *= 0.5 if days_in < 2 else 0.005
        elif f.kind == "site_network_down" and f.active(t_ms):
            factor *= 0.4  # no voice without the network: people give up
    return factor


def powered_off(faults: tuple[Fault, ...], t_ms: int) -> bool:
    return any(f.kind == "powered_off" and f.active(t_ms) for f in faults)


def is_open(scn: Scenario, customer: Customer, t_ms: int) -> bool:
    """Is the venue open (its opening hours, not a closed day)?"""
    local_ms = t_ms + scn.utc_offset_s * 1000
    day = local_ms // DAY_MS
    minute = (local_ms % DAY_MS) / 60_000
    for opened_day, m in ((day, minute), (day - 1, minute + 1440)):  # today, or last night's late shift
        if customer.open_min <= m < customer.close_min:
            return (opened_day + 3) % 7 not in customer.closed_days  # 1970-01-01 was a Thursday
    return False


def switched_off(scn: Scenario, customer: Customer, faults: tuple[Fault, ...], t_ms: int) -> bool:
    """Off by a fault, or by the venue's night where its scene cuts the power at closing
    (``Profile.off_when_closed``)."""
    return powered_off(faults, t_ms) or (PROFILES[customer.scene].off_when_closed
                                         and not is_open(scn, customer, t_ms))


def clock_offset_ms(faults: tuple[Fault, ...], t_ms: int) -> int:
    """How far the robot's own clock is off at true time ``t_ms``."""
    return sum(f.offset_ms for f in faults if f.kind == "clock_skew" and f.active(t_ms))


# ---------------------------------------------------------------- counts

def _segments(t0: int, t1: int):
    """[t0, t1) cut at hour boundaries: (midpoint, hours) for each piece."""
    t = t0
    while t < t1:
        end = min(t1, (t // HOUR_MS + 1) * HOUR_MS)
        yield (t + end) // 2, (end - t) / HOUR_MS
        t = end


def _errors(scn: Scenario, customer: Customer, faults: tuple[Fault, ...], t_ms: int) -> dict[str, float]:
    rates = {m: error_rate(customer.scene, m) for m in BASE_ERRORS}
    for f in faults:
        if not f.active(t_ms):
            continue
        p = f.progress(t_ms)
        if f.kind == "lidar_failing":
            rates["nav.lidar_faults"] += (f.rate - rates["nav.lidar_faults"]) * p
            rates["nav.start_failures"] += (f.rate / 2 - rates["nav.start_failures"]) * p
            rates["nav.localization_faults"] += (f.rate / 4 - rates["nav.localization_faults"]) * p
        elif f.kind == "asr_degrading":
            rates["asr.unrecognized"] += (f.rate - rates["asr.unrecognized"]) * p
            rates["asr.misrecognized"] += (f.rate / 3 - rates["asr.misrecognized"]) * p
    return rates


def window_counts(scn: Scenario, customer: Customer, robot: Robot, faults: tuple[Fault, ...],
                  t0: int, t1: int) -> dict[str, int] | None:
    """The counters of ``robot`` for the true-time window [t0, t1), or None if it was switched off."""
    mid = (t0 + t1) // 2
    if switched_off(scn, customer, faults, mid) or t0 < customer.onboarded_ms:
        return None
    profile = PROFILES[customer.scene]
    rng = rng_for(scn.seed, robot.id, t0, t1)
    lam: dict[str, float] = dict.fromkeys(profile.hourly, 0.0)
    open_hours = 0.0
    for t, hours in _segments(t0, t1):
        act = activity(scn, customer, t)
        if act <= 0:
            continue
        open_hours += hours
        level = act * hours * usage_level(scn, customer, robot, t, faults)
        for metric, per_h in profile.hourly.items():
            lam[metric] += per_h * level
    counts = {metric: poisson(rng, value) for metric, value in lam.items()}
    for metric, (base, ratio) in VOLUMES.items():
        counts[metric] = poisson(rng, counts[base] * ratio)
    counts["nav.tasks"] = sum(counts.get(s, 0) for s in NAV_SKILLS) + poisson(rng, PATROLS_PER_H * open_hours)
    # a task fails once: a subsystem's error counters together stay within their denominator
    # (lidar_failing's lidar, start and localization faults at 0.6 + 0.3 + 0.15 would pass it)
    left: dict[tuple[str, str], int] = {}
    for metric, rate in _errors(scn, customer, faults, mid).items():
        m = BY_NAME[metric]
        denominator = counts[m.denominator]
        room = left.get((m.subsystem, m.denominator), denominator)
        counts[metric] = min(room, poisson(rng, denominator * rate))
        left[(m.subsystem, m.denominator)] = room - counts[metric]
    counts.update(_network(profile.disconnects_per_h, faults, rng, t0, t1))
    return {k: v for k, v in counts.items() if v}


def _network(per_h: float, faults: tuple[Fault, ...], rng: random.Random, t0: int, t1: int) -> dict[str, int]:
    span_s = (t1 - t0) / 1000
    down = [f for f in faults if f.kind == "site_network_down"]
    offline_ms = 0
    disconnects = 0
    for f in down:
        lo, hi = max(t0, f.start_ms), min(t1, f.end_ms if f.end_ms is not None else t1)
        if hi > lo:
            offline_ms += hi - lo
            if t0 <= f.start_ms < t1:
                disconnects += 1
    disconnects += poisson(rng, per_h * span_s / 3600)
    blips = sum(rng.randint(3, 40) for _ in range(disconnects - (1 if offline_ms else 0)))
    return {"net.disconnects": disconnects,
            "net.offline_s": int(min(span_s, offline_ms / 1000 + blips)),
            "net.errors": poisson(rng, 0.3 * span_s / 3600)}


def window_gauges(scn: Scenario, customer: Customer, robot: Robot, t0: int, t1: int) -> dict[str, float]:
    """A few system gauges, cheap and plausible (the collector keeps min/max/mean per hour)."""
    rng = rng_for(scn.seed, robot.id, t0, "g")
    act = activity(scn, customer, (t0 + t1) // 2)
    hour = ((t1 + scn.utc_offset_s * 1000) % DAY_MS) / HOUR_MS
    return {
        "sys.cpu_pct": round(12 + 35 * act + rng.uniform(0, 8), 1),
        "sys.mem_pct": round(41 + 10 * act + rng.uniform(0, 3), 1),
        "sys.disk_pct": 37.5,
        "sys.temp_c": round(44 + 9 * act + rng.uniform(0, 2), 1),
        "power.battery_pct": round(max(8.0, 100 - 7 * (hour % 12)), 1),
        "net.rtt_ms": round(rng.uniform(25, 60) + (40 if customer.scene == "scenic" else 0), 1),
    }
