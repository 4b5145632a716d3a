"""``[health]`` settings: thresholds, weights and bands of robot and customer health.

One table of ``protocol.config.Option`` rows (``SETTINGS``) feeds defaults, validation and
docs/health.md, like the collector's ``OPTIONS``.  ``parse(table)`` returns a frozen ``Values``
(``settings.min_volume``); an unknown key or a bad value raises ``ConfigError`` naming
``health.<key>``.
"""

from __future__ import annotations

from typing import Any

from collector.health.peers import SCENE_MEASURES, check_table
from protocol.timeunits import known_zone
from protocol.config import ConfigError, Option, Values, fraction, load_table, non_negative, positive, setting


def _zone(value: Any) -> str | None:
    return None if known_zone(value) else "must be an IANA time zone name, e.g. Asia/Shanghai"


def _health(key: str, default: Any, doc: str, check=None) -> Option:
    return setting("health", key, default, doc, check)


#: per-subsystem error-rate thresholds: (warn, crit) as a fraction of the catalogue denominator
RATE_DEFAULTS = {
    "vision": (0.30, 0.50),
    "touch": (0.05, 0.15),
    "nav": (0.05, 0.15),
    "asr": (0.15, 0.30),
    "nlp": (0.15, 0.30),
    "tts": (0.03, 0.10),
}

