"""Simulated time: the live part of a scenario runs ``speed`` times faster than the wall clock.

Everything the simulator and its agents stamp on a window comes from here, so ``--speed 60`` turns
an hour of a fleet's life into a minute of a test."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class SimClock:
    def __init__(self, start_ms: int, speed: float = 1.0, monotonic: Callable[[], float] = time.monotonic):
        if speed <= 0:
            raise ValueError("speed must be greater than 0")
        self.start_ms = start_ms
        self.speed = speed
        self._monotonic = monotonic
        self._m0 = monotonic()

    def now_ms(self) -> int:
        return self.start_ms + int((self._monotonic() - self._m0) * 1000 * self.speed)

    def now(self) -> float:
        """Seconds since the epoch, like ``time.time()``."""
        return self.now_ms() / 1000

    def real_seconds_until(self, sim_ms: int) -> float:
        return max(0.0, (sim_ms - self.now_ms()) / 1000 / self.speed)

    def sleep_until(self, sim_ms: int, stop: threading.Event | None = None, max_real_s: float = 1.0) -> bool:
        """Sleep (at most ``max_real_s`` real seconds); True when ``sim_ms`` has been reached."""
        wait = min(self.real_seconds_until(sim_ms), max_real_s)
        if wait > 0:
            if stop is not None:
                stop.wait(wait)
            else:
                time.sleep(wait)
        return self.now_ms() >= sim_ms


class SkewedClock:
    """A robot whose own clock is off: its windows and ``sent`` are stamped with its clock."""

    def __init__(self, base: SimClock, offset_ms: Callable[[int], int]):
        self.base = base
        self.offset_ms = offset_ms

    def now_ms(self) -> int:
        t = self.base.now_ms()
        return t + self.offset_ms(t)

    def now(self) -> float:
        return self.now_ms() / 1000
