"""Back-fill: weeks of history in long windows (1 h by default) before the fleet goes live, so
trends, peers and onboarding have something to work on from the first minute.

The windows go through the agent's own ``record_window`` into each robot's outbox (so they get
seq numbers in the same stream as the live windows that follow) and the publisher drains them in
500-window batches once the robot connects."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from protocol.logs import get_logger

log = get_logger("simulator.backfill")


def spans(start_ms: int, end_ms: int, window_ms: int) -> Iterator[tuple[int, int]]:
    """[start, end) cut on multiples of ``window_ms``; the first and last piece may be shorter."""
    t = start_ms
    while t < end_ms:
        nxt = min(end_ms, (t // window_ms + 1) * window_ms)
        yield t, nxt
        t = nxt


def history_start(live_start_ms: int, days: float, onboarded_ms: int) -> int:
    return max(live_start_ms - int(days * 86_400_000), onboarded_ms)


def plan(start_ms: int, live_start_ms: int, window_s: int, recent_s: int, recent_window_s: int):
    """The history's windows: long ones, then the last ``recent_s`` in short ones (so the health's
    1-hour views are full from the first minute live)."""
    cut = max(start_ms, live_start_ms - recent_s * 1000)
    yield from spans(start_ms, cut, window_s * 1000)
    yield from spans(cut, live_start_ms, recent_window_s * 1000)


def run(robots: Iterable, live_start_ms: int, days: float, window_s: int, recent_s: int = 3600,
        recent_window_s: int = 60) -> int:
    """Record history for every robot up to ``live_start_ms``; returns the windows stored."""
    stored = 0
    if days <= 0:
        return 0
    for sim_robot in robots:
        start = history_start(live_start_ms, days, sim_robot.customer.onboarded_ms)
        for t0, t1 in plan(start, live_start_ms, window_s, recent_s, recent_window_s):
            stored += sim_robot.backfill_window(t0, t1)
    log.info("backfill_recorded", windows=stored, days=days, window_s=window_s)
    return stored
