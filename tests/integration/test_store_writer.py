"""The writer on a real store, on each backend (``store_url``: a SQLite file, a PostgreSQL database):
exactly-once inside one flush and across flushes, acks only after commit, statuses, unknown
customers, bounded rejects, retention in small steps."""

from __future__ import annotations

from collector.metrics import Registry
from collector.store.records import Queued, RejectRow, Status, Telemetry
from collector.store.retention import Retention
from collector.store import open_store
from collector.store.stats import StoreStats
from collector.store.writer import Writer
from protocol.codec import Batch, Window, make_status
from tests.support.procs import wait_until

NOW = 1_767_225_600_000
DAY = 86_400_000


def tele(robot, seqs, t_base=NOW - DAY, customer="acme", received=NOW):
    windows = tuple(Window(s, t_base + s * 10_000, t_base + s * 10_000 + 10_000, {"nav.tasks": s}, {"sys.cpu_pct": 5.0})
                    for s in seqs)
    return Queued.of(Telemetry.of(Batch(robot, customer, "s1", "00000000000000aa", received + 1500, windows)),
                     received)


def make_writer(store_url, **kw):
    stats = StoreStats(Registry())
    return Writer(open_store(store_url).ingest, stats=stats, flush_ms=20, clock=lambda: NOW / 1000, **kw), stats


def test_store_writer_counts_each_window_once_and_acks_after_commit(store_url, store_sql):
    writer, stats = make_writer(store_url)
    acked = []

    def ack_of(n):
        def ack():  # the window must already be committed when we are acknowledged
            acked.append((n, store_sql("SELECT COALESCE(SUM(n), 0) FROM window_chunks")[0][0]))
        return ack
    items = [tele("r1", [1, 2, 3]), tele("r1", [2, 3, 4]), tele("r2", [1], customer="newco")]
    for i, item in enumerate(items):
        item.ack = ack_of(i)
        writer.submit(item)
    writer.start()
    assert writer.drain(10)
    writer.stop()
    assert [a[0] for a in acked] == [0, 1, 2] and all(a[1] == 5 for a in acked)
    assert stats.windows_stored.value() == 5 and stats.windows_duplicate.value() == 2
    assert store_sql("SELECT SUM(total) FROM counter_day WHERE robot = 'r1'") == [(1 + 2 + 3 + 4,)]
    assert store_sql("SELECT SUM(total) FROM counter_hour WHERE robot = 'r1'") == [(10,)]
    assert store_sql("SELECT SUM(n) FROM gauge_hour WHERE robot = 'r1'") == [(4,)]
    assert store_sql("SELECT name, assigned FROM customers WHERE id = 'newco'") == [("newco", 0)]
    robot = store_sql("SELECT first_seen_ms, last_window_ms, clock_skew_ms, max_span_ms FROM robots "
                           "WHERE id = 'r1'")[0]
    assert robot == (NOW - DAY + 10_000, NOW - DAY + 50_000, 1500, 10_000)


def test_store_writer_applies_status_and_keeps_since_on_redelivery(store_url, store_sql):
    writer, _ = make_writer(store_url)
    writer.start()
    doc = make_status("r1", "acme", "s1", "offline", reason="lost", agent="1.2", scene="museum")
    writer.submit(Queued.of(Status.of(doc), NOW))
    writer.drain(10)
    writer.submit(Queued.of(Status.of(doc), NOW + 60_000))  # retained last will again, no ts
    writer.drain(10)
    assert store_sql("SELECT state, state_reason, state_ms, scene, agent_version FROM robots") == \
        [("offline", "lost", NOW, "museum", "1.2")]
    writer.submit(Queued.of(Status.of(make_status("r1", "acme", "s1", "online", ts=NOW + 90_000)), NOW + 91_000))
    writer.drain(10)
    writer.stop()
    assert store_sql("SELECT state, state_reason, state_ms, scene FROM robots") == \
        [("online", None, NOW + 90_000, "museum")]


def test_store_writer_keeps_only_recent_rejects(store_url, store_sql):
    writer, _ = make_writer(store_url, rejects_kept=10)
    writer.start()
    for i in range(35):
        writer.submit(Queued.of(RejectRow(NOW, "bad_msgpack", f"t/{i}", 3, "c1c1c1"), NOW))
    writer.drain(10)
    writer.stop()
    rows = store_sql("SELECT topic FROM rejects ORDER BY id")
    assert [r[0] for r in rows] == [f"t/{i}" for i in range(25, 35)]


