"""Must-shows 1-3: the real agent process, a real Mosquitto and a plain paho subscriber."""

from __future__ import annotations

import socket
import sqlite3
import time
from collections import Counter

from tests.plugins.agent import retained_status
from tests.support.procs import wait_until


def send_statsd(address: str, lines: list[str], per_datagram: int = 5) -> None:
    host, _, port = address.rpartition(":")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for i in range(0, len(lines), per_datagram):
            sock.sendto("\n".join(lines[i:i + per_datagram]).encode(), (host, int(port)))
            time.sleep(0.002)


def totals(windows) -> Counter:
    total: Counter = Counter()
    for w in windows.values():
        total.update(w.c)
    return total


def contiguous(seqs) -> bool:
    seqs = sorted(seqs)
    return seqs == list(range(seqs[0], seqs[-1] + 1))


def wait_connected(sub, proc, timeout=30):
    wait_until(lambda: any(s["state"] == "online" for s, _ in sub.statuses()), timeout, message="online status",
               procs=(proc,))


def test_agent_statsd_lines_arrive_as_windows_with_exact_counts(broker, agent_config, start_agent, make_subscriber):
    sub = make_subscriber(broker.port)
    path, cfg = agent_config(broker)
    proc = start_agent(path)
    wait_connected(sub, proc)
    lines = (["asr.requests:1|c"] * 40 + ["asr.unrecognized:2|c"] * 7 + ["usage.interactions:3|c|@0.5"] * 10
             + ["skill.guide:1|c"] * 5 + ["net.rtt_ms:35|g"])
    send_statsd(cfg["ingest"]["statsd"], lines)
    expected = {"asr.requests": 40, "asr.unrecognized": 14, "usage.interactions": 60, "skill.guide": 5}

    def arrived():
        got = totals(sub.windows())
        return all(got[k] == v for k, v in expected.items()) and got
    got = wait_until(arrived, 30, message="the StatsD counts on the broker", procs=(proc,))
    for key, value in expected.items():
        assert got[key] == value
    time.sleep(2.5)  # nothing more arrives later (no double counting)
    got = totals(sub.windows())
    assert {k: got[k] for k in expected} == expected
    assert any(w.g.get("net.rtt_ms") == 35.0 for w in sub.windows().values())
    assert contiguous(sub.windows())
    assert proc.terminate() == 0
    status = retained_status(broker.port)
    assert status["state"] == "offline" and status["reason"] == "shutdown"


def test_agent_broker_outage_of_30_windows_loses_nothing(make_broker, agent_config, start_agent, make_subscriber):
    broker = make_broker(persistence=True)
    sub = make_subscriber(broker.port, ("robopulse/v1/+/+/telemetry",))
    path, cfg = agent_config(broker)
    proc = start_agent(path)
    wait_until(lambda: len(sub.windows()) >= 2, 30, message="first windows", procs=(proc,))
    sent = 0
    broker.stop()
    outage_start = time.monotonic()
    while time.monotonic() - outage_start < 33:  # >= 30 windows of 1 s
        send_statsd(cfg["ingest"]["statsd"], ["nav.tasks:1|c", "usage.foot_traffic:2|c"])
        sent += 1
        time.sleep(0.25)
    broker.start()
    send_statsd(cfg["ingest"]["statsd"], ["nav.tasks:1|c", "usage.foot_traffic:2|c"])
    sent += 1

    def all_there():
        got = totals(sub.windows())
        return got["nav.tasks"] == sent and got["usage.foot_traffic"] == 2 * sent
    wait_until(all_there, 60, message="every window after the outage", procs=(proc,))
    windows = sub.windows()
    assert contiguous(windows) and min(windows) == 1
    outage_windows = [w for w in windows.values() if w.c.get("nav.tasks")]
    assert len(outage_windows) >= 30
    assert not any(w.c.get("agent.dropped_windows") for w in windows.values())
    status = retained_status(broker.port)
    assert status["state"] == "online"


def test_agent_kill9_sets_lost_and_restart_delivers_the_outbox(broker, agent_config, start_agent, make_subscriber):
    sub = make_subscriber(broker.port)
    # windows every second, published every 30 s: the outbox holds rows when the agent dies
    path, cfg = agent_config(broker, agent={"publish_interval_s": 30})
    proc = start_agent(path)
    wait_connected(sub, proc)
    db = cfg["agent"]["state_dir"] + "/outbox.db"

    def outbox_seqs():
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return [r[0] for r in conn.execute("SELECT seq FROM windows ORDER BY seq")]
        finally:
            conn.close()
    # the first publish happens at connect; wait for rows closed after it
    wait_until(lambda: len(outbox_seqs()) >= 4, 30, message="rows in the outbox", procs=(proc,))
    proc.kill9()
    waiting = outbox_seqs()
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    lost = wait_until(lambda: [s for s, _ in sub.statuses() if s["state"] == "offline"], 30,
                      message="the last will")
    assert lost[0]["reason"] == "lost"
    assert retained_status(broker.port)["reason"] == "lost"

    proc2 = start_agent(path, "agent2.log")
    wait_until(lambda: set(waiting) <= set(sub.windows()), 60, message="the old outbox delivered", procs=(proc2,))
    time.sleep(1.5)
    assert proc2.terminate() == 0  # a clean stop flushes the windows closed since the restart
    windows = sub.windows()
    assert max(windows) > max(waiting)
    assert contiguous(windows) and min(windows) == 1  # seq goes on: the window in progress had no seq yet
    assert len({b.stream for b in sub.batches()}) == 1
    assert retained_status(broker.port)["reason"] == "shutdown"
