"""The PostgreSQL backend's own guarantees, on the machine's server (a fresh database per test):
exactly once across collectors (two ingest parts on two connections applying overlapping batches
at once), the second waiting for the first's commit, migrations applied once under concurrency,
and ``open_store`` choosing the backend from the URL."""

from __future__ import annotations

import random
import threading
from collections import defaultdict

import pytest

from collector.store import open_store
from collector.store.postgres.db import connect, pg_sql
from collector.store.postgres.ingest import LOCK_STREAMS, PgIngestStore, stream_keys
from collector.store.postgres.migrations import migrate, migration_files
from collector.store.records import Queued, Telemetry
from collector.store.sqlite.apply import apply_items
from protocol.codec import Batch, Window

NOW = 1_767_225_600_000
HOUR = 3_600_000


def tele(robot, seqs, customer="acme", stream="00000000000000aa", received=NOW):
    windows = tuple(Window(s, NOW - 2 * HOUR + s * 10_000, NOW - 2 * HOUR + s * 10_000 + 10_000,
                           {"nav.tasks": s % 7 + 1, "usage.interactions": 1}, {"sys.cpu_pct": float(s % 100)})
                    for s in seqs)
    return Queued.of(Telemetry.of(Batch(robot, customer, "s1", stream, NOW, windows)), received)


def query(url, sql, *args):
    conn = connect(url, migrate=False)
    try:
        return [tuple(r) for r in conn.execute(sql, args).fetchall()]
    finally:
        conn.close()


def test_store_postgres_collectors_count_overlapping_windows_once(pg_url):
    """Four ingest parts (four collectors' writers) apply random, overlapping batches of the same
    streams at once: every distinct window is stored once, and the rollups,
    the per-customer usage and the duplicates reported equal the ledger."""
    rng = random.Random(16)
    robots = [(f"r{i}", f"c{i % 3}") for i in range(8)]
    batches = []
    for robot, customer in robots:
        seq = 0
        for _ in range(30):
            first = max(1, seq - rng.randint(0, 6))  # some resent (a redelivery), most new
            seq = first + rng.randint(1, 8)
            batches.append(tele(robot, range(first, seq + 1), customer))
    batches = batches * 2  # every message reaches both collectors
    rng.shuffle(batches)
    ledger = {}
    for item in batches:
        rec = item.record
        for w in rec.windows:
            ledger[(rec.robot, w[0])] = (rec.customer, w[3]["nav.tasks"])
    parts = [PgIngestStore(pg_url) for _ in range(4)]  # four collectors' writers, one thread each
    open_store(pg_url).close()  # migrated before the threads start
    outcomes, errors = [], []

    def run(part, share):
        try:
            for i in range(0, len(share), 3):
                outcomes.append(part.apply(share[i:i + 3], 100))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(parts[k], batches[k::4])) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for part in parts:
        part.close()
    assert not errors
    assert sum(p.retries for p in parts) == 0  # locks taken in one order: waits, no deadlocks
    sent = sum(len(i.record.windows) for i in batches)
    assert sum(o.stored for o in outcomes) == len(ledger)
    assert sum(o.duplicates for o in outcomes) == sent - len(ledger)
    assert query(pg_url, "SELECT SUM(n) FROM window_chunks") == [(len(ledger),)]
    tasks = defaultdict(int)
    usage = defaultdict(int)
    for (robot, _seq), (customer, n) in ledger.items():
        tasks[robot] += n
        usage[customer] += 1
    assert dict(query(pg_url, "SELECT robot, SUM(total) FROM counter_hour WHERE metric = 'nav.tasks' GROUP BY robot")) \
        == dict(tasks)
    assert dict(query(pg_url, "SELECT robot, SUM(total) FROM counter_day WHERE metric = 'nav.tasks' GROUP BY robot")) \
        == dict(tasks)
    assert dict(query(pg_url, "SELECT customer, SUM(total) FROM customer_day WHERE metric = 'usage.interactions'"
                              " GROUP BY customer")) == dict(usage)
    assert query(pg_url, "SELECT SUM(n) FROM gauge_hour") == [(len(ledger),)]


def test_store_postgres_second_collector_waits_for_the_first_commit_then_sees_duplicates(pg_url):
    """The guarantee step by step: collector A holds windows 1-10 of a stream in an open
    transaction; collector B, given windows 5-15, waits (it does not read the stream's seqs
    before A is done), then stores only 11-15."""
    open_store(pg_url).close()
    a = connect(pg_url)
    first = tele("r1", range(1, 11))
    a.raw.execute("BEGIN")
    a.raw.execute(LOCK_STREAMS, (stream_keys([first]),))
    assert apply_items(a, [first], 100).stored == 10
    b = PgIngestStore(pg_url)
    result = {}
    worker = threading.Thread(target=lambda: result.update(outcome=b.apply([tele("r1", range(5, 16))], 100)))
    worker.start()
    worker.join(0.5)
    assert worker.is_alive(), "B must wait for A's transaction"
    a.raw.execute("COMMIT")
    worker.join(10)
    assert (result["outcome"].stored, result["outcome"].duplicates) == (5, 6)
    assert query(pg_url, "SELECT SUM(n), SUM(last_seq - first_seq + 1) FROM window_chunks") == [(15, 15)]
    b.close()
    a.close()


