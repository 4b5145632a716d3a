"""Several collectors on one PostgreSQL store and one Mosquitto (issue 16), as real processes (three,
then two with webhooks):
the same ``[mqtt] shared_group`` splits the ingest between them and the ledger is stored exactly
once in total; ``kill -9`` of one mid-flow loses and doubles nothing once it is back (Mosquitto
keeps its share queued in its persistent session, mosquitto#2662); the evaluator's role is held
by exactly one collector and moves to the survivor within two cycles of the holder's death."""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter, defaultdict

import pytest

from collector.store.postgres.db import connect
from collector.store.sqlite.raw import all_windows
from tests.plugins.collector import Fleet, new_collector, terminate_all
from tests.support.procs import robopulse_cmd, wait_until

INTERVAL_S = 2  # health.interval_s: the evaluator's cycle, and so the lease's longest check


def stored(pg_url: str) -> tuple[dict[tuple[str, str], int], list[tuple[str, str, int]]]:
    """The daily rollups per (robot, metric), and every stored window's (robot, stream, seq)."""
    conn = connect(pg_url, migrate=False)
    try:
        rollups = {(r, m): int(t) for r, m, t in conn.execute(
            "SELECT robot, metric, SUM(total) FROM counter_day GROUP BY robot, metric").fetchall() if t}
        windows = [(r, s, q) for r, s, q, *_ in all_windows(conn)]
    finally:
        conn.close()
    return rollups, windows


def leader(col) -> bool:
    return col.metric("robopulse_evaluator_leader") == 1.0


def publish(fleet: Fleet, pub, rounds: int, per_batch: int = 4) -> None:
    for _ in range(rounds):
        for i in range(fleet.n_robots):
            pub.publish(*fleet.batch(i, per_batch))


@pytest.fixture
def collectors(tmp_path, broker, pg_url):
    cols = [new_collector(tmp_path / f"c{i}", broker, **{
        "collector.db": pg_url, "mqtt.shared_group": "collectors", "mqtt.client_id": f"robopulse-collectors-c{i}",
        "health.interval_s": INTERVAL_S}) for i in range(3)]
    yield cols
    terminate_all(cols)


def leaders(cols) -> list[bool]:
    return [leader(c) for c in cols]


def test_scaleout_shared_group_stores_the_ledger_once_through_a_kill(collectors, broker, pg_url, make_publisher):
    """Three collectors in one group: the ledger is stored once in total, split between them;
    kill -9 of the evaluator's collector mid-flow: the others keep storing, one of them takes the
    role within two cycles; back with its client id, the killed one's waiting share arrives."""
    for col in collectors:
        col.start()
    procs = [c.proc for c in collectors]
    wait_until(lambda: any(leaders(collectors)), 10, 0.2, "an evaluator", procs)
    assert leaders(collectors).count(True) == 1                       # exactly one evaluator
    assert [c.healthz()["evaluator"] for c in collectors] == leaders(collectors)
    fleet = Fleet(24, seed=16)
    pub = make_publisher(broker.port)
    publish(fleet, pub, rounds=3)
    pub.wait_all()
    wait_until(lambda: stored(pg_url)[0] == dict(fleet.ledger), 30, 0.2, "the first ledger stored", procs)
    # the load was split: each collector stored some of it, together all of it once
    firsts = [c.metric("robopulse_store_windows_stored_total") for c in collectors]
    assert all(n > 0 for n in firsts), firsts
    assert sum(firsts) == len(fleet.windows)

    # kill -9 the evaluator's collector mid-flow; the others keep storing and one takes the role
    holder = collectors[leaders(collectors).index(True)]
    others = [c for c in collectors if c is not holder]
    publish(fleet, pub, rounds=2)
    holder.proc.kill9()
    killed_at = time.monotonic()
    before = [c.metric("robopulse_store_windows_stored_total") for c in others]
    publish(fleet, pub, rounds=2)
    wait_until(lambda: any(leaders(others)), 2 * INTERVAL_S + 1, 0.1, "a survivor to take the evaluator's role",
               [c.proc for c in others])
    assert time.monotonic() - killed_at <= 2 * INTERVAL_S + 1
    assert leaders(others).count(True) == 1
    successor = others[leaders(others).index(True)]
    pub.wait_all()
    wait_until(lambda: all(c.metric("robopulse_store_windows_stored_total") > n for c, n in zip(others, before)),
               20, 0.2, "the survivors to keep storing", [c.proc for c in others])

    # what the broker had handed to the killed one, and went on handing it, waits in its session
    # (mosquitto#2662); it comes back with its client id: that share arrives, nothing twice
    holder.restart()
    wait_until(lambda: stored(pg_url)[0] == dict(fleet.ledger), 40, 0.3, "the whole ledger stored",
               [c.proc for c in collectors])
    rollups, windows = stored(pg_url)
    assert len(windows) == len(set(windows)) == len(fleet.windows)
    assert set(windows) == set(fleet.windows)
    assert leaders(collectors).count(True) == 1 and leader(successor)  # the role stays where it went
    per_robot = defaultdict(int)
    for robot, _stream, _seq in windows:
        per_robot[robot] += 1
    assert set(per_robot.values()) == {7 * 4}


