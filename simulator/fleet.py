"""The fleet: many simulated robots in ONE process, each with its own MQTT connection.

A few worker threads own a shard of robots each and drive them in turn (close due windows with the
model's counts, then ``Publisher.poll(0)``), so a thousand robots need a handful of threads rather
than a thousand paho network threads; the agent's publisher was written to be driven this way.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from protocol.logs import get_logger
from simulator import backfill, model, netloop
from simulator.clock import SimClock
from simulator.ledger import Ledger
from simulator.robot import SimRobot
from simulator.scenario import Scenario

log = get_logger("simulator.fleet")


class Fleet:
    def __init__(self, scn: Scenario, state_dir: Path, host: str, port: int, speed: float = 1.0,
                 workers: int = 4, ledger: Ledger | None = None, keepalive_s: int = 30):
        netloop.install()  # select() stops at fd 1024; a big fleet has more (see simulator/netloop.py)
        self.scn = scn
        self.clock = SimClock(scn.live_start_ms, speed)
        self.ledger = ledger or Ledger(scn.name)
        state_dir = Path(state_dir)
        state_dir.mkdir(parents=True, exist_ok=True)
        history = (int(scn.backfill_days * 86400 / scn.backfill_window_s)
                   + scn.backfill_recent_s // scn.backfill_recent_window_s + 4)
        live_windows = 30 * 86400 // scn.interval_s
        self.robots = [SimRobot(scn, c, r, self.clock, self.ledger, state_dir, host, port,
                                max_windows=history + live_windows, keepalive_s=keepalive_s)
                       for c in scn.customers for r in c.robots]
        self.workers = max(1, min(workers, len(self.robots)))
        self.tick_s = min(0.25, max(0.02, scn.interval_s / speed / 5))
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.errors = 0
        self.steps = 0

    # ------------------------------------------------------------------ phases

    def backfill(self, days: float | None = None) -> int:
        days = self.scn.backfill_days if days is None else days
        return backfill.run(self.robots, self.scn.live_start_ms, days, self.scn.backfill_window_s,
                            self.scn.backfill_recent_s, self.scn.backfill_recent_window_s)

    def start(self) -> None:
        """Boot every robot that is not switched off, cover the time the back-fill took, go live.
        Switched off means by a fault that began in the history: a live fault's time may have come
        while the back-fill ran, but the robot was on at the live start and goes live first
        (``SimRobot.faults_in_force``)."""
        interval_ms = self.scn.interval_s * 1000
        for r in self.robots:
            now = self.clock.now_ms()
            if model.switched_off(self.scn, r.customer, r.faults_in_force(), now):
                continue
            r.power_on()
            r.catch_up(self.scn.live_start_ms, interval_ms)
        shards = [self.robots[i::self.workers] for i in range(self.workers)]
        for i, shard in enumerate(shards):
            t = threading.Thread(target=self._work, args=(shard,), name=f"sim-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        log.info("fleet_live", robots=len(self.robots), workers=self.workers, speed=self.clock.speed)

    def _work(self, shard: list[SimRobot]) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            now = self.clock.now_ms()
            for r in shard:
                try:
                    r.step(now)
                except Exception as exc:  # one robot's bug must not stop the fleet; it is counted
                    self.errors += 1
                    log.error("robot_step_failed", robot=r.robot.id, error=f"{type(exc).__name__}: {exc}")
            self.steps += 1
            self._stop.wait(max(0.0, self.tick_s - (time.monotonic() - began)))

    def run_for(self, sim_seconds: float | None, stop: threading.Event | None = None) -> None:
        """Block until ``sim_seconds`` of simulated time have passed since going live (None: until
        ``stop`` is set)."""
        end = None if sim_seconds is None else self.scn.live_start_ms + int(sim_seconds * 1000)
        stop = stop or threading.Event()
        while not stop.is_set():
            if end is not None and self.clock.sleep_until(end, stop, max_real_s=0.5):
                return
            if end is None:
                stop.wait(0.5)

    def stop(self, flush_timeout_s: float = 60.0) -> dict[str, int]:
        """Stop the workers, deliver every outbox (all robots at once), say offline; returns the
        windows left undelivered per robot (robots still off or cut off keep theirs)."""
        self._stop.set()
        for t in self._threads:
            t.join()
        for r in self.robots:
            r.cut()
        live = [r for r in self.robots if r.powered and not r.network_down]
        deadline = time.monotonic() + flush_timeout_s
        while time.monotonic() < deadline:
            busy = [r for r in live if len(r.outbox) > 0]
            if not busy:
                break
            for r in busy:
                r.publisher.poll(0, force=True)
            time.sleep(0.01)
        left = {}
        for r in self.robots:
            n = r.stop()
            if n:
                left[r.robot.id] = n
        log.info("fleet_stopped", undelivered=sum(left.values()), robots_with_backlog=len(left))
        return left
