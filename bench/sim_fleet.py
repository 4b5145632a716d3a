"""1,000 simulated robots, each with its own MQTT connection, through one collector.

    python -m bench.sim_fleet [--robots 1000] [--minutes 10] [--baseline-minutes 2] [--workers 4]

Runs a private Mosquitto, the collector (``robopulse collector run``, SQLite, health every 60 s) and
``robopulse sim run`` with a generated scenario (50 customers across the scenes, default agent
settings: 10 s windows published every 60 s).  Every 10 s it samples the simulator's and the
collector's CPU and memory and the collector's backlog (``/healthz``, ``/metrics``): the collector
keeps up when the windows stored follow the windows closed and the backlog does not grow.

Baseline in the same run: the same number of bare paho clients, one connection each, driven by the
same number of threads and publishing a message of the same size at the same rate, without the
agent pipeline or the model.  The ratio says what the real agent code costs over the connections.
Results are printed as markdown (copied to docs/benchmarks/sim.md).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import psutil

from bench.probes import cpu_s, metric, tree_cpu_s, tree_rss

SCENES = ("museum", "ktv", "scenic", "conference", "mall", "bank", "hospital")
TOKEN = "bench-viewer-token"


def write_scenario(path: Path, robots: int, customers: int) -> None:
    per = robots // customers
    lines = ["[scenario]", 'name = "bench"', "seed = 7", "interval_s = 10", "publish_interval_s = 60",
             "backfill_days = 0", 'local_start = "11:00"', ""]
    for i in range(customers):
        n = per + (1 if i < robots - per * customers else 0)
        lines += ["[[customers]]", f'id = "bench-{i:03d}"', f'scene = "{SCENES[i % len(SCENES)]}"',
                  f"robots = {n}", 'sites = ["a", "b"]', f"engagement = {0.5 + (i % 5) / 10}",
                  'onboarded = "-200d"', 'opening_hours = "00:00-23:59"', ""]
    path.write_text("\n".join(lines))


def write_collector_config(path: Path, db: Path, broker_port: int, http_port: int) -> None:
    path.write_text("\n".join([
        "[collector]", f'db = "{db}"', 'log_level = "warning"', "",
        "[mqtt]", 'host = "127.0.0.1"', f"port = {broker_port}", f'client_id = "bench-{uuid.uuid4().hex[:6]}"', "",
        "[http]", f'listen = "127.0.0.1:{http_port}"', "",
        # the whole fleet (50 customers) reaches a fresh store at once: [ingest] enroll = "auto"
        # would refuse new customers beyond its default 10 a minute
        "[ingest]", "new_customers_per_minute = 100000", "",
        "[[http.tokens]]", f'token = "{TOKEN}"', 'role = "viewer"', "",
    ]))


def get_json(url: str) -> dict:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


# ---------------------------------------------------------------- the baseline

def baseline(port: int, robots: int, seconds: float, workers: int, payload: bytes, every_s: float) -> dict:
    """Bare paho clients: one connection each, a pre-encoded message every ``every_s``, QoS 1."""
    import paho.mqtt.client as mqtt

    from simulator import netloop

    netloop.install()  # like the simulator: select() cannot watch a thousand sockets
    proc = psutil.Process()
    clients = []
    for i in range(robots):
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bare-{i}", clean_session=True)
        c.connect("127.0.0.1", port, 30)
        clients.append(c)
    stop = threading.Event()
    sent = [0]
    shards = [clients[i::workers] for i in range(workers)]

    def work(shard, offset):
        nxt = [time.monotonic() + every_s * (j / len(shard)) for j in range(len(shard))]
        while not stop.is_set():
            began = time.monotonic()
            for j, c in enumerate(shard):
                c.loop(0)
                if began >= nxt[j]:
                    c.publish(f"bench/bare/{offset}/{j}", payload, qos=1)
                    sent[0] += 1
                    nxt[j] += every_s
            stop.wait(max(0.0, 0.25 - (time.monotonic() - began)))

    threads = [threading.Thread(target=work, args=(s, i), daemon=True) for i, s in enumerate(shards)]
    for t in threads:
        t.start()
    time.sleep(5)  # connected and settled
    c0, t0 = cpu_s(proc), time.monotonic()
    time.sleep(seconds)
    c1, t1 = cpu_s(proc), time.monotonic()
    rss = proc.memory_info().rss
    connected = sum(c.is_connected() for c in clients)
    stop.set()
    for t in threads:
        t.join()
    for c in clients:
        c.disconnect()
    return {"cpu_pct": 100 * (c1 - c0) / (t1 - t0), "rss": rss, "messages": sent[0], "connected": connected}


# ---------------------------------------------------------------- the run

def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sim_fleet", description=__doc__.split("\n")[0])
    parser.add_argument("--robots", type=int, default=1000)
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--baseline-minutes", type=float, default=2)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)

    from simulator.broker import Mosquitto, free_port

    work = Path(tempfile.mkdtemp(prefix="bench-sim-"))
    broker = Mosquitto(work / "broker").start()
    scenario = work / "bench.toml"
    write_scenario(scenario, args.robots, args.customers)
    http_port = free_port()
    url = f"http://127.0.0.1:{http_port}"
    config = work / "collector.toml"
    write_collector_config(config, work / "store.db", broker.port, http_port)
    cli = [sys.executable, "-m", "protocol.cli"]
    collector = subprocess.Popen(cli + ["collector", "run", "--config", str(config)],
                                 stdout=open(work / "collector.log", "w"), stderr=subprocess.STDOUT)
    sim = None
    rows = []
    try:
        for _ in range(300):
            try:
                if get_json(url + "/healthz").get("mqtt") == "connected":
                    break
            except Exception:
                pass
            time.sleep(0.2)
        duration_s = args.minutes * 60
        ledger = work / "ledger.json"
        started = time.monotonic()
        sim = subprocess.Popen(cli + ["sim", "run", "--scenario", str(scenario), "--broker",
                                      f"127.0.0.1:{broker.port}", "--state-dir", str(work / "state"),
                                      "--duration", str(duration_s), "--ledger", str(ledger),
                                      "--workers", str(args.workers), "--log-level", "warning"],
                               stdout=open(work / "sim.log", "w"), stderr=subprocess.STDOUT)
        ps_sim, ps_col = psutil.Process(sim.pid), psutil.Process(collector.pid)
        last = (time.monotonic(), tree_cpu_s(ps_sim), tree_cpu_s(ps_col))
        while sim.poll() is None:
            time.sleep(10)
            if sim.poll() is not None:
                break
            if time.monotonic() - started >= duration_s:
                continue  # the fleet is stopping: every robot sends its last batch at once, not steady state
            now = (time.monotonic(), tree_cpu_s(ps_sim), tree_cpu_s(ps_col))
            dt = now[0] - last[0]
            health = get_json(url + "/healthz")
            rows.append({
                "t": round(now[0] - started), "sim_cpu": 100 * (now[1] - last[1]) / dt,
                "col_cpu": 100 * (now[2] - last[2]) / dt, "sim_rss": tree_rss(ps_sim), "col_rss": tree_rss(ps_col),
                "stored": metric(url, "robopulse_store_windows_stored_total"),
                "backlog": health.get("backlog_messages", 0),
                "connections": sum(1 for c in psutil.net_connections("tcp")
                                   if c.laddr and c.laddr.port == broker.port and c.status == "ESTABLISHED"),
            })
            last = now
            r = rows[-1]
            print(f"t={r['t']:4d}s sim {r['sim_cpu']:5.1f}% {r['sim_rss'] / 2**20:6.1f} MiB | collector "
                  f"{r['col_cpu']:5.1f}% {r['col_rss'] / 2**20:6.1f} MiB | stored {r['stored']:.0f} "
                  f"backlog {r['backlog']} conns {r['connections']}", file=sys.stderr, flush=True)
        rc = sim.wait()
        doc = json.loads(ledger.read_text()) if ledger.exists() else {}
        emitted = sum(r["windows"] for r in doc.get("robots", {}).values())
        deadline = time.monotonic() + 60
        while metric(url, "robopulse_store_windows_stored_total") < emitted and time.monotonic() < deadline:
            time.sleep(1)
        stored = metric(url, "robopulse_store_windows_stored_total")
        payload = b"x" * 900  # about one compressed minute of windows
        base = baseline(broker.port, args.robots, args.baseline_minutes * 60, args.workers, payload, 60.0)
    finally:
        if sim is not None and sim.poll() is None:
            sim.terminate()
            sim.wait()
        collector.terminate()
        collector.wait()
        broker.stop()
    steady = rows[len(rows) // 5:] or rows  # skip the connect storm
    sim_cpu = statistics.mean(r["sim_cpu"] for r in steady)
    col_cpu = statistics.mean(r["col_cpu"] for r in steady)
    sim_rss = max(r["sim_rss"] for r in rows)
    col_rss = max(r["col_rss"] for r in rows)
    backlog_first = statistics.mean(r["backlog"] for r in steady[: max(1, len(steady) // 3)])
    backlog_last = statistics.mean(r["backlog"] for r in steady[-max(1, len(steady) // 3):])
    n = args.robots
    print(f"""
