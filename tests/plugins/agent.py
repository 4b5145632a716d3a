"""Fixtures and helpers for the agent tests: a config file factory, the agent as a real process,
and a plain paho subscriber with a persistent session (it survives broker restarts)."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from protocol.codec import decode_batch, decode_status
from tests.support.broker import free_port
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


class Subscriber:
    """A plain paho subscriber, QoS 1, persistent session: what the broker really delivered."""

    def __init__(self, port: int, topics: list[str], tls=None, username=None, password=None):
        self.messages: list[tuple[str, bytes, bool]] = []
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"sub-{uuid.uuid4().hex[:8]}",
                                  clean_session=False)
        self.client.reconnect_delay_set(1, 1)
        if tls is not None:
            self.client.tls_set(ca_certs=str(tls.ca), certfile=str(tls.client_cert), keyfile=str(tls.client_key))
        if username:
            self.client.username_pw_set(username, password)

        def on_connect(client, userdata, flags, reason_code, properties):
            if not reason_code.is_failure:
                client.subscribe([(t, 1) for t in topics])

        def on_subscribe(client, userdata, mid, reason_codes, properties):
            self.ready.set()

        def on_message(client, userdata, msg):
            with self.lock:
                self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))

        self.client.on_connect = on_connect
        self.client.on_subscribe = on_subscribe
        self.client.on_message = on_message
        self.client.connect("127.0.0.1", port, keepalive=10)
        self.client.loop_start()
        if not self.ready.wait(15):
            raise AssertionError("subscriber could not subscribe")

    def batches(self):
        with self.lock:
            return [decode_batch(p) for t, p, _ in self.messages if t.endswith("/telemetry")]

    def windows(self) -> dict[int, object]:
        """Windows by seq (duplicates collapse, as at the collector)."""
        return {w.seq: w for b in self.batches() for w in b.windows}

    def statuses(self):
        with self.lock:
            return [(decode_status(p), r) for t, p, r in self.messages if t.endswith("/status")]

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


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
