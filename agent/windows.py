"""Windows: counts accumulate for the window in progress, which closes on wall-clock multiples of
``interval_s``.  Pure logic with the time passed in, so tests and the simulator drive the clock."""

from __future__ import annotations

import threading

from protocol.codec import MAX_COUNT, MAX_METRICS, MAX_SPAN_MS

#: room left in a window for the agent's own metrics and the samplers' gauges
MAX_SOURCE_METRICS = MAX_METRICS - 32


#: suffixes of the per-window summary of a StatsD timer, histogram or distribution (docs/protocol.md)
SUMMARY_COUNT, SUMMARY_SUM, SUMMARY_MAX = ".count", ".sum", ".max"
#: distinct values one StatsD set keeps per window (memory stays bounded under a flood)
MAX_SET_MEMBERS = 10_000


class Accumulator:
    """Thread-safe counts, gauges, summaries and sets of the window in progress (StatsD writes
    from its thread).  A summary (timer, histogram, distribution) takes three of the window's
    metric slots, since it goes out as ``<name>.count``, ``<name>.sum`` and gauge ``<name>.max``."""

    def __init__(self, max_metrics: int = MAX_SOURCE_METRICS):
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._gauges: dict[str, float] = {}
        self._summaries: dict[str, list[float]] = {}  # name -> [count, sum, max]
        self._sets: dict[str, set[str]] = {}
        self._max = max_metrics

    def _used(self) -> int:
        return len(self._counts) + len(self._gauges) + 3 * len(self._summaries) + len(self._sets)

    def add(self, name: str, n: int = 1) -> bool:
        """Add ``n`` to a counter; False (nothing added) when the window is out of metric slots."""
        with self._lock:
            if name not in self._counts and self._used() >= self._max:
                return False
            self._counts[name] = min(self._counts.get(name, 0) + n, MAX_COUNT)
            return True

    def gauge(self, name: str, value: float) -> bool:
        with self._lock:
            if name not in self._gauges and self._used() >= self._max:
                return False
            self._gauges[name] = value
            return True

    def observe(self, name: str, value: float, weight: float = 1.0) -> bool:
        """One sample of a timer/histogram/distribution (``weight`` = 1/sample rate)."""
        with self._lock:
            summary = self._summaries.get(name)
            if summary is None:
                if self._used() + 3 > self._max:
                    return False
                self._summaries[name] = [weight, value * weight, value]
                return True
            summary[0] += weight
            summary[1] += value * weight
            summary[2] = max(summary[2], value)
            return True

    def set_add(self, name: str, member: str) -> bool:
        """A value seen by a StatsD set; the window counts the distinct ones."""
        with self._lock:
            members = self._sets.get(name)
            if members is None:
                if self._used() >= self._max:
                    return False
                members = self._sets[name] = set()
            if member not in members and len(members) >= MAX_SET_MEMBERS:
                return False
            members.add(member)
            return True

    def take(self) -> tuple[dict[str, int], dict[str, float]]:
        """The window's counts and gauges (summaries and sets expanded into them); the accumulator
        starts empty for the next one."""
        with self._lock:
            counts, gauges = self._counts, self._gauges
            summaries, sets = self._summaries, self._sets
            self._counts, self._gauges, self._summaries, self._sets = {}, {}, {}, {}
        for name, (n, total, peak) in summaries.items():
            for key, value in ((name + SUMMARY_COUNT, n), (name + SUMMARY_SUM, total)):
                counts[key] = min(counts.get(key, 0) + round(value), MAX_COUNT)
            gauges[name + SUMMARY_MAX] = peak
        for name, members in sets.items():
            counts[name] = min(counts.get(name, 0) + len(members), MAX_COUNT)
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
    closes at its own end and one long empty gap window covers the jump, so the collector sees that
    nothing was counted rather than hundreds of empty windows.  A jump of more than a day is a clock
    step (a robot booted with a wrong RTC, then NTP set it): no gap window, windows restart aligned at
    the new time.  A step backwards by more than a window re-anchors the window in progress at the
    new time, keeping its counts; a smaller one just delays the close.  ``steps`` counts both."""

    def __init__(self, interval_s: int, start_ms: int):
        self.interval_ms = interval_s * 1000
        self.t0 = start_ms
        self.t1 = next_boundary(start_ms, self.interval_ms)
        self.steps = 0

    def due(self, now_ms: int) -> list[tuple[int, int, bool]]:
        """Closed spans as (t0, t1, is_gap), oldest first; the first one carries the counts."""
        if now_ms < self.t0 - self.interval_ms:
            self.steps += 1
            self.t0, self.t1 = now_ms, next_boundary(now_ms, self.interval_ms)
            return []
        if now_ms < self.t1:
            return []
        spans: list[tuple[int, int, bool]] = [(self.t0, self.t1, False)]
        aligned = now_ms // self.interval_ms * self.interval_ms
        if aligned - self.t1 > MAX_SPAN_MS:
            self.steps += 1
        elif aligned - self.t1 >= self.interval_ms:
            spans.append((self.t1, aligned, True))
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
