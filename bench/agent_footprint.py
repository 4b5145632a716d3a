"""The agent's footprint on the robot, side by side with a naive baseline in the same run.

Three processes run at once against one private Mosquitto:
- agent A: the real ``robopulse agent run`` at ``interval_s = 1`` receiving 200 StatsD lines a second
  (one line per datagram, the worst case): resident memory and CPU share of one core;
- baseline: a Python process importing paho-mqtt and psutil that publishes one JSON sample a second;
- four more agents for bytes on the wire, with default settings
  (10 s windows, published every 60 s): idle (no StatsD: the floor), a busy robot's day-time load
  (``--typical-rate``, 1 line/s = 3,600 events an hour; a benchmark customer's robot with 1,000
  interactions a day produces far fewer), the same with ``publish_interval_s = 120`` (the knob that
  trades latency for bytes), and the 200 lines/s (15 metrics all non-zero in every window: the worst
  case for bytes).
Bytes and packets are the kernel's own counters of each agent's socket to the broker (and of the
baseline's), read with ``ss -ti`` once a second: bytes_sent + bytes_received (MQTT both ways, CONNECT,
PUBACK, PINGs included) and segs_out + segs_in (pure ACKs included), each packet costing 52 bytes of
IPv4 + TCP headers (20 + 20 + 12 of timestamps).  Budget: RSS <= 40 MB, CPU <= 3 % of one core, <= 40 KB per robot-hour.

    python -m bench.agent_footprint [--duration 120] [--bytes-duration 600]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.probes import cpu_s  # noqa: E402
from tests.support.broker import Broker, free_port  # noqa: E402  (the test harness's private broker)

HEADER_BYTES = 52
BUDGET_RSS_MB, BUDGET_CPU_PCT, BUDGET_KB_HOUR = 40, 3.0, 40
METRICS = ["asr.requests", "asr.unrecognized", "nlp.requests", "nlp.unhandled", "tts.requests",
           "vision.face_attempts", "vision.face_unrecognized", "touch.taps", "nav.tasks",
           "usage.foot_traffic", "usage.wakeups", "usage.interactions", "usage.solicitations",
           "skill.guide", "skill.qa"]

BASELINE = r"""
import json, sys, time, psutil, paho.mqtt.client as mqtt
c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="naive-baseline")
c.connect("127.0.0.1", int(sys.argv[1]), 60)
c.loop_start()
while True:
    sample = {"robot": "r-base", "ts": time.time(), "cpu": psutil.cpu_percent(), "mem": psutil.virtual_memory().percent,
              "disk": psutil.disk_usage("/").percent, "uptime": time.time() - psutil.boot_time(),
              "counters": {"asr.requests": 12, "usage.interactions": 9, "touch.taps": 4}}
    c.publish("naive/r-base/telemetry", json.dumps(sample), qos=1)
    time.sleep(1)
