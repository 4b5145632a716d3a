"""The collector's configuration: one table of options (defaults, validation, docs).

``[collector]``, ``[mqtt]`` and ``[http]`` are the rows of ``OPTIONS`` (the shared ``[mqtt]`` rows
come from ``protocol.mqtt_options``); ``[health]``, ``[alerts]`` and ``[notify]`` are checked by
their own modules, so that the rules' settings live beside the rules.  ``load(path)`` reads a file
plus ``ROBOPULSE_<SECTION>_<KEY>`` overrides; ``load_mapping(raw)`` checks a mapping shaped like the
file (tests, benchmarks).  Both return a frozen ``protocol.config.Values``: ``config.collector.db``,
``config.http.tokens[0].role``, ``config.health.min_volume``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from typing import Any

from protocol.config import (REQUIRED, ConfigError, Option, Values, at_least, from_mapping, host_port,
                             in_range, positive, read_toml)
from protocol.mqtt_options import check_mqtt, mqtt_options
from protocol.topics import is_valid_id

from collector.alerts import notify_settings
from collector.alerts import settings as alert_settings
from collector.health import settings as health_settings


def _token(value: str) -> str | None:
    return None if len(value) >= 8 else "must be a string of at least 8 characters"


#: the alert engine's own actor name: a person may not take it (their actions would read as the rules')
RESERVED_ACTORS = ("rules",)
MAX_PERSON = 100


def _person(value: str) -> str | None:
    """A person's display name: printable, at most MAX_PERSON characters, not an engine's name."""
    if len(value) > MAX_PERSON or value != value.strip() or not all(c.isprintable() for c in value):
        return f"must be a printable name of at most {MAX_PERSON} characters without surrounding spaces"
    if value in RESERVED_ACTORS:
        return f"{value!r} is the alert engine's own name"
    return None


def _group(value: str) -> str | None:
    if value and not is_valid_id(value):
        return "must be empty or lower-case letters, digits, - and _ (at most 64), starting with a letter or digit"
    return None


def _client_id(value: str) -> str | None:
    if len(value) > 128 or any(c in value for c in "+#/\x00") or value != value.strip():
        return "must be at most 128 characters without spaces around it, +, #, / or NUL"
    return None


def derived_client_id(shared_group: str, host: str | None = None) -> str:
    """The MQTT client id when ``[mqtt] client_id`` is empty.  Alone: ``robopulse-collector`` (the
    first release's fixed id, so an upgraded collector finds its session).  In a shared group each
    collector needs its own id, stable across restarts so that a restarted collector gets back the
    session (and the share of messages the broker queued for it): the group and the host name."""
    if not shared_group:
        return "robopulse-collector"
    host = (host or socket.gethostname()).split(".")[0].lower()
    host = "".join(c if c.isalnum() or c in "-_" else "-" for c in host) or "host"
    return f"robopulse-{shared_group}-{host}"[:128]


#: the keys of one ``[[http.tokens]]`` table (without ``name`` it is named ``token<i>``)
TOKEN: tuple[Option, ...] = (
    Option("", "token", str, REQUIRED, "the bearer token", _token),
    Option("", "role", str, "viewer", "viewer or admin",
           lambda v: None if v in ("viewer", "admin") else "must be viewer or admin"),
    Option("", "name", str, "", "name in logs and alert events"),
    Option("", "person", str, "", "the person who holds the token (e.g. 王芳): recorded as the actor of "
           "their acks, snoozes, events and notes (without it: the token's name)", _person),
)

OPTIONS: tuple[Option, ...] = (
    Option("collector", "db", str, "robopulse.db", "path of the SQLite store, or a postgresql:// URL (docs/scale.md)"),
    Option("collector", "raw_retention_days", int, 14, "days raw windows are kept", positive),
    Option("collector", "rollup_retention_days", int, 730, "days hourly/daily rollups are kept (at least 31)",
           at_least(31, "the health cycle reads the last 30 complete days of rollups")),
    Option("collector", "flush_ms", int, 200, "longest wait before a batch of windows is committed", positive),
    Option("collector", "flush_windows", int, 2000, "windows that trigger a commit before flush_ms", positive),
    Option("collector", "rejects_kept", int, 1000, "recent rejects kept for inspection", positive),
    Option("collector", "log_level", str, "info", "debug, info, warning or error"),
    Option("collector", "retention_interval_s", int, 60, "seconds between retention passes", positive),
    Option("ingest", "enroll", str, "auto",
           "which robots may send: registry (only robots imported with import-robots, each on its own "
           "customer's topics; recommended for production) or auto (unknown robots enrolled; demos)",
           lambda v: None if v in ("auto", "registry") else "must be registry or auto"),
    Option("ingest", "new_customers_per_minute", int, 10,
           "enroll = auto: customers telemetry may create per minute (beyond: new_customer_limit)", positive),
    Option("ingest", "registry_refresh_s", float, 5.0,
           "how often ingest looks for changes to the registry, robots and customers", positive),
    Option("ingest", "status_future_s", int, 300,
           "tolerated clock skew of a status ts: one further ahead is replaced by the receive time",
           in_range(0, 86400)),
    *mqtt_options(host="127.0.0.1", keepalive_s=30, keepalive_doc="MQTT keepalive"),
    Option("mqtt", "client_id", str, "", "fixed client id: the broker keeps its session (empty: "
           "robopulse-collector, or robopulse-<shared_group>-<host name> in a shared group)", _client_id),
    Option("mqtt", "shared_group", str, "", "subscribe as $share/<group>/... to split a fleet between "
           "collectors (same group on each; lower-case letters, digits, - and _)", _group),
    Option("mqtt", "session_expiry_s", int, 7 * 86400, "how long the broker keeps the session while down",
           positive),
    Option("mqtt", "receive_maximum", int, 5000,
           "unacknowledged messages the broker may have out to the collector (acks wait for a commit)",
           in_range(1, 65535)),
    Option("http", "listen", str, "127.0.0.1:8080", "HTTP listen address host:port (empty: no HTTP)", host_port),
    Option("http", "tokens", list, [], "[[http.tokens]] tables: token, role (viewer or admin), name, person",
           items=TOKEN),
    Option("http", "cors_origins", list, [], "origins allowed by CORS (none by default)"),
    Option("http", "feed_poll_ms", int, 200, "how often the live feed looks for new events", positive),
    Option("http", "usage_refresh_s", int, 300, "longest age of the fleet usage snapshot behind the "
           "customer pages' peer comparison", positive),
    Option("http", "feed_heartbeat_s", int, 15, "seconds between heartbeat comments on an idle feed",
           positive),
    Option("http", "header_timeout_s", int, 10, "seconds a new connection has to send a complete request "
           "head (also the TLS handshake's limit); a slower client gets 408 and is closed", positive),
    Option("http", "idle_timeout_s", int, 75, "seconds an idle keep-alive connection is kept between "
           "requests (a live feed is never idle)", positive),
    Option("http", "max_connections", int, 1000, "open connections at most (lowered to fit the open-file "
           "limit); beyond it the longest-idle one is closed, or the new one if none is idle", positive),
    Option("http", "tls_cert", str, "", "PEM certificate (chain) file: serve HTTPS (with tls_key)"),
    Option("http", "tls_key", str, "", "PEM private key file of tls_cert"),
)

#: the tables checked by their own modules rather than by ``OPTIONS``
NESTED = ("health", "alerts", "notify")


def load_mapping(raw: Mapping[str, Any], env: Mapping[str, str] | None = None) -> Values:
    """A mapping shaped like the TOML file (plus ``env`` overrides, none by default) -> the config."""
    cfg = from_mapping(raw, OPTIONS, env=env, ignore_sections=NESTED)
    check_mqtt(cfg.mqtt)
    if bool(cfg.http.tls_cert) != bool(cfg.http.tls_key):
        raise ConfigError("http.tls_key" if cfg.http.tls_cert else "http.tls_cert",
                          "tls_cert and tls_key go together")
    tokens = tuple(t if t.name else t.replace(name=f"token{i}") for i, t in enumerate(cfg.http.tokens))
    mqtt = cfg.mqtt if cfg.mqtt.client_id else cfg.mqtt.replace(client_id=derived_client_id(cfg.mqtt.shared_group))
    return Values(cfg, http=cfg.http.replace(tokens=tokens), mqtt=mqtt,
                  health=health_settings.parse(raw.get("health")),
                  alerts=alert_settings.parse(raw.get("alerts")),
                  notify=notify_settings.parse(raw.get("notify")))


def load(path: str | os.PathLike | None, env: Mapping[str, str] | None = None) -> Values:
    """The whole collector config from a file (None: defaults) and the environment (default:
    ``os.environ``); raises ConfigError naming the bad key."""
    raw = read_toml(path) if path is not None else {}
    return load_mapping(raw, env=os.environ if env is None else env)


