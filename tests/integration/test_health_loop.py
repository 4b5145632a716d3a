"""The evaluator: started as the service starts it, the cycle runs on its own at its clock and writes health."""

import pytest
import asyncio

from collector.alerts.evaluator import Evaluator, settings_of
from collector.metrics import REGISTRY
from collector.store import open_store
from protocol.config import Values
from tests.plugins.health import HOUR, T, history, make_settings

#: the HTTP reads and the health loop on PostgreSQL too in the default run (tests/plugins/store.py)
pytestmark = pytest.mark.both_backends


async def test_health_loop_evaluates_periodically(store, store_url, fleet):
    (rid,) = fleet("c1", 1)
    history(store, rid, T - HOUR, 1, {"asr.requests": 100, "asr.unrecognized": 50})
    settings = make_settings(health={"interval_s": 1})
    before = REGISTRY.counter("robopulse_health_cycles_total", "").value()
    parts = open_store(store_url)
    evaluator = Evaluator(parts, settings, lambda: T + 60_000)
    evaluator.start()
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while REGISTRY.counter("robopulse_health_cycles_total", "").value() < before + 2:
            assert asyncio.get_running_loop().time() < deadline, "the loop did not run twice"
            await asyncio.sleep(0.05)
    finally:
        await evaluator.stop()
        parts.close()
    row = store.execute("SELECT computed_ms, worst FROM robot_health WHERE robot=?", (rid,)).fetchone()
    assert row == (T + 60_000, "asr")
    assert store.execute("SELECT color FROM customer_health WHERE customer='c1'").fetchone() is not None


def test_health_loop_settings_default_when_config_has_none():
    settings = settings_of(Values())
    assert settings.health.interval_s == 60 and settings.notify.webhooks == ()  # frozen: a tuple
