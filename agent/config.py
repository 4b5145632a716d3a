"""The agent's options: one table feeds defaults, validation, ``check-config`` and docs/agent.md.

``load_config(path)`` reads TOML plus ``ROBOPULSE_<SECTION>_<KEY>`` overrides; ``build_config(raw)``
validates a plain mapping the same way (the simulator builds a thousand agents from dicts).
Every problem raises ``protocol.config.ConfigError`` naming the key.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from protocol.config import REQUIRED, Option, Values, from_mapping, host_port, in_range, load, positive
from protocol.mqtt_options import check_mqtt, mqtt_options
from protocol.topics import is_valid_id


def _id(value: str) -> str | None:
    return None if is_valid_id(value) else f"{value!r} does not match ^[a-z0-9][a-z0-9_-]{{0,63}}$"


def _loopback(value: str) -> str | None:
    """``[status] listen`` serves the field engineer on the robot itself, never the venue network;
    ``[ingest] statsd`` has no authentication, so anyone who can reach it can forge counts."""
    if value == "":
        return None
    bad = host_port(value)
    if bad:
        return bad
    host = value.rpartition(":")[0].strip("[]")
    if host == "localhost":
        return None
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        pass
    return f"{value!r} is not a loopback address (use 127.0.0.1:PORT)"


OPTIONS: tuple[Option, ...] = (
    Option("agent", "robot_id", str, REQUIRED, "this robot's id (topic and payload)", _id),
    Option("agent", "customer_id", str, REQUIRED, "the customer that owns the robot", _id),
    Option("agent", "site_id", str, "default", "the site (venue) where the robot stands", _id),
    Option("agent", "scene", str, "", "museum, ktv, scenic, conference, mall, bank, hospital, ..."),
    Option("agent", "interval_s", int, 10, "window length in seconds; windows align to multiples of it",
           in_range(1, 3600)),
    Option("agent", "publish_interval_s", int, 60, "seconds between telemetry messages (many windows each)",
           in_range(1, 86400)),
    Option("agent", "state_dir", str, "/var/lib/robopulse-agent",
           "outbox database, status file and lock live here"),
    *mqtt_options(host="localhost", keepalive_s=90,
                  keepalive_doc="MQTT keepalive; the broker declares the robot lost after 1.5x"),
    Option("mqtt", "protocol", str, "5",
           "MQTT version, '5' (the telemetry topic is then sent once per connection and replaced by a "
           "2-byte alias) or '3.1.1' for a broker without MQTT 5",
           lambda v: None if v in ("5", "3.1.1") else f"{v!r} is not '5' or '3.1.1'"),
    Option("mqtt", "zlib_dictionary", bool, True,
           "compress telemetry with the protocol's preset dictionary of metric names (docs/protocol.md); "
           "false for plain zlib, for a consumer that cannot inflate it"),
    Option("mqtt", "reconnect_max_s", int, 60,
           "longest wait between connection attempts (exponential backoff from 1 s, with jitter)",
           in_range(1, 3600)),
    Option("buffer", "max_windows", int, 60480, "outbox bound (7 days of 10 s windows); oldest dropped when full",
           positive),
    Option("ingest", "statsd", str, "127.0.0.1:8125", "UDP host:port for StatsD lines; empty disables",
           _loopback),
    Option("network", "probe", str, "",
           "host:port to TCP-connect to once per window; empty: judge connectivity by the MQTT session "
           "(no extra bytes on paid 4G)", host_port),
    Option("status", "listen", str, "", "loopback host:port serving the status as JSON over HTTP; empty disables",
           _loopback),
)


#: the validated options: ``Values`` of one ``Values`` per section (``config.agent.robot_id``, ``config.mqtt.port``)
AgentConfig = Values


def _finish(values: Values) -> AgentConfig:
    check_mqtt(values.mqtt)
    return values


def load_config(path, env: Mapping[str, str] | None = None) -> AgentConfig:
    """TOML file (or None) plus environment overrides -> AgentConfig, or ConfigError."""
    return _finish(load(path, OPTIONS, env=env))


def build_config(raw: Mapping[str, Mapping[str, Any]]) -> AgentConfig:
    """A mapping shaped like the TOML file -> AgentConfig (no file, no environment)."""
    return _finish(from_mapping(raw, OPTIONS))
