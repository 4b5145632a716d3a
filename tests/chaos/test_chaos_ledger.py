"""The chaos suite (issue 17): robots behind flaky venue Wi-Fi lose nothing and do not stampede.

The simulated fleet (real agent code: AgentCore, outbox, Publisher) runs in its own network
namespace and reaches Mosquitto, in another, only across a link that loses 20 % of the packets in
each direction, delays each one 150-400 ms each way (300-800 ms round trip, so packets overtake one
another) and goes down for the last third of every period.  In the middle the broker restarts and the
collector is killed with SIGKILL and started again.  Then the ledger of what the robots handed to
their agents must equal, per robot and metric, what the collector stored, and the raw store must hold
exactly as many windows as the robots made (no loss, no double count); the robots' reconnects after
the broker restart must be spread in time.

Short form (``make test``): 8 robots, 30 s live, the link down 6 s of every 20 s.  Long form
(``make chaos``, ``ROBOPULSE_CHAOS=long``): 50 robots, 10 minutes, down 20 s of every 60 s; its
figures are in docs/chaos.md.  Needs root, network namespaces and TUN; skips with the reason otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tests.plugins.collector import new_collector
from tests.plugins.sim import SimCollector
from tests.support.procs import Proc, robopulse_cmd, wait_until

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Form:
    robots: int
    live_s: int
    period_s: float
    down_s: float
    broker_restart_at: float  # seconds after the fleet went live
    collector_kill_at: float
    collector_down_s: float
    flush_timeout_s: int


SHORT = Form(robots=8, live_s=30, period_s=20, down_s=6, broker_restart_at=10, collector_kill_at=20,
             collector_down_s=4, flush_timeout_s=120)
LONG = Form(robots=50, live_s=600, period_s=60, down_s=20, broker_restart_at=250, collector_kill_at=370,
            collector_down_s=15, flush_timeout_s=300)
FORM = LONG if os.environ.get("ROBOPULSE_CHAOS") == "long" else SHORT
LOSS, DELAY = 0.2, (0.15, 0.4)


def scenario_toml(robots: int) -> str:
    """Three customers sharing ``robots``; a day of hourly history so each robot first sends a backlog."""
    split = [robots - 2 * (robots // 3), robots // 3, robots // 3]
    parts = ["""[scenario]
