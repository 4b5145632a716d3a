"""``[health]`` settings: thresholds, weights and bands of robot and customer health.

One table (``SETTINGS``) feeds defaults, validation and docs/health.md, like the collector's
``OPTIONS``.  ``parse(table)`` returns a plain dict; an unknown key or a bad value raises
``ConfigError`` naming ``health.<key>``.  ``parse_table`` is reused by the alerts settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from protocol.config import ConfigError


@dataclass(frozen=True)
class Setting:
    key: str
    default: Any
    doc: str
    check: Callable[[Any], str | None] | None = None


def non_negative(value: Any) -> str | None:
    return None if value >= 0 else "must be 0 or more"


def fraction(value: Any) -> str | None:
    return None if 0 <= value <= 1 else "must be between 0 and 1"


def _type_ok(default: Any, value: Any) -> Any:
    """``value`` coerced to the default's type, or raises TypeError."""
    kind = type(default)
    if kind is bool:
        if isinstance(value, bool):
            return value
    elif kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(value, kind):
        return value
    raise TypeError(f"expected {kind.__name__}, got {type(value).__name__} {value!r}")


def parse_table(table: Any, spec: tuple[Setting, ...], prefix: str) -> dict[str, Any]:
    """Defaults overlaid with ``table``; ConfigError names ``prefix.key`` on any problem."""
    if table is None:
        table = {}
    if not isinstance(table, dict):
        raise ConfigError(prefix, "must be a table")
    known = {s.key: s for s in spec}
    for key in table:
        if key not in known:
            raise ConfigError(f"{prefix}.{key}", "unknown key")
    out: dict[str, Any] = {}
    for s in spec:
        value = table.get(s.key, s.default)
        try:
            value = _type_ok(s.default, value)
        except TypeError as exc:
            raise ConfigError(f"{prefix}.{s.key}", str(exc)) from None
        if s.check is not None:
            reason = s.check(value)
            if reason:
                raise ConfigError(f"{prefix}.{s.key}", reason)
        out[s.key] = value
    return out


def markdown(spec: tuple[Setting, ...], prefix: str) -> str:
    rows = ["| key | default | meaning |", "|---|---|---|"]
    rows += [f"| `{prefix}.{s.key}` | `{s.default!r}` | {s.doc} |" for s in spec]
    return "\n".join(rows)


def _pos(value: Any) -> str | None:
    return None if value > 0 else "must be greater than 0"


#: per-subsystem error-rate thresholds: (warn, crit) as a fraction of the catalogue denominator
RATE_DEFAULTS = {
    "vision": (0.30, 0.50),
    "touch": (0.05, 0.15),
    "nav": (0.05, 0.15),
    "asr": (0.15, 0.30),
    "nlp": (0.15, 0.30),
    "tts": (0.03, 0.10),
}

SETTINGS: tuple[Setting, ...] = (
    Setting("interval_s", 60, "seconds between two evaluation cycles (wall clock)", _pos),
    Setting("stale_intervals", 3, "a robot not reported offline that sent nothing for this many of its "
            "intervals is `stale`", _pos),
    Setting("stale_floor_s", 180, "but never stale before this many seconds (agents publish in batches)",
            non_negative),
    Setting("min_volume", 20, "smallest denominator (requests, taps, tasks...) in a view below which a "
            "subsystem rate is not judged", non_negative),
    Setting("network_offline_warn", 0.05, "network: share of the view's seconds offline for `warn`", fraction),
    Setting("network_offline_crit", 0.20, "network: share of the view's seconds offline for `crit`", fraction),
    Setting("network_disconnects_warn", 2.0, "network: disconnects per hour for `warn`", non_negative),
    Setting("network_disconnects_crit", 6.0, "network: disconnects per hour for `crit`", non_negative),
    *(s for name, (warn, crit) in RATE_DEFAULTS.items() for s in (
        Setting(f"{name}_warn", warn, f"{name}: error rate (errors / denominator) for `warn`", non_negative),
        Setting(f"{name}_crit", crit, f"{name}: error rate for `crit`", non_negative),
    )),
    Setting("active_day_interactions", 10, "interactions in a UTC day that make it an active day", non_negative),
    Setting("onboarding_days", 30, "robots first seen within this many days are onboarding", _pos),
    Setting("milestone_7", 5, "active days needed within a robot's first 7 days", non_negative),
    Setting("milestone_14", 10, "active days needed within its first 14 days", non_negative),
    Setting("milestone_30", 20, "active days needed within its first 30 days", non_negative),
    Setting("benchmark_interactions", 1000.0, "interactions per robot per day (30-day average) of a "
            "benchmark customer", _pos),
    Setting("renewal_horizon_days", 180, "contract measure: full score this many days or more before the "
            "end date, falling linearly to 0 at the end date", _pos),
    Setting("weight_reliability", 30.0, "weight of reliability (mean robot score)", non_negative),
    Setting("weight_adoption", 25.0, "weight of adoption (usage percentile among the scene's customers)",
            non_negative),
    Setting("weight_usage_trend", 20.0, "weight of the usage trend (last 7 days against the 7 before)",
            non_negative),
    Setting("weight_onboarding", 15.0, "weight of onboarding (milestones met by new robots)", non_negative),
    Setting("weight_contract", 10.0, "weight of contract proximity", non_negative),
    Setting("green", 70.0, "score at or above which a customer is green", non_negative),
    Setting("yellow", 40.0, "score at or above which a customer is yellow (below: red)", non_negative),
    Setting("detail_refresh_s", 300, "a robot's stored figures (rates, volumes) are rewritten at most this "
            "often while its state, 5-point score band, worst subsystem and levels stay the same (0: every cycle)",
            non_negative),
    Setting("feed_retention_days", 7, "live-feed events (`feed_events`) older than this are deleted "
            "(a client that was away longer starts from the oldest kept)", _pos),
    Setting("trend_points", 5.0, "score change against 7 days ago that makes the arrow up or down",
            non_negative),
)

MEASURES = ("reliability", "adoption", "usage_trend", "onboarding", "contract")


def parse(table: Any) -> dict[str, Any]:
    out = parse_table(table, SETTINGS, "health")
    for name in (*RATE_DEFAULTS, "network_offline", "network_disconnects"):
        if out[f"{name}_warn"] > out[f"{name}_crit"]:
            raise ConfigError(f"health.{name}_warn", f"must not exceed health.{name}_crit")
    if out["yellow"] > out["green"]:
        raise ConfigError("health.yellow", "must not exceed health.green")
    if sum(out[f"weight_{m}"] for m in MEASURES) <= 0:
        raise ConfigError("health.weight_reliability", "the weights must not all be 0")
    return out


def defaults() -> dict[str, Any]:
    return parse({})
