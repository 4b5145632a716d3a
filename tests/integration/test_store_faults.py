"""Storage faults on a real SQLite file, without a tmpfs: ``PRAGMA max_page_count`` makes SQLite
answer SQLITE_FULL ("database or disk is full") exactly as a full disk does.  The writer must roll
back without hiding the error, keep its caches true (a customer rolled back is inserted again
once space is back), report that commits fail, and lose nothing."""

from __future__ import annotations

import sqlite3

import pytest

from collector.metrics import Registry
from collector.store.seam import TransientStoreError
from collector.store.sqlite.ingest import SqliteIngestStore
from collector.store.sqlite.shared import SharedConnection
from collector.store.stats import StoreStats
from collector.store.writer import Writer
from tests.integration.test_store_writer import NOW, read, tele
from tests.support.procs import wait_until


def fill(conn: sqlite3.Connection) -> None:
    """No page more than the file has now: the next write that needs one fails with SQLITE_FULL."""
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")


def free(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA max_page_count = 1073741823")


def test_store_full_disk_raises_the_real_error_and_forgets_rolled_back_customers(tmp_path):
    store = SqliteIngestStore(str(tmp_path / "s.db"))
    store.apply([tele("r1", range(1, 4))], 100)
    fill(store.conn)
    with pytest.raises(TransientStoreError) as err:
        store.apply([tele("r2", range(1, 400), customer="newco")], 100)
    assert "SQLITE_FULL" in str(err.value) and "full" in str(err.value)  # not "cannot rollback"
    assert not store.conn.in_transaction
    free(store.conn)
    outcome = store.apply([tele("r2", range(1, 400), customer="newco")], 100)
    assert outcome.stored == 399
    assert read(tmp_path, "SELECT id, assigned FROM customers WHERE id = 'newco'") == [("newco", 0)]
    assert read(tmp_path, "SELECT customer FROM robots WHERE id = 'r2'") == [("newco",)]
    store.close()


def test_store_writer_reports_failing_while_full_and_recovers_with_nothing_lost(tmp_path):
    stats = StoreStats(Registry())
    reports = []
    store = SqliteIngestStore(str(tmp_path / "s.db"))
    writer = Writer(store, stats=stats, flush_ms=20, clock=lambda: NOW / 1000,
                    on_flushed=lambda: reports.append(writer.failing))
    writer.start()
    acked = []
    first = tele("r1", range(1, 4))
    first.ack = lambda: acked.append("first")
    writer.submit(first)
    assert writer.drain(10)
    fill(store.conn)
    item = tele("r2", range(1, 400), customer="newco")
    item.ack = lambda: acked.append("newco")
    writer.submit(item)
    wait_until(lambda: writer.failing, 10, message="commit failing")
    assert "SQLITE_FULL" in writer.failing and stats.commit_failing.value() == 1
    assert stats.flush_errors.value() >= 1 and any(reports)  # reported at once, not after a commit
    assert acked == ["first"]  # nothing acknowledged while it is not stored
    free(store.conn)
    assert writer.drain(20)
    writer.stop()
    assert acked == ["first", "newco"] and writer.failing is None and stats.commit_failing.value() == 0
    assert read(tmp_path, "SELECT COALESCE(SUM(n), 0) FROM window_chunks WHERE robot = 'r2'") == [(399,)]
    assert read(tmp_path, "SELECT id FROM customers WHERE id = 'newco'") == [("newco",)]
    store.close()


def test_store_shared_transaction_ends_when_commit_fails(tmp_path):
    """A failed COMMIT must not leave the evaluator's connection inside a transaction: the next
    cycle would take itself for nested and never commit."""
    shared = SharedConnection(str(tmp_path / "s.db"))
    conn = shared.conn
    conn.execute("CREATE TABLE t (x TEXT)")
    fill(conn)
    with pytest.raises(sqlite3.OperationalError):
        with shared.transaction():
            conn.executemany("INSERT INTO t VALUES (?)", [("x" * 500,)] * 200)
    assert not conn.in_transaction
    free(conn)
    with shared.transaction():
        conn.execute("INSERT INTO t VALUES ('kept')")
    shared.close()
    assert read(tmp_path, "SELECT x FROM t WHERE x = 'kept'") == [("kept",)]
