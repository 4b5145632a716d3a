"""The collector's configuration: one table of options (defaults, validation, docs).

``[health]``, ``[alerts]`` and ``[notify]`` are nested tables parsed by their own modules
(see ``NESTED_SECTIONS``), so that the rules' settings live beside the rules.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from protocol import DEFAULT_PREFIX
from protocol.config import ConfigError, Option, at_least, from_mapping, host_port, in_range, positive, read_toml

OPTIONS: tuple[Option, ...] = (
    Option("collector", "db", str, "robopulse.db", "path of the SQLite store"),
    Option("collector", "raw_retention_days", int, 14, "days raw windows are kept", positive),
    Option("collector", "rollup_retention_days", int, 730, "days hourly/daily rollups are kept (at least 31)",
           at_least(31, "the health cycle reads the last 30 complete days of rollups")),
    Option("collector", "flush_ms", int, 200, "longest wait before a batch of windows is committed", positive),
    Option("collector", "flush_windows", int, 2000, "windows that trigger a commit before flush_ms", positive),
    Option("collector", "rejects_kept", int, 1000, "recent rejects kept for inspection", positive),
    Option("collector", "log_level", str, "info", "debug, info, warning or error"),
    Option("collector", "retention_interval_s", int, 60, "seconds between retention passes", positive),
    Option("mqtt", "host", str, "127.0.0.1", "broker host"),
    Option("mqtt", "port", int, 1883, "broker port", in_range(1, 65535)),
    Option("mqtt", "username", str, "", "broker username (empty: anonymous)"),
    Option("mqtt", "password", str, "", "broker password"),
    Option("mqtt", "tls_ca", str, "", "CA file; set to use TLS"),
    Option("mqtt", "tls_cert", str, "", "client certificate file"),
    Option("mqtt", "tls_key", str, "", "client key file"),
    Option("mqtt", "topic_prefix", str, DEFAULT_PREFIX, "topic prefix"),
    Option("mqtt", "keepalive_s", int, 30, "MQTT keepalive", positive),
    Option("mqtt", "client_id", str, "robopulse-collector", "fixed client id: the broker keeps its session"),
    Option("mqtt", "shared_group", str, "", "subscribe as $share/<group>/... to split a fleet"),
    Option("mqtt", "session_expiry_s", int, 7 * 86400, "how long the broker keeps the session while down",
           positive),
    Option("mqtt", "receive_maximum", int, 5000,
           "unacknowledged messages the broker may have out to the collector (acks wait for a commit)",
           in_range(1, 65535)),
    Option("http", "listen", str, "127.0.0.1:8080", "HTTP listen address host:port (empty: no HTTP)", host_port),
    Option("http", "tokens", list, [], "[[http.tokens]] tables: token, role (viewer or admin), name"),
    Option("http", "cors_origins", list, [], "origins allowed by CORS (none by default)"),
    Option("http", "feed_poll_ms", int, 200, "how often the live feed looks for new events", positive),
    Option("http", "usage_refresh_s", int, 300, "longest age of the fleet usage snapshot behind the "
           "customer pages' peer comparison", positive),
    Option("http", "feed_heartbeat_s", int, 15, "seconds between heartbeat comments on an idle feed",
           positive),
)

#: nested sections -> "module:function" that parses the table (a dict) and returns settings
NESTED_SECTIONS = {
    "health": "collector.health.settings:parse",
    "alerts": "collector.alerts.settings:parse",
    "notify": "collector.alerts.notify_settings:parse",
}


def _parse_tokens(tokens: list) -> list[dict[str, str]]:
    out = []
    for i, entry in enumerate(tokens):
        key = f"http.tokens[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(key, "must be a table with token and role")
        token, role = entry.get("token"), entry.get("role", "viewer")
        if not isinstance(token, str) or len(token) < 8:
            raise ConfigError(f"{key}.token", "must be a string of at least 8 characters")
        if role not in ("viewer", "admin"):
            raise ConfigError(f"{key}.role", "must be viewer or admin")
        unknown = set(entry) - {"token", "role", "name"}
        if unknown:
            raise ConfigError(f"{key}.{sorted(unknown)[0]}", "unknown key")
        out.append({"token": token, "role": role, "name": str(entry.get("name") or f"token{i}")})
    return out


def load(path: str | os.PathLike | None, env=None) -> dict[str, Any]:
    """The whole collector config as nested dicts; raises ConfigError naming the bad key."""
    raw = read_toml(path) if path is not None else {}  # read once: options and nested sections
    cfg = from_mapping(raw, OPTIONS, env=os.environ if env is None else env,
                       ignore_sections=tuple(NESTED_SECTIONS))
    cfg["http"]["tokens"] = _parse_tokens(cfg["http"]["tokens"])
    for section, target in NESTED_SECTIONS.items():
        module_name, func = target.split(":")
        module = importlib.import_module(module_name)
        cfg[section] = getattr(module, func)(raw.get(section, {}))
    return cfg
