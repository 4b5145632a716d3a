"""Fixtures for the collector (store/ingest) tests: a config writer, a collector process, a fleet
of plain paho publishers that keeps a ledger of every distinct window it sent."""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
import urllib.request
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from collector.store.sqlite.raw import all_windows, window_count
from protocol.codec import Batch, Window, encode_batch
from protocol.topics import telemetry_topic
from tests.support.broker import free_port
from tests.support.procs import Proc, robopulse_cmd, wait_until

COUNTERS = ("usage.interactions", "usage.wakeups", "asr.requests", "asr.unrecognized", "nav.tasks",
            "touch.taps", "skill.guide", "net.disconnects")
GAUGES = ("sys.cpu_pct", "net.rtt_ms")
HOUR_MS = 3_600_000


def write_collector_config(path: Path, broker_port: int, db: Path, http_port: int, extra_toml: str = "",
                           **extra) -> Path:
    """A collector TOML; ``extra`` as {"section.key": value}; ``extra_toml`` appended as written
    (nested tables such as ``[alerts.site_outage]``)."""
    sections: dict[str, dict] = defaultdict(dict)
    sections["collector"].update(db=str(db), flush_ms=100, log_level="info")
    sections["mqtt"].update(host="127.0.0.1", port=broker_port, client_id=f"col-{uuid.uuid4().hex[:6]}")
    sections["http"].update(listen=f"127.0.0.1:{http_port}")
    for dotted, value in extra.items():
        section, key = dotted.split(".", 1)
        sections[section][key] = value
    lines = []
    for section, body in sections.items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in body.items()]
    lines += ["", "[[http.tokens]]", 'token = "viewer-token-123"', 'role = "viewer"']
    path.write_text("\n".join(lines) + "\n" + extra_toml)
    return path


@dataclass
class RunningCollector:
    proc: Proc
    config: Path
    db: Path
    http_port: int
    log_path: Path
    restarts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def get_json(self, path: str, token: str | None = "viewer-token-123"):
        req = urllib.request.Request(self.url + path)
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def healthz(self) -> dict:
        return self.get_json("/healthz", None)

    def metrics_text(self) -> str:
        with urllib.request.urlopen(self.url + "/metrics", timeout=10) as resp:
            return resp.read().decode()

    def metric(self, name: str, labels: str = "") -> float:
        want = f"{name}{{{labels}}}" if labels else name
        for line in self.metrics_text().splitlines():
            if line.startswith(want + " "):
                return float(line.split()[-1])
        return 0.0

    def start(self, timeout: float = 30) -> None:
        self.proc = Proc(robopulse_cmd("collector", "run", "--config", str(self.config)), self.log_path)
        wait_until(lambda: self.get_json("/healthz", None).get("mqtt") == "connected", timeout,
                   0.1, "collector subscribed", (self.proc,))

    def restart(self) -> None:
        """Start again; a process still running is stopped first (SIGTERM).  Without that a
        restart of a live collector left the old process running and answering on the same port,
        so the "restarted" collector was the old one (and it outlived the test run)."""
        self.restarts += 1
        if self.proc is not None:
            self.proc.terminate()
        self.start()

    def db_read(self):
        """A read connection to the collector's store (a context manager, as sqlite3's is); on a
        PostgreSQL store one that takes the same SQL (closed at the end of the ``with``)."""
        if str(self.db).startswith("postgresql://"):
            import contextlib

            from collector.store.postgres.db import connect

            return contextlib.closing(connect(str(self.db), migrate=False))
        return sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)

    def window_count(self) -> int:
        with self.db_read() as conn:
            return window_count(conn)


def new_collector(folder: Path, broker, cls: type = RunningCollector, extra_toml: str = "", db=None, **extra):
    """A collector's folder, config (``write_collector_config``) and free HTTP port; not started.
    ``db``: its store (default: ``store.db`` in the folder; a ``postgresql://`` URL for PostgreSQL)."""
    folder.mkdir(exist_ok=True)
    http_port = free_port()
    db = db or folder / "store.db"
    config = write_collector_config(folder / "collector.toml", broker.port, db, http_port, extra_toml, **extra)
    return cls(None, config, db, http_port, folder / "collector.log")


def terminate_all(collectors: list) -> None:
    for col in collectors:
        if col.proc is not None:
            col.proc.terminate()


@pytest.fixture
def start_collector(tmp_path):
    """Factory: ``start_collector(broker, **extra)`` -> RunningCollector (subscribed)."""
    running: list[RunningCollector] = []

    def factory(broker, name: str = "collector", **extra) -> RunningCollector:
        col = new_collector(tmp_path / name, broker, **extra)
        running.append(col)
        col.start()
        return col

    yield factory
    terminate_all(running)


@dataclass
class SimRobot:
    id: str
    customer: str
    site: str
    stream: str
    base_ms: int
    span_ms: int = 10_000
    next_seq: int = 1