SETTINGS: tuple[Option, ...] = (
    _health("interval_s", 60, "seconds between two evaluation cycles (wall clock)", positive),
    _health("stale_intervals", 3, "a robot not reported offline that sent nothing for this many of its "
            "intervals is `stale`", positive),
    _health("stale_floor_s", 180, "but never stale before this many seconds (agents publish in batches)",
            non_negative),
    _health("min_volume", 20, "smallest denominator (requests, taps, tasks...) in a view below which a "
            "subsystem rate is not judged", non_negative),
    _health("confidence", 0.99, "confidence of the interval a subsystem's error rate is judged on: `warn` / "
            "`crit` only when the interval's lower bound reaches the threshold (Wilson interval; Poisson for "
            "disconnects); 0: the rate itself, as counted", fraction),
    _health("state_margin", 0.2, "hysteresis of a subsystem's state: it leaves `warn` or `crit` only once the "
            "judged rate is below (1 - this) x the threshold", fraction),
    _health("network_min_covered_s", 1800, "network is judged (`warn` / `crit`) only over views covering at "
            "least this many seconds since the robot was first seen", non_negative),
    _health("network_offline_warn", 0.05, "network: share of the view's seconds offline for `warn`", fraction),
    _health("network_offline_crit", 0.20, "network: share of the view's seconds offline for `crit`", fraction),
    _health("network_disconnects_warn", 2.0, "network: disconnects per hour for `warn`", non_negative),
    _health("network_disconnects_crit", 6.0, "network: disconnects per hour for `crit`", non_negative),
    *(s for name, (warn, crit) in RATE_DEFAULTS.items() for s in (
        _health(f"{name}_warn", warn, f"{name}: error rate (errors / denominator) for `warn`", non_negative),
        _health(f"{name}_crit", crit, f"{name}: error rate for `crit`", non_negative),
    )),
    _health("active_day_interactions", 10, "interactions in a local day of the customer that make it an active day", non_negative),
    _health("onboarding_days", 30, "robots handed over (registry activated date, else first seen; see onboarding) within this many days are onboarding", positive),
    _health("milestone_7", 5, "active days needed within a robot's first 7 days", non_negative),
    _health("milestone_14", 10, "active days needed within its first 14 days", non_negative),
    _health("milestone_30", 20, "active days needed within its first 30 days", non_negative),
    _health("benchmark_interactions", 1000.0, "interactions per robot per day (30-day average) of a "
            "benchmark customer", positive),
    _health("weight_reliability", 30.0, "weight of reliability (mean robot score)", non_negative),
    _health("weight_adoption", 25.0, "weight of adoption (usage percentile among the scene's customers)",
            non_negative),
    _health("weight_usage_trend", 20.0, "weight of the usage trend (last 7 days against the 7 before)",
            non_negative),
    _health("weight_onboarding", 15.0, "weight of onboarding (milestones met by new robots)", non_negative),
    _health("green", 70.0, "score at or above which a customer is green", non_negative),
    _health("yellow", 40.0, "score at or above which a customer is yellow (below: red)", non_negative),
    _health("color_margin", 2.0, "hysteresis of the colour: a customer changes colour only once its score "
            "passes the band's edge by this many points (green -> yellow below green - margin, yellow -> "
            "green at green + margin)", non_negative),
    _health("detail_refresh_s", 300, "a robot's stored figures (rates, volumes) are rewritten at most this "
            "often while its state, 5-point score band, worst subsystem and levels stay the same (0: every cycle)",
            non_negative),
    _health("feed_retention_days", 7, "live-feed events (`feed_events`) older than this are deleted "
            "(a client that was away longer starts from the oldest kept)", positive),
    _health("trend_points", 5.0, "score change against 7 days ago that makes the arrow up or down",
            non_negative),
    _health("timezone", "Asia/Shanghai", "IANA time zone of customers imported without one: every day-granular "
            "figure (usage per day, active days, onboarding, score history, contract days) is a local day of "
            "the customer", _zone),
    _health("opening_grace_s", 1800, "a robot not back this many seconds after its venue opens (or lost while "
            "it is open) is unreachable; before that, and outside opening hours, it is `closed`", non_negative),
    _health("learn_hours_days", 14, "opening hours not imported are learned from the customer's usage by local "
            "hour over this many past days", positive),
    _health("learn_hours_share", 0.5, "an hour of the day is open when the customer had usage in it on more than "
            "this share of those days", fraction),
    _health("scene_measures", list(SCENE_MEASURES), "each scene's primary usage measure, `<scene>: <metric> "
            "[+ <metric>...] [@ <benchmark per robot per day>]` (no `@`: `benchmark_interactions`); scenes not "
            "listed use `usage.interactions`. Adoption, peers (`below_peers`) and `usage_drop` judge a customer on "
            "its scene's measure; a table given replaces the default one whole", check_table),
    _health("percentile_min_peers", 5, "fewest other customers in a scene for a customer's percentile among them "
            "to be shown (fewer: `null`, no percentile; one peer would always make it 0 or 100)", positive),
    _health("usual_weeks", 4, "a customer's usual level of a day is the median of the same weekday over this "
            "many weeks before (from its first day of use): what `usage_drop` compares the last 7 days with",
            positive),
    _health("dormant_days", 3, "complete local days in a row without one interaction after which a fleet is "
            "dormant (on but unused, or switched off): red whatever its score", positive),
)

#: leading indicators only (seed 000, DOMAIN.md): the contract is context on the page (facts.contract)
#: and a cause of renewal_risk, never a score part that by itself changes the colour
MEASURES = ("reliability", "adoption", "usage_trend", "onboarding")


def parse(table: Any) -> Values:
    """The ``[health]`` table (None: empty) -> Values, or ConfigError naming the key."""
    out = load_table(table, SETTINGS, "health")
    for name in (*RATE_DEFAULTS, "network_offline", "network_disconnects"):
        if getattr(out, f"{name}_warn") > getattr(out, f"{name}_crit"):
            raise ConfigError(f"health.{name}_warn", f"must not exceed health.{name}_crit")
    if out.confidence >= 1:
        raise ConfigError("health.confidence", "must be below 1 (0: judge the rate itself)")
    if out.yellow > out.green:
        raise ConfigError("health.yellow", "must not exceed health.green")
    if sum(getattr(out, f"weight_{m}") for m in MEASURES) <= 0:
        raise ConfigError("health.weight_reliability", "the weights must not all be 0")
    return out


def defaults() -> Values:
    return parse({})
