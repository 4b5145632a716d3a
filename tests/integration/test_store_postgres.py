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


def tele(robot, seqs, customer="acme", stream="00000000000000aa"):
    windows = tuple(Window(s, NOW - 2 * HOUR + s * 10_000, NOW - 2 * HOUR + s * 10_000 + 10_000,
                           {"nav.tasks": s % 7 + 1, "usage.interactions": 1}, {"sys.cpu_pct": float(s % 100)})
                    for s in seqs)
    return Queued.of(Telemetry.of(Batch(robot, customer, "s1", stream, NOW, windows)), NOW)


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


def test_store_postgres_migrations_run_once_when_collectors_start_together(pg_url):
    """Four connections migrate an empty database at once: the advisory lock lets one apply each
    file, the others find it done; a later start applies nothing."""
    results, errors = [], []

    def start():
        try:
            conn = connect(pg_url, migrate=False)
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
    assert [r[0] for r in query(pg_url, "SELECT name FROM _migrations ORDER BY name")] == names
    conn = connect(pg_url, migrate=False)
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


def test_store_postgres_a_missing_part_fails_loudly(pg_url):
    store = open_store(pg_url)
    try:
        with pytest.raises(NotImplementedError, match="no reads part"):
            store.reads.feed_last_id()
    finally:
        store.close()