@dataclass
class Fleet:
    """Robots that make batches and a ledger of what each distinct window counted."""

    n_robots: int
    customer: str = "acme"
    base_ms: int = field(default_factory=lambda: (int(time.time() * 1000) - 6 * 24 * HOUR_MS) // 10_000 * 10_000)
    seed: int = 1
    #: robot ids are ``<prefix><nnn>``: two fleets of different customers need different prefixes
    #: (a robot never moves to another customer by telemetry: [ingest] enroll)
    prefix: str = "r"

    def __post_init__(self):
        self.rng = random.Random(self.seed)
        self.robots = [SimRobot(f"{self.prefix}{i:03d}", self.customer, f"site{i % 3}", f"{self.seed:04x}{i:012x}",
                                self.base_ms + i * 7_000) for i in range(self.n_robots)]
        self.ledger: dict[tuple[str, str], int] = defaultdict(int)
        self.windows: dict[tuple[str, str, int], Window] = {}

    def make_windows(self, robot: SimRobot, n: int) -> tuple[Window, ...]:
        out = []
        for _ in range(n):
            seq = robot.next_seq
            robot.next_seq += 1
            t0 = robot.base_ms + (seq - 1) * robot.span_ms
            counts = {m: self.rng.randint(0, 30) for m in self.rng.sample(COUNTERS, 4)}
            gauges = {g: round(self.rng.uniform(0, 100), 2) for g in GAUGES}
            w = Window(seq, t0, t0 + robot.span_ms, counts, gauges)
            self.windows[(robot.id, robot.stream, seq)] = w
            for metric, value in counts.items():
                if value:
                    self.ledger[(robot.id, metric)] += value
            out.append(w)
        return tuple(out)

    def payload(self, robot: SimRobot, windows: tuple[Window, ...]) -> tuple[str, bytes]:
        batch = Batch(robot.id, robot.customer, robot.site, robot.stream, int(time.time() * 1000), windows)
        return telemetry_topic(robot.customer, robot.id), encode_batch(batch)

    def batch(self, index: int, n: int) -> tuple[str, bytes]:
        robot = self.robots[index]
        return self.payload(robot, self.make_windows(robot, n))


class Publisher:
    """A plain paho client publishing QoS 1; ``wait_all`` until the broker acknowledged everything."""

    def __init__(self, port: int, client_id: str | None = None, username: str | None = None,
                 password: str | None = None):
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                  client_id=client_id or f"pub-{uuid.uuid4().hex[:8]}")
        if username:
            self.client.username_pw_set(username, password)
        self.client.max_inflight_messages_set(500)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(0.2, 2)
        self.connected = threading.Event()
        self.client.on_connect = lambda c, u, f, rc, p: (not rc.is_failure) and self.connected.set()
        self.client.on_disconnect = lambda c, u, f, rc, p: self.connected.clear()
        self.infos: list[mqtt.MQTTMessageInfo] = []
        self.client.connect("127.0.0.1", port, keepalive=10)
        self.client.loop_start()
        if not self.connected.wait(10):
            raise AssertionError("publisher could not connect")

    def publish(self, topic: str, payload: bytes) -> None:
        self.connected.wait(30)  # while the broker restarts, wait rather than pile up failures
        self.infos.append([topic, payload, self.client.publish(topic, payload, qos=1)])

    @staticmethod
    def _acked(info: mqtt.MQTTMessageInfo) -> bool:
        return info.rc == mqtt.MQTT_ERR_SUCCESS and info.is_published()

    def unacked(self) -> int:
        return sum(1 for _, _, info in self.infos if not self._acked(info))

    def wait_all(self, timeout: float = 60) -> None:
        """At least once, like a real agent: a publish that failed (no connection) is sent again, and
        so is one still unacknowledged after 30 s; paho itself resends in-flight ones on reconnect.
        (Not sooner: a rejected message sent twice would be counted twice, rightly.)"""
        deadline = time.monotonic() + timeout
        stale_after = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.unacked() == 0:
                return
            time.sleep(0.5)
            if not self.connected.is_set():
                continue
            stale = time.monotonic() > stale_after
            for entry in self.infos:
                info = entry[2]
                if info.rc != mqtt.MQTT_ERR_SUCCESS or (stale and not info.is_published()):
                    entry[2] = self.client.publish(entry[0], entry[1], qos=1)
            if stale:
                stale_after = time.monotonic() + 30
        raise AssertionError(f"{self.unacked()} publishes never acknowledged")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def make_publisher():
    pubs: list[Publisher] = []

    def factory(port: int, **kw) -> Publisher:
        pub = Publisher(port, **kw)
        pubs.append(pub)
        return pub

    yield factory
    for pub in pubs:
        pub.close()


def stored_ledger(conn: sqlite3.Connection, table: str = "counter_day") -> dict[tuple[str, str], int]:
    rows = conn.execute(f"SELECT robot, metric, SUM(total) FROM {table} GROUP BY robot, metric")
    return {(r, m): t for r, m, t in rows if t}


def raw_ledger(conn: sqlite3.Connection) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = defaultdict(int)
    for robot, _stream, _seq, _t0, _t1, counts, _gauges in all_windows(conn):
        for metric, value in counts.items():
            out[(robot, metric)] += value
    return {k: v for k, v in out.items() if v}
