"""Customer fleet health: robots, anomalies, usage, peers, onboarding, contract, one score.

Plain functions over the robots' health, summed usage and a clock passed in.  The score is a
weighted mean of measures, each 0-100 with the fact behind it; the breakdown's points add up to
the score exactly (to a tenth).  Peers are customers of the same scene only (DOMAIN.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from collector.health.service import date_label
from collector.health.settings import MEASURES
from protocol.catalogue import HEALTH_SUBSYSTEMS, USAGE_VOLUMES
from protocol.config import Values
from protocol.timeunits import DAY_MS, local_day, utc_offset_ms


def robot_counts(robots: list[dict]) -> dict[str, int]:
    states = [r["state"] for r in robots]
    return {"total": len(robots), "online": states.count("online"),
            "offline": states.count("offline"), "stale": states.count("stale"),
            "closed": sum(1 for r in robots if r.get("closed"))}


def _unreachable(r: dict) -> bool:
    """Lost (offline without a clean shutdown) or stale: the robot cannot reach the collector."""
    return r["state"] == "stale" or (r["state"] == "offline" and r.get("state_reason") != "shutdown")


def anomalies(robots: list[dict]) -> dict[str, dict]:
    """Per subsystem, the seed's three figures: robots with anomalies, anomaly count, anomaly rate.
    A robot that is lost or stale has a network anomaly whatever its last figures say (seed 002
    counts the robots that lost their connection)."""
    out = {}
    for sub in HEALTH_SUBSYSTEMS:
        with_anomaly = sum(1 for r in robots if r["subsystems"][sub]["state"] in ("warn", "crit")
                           or (sub == "network" and _unreachable(r)))
        out[sub] = {"robots": with_anomaly,
                    "count": sum(r["subsystems"][sub]["errors_since_yesterday"] for r in robots),
                    "rate": round(with_anomaly / len(robots), 4) if robots else 0.0}
    return out


def usage(sums: dict[str, int], yesterday: dict[str, int], n_robots: int | dict) -> dict[str, Any]:
    """Usage from the customer's interaction sums (``views.usage_sums``: ``last7``, ``prev7``,
    ``last30``, ``yesterday``, ``weekday4`` = the same weekday in each of the 4 weeks before) and
    its robots' summed counters of yesterday (the four volumes per robot per day).

    Every per-robot figure is over robot-days in service (``service.scheduled``: robots that
    existed and were scheduled that local day), never today's robot count times the days: a new
    customer's 5 days are 5 days, a grown fleet's early days count its robots then.  A plain
    ``n_robots`` (int) means that many robots in service on every day."""
    if isinstance(n_robots, dict):
        days = n_robots
    else:
        days = {"per_day": [n_robots] * 30, "robot_days_7d": 7 * n_robots,
                "robot_days_prev_7d": 7 * n_robots, "robot_days_30d": 30 * n_robots, "closed_weekdays": []}
    last7, prev7 = sums.get("last7", 0), sums.get("prev7", 0)
    n_yesterday = max(1, (days["per_day"] or [0])[0])
    return {
        "per_robot_per_day": {m.split(".", 1)[1]: round(yesterday.get(m, 0) / n_yesterday, 1) for m in USAGE_VOLUMES},
        "interactions_per_robot_day_7d": _per(last7, days["robot_days_7d"]),
        "interactions_7d": last7, "interactions_prev_7d": prev7,
        "interactions_per_robot_day_prev_7d": _per(prev7, days["robot_days_prev_7d"]),
        "trend_7d_pct": _pct(last7, prev7),
        "trend_weekday_pct": _pct(sums.get("yesterday", 0), sums.get("weekday4", 0) / 4),
        "interactions_per_robot_day_30d": _per(sums.get("last30", 0), days["robot_days_30d"]),
        "interactions_30d": sums.get("last30", 0),
        "robots_yesterday": (days["per_day"] or [0])[0],
        "robot_days_7d": days["robot_days_7d"], "robot_days_30d": days["robot_days_30d"],
        "closed_weekdays": days["closed_weekdays"],
        "last_use_ms": sums.get("last_use_ms"),
    }


def _per(total: float, robot_days: int) -> float:
    """A total per robot-day in service (0 with none: nothing could have been used)."""
    return round(total / robot_days, 1) if robot_days > 0 else 0.0


def _pct(now: float, before: float) -> float | None:
    return None if before <= 0 else round((now - before) * 100.0 / before, 1)


def skill_mix(skills: dict[str, int]) -> dict[str, float]:
    total = sum(skills.values())
    return {k.split(".", 1)[1]: round(v / total, 3) for k, v in sorted(skills.items())} if total else {}


def peer_percentiles(values: dict[str, tuple[str, float]]) -> dict[str, dict]:
    """``{customer: (scene, value)}`` -> ``{customer: {percentile, peers}}``, within the scene only.

    The percentile is the share of the scene's other customers below (ties count half)."""
    by_scene: dict[str, list[tuple[str, float]]] = {}
    for customer, (scene, value) in values.items():
        by_scene.setdefault(scene, []).append((customer, value))
    out = {}
    for scene, members in by_scene.items():
        for customer, value in members:
            others = [v for c, v in members if c != customer]
            below = sum(1 for v in others if v < value) + 0.5 * sum(1 for v in others if v == value)
            out[customer] = {"scene": scene, "peers": len(others),
                             "percentile": round(100.0 * below / len(others), 1) if others else None}
    return out