name = "chaos"
seed = 17
interval_s = 10
publish_interval_s = 5
backfill_days = 1
backfill_window_s = 3600
backfill_recent_s = 0
local_start = "12:00"
"""]
    for (cid, scene), n in zip((("chaos-museum", "museum"), ("chaos-mall", "mall"), ("chaos-bank", "bank")),
                               split):
        if n:
            parts.append(f'[[customers]]\nid = "{cid}"\nscene = "{scene}"\nrobots = {n}\n'
                         f'sites = ["a", "b"]\nengagement = 0.9\nonboarded = "-100d"\n')
    return "\n".join(parts)


def events(text: str, name: str) -> list[float]:
    """Wall-clock times (epoch seconds) of the structlog JSON events called ``name``."""
    out = []
    for line in text.splitlines():
        if f'"{name}"' not in line:
            continue
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if doc.get("event") == name and "timestamp" in doc:
            out.append(datetime.fromisoformat(doc["timestamp"].replace("Z", "+00:00")).timestamp())
    return sorted(out)


def first_retry_delays(text: str, since: float) -> list[float]:
    """``retry_in_s`` of every first retry (attempt 1) scheduled after ``since`` (epoch seconds)."""
    out = []
    for line in text.splitlines():
        if '"mqtt_connection_lost"' not in line:
            continue
        doc = json.loads(line)
        ts = datetime.fromisoformat(doc["timestamp"].replace("Z", "+00:00")).timestamp()
        if ts >= since and doc.get("attempt") == 1:
            out.append(float(doc["retry_in_s"]))
    return out


def busiest_second(times: list[float]) -> int:
    """The most events in any one-second span."""
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] < t - 1.0:
            j += 1
        best = max(best, i - j + 1)
    return best


def test_chaos_ledger_exact_and_reconnects_spread(chaos_net, impaired_link, netns_broker, on_teardown, tmp_path,
                                                  output_dir):
    form, net = FORM, chaos_net
    scenario = tmp_path / "chaos.toml"
    scenario.write_text(scenario_toml(form.robots))

    # the collector, in this namespace, reaches the broker over the clean veth
    col = new_collector(tmp_path / "collector", netns_broker, SimCollector,
                        **{"mqtt.host": net.broker_for_root})
    from simulator import scenario as scn_mod
    csv_path = col.config.parent / "customers.csv"
    csv_path.write_text(scn_mod.customers_csv(scn_mod.load(scenario, int(time.time() * 1000))), encoding="utf-8")
    done = subprocess.run(robopulse_cmd("collector", "import-customers", str(csv_path), "--config", str(col.config)),
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    on_teardown(lambda: col.proc is not None and col.proc.terminate())
    col.start(60)

    link = impaired_link(loss=LOSS, delay=DELAY, down_s=form.down_s, period_s=form.period_s)
    ledger_path = tmp_path / "ledger.json"
    sim = Proc([*net.exec_prefix(net.robots_ns), sys.executable, "-m", "protocol.cli", "sim", "run",
                "--scenario", str(scenario), "--broker", f"{net.broker_for_robots}:1883",
                "--state-dir", str(tmp_path / "sim-state"), "--workers", "2", "--duration", str(form.live_s),
                "--flush-timeout", str(form.flush_timeout_s), "--ledger", str(ledger_path)],
               tmp_path / "sim.log", cwd=ROOT)
    on_teardown(lambda: sim.terminate(30))
    figures: dict = {"form": "long" if form is LONG else "short", "robots": form.robots, "live_s": form.live_s,
                     "loss": LOSS, "one_way_delay_s": list(DELAY), "down_s": form.down_s, "period_s": form.period_s}
    try:
        wait_until(lambda: '"fleet_live"' in sim.output(), 120, 0.2, "the fleet to go live", (sim, col.proc))
        live_at = time.monotonic()

        def at(offset: float) -> None:
            while time.monotonic() < live_at + offset:
                col.proc.check_alive()
                sim.check_alive()
                time.sleep(0.2)

        at(form.broker_restart_at)
        restart_wall = time.time()
        netns_broker.process.stop()
        netns_broker.process.start()
        figures["broker_restart_s"] = round(time.monotonic() - live_at, 1)

        at(form.collector_kill_at)
        col.proc.kill9()
        figures["collector_kill9_s"] = round(time.monotonic() - live_at, 1)
        time.sleep(form.collector_down_s)
        col.restart()

        assert sim.popen.wait(form.live_s + form.flush_timeout_s + 120) == 0, sim.output()[-4000:]
        figures["sim_wall_s"] = round(time.monotonic() - live_at, 1)
    finally:
        figures["link"] = link.stop()
        for log in (sim.log_path, col.log_path, netns_broker.log_path):  # kept for a person to read
            if log.exists():
                (output_dir / f"{log.parent.name}-{log.name}").write_bytes(log.read_bytes())

    ledger = json.loads(ledger_path.read_text())
    assert ledger["complete"] and not ledger["undelivered"] and ledger["errors"] == 0, ledger
    assert len(ledger["robots"]) == form.robots
    expected_windows = sum(entry["windows"] for entry in ledger["robots"].values())

    def matches():
        return all(col.counters(rid) == entry["counters"] for rid, entry in ledger["robots"].items())

    t_wait = time.monotonic()
    wait_until(matches, 120, 1.0, "collector counters to equal the ledger", (col.proc,))
    wait_until(lambda: col.window_count() == expected_windows, 30, 0.5, "raw windows to equal the ledger's")
    figures["settle_s"] = round(time.monotonic() - t_wait, 1)
    assert col.window_count() == expected_windows  # no window twice, none missing
    figures["windows"] = expected_windows
    figures["counter_total"] = sum(sum(e["counters"].values()) for e in ledger["robots"].values())

    # the faults were real: packets lost, the link went down, connections broke
    stats = figures["link"]
    assert stats["dropped_loss"] > 0 and stats["dropped_down"] > 0 and stats["reordered"] > 0, stats
    assert stats["down_periods"] >= max(1, int(form.live_s // form.period_s) - 1), stats
    out = sim.output()
    lost = events(out, "mqtt_connection_lost")
    connected = events(out, "mqtt_connected")
    figures["connection_lost_events"] = len(lost)
    figures["connected_events"] = len(connected)
    figures["connect_failed_events"] = len(events(out, "mqtt_connect_failed"))

    # no stampede: the reconnects after the broker restart are spread in time
    after = [t - restart_wall for t in connected if restart_wall <= t <= restart_wall + 120]
    assert len(after) >= form.robots, (len(after), after)  # every robot came back
    first_round = sorted(after)[:form.robots]
    figures["reconnect_after_restart_s"] = {"first": round(first_round[0], 2), "last": round(first_round[-1], 2),
                                            "busiest_second": busiest_second(first_round)}
    assert first_round[-1] - first_round[0] > 1.0, first_round
    assert busiest_second(first_round) < form.robots, first_round

    # the agents themselves spread their first retry (the link's loss alone must not be what spreads them)
    delays = first_retry_delays(out, restart_wall)
    figures["first_retry_delay_s"] = {"n": len(delays), "distinct": sorted(set(delays))[:10]}
    if len(delays) >= 4:
        assert max(delays) - min(delays) > 0.2, delays

    (output_dir / "chaos-figures.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures))
