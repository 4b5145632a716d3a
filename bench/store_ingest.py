"""Sustained ingest: windows per second committed by one collector (its main and writer
processes), side by side with a bare paho subscriber that only decodes, both fed by the same
publisher processes through the same local Mosquitto.

    python -m bench.store_ingest [--messages N] [--publishers P] [--robots R] [--paho-publishers]

For each payload shape (1 window per message, 50 windows per message) it runs the baseline (a bare
MQTT 5 subscriber, QoS 1, decode_batch and count) and then ``robopulse collector run`` (validate,
store, rollups, commit, ack), each receiving the same pre-encoded messages from P publisher
processes (pre-built MQTT packets on raw sockets, so that the publishers take little of the CPU the
consumers are measured on; ``--paho-publishers`` for paho clients).  Rates are windows / seconds: for the bare
subscriber from its first to its last arrival, for the collector from the first message it
received (the store's earliest receive time) to the poll of ``/metrics`` that saw the last commit.
It reports the collector's CPU seconds and peak RSS, its writer process
included.  Budget: collector >= 0.5 x bare subscriber, and >= 5,000 windows/s at one window per
message.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import platform
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

COUNTERS = ("usage.interactions", "usage.wakeups", "asr.requests", "asr.unrecognized", "nav.tasks",
            "touch.taps", "skill.guide", "net.disconnects")
TOPIC_FILTER = "robopulse/v1/+/+/telemetry"


# ---------------------------------------------------------------- publisher process

def _payloads(worker: int, workers: int, messages: int, per_msg: int, robots: int, run: int) -> list:
    import random

    from protocol.codec import Batch, Window, encode_batch
    from protocol.topics import telemetry_topic

    rng = random.Random(worker * 1000 + run)
    now = int(time.time() * 1000) // 10_000 * 10_000 - 3_600_000
    seqs: dict[int, int] = {}
    out = []
    mine = [r for r in range(robots) if r % workers == worker]
    for n in range(messages):
        r = mine[n % len(mine)]
        seq = seqs.get(r, 0)
        windows = []
        for _ in range(per_msg):
            seq += 1
            t0 = now + seq * 10_000
            windows.append(Window(seq, t0, t0 + 10_000, {m: rng.randint(1, 20) for m in rng.sample(COUNTERS, 5)},
                                  {"sys.cpu_pct": rng.uniform(0, 100), "net.rtt_ms": rng.uniform(5, 200)}))
        seqs[r] = seq
        robot = f"r{r:06d}"
        batch = Batch(robot, f"c{r % 500:03d}", "s1", f"{run:04x}{r:012x}", int(time.time() * 1000), tuple(windows))
        out.append((telemetry_topic(batch.customer, robot), encode_batch(batch)))
    return out


def _publisher(port: int, worker: int, workers: int, messages: int, per_msg: int, robots: int, run: int,
               ready, go) -> None:
    import paho.mqtt.client as mqtt

    payloads = _payloads(worker, workers, messages, per_msg, robots, run)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{run}-{worker}")
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    ready.release()
    go.wait()
    infos = [client.publish(t, p, qos=1) for t, p in payloads]
    for info in infos:
        info.wait_for_publish(120)
    client.disconnect()
    client.loop_stop()


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (128 if n else 0))
        if not n:
            return bytes(out)


def _raw_publisher(port: int, worker: int, workers: int, messages: int, per_msg: int, robots: int, run: int,
                   ready, go) -> None:
    """The same QoS 1 messages as ``_publisher``, as MQTT 3.1.1 PUBLISH packets built before ``go``
    and written to the socket in 64 KiB chunks, at most 1,000 unacknowledged (as paho's
    max_inflight above).  Why: three paho publishers need most of a core at 10,000 messages/s, which
    on a 2-core machine is taken from the consumer being measured; this one needs a few percent."""
    import socket
    import threading

    payloads = _payloads(worker, workers, messages, per_msg, robots, run)
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    cid = f"bench-pub-{run}-{worker}".encode()
    body = b"\x00\x04MQTT\x04\x02\x00\x3c" + len(cid).to_bytes(2, "big") + cid
    sock.sendall(b"\x10" + _varint(len(body)) + body)
    connack = b""
    while len(connack) < 4:
        connack += sock.recv(4 - len(connack))
    assert connack[0] == 0x20 and connack[3] == 0, connack
    packets = []
    for i, (topic, payload) in enumerate(payloads):
        t = topic.encode()
        head = len(t).to_bytes(2, "big") + t + (i % 65535 + 1).to_bytes(2, "big")
        packets.append(b"\x32" + _varint(len(head) + len(payload)) + head + payload)
    acked = [0]
    more = threading.Condition()

    def read_acks() -> None:  # every PUBACK of MQTT 3.1.1 is 4 bytes: count bytes
        got = 0
        while got < 4 * len(packets):
            data = sock.recv(65536)
            if not data:
                return
            got += len(data)
            with more:
                acked[0] = got // 4
                more.notify()
    reader = threading.Thread(target=read_acks, daemon=True)
    reader.start()
    ready.release()
    go.wait()
    i = 0
    while i < len(packets):
        chunk, size = [], 0
        while i < len(packets) and size < 65536:
            chunk.append(packets[i])
            size += len(packets[i])
            i += 1
        with more:
            while i - acked[0] > 1000 + len(chunk):
                more.wait(1.0)
        sock.sendall(b"".join(chunk))
    reader.join(120)
    sock.sendall(b"\xe0\x00")
    sock.close()


# ---------------------------------------------------------------- bare subscriber process

def forget_session(port: int, client_id: str) -> None:
    """Drop a persistent session left on the broker, so it stops queuing copies of later runs."""
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", port, clean_start=True)
    client.loop_start()
    time.sleep(0.3)
    client.disconnect()
    client.loop_stop()


def _bare_subscriber(port: int, expect_windows: int, result_q, ready, go, client_id: str) -> None:
    """Decode-only subscriber.  With ``go`` it first makes its persistent session, disconnects,
    and after ``go`` comes back to drain what the broker queued (backlog mode)."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    from protocol.codec import decode_batch

    import threading

    state = {"windows": 0, "first": None, "last": None}
    subscribed = threading.Event()

    def on_connect(c, u, f, rc, p):
        c.subscribe(TOPIC_FILTER, qos=1)

    def on_subscribe(c, u, mid, rcs, p):
        subscribed.set()

    def on_message(c, u, msg):
        state["windows"] += len(decode_batch(msg.payload).windows)
        now = time.perf_counter()
        if state["first"] is None:
            state["first"] = now
        state["last"] = now

    def connect():
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        client.on_connect, client.on_subscribe, client.on_message = on_connect, on_subscribe, on_message
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        props.ReceiveMaximum = 5000
        client.connect("127.0.0.1", port, clean_start=False, properties=props)
        client.loop_start()
        return client

    client = connect()
    subscribed.wait(30)
    if go is not None:  # backlog mode: leave the session on the broker, come back after `go`
        client.disconnect()
        client.loop_stop()
        ready.release()
        go.wait()
        client = connect()
    else:
        ready.release()
    started = time.process_time()
    deadline = time.monotonic() + 300
    while state["windows"] < expect_windows and time.monotonic() < deadline:
        time.sleep(0.05)
    client.disconnect()
    client.loop_stop()
    span = (state["last"] or 0) - (state["first"] or 0)
    result_q.put({"windows": state["windows"], "seconds": span, "cpu_s": time.process_time() - started})


