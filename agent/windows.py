"""Windows: counts accumulate for the window in progress, which closes on wall-clock multiples of
``interval_s``.  Pure logic with the time passed in, so tests and the simulator drive the clock."""

from __future__ import annotations

import threading

from protocol.codec import MAX_COUNT, MAX_METRICS, MAX_SPAN_MS

#: room left in a window for the agent's own metrics and the samplers' gauges
MAX_SOURCE_METRICS = MAX_METRICS - 32


class Accumulator:
    """Thread-safe counts and gauges of the window in progress (StatsD writes from its thread)."""

    def __init__(self, max_metrics: int = MAX_SOURCE_METRICS):
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._gauges: dict[str, float] = {}
        self._max = max_metrics

    def add(self, name: str, n: int = 1) -> bool:
        """Add ``n`` to a counter; False (nothing added) when the window is out of metric slots."""
        with self._lock:
            if name not in self._counts and len(self._counts) + len(self._gauges) >= self._max:
                return False
            self._counts[name] = min(self._counts.get(name, 0) + n, MAX_COUNT)
            return True

    def gauge(self, name: str, value: float) -> bool:
        with self._lock:
            if name not in self._gauges and len(self._counts) + len(self._gauges) >= self._max:
                return False
            self._gauges[name] = value
            return True

    def take(self) -> tuple[dict[str, int], dict[str, float]]:
        """The window's counts and gauges; the accumulator starts empty for the next one."""
        with self._lock:
            counts, gauges = self._counts, self._gauges
            self._counts, self._gauges = {}, {}
            return counts, gauges


def next_boundary(ms: int, interval_ms: int) -> int:
    """The first multiple of ``interval_ms`` strictly after ``ms``."""
    return (ms // interval_ms + 1) * interval_ms


def is_minute_window(t0_ms: int, t1_ms: int, every_ms: int = 60_000) -> bool:
    """True for the window in which a multiple of ``every_ms`` ends (t0 < k*every <= t1)."""
    return t1_ms // every_ms != t0_ms // every_ms


class WindowClock:
    """Which spans close when time reaches ``now``.

    The first window runs from start to the next aligned boundary; after that windows are exactly
    aligned.  When time jumps over whole windows (suspend, a stalled process) the window in progress
    closes at its own end and one long empty gap window (split at 24 h) covers the jump, so the
    collector sees that nothing was counted rather than hundreds of empty windows.  A clock that goes
    backwards just delays the close."""

    def __init__(self, interval_s: int, start_ms: int):
        self.interval_ms = interval_s * 1000
        self.t0 = start_ms
        self.t1 = next_boundary(start_ms, self.interval_ms)

    def due(self, now_ms: int) -> list[tuple[int, int, bool]]:
        """Closed spans as (t0, t1, is_gap), oldest first; the first one carries the counts."""
        spans: list[tuple[int, int, bool]] = []
        if now_ms < self.t1:
            return spans
        spans.append((self.t0, self.t1, False))
        aligned = now_ms // self.interval_ms * self.interval_ms
        start = self.t1
        if aligned - start >= self.interval_ms:
            # a jump over whole windows: one gap window (24 h at most each)
            while start < aligned:
                end = min(aligned, start + MAX_SPAN_MS)
                spans.append((start, end, True))
                start = end
        else:
            aligned = self.t1
        self.t0 = aligned
        self.t1 = aligned + self.interval_ms
        return spans

    def cut(self, now_ms: int) -> tuple[int, int] | None:
        """Close the window in progress early (clean shutdown); None when it would be empty in time."""
        if now_ms <= self.t0:
            return None
        span = (self.t0, min(now_ms, self.t1))
        self.t0 = span[1]
        return span