"""


def socket_counters(broker_port: int) -> dict[int, tuple[int, int]]:
    """{pid: (bytes both ways, packets both ways)} of every connection to the broker, from the kernel's
    own counters on each client's socket (``ss -ti``: bytes_sent + bytes_received, segs_out + segs_in,
    pure ACKs included). Read on the agent's socket itself, so nothing in between adds or merges
    packets (a forwarding proxy, used before, added an immediate ACK to every exchange)."""
    out = subprocess.run(["ss", "-tinpH", "state", "established", "dport", "=", f":{broker_port}"],
                         capture_output=True, text=True, check=True).stdout
    counters: dict[int, tuple[int, int]] = {}
    for block in re.split(r"\n(?=\S)", out.strip()):
        pid = re.search(r"pid=(\d+)", block)
        fields = dict(re.findall(r"\b(bytes_sent|bytes_received|segs_out|segs_in):(\d+)", block))
        if pid and fields:
            n = {k: int(v) for k, v in fields.items()}
            old = counters.get(int(pid.group(1)), (0, 0))
            counters[int(pid.group(1))] = (old[0] + n.get("bytes_sent", 0) + n.get("bytes_received", 0),
                                           old[1] + n.get("segs_out", 0) + n.get("segs_in", 0))
    return counters


def agent_toml(path: Path, robot: str, port: int, statsd_port: int, state: Path, interval: int | None,
               publish_interval: int | None = None) -> Path:
    lines = ["[agent]", f'robot_id = "{robot}"', 'customer_id = "bench"', f'state_dir = "{state}"']
    if interval:
        lines.append(f"interval_s = {interval}")
    if publish_interval:
        lines.append(f"publish_interval_s = {publish_interval}")
    lines += ["[mqtt]", 'host = "127.0.0.1"', f"port = {port}", "[ingest]", f'statsd = "127.0.0.1:{statsd_port}"']
    path.write_text("\n".join(lines) + "\n")
    return path


def statsd_sender(ports, rate, stop):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rnd = random.Random(1)
    sent = 0
    start = time.monotonic()
    while not stop.is_set():
        line = f"{rnd.choice(METRICS)}:1|c".encode()
        for port in ports:
            sock.sendto(line, ("127.0.0.1", port))
        sent += 1
        delay = start + sent / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    return sent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.agent_footprint", description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=120, help="seconds measured for RSS and CPU (default 120)")
    ap.add_argument("--bytes-duration", type=float, default=600,
                    help="seconds measured for bytes per robot-hour (default 600)")
    ap.add_argument("--rate", type=float, default=200, help="StatsD lines per second (default 200)")
    ap.add_argument("--typical-rate", type=float, default=1, help="a busy robot's StatsD lines per second (default 1)")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-agent-"))
    broker = Broker(work / "broker").start()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    agent_cmd = [sys.executable, "-m", "protocol.cli", "agent", "run", "--config"]
    procs: list[subprocess.Popen] = []

    def spawn(name: str, args_: list[str], cwd=ROOT) -> psutil.Process:
        log = open(work / f"{name}.log", "wb")
        procs.append(subprocess.Popen(args_, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd))
        return psutil.Process(procs[-1].pid)

    # A: footprint at interval_s = 1 under 200 lines/s; the naive baseline
    port_a = free_port()
    agent_a = spawn("a", agent_cmd + [str(agent_toml(work / "a.toml", "r-a", broker.port, port_a,
                                                          work / "state-a", 1))])
    base = spawn("baseline", [sys.executable, "-c", BASELINE, str(broker.port)])
    # bytes: (label, lines/s, publish_interval_s)
    runs = [("idle (no StatsD), defaults", 0, None),
            (f"{args.typical_rate:g} lines/s, defaults", args.typical_rate, None),
            (f"{args.typical_rate:g} lines/s, publish_interval_s = 120", args.typical_rate, 120),
            (f"{args.rate:g} lines/s, defaults (worst case)", args.rate, None)]
    pids, statsd_ports = {}, {}  # label -> pid of the process whose socket is counted
    for i, (label, rate, publish) in enumerate(runs):
        port = free_port()
        statsd_ports.setdefault(rate, []).append(port)
        pids[label] = spawn(f"bytes{i}", agent_cmd + [str(agent_toml(work / f"bytes{i}.toml", f"r-{i}", broker.port,
                                                                     port, work / f"state-{i}", None, publish))]).pid
    pids["baseline"] = base.pid
    statsd_ports.setdefault(args.rate, []).append(port_a)
    stop = threading.Event()
    senders = [threading.Thread(target=statsd_sender, args=(tuple(ports), rate, stop), daemon=True)
               for rate, ports in statsd_ports.items() if rate > 0]
    try:
        time.sleep(5)  # start-up (imports, first connect) is not the steady state
        for sender in senders:
            sender.start()
        time.sleep(5)
        cpu0 = {p.pid: cpu_s(p) for p in (agent_a, base)}
        series = {key: [] for key in pids}  # (t, bytes, packets) once a second
        t0 = time.monotonic()
        peak = {agent_a.pid: 0, base.pid: 0}
        cpu_pct = None
        end = max(args.duration, args.bytes_duration)
        while time.monotonic() - t0 < end:
            for p in (agent_a, base):
                peak[p.pid] = max(peak[p.pid], p.memory_info().rss)
            counters = socket_counters(broker.port)
            for key, pid in pids.items():
                series[key].append((time.monotonic(), *counters.get(pid, (0, 0))))
            if cpu_pct is None and time.monotonic() - t0 >= args.duration:
                elapsed = time.monotonic() - t0
                cpu_pct = {p.pid: (cpu_s(p) - cpu0[p.pid]) / elapsed * 100 for p in (agent_a, base)}
            for p in procs:
                if p.poll() is not None:
                    raise SystemExit(f"a process died: {p.args}; logs in {work}")
            time.sleep(1)
        elapsed = time.monotonic() - t0
        if cpu_pct is None:
            cpu_pct = {p.pid: (cpu_s(p) - cpu0[p.pid]) / elapsed * 100 for p in (agent_a, base)}
        per_hour = {}
        for key, points in series.items():
            # bytes move only when a batch goes out: measure from the first publish seen to the last,
            # a whole number of publish cycles, so the rate does not depend on where the run started
            moves = [i for i in range(1, len(points)) if points[i][1] != points[i - 1][1]]
            first, last = (points[moves[0]], points[moves[-1]]) if len(moves) >= 2 else (points[0], points[-1])
            mqtt_bytes, packets = last[1] - first[1], last[2] - first[2]
            scale = 3600 / (last[0] - first[0])
            per_hour[key] = (mqtt_bytes * scale / 1000, (mqtt_bytes + packets * HEADER_BYTES) * scale / 1000,
                             packets * scale)
    finally:
        stop.set()
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        broker.stop()
    rss_a, rss_base = peak[agent_a.pid] / 2**20, peak[base.pid] / 2**20
    cpu_a, cpu_base = cpu_pct[agent_a.pid], cpu_pct[base.pid]
    kb_base, kb_base_full, pk_base = per_hour["baseline"]

    def verdict(ok):
        return "met" if ok else "NOT met"
    rows = []
    for label, *_ in runs:
        kb, kb_full, pk = per_hour[label]
        rows.append(f"| bytes per robot-hour, {label} | {kb:.1f} KB MQTT, {kb_full:.1f} KB with {pk:.0f} packets "
                    f"| {kb_base:.1f} KB MQTT, {kb_base_full:.1f} KB with {pk_base:.0f} packets "
                    f"| {kb_full / kb_base_full:.3f} | {BUDGET_KB_HOUR} KB | {verdict(kb_full <= BUDGET_KB_HOUR)} |")
    table = "\n".join(rows)
    print(f"""
