"""``[notify]`` settings: webhooks, repeat interval and retry backoff of notifications."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from protocol.config import ConfigError

from collector.alerts.settings import RULES, SEVERITIES
from collector.health.settings import Setting, non_negative, parse_table


def _pos(value: Any) -> str | None:
    return None if value > 0 else "must be greater than 0"


SETTINGS: tuple[Setting, ...] = (
    Setting("repeat_s", 14400, "while an alert stays firing (not acknowledged or snoozed), notify again "
            "every this many seconds; 0: never", non_negative),
    Setting("timeout_s", 10.0, "HTTP timeout of one delivery attempt", _pos),
    Setting("backoff_initial_s", 5.0, "wait after the first failed attempt; doubles after each failure", _pos),
    Setting("backoff_max_s", 600.0, "longest wait between two attempts (retries never stop)", _pos),
    Setting("poll_s", 1.0, "how often the delivery loop looks for due notifications", _pos),
    Setting("keep_delivered_days", 30, "delivered notifications are deleted after this many days", _pos),
    Setting("webhooks", [], "`[[notify.webhooks]]` tables: `name`, `url`, optional `rules` (list; empty: "
            "all), `min_severity` (info)"),
)

WEBHOOK_KEYS = ("name", "url", "rules", "min_severity")


def _webhook(i: int, entry: Any) -> dict[str, Any]:
    key = f"notify.webhooks[{i}]"
    if not isinstance(entry, dict):
        raise ConfigError(key, "must be a table with name and url")
    for k in entry:
        if k not in WEBHOOK_KEYS:
            raise ConfigError(f"{key}.{k}", "unknown key")
    url = entry.get("url")
    if not isinstance(url, str) or urlparse(url).scheme not in ("http", "https") or not urlparse(url).netloc:
        raise ConfigError(f"{key}.url", "must be an http:// or https:// URL")
    name = entry.get("name", f"webhook{i}")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{key}.name", "must be a non-empty string")
    rules = entry.get("rules", [])
    if not isinstance(rules, list) or any(r not in RULES for r in rules):
        raise ConfigError(f"{key}.rules", f"must be a list of rule names ({', '.join(RULES)})")
    severity = entry.get("min_severity", "info")
    if severity not in SEVERITIES:
        raise ConfigError(f"{key}.min_severity", f"must be one of {', '.join(SEVERITIES)}")
    return {"name": name, "url": url, "rules": list(rules), "min_severity": severity}


def parse(table: Any) -> dict[str, Any]:
    out = parse_table(table, SETTINGS, "notify")
    out["webhooks"] = [_webhook(i, e) for i, e in enumerate(out["webhooks"])]
    names = [w["name"] for w in out["webhooks"]]
    if len(set(names)) != len(names):
        raise ConfigError("notify.webhooks", "webhook names must be unique")
    if out["backoff_initial_s"] > out["backoff_max_s"]:
        raise ConfigError("notify.backoff_initial_s", "must not exceed notify.backoff_max_s")
    return out


def defaults() -> dict[str, Any]:
    return parse({})
