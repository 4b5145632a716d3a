"""The agent's pipeline as a library: sources -> windows -> outbox.  No threads, no sockets, and
time comes from the caller, so the agent's loop and the simulator (a thousand robots in one process,
at any speed) drive exactly the same code.  The publisher (agent.publisher) drains the outbox.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from agent.outbox import DROPPED, Outbox
from agent.publisher import wall_ms
from agent.recent import Recent
from agent.samplers.programmatic import ProgrammaticSource
from agent.windows import Accumulator, WindowClock, is_minute_window
from protocol.codec import Batch, Window, encode_batch
from protocol.logs import get_logger

SAMPLER_ERRORS = "agent.sampler_errors"
BACKLOG = "agent.backlog"
#: closed windows kept in memory while the outbox cannot write (disk full): an hour at 10 s windows;
#: past it the oldest are dropped and counted in agent.dropped_windows
MAX_UNSTORED = 360
#: while writes fail, ``outbox_write_failed`` is logged at most this often
WRITE_FAILED_LOG_EVERY_MS = 60_000


class AgentCore:
    """Counts in, windows closed on aligned boundaries, each written to the outbox with its seq.

    ``sources``: polled samplers (``sample(t0_ms, t1_ms) -> Sample``) called as each window closes.
    ``outbox``: pass one to share or to choose ``synchronous``; default ``<state_dir>/outbox.db``.
    """

    def __init__(self, config, clock=wall_ms, sources=(), outbox: Outbox | None = None, log=None,
                 synchronous: str = "FULL"):
        self.config = config
        self.clock = clock
        self.sources = list(sources)
        self.log = log or get_logger("agent.core")
        # "is None", not "or": an empty Outbox is falsy (it has a length) and must still be used
        self.outbox = outbox if outbox is not None else Outbox(
            Path(config.agent.state_dir) / "outbox.db", config.buffer.max_windows, synchronous=synchronous)
        self.accumulator = Accumulator()
        self.programmatic = ProgrammaticSource(self.accumulator)
        self.windows = WindowClock(config.agent.interval_s, clock())
        self.recent = Recent()
        self.sampler_errors_total = 0
        self.backlog_every_window = False
        # closed windows the outbox could not take yet (disk full), oldest first, and how many of
        # them had to be dropped; both go to the outbox, in order, as soon as it can write again
        self.unstored: list[tuple[int, int, dict, dict]] = []
        self.unstored_dropped = 0
        self.write_error: str | None = None
        self.write_failing_since_ms: int | None = None
        self._write_failed_logged_ms: int | None = None  # None: not logged since the last success
        self._drop_logged_ms: int | None = None
        self._write_failures = 0

    # the programmatic source --------------------------------------------------------------

    def add(self, metric: str, n: int = 1) -> None:
        """Count ``n`` events into the window in progress."""
        self.programmatic.add(metric, n)

    def gauge(self, metric: str, value: float) -> None:
        self.programmatic.gauge(metric, value)

    # closing windows -----------------------------------------------------------------------

    def tick(self, now_ms: int | None = None) -> list[Window]:
        """Close every window that ended at or before ``now_ms``; returns them (already stored)."""
        now_ms = self.clock() if now_ms is None else now_ms
        steps = self.windows.steps
        closed = self._flush() if self.unstored else []
        for t0, t1, is_gap in self.windows.due(now_ms):
            closed += self._close(t0, t1, sample=not is_gap)
        if self.windows.steps != steps:
            self.log.warning("clock_stepped", now_ms=now_ms, window_t0=self.windows.t0)
        return closed

    def cut(self, now_ms: int | None = None) -> Window | None:
        """Close the window in progress early (clean shutdown) so its counts are not lost."""
        span = self.windows.cut(self.clock() if now_ms is None else now_ms)
        stored = self._close(*span, sample=True) if span else self._flush()
        return stored[-1] if stored else None

    def _close(self, t0: int, t1: int, sample: bool) -> list[Window]:
        counts, gauges = self.accumulator.take() if sample else ({}, {})
        if sample:
            for source in self.sources:
                try:
                    got = source.sample(t0, t1)
                except Exception as exc:  # a failing sampler is counted, never fatal
                    self.sampler_errors_total += 1
                    counts[SAMPLER_ERRORS] = counts.get(SAMPLER_ERRORS, 0) + 1
                    self.log.warning("sampler_failed", sampler=getattr(source, "name", "?"),
                                     error=f"{type(exc).__name__}: {exc}")
                    continue
                for name, n in got.counts.items():
                    if n:
                        counts[name] = counts.get(name, 0) + n
                for name, value in got.gauges.items():
                    # a gauge the robot's software reported itself (StatsD, e.g. its own net.rtt_ms)
                    # wins over the agent's own measure of the same name (PUBLISH->PUBACK time)
                    gauges.setdefault(name, value)
            if self.backlog_every_window or is_minute_window(t0, t1):
                gauges[BACKLOG] = len(self.outbox)  # once a minute: bytes on paid 4G
        return self._store(t0, t1, counts, gauges)

    def _store(self, t0: int, t1: int, counts: dict, gauges: dict) -> list[Window]:
        """Queue the closed window behind any the outbox could not take yet, then write what it can.
        A window is never lost silently: it is written (counts kept, next seq), or, past
        ``MAX_UNSTORED`` windows waiting, dropped and counted in the next written window's
        ``agent.dropped_windows``."""
        # sorted names: consecutive windows of a batch look alike, and zlib packs them ~7 % smaller
        self.unstored.append((t0, t1, {k: counts[k] for k in sorted(counts) if counts[k]}, gauges))
        while len(self.unstored) > MAX_UNSTORED:
            lost_t0, lost_t1, _, _ = self.unstored.pop(0)
            self.unstored_dropped += 1
            now = self.clock()
            if self._drop_logged_ms is None or now - self._drop_logged_ms >= WRITE_FAILED_LOG_EVERY_MS:
                # once a minute, not per window
                self._drop_logged_ms = now
                self.log.warning("window_dropped", reason="outbox_not_writable", t0=lost_t0, t1=lost_t1,
                                 dropped_waiting=self.unstored_dropped)
        return self._flush()

    def _flush(self) -> list[Window]:
        """Write the waiting windows, oldest first; stop at the first failure (they stay queued)."""
        stored = []
        while self.unstored:
            t0, t1, counts, gauges = self.unstored[0]
            try:
                window = self.outbox.append(t0, t1, counts, gauges, lost=self.unstored_dropped)
            except (sqlite3.Error, OSError) as exc:
                self._write_failed(exc)
                break
            self.unstored.pop(0)
            self.unstored_dropped = 0
            self._write_recovered()
            self.recent.add(window)
            if window.c.get(DROPPED):
                self.log.warning("window_dropped", dropped=window.c[DROPPED],
                                 dropped_total=self.outbox.dropped_total)
            stored.append(window)
        return stored

    def _write_failed(self, exc: BaseException) -> None:
        now = self.clock()
        self._write_failures += 1
        self.write_error = f"{type(exc).__name__}: {exc}"
        if self.write_failing_since_ms is None:
            self.write_failing_since_ms = now
        if self._write_failed_logged_ms is None or now - self._write_failed_logged_ms >= WRITE_FAILED_LOG_EVERY_MS:
            # once a minute, not per try
            self._write_failed_logged_ms = now
            self.log.error("outbox_write_failed", error=self.write_error, windows_waiting=len(self.unstored),
                           failures=self._write_failures, path=str(self.outbox.path))

    def _write_recovered(self) -> None:
        if self.write_failing_since_ms is None:
            return
        self.log.warning("outbox_write_recovered", failing_s=(self.clock() - self.write_failing_since_ms) // 1000,
                         failures=self._write_failures, windows_waiting=len(self.unstored))
        self.write_error = self.write_failing_since_ms = None
        self._write_failed_logged_ms = self._drop_logged_ms = None
        self._write_failures = 0

    def record_window(self, t0: int, t1: int, counts: dict[str, int], gauges: dict[str, float] | None = None) -> Window | None:
        """Store a finished window directly (back-fill: any span up to 24 h, t0 < t1), validated by
        the codec first.  It gets the next seq like any other window (None: the outbox cannot write
        now; the window waits in memory like a closed one)."""
        gauges = dict(gauges or {})
        a = self.config.agent
        probe = Window(1, t0, t1, dict(counts), gauges)
        encode_batch(Batch(a.robot_id, a.customer_id, a.site_id, self.outbox.stream, 0, (probe,)), compress=False)
        stored = self._store(t0, t1, dict(counts), gauges)
        return stored[-1] if stored and not self.unstored else None

    def close(self) -> None:
        self.outbox.close()
