"""Network: NIC error and drop deltas, and connectivity each window.

Connectivity comes from a TCP connect to ``[network] probe`` once per window when it is set, or
otherwise from the MQTT session itself (the publisher reports disconnects, offline time and the
PUBLISH->PUBACK round trip), which costs no extra bytes on paid 4G.  Either way the window gets
``net.disconnects`` (episodes that started), ``net.offline_s`` and gauge ``net.rtt_ms``."""

from __future__ import annotations

import socket
import time

from agent.samplers import Sample


class NetworkSampler:
    name = "network"

    def __init__(self, probe: str = "", link=None, ps=None, timeout_s: float = 2.0):
        if ps is None:
            import psutil as ps
        self.ps = ps
        self.link = link  # object with link_report() -> (disconnects, offline_ms, rtt_ms | None)
        self.probe = probe
        self.timeout_s = timeout_s
        self._last_errors = self._nic_errors()
        self._up: bool | None = None

    def _nic_errors(self) -> int:
        c = self.ps.net_io_counters()
        return int(c.errin + c.errout + c.dropin + c.dropout)

    def _probe(self, span_ms: int) -> tuple[int, int, float | None]:
        host, _, port = self.probe.rpartition(":")
        start = time.monotonic()
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=self.timeout_s):
                rtt = (time.monotonic() - start) * 1000
            up = True
        except OSError:
            rtt, up = None, False
        disconnects = 1 if (self._up is not False and not up and self._up is not None) else 0
        self._up = up
        return disconnects, 0 if up else span_ms, rtt

    def sample(self, t0_ms: int, t1_ms: int) -> Sample:
        errors = self._nic_errors()
        delta = max(0, errors - self._last_errors)  # counters reset when a NIC goes away
        self._last_errors = errors
        if self.probe:
            disconnects, offline_ms, rtt = self._probe(t1_ms - t0_ms)
        elif self.link is not None:
            disconnects, offline_ms, rtt = self.link.link_report()
        else:
            disconnects, offline_ms, rtt = 0, 0, None
        counts = {"net.errors": delta, "net.disconnects": disconnects,
                  "net.offline_s": round(offline_ms / 1000)}
        gauges = {"net.rtt_ms": round(rtt)} if rtt is not None else {}
        return Sample(counts, gauges)
