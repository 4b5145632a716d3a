"""The per-customer daily usage rollup (``customer_day``) on a real store (each backend but for the
SQLite migration's back-fill): kept by the writer
in the flush's transaction, exactly-once like the robot rollups, equal at all times to the sum of
``counter_day`` over the robots that belong to each customer now (reassignment included), back-filled
by its migration, trimmed by retention."""

from __future__ import annotations

from collector.store.sqlite import seed
from collector.metrics import Registry
from collector.store.records import Queued, Status, Telemetry
from collector.store.retention import Retention
from collector.store.sqlite import customer_usage
from collector.store.sqlite.db import connect_writer
from collector.store import open_store
from collector.store.sqlite.migrations import _statements, migration_files
from collector.store.stats import StoreStats
from collector.store.writer import Writer
from protocol.codec import Batch, Window, make_status
from tests.plugins.api import connect_store
from tests.support.procs import wait_until

NOW = 1_767_225_600_000
DAY = 86_400_000


def tele(robot, seqs, customer="acme", t_base=NOW - 3 * DAY, stream="00000000000000aa", per_window=None):
    counts = per_window or {"usage.interactions": 3, "usage.wakeups": 1, "skill.guide": 2, "nav.tasks": 5}
    windows = tuple(Window(s, t_base + s * 3_600_000, t_base + s * 3_600_000 + 10_000, counts, {}) for s in seqs)
    return Queued.of(Telemetry.of(Batch(robot, customer, "s1", stream, NOW, windows)), NOW)


def run(store_url, *batches, writer_kw=None):
    """Each inner list is submitted and drained before the next (separate flushes)."""
    conn = connect_store(store_url)
    writer = Writer(open_store(store_url).ingest, stats=StoreStats(Registry()), flush_ms=20, clock=lambda: NOW / 1000,
                    **(writer_kw or {})).start()
    for items in batches:
        for item in items:
            writer.submit(item)
        assert writer.drain(10)
    return writer, conn


def test_customer_usage_is_the_robot_rollups_summed_by_customer_exactly_once(store_url):
    writer, conn = run(store_url,
                       [tele("r1", [1, 2, 3]), tele("r2", [1, 2]), tele("r1", [2, 3, 4])],   # 2 and 3 twice
                       [tele("r1", [4, 5]), tele("r3", [1, 30], customer="beta")])         # 4 again
    writer.stop()
    rows = customer_usage.stored(conn)
    assert rows == customer_usage.expected(conn)
    day0 = NOW - 3 * DAY
    # r1: windows 1..5 once each, r2: 1..2, all on the first day (hours 1-5); nav.tasks is not usage
    assert rows[(day0, "usage.interactions", "acme")] == 3 * (5 + 2)
    assert rows[(day0, "skill.guide", "acme")] == 2 * 7
    assert rows[(day0 + DAY, "usage.interactions", "beta")] == 3  # r3's window 30 starts on the next day
    assert not any(m == "nav.tasks" for _, m, _ in rows)
    conn.close()


def test_customer_usage_follows_a_robot_that_changes_customer(store_url):
    status = make_status("r1", "beta", "s1", "online", ts=NOW)
    stale = make_status("r2", "gamma", "s1", "online", ts=NOW - DAY)  # older than r2's stored status
    writer, conn = run(store_url,
                       [tele("r1", [1, 2]), tele("r2", [1]),
                        Queued.of(Status.of(make_status("r2", "acme", "s1", "online", ts=NOW)), NOW)],
                       [tele("r1", [3], customer="beta")],                      # r1 moves to beta with data
                       [Queued.of(Status.of(stale), NOW)],                   # ignored: r2 stays at acme
                       [tele("r2", [2], customer="acme"), Queued.of(Status.of(status), NOW)])
    writer.stop()
    assert conn.execute("SELECT id, customer FROM robots ORDER BY id").fetchall() == [("r1", "beta"), ("r2", "acme")]
    rows = customer_usage.stored(conn)
    assert rows == customer_usage.expected(conn)
    day0 = NOW - 3 * DAY
    assert rows[(day0, "usage.interactions", "beta")] == 3 * 3    # r1's whole history went along
    assert rows[(day0, "usage.interactions", "acme")] == 3 * 2    # r2 only
    assert not any(c == "gamma" for _, _, c in rows)
    conn.close()


