"""Raw windows stored as chunks (``collector.store.sqlite.raw``): exactly once per (robot, stream, seq)
whatever the batching of the copies, chunks cut at hour edges, and the migration that moves the old
one-row-per-window table into chunks without changing a sum."""

from __future__ import annotations

import sqlite3

import msgpack
import pytest

from collector.store.records import Queued, Telemetry
from collector.store.sqlite.apply import apply_items
from collector.store.sqlite.counters import raw_counters, robot_counters
from collector.store.sqlite.db import connect_writer
from collector.store.sqlite.migrations import _statements, migration_files
from collector.store.sqlite.raw import all_windows, window_count
from protocol.codec import Batch, Window

HOUR = 3_600_000
BASE = 1_767_225_600_000 + 5 * HOUR  # 2026-01-01T05:00Z
STREAM = "00000000000000aa"


def window(seq: int) -> Window:
    """Seq n starts n x 7 minutes after BASE: 8-9 windows per hour, so batches cross hour edges."""
    t0 = BASE + seq * 7 * 60_000
    return Window(seq, t0, t0 + 60_000, {"usage.interactions": seq, "nav.tasks": 1}, {"sys.cpu_pct": float(seq)})


def item(robot: str, seqs, stream: str = STREAM) -> Queued:
    windows = tuple(window(s) for s in seqs)
    return Queued.of(Telemetry.of(Batch(robot, "acme", "s1", stream, BASE, windows)), BASE + 99 * HOUR)


def flush(conn, items, highs) -> tuple[int, int]:
    conn.execute("BEGIN")
    out = apply_items(conn, items, 100, set(), {}, highs)
    conn.execute("COMMIT")
    return out.stored, out.duplicates


@pytest.mark.parametrize("remember", [True, False], ids=["writer-cache", "fresh-lookups"])
def test_store_raw_chunks_count_every_seq_once_whatever_the_batching(store_url, remember):
    """Copies re-batched differently (out of order, overlapping two stored chunks, inside one flush
    and across flushes, another stream of the same robot): each seq is stored and summed once (on
    each backend)."""
    from tests.plugins.api import connect_store

    conn = connect_store(store_url)
    highs: dict | None = {} if remember else None
    assert flush(conn, [item("r1", range(20, 41))], highs) == (21, 0)
    assert flush(conn, [item("r1", range(1, 11)),            # below the highest seq: looked up, new
                        item("r1", range(5, 26)),            # 11-19 new, 5-10 and 20-25 copies
                        item("r1", [3, 9, 41, 42])], highs) == (10 + 9 + 2, 12 + 2)
    assert flush(conn, [item("r1", range(1, 43)), item("r1", range(1, 43), stream="00000000000000bb")],
                 highs) == (42, 42)
    seqs = [(stream, seq) for _r, stream, seq, *_ in all_windows(conn, "r1")]
    assert seqs == [(STREAM, s) for s in range(1, 43)] + [("00000000000000bb", s) for s in range(1, 43)]
    assert window_count(conn) == 84
    total = 2 * sum(range(1, 43))
    assert dict(conn.execute("SELECT metric, SUM(total) FROM counter_hour GROUP BY metric")) == \
        {"usage.interactions": total, "nav.tasks": 84}
    assert conn.execute("SELECT SUM(n) FROM gauge_hour").fetchone()[0] == 84
    # every chunk lies inside one hour bucket, and a chunk's seqs are its own
    for bucket, blob in conn.execute("SELECT bucket_ms, windows FROM window_chunks"):
        assert {w[1] - w[1] % HOUR for w in msgpack.unpackb(blob)} == {bucket}
    assert conn.execute("SELECT COUNT(*) FROM window_chunks").fetchone()[0] > 10
    assert robot_counters(conn, "r1", BASE, BASE + 6 * HOUR)["counters"] == \
        raw_counters(conn, "r1", BASE, BASE + 6 * HOUR) == {"usage.interactions": total, "nav.tasks": 84}


def test_store_raw_migration_moves_the_old_window_rows_into_chunks(tmp_path):
    """A store from before chunks (one row per window) keeps every window and every sum."""
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_ms INTEGER NOT NULL)")
    for name, sql in migration_files():
        if name >= "0005":
            continue
        for statement in _statements(sql):
            conn.execute(statement)
        conn.execute("INSERT INTO _migrations VALUES (?, 0)", (name,))
    old = [(robot, STREAM, w.seq, w.t0, w.t1, msgpack.packb(w.c), msgpack.packb(w.g) if w.seq % 2 else None,
            BASE + w.seq) for robot in ("r1", "r2") for w in map(window, range(1, 30))]
    conn.executemany("INSERT INTO windows VALUES (?, ?, ?, ?, ?, ?, ?, ?)", old)
    conn.close()

    conn = connect_writer(db)   # migrates
    assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'windows'").fetchone()
    got = [(r, s, seq, t0, t1, c, g) for r, s, seq, t0, t1, c, g in all_windows(conn)]
    assert got == [(r, s, seq, t0, t1, msgpack.unpackb(c), msgpack.unpackb(g) if g else {})
                   for r, s, seq, t0, t1, c, g, _ in old]
    assert conn.execute("SELECT MAX(received_ms) FROM window_chunks").fetchone()[0] == BASE + 29
    # the migrated windows are known: copies of them are duplicates
    assert flush(conn, [item("r1", range(25, 35))], {}) == (5, 5)
