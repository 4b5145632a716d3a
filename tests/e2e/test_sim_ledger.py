"""Must-show 2: what the simulated robots emitted (the ledger) equals what the collector counted,
per robot and metric, also when Mosquitto restarts in the middle of the run."""

import json

from simulator.scenario import load
from tests.plugins.sim import DATA
from tests.support.procs import wait_until

SCENARIO = DATA / "sim_ledger.toml"


def test_sim_ledger_equals_collector_counters_across_a_broker_restart(make_broker, sim_collector, run_sim,
                                                                      tmp_path):
    broker = make_broker(persistence=True)
    collector = sim_collector(broker, SCENARIO)
    ledger_path = tmp_path / "ledger.json"
    sim = run_sim(broker, SCENARIO, "--speed", "8", "--duration", "240", "--ledger", str(ledger_path))

    def stored() -> float:
        text = collector.metrics_text()
        return next(float(line.split()[-1]) for line in text.splitlines()
                    if line.startswith("robopulse_store_windows_stored_total "))

    # the back-fill is in (3 days of hourly windows for 7 robots), and live windows are flowing
    wait_until(lambda: stored() > 7 * 60 + 40, 60, 0.2, "live windows stored", (sim, collector.proc))
    broker.restart()
    assert sim.popen.wait(180) == 0, sim.output()[-3000:]
    ledger = json.loads(ledger_path.read_text())
    assert ledger["complete"] and not ledger["undelivered"] and ledger["errors"] == 0

    robots = {r.id for r in load(SCENARIO, 0).robots}
    assert set(ledger["robots"]) == robots
    assert all(entry["windows"] > 40 for entry in ledger["robots"].values())

    def matches():
        return all(collector.counters(rid) == entry["counters"] for rid, entry in ledger["robots"].items())

    wait_until(matches, 60, 0.5, "collector counters to equal the ledger", (collector.proc,))
    for rid, entry in ledger["robots"].items():  # and the ledger is not trivially empty
        assert entry["counters"].get("net.offline_s", 0) >= 0
        assert sum(entry["counters"].values()) > 0
    assert ledger["robots"]["ledger-museum-r01"]["counters"]["net.offline_s"] >= 70  # hall-a was down 80 s
    # the restart really cut the connections: the robots reconnected, and so did the collector
    assert "mqtt_connection_lost" in sim.output()
    assert any(line.startswith("robopulse_ingest_connects_total") and float(line.split()[-1]) >= 2
               for line in collector.metrics_text().splitlines())
