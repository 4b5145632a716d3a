"""Retention in small steps: raw windows (their chunks) after ``raw_days`` (by receive time, so back-filled
history stays its full term), rollups after ``rollup_days`` (by bucket).

Each ``step`` deletes at most ``chunk`` rows of one table inside the writer's short transaction,
then the writer goes back to ingest; a pass repeats steps until nothing is left, then sleeps for
``interval_s``.  Deletes go by primary key after a bounded SELECT, which PostgreSQL runs as is.
"""

from __future__ import annotations

from protocol.timeunits import DAY_MS

_PLAN = (
    ("window_chunks", "SELECT robot, stream, last_seq FROM window_chunks WHERE received_ms < ? LIMIT ?",
     "DELETE FROM window_chunks WHERE robot = ? AND stream = ? AND last_seq = ?", "raw"),
    ("counter_hour", "SELECT robot, metric, bucket_ms FROM counter_hour WHERE bucket_ms < ? LIMIT ?",
     "DELETE FROM counter_hour WHERE robot = ? AND metric = ? AND bucket_ms = ?", "rollup"),
    ("counter_day", "SELECT robot, metric, bucket_ms FROM counter_day WHERE bucket_ms < ? LIMIT ?",
     "DELETE FROM counter_day WHERE robot = ? AND metric = ? AND bucket_ms = ?", "rollup"),
    ("customer_day", "SELECT bucket_ms, metric, customer FROM customer_day WHERE bucket_ms < ? LIMIT ?",
     "DELETE FROM customer_day WHERE bucket_ms = ? AND metric = ? AND customer = ?", "rollup"),
    ("rollup_marks", "SELECT grain, bucket_ms FROM rollup_marks WHERE bucket_ms < ? LIMIT ?",
     "DELETE FROM rollup_marks WHERE grain = ? AND bucket_ms = ?", "rollup"),
    ("gauge_hour", "SELECT robot, metric, bucket_ms FROM gauge_hour WHERE bucket_ms < ? LIMIT ?",
     "DELETE FROM gauge_hour WHERE robot = ? AND metric = ? AND bucket_ms = ?", "rollup"),
)


class Retention:
    def __init__(self, raw_days: int = 14, rollup_days: int = 730, chunk: int = 2000, interval_s: float = 60):
        self.raw_ms = raw_days * DAY_MS
        self.rollup_ms = rollup_days * DAY_MS
        self.chunk = chunk
        self.interval_ms = int(interval_s * 1000)
        self._next_ms = 0          # first pass right after start
        self._table = 0            # where the current pass is

    def due(self, now_ms: int) -> bool:
        return now_ms >= self._next_ms

    def step(self, conn, now_ms: int) -> dict[str, int]:
        """Delete one chunk from the current table; when a pass is over, schedule the next."""
        table, select, delete, kind = _PLAN[self._table]
        cutoff = now_ms - (self.raw_ms if kind == "raw" else self.rollup_ms)
        keys = conn.execute(select, (cutoff, self.chunk)).fetchall()
        if keys:
            conn.executemany(delete, keys)
        if len(keys) < self.chunk:
            self._table += 1
            if self._table == len(_PLAN):
                self._table = 0
                self._next_ms = now_ms + self.interval_ms
        return {table: len(keys)}
