"""Runs the evaluation cycle (health, then alerts) every ``health.interval_s`` inside the app.

The cycle's work is blocking SQLite and Python, so it runs in a worker thread with its own write
connection; a failed cycle is logged and counted, and the next one runs on time.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from collector.alerts.notify_settings import defaults as notify_defaults
from collector.alerts.settings import defaults as alert_defaults
from collector.health.cycle import evaluate
from collector.health.settings import defaults as health_defaults
from collector.http.app import run_while_serving
from collector.http.keys import CLOCK, CONFIG, DB_PATH
from collector.metrics import REGISTRY
from collector.store.sqlite.db import connect_writer
from protocol.logs import get_logger

__all__ = ["evaluate", "setup", "settings_of"]

log = get_logger("health")
FAILURES = REGISTRY.counter("robopulse_health_cycle_failures_total", "evaluation cycles that raised")


def settings_of(config: dict) -> dict:
    """The parsed health, alerts and notify sections (defaults where the config has none)."""
    return {"health": config.get("health") or health_defaults(),
            "alerts": config.get("alerts") or alert_defaults(),
            "notify": config.get("notify") or notify_defaults()}


async def run_forever(db_path: str, settings: dict, clock) -> None:
    conn = await asyncio.to_thread(connect_writer, db_path)
    memory: dict = {}
    try:
        while True:
            started = asyncio.get_running_loop().time()
            try:
                summary = await asyncio.to_thread(evaluate, conn, clock(), settings, memory)
                log.debug("health_evaluated", **{k: v for k, v in summary.items() if k != "firing"})
            except Exception as exc:  # keep evaluating: the next cycle may well succeed
                memory.clear()  # the write may have been rolled back
                FAILURES.inc()
                log.error("health_cycle_failed", error=repr(exc))
            elapsed = asyncio.get_running_loop().time() - started
            await asyncio.sleep(max(0.0, settings["health"]["interval_s"] - elapsed))
    finally:
        conn.close()


def setup(app: web.Application) -> None:
    run_while_serving(app, "health", lambda app: run_forever(app[DB_PATH], settings_of(app[CONFIG]), app[CLOCK]))