class HookReceiver:
    """A webhook receiver in a thread: every delivery's ``Idempotency-Key`` and rule/robot."""

    def __init__(self):
        import http.server
        import threading

        self.keys: Counter[str] = Counter()
        self.alerts: list[tuple[str, str, str]] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.keys[self.headers["Idempotency-Key"]] += 1
                alert = body.get("alert", body)
                receiver.alerts.append((alert.get("rule"), alert.get("robot"), alert.get("state")))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def firing_transitions(pg_url: str) -> Counter:
    """How many times each alert went to ``firing`` (alert_events), by (rule, subject)."""
    conn = connect(pg_url, migrate=False)
    try:
        rows = conn.execute("SELECT a.rule, a.subject FROM alert_events e JOIN alerts a ON a.id = e.alert_id"
                            " WHERE e.to_state = 'firing'").fetchall()
    finally:
        conn.close()
    return Counter((r, s) for r, s in rows)


def test_scaleout_alerts_fire_once_and_webhooks_arrive_once_when_the_evaluator_dies(tmp_path, broker, pg_url,
                                                                                   make_publisher):
    """Robots silent for days (their windows six days old) make ``robot_offline`` fire, one alert
    per robot; the evaluator's collector is killed between two such fleets: every alert fires once,
    its webhook arrives once, the role moves within two cycles, and both collectors' APIs answer
    the same alerts."""
    from collector.store import open_store

    store = open_store(pg_url)
    missing = type(store.health).__name__ == "MissingPart" or type(store.reads).__name__ == "MissingPart"
    store.close()
    if missing:
        pytest.skip("the PostgreSQL health and reads parts are not in this tree yet (the pg branch brings them)")
    hook = HookReceiver()
    extra_toml = ("\n[notify]\npoll_s = 0.2\ntimeout_s = 1.0\n\n[[notify.webhooks]]\nname = \"cs\"\n"
                  f"url = \"http://127.0.0.1:{hook.port}/hook\"\n")
    cols = [new_collector(tmp_path / f"c{i}", broker, extra_toml=extra_toml, **{
        "collector.db": pg_url, "mqtt.shared_group": "collectors", "mqtt.client_id": f"robopulse-collectors-e{i}",
        "health.interval_s": INTERVAL_S}) for i in range(2)]
    try:
        for col in cols:
            col.start()
        wait_until(lambda: any(leader(c) for c in cols), 10, 0.2, "an evaluator", [c.proc for c in cols])
        pub = make_publisher(broker.port)
        first = Fleet(6, seed=21, prefix="a")
        publish(first, pub, rounds=1)
        pub.wait_all()
        wait_until(lambda: len(hook.keys) >= 6, 30, 0.2, "the first fleet's alerts' webhooks", [c.proc for c in cols])
        holder, survivor = (cols[0], cols[1]) if leader(cols[0]) else (cols[1], cols[0])
        holder.proc.kill9()
        killed_at = time.monotonic()
        second = Fleet(6, seed=22, prefix="b")
        publish(second, pub, rounds=1)
        pub.wait_all()
        wait_until(lambda: leader(survivor), 2 * INTERVAL_S + 1, 0.1, "the survivor to take the role",
                   (survivor.proc,))
        assert time.monotonic() - killed_at <= 2 * INTERVAL_S + 1
        # Mosquitto keeps handing the dead member a share of new messages (mosquitto#2662): they
        # reach the store when it is back, as systemd would bring it back; it comes back a standby
        holder.restart()
        wait_until(lambda: len(hook.keys) >= 12, 30, 0.2, "the second fleet's alerts' webhooks",
                   (survivor.proc, holder.proc))
        time.sleep(3 * INTERVAL_S)  # more cycles of the survivor beside a standby: nothing again
        robots = {r.id for r in first.robots + second.robots}
        fired = firing_transitions(pg_url)
        assert {s for (rule, s) in fired if rule == "robot_offline"} == robots
        assert set(fired.values()) == {1}, fired                     # no alert fired twice
        assert max(hook.keys.values()) == 1, hook.keys               # no webhook twice
        assert {robot for rule, robot, state in hook.alerts if rule == "robot_offline"} == robots
        assert [leader(c) for c in cols].count(True) == 1 and leader(survivor)
        # every collector answers the API with the same data
        answers = [sorted((a["rule"], a["robot"], a["state"]) for a in c.get_json("/api/v1/alerts?limit=500")["items"])
                   for c in cols]
        assert answers[0] == answers[1] and len(answers[0]) >= 12
        now_ms = int(time.time() * 1000)
        for robot in (first.robots[0], second.robots[-1]):
            since = now_ms - 8 * 86_400_000  # the fleets' windows start six days back
            counters = [c.get_json(f"/api/v1/robots/{robot.id}/counters?from={since}&to={now_ms}") for c in cols]
            assert counters[0] == counters[1]
            assert {m: v for m, v in counters[0]["counters"].items() if v} == {
                m: v for (r, m), v in {**first.ledger, **second.ledger}.items() if r == robot.id}
    finally:
        terminate_all(cols)
        hook.close()


