"""``[notify]`` settings: webhooks (with their signing secrets), repeat interval, retry backoff, maximum
age and retention of notifications."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from protocol.config import ConfigError, Option, Values, load_table, non_negative, positive, setting

from collector.alerts.settings import RULES, SEVERITIES, known_severity


def _notify(key: str, default: Any, doc: str, check=None) -> Option:
    return setting("notify", key, default, doc, check)


def _url(value: str) -> str | None:
    parts = urlparse(value)
    return None if parts.scheme in ("http", "https") and parts.netloc else "must be an http:// or https:// URL"


def _name(value: str) -> str | None:
    return None if value else "must be a non-empty string"


def _names(value: list) -> str | None:
    return None if all(isinstance(v, str) and v for v in value) else "must be a list of non-empty strings"


def _severities(value: list) -> str | None:
    return None if all(v in SEVERITIES for v in value) else f"must be a list of severities ({', '.join(SEVERITIES)})"


def _tiers(value: dict) -> str | None:
    for tier, severity in value.items():
        if not tier or known_severity(severity):
            return f"{tier!r} = {severity!r}: each tier's value must be one of {', '.join(SEVERITIES)}"
    return None


#: ``[notify.tiers]`` defaults: a tier's least severity notified.  Tech-touch accounts are served
#: automatically (DOMAIN.md, tiers of touch): only what is critical reaches a person.  Tiers not
#: named here notify every severity.  A file's table is merged over these (``tech = "info"`` lifts it).
DEFAULT_TIERS = {"tech": "critical", "tech-touch": "critical"}


def _rules(value: list) -> str | None:
    return None if all(r in RULES for r in value) else f"must be a list of rule names ({', '.join(RULES)})"


#: the keys of one ``[[notify.webhooks]]`` table (without ``name`` it is named ``webhook<i>``)
WEBHOOK: tuple[Option, ...] = (
    Option("", "name", str, None, "name in the notification records", _name),
    Option("", "url", str, "", "http:// or https:// URL the JSON is POSTed to", _url),
    Option("", "rules", list, [], "rule names to notify; empty: all", _rules),
    Option("", "min_severity", str, "info", "least severity notified", known_severity),
    Option("", "secret", str, "", "shared key: deliveries carry `X-Robopulse-Signature: sha256=<hex HMAC-SHA256 "
           "of the body>`; empty: unsigned"),
    # routing (issue 14): each list empty means "any"; an alert goes out when it passes every filter
    Option("", "csms", list, [], "only alerts of customers whose CSM is one of these names; empty: any", _names),
    Option("", "severities", list, [], "only alerts of exactly these severities (on top of `min_severity`); "
           "empty: any", _severities),
    Option("", "tiers", list, [], "only alerts of customers of these tiers; empty: any", _names),
    Option("", "customers", list, [], "only alerts of these customer ids; empty: any", _names),
    Option("", "follow_tiers", bool, True, "apply `notify.tiers` (a tier's least severity notified); false: "
           "this webhook gets every alert its own filters pass, whatever the customer's tier"),
)

SETTINGS: tuple[Option, ...] = (
    _notify("repeat_s", 14400, "while an alert stays firing (not acknowledged or snoozed), notify again "
            "every this many seconds; 0: never", non_negative),
    _notify("timeout_s", 10.0, "HTTP timeout of one delivery attempt", positive),
    _notify("backoff_initial_s", 5.0, "wait after the first failed attempt; doubles after each failure", positive),
    _notify("backoff_max_s", 600.0, "longest wait between two attempts of a webhook (retried until "
            "`notify.max_age_s`)", positive),
    _notify("max_age_s", 86400, "a notification still undelivered this many seconds after it was queued is "
            "dead-lettered (kept, not sent); 0: never", non_negative),
    _notify("poll_s", 1.0, "how often the delivery loop looks for due notifications", positive),
    _notify("keep_delivered_days", 30, "delivered and dead-lettered notifications are deleted after this many "
            "days", positive),
    Option("notify", "webhooks", list, [], "`[[notify.webhooks]]` tables: `name`, `url`, optional `rules` "
           "(list; empty: all), `min_severity` (info), `secret` (empty: unsigned), routing filters `csms`, "
           "`severities`, `tiers`, `customers` (lists; empty: any) and `follow_tiers` (true)", items=WEBHOOK),
    Option("notify", "tiers", dict, DEFAULT_TIERS, "`[notify.tiers]`: tier = least severity notified for "
           "customers of that tier (merged over the defaults; tiers not named: every severity)", _tiers),
)


def parse(table: Any) -> Values:
    """The ``[notify]`` table (None: empty) -> Values; ``webhooks`` is a tuple of ``Values``."""
    out = load_table(table, SETTINGS, "notify")
    hooks = tuple(h if h.name is not None else h.replace(name=f"webhook{i}") for i, h in enumerate(out.webhooks))
    names = [h.name for h in hooks]
    if len(set(names)) != len(names):
        raise ConfigError("notify.webhooks", "webhook names must be unique")
    if out.backoff_initial_s > out.backoff_max_s:
        raise ConfigError("notify.backoff_initial_s", "must not exceed notify.backoff_max_s")
    return out.replace(webhooks=hooks, tiers={**DEFAULT_TIERS, **out.tiers})


def defaults() -> Values:
    return parse({})