### Agent footprint (`python -m bench.agent_footprint --duration {args.duration:g} --bytes-duration {args.bytes_duration:g}`)

Machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, Python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.2f} at the end (shared machine).
StatsD: one line per datagram over {len(METRICS)} metric names.

| measure | agent | naive baseline | ratio | budget | |
|---|---|---|---|---|---|
| peak resident memory (interval_s=1, {args.rate:g} lines/s) | {rss_a:.1f} MB | {rss_base:.1f} MB | {rss_a / rss_base:.2f} | {BUDGET_RSS_MB} MB | {verdict(rss_a <= BUDGET_RSS_MB)} |
| CPU, % of one core over {args.duration:g} s (interval_s=1, {args.rate:g} lines/s) | {cpu_a:.2f} % | {cpu_base:.2f} % | {cpu_a / max(cpu_base, 0.01):.2f} | {BUDGET_CPU_PCT} % | {verdict(cpu_a <= BUDGET_CPU_PCT)} |
{table}

Bytes: measured over {elapsed:.0f} s between the first and the last publish seen on each agent's own
socket to the broker, scaled to one hour; MQTT bytes are the kernel's bytes_sent + bytes_received of that
socket, "with packets" adds {HEADER_BYTES} B of IPv4 + TCP headers per packet it counted (segs_out + segs_in,
pure ACKs included).  The baseline does not even receive StatsD.
""")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