def test_scaleout_leave_group_hands_a_dead_collectors_share_back(tmp_path, broker, pg_url, make_publisher):
    """A collector killed for good keeps a share of the group's new messages in its session
    (mosquitto#2662); ``robopulse collector leave-group`` with its config stores them and has the
    broker drop the session: from then on the survivor gets every message."""
    cols = [new_collector(tmp_path / f"l{i}", broker, **{
        "collector.db": pg_url, "mqtt.shared_group": "collectors", "mqtt.client_id": f"robopulse-collectors-l{i}",
        "health.interval_s": INTERVAL_S}) for i in range(2)]
    try:
        for col in cols:
            col.start()
        gone, survivor = cols
        fleet = Fleet(24, seed=31)
        pub = make_publisher(broker.port)
        publish(fleet, pub, rounds=1)
        pub.wait_all()
        wait_until(lambda: stored(pg_url)[0] == dict(fleet.ledger), 30, 0.2, "the first round stored", (survivor.proc,))
        gone.proc.kill9()
        publish(fleet, pub, rounds=2)
        pub.wait_all()
        time.sleep(3)
        assert len(stored(pg_url)[1]) < len(fleet.windows)  # the dead one's share waits in its session
        # from the survivor's config, naming the retired one's client id (as from another host)
        done = subprocess.run(robopulse_cmd("collector", "leave-group", "--config", str(survivor.config),
                                            "--client-id", "robopulse-collectors-l0", "--quiet-s", "2"),
                              capture_output=True, text=True, timeout=90)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "left group collectors" in done.stdout
        wait_until(lambda: stored(pg_url)[0] == dict(fleet.ledger), 20, 0.2, "the dead one's share stored",
                   (survivor.proc,))
        publish(fleet, pub, rounds=2)     # the dead collector stays down: the survivor gets all of it
        pub.wait_all()
        wait_until(lambda: stored(pg_url)[0] == dict(fleet.ledger), 20, 0.2, "every later message stored",
                   (survivor.proc,))
        windows = stored(pg_url)[1]
        assert len(windows) == len(set(windows)) == len(fleet.windows) == 24 * 5 * 4
    finally:
        terminate_all(cols)
