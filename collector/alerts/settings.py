"""``[alerts.<rule>]`` settings: each rule's switch, thresholds, durations and severity.

Every rule has ``enabled``, ``threshold`` (fire), ``clear`` (the separate clearing threshold),
``for_s`` (how long the firing condition must hold without a break before it fires),
``clear_for_s`` (how long the clearing condition must hold before it resolves) and ``severity``;
some have a minimum volume.  The meaning of each threshold is in ``RULES`` and docs/health.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from protocol.config import ConfigError, Option, Values, load_table, non_negative, setting

SEVERITIES = ("info", "warning", "critical")


def known_severity(value: Any) -> str | None:
    return None if value in SEVERITIES else f"must be one of {', '.join(SEVERITIES)}"


#: rule -> (direction, description, defaults, extra settings as (key, default, doc, check))
#: direction "above": fires when value >= threshold, clears when value < clear;
#: direction "below": fires when value <= threshold, clears when value > clear.
RULES: dict[str, dict[str, Any]] = {
    "site_outage": dict(
        direction="above", value="share of a site's robots unreachable (lost or stale) or with network `crit`",
        threshold=0.5, clear=0.2, for_s=120, clear_for_s=600, severity="critical",
        extra=(("min_robots", 2, "sites with fewer robots are left to robot_offline", non_negative),
               ("min_down", 2, "fewest robots down (unreachable or network `crit`) for a site outage, whatever "
                "the share: one lost robot of two is robot_offline's job", non_negative))),
    "robot_offline": dict(
        direction="above", value="minutes since a robot that is lost (offline without a clean shutdown) "
        "or stale last sent data", threshold=10.0, clear=1.0, for_s=0, clear_for_s=300, severity="warning",
        extra=()),
    "subsystem_degraded": dict(
        direction="above", value="a subsystem's state level: 1 = warn, 2 = crit", threshold=2.0, clear=1.0,
        for_s=600, clear_for_s=1800, severity="warning", extra=()),
    "usage_drop": dict(
        direction="above", value="% fall of the scene's primary measure (`health.scene_measures`), last 7 "
        "days against the customer's usual level (per weekday, the median of the same weekday over "
        "`health.usual_weeks` weeks before; without one, the 7 days before)",
        threshold=40.0, clear=20.0, for_s=0, clear_for_s=86400, severity="warning",
        extra=(("min_volume", 20.0, "the measure per robot per day at the usual level (else in the 7 days "
                "before), below which no drop is judged", non_negative),)),
    "fleet_dormant": dict(
        direction="above", value="complete local days in a row without one interaction (robots on and unused, "
        "or switched off)", threshold=3.0, clear=1.0, for_s=0, clear_for_s=0, severity="critical",
        extra=(("min_robots", 1, "fewest robots of a customer judged", non_negative),)),
    "below_peers": dict(
        direction="below", value="the customer's scene measure per robot per day (30 days) as a share of the "
        "median of the other customers of its scene (0.5: half the median); never fires at or above the "
        "scene's benchmark", threshold=0.5, clear=0.7, for_s=0, clear_for_s=86400, severity="info",
        extra=(("min_peers", 2, "fewest other customers in the scene for a comparison", non_negative),)),
    "onboarding_stalled": dict(
        direction="below", value="active days in the last 7 complete days of a robot in onboarding",
        threshold=2.0, clear=4.0, for_s=0, clear_for_s=86400, severity="warning",
        extra=(("min_age_days", 7, "a robot is judged once it is this many days old", non_negative),)),
    "renewal_risk": dict(
        direction="below", value="days to the contract end; fires at or below threshold while the "
        "customer is not green, or once the end date passed", threshold=90.0, clear=90.0, for_s=0,
        clear_for_s=86400, severity="critical", extra=()),
    "benchmark_candidate": dict(
        direction="above", value="interactions per robot per day over the last 30 days",
        threshold=1000.0, clear=900.0, for_s=0, clear_for_s=7 * 86400, severity="info",
        extra=(("min_robots", 1, "fewest robots of a benchmark customer", non_negative),)),
    "low_conversion": dict(
        direction="below", value="the customer's conversion (interactions / foot traffic, last 30 complete local "
        "days) as a ratio of the median of its scene's other customers", threshold=0.5, clear=0.7, for_s=0,
        clear_for_s=86400, severity="warning",
        extra=(("min_volume", 20.0, "foot traffic per robot per day over the 30 days, below which a customer is "
                "neither judged nor a peer", non_negative),
               ("min_peers", 3, "fewest other customers of the scene, each over min_volume, for a median",
                non_negative))),
    "goal_at_risk": dict(
        direction="below", value="a success goal's projection at its due date as % of its target; the goal's "
        "status decides: `at_risk` fires, `on_track`, `achieved` or `missed` resolves", threshold=100.0,
        clear=100.0, for_s=0, clear_for_s=0, severity="warning", extra=()),
}

#: evaluation order: site_outage first, so the robot alerts it explains are grouped at once
ORDER = tuple(RULES)


def spec(rule: str) -> tuple[Option, ...]:
    """The rows of ``[alerts.<rule>]``: the six every rule has, then the rule's own."""
    r, section = RULES[rule], f"alerts.{rule}"
    return (
        setting(section, "enabled", True, "evaluate this rule"),
        setting(section, "threshold", r["threshold"], f"fire threshold on: {r['value']}"),
        setting(section, "clear", r["clear"], "clearing threshold (hysteresis)"),
        setting(section, "for_s", r["for_s"], "seconds the firing condition holds before the alert fires",
                non_negative),
        setting(section, "clear_for_s", r["clear_for_s"], "seconds the clearing condition holds before it "
                "resolves", non_negative),
        setting(section, "severity", r["severity"], "info, warning or critical", known_severity),
        *(setting(section, *extra) for extra in r["extra"]),
    )


def parse(table: Any) -> Values:
    """The ``[alerts]`` table (None: empty) -> ``Values`` of one ``Values`` per rule (``alerts.usage_drop.
    threshold``), each with its rule's ``direction`` added; ConfigError names the bad key."""
    if table is None:
        table = {}
    if not isinstance(table, Mapping):
        raise ConfigError("alerts", "must be a table")
    for key in table:
        if key not in RULES:
            raise ConfigError(f"alerts.{key}", "unknown rule")
    out = {}
    for rule in RULES:
        cfg = load_table(table.get(rule), spec(rule), f"alerts.{rule}")
        above = RULES[rule]["direction"] == "above"
        if (cfg.clear > cfg.threshold) if above else (cfg.clear < cfg.threshold):
            raise ConfigError(f"alerts.{rule}.clear", "must be on the clearing side of threshold")
        out[rule] = cfg.replace(direction=RULES[rule]["direction"])
    return Values(out)


def defaults() -> Values:
    return parse({})
