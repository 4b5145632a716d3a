"""Fixtures for the sim tests: a collector process tuned for fast evaluation with a scenario's
customers imported, and a ``robopulse sim run`` process."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from tests.plugins.collector import RunningCollector, new_collector, terminate_all
from tests.support.procs import Proc, robopulse_cmd

DATA = Path(__file__).resolve().parents[1] / "e2e" / "data"

#: evaluation every second; alert durations short enough for a test (the rules are the defaults)
FAST_HEALTH = """
[health]
interval_s = 1
# subsystem_degraded fires at once here (for_s = 0), so a robot of a quiet customer with 20 nav tasks
# in the hour and 3 ordinary failures would be called critical by chance (about 4 % per look);
# 60 keeps the hour view for robots busy enough to judge and leaves the rest to the 24-hour view
min_volume = 60

[alerts.robot_offline]
threshold = 0.2
clear = 0.1

[alerts.subsystem_degraded]
for_s = 0

[alerts.site_outage]
for_s = 5
"""


class SimCollector(RunningCollector):
    """The store tests' collector process, with the sim tests' view of it."""

    def get(self, path: str):
        return self.get_json(path)

    def counters(self, robot: str) -> dict[str, int]:
        now = int(time.time() * 1000)  # the route allows 3 years at most
        doc = self.get(f"/api/v1/robots/{robot}/counters?from={now - 400 * 86_400_000}&to={now + 3 * 86_400_000}")
        return {k: v for k, v in doc["counters"].items() if v}

    def start(self, timeout: float = 60) -> None:
        super().start(timeout)


@pytest.fixture
def sim_collector(tmp_path):
    """Factory: ``sim_collector(broker, scenario_path)`` -> a running collector with the scenario's
    customers imported through ``robopulse collector import-customers``."""
    running: list[SimCollector] = []

    def factory(broker, scenario_path: Path, extra: str = FAST_HEALTH) -> SimCollector:
        from simulator import scenario

        col = new_collector(tmp_path / "collector", broker, SimCollector, extra_toml=extra)
        scn = scenario.load(scenario_path, int(time.time() * 1000))
        csv_path = col.config.parent / "customers.csv"
        csv_path.write_text(scenario.customers_csv(scn), encoding="utf-8")
        done = subprocess.run(robopulse_cmd("collector", "import-customers", str(csv_path), "--config", str(col.config)),
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        running.append(col)
        col.start()
        return col

    yield factory
    terminate_all(running)


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