## bench.sim_fleet: {n} simulated robots, one MQTT connection each, {args.minutes:g} min

machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB; sim exit {rc};
10 s windows published every 60 s (agent defaults), {args.workers} worker threads.

| | value |
|---|---|
| robots connected (peak, seen at the broker) | {max(r['connections'] for r in rows)} |
| windows emitted (ledger) / stored by the collector | {emitted} / {stored:.0f} |
| simulator CPU (steady, % of one core) | {sim_cpu:.1f} % = {sim_cpu / n * 1000:.2f} % per 1,000 robots |
| simulator CPU per robot | {sim_cpu / n:.4f} % of a core |
| simulator memory (peak RSS) | {sim_rss / 2**20:.0f} MiB = {sim_rss / n / 1024:.0f} KiB per robot |
| collector CPU (steady) / peak RSS | {col_cpu:.1f} % / {col_rss / 2**20:.0f} MiB |
| collector backlog (messages), first third / last third | {backlog_first:.1f} / {backlog_last:.1f} |
| baseline: {base['connected']} bare paho clients, {base['messages']} messages | {base['cpu_pct']:.1f} % CPU, {base['rss'] / 2**20:.0f} MiB |
| ratio simulator / baseline CPU | {sim_cpu / max(base['cpu_pct'], 0.1):.2f} |
""")
    print("| t (s) | sim CPU % | sim MiB | collector CPU % | collector MiB | windows stored | backlog |")
    print("|---|---|---|---|---|---|---|")
    for r in rows[:: max(1, len(rows) // 12)]:
        print(f"| {r['t']} | {r['sim_cpu']:.1f} | {r['sim_rss'] / 2**20:.0f} | {r['col_cpu']:.1f} | "
              f"{r['col_rss'] / 2**20:.0f} | {r['stored']:.0f} | {r['backlog']} |")
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    ok = rc == 0 and stored >= emitted and backlog_last <= max(5.0, 2 * backlog_first)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