def test_customer_usage_moves_within_one_flush(store_url):
    writer, conn = run(store_url, [tele("r1", [1, 2])],
                       [tele("r1", [3]), tele("r1", [4], customer="beta"), tele("r9", [1], customer="beta"),
                        tele("r9", [2], customer="acme")])
    writer.stop()
    assert customer_usage.stored(conn) == customer_usage.expected(conn)
    assert conn.execute("SELECT customer FROM robots WHERE id = 'r1'").fetchone() == ("beta",)
    conn.close()


def test_customer_usage_backfill_of_the_migration_matches(tmp_path):
    conn = connect_writer(tmp_path / "s.db")
    seed.add_customer(conn, "acme")
    seed.add_robot(conn, "r1", "acme")
    seed.add_robot(conn, "r2", "beta")
    seed.write_windows(conn, [("r1", NOW - 2 * DAY, NOW - 2 * DAY + 10, {"usage.interactions": 4, "asr.requests": 9}),
                              ("r2", NOW - DAY, NOW - DAY + 10, {"skill.qa": 2, "usage.foot_traffic": 7}),
                              ("ghost", NOW - DAY, NOW - DAY + 10, {"usage.interactions": 99})])  # no robot row
    kept = customer_usage.stored(conn)
    assert kept == customer_usage.expected(conn) and len(kept) == 3
    conn.execute("DELETE FROM customer_day")
    sql = dict(migration_files())["0003_customer_day.sql"]
    for statement in _statements(sql)[1:]:  # the back-fill, as run on a store that had history
        conn.execute(statement)
    assert customer_usage.stored(conn) == kept
    conn.execute("DELETE FROM customer_day")
    customer_usage.rebuild(conn)
    assert customer_usage.stored(conn) == kept
    conn.close()


def test_customer_usage_is_trimmed_by_retention(store_url):
    # submitted before the writer starts, so that they are committed before retention's first pass
    # (the clock is frozen at NOW: there is no second pass; a pass that ran first left them for good)
    conn = connect_store(store_url)
    writer = Writer(open_store(store_url).ingest, stats=StoreStats(Registry()), flush_ms=20, clock=lambda: NOW / 1000,
                    retention=Retention(raw_days=14, rollup_days=30, chunk=2))
    for item in (tele("r1", range(1, 4), t_base=NOW - 40 * DAY), tele("r2", [1])):
        writer.submit(item)
    writer.start()
    assert writer.drain(10)

    def gone():
        old = conn.execute("SELECT COUNT(*) FROM customer_day WHERE bucket_ms < ?", (NOW - 30 * DAY,)).fetchone()
        return old[0] == 0
    wait_until(gone, 10, 0.05, "old customer_day rows removed")
    writer.stop()
    assert customer_usage.stored(conn)  # the recent day is kept
    conn.close()


def test_store_marks_each_bucket_a_flush_added_to(store_url):
    """``rollup_marks``: one revision per flush that really added to a bucket (a redelivery adds nothing)."""
    writer, conn = run(store_url, [tele("r1", [1, 2])], [tele("r1", [1, 2])], [tele("r1", [3, 30])])
    writer.stop()
    revs = dict(((g, b), r) for g, b, r in conn.execute("SELECT grain, bucket_ms, rev FROM rollup_marks"))
    day0, hour = NOW - 3 * DAY, 3_600_000
    assert revs == {("counter_day", day0): 2, ("counter_day", day0 + DAY): 1, ("counter_hour", day0 + hour): 1,
                    ("counter_hour", day0 + 2 * hour): 1, ("counter_hour", day0 + 3 * hour): 1,
                    ("counter_hour", day0 + 30 * hour): 1}
    conn.close()
