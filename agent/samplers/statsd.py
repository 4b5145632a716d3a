"""StatsD over UDP (CONTRACT.md section 2): the robot's own software reports its counters here.

``name:value|c`` adds to a counter (``|@rate`` scales it up), ``name:value|g`` sets a gauge; several
lines per datagram.  Anything else is a bad line: counted in ``agent.statsd_bad_lines`` and dropped,
never fatal.  One small thread blocks on the socket."""

from __future__ import annotations

import math
import socket
import threading

from protocol.catalogue import is_valid_name
from protocol.codec import MAX_COUNT

BAD = "agent.statsd_bad_lines"


def parse_line(line: str) -> tuple[str, str, float] | None:
    """(name, 'c' | 'g', value) or None for a bad line.  Counter values are scaled by the rate."""
    name, sep, rest = line.partition(":")
    if not sep or not is_valid_name(name):
        return None
    parts = rest.split("|")
    if len(parts) not in (2, 3) or parts[1] not in ("c", "g"):
        return None
    try:
        value = float(parts[0])
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    rate = 1.0
    if len(parts) == 3:
        if not parts[2].startswith("@"):
            return None
        try:
            rate = float(parts[2][1:])
        except ValueError:
            return None
        if not 0 < rate <= 1:
            return None
    if parts[1] == "c":
        value = value / rate
        if value < 0 or value > MAX_COUNT:
            return None
    elif abs(value) > 1e15:
        return None
    return name, parts[1], value


class StatsdListener:
    """Receives datagrams on ``host:port`` and feeds the accumulator of the window in progress."""

    name = "statsd"

    def __init__(self, accumulator, listen: str, log=None):
        self.acc = accumulator
        host, _, port = listen.rpartition(":")
        family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind((host.strip("[]"), int(port)))
        self.address = self.sock.getsockname()
        self.lines_total = 0
        self.bad_lines_total = 0
        self.log = log
        self._thread: threading.Thread | None = None
        self._stopping = False

    def feed(self, data: bytes) -> None:
        """Handle one datagram (public so tests and the benchmark can call it directly)."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is None:
            self.bad_lines_total += 1
            self.acc.add(BAD, 1)
            return
        for line in text.splitlines():
            line = line.strip()
            if not line:
                continue
            self.lines_total += 1
            parsed = parse_line(line)
            ok = False
            if parsed is not None:
                name, kind, value = parsed
                ok = self.acc.add(name, round(value)) if kind == "c" else self.acc.gauge(name, value)
            if not ok:
                self.bad_lines_total += 1
                self.acc.add(BAD, 1)

    def _run(self) -> None:
        while not self._stopping:
            try:
                data = self.sock.recv(65535)
            except OSError:
                if self._stopping:
                    return
                continue
            self.feed(data)

    def start(self) -> "StatsdListener":
        self._thread = threading.Thread(target=self._run, name="statsd", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping = True
        try:
            # wake the blocking recv with an empty datagram, then close
            with socket.socket(self.sock.family, socket.SOCK_DGRAM) as s:
                s.sendto(b"", self.address)
        except OSError:
            pass
        if self._thread is not None:
            self._thread.join(2)
        self.sock.close()
