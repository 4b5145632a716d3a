"""The programmatic source: code in the same process (the simulator) adds counts directly."""

from __future__ import annotations

from protocol.catalogue import is_valid_name


class ProgrammaticSource:
    """``add``/``gauge`` into the window in progress; a bad name is the caller's bug (ValueError)."""

    name = "programmatic"

    def __init__(self, accumulator):
        self._acc = accumulator

    def add(self, metric: str, n: int = 1) -> None:
        if not is_valid_name(metric):
            raise ValueError(f"bad metric name {metric!r}")
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"count for {metric} must be an int >= 0, got {n!r}")
        if n:
            self._acc.add(metric, n)

    def gauge(self, metric: str, value: float) -> None:
        if not is_valid_name(metric):
            raise ValueError(f"bad metric name {metric!r}")
        self._acc.gauge(metric, value)
