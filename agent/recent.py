"""What the field engineer sees: the last hour's counts (per-minute buckets) and today's usage.

Kept in memory from the windows the core closes, because published rows leave the outbox."""

from __future__ import annotations

import time
from collections import Counter

from agent.windows import SUMMARY_COUNT, SUMMARY_MAX, SUMMARY_SUM
from protocol.timeunits import HOUR_MS

MINUTE_MS = 60_000


def local_date(ms: int) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(ms / 1000))


class Recent:
    def __init__(self):
        self._buckets: dict[int, Counter] = {}
        self._covered: dict[int, int] = {}
        self._maxes: dict[int, dict[str, float]] = {}  # per minute: the summaries' <name>.max gauges
        self.today_date: str | None = None
        self.today: Counter = Counter()

    def add(self, window) -> None:
        minute = window.t1 // MINUTE_MS
        self._buckets.setdefault(minute, Counter()).update(window.c)
        self._covered[minute] = self._covered.get(minute, 0) + (window.t1 - window.t0)
        maxes = self._maxes.setdefault(minute, {})
        for name, value in (window.g or {}).items():
            if name.endswith(SUMMARY_MAX):
                maxes[name] = max(maxes.get(name, value), value)
        for old in [m for m in self._buckets if m < minute - 61]:
            del self._buckets[old]
            self._covered.pop(old, None)
            self._maxes.pop(old, None)
        date = local_date(window.t1)
        if date != self.today_date:
            if self.today_date is not None and date < self.today_date:
                return  # a back-filled window from an earlier day
            self.today_date, self.today = date, Counter()
        self.today.update({k: v for k, v in window.c.items() if k.startswith(("usage.", "skill."))})

    def last_hour(self, now_ms: int) -> tuple[dict[str, int], int]:
        """Summed counts of windows that ended in the last hour, and the seconds they cover."""
        first = (now_ms - HOUR_MS) // MINUTE_MS + 1
        total: Counter = Counter()
        covered = 0
        for minute, counts in self._buckets.items():
            if minute >= first:
                total.update(counts)
                covered += self._covered.get(minute, 0)
        return dict(total), min(covered, HOUR_MS) // 1000

    def summaries(self, now_ms: int) -> list[dict]:
        """The last hour of each StatsD timer/histogram/distribution: ``name``, ``count``, ``sum``,
        ``max`` (from its ``<name>.count``/``.sum`` counters and ``.max`` gauges)."""
        first = (now_ms - HOUR_MS) // MINUTE_MS + 1
        counts, _ = self.last_hour(now_ms)
        maxes: dict[str, float] = {}
        for minute, got in self._maxes.items():
            if minute >= first:
                for name, value in got.items():
                    maxes[name] = max(maxes.get(name, value), value)
        out = []
        for key in sorted(counts):
            name = key[: -len(SUMMARY_COUNT)]
            if key.endswith(SUMMARY_COUNT) and name + SUMMARY_SUM in counts:
                out.append({"name": name, "count": counts[key], "sum": counts[name + SUMMARY_SUM],
                            "max": maxes.get(name + SUMMARY_MAX)})
        return out

    def usage_today(self, now_ms: int) -> dict[str, int]:
        return dict(self.today) if self.today_date == local_date(now_ms) else {}

    def restore_today(self, date: str | None, counts: dict[str, int]) -> None:
        """Carry today's usage over a restart (read back from the previous status file)."""
        if date and counts and self.today_date in (None, date):
            self.today_date = date
            self.today.update(counts)