# ---------------------------------------------------------------- orchestration

def _start_publishers(ctx, port, args, per_msg, messages, run):
    ready, go = ctx.Semaphore(0), ctx.Event()
    target = _publisher if args.paho_publishers else _raw_publisher
    procs = [ctx.Process(target=target, args=(port, w, args.publishers, messages // args.publishers, per_msg,
                                                   args.robots, run, ready, go)) for w in range(args.publishers)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.acquire()
    return procs, go


def _wait_publishers(procs) -> None:
    for p in procs:
        p.join(600)


def run_bare(ctx, port, args, per_msg, messages, run, backlog: bool) -> dict:
    total = (messages // args.publishers) * args.publishers * per_msg
    q, ready, drain = ctx.Queue(), ctx.Semaphore(0), ctx.Event() if backlog else None
    client_id = f"bench-bare-{run}"
    sub = ctx.Process(target=_bare_subscriber, args=(port, total, q, ready, drain, client_id))
    sub.start()
    ready.acquire()
    procs, go = _start_publishers(ctx, port, args, per_msg, messages, run)
    started = time.perf_counter()
    go.set()
    offered = None
    if backlog:
        _wait_publishers(procs)
        offered = (messages // args.publishers) * args.publishers / (time.perf_counter() - started)
        drain.set()
    result = q.get(timeout=600)
    _wait_publishers(procs + [sub])
    forget_session(port, client_id)
    result["rate"] = result["windows"] / result["seconds"] if result["seconds"] else 0
    result["offered"] = offered  # backlog mode: messages/s the publishers alone got into the broker
    return result


def run_collector(ctx, broker, args, per_msg, messages, run, workdir: Path, backlog: bool) -> dict:
    import psutil

    from bench.probes import cpu_of, metric, process_tree, rss_of
    from tests.support.broker import free_port
    from tests.support.procs import Proc, robopulse_cmd, wait_until

    total = (messages // args.publishers) * args.publishers * per_msg
    http_port = free_port()
    cfg = workdir / f"collector-{run}.toml"
    cfg.write_text(f'[collector]\ndb = "{workdir}/store-{run}.db"\nlog_level = "warning"\n'
                   f'[mqtt]\nport = {broker.port}\nclient_id = "bench-collector-{run}"\n'
                   f'[http]\nlisten = "127.0.0.1:{http_port}"\n'
                   # a fresh store meets a fleet of 500 customers at once: lift enroll = "auto"'s
                   # new-customer budget (its check per message stays on the measured path)
                   f'[ingest]\nnew_customers_per_minute = 100000\n')
    url = f"http://127.0.0.1:{http_port}"

    def start():
        proc = Proc(robopulse_cmd("collector", "run", "--config", str(cfg)), workdir / f"collector-{run}.log")

        def connected():
            with urllib.request.urlopen(url + "/healthz", timeout=2) as resp:
                return json.loads(resp.read()).get("mqtt") == "connected"
        wait_until(connected, 30, 0.1, "collector subscribed", (proc,))
        return proc

    proc = start()
    procs, go = _start_publishers(ctx, broker.port, args, per_msg, messages, run)
    if backlog:  # the session stays on the broker while the collector is away
        proc.terminate()
        go.set()
        _wait_publishers(procs)
        proc = start()
    ps = psutil.Process(proc.pid)

    def tree() -> list:
        """The collector process and its writer process: CPU and memory count both."""
        return process_tree(ps)

    # backlog mode: the fresh process starts draining at once, so count its CPU from the start
    # (this includes start-up, about a second); live mode: from now
    cpu0 = 0.0 if backlog else cpu_of(tree())
    main_cpu0 = 0.0 if backlog else cpu_of([ps])
    go.set()
    last = None
    peak_rss = 0
    stored = 0.0
    deadline = time.monotonic() + 600
    while stored < total and time.monotonic() < deadline:
        stored = metric(url, "robopulse_store_windows_stored_total")
        if stored:
            last = time.time()  # a commit seen by this poll: the last one is at or before it
        if os.environ.get("BENCH_TRACE"):
            print(f"    t={time.time():.3f} stored={stored:,.0f}", file=sys.stderr, flush=True)
        peak_rss = max(peak_rss, rss_of(tree()))
        time.sleep(0.05)
    cpu = cpu_of(tree()) - cpu0
    main_cpu = cpu_of([ps]) - main_cpu0
    for p in procs:
        p.join(60)
    proc.terminate()
    forget_session(broker.port, f"bench-collector-{run}")
    # from the first message received (the store's earliest receive time) to the poll that saw the
    # last commit: /metrics can answer late while the collector is busy (in backlog mode most of
    # the drain can be over before the first poll), the store's own times cannot
    import sqlite3

    with sqlite3.connect(f"file:{workdir}/store-{run}.db?mode=ro", uri=True) as conn:
        first_ms = conn.execute("SELECT MIN(received_ms) FROM window_chunks").fetchone()[0]
    seconds = (last - first_ms / 1000) if last is not None and first_ms is not None else 0
    return {"windows": stored, "seconds": seconds, "rate": stored / seconds if seconds else 0,
            "cpu_s": cpu, "main_cpu_s": main_cpu, "peak_rss_mb": peak_rss / 2**20}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.store_ingest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=60_000, help="messages per run at 1 window/message")
    parser.add_argument("--batched-messages", type=int, default=4_000, help="messages per run at 50 windows/message")
    parser.add_argument("--publishers", type=int, default=3)
    parser.add_argument("--robots", type=int, default=10_000)
    parser.add_argument("--paho-publishers", action="store_true",
                        help="publish with paho clients instead of pre-built MQTT packets on raw sockets")
    parser.add_argument("--modes", default="live,backlog", help="which modes to run (live, backlog)")
    parser.add_argument("--shapes", default="1,50", help="which windows/message shapes to run (1, 50)")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (collector logs and stores)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.support.broker import Broker

    ctx = mp.get_context("spawn")
    rows = []
    modes = [m for m in ("live", "backlog") if m in args.modes.split(",")]
    if args.keep:
        Path(args.keep).mkdir(parents=True, exist_ok=True)
    with (contextlib.nullcontext(args.keep) if args.keep else tempfile.TemporaryDirectory(prefix="bench-ingest-")) as tmp:
        workdir = Path(tmp)
        broker = Broker(workdir / "broker", extra="max_queued_messages 1000000").start()
        try:
            shapes = [(n, m) for n, m in ((1, args.messages), (50, args.batched_messages))
                      if str(n) in args.shapes.split(",")]
            for run, (mode, (per_msg, messages)) in enumerate(((m, s) for m in modes for s in shapes), 1):
                backlog = mode == "backlog"
                bare = run_bare(ctx, broker.port, args, per_msg, messages, run * 10, backlog)
                col = run_collector(ctx, broker, args, per_msg, messages, run * 10 + 1, workdir, backlog)
                rows.append((mode, per_msg, messages, bare, col))
                print(f"  {mode} {per_msg} window(s)/msg: bare {bare['rate']:,.0f} w/s, "
                      f"collector {col['rate']:,.0f} w/s", file=sys.stderr, flush=True)
        finally:
            broker.stop()
    kind = "paho" if args.paho_publishers else "raw-socket (pre-built packets)"
    print(f"\nMachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{args.publishers} {kind} publisher processes, {args.robots} robots, local Mosquitto, QoS 1.\n")
    print("| mode | windows/msg | windows | bare subscriber w/s | collector committed w/s | ratio | "
          "bare CPU µs/window | collector CPU µs/window (main + writer process) | collector peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|---|")
    verdicts = {}
    for mode, per_msg, messages, bare, col in rows:
        ratio = col["rate"] / bare["rate"] if bare["rate"] else 0
        bare_us = 1e6 * bare["cpu_s"] / bare["windows"] if bare["windows"] else 0
        col_us = 1e6 * col["cpu_s"] / col["windows"] if col["windows"] else 0
        main_us = 1e6 * col["main_cpu_s"] / col["windows"] if col["windows"] else 0
        print(f"| {mode} | {per_msg} | {int(col['windows']):,} | {bare['rate']:,.0f} | {col['rate']:,.0f} | "
              f"{ratio:.2f} | {bare_us:.0f} | {col_us:.0f} ({main_us:.0f} + {col_us - main_us:.0f}) | "
              f"{col['peak_rss_mb']:.0f} |")
        ok = ratio >= 0.5 and (per_msg != 1 or col["rate"] >= 5000)
        verdicts[per_msg] = verdicts.get(per_msg, True) and ok  # live and backlog both
    for mode, per_msg, messages, bare, col in rows:
        if bare["offered"]:
            print(f"\nPublishers alone (filling the bare subscriber's session, nobody reading), {per_msg} "
                  f"window(s)/msg: {bare['offered']:,.0f} messages/s.", end="")
    print("\n\nlive: publishers and consumer run together (with --paho-publishers the rates are capped by what "
          "the publishers offer); backlog: the publishers fill the consumer's persistent session first, then it "
          "drains (capacity).")
    for per_msg, ok in verdicts.items():
        need = ">= 0.5 x bare and >= 5,000 w/s" if per_msg == 1 else ">= 0.5 x bare"
        print(f"Budget at {per_msg} window(s)/msg, live and backlog ({need}): {'met' if ok else 'NOT met'}")
    return 0 if all(verdicts.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
