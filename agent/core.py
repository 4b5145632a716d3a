"""The agent's pipeline as a library: sources -> windows -> outbox.  No threads, no sockets, and
time comes from the caller, so the agent's loop and the simulator (a thousand robots in one process,
at any speed) drive exactly the same code.  The publisher (agent.publisher) drains the outbox.
"""

from __future__ import annotations

from pathlib import Path

from agent.outbox import Outbox
from agent.publisher import wall_ms
from agent.recent import Recent
from agent.samplers.programmatic import ProgrammaticSource
from agent.windows import Accumulator, WindowClock, is_minute_window
from protocol.codec import Batch, Window, encode_batch
from protocol.logs import get_logger

SAMPLER_ERRORS = "agent.sampler_errors"
BACKLOG = "agent.backlog"


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
        closed = []
        for t0, t1, is_gap in self.windows.due(now_ms):
            closed.append(self._close(t0, t1, sample=not is_gap))
        if self.windows.steps != steps:
            self.log.warning("clock_stepped", now_ms=now_ms, window_t0=self.windows.t0)
        return closed

    def cut(self, now_ms: int | None = None) -> Window | None:
        """Close the window in progress early (clean shutdown) so its counts are not lost."""
        span = self.windows.cut(self.clock() if now_ms is None else now_ms)
        return self._close(*span, sample=True) if span else None

    def _close(self, t0: int, t1: int, sample: bool) -> Window:
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

    def _store(self, t0: int, t1: int, counts: dict, gauges: dict) -> Window:
        # sorted names: consecutive windows of a batch look alike, and zlib packs them ~7 % smaller
        window = self.outbox.append(t0, t1, {k: counts[k] for k in sorted(counts) if counts[k]}, gauges)
        self.recent.add(window)
        if window.c.get("agent.dropped_windows"):
            self.log.warning("window_dropped", dropped=window.c["agent.dropped_windows"],
                             dropped_total=self.outbox.dropped_total)
        return window

    def record_window(self, t0: int, t1: int, counts: dict[str, int], gauges: dict[str, float] | None = None) -> Window:
        """Store a finished window directly (back-fill: any span up to 24 h, t0 < t1), validated by
        the codec first.  It gets the next seq like any other window."""
        gauges = dict(gauges or {})
        a = self.config.agent
        probe = Window(1, t0, t1, dict(counts), gauges)
        encode_batch(Batch(a.robot_id, a.customer_id, a.site_id, self.outbox.stream, 0, (probe,)), compress=False)
        return self._store(t0, t1, dict(counts), gauges)

    def close(self) -> None:
        self.outbox.close()
