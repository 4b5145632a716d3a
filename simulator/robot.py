"""One simulated robot: the real agent pipeline (``AgentCore`` windows and outbox, ``Publisher``)
fed by the model instead of StatsD, on the simulated clock, with its own MQTT connection.

The simulator only decides *what* the robot counted and *when* it is switched off or loses its
network; everything the agent promises (aligned windows, seq, outbox, PUBACK, backoff, birth and
last will) is the agent's own code.  Not thread-safe: one fleet worker owns a robot.
"""

from __future__ import annotations

import socket
from pathlib import Path

from agent.config import build_config
from agent.core import AgentCore
from agent.outbox import Outbox
from agent.publisher import Publisher
from protocol.logs import get_logger
from simulator import model
from simulator.clock import SimClock, SkewedClock
from simulator.ledger import Ledger
from simulator.scenario import Customer, Robot, Scenario

log = get_logger("simulator.robot")


class SimRobot:
    def __init__(self, scn: Scenario, customer: Customer, robot: Robot, clock: SimClock, ledger: Ledger,
                 state_dir: Path, host: str, port: int, max_windows: int, keepalive_s: int = 30):
        self.scn, self.customer, self.robot, self.ledger = scn, customer, robot, ledger
        self.faults = scn.faults_for(robot)
        self.true_clock = clock
        skewed = any(f.kind == "clock_skew" for f in self.faults)
        self.clock = (SkewedClock(clock, lambda t: model.clock_offset_ms(self.faults, t)) if skewed else clock)
        self.config = build_config({
            "agent": {"robot_id": robot.id, "customer_id": robot.customer, "site_id": robot.site,
                      "scene": robot.scene, "interval_s": scn.interval_s,
                      "publish_interval_s": max(1, round(scn.publish_interval_s)),
                      "state_dir": str(state_dir / robot.id)},
            "mqtt": {"host": host, "port": port, "topic_prefix": scn.topic_prefix, "keepalive_s": keepalive_s},
            "buffer": {"max_windows": max_windows},
            "ingest": {"statsd": ""},
        })
        ledger.add_robot(robot.id, robot.customer, robot.site)
        #: faults that began before the live start: the robot boots into them (it is in the history)
        self.history_faults = tuple(f for f in self.faults if f.start_ms < scn.live_start_ms)
        #: True once the robot has gone live: connected and delivered the windows it held at boot
        self.live = False
        self._boot_upto = 0  # the last seq stored before the first boot (history and catch-up)
        self.core: AgentCore | None = None
        self.outbox: Outbox | None = None
        self.publisher: Publisher | None = None
        self.network_down = False
        self.powered = False

    # ------------------------------------------------------------------ time helpers

    def _ms(self) -> int:
        return self.clock.now_ms() if isinstance(self.clock, SkewedClock) else self.true_clock.now_ms()

    def _true(self, robot_ms: int) -> int:
        """Robot-clock time -> true time (the model works in true time)."""
        return robot_ms - model.clock_offset_ms(self.faults, self.true_clock.now_ms())

    def _record(self, window) -> None:
        self.ledger.record(self.robot.id, window.t0, window.t1, window.c)

    def _held(self, window) -> None:
        """A history or catch-up window: the robot goes live once it has delivered these."""
        self._record(window)
        self._boot_upto = max(self._boot_upto, window.seq)

    def faults_in_force(self) -> tuple:
        """The faults that may switch the robot off or cut its network now.

        A fault that starts after the live start is a *live* fault ("a power cut once live"): the
        robot was on at the live start, so it must be seen live (connected, its birth and its
        history delivered) before such a fault hits it.  The live start is when the command began,
        and the back-fill takes 1 s on a quiet machine but 10 s on a loaded one: without this a
        ``+4s`` power cut or network loss would, on a slow machine, take the robot down before it
        ever connected, so the collector would never hear of it (no last will, no robot, no
        alert) and the same scenario would tell a different story on a slower machine.  Until the
        robot has gone live only the faults that began in the history apply; a live fault whose
        time has come then applies at once."""
        return self.faults if self.live else self.history_faults

    def _note_live(self) -> None:
        """Gone live: connected, a batch acknowledged (so the birth, sent first on the connection,
        reached the broker) and no window from before the first boot left in the outbox."""
        if self.live or self.publisher is None or not self.publisher.connected or not self.publisher.windows_total:
            return
        oldest = self.outbox.peek(0, 1)
        if not oldest or oldest[0].seq > self._boot_upto:
            self.live = True

    # ------------------------------------------------------------------ back-fill

    def backfill_window(self, t0: int, t1: int) -> bool:
        """Store one long history window [t0, t1) (true time); False when the robot was off then."""
        counts = model.window_counts(self.scn, self.customer, self.robot, self.faults, t0, t1)
        if counts is None:
            return False
        shift = model.clock_offset_ms(self.faults, t0)
        gauges = model.window_gauges(self.scn, self.customer, self.robot, t0, t1)
        if self.core is None:
            self._boot()
        self._held(self.core.record_window(t0 + shift, t1 + shift, counts, gauges))
        return True

    def catch_up(self, from_ms: int, interval_ms: int) -> None:
        """After booting: cover [from_ms, the start of the first live window) with windows of the
        live interval, so the time the back-fill took is not a hole in the robot's history."""
        from simulator.backfill import spans

        for t0, t1 in spans(from_ms, self._true(self.core.windows.t0), interval_ms):
            counts = model.window_counts(self.scn, self.customer, self.robot, self.faults, t0, t1)
            if counts is not None:
                shift = model.clock_offset_ms(self.faults, t0)
                self._held(self.core.record_window(t0 + shift, t1 + shift, counts))

    def cut(self) -> None:
        """Close the window in progress now (the run ends); its counts are kept."""
        if self.powered:
            window = self.core.cut()
            if window is not None:
                self._record(window)

    # ------------------------------------------------------------------ live

    def _boot(self) -> None:
        """A fresh agent process: it opens the outbox in its state dir (stream and seq go on).
        synchronous=OFF: a thousand robots share one disk, and a crash of the simulator is not a
        robot's power cut (the ledger is only written after a clean stop)."""
        if self.core is not None:
            self.core.close()
        self.core = AgentCore(self.config, clock=self._ms, synchronous="OFF")
        self.outbox = self.core.outbox

    def power_on(self) -> None:
        self._boot()
        self.publisher = Publisher(self.config, self.outbox, clock=self._ms)
        self.powered = True

    def power_off(self, clean: bool) -> None:
        """Clean: the window in progress is cut and stored, offline/shutdown published.  A power cut:
        the window in progress is lost and the broker publishes the last will (offline/lost)."""
        if not self.powered:
            return
        if clean:
            window = self.core.cut()
            if window is not None:
                self._record(window)
            self.publisher.stop(timeout_s=2.0)
        else:
            self._sever()
        self.publisher = None
        self.core.close()
        self.core = None
        self.powered = False

    def _sever(self) -> None:
        """Drop the TCP connection without DISCONNECT, as a dead Wi-Fi or a pulled plug does."""
        client = self.publisher.client if self.publisher else None
        sock = client.socket() if client is not None else None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def set_network(self, up: bool) -> None:
        if self.powered and not up and not self.network_down:
            self._sever()
        self.network_down = not up

    def step(self, now_true_ms: int) -> None:
        """Apply the fault timeline, close due windows with the model's counts, move MQTT bytes."""
        self._note_live()
        faults = self.faults_in_force()
        off = model.switched_off(self.scn, self.customer, faults, now_true_ms)
        if off and self.powered:  # a fault's clean shutdown, else a power cut (closing time too)
            clean = any(f.clean for f in faults if f.kind == "powered_off" and f.active(now_true_ms))
            self.power_off(clean)
        elif not off and not self.powered:
            self.power_on()
        if not self.powered:
            return
        down = any(f.kind == "site_network_down" and f.active(now_true_ms) for f in faults)
        if down != self.network_down:
            self.set_network(not down)
        self.close_due(self._ms())
        if not self.network_down:
            self.publisher.poll(0)

    def close_due(self, now_ms: int) -> None:
        core = self.core
        if now_ms < core.windows.t1:
            return
        t0, t1 = core.windows.t0, core.windows.t1
        counts = model.window_counts(self.scn, self.customer, self.robot, self.faults,
                                     self._true(t0), self._true(t1)) or {}
        for metric, n in counts.items():
            core.add(metric, n)
        for metric, value in model.window_gauges(self.scn, self.customer, self.robot, t0, t1).items():
            core.gauge(metric, value)
        for window in core.tick(now_ms):
            self._record(window)

    def stop(self, timeout_s: float = 2.0) -> int:
        """Clean end of the run (the fleet has cut the window in progress and drained the outbox):
        say offline/shutdown and disconnect.  Returns the windows left undelivered."""
        if self.powered and not self.network_down:
            self.publisher.stop(timeout_s=timeout_s)
        self.powered = False
        left = len(self.outbox) if self.outbox is not None else 0
        if self.core is not None:
            self.core.close()
            self.core = None
        return left
