"""The telemetry writer: a thread that owns the store's ingest part and commits in batches.

It is handed ``Queued`` records (a validated batch, a status, or a reject to record) with an ``ack``
callback, and writes them through the store's ``IngestStore`` part (so it is the same for every
backend).  Items are committed together, one transaction per flush (every ``flush_ms`` or every
``flush_windows`` windows, whichever comes first), and only after COMMIT are their acks called, so
the broker keeps a message until its windows are on disk.  A crash loses nothing: unacknowledged
messages come again and windows already stored are recognised by their (robot, stream, seq) and ignored.

Between flushes the thread runs retention in small steps, so old data goes without ever holding
the write lock for long.  ``submit`` blocks while the backlog is large: that slows the MQTT thread,
the broker queues for us, and memory stays bounded whatever arrives.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable

from collector.store.records import Queued
from collector.store.retention import Retention
from collector.store.seam import IngestStore, Outcome, TransientStoreError
from collector.store.stats import StoreStats
from protocol.logs import FailureLog, get_logger

log = get_logger("collector.store.writer")


class Writer:
    def __init__(self, store: IngestStore, *, stats: StoreStats, flush_ms: int = 200, flush_windows: int = 2000,
                 rejects_kept: int = 1000, retention: Retention | None = None,
                 clock: Callable[[], float] = time.time, max_backlog_windows: int | None = None,
                 on_flushed: Callable[[], None] | None = None):
        self.store = store
        self.on_flushed = on_flushed  # called in the writer thread after each commit, failed commit or retention step
        self.stats = stats
        self.flush_s = flush_ms / 1000
        self.flush_windows = flush_windows
        self.rejects_kept = rejects_kept
        self.retention = retention
        self.clock = clock
        self.max_backlog_windows = max_backlog_windows or max(10 * flush_windows, 5000)
        self._queue: collections.deque[Queued] = collections.deque()
        self._queued_windows = 0
        self._busy_msgs = 0
        self._busy_windows = 0
        self._cond = threading.Condition()
        self._stopping = False
        self._committed = 0  # items committed, for drain()
        self._submitted = 0
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        # commits failing (disk full, I/O, locked): the cause logged once, the state shown on
        # /healthz and /metrics (``failing``) until a commit succeeds again
        self._failures = FailureLog(log, "store_commit_failing", every_s=60.0)
        stats.bind_backlog(self.backlog_messages, self.backlog_windows)

    @property
    def failing(self) -> str | None:
        """The store error while commits fail (``SQLITE_FULL: database or disk is full``), else None."""
        return self._failures.error

    # ---------------------------------------------------------------- public

    def start(self) -> "Writer":
        self._thread.start()
        return self

    def alive(self) -> bool:
        return self._thread.is_alive()

    def submit(self, item: Queued) -> None:
        """Queue an item; blocks while the backlog is over its bound (backpressure on ingest)."""
        with self._cond:
            while (self._queued_windows >= self.max_backlog_windows and self._queue
                   and not self._stopping):
                self._cond.wait(0.5)
            was_empty = not self._queue
            before = self._queued_windows
            self._queue.append(item)
            self._queued_windows += item.windows
            self._submitted += 1
            # wake the writer only when it has something new to decide (a first item starts the
            # flush clock; crossing flush_windows flushes early): a wake-up per message would make
            # the two threads trade the GIL on every message
            if was_empty or before < self.flush_windows <= self._queued_windows:
                self._cond.notify_all()

    def backlog_messages(self) -> int:
        return len(self._queue) + self._busy_msgs

    def backlog_windows(self) -> int:
        return self._queued_windows + self._busy_windows

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until everything submitted so far is committed (used on shutdown and by tools)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            target = self._submitted
            while self._committed < target:
                left = deadline - time.monotonic()
                if left <= 0 or not self._thread.is_alive():
                    return False
                self._cond.wait(min(left, 0.2))
        return True

    def stop(self, timeout: float = 30.0) -> None:
        """Commit what is queued, then end the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout)

    # ---------------------------------------------------------------- thread

    def _take(self) -> list[Queued] | None:
        with self._cond:
            while not self._queue:
                if self._stopping:
                    return None
                if self.retention is not None and self.retention.due(self._now_ms()):
                    return []
                self._cond.wait(1.0)
            deadline = self._queue[0].arrived + self.flush_s
            while (self._queued_windows < self.flush_windows and not self._stopping
                   and time.monotonic() < deadline):
                self._cond.wait(max(0.0, deadline - time.monotonic()))
            batch, windows = [], 0
            while self._queue and (not batch or windows + self._queue[0].windows <= self.flush_windows):
                item = self._queue.popleft()
                batch.append(item)
                windows += item.windows
            self._queued_windows -= windows
            self._busy_msgs, self._busy_windows = len(batch), windows
            self._cond.notify_all()
            return batch

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def _run(self) -> None:
        while True:
            batch = self._take()
            if batch is None:
                return
            if batch:
                self._commit(batch)
            if self.retention is not None and self.retention.due(self._now_ms()):
                self._retention_step()
            if self.on_flushed is not None:
                self.on_flushed()

    def _commit(self, batch: list[Queued]) -> None:
        delay = 0.1
        while True:
            started = time.perf_counter()
            try:
                outcome = self.store.apply(batch, self.rejects_kept)
                break
            except TransientStoreError as exc:  # locked, disk full, I/O: keep the batch, retry
                self._failed(str(exc), items=len(batch), retry_s=delay)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
                if self._stopping and delay >= 5.0:
                    log.error("flush_abandoned", items=len(batch))  # not acked: the broker resends
                    self._done(len(batch))
                    return
            except Exception as exc:  # a bug on some item: never let it stop ingest
                log.error("flush_bug", error=repr(exc)[:300], items=len(batch))
                self._isolate(batch)
                return
        elapsed = time.perf_counter() - started
        self._finish(batch, outcome, elapsed)

    def _failed(self, error: str, **fields) -> None:
        """A commit failed and will be retried: counted, the cause logged (throttled), and the
        failing state reported at once (``on_flushed``: the writer process tells the main one)."""
        self.stats.flush_errors.inc()
        self.stats.commit_failing.set(1)
        self._failures.failed(error, **fields)
        if self.on_flushed is not None:
            self.on_flushed()

    def _succeeded(self) -> None:
        if self._failures.failing:
            self.stats.commit_failing.set(0)
            self._failures.recovered("store_commit_recovered")

    def _isolate(self, batch: list[Queued]) -> None:
        """Commit the items one by one; one that fails alone is counted as ``internal_error``
        and acknowledged (sent again it would fail again, forever)."""
        for item in batch:
            started = time.perf_counter()
            try:
                outcome = self.store.apply([item], self.rejects_kept)
            except TransientStoreError as exc:
                self._failed(str(exc), items=1)
                self._done(1)  # not acknowledged: comes again later
                continue
            except Exception as exc:
                log.error("item_dropped", reason="internal_error", error=repr(exc)[:300])
                self.stats.rejects.inc(reason="internal_error")
                if item.ack is not None:
                    item.ack()
                self._done(1)
                continue
            self._finish([item], outcome, time.perf_counter() - started)

    def _finish(self, batch: list[Queued], outcome: Outcome, elapsed: float) -> None:
        self._succeeded()
        for item in batch:
            if item.ack is not None:
                item.ack()
        s = self.stats
        s.windows_stored.inc(outcome.stored)
        s.windows_duplicate.inc(outcome.duplicates)
        s.statuses.inc(outcome.statuses)
        s.flushes.inc()
        s.flush_seconds.inc(elapsed)
        s.last_flush.set(elapsed)
        self._done(len(batch))

    def _done(self, n: int) -> None:
        with self._cond:
            self._busy_msgs = self._busy_windows = 0
            self._committed += n
            self._cond.notify_all()

    def _retention_step(self) -> None:
        try:
            deleted = self.retention.step(self.store, self._now_ms())
        except TransientStoreError as exc:
            self._failed(str(exc), step="retention")
            return
        self._succeeded()
        for table, n in deleted.items():
            if n:
                self.stats.retention_deleted.inc(n, table=table)