def test_store_retention_deletes_old_rows_in_small_steps(store_url, store_sql):
    writer, stats = make_writer(store_url, retention=Retention(raw_days=14, rollup_days=30, chunk=7))
    old = NOW - 20 * DAY
    writer.submit(tele("r1", range(1, 31), t_base=NOW - 40 * DAY, received=old))   # raw and rollups expire
    writer.submit(tele("r2", range(1, 6), t_base=NOW - 2 * DAY, received=NOW))      # all kept
    writer.start()
    writer.drain(10)
    def all_gone():
        return store_sql("SELECT COALESCE(SUM(n), 0) FROM window_chunks WHERE robot = 'r1'")[0][0] == 0 and \
            store_sql("SELECT COUNT(*) FROM counter_hour WHERE robot = 'r1'")[0][0] == 0
    wait_until(all_gone, 10, 0.05, "old rows removed")
    writer.stop()
    assert store_sql("SELECT COALESCE(SUM(n), 0) FROM window_chunks WHERE robot = 'r2'") == [(5,)]
    assert store_sql("SELECT COUNT(*) FROM counter_day WHERE robot = 'r1'") == [(0,)]
    assert store_sql("SELECT COUNT(*) FROM counter_hour WHERE robot = 'r2'")[0][0] > 0
    assert stats.retention_deleted.value(table="window_chunks") >= 1


def test_store_writer_survives_an_item_it_cannot_store(store_url, store_sql):
    writer, stats = make_writer(store_url)
    acked = []
    broken = Queued(Telemetry("r1", "acme", "s1", "00000000000000aa", NOW, None), NOW, 1,  # a bug's input
                    ack=lambda: acked.append("broken"))
    good = tele("r1", [1, 2])
    good.ack = lambda: acked.append("good")
    writer.submit(broken)
    writer.submit(good)
    writer.start()
    assert writer.drain(10)
    assert writer.alive()
    writer.stop()
    assert sorted(acked) == ["broken", "good"]
    assert stats.rejects.value(reason="internal_error") == 1
    assert store_sql("SELECT COALESCE(SUM(n), 0) FROM window_chunks") == [(2,)]


def test_store_writer_rollups_equal_a_window_by_window_sum_across_hours_and_days(store_url, store_sql):
    """Rollups are summed per flush (per robot and hour, days from hours): they must equal the
    plain window-by-window sums, across hour and day boundaries, with gauges' n/sum/min/max."""
    import random
    from collections import defaultdict

    rng = random.Random(5)
    writer, _ = make_writer(store_url, flush_windows=5000)
    day_start = NOW - NOW % DAY - DAY
    expected_hour, expected_day = defaultdict(int), defaultdict(int)
    gauges = defaultdict(list)
    for robot in ("r1", "r2", "r3"):
        seq = 0
        for _ in range(12):  # batches of up to 40 five-minute windows around midnight
            windows = []
            for _ in range(rng.randint(1, 40)):
                seq += 1
                t0 = day_start - 3 * 3_600_000 + seq * 300_000
                counts = {m: rng.randint(0, 9) for m in rng.sample(["nav.tasks", "asr.requests", "usage.wakeups"], 2)}
                cpu = rng.uniform(0, 100)
                windows.append(Window(seq, t0, t0 + 300_000, counts, {"sys.cpu_pct": cpu}))
                for m, v in counts.items():
                    if v:
                        expected_hour[(robot, m, t0 - t0 % 3_600_000)] += v
                        expected_day[(robot, m, t0 - t0 % DAY)] += v
                gauges[(robot, t0 - t0 % 3_600_000)].append(cpu)
            writer.submit(Queued.of(Telemetry.of(Batch(robot, "acme", "s1", "00000000000000aa", NOW,
                                                       tuple(windows))), NOW))
    writer.start()
    assert writer.drain(10)
    writer.stop()
    assert dict(((r, m, b), t) for r, m, b, t in store_sql("SELECT * FROM counter_hour")) == expected_hour
    assert dict(((r, m, b), t) for r, m, b, t in store_sql("SELECT * FROM counter_day")) == expected_day
    stored = {(r, b): (n, total, low, high) for r, _, b, n, total, low, high in store_sql("SELECT * FROM gauge_hour")}
    assert set(stored) == set(gauges)
    for key, values in gauges.items():
        n, total, low, high = stored[key]
        assert (n, low, high) == (len(values), min(values), max(values))
        assert abs(total - sum(values)) < 1e-6
