"""Fixtures and helpers for the agent tests: a config file factory, the agent as a real process,
and a factory for the plain paho subscriber of tests/support/mqtt.py."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from tests.support.broker import free_port
from tests.support.mqtt import Subscriber
from tests.support.procs import Proc, robopulse_cmd, wait_until


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def toml_value(value) -> str:
    return json.dumps(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)


def write_agent_config(path: Path, sections: dict) -> Path:
    lines = []
    for section, body in sections.items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {toml_value(v)}" for k, v in body.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def agent_config(tmp_path):
    """Factory: ``agent_config(broker, agent={...}, mqtt={...}, ...)`` -> (path, sections dict)."""
    def factory(broker=None, name: str = "agent", **overrides):
        sections = {
            "agent": {"robot_id": "r-1", "customer_id": "acme", "site_id": "hall-a", "scene": "museum",
                      "interval_s": 1, "publish_interval_s": 1, "state_dir": str(tmp_path / name / "state")},
            "mqtt": {"host": "127.0.0.1", "port": broker.port if broker else free_port(), "reconnect_max_s": 2,
                     "keepalive_s": 5},
            "ingest": {"statsd": f"127.0.0.1:{free_udp_port()}"},
        }
        for section, body in overrides.items():
            sections.setdefault(section, {}).update(body)
        (tmp_path / name).mkdir(exist_ok=True)
        return write_agent_config(tmp_path / name / "agent.toml", sections), sections
    return factory


@pytest.fixture
def start_agent(tmp_path):
    """Factory: ``start_agent(config_path)`` -> Proc running ``robopulse agent run``; killed at the end."""
    procs: list[Proc] = []

    def factory(config_path: Path, log_name: str = "agent.log") -> Proc:
        proc = Proc(robopulse_cmd("agent", "run", "--config", str(config_path)), tmp_path / log_name)
        procs.append(proc)
        return proc

    yield factory
    for proc in procs:
        proc.kill9()


@pytest.fixture
def make_subscriber():
    subs: list[Subscriber] = []

    def factory(port: int, topics=("robopulse/v1/#",), **kwargs) -> Subscriber:
        sub = Subscriber(port, list(topics), **kwargs)
        subs.append(sub)
        return sub

    yield factory
    for sub in subs:
        sub.close()


def retained_status(port: int, topic: str = "robopulse/v1/acme/r-1/status", **kwargs) -> dict | None:
    """The retained status as a fresh subscriber sees it (None when there is none)."""
    sub = Subscriber(port, [topic], **kwargs)
    try:
        got = wait_until(lambda: sub.statuses(), timeout=3, message="retained status")
    except AssertionError:
        got = None
    finally:
        sub.close()
    if not got:
        return None
    doc, retained = got[0]
    assert retained
    return doc
