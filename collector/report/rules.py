"""Risks named plainly and recommended next steps, derived from a report's figures.

Each rule is one row of a table: a code, the figure it reads, its threshold, and the facts it
passes to its sentence (the sentences live in the dashboard's catalogue, ``report.risk.<code>`` and
``report.step.<code>``, in Chinese and English).  docs/report.md lists the same table; a test
checks every code has its sentences and its docs row.
"""

from __future__ import annotations

import datetime as dt

from protocol.catalogue import HEALTH_SUBSYSTEMS

#: thresholds of the rules (docs/report.md "Risks and next steps")
USAGE_FALL_PCT = -20.0          # interactions per robot-day against the month before
BELOW_PEERS_PCT = 50.0          # the scene's measure per robot-day as a percent of the peers' median
BELOW_PEERS_MIN_PEERS = 2       # fewest peers for a median (alerts.below_peers.min_peers' default)
AVAILABILITY_PCT = 90.0         # robot-hours with data in opening hours
ANOMALY_RATE = 0.25             # robots with anomalies / robots, per subsystem
SLOW_FIX_MINUTES = 24 * 60.0    # median time from an alert's opening to its resolution
IDLE_DAYS = 3                   # local days of the month without one interaction
LOW_CONVERSION_PCT = 50.0       # interactions / foot traffic as a percent of the peers' median
CONVERSION_MIN_VOLUME = 20.0    # foot traffic per robot-day to be judged or a peer (alerts.low_conversion.min_volume)
CONVERSION_MIN_PEERS = 3        # fewest such peers for a median (alerts.low_conversion.min_peers' default)
RENEWAL_DAYS = 90               # contract end within this many days after the month

RISK_CODES = ("no_use", "usage_falling", "below_peers", "low_conversion", "idle_days", "low_availability",
              "subsystem_anomalies", "open_alerts", "slow_fixes", "goals_off_track", "renewal_due")
STEP_CODES = ("reactivate", "review_usage", "share_peer_practice", "improve_conversion", "check_power_schedule",
              "fix_subsystem", "close_alerts", "speed_up_fixes", "goal_plan", "prepare_renewal",
              "propose_benchmark", "path_to_benchmark", "keep_cadence")
#: the next step each risk calls for
STEP_FOR = {"no_use": "reactivate", "idle_days": "reactivate", "usage_falling": "review_usage",
            "below_peers": "share_peer_practice", "low_conversion": "improve_conversion",
            "low_availability": "check_power_schedule", "subsystem_anomalies": "fix_subsystem",
            "open_alerts": "close_alerts", "slow_fixes": "speed_up_fixes", "goals_off_track": "goal_plan",
            "renewal_due": "prepare_renewal"}


def _days_between(a: str, b: str) -> int:
    return (dt.date.fromisoformat(b) - dt.date.fromisoformat(a)).days


def risks(r: dict) -> list[dict]:
    """The risks the figures show, most serious first; each ``{code, facts}``."""
    out: list[dict] = []
    vol, per = r["outcome"]["volumes"], r["outcome"]["per_robot_day"]
    if r["robots"]["in_service"] and vol["usage.interactions"] == 0:
        out.append({"code": "no_use", "facts": {"robots": r["robots"]["in_service"]}})
    change = r["previous"]["per_robot_day_change_pct"]["usage.interactions"]
    if r["previous"]["has_data"] and change is not None and change <= USAGE_FALL_PCT:
        out.append({"code": "usage_falling", "facts": {"pct": change, "month": r["previous"]["month"]}})
    # as health's below_peers: the scene's primary measure against the peers' median, from two
    # peers, never for a customer at or above the scene's benchmark
    m, pm = r.get("measure") or {}, r["peers"].get("measure") or {}
    ratio = pm.get("median_ratio_pct")
    if (r["peers"]["customers"] >= BELOW_PEERS_MIN_PEERS and ratio is not None and ratio <= BELOW_PEERS_PCT
            and (m.get("per_robot_day") or 0) < m.get("benchmark", float("inf"))):
        out.append({"code": "below_peers", "facts": {"pct": ratio, "peers": r["peers"]["customers"],
                                                     "measure": m.get("metrics", ["usage.interactions"])}})
    # as health's low_conversion: against the median of the peers with enough foot traffic, from three
    conv, pc = r["funnel"]["conversion_pct"], r["peers"].get("conversion") or {}
    traffic = per.get("usage.foot_traffic")
    median = pc.get("median_pct")
    if (conv is not None and traffic is not None and traffic >= CONVERSION_MIN_VOLUME and median
            and pc.get("peers", 0) >= CONVERSION_MIN_PEERS and conv <= median * LOW_CONVERSION_PCT / 100):
        out.append({"code": "low_conversion", "facts": {"pct": conv, "peers_pct": median}})
    days = list(zip(r["daily"]["interactions"], r["daily"]["robots"]))
    if not r.get("period", {}).get("complete", True):
        days = days[:-1]  # the day in progress is not idle yet
    idle = sum(1 for n, robots in days if robots and n == 0)
    if vol["usage.interactions"] and idle >= IDLE_DAYS:
        out.append({"code": "idle_days", "facts": {"days": idle}})
    avail = r["availability"]["pct"]
    if avail is not None and avail < AVAILABILITY_PCT:
        out.append({"code": "low_availability", "facts": {"pct": avail}})
    for sub in HEALTH_SUBSYSTEMS:
        a = r["anomalies"][sub]
        if a["robots"] and a["rate"] >= ANOMALY_RATE:
            out.append({"code": "subsystem_anomalies",
                        "facts": {"subsystem": sub, "robots": a["robots"], "pct": round(a["rate"] * 100, 1)}})
    if r["alerts"]["open_at_end"]:
        out.append({"code": "open_alerts", "facts": {"count": r["alerts"]["open_at_end"]}})
    median = r["alerts"]["median_minutes"]
    if median is not None and median > SLOW_FIX_MINUTES:
        out.append({"code": "slow_fixes", "facts": {"hours": round(median / 60, 1)}})
    off = [g for g in r["goals"].get("items", []) if g.get("status") in ("at_risk", "missed")]
    if off:
        out.append({"code": "goals_off_track", "facts": {"count": len(off)}})
    end = r["customer"].get("contract_end")
    if end:
        days = _days_between(r["period"]["last_day"], end)
        if days <= RENEWAL_DAYS:
            out.append({"code": "renewal_due", "facts": {"date": end, "days": days}})
    return out


def next_steps(r: dict) -> list[dict]:
    """One step per kind of risk (in the risks' order), then the benchmark's: propose the customer
    as a benchmark (case study, referral) when it meets it, or the gap to close when it is halfway."""
    out: list[dict] = []
    seen: set[str] = set()
    for risk in r["risks"]:
        code = STEP_FOR[risk["code"]]
        if code in seen and code != "fix_subsystem":
            continue
        seen.add(code)
        facts = dict(risk["facts"])
        if code == "share_peer_practice":
            facts["scene"] = r["peers"]["scene"]
        out.append({"code": code, "facts": facts})
    b = r["benchmark"]
    if b["met"]:
        out.append({"code": "propose_benchmark", "facts": {"value": b["interactions_per_robot_day"],
                                                          "threshold": b["threshold"]}})
    elif b["progress_pct"] is not None and b["progress_pct"] >= 50:
        out.append({"code": "path_to_benchmark", "facts": {
            "gap": round(b["threshold"] - b["interactions_per_robot_day"], 1), "threshold": b["threshold"]}})
    if not r["risks"] and not b["met"]:
        out.append({"code": "keep_cadence", "facts": {}})
    return out
