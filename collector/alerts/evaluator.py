"""The evaluation cycle (health, then the alert rules) and the loop that runs it every ``health.interval_s``.

Why here and not in health: alerts read health (alerts -> health -> store), never the reverse, so
the step that runs both lives above both.  One cycle's health rows and the alert transitions they
cause are written in one transaction of the store's ``health`` and ``alerts`` parts (they share
the evaluator's write connection).  The cycle's work is blocking SQLite and Python, so the loop
runs it in a worker thread; a failed cycle is logged and counted, and the next one runs on time.
The loop imports nothing from the web layer: the service module starts and stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any, Protocol

from collector.alerts import engine
from collector.alerts.background import Background
from collector.alerts.notify_settings import defaults as notify_defaults
from collector.alerts.settings import defaults as alert_defaults
from collector.health import cycle
from collector.health.memory import HealthMemory
from collector.health.settings import defaults as health_defaults
from collector.metrics import REGISTRY
from collector.store.seam import AlertStore, HealthStore
from protocol.config import Values
from protocol.logs import FailureLog, get_logger
from protocol.timeunits import DAY_MS

log = get_logger("health")
CYCLES = REGISTRY.counter("robopulse_health_cycles_total", "health and alert evaluation cycles run")
CYCLE_SECONDS = REGISTRY.gauge("robopulse_health_cycle_seconds", "duration of the last evaluation cycle")
FAILURES = REGISTRY.counter("robopulse_health_cycle_failures_total", "evaluation cycles that raised")


class EvaluatorStore(Protocol):
    """The parts a cycle uses (a ``Store`` will do): ``health`` and ``alerts`` on one connection."""

    health: HealthStore
    alerts: AlertStore


def settings_of(config: Values) -> Values:
    """The parsed health, alerts and notify sections (defaults where the config has none)."""
    return Values(health=getattr(config, "health", None) or health_defaults(),
                  alerts=getattr(config, "alerts", None) or alert_defaults(),
                  notify=getattr(config, "notify", None) or notify_defaults())


def evaluate(store: EvaluatorStore, now_ms: int, settings: Values,
             memory: HealthMemory | None = None) -> dict[str, Any]:
    """One cycle at event time ``now_ms`` (see ``_evaluate``), with the cyclic GC paused."""
    with cycle.gc_paused():
        return _evaluate(store, now_ms, settings, memory)


def _evaluate(store: EvaluatorStore, now_ms: int, settings: Values,
              memory: HealthMemory | None = None) -> dict[str, Any]:
    """One cycle at event time ``now_ms``; ``settings`` holds the parsed ``health``, ``alerts`` and
    ``notify`` sections (the collector config will do).  ``memory``: a ``HealthMemory`` the caller
    keeps between cycles of the same store (saves re-reading what the last cycle wrote); the
    results do not depend on it.  Returns a small summary."""
    started = time.perf_counter()
    hs = settings.health
    ctx = cycle.compute(store.health, now_ms, hs, memory)
    t0 = time.perf_counter()
    with store.health.transaction():
        cycle.write(store.health, ctx, now_ms, memory, hs.detail_refresh_s * 1000)
        t1 = time.perf_counter()
        fired = engine.run(store.alerts, ctx, now_ms, settings.alerts, settings.notify)
        cycle.trim(store.health, now_ms, hs)
        store.alerts.trim_delivered(now_ms - settings.notify.keep_delivered_days * DAY_MS, 5000)
        t2 = time.perf_counter()
    ctx["timing"].update(health_write_s=t1 - t0, alerts_s=t2 - t1)
    seconds = time.perf_counter() - started
    CYCLES.inc()
    CYCLE_SECONDS.set(seconds)
    return {"robots": len(ctx["robots"]), "customers": len(ctx["customers"]), "firing": fired,
            "seconds": seconds, **{k: round(v, 3) for k, v in ctx["timing"].items()}}


class Evaluator(Background):
    """The periodic evaluation: ``Evaluator(store, settings, clock)``; ``start()`` inside a running
    event loop, ``await stop()`` to end it (a cycle in its worker thread finishes first).

    ``store``: a ``Store`` (its ``health`` and ``alerts`` parts); ``settings``: ``settings_of(config)``;
    ``clock``: event time in ms (the wall clock in production, a fixed one in tests)."""

    task_name = "health"

    def __init__(self, store: EvaluatorStore, settings: Values, clock: Callable[[], int]):
        self.store = store
        self.settings = settings
        self.clock = clock
        self.memory = HealthMemory()
        super().__init__()
        self._cycle: asyncio.Future | None = None
        self._failures = FailureLog(log, "health_cycle_failed", every_s=600.0)  # a full disk: once, not per cycle

    async def run_once(self) -> dict[str, Any] | None:
        """One cycle in a worker thread; None when it failed (logged and counted, memory dropped)."""
        try:
            self._cycle = asyncio.ensure_future(
                asyncio.to_thread(evaluate, self.store, self.clock(), self.settings, self.memory))
            summary = await asyncio.shield(self._cycle)  # stop() waits for the thread, not just this task
        except Exception as exc:  # keep evaluating: the next cycle may well succeed
            self.memory = HealthMemory()  # the write may have been rolled back
            FAILURES.inc()
            self._failures.failed(repr(exc)[:300])
            return None
        self._failures.recovered("health_cycle_recovered")
        log.debug("health_evaluated", **{k: v for k, v in summary.items() if k != "firing"})
        return summary

    async def run(self) -> None:
        """A cycle every ``health.interval_s`` (wall clock) until cancelled."""
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await self.run_once()
            await asyncio.sleep(max(0.0, self.settings.health.interval_s - (loop.time() - started)))

    async def stop(self) -> None:
        await super().stop()
        if self._cycle is not None and not self._cycle.done():
            with contextlib.suppress(Exception):  # a cycle still in its thread: let it finish
                await self._cycle
