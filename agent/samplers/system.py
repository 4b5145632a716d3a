"""System gauges from psutil: CPU, memory, disk, temperature and battery where present, uptime.

Gauges go out as integers in their unit: the precision is plenty and msgpack packs a small int in one
to three bytes instead of nine for a float (robots often sit on paid 4G).  For the same reason the
gauges are sampled once a minute, in the window that crosses the minute boundary (and in the first
window); ``sys.cpu_pct`` is then the average over that minute, which says more than a 10 s spot."""

from __future__ import annotations

from agent.samplers import Sample
from agent.windows import is_minute_window


class SystemSampler:
    name = "system"

    def __init__(self, path: str = "/", ps=None, clock_s=None, slow_every_ms: int = 60_000):
        if ps is None:
            import psutil as ps
        import time

        self.ps = ps
        self.path = path
        self.clock_s = clock_s or time.time
        self.slow_every_ms = slow_every_ms
        self._first = True
        self.ps.cpu_percent(interval=None)  # primes the CPU counter: the first sample is the window's

    def sample(self, t0_ms: int, t1_ms: int) -> Sample:
        ps = self.ps
        if not is_minute_window(t0_ms, t1_ms, self.slow_every_ms) and not self._first:
            return Sample()
        self._first = False
        g: dict[str, float] = {
            "sys.cpu_pct": round(ps.cpu_percent(interval=None)),
            "sys.mem_pct": round(ps.virtual_memory().percent),
            "sys.disk_pct": round(ps.disk_usage(self.path).percent),
            "sys.uptime_s": max(0, int(self.clock_s() - ps.boot_time())),
        }
        temps = getattr(ps, "sensors_temperatures", None)
        if temps is not None:
            readings = [t.current for sensors in (temps() or {}).values() for t in sensors
                        if t.current is not None and -50 < t.current < 200]
            if readings:
                g["sys.temp_c"] = round(max(readings))
        battery_fn = getattr(ps, "sensors_battery", None)
        battery = battery_fn() if battery_fn is not None else None
        if battery is not None and battery.percent is not None:
            g["power.battery_pct"] = round(battery.percent)
        return Sample({}, g)