MILESTONES = (7, 14, 30)


def handover(robot: dict, off: int, contract_start: str | None = None,
             data_start_ms: int | None = None) -> tuple[int, str] | None:
    """When the robot's onboarding began (an instant, UTC ms) and from what: its handover
    (``activated`` in the asset registry) at local midnight; else, for a robot that predates the
    collector (first seen on the collector's first day of data), the customer's contract start;
    else the moment it was first seen.  None: never seen, no handover known."""
    activated = date_label(robot.get("activated"))
    if activated is not None:
        return activated - off, "activated"
    first = robot.get("first_seen_ms")
    if first is None:
        return None
    start = date_label(contract_start)
    if start is not None and data_start_ms is not None and first - data_start_ms < DAY_MS:
        return start - off, "contract_start"
    return first, "first_seen"


def _start_label(began: tuple[int, str], off: int, zone: str | None) -> int:
    """The local day a handover began: a date as given, or the day of the first sighting at the
    zone's offset of that instant (a robot first seen before a daylight-saving change)."""
    if began[1] != "first_seen":
        return began[0] + off
    if zone:
        try:
            return local_day(began[0], utc_offset_ms(zone, began[0]))
        except (ValueError, KeyError, OSError):
            pass
    return local_day(began[0], off)


def onboarding(robots: list[dict], active_days: dict[str, set[int]], now_ms: int, s: Values,
               off: int = 0, contract_start: str | None = None, data_start_ms: int | None = None,
               zone: str | None = None) -> list[dict]:
    """For robots handed over within ``onboarding_days`` (``handover``): active days within their
    first 7/14/30 days and whether each milestone is met, missed (its days are over) or still open.
    Days are local days of the customer (``off``: its UTC offset; ``active_days`` holds local day
    labels).  A fleet deployed long before its collector is not onboarding (its contract start is
    long past), so it is never "stalled" for the days the collector did not see."""
    today = local_day(now_ms, off)
    out = []
    for r in robots:
        began = handover(r, off, contract_start, data_start_ms)
        if began is None or began[0] < now_ms - s.onboarding_days * DAY_MS:
            continue
        start = _start_label(began, off, zone)
        days = active_days.get(r["id"], set())
        row = {"robot": r["id"], "first_seen_ms": r.get("first_seen_ms"),
               "handover_date": dt.datetime.fromtimestamp(start / 1000, dt.timezone.utc).strftime("%Y-%m-%d"),
               "handover_from": began[1], "age_days": (today - start) // DAY_MS, "milestones": {}}
        for n in MILESTONES:
            active = sum(1 for d in days if start <= d < start + n * DAY_MS)
            need = getattr(s, f"milestone_{n}")
            over = today >= start + n * DAY_MS
            row["milestones"][str(n)] = {"active_days": active, "needed": need,
                                         "status": "met" if active >= need else "missed" if over else "open"}
        row["active_last_7d"] = sum(1 for d in days if today - 7 * DAY_MS <= d < today)
        out.append(row)
    return out


def contract(customer: dict, now_ms: int) -> dict[str, Any]:
    """Days from the customer's local today to its contract's end date: 0 on the last day (the end
    date is a day of the contract), negative once it ended."""
    end = customer.get("contract_end")
    out: dict[str, Any] = {"arr": customer.get("arr") or 0.0, "contract_end": end, "days_to_renewal": None}
    if end:
        try:
            end_ms = int(dt.datetime.strptime(end, "%Y-%m-%d").replace(tzinfo=dt.timezone.utc).timestamp()) * 1000
        except ValueError:
            return out
        out["days_to_renewal"] = (end_ms - local_day(now_ms, customer.get("offset_ms") or 0)) // DAY_MS
    return out


def measures(robots: list[dict], use: dict, peers: dict, onboard: list[dict], deal: dict,
             s: Values) -> dict[str, tuple[float, str]]:
    """Each measure's (score 0-100, the fact behind it): leading indicators only; ``deal`` (the
    contract) is not one of them (see ``settings.MEASURES``)."""
    out: dict[str, tuple[float, str]] = {}
    # robots shut down cleanly, and robots off while their venue is closed, are not in service
    in_service = [r for r in robots if not (r["state"] == "offline" and r.get("state_reason") == "shutdown")
                  and not r.get("closed")]
    if in_service:
        scores = [r["score"] if r["state"] == "online" else 0.0 for r in in_service]
        down = sum(1 for r in in_service if r["state"] != "online")
        out["reliability"] = (sum(scores) / len(scores),
                              f"mean robot score {sum(scores) / len(scores):.0f} over {len(in_service)} robots "
                              f"in service, {down} unreachable")
    elif any(r.get("closed") for r in robots):
        out["reliability"] = (100.0, "venue closed: no robot in service")
    else:
        out["reliability"] = (100.0, "no robot in service")
    prim = use.get("primary")
    out["adoption"] = _adoption(prim, peers) if prim is not None else _adoption_interactions(use, peers, s)
    change = use["trend_7d_pct"]
    usual = prim.get("vs_usual_pct") if prim is not None else None
    if usual is not None:
        # the scene's measure against the customer's usual level (same weekdays of the weeks before):
        # the week after a holiday spike is not a fall
        out["usage_trend"] = (max(0.0, min(100.0, 100.0 + 2.0 * usual)),
                              f"{prim['measure']} {usual:+.0f}% against its usual level")
    elif change is None:
        out["usage_trend"] = (100.0 if use["interactions_7d"] else 50.0,
                              "no usage in the 7 days before to compare with")
    else:
        out["usage_trend"] = (max(0.0, min(100.0, 100.0 + 2.0 * change)),
                              f"interactions {change:+.0f}% against the previous 7 days")
    reached = [m for o in onboard for m in o["milestones"].values() if m["status"] != "open"]
    if reached:
        met = sum(1 for m in reached if m["status"] == "met")
        out["onboarding"] = (100.0 * met / len(reached),
                             f"{met} of {len(reached)} onboarding milestones met by {len(onboard)} new robots")
    else:
        out["onboarding"] = (100.0, f"{len(onboard)} robots onboarding, no milestone due yet")
    return out


def _adoption(prim: dict, peers: dict) -> tuple[float, str]:
    """Adoption on the scene's primary measure (peers.py): its share of the scene's benchmark per
    robot per day, or its percentile among the scene's customers where there are enough of them to
    rank, whichever is higher: a customer at the benchmark is fully adopted wherever it ranks."""
    value, bench, name = prim["per_robot_day_30d"], prim["benchmark"], prim["measure"]
    share = min(100.0, 100.0 * value / bench)
    scene = peers.get("scene") or "unknown"
    if peers.get("percentile") is not None:
        return (max(share, peers["percentile"]),
                f"{value:.0f} {name}/robot/day: {share:.0f}% of the benchmark {bench:.0f}, percentile "
                f"{peers['percentile']:.0f} among {peers['peers']} {scene}-scene peers")
    return (share, f"{value:.0f} {name}/robot/day: {share:.0f}% of the benchmark {bench:.0f} "
                   f"({peers.get('peers', 0)} {scene}-scene peers, too few to rank)")


def _adoption_interactions(use: dict, peers: dict, s: Values) -> tuple[float, str]:
    """Adoption on interactions alone (figures without the scene's measure)."""
    value = use["interactions_per_robot_day_30d"]
    if peers.get("percentile") is not None:
        return (peers["percentile"], f"{value:.0f} interactions/robot/day: percentile "
                f"{peers['percentile']:.0f} among {peers['peers']} {peers['scene'] or 'unknown'}-scene peers")
    return (min(100.0, 100.0 * value / s.benchmark_interactions),
            f"{value:.0f} interactions/robot/day against the benchmark "
            f"{s.benchmark_interactions:.0f} (no peers in its scene)")


def score(parts: dict[str, tuple[float, str]], s: Values) -> tuple[float, list[dict]]:
    """Weighted score and its breakdown; points are in tenths so they add up to the score exactly."""
    weights = {m: getattr(s, f"weight_{m}") for m in MEASURES}
    total_w = sum(weights.values())
    exact = {m: weights[m] * parts[m][0] / total_w for m in MEASURES}
    target = round(sum(exact.values()) * 10)
    tenths = {m: int(exact[m] * 10) for m in MEASURES}
    by_remainder = sorted(MEASURES, key=lambda m: exact[m] * 10 - tenths[m], reverse=True)
    for m in by_remainder[: max(0, target - sum(tenths.values()))]:
        tenths[m] += 1
    breakdown = [{"measure": m, "score": round(parts[m][0], 1), "weight": weights[m],
                  "points": tenths[m] / 10, "fact": parts[m][1]} for m in MEASURES]
    return sum(tenths.values()) / 10, breakdown


COLORS = ("red", "yellow", "green")


def color(value: float, s: Values, before: str | None = None) -> str:
    """The score's colour band; with the colour it had (``before``), hysteresis: a customer changes
    colour only once its score passes the band's edge by ``color_margin`` points, so a score
    wavering around 70 does not turn it green, yellow, green day after day."""
    def band(shift: float) -> int:
        return 2 if value >= s.green + shift else 1 if value >= s.yellow + shift else 0
    now = band(0.0)
    if before not in COLORS:
        return COLORS[now]
    margin = s.color_margin
    return COLORS[max(band(margin), min(COLORS.index(before), band(-margin)))]


def trend(value: float, week_ago: float | None, s: Values) -> str:
    if week_ago is None:
        return "flat"
    diff = value - week_ago
    return "up" if diff >= s.trend_points else "down" if diff <= -s.trend_points else "flat"


def _venue_facts(v) -> dict | None:
    return None if v is None else {"open": v.open, "opened_ms": v.opened_ms, "source": v.source, "hours": v.hours}


def idle_days(last_use_ms: int | None, customer: dict, robot_rows: list[dict], now_ms: int) -> int | None:
    """Complete local days since the customer's robots last had an interaction (up to 30, the
    span read); with none in 30 days, the days since its first robot was first seen (capped at 30).
    None without robots."""
    off, today = customer.get("offset_ms") or 0, customer.get("local_day")
    today = local_day(now_ms, off) if today is None else today
    if last_use_ms is not None:
        return max(0, (today - local_day(last_use_ms, off)) // DAY_MS - 1)
    firsts = [r["first_seen_ms"] for r in robot_rows if r.get("first_seen_ms") is not None]
    if not firsts:
        return None
    return min(30, (today - local_day(min(firsts), off)) // DAY_MS)


def dormant(idle: int | None, robots: list[dict], s: Values) -> dict | None:
    """A fleet with no interaction for ``health.dormant_days`` complete local days: on and unused,
    or switched off.  Either way nobody uses what the customer pays for: red, whatever the score."""
    if idle is None or not robots or idle < s.dormant_days:
        return None
    on = sum(1 for r in robots if r["state"] == "online")
    why = (f"{on} of {len(robots)} robots on and reporting, not used" if on
           else f"all {len(robots)} robots switched off or unreachable")
    return {"idle_days": idle, "robots_on": on, "robots": len(robots),
            "reason": f"no interaction for {idle} days: {why}"}


def assess(customer: dict, robots: list[dict], use: dict, skills: dict[str, int], peers: dict,
           active_days: dict[str, set[int]], robot_rows: list[dict], week_ago: float | None,
           now_ms: int, s: Values) -> dict[str, Any]:
    """The whole fleet health of one customer (``use`` from ``usage``, with ``primary`` from
    ``peers.primary``; ``peers`` from ``peers.compare``)."""
    counts = robot_counts(robots)
    onboard = onboarding(robot_rows, active_days, now_ms, s, customer.get("offset_ms") or 0,
                         customer.get("contract_start"), customer.get("data_start_ms"), customer.get("timezone"))
    deal = contract(customer, now_ms)
    value, breakdown = score(measures(robots, use, peers, onboard, deal, s), s)
    idle = idle_days(use.get("last_use_ms"), customer, robot_rows, now_ms)
    asleep = dormant(idle, robots, s)
    bench = use["interactions_per_robot_day_30d"]
    return {
        "customer": customer["id"], "scene": customer.get("scene") or "", "score": value,
        "color": "red" if asleep else color(value, s), "trend": trend(value, week_ago, s), "robots": counts,
        "breakdown": breakdown,
        "timezone": customer.get("timezone"), "local_day": customer.get("local_day"),
        "facts": {
            "timezone": customer.get("timezone"),
            "venue": _venue_facts(customer.get("venue")),
            "site_venues": {site: _venue_facts(v) for site, v in (customer.get("site_venues") or {}).items()},
            "anomalies": anomalies(robots), "usage": {**use, "idle_days": idle}, "dormant": asleep, "skills": skill_mix(skills), "peers": peers,
            "onboarding": onboard, "contract": deal,
            "benchmark": {"interactions_per_robot_day_30d": bench, "robots": counts["total"],
                          "scene": customer.get("scene") or "",
                          "candidate": bench >= s.benchmark_interactions and counts["total"] > 0},
            "score_7d_ago": week_ago,
        },
    }
