"""Retention in small steps: raw windows (their chunks) after ``raw_days`` (by receive time, so back-filled
history stays its full term), rollups after ``rollup_days`` (by bucket).

This is the schedule; the deletes are the store's (``IngestStore.delete_expired``).  Each ``step``
deletes at most ``chunk`` rows of one table in one short transaction, then the writer goes back to
ingest; a pass repeats steps until nothing is left, then sleeps for ``interval_s``.
"""

from __future__ import annotations

from collector.store.seam import IngestStore
from protocol.timeunits import DAY_MS

#: the tables retention deletes from, in pass order, and the term each keeps its rows for (raw: by
#: receive time; rollup: by bucket).  Also the label values of robopulse_store_retention_deleted_total.
RETAINED = (("window_chunks", "raw"), ("counter_hour", "rollup"), ("counter_day", "rollup"),
            ("customer_day", "rollup"), ("customer_hour", "rollup"), ("rollup_marks", "rollup"), ("gauge_hour", "rollup"))


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

    def step(self, store: IngestStore, now_ms: int) -> dict[str, int]:
        """Delete one chunk from the current table; when a pass is over, schedule the next."""
        table, term = RETAINED[self._table]
        cutoff = now_ms - (self.raw_ms if term == "raw" else self.rollup_ms)
        n = store.delete_expired(table, cutoff, self.chunk)
        if n < self.chunk:
            self._table += 1
            if self._table == len(RETAINED):
                self._table = 0
                self._next_ms = now_ms + self.interval_ms
        return {table: n}
