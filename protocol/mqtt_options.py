"""The ``[mqtt]`` options both sides share, declared once: broker, credentials, TLS, topic prefix.

The agent and the collector each build their ``[mqtt]`` rows with ``mqtt_options`` (they differ
only in the broker host and keepalive defaults) and add their own rows after them (the agent its
protocol version and compression, the collector its client id and session).  ``check_mqtt`` holds
the checks across keys, the same on both sides.
"""

from __future__ import annotations

from typing import Any

from protocol import DEFAULT_PREFIX
from protocol.config import ConfigError, Option, in_range


def _prefix(value: str) -> str | None:
    if not value or any(ch in value for ch in "+#\x00") or value.startswith("/") or value.endswith("/"):
        return f"{value!r} is not a valid topic prefix"
    return None


def mqtt_options(host: str, keepalive_s: int, keepalive_doc: str) -> tuple[Option, ...]:
    """The shared ``[mqtt]`` rows with this side's default ``host`` and ``keepalive_s``."""
    return (
        Option("mqtt", "host", str, host, "broker host name or address"),
        Option("mqtt", "port", int, 1883, "broker port (8883 is usual with TLS)", in_range(1, 65535)),
        Option("mqtt", "username", str, "", "user name; empty for anonymous"),
        Option("mqtt", "password", str, "", "password"),
        Option("mqtt", "tls_ca", str, "", "CA certificate file; set to use TLS"),
        Option("mqtt", "tls_cert", str, "", "client certificate file (with tls_key)"),
        Option("mqtt", "tls_key", str, "", "client private key file"),
        Option("mqtt", "topic_prefix", str, DEFAULT_PREFIX, "first levels of every topic", _prefix),
        Option("mqtt", "keepalive_s", int, keepalive_s, keepalive_doc, in_range(5, 3600)),
    )


def check_mqtt(m: Any) -> None:
    """The rules across ``[mqtt]`` keys (TLS is on only with a CA); ConfigError names the key to fix."""
    if bool(m.tls_cert) != bool(m.tls_key):
        raise ConfigError("mqtt.tls_key" if m.tls_cert else "mqtt.tls_cert", "tls_cert and tls_key go together")
    if m.tls_cert and not m.tls_ca:
        raise ConfigError("mqtt.tls_ca", "a client certificate needs tls_ca (TLS is on only with a CA)")
    if m.password and not m.username:
        raise ConfigError("mqtt.username", "a password needs a username")
