"""The CS alert rules: plain functions from computed health to candidates.

A candidate says, for one subject, the rule's measured ``value``, whether the firing condition
holds (``firing``) and whether the clearing condition holds (``clearing``), plus a one-line
summary and the facts behind it.  A subject a rule does not return is clearing.  Durations
(``for_s``, ``clear_for_s``) and states are the engine's job.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from collector.health.robot import LEVELS
from protocol.config import Values

NETWORK_RULES = ("robot_offline", "subsystem_degraded")  # robot alerts a site_outage can explain


def decide(cfg: Values, value: float) -> tuple[bool, bool]:
    if cfg.direction == "above":
        return value >= cfg.threshold, value < cfg.clear
    return value <= cfg.threshold, value > cfg.clear


def candidate(cfg, subject, customer, value, summary, facts, site=None, robot=None, **kw) -> dict[str, Any]:
    firing, clearing = decide(cfg, value)
    return {"subject": subject, "customer": customer, "site": site, "robot": robot, "value": value,
            "firing": kw.get("firing", firing), "clearing": kw.get("clearing", clearing),
            "summary": summary, "facts": facts}


def unreachable(r: dict) -> bool:
    """Lost (offline without a clean shutdown) or stale, and not ``closed``: a robot off while its
    venue is closed, or not back yet within the grace after opening, is the venue's night
    (collector.health.hours), so neither robot_offline nor site_outage counts it."""
    if r.get("closed"):
        return False
    return r["state"] == "stale" or (r["state"] == "offline" and r.get("state_reason") != "shutdown")


def robot_offline(ctx: dict, cfg: Values) -> list[dict]:
    out = []
    for r in ctx["robots"]:
        if not unreachable(r):
            continue
        last = r.get("last_window_ms") or r.get("first_seen_ms") or ctx["now"]
        minutes = round(max(0, ctx["now"] - last) / 60000, 1)
        out.append(candidate(cfg, r["robot"], r["customer"], minutes,
                             f"robot {r['robot']} at {r['site']} unreachable for {minutes:.0f} min ({r['state']})",
                             {"state": r["state"], "reason": r.get("state_reason"), "last_window_ms": last,
                              "minutes": minutes}, site=r["site"], robot=r["robot"]))
    return out


def subsystem_degraded(ctx: dict, cfg: Values) -> list[dict]:
    out = []
    for r in ctx["robots"]:
        for sub, h in r["subsystems"].items():
            level = LEVELS[h["level"]]
            if level == 0:
                continue
            out.append(candidate(cfg, f"{r['robot']}/{sub}", r["customer"], float(level),
                                 f"{sub} {h['level']} on robot {r['robot']} (1h rate {h['rate_1h']}, rate since "
                                 f"yesterday {h['rate_since_yesterday']})",
                                 {"subsystem": sub, "level": h["level"], "rate_1h": h["rate_1h"],
                                  "rate_since_yesterday": h["rate_since_yesterday"], "volume_1h": h["volume_1h"],
                                  "volume_since_yesterday": h["volume_since_yesterday"]},
                                 site=r["site"], robot=r["robot"]))
    return out


def site_outage(ctx: dict, cfg: Values) -> list[dict]:
    sites: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in ctx["robots"]:
        sites[(r["customer"], r["site"])].append(r)
    out = []
    for (customer, site), robots in sites.items():
        if len(robots) < max(1, cfg.min_robots):
            continue
        down = sorted(r["robot"] for r in robots
                      if unreachable(r) or r["subsystems"]["network"]["level"] == "crit")
        share = round(len(down) / len(robots), 3)
        few = len(down) < cfg.min_down  # under min_down robots down: never firing, still clearing
        out.append(candidate(cfg, f"{customer}/{site}", customer, share,
                             f"site {site} of {customer}: {len(down)} of {len(robots)} robots unreachable or "
                             f"losing network", {"robots": len(robots), "down": down}, site=site,
                             **({"firing": False} if few else {})))
    return out


def usage_drop(ctx: dict, cfg: Values) -> list[dict]:
    """The scene's primary measure over the last 7 days against the customer's usual level (the
    median of the same weekdays over the weeks before, ``health.peers.usual_level``), so coming back
    to its usual level after a holiday spike is not a drop; without a usual level (no use in the
    weeks before), the week before (facts: ``usage.primary``)."""
    out = []
    for c in ctx["customers"].values():
        use, n = c["facts"]["usage"], c["robots"]["total"]
        prim = use.get("primary")
        if prim is None:
            out += _interaction_drop(c, use, n, cfg)
            continue
        if not n:
            continue
        if prim["vs_usual_pct"] is not None:
            change, level, against = prim["vs_usual_pct"], prim["usual_per_robot_day"], "its usual level"
        elif prim["trend_7d_pct"] is not None:
            change, level, against = prim["trend_7d_pct"], prim["prev_per_robot_day"], "the previous 7 days"
        else:
            continue
        if level < cfg.min_volume:
            continue
        out.append(candidate(cfg, c["customer"], c["customer"], -change,
                             f"{c['customer']}: {prim['measure']} {change:+.0f}% against {against} "
                             f"(last 7 days {prim['last_7d']}, usual {prim['usual_7d']}, week before {prim['prev_7d']})",
                             {"measure": prim["measure"], "change_pct": change, "against": against,
                              "last_7d": prim["last_7d"], "usual_7d": prim["usual_7d"], "prev_7d": prim["prev_7d"],
                              "vs_usual_pct": prim["vs_usual_pct"], "trend_7d_pct": prim["trend_7d_pct"],
                              "interactions_7d": use["interactions_7d"],
                              "interactions_prev_7d": use["interactions_prev_7d"],
                              "trend_weekday_pct": use["trend_weekday_pct"]}))
    return out


def _interaction_drop(c: dict, use: dict, n: int, cfg: Values) -> list[dict]:
    """Interactions, last 7 days against the 7 before (figures without the scene's measure)."""
    # per robot-day in service in the 7 days before (not today's robot count: a grown fleet)
    before = use.get("interactions_per_robot_day_prev_7d", use["interactions_prev_7d"] / (7 * max(1, n)))
    if not n or use["trend_7d_pct"] is None or before < cfg.min_volume:
        return []
    return [candidate(cfg, c["customer"], c["customer"], -use["trend_7d_pct"],
                      f"{c['customer']}: interactions {use['trend_7d_pct']:+.0f}% against the previous 7 days",
                      {"interactions_7d": use["interactions_7d"], "interactions_prev_7d": use["interactions_prev_7d"],
                       "trend_weekday_pct": use["trend_weekday_pct"]})]


def fleet_dormant(ctx: dict, cfg: Values) -> list[dict]:
    """A customer whose robots did nothing for days: on and reporting with no interaction, or
    switched off (closed for days is not a venue's night).  Value: the complete local days in a row
    without an interaction (``facts.usage.idle_days``)."""
    out = []
    for c in ctx["customers"].values():
        idle, n = c["facts"]["usage"].get("idle_days"), c["robots"]["total"]
        if idle is None or n < max(1, cfg.min_robots):
            continue
        on = c["robots"]["online"]
        what = (f"{on} of {n} robots on and reporting, no interaction" if on
                else f"all {n} robots switched off or unreachable")
        out.append(candidate(cfg, c["customer"], c["customer"], float(idle),
                             f"{c['customer']}: {what} for {idle} days",
                             {"idle_days": idle, "robots": n, "robots_on": on,
                              "last_use_ms": c["facts"]["usage"].get("last_use_ms")}))
    return out


def below_peers(ctx: dict, cfg: Values) -> list[dict]:
    """The customer's scene measure per robot per day as a share of the median of the other
    customers of its scene (``health.peers.compare``), from ``min_peers`` of them.  Never firing
    for a customer at or above its scene's benchmark, or a benchmark customer by interactions:
    being the lowest of a strong scene is not a problem."""
    out = []
    for c in ctx["customers"].values():
        peers = c["facts"]["peers"]
        ratio = peers.get("ratio")
        if ratio is None or peers["peers"] < max(1, cfg.min_peers):
            continue
        prim = c["facts"]["usage"].get("primary") or {}
        fine = bool(peers.get("at_benchmark")) or bool(c["facts"]["benchmark"].get("candidate"))
        name = prim.get("measure", "interactions")
        out.append(candidate(cfg, c["customer"], c["customer"], ratio,
                             f"{c['customer']}: {peers['value']:.0f} {name}/robot/day, {ratio * 100:.0f}% of the "
                             f"median ({peers['median']:.0f}) of {peers['peers']} {peers['scene']} peers",
                             {**peers, "measure": name, "benchmark": prim.get("benchmark"),
                              "interactions_per_robot_day_30d":
                              c["facts"]["usage"]["interactions_per_robot_day_30d"]},
                             **({"firing": False} if fine else {})))
    return out


def onboarding_stalled(ctx: dict, cfg: Values) -> list[dict]:
    out = []
    for c in ctx["customers"].values():
        for o in c["facts"]["onboarding"]:
            if o["age_days"] < cfg.min_age_days:
                continue
            site = ctx["sites"].get(o["robot"])
            out.append(candidate(cfg, o["robot"], c["customer"], float(o["active_last_7d"]),
                                 f"new robot {o['robot']} of {c['customer']} active {o['active_last_7d']} of "
                                 f"the last 7 days (age {o['age_days']} days)",
                                 {"age_days": o["age_days"], "active_last_7d": o["active_last_7d"],
                                  "milestones": o["milestones"]}, site=site, robot=o["robot"]))
    return out


def renewal_risk(ctx: dict, cfg: Values) -> list[dict]:
    out = []
    for c in ctx["customers"].values():
        deal = c["facts"]["contract"]
        days = deal["days_to_renewal"]
        if days is None:
            continue
        passed = days < 0  # the end date is the contract's last day (local), inclusive
        firing = passed or (days <= cfg.threshold and c["color"] != "green")
        clearing = not passed and (days > cfg.clear or c["color"] == "green")
        ago = -days
        what = (f"contract ended {ago} day{'s' if ago != 1 else ''} ago with no renewal recorded" if passed
                else f"contract ends today and the customer is {c['color']}" if days == 0
                else f"contract ends in {days} days and the customer is {c['color']}")
        out.append(candidate(cfg, c["customer"], c["customer"], float(days), f"{c['customer']}: {what}",
                             {**deal, "color": c["color"], "score": c["score"]},
                             firing=firing, clearing=clearing))
    return out


def benchmark_candidate(ctx: dict, cfg: Values) -> list[dict]:
    out = []
    for c in ctx["customers"].values():
        bench = c["facts"]["benchmark"]
        if bench["robots"] < max(1, cfg.min_robots):
            continue
        value = bench["interactions_per_robot_day_30d"]
        out.append(candidate(cfg, c["customer"], c["customer"], value,
                             f"{c['customer']}: {value:.0f} interactions per robot per day over 30 days with "
                             f"{bench['robots']} robots ({bench['scene']}): a benchmark customer",
                             dict(bench)))
    return out


def low_conversion(ctx: dict, cfg: Values) -> list[dict]:
    """A customer whose conversion (interactions / foot traffic over its last 30 complete local
    days, ``facts.funnel``) is well under the median of its scene's other customers.  Value: its
    conversion as a ratio of that median (0.4 = 40 % of the median).  Judged only with enough foot
    traffic (``min_volume`` per robot per day) and enough peers of the scene that have it too
    (``min_peers``), so a quiet week or a lone customer does not fire it by chance."""
    judged: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for c in ctx["customers"].values():
        f = c["facts"].get("funnel")
        if f and f["conversion"] is not None and f["robot_days"] and \
                f["volumes"]["foot_traffic"] / f["robot_days"] >= cfg.min_volume:
            judged[c.get("scene") or ""].append((c["customer"], f["conversion"]))
    out = []
    for scene, members in judged.items():
        for customer, conv in members:
            others = sorted(v for cid, v in members if cid != customer)
            if len(others) < max(1, cfg.min_peers):
                continue
            mid = len(others) // 2
            median = others[mid] if len(others) % 2 else (others[mid - 1] + others[mid]) / 2
            if median <= 0:
                continue
            ratio = round(conv / median, 3)
            f = ctx["customers"][customer]["facts"]["funnel"]
            out.append(candidate(cfg, customer, customer, ratio,
                                 f"{customer}: conversion {conv:.1f}% (interactions / foot traffic, {f['days']} days) "
                                 f"is {ratio:.2f} of the {scene or 'unknown'}-scene median {median:.1f}% "
                                 f"of {len(others)} peers",
                                 {"conversion": conv, "median_conversion": round(median, 2), "ratio": ratio,
                                  "peers": len(others), "scene": scene, "from": f["from"], "to": f["to"],
                                  "volumes": f["volumes"]}))
    return out


def goal_at_risk(ctx: dict, cfg: Values) -> list[dict]:
    """A success goal whose projection falls short of its target (``collector.health.goals``:
    status ``at_risk``).  Fires on that status, resolves once the goal is back ``on_track``, is
    ``achieved``, or is over (``missed``: the goal page says so; a call to action has no object
    any more).  Value: the projection as a percent of the target."""
    out = []
    for g in ctx.get("goals", ()):
        target, projection = g["target"], g["projection"]
        value = 100.0 * projection / target if projection is not None and target > 0 else 0.0
        at_risk = g["status"] == "at_risk"
        level = "no data" if g["progress"] is None else f"{g['progress']:g}"
        proj = "no data" if projection is None else f"{projection:g}"
        out.append(candidate(cfg, f"{g['customer']}/goal/{g['id']}", g["customer"], round(value, 1),
                             f"{g['customer']}: goal {g['metric']} {target:g} by {g['due']} at risk "
                             f"(now {level}, projected {proj})",
                             {"goal": g["id"], "metric": g["metric"], "target": target, "progress": g["progress"],
                              "projection": projection, "due": g["due"], "start": g["start"],
                              "status": g["status"], "unit": g["unit"], "days_left": g["days_left"]},
                             firing=at_risk, clearing=not at_risk))
    return out


RULE_FUNCTIONS = {
    "site_outage": site_outage, "robot_offline": robot_offline, "subsystem_degraded": subsystem_degraded,
    "usage_drop": usage_drop, "fleet_dormant": fleet_dormant, "below_peers": below_peers, "onboarding_stalled": onboarding_stalled,
    "renewal_risk": renewal_risk, "benchmark_candidate": benchmark_candidate,
    "low_conversion": low_conversion,
    "goal_at_risk": goal_at_risk,
}