def test_store_postgres_migrations_run_once_when_collectors_start_together(pg_empty_url):
    """Four connections migrate an empty database at once: the advisory lock lets one apply each
    file, the others find it done; a later start applies nothing."""
    results, errors = [], []

    def start():
        try:
            conn = connect(pg_empty_url, migrate=False)
            results.append(migrate(conn))
            conn.close()
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    names = [name for name, _ in migration_files()]
    assert sorted(len(r) for r in results) == [0, 0, 0, len(names)]
    assert [r[0] for r in query(pg_empty_url, "SELECT name FROM _migrations ORDER BY name")] == names
    conn = connect(pg_empty_url, migrate=False)
    assert migrate(conn) == []
    conn.close()


def test_store_postgres_open_store_chooses_the_backend_by_url(pg_url, tmp_path):
    pg = open_store(pg_url)
    assert type(pg.ingest).__module__ == "collector.store.postgres.ingest"
    pg.close()
    lite = open_store(str(tmp_path / "s.db"))
    assert type(lite.ingest).__module__ == "collector.store.sqlite.ingest"
    lite.close()


def test_store_postgres_parameter_marks_are_swapped_outside_string_literals():
    assert pg_sql("SELECT a FROM t WHERE b = ? AND c LIKE 'x.%' AND d = '?'") == \
        "SELECT a FROM t WHERE b = %s AND c LIKE 'x.%%' AND d = '?'"


def test_store_postgres_reads_rows_by_name_and_numbers_as_sqlite_does(pg_url):
    """The reads part's rows read by column name and index, and a SUM of BIGINTs (NUMERIC in
    PostgreSQL) comes back as an int, as from SQLite."""
    store = open_store(pg_url)
    try:
        PgIngestStore(pg_url).apply([tele("r1", range(1, 4))], 100)
        robot = store.reads.get_robot("r1", NOW, days=2)
        assert robot["customer"] == "acme" and robot["status"]["state"] == "unknown"
        assert store.reads.robot_count("acme") == 1 and store.reads.feed_last_id() == 0
        total = query(pg_url, "SELECT SUM(total) FROM counter_hour WHERE metric = 'nav.tasks'")[0][0]
        assert type(total) is int and total == 2 + 3 + 4
    finally:
        store.close()


def test_store_postgres_one_collector_per_database_until_the_evaluator_lease(pg_url):
    """A second collector on the same database is refused at once, naming the holder; the lock
    goes with the first one's session."""
    from collector.store.lock import StoreInUse, StoreLock

    first = StoreLock(pg_url).acquire()
    try:
        try:
            StoreLock(pg_url).acquire()
            raise AssertionError("a second collector took the database")
        except StoreInUse as exc:
            assert "robopulse-collector pid" in str(exc)
    finally:
        first.release()
    StoreLock(pg_url).acquire().release()


def test_store_postgres_raw_chunks_go_to_day_partitions_and_retention_drops_them(pg_url):
    """Chunks land in the partition of their receive day (made ahead; other days in the default
    one); a redelivery received on a later day is still a duplicate; retention drops an expired day
    whole and deletes the default partition's expired rows in batches."""
    import time

    from collector.store.postgres import partitions

    DAY = 86_400_000
    today = int(time.time() * 1000) // DAY * DAY
    old = today - 20 * DAY
    part = PgIngestStore(pg_url)
    conn = part.conn  # opening makes today's partition and two days ahead
    assert set(partitions.existing(conn.raw)) == {today, today + DAY, today + 2 * DAY}
    partitions.ensure(conn.raw, old, ahead=0)  # a store running 20 days ago made that day's
    part.apply([tele("r1", range(1, 6), received=old + 1000)], 100)       # the day partition, 20 days ago
    part.apply([tele("r1", range(6, 9), received=old - 5 * DAY)], 100)    # no partition: the default one
    again = part.apply([tele("r1", range(1, 6), received=today + 1000)], 100)  # redelivered today
    assert (again.stored, again.duplicates) == (0, 5)
    part.apply([tele("r1", range(9, 11), received=today + 2000)], 100)
    where = dict(query(pg_url, "SELECT tableoid::regclass::text, SUM(n) FROM window_chunks GROUP BY 1"))
    assert where == {partitions.name_of(old): 5, "window_chunks_default": 3, partitions.name_of(today): 2}
    assert part.delete_expired("window_chunks", today - 10 * DAY, 1000) >= 1  # the old day's partition
    assert partitions.name_of(old) not in partitions.existing(conn.raw).values()
    assert part.delete_expired("window_chunks", today - 10 * DAY, 1000) == 1  # the default's one chunk
    assert query(pg_url, "SELECT SUM(n) FROM window_chunks") == [(2,)]
    part.close()


@pytest.mark.sqlite_only("the marker's own test")
def test_store_postgres_sqlite_only_marker_keeps_a_test_on_sqlite(store_backend):
    assert store_backend == "sqlite"


def test_store_postgres_parts_reconnect_after_the_server_drops_them(pg_url):
    """A database restart (here: the connections terminated by the server) fails the call in
    flight; the next call of each part opens a new connection."""
    import psycopg

    store = open_store(pg_url)
    try:
        assert store.registry.customer_ids() == set()
        assert store.outbox.due("cs", NOW) == []
        with store.alerts.transaction():
            assert store.alerts.alerts_in(("firing",)) == {}
        query(pg_url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                      " WHERE datname = current_database() AND pid <> pg_backend_pid()")
        def alerts():
            with store.alerts.transaction():
                return store.alerts.alerts_in(("firing",))

        for call, empty in ((store.registry.customer_ids, set()), (lambda: store.outbox.due("cs", NOW), []),
                            (alerts, {})):
            try:
                call()
            except psycopg.OperationalError:
                pass  # the call in flight may fail
            assert call() == empty  # the next one works
    finally:
        store.close()
