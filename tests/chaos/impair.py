"""A packet-level link impairment between two network namespaces, in user space.

Why not ``tc qdisc ... netem``: the kernels this suite runs on (CI's included) are built without
``CONFIG_NET_SCH_NETEM`` ("Specified qdisc kind is unknown"), so the suite routes the link through a
TUN device in the middle namespace and this program does netem's job on real IP packets:

- loss: each packet, in each direction, is dropped with probability ``--loss``;
- latency and reordering: each surviving packet is held an independent uniform delay in
  ``[--delay-min, --delay-max]`` seconds, so packets overtake one another (reordering);
- the link down ``--down`` seconds of every ``--period``: everything is dropped (the last ``--down``
  seconds of each period), as a venue's Wi-Fi that drops out.

Run inside the middle namespace: ``python -m tests.chaos.impair --dev TUN ...``.  On SIGTERM it
writes its counters as one JSON line to ``--stats`` and exits.
"""

from __future__ import annotations

import argparse
import fcntl
import heapq
import json
import os
import random
import select
import signal
import struct
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def open_tun(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


class Impairment:
    """The decisions, separate from the device: ``admit(now)`` -> None (drop) or the release time."""

    def __init__(self, loss: float, delay_min: float, delay_max: float, down_s: float, period_s: float,
                 t0: float, seed: int = 17):
        self.loss, self.delay_min, self.delay_max = loss, delay_min, delay_max
        self.down_s, self.period_s, self.t0 = down_s, period_s, t0
        self.rng = random.Random(seed)
        self.stats = {"packets": 0, "dropped_loss": 0, "dropped_down": 0, "forwarded": 0, "reordered": 0,
                      "down_periods": 0}
        self._last_release = 0.0
        self._was_down = False

    def link_down(self, now: float) -> bool:
        if self.down_s <= 0:
            return False
        return (now - self.t0) % self.period_s >= self.period_s - self.down_s

    def admit(self, now: float) -> float | None:
        self.stats["packets"] += 1
        down = self.link_down(now)
        if down and not self._was_down:
            self.stats["down_periods"] += 1
        self._was_down = down
        if down:
            self.stats["dropped_down"] += 1
            return None
        if self.rng.random() < self.loss:
            self.stats["dropped_loss"] += 1
            return None
        release = now + self.rng.uniform(self.delay_min, self.delay_max)
        if release < self._last_release:
            self.stats["reordered"] += 1  # overtakes a packet admitted before it
        self._last_release = max(self._last_release, release)
        self.stats["forwarded"] += 1
        return release


def run(fd: int, imp: Impairment, stop) -> None:
    queue: list[tuple[float, int, bytes]] = []
    n = 0
    while not stop():
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, packet = heapq.heappop(queue)
            try:
                os.write(fd, packet)
            except OSError:
                pass  # the kernel refused it (a full queue): a lost packet, as on a real link
        timeout = max(0.0, min(0.2, queue[0][0] - now)) if queue else 0.2
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            continue
        while True:
            try:
                packet = os.read(fd, 65535)
            except BlockingIOError:
                break
            release = imp.admit(time.monotonic())
            if release is not None:
                n += 1
                heapq.heappush(queue, (release, n, packet))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dev", required=True)
    p.add_argument("--loss", type=float, default=0.2)
    p.add_argument("--delay-min", type=float, default=0.15)
    p.add_argument("--delay-max", type=float, default=0.4)
    p.add_argument("--down", type=float, default=20.0)
    p.add_argument("--period", type=float, default=60.0)
    p.add_argument("--t0", type=float, default=None, help="time.monotonic() at which the first period starts")
    p.add_argument("--stats", required=True)
    args = p.parse_args(argv)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
    imp = Impairment(args.loss, args.delay_min, args.delay_max, args.down, args.period,
                     time.monotonic() if args.t0 is None else args.t0)
    fd = open_tun(args.dev)
    print("impair_ready", flush=True)
    try:
        run(fd, imp, lambda: bool(stopping))
    finally:
        with open(args.stats, "w") as f:
            f.write(json.dumps(imp.stats) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
