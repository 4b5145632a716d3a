"""The outbox: closed windows on disk until the broker has acknowledged them.

SQLite in WAL mode, one row per window, written before anything else happens to the window.  A kill -9
at any moment loses at most the window in progress: every append is one transaction (seq, row, drops),
so the file is never half-written.  Bounded: when ``max_windows`` is reached the oldest rows are
dropped and their number is added to ``agent.dropped_windows`` of the window being written, so the
collector sees the gap.  The stream id (16 hex) is created with the database and never changes.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from pathlib import Path

import msgpack

from protocol.codec import Window

DROPPED = "agent.dropped_windows"
#: every file the agent writes: the agent's user reads and writes, its group (field engineers running
#: ``agent status``) reads, nobody else
FILE_MODE = 0o640

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS windows (
    seq INTEGER PRIMARY KEY,
    t0 INTEGER NOT NULL,
    t1 INTEGER NOT NULL,
    body BLOB NOT NULL,             -- msgpack {"c": {...}, "g": {...}}
    dropped INTEGER NOT NULL DEFAULT 0  -- the agent.dropped_windows this row carries
);
"""


class Outbox:
    """Owned by one process (the agent holds a lock file); ``open_readonly`` is for ``agent status``."""

    def __init__(self, path: str | Path, max_windows: int, synchronous: str = "FULL"):
        self.path = Path(path)
        self.path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
        self.max_windows = max_windows
        self._pending_deletes: list[tuple[int, int]] = []
        # SQLite gives the -wal and -shm files the mode of the database file: make that 0640
        # before SQLite opens it (telemetry of a customer's robot is not for every local user)
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, FILE_MODE))
        os.chmod(self.path, FILE_MODE)
        self.conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        for leftover in ("-wal", "-shm"):  # left by an older agent, with its umask's mode
            side = self.path.with_name(self.path.name + leftover)
            if side.exists():
                os.chmod(side, FILE_MODE)
        # FULL: a window is on disk before it can be published, even across a power cut, so a
        # seq is never reused; the simulator may pass OFF for a thousand robots in one process.
        self.conn.execute(f"PRAGMA synchronous={synchronous}")
        self.conn.executescript(SCHEMA)
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('stream', ?)", (secrets.token_hex(8),))
        self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('next_seq', '1')")
        self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('dropped_total', '0')")
        self.conn.execute("COMMIT")
        meta = dict(self.conn.execute("SELECT key, value FROM meta"))
        self.stream: str = meta["stream"]
        self.next_seq = int(meta["next_seq"])
        self.dropped_total = int(meta["dropped_total"])
        self._count = self.conn.execute("SELECT count(*) FROM windows").fetchone()[0]

    def __len__(self) -> int:
        return self._count

    def append(self, t0: int, t1: int, counts: dict[str, int], gauges: dict[str, float], lost: int = 0) -> Window:
        """Give the window the next seq and store it; drop the oldest rows first when full.

        ``lost``: windows that never reached the outbox (it could not write, and more windows
        closed than the agent keeps in memory); they are reported in this window's
        ``agent.dropped_windows`` and the total like rows dropped here.  Raises ``sqlite3.Error``
        (e.g. disk full) with nothing changed, on disk or in this object."""
        self._retry_deletes()
        counts = dict(counts)
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            seq = self.next_seq
            excess = self._count + 1 - self.max_windows
            rows = []
            if excess > 0:
                rows = conn.execute("SELECT seq, dropped FROM windows ORDER BY seq LIMIT ?", (excess,)).fetchall()
                conn.execute("DELETE FROM windows WHERE seq <= ?", (rows[-1][0],))
            # a dropped row that itself reported drops passes its count on: the total stays true
            dropped = lost + len(rows) + sum(r[1] for r in rows)
            if dropped:
                counts[DROPPED] = counts.get(DROPPED, 0) + dropped
                conn.execute("UPDATE meta SET value = ? WHERE key = 'dropped_total'",
                             (str(self.dropped_total + lost + len(rows)),))
            body = msgpack.packb({"c": counts, "g": gauges}, use_bin_type=True)
            conn.execute("INSERT INTO windows VALUES (?, ?, ?, ?, ?)", (seq, t0, t1, body, dropped))
            conn.execute("UPDATE meta SET value = ? WHERE key = 'next_seq'", (str(seq + 1),))
            conn.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise
        self.dropped_total += lost + len(rows)
        self._count -= len(rows)
        self._count += 1
        self.next_seq = seq + 1
        return Window(seq, t0, t1, counts, gauges)

    def peek(self, after_seq: int = 0, limit: int = 500) -> list[Window]:
        """Up to ``limit`` stored windows with seq > ``after_seq``, oldest first."""
        rows = self.conn.execute("SELECT seq, t0, t1, body FROM windows WHERE seq > ? ORDER BY seq LIMIT ?",
                                 (after_seq, limit)).fetchall()
        out = []
        for seq, t0, t1, body in rows:
            doc = msgpack.unpackb(body, raw=False)
            out.append(Window(seq, t0, t1, doc.get("c", {}), doc.get("g", {})))
        return out

    def _rollback(self) -> None:
        """Undo a failed transaction, if SQLite has not already (on a full disk it may have: a
        second ROLLBACK would then raise and hide the real error)."""
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass

    def delete_range(self, lo: int, hi: int) -> int:
        """Remove acknowledged windows lo..hi (a batch is a run of consecutive rows).  When the
        disk is full the range is remembered and deleted at the next chance (until then a reconnect
        may send those rows again, which the collector counts once)."""
        self._pending_deletes.append((lo, hi))
        return self._retry_deletes()

    def _retry_deletes(self) -> int:
        removed = 0
        while self._pending_deletes:
            lo, hi = self._pending_deletes[0]
            try:
                cur = self.conn.execute("DELETE FROM windows WHERE seq BETWEEN ? AND ?", (lo, hi))
            except sqlite3.Error:
                self._rollback()
                return removed
            self._pending_deletes.pop(0)
            self._count -= cur.rowcount
            removed += cur.rowcount
        return removed

    def oldest_t0(self) -> int | None:
        row = self.conn.execute("SELECT t0 FROM windows ORDER BY seq LIMIT 1").fetchone()
        return row[0] if row else None

    def close(self) -> None:
        self.conn.close()


def read_summary(path: str | Path) -> dict | None:
    """Backlog facts from an outbox without writing to it (for ``agent status``); None when absent."""
    path = Path(path)
    if not path.exists():
        return None
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta"))
        count, oldest = conn.execute("SELECT count(*), min(t0) FROM windows").fetchone()
    finally:
        conn.close()
    return {"stream": meta.get("stream"), "windows": count, "oldest_t0_ms": oldest,
            "next_seq": int(meta.get("next_seq", 1)), "dropped_total": int(meta.get("dropped_total", 0))}
