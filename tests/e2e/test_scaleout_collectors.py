"""Several collectors on one PostgreSQL store and one Mosquitto (issue 16), as real processes:
the same ``[mqtt] shared_group`` splits the ingest between them and the ledger is stored exactly
once in total; ``kill -9`` of one mid-flow loses and doubles nothing once it is back (Mosquitto
keeps its share queued in its persistent session, mosquitto#2662); the evaluator's role is held
by exactly one collector and moves to the survivor within two cycles of the holder's death."""

from __future__ import annotations

import time
from collections import defaultdict

import pytest

from collector.store.postgres.db import connect
from collector.store.sqlite.raw import all_windows
from tests.plugins.collector import Fleet, new_collector, terminate_all
from tests.support.procs import wait_until

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
        "health.interval_s": INTERVAL_S}) for i in range(2)]
    yield cols
    terminate_all(cols)


def test_scaleout_shared_group_stores_the_ledger_once_through_a_kill(collectors, broker, pg_url, make_publisher):
    a, b = collectors
    for col in collectors:
        col.start()
    # exactly one evaluator
    wait_until(lambda: leader(a) or leader(b), 10, 0.2, "an evaluator", [c.proc for c in collectors])
    assert [leader(a), leader(b)].count(True) == 1
    fleet = Fleet(24, seed=16)
    pub = make_publisher(broker.port)
    publish(fleet, pub, rounds=3)
    pub.wait_all()
    wait_until(lambda: stored(pg_url)[0] == dict(fleet.ledger), 30, 0.2, "the first ledger stored",
               [c.proc for c in collectors])
    # the load was split: each collector stored some of it, together all of it once
    firsts = [c.metric("robopulse_store_windows_stored_total") for c in collectors]
    assert all(n > 0 for n in firsts), firsts
    assert sum(firsts) == len(fleet.windows)

    # kill -9 the evaluator's collector mid-flow; the survivor keeps storing and takes the role
    holder, survivor = (a, b) if leader(a) else (b, a)
    publish(fleet, pub, rounds=2)
    holder.proc.kill9()
    killed_at = time.monotonic()
    before = survivor.metric("robopulse_store_windows_stored_total")
    publish(fleet, pub, rounds=2)
    wait_until(lambda: leader(survivor), 2 * INTERVAL_S + 1, 0.1, "the survivor to take the evaluator's role",
               (survivor.proc,))
    assert time.monotonic() - killed_at <= 2 * INTERVAL_S + 1
    pub.wait_all()
    wait_until(lambda: survivor.metric("robopulse_store_windows_stored_total") > before, 20, 0.2,
               "the survivor to keep storing", (survivor.proc,))

    # what the broker had handed to the killed one and it had not acknowledged waits in its session
    # (mosquitto#2662); it comes back with its client id: that share arrives, nothing twice
    holder.restart()
    wait_until(lambda: stored(pg_url)[0] == dict(fleet.ledger), 40, 0.3, "the whole ledger stored",
               [c.proc for c in collectors])
    rollups, windows = stored(pg_url)
    assert len(windows) == len(set(windows)) == len(fleet.windows)
    assert set(windows) == set(fleet.windows)
    assert [leader(a), leader(b)].count(True) == 1 and leader(survivor)  # the role stays where it went
    per_robot = defaultdict(int)
    for robot, _stream, _seq in windows:
        per_robot[robot] += 1
    assert set(per_robot.values()) == {7 * 4}
