"""Fixtures of the chaos suite: the namespaces, the impaired link, Mosquitto in the broker namespace."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulator.broker import MosquittoProcess, mosquitto_binary
from tests.chaos.netns import ChaosNet, unavailable
from tests.support.broker import Broker

ROOT = Path(__file__).resolve().parents[2]


class NetnsMosquitto(MosquittoProcess):
    """Mosquitto started inside a namespace (``ip netns exec`` execs it: the pid is Mosquitto's),
    probed from this namespace at ``probe_host``."""

    def __init__(self, conf_path, port, log_path, prefix: list[str], probe_host: str):
        super().__init__(conf_path, port, log_path, probe_host)
        self.prefix = prefix

    def start(self, timeout: float = 10.0):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.proc = subprocess.Popen([*self.prefix, mosquitto_binary(), "-c", str(self.conf_path)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited {self.proc.returncode}: {self.log()[-2000:]}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on {self.host}:{self.port}: {self.log()[-2000:]}")


class Impaired:
    """tests/chaos/impair.py running in the wan namespace; ``stop()`` returns its counters."""

    def __init__(self, net: ChaosNet, folder: Path, loss: float, delay: tuple[float, float], down_s: float,
                 period_s: float):
        self.stats_path = folder / "impair-stats.json"
        self.t0 = time.monotonic()
        self.down_s, self.period_s = down_s, period_s
        self.proc = subprocess.Popen(
            [*net.exec_prefix(net.wan_ns), sys.executable, "-m", "tests.chaos.impair", "--dev", net.tun,
             "--loss", str(loss), "--delay-min", str(delay[0]), "--delay-max", str(delay[1]),
             "--down", str(down_s), "--period", str(period_s), "--t0", repr(self.t0),
             "--stats", str(self.stats_path)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT, start_new_session=True)
        line = self.proc.stdout.readline()
        if "impair_ready" not in line:
            raise RuntimeError(f"impairment did not start: {line}{self.proc.stdout.read()}")

    def stop(self) -> dict:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return json.loads(self.stats_path.read_text()) if self.stats_path.exists() else {}


@pytest.fixture
def chaos_net():
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    net = ChaosNet().up()
    try:
        yield net
    finally:
        net.down()


@pytest.fixture
def impaired_link(chaos_net, tmp_path):
    started: list[Impaired] = []

    def factory(**kw) -> Impaired:
        imp = Impaired(chaos_net, tmp_path, **kw)
        started.append(imp)
        return imp

    yield factory
    for imp in started:
        imp.stop()


@pytest.fixture
def netns_broker(chaos_net, tmp_path):
    """Mosquitto with persistence in the broker namespace, listening on all its addresses, port 1883."""
    broker = Broker(tmp_path / "broker", port=1883, host="0.0.0.0", persistence=True)
    broker.process = NetnsMosquitto(broker.conf_path, broker.port, broker.log_path,
                                    chaos_net.exec_prefix(chaos_net.broker_ns), chaos_net.broker_for_root)
    broker.process.start()
    try:
        yield broker
    finally:
        broker.process.kill()


@pytest.fixture
def on_teardown():
    """Register callables to run at teardown, last first, also when the test fails: every process the
    test starts is stopped before the namespaces go."""
    calls: list = []
    yield calls.append
    for call in reversed(calls):
        try:
            call()
        except Exception:  # one failed stop must not keep the others from running
            pass
