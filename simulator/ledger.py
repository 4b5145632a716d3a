"""The ledger: what every simulated robot handed to its agent, per metric, so a test can compare
it with what the collector stored.  Counts go in when a window enters the robot's outbox (the
agent's promise starts there), not when it is published."""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from pathlib import Path


class Ledger:
    def __init__(self, scenario: str = ""):
        self.scenario = scenario
        self._lock = threading.Lock()
        self._robots: dict[str, dict] = {}

    def add_robot(self, robot_id: str, customer: str, site: str) -> None:
        with self._lock:
            self._robots.setdefault(robot_id, {"customer": customer, "site": site, "windows": 0,
                                               "t0_min": None, "t1_max": None, "counters": Counter()})

    def record(self, robot_id: str, t0: int, t1: int, counts: dict[str, int]) -> None:
        with self._lock:
            entry = self._robots[robot_id]
            entry["windows"] += 1
            entry["t0_min"] = t0 if entry["t0_min"] is None else min(entry["t0_min"], t0)
            entry["t1_max"] = t1 if entry["t1_max"] is None else max(entry["t1_max"], t1)
            entry["counters"].update(counts)

    def totals(self, robot_id: str) -> dict[str, int]:
        with self._lock:
            return {k: v for k, v in self._robots[robot_id]["counters"].items() if v}

    def windows(self) -> int:
        with self._lock:
            return sum(r["windows"] for r in self._robots.values())

    def to_dict(self, extra: dict | None = None) -> dict:
        with self._lock:
            robots = {rid: {**{k: v for k, v in r.items() if k != "counters"},
                            "counters": dict(sorted((k, v) for k, v in r["counters"].items() if v))}
                      for rid, r in sorted(self._robots.items())}
        return {"scenario": self.scenario, "robots": robots, **(extra or {})}

    def write(self, path: str | os.PathLike, extra: dict | None = None) -> None:
        """Atomically (write then rename), so a reader never sees half a ledger."""
        p = Path(path)
        tmp = p.with_name(p.name + ".tmp")
        tmp.write_text(json.dumps(self.to_dict(extra), indent=1, sort_keys=False), encoding="utf-8")
        os.replace(tmp, p)


def read(path: str | os.PathLike) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))
