"""Must-shows 1-3: the stored counters equal the publishers' ledger exactly, through duplicates,
backlog bursts, a kill -9 of the collector and a restart of Mosquitto; on each store backend."""

from __future__ import annotations

import random

from collector.store.sqlite.raw import window_count
from tests.plugins.collector import raw_ledger, stored_ledger
from tests.support.procs import wait_until


def assert_matches_ledger(col, fleet) -> None:
    expected = {k: v for k, v in fleet.ledger.items() if v}
    wait_until(lambda: col.window_count() == len(fleet.windows), 90, 0.2,
               f"{len(fleet.windows)} windows stored", (col.proc,))
    with col.db_read() as conn:
        assert window_count(conn) == len(fleet.windows)
        assert stored_ledger(conn, "counter_day") == expected
        assert stored_ledger(conn, "counter_hour") == expected
        assert raw_ledger(conn) == expected


def test_store_ledger_exact_with_duplicates_and_bursts(broker, store_url, start_collector, make_publisher):
    from tests.plugins.collector import Fleet

    col = start_collector(broker, db=store_url)
    fleet = Fleet(12)
    pub = make_publisher(broker.port)
    rng = random.Random(7)
    sent: list[tuple[str, bytes]] = []
    dup_windows = 0
    for round_ in range(8):
        for i in rng.sample(range(len(fleet.robots)), len(fleet.robots)):
            topic, payload = fleet.batch(i, rng.randint(1, 6))
            pub.publish(topic, payload)
            sent.append((topic, payload, ))
        if round_ == 4:  # a robot back from an outage: its backlog in 500-window messages
            for _ in range(3):
                pub.publish(*fleet.batch(0, 500))
        for topic, payload in rng.sample(sent, 5):  # at-least-once: some batches arrive twice
            pub.publish(topic, payload)
            from protocol.codec import decode_batch
            dup_windows += len(decode_batch(payload).windows)
    pub.wait_all()
    assert_matches_ledger(col, fleet)
    wait_until(lambda: col.metric("robopulse_store_windows_duplicate_total") == dup_windows, 30, 0.2,
               "duplicates counted")
    assert col.metric("robopulse_store_windows_stored_total") == len(fleet.windows)
    with col.db_read() as conn:
        robots = dict(conn.execute("SELECT id, customer FROM robots"))
        assert robots == {r.id: "acme" for r in fleet.robots}
        assert conn.execute("SELECT assigned FROM customers WHERE id = 'acme'").fetchone() == (0,)


def _publish_in_background(fleet, pub, rounds: int, pause: float):
    import threading
    import time

    done = threading.Event()

    def loop():
        rng = random.Random(3)
        for _ in range(rounds):
            for i in range(len(fleet.robots)):
                pub.publish(*fleet.batch(i, rng.randint(1, 4)))
            time.sleep(pause)
        done.set()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread, done


def _warm_up(col, fleet, pub) -> None:
    """One batch published and stored before the flow starts: the writer process has opened its
    store (slower on PostgreSQL: its driver and a connection), so the flow is still running when
    the test kills something mid-flow."""
    pub.publish(*fleet.batch(0, 1))
    wait_until(lambda: col.window_count() > 0, 30, 0.05, "the first batch stored", (col.proc,))


def test_store_kill9_while_publishing_loses_nothing_counts_nothing_twice(broker, store_url, start_collector,
                                                                      make_publisher):
    from tests.plugins.collector import Fleet

    col = start_collector(broker, db=store_url)
    fleet = Fleet(10, seed=2)
    pub = make_publisher(broker.port)
    _warm_up(col, fleet, pub)
    thread, done = _publish_in_background(fleet, pub, 60, 0.02)
    wait_until(lambda: col.window_count() > 200, 30, 0.05, "some windows stored", (col.proc,))
    col.proc.kill9()
    stored_before = col.window_count()
    col.restart()
    # resumed: more stored than before the crash, or (a loaded machine published everything before
    # the crash) the whole ledger stored; a restart slowed by load gets a minute
    wait_until(lambda: col.window_count() > stored_before
               or (done.is_set() and col.window_count() == len(fleet.windows)), 60, 0.05, "ingest resumed",
               (col.proc,))
    col.proc.kill9()  # a second crash, mid-flush again
    col.restart()
    thread.join(60)
    assert done.is_set()
    pub.wait_all()
    assert_matches_ledger(col, fleet)


def test_store_broker_restart_while_publishing_loses_nothing(make_broker, store_url, start_collector, make_publisher):
    from tests.plugins.collector import Fleet

    broker = make_broker(persistence=True)
    col = start_collector(broker, db=store_url)
    fleet = Fleet(10, seed=3)
    pub = make_publisher(broker.port)
    _warm_up(col, fleet, pub)
    thread, done = _publish_in_background(fleet, pub, 60, 0.02)
    wait_until(lambda: col.window_count() > 200, 30, 0.05, "some windows stored", (col.proc,))
    broker.restart()
    thread.join(90)
    assert done.is_set()
    pub.wait_all(90)
    assert_matches_ledger(col, fleet)
    # on a loaded machine the whole ledger may be stored before the restart, and paho's reconnect
    # waits 1-30 s: wait for the reconnect rather than read the counter at once
    wait_until(lambda: col.metric("robopulse_ingest_connects_total") >= 2, 60, 0.2, "collector reconnected",
               (col.proc,))


def _writer_pid(col) -> int:
    import psutil

    children = [p for p in psutil.Process(col.proc.pid).children() if "spawn_main" in " ".join(p.cmdline())]
    assert len(children) == 1, children
    return children[0].pid


def test_store_writer_process_killed_while_publishing_loses_nothing(broker, store_url, start_collector,
                                                                  make_publisher):
    """The writer runs in its own process; kill -9 of it alone: the collector starts another,
    reconnects so the broker sends what the dead one held, and the ledger still matches."""
    import os
    import signal

    from tests.plugins.collector import Fleet

    col = start_collector(broker, db=store_url)
    fleet = Fleet(10, seed=4)
    pub = make_publisher(broker.port)
    _warm_up(col, fleet, pub)
    thread, done = _publish_in_background(fleet, pub, 60, 0.02)
    wait_until(lambda: col.window_count() > 200, 30, 0.05, "some windows stored", (col.proc,))
    first = _writer_pid(col)
    os.kill(first, signal.SIGKILL)
    wait_until(lambda: _writer_pid(col) != first and col.healthz()["writer"] == "running", 30, 0.1,
               "a new writer process", (col.proc,))
    thread.join(60)
    assert done.is_set()
    pub.wait_all()
    assert_matches_ledger(col, fleet)
    assert col.proc.alive() and "writer_process_died" in col.proc.output()
    assert col.metric("robopulse_ingest_connects_total") >= 2
