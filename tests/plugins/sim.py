"""Fixtures for the sim tests: a collector process tuned for fast evaluation with a scenario's
customers imported, and a ``robopulse sim run`` process."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.broker import free_port
from tests.support.procs import Proc, robopulse_cmd, wait_until

TOKEN = "sim-viewer-token-1"
DATA = Path(__file__).resolve().parents[1] / "e2e" / "data"

#: evaluation every second; alert durations short enough for a test (the rules are the defaults)
FAST_HEALTH = """
[health]
interval_s = 1

[alerts.robot_offline]
threshold = 0.2
clear = 0.1

[alerts.subsystem_degraded]
for_s = 0

[alerts.site_outage]
for_s = 5
"""


@dataclass
class SimCollector:
    proc: Proc
    url: str
    db: Path
    config: Path
    log_path: Path

    def get(self, path: str):
        req = urllib.request.Request(self.url + path, headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(req, timeout=15) as resp:
            return json.loads(resp.read())

    def metrics(self) -> str:
        with urllib.request.urlopen(self.url + "/metrics", timeout=10) as resp:
            return resp.read().decode()

    def healthz(self) -> dict:
        with urllib.request.urlopen(self.url + "/healthz", timeout=5) as resp:
            return json.loads(resp.read())

    def counters(self, robot: str) -> dict[str, int]:
        now = int(time.time() * 1000)  # the route allows 3 years at most
        doc = self.get(f"/api/v1/robots/{robot}/counters?from={now - 400 * 86_400_000}&to={now + 3 * 86_400_000}")
        return {k: v for k, v in doc["counters"].items() if v}

    def start(self) -> None:
        self.proc = Proc(robopulse_cmd("collector", "run", "--config", str(self.config)), self.log_path)
        wait_until(lambda: self.healthz().get("mqtt") == "connected", 60, 0.2, "collector subscribed", (self.proc,))


def write_config(folder: Path, broker_port: int, http_port: int, extra: str = FAST_HEALTH) -> Path:
    config = folder / "collector.toml"
    config.write_text("\n".join([
        "[collector]", f'db = "{folder / "store.db"}"', "flush_ms = 100", "",
        "[mqtt]", 'host = "127.0.0.1"', f"port = {broker_port}", f'client_id = "sim-col-{uuid.uuid4().hex[:6]}"', "",
        "[http]", f'listen = "127.0.0.1:{http_port}"', "",
        "[[http.tokens]]", f'token = "{TOKEN}"', 'role = "viewer"', "",
    ]) + extra)
    return config


@pytest.fixture
def sim_collector(tmp_path):
    """Factory: ``sim_collector(broker, scenario_path)`` -> a running collector with the scenario's
    customers imported through ``robopulse collector import-customers``."""
    running: list[SimCollector] = []

    def factory(broker, scenario_path: Path, extra: str = FAST_HEALTH) -> SimCollector:
        from simulator import scenario

        folder = tmp_path / "collector"
        folder.mkdir()
        config = write_config(folder, broker.port, free_port(), extra)
        scn = scenario.load(scenario_path, int(time.time() * 1000))
        csv_path = folder / "customers.csv"
        csv_path.write_text(scenario.customers_csv(scn), encoding="utf-8")
        done = subprocess.run(robopulse_cmd("collector", "import-customers", str(csv_path), "--config", str(config)),
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        http_port = int(config.read_text().split('listen = "127.0.0.1:')[1].split('"')[0])
        col = SimCollector(None, f"http://127.0.0.1:{http_port}", folder / "store.db", config,
                           folder / "collector.log")
        running.append(col)
        col.start()
        return col

    yield factory
    for col in running:
        if col.proc is not None:
            col.proc.terminate()


@pytest.fixture
def run_sim(tmp_path):
    """Factory: ``run_sim(broker, scenario_path, *args)`` -> Proc of ``robopulse sim run``."""
    procs: list[Proc] = []

    def factory(broker, scenario_path: Path, *args: str, name: str = "sim") -> Proc:
        cmd = robopulse_cmd("sim", "run", "--scenario", str(scenario_path), "--broker", f"127.0.0.1:{broker.port}",
                            "--state-dir", str(tmp_path / f"{name}-state"), "--workers", "2", *args)
        proc = Proc(cmd, tmp_path / f"{name}.log")
        procs.append(proc)
        return proc

    yield factory
    for proc in procs:
        proc.terminate(30)
