"""The loop part: inside the app, the cycle runs on its own at the app's clock and writes health."""

import asyncio

from aiohttp.test_utils import TestServer

from collector.health import loop
from collector.health.loop import settings_of
from collector.http.app import create_app
from collector.store import open_store
from collector.metrics import REGISTRY
from tests.plugins.health import HOUR, T, history, make_settings


async def test_health_loop_evaluates_periodically(store, fleet, tmp_path):
    (rid,) = fleet("c1", 1)
    history(store, rid, T - HOUR, 1, {"asr.requests": 100, "asr.unrecognized": 50})
    settings = make_settings(health={"interval_s": 1})
    config = {"collector": {"db": str(tmp_path / "store.db")}, "http": {"tokens": []}, **settings}
    before = REGISTRY.counter("robopulse_health_cycles_total", "").value()
    server = TestServer(create_app(config, open_store(config["collector"]["db"]), clock=lambda: T + 60_000,
                                   background=(loop.setup,)),
                        host="127.0.0.1")
    await server.start_server()
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while REGISTRY.counter("robopulse_health_cycles_total", "").value() < before + 2:
            assert asyncio.get_running_loop().time() < deadline, "the loop did not run twice"
            await asyncio.sleep(0.05)
    finally:
        await server.close()
    row = store.execute("SELECT computed_ms, worst FROM robot_health WHERE robot=?", (rid,)).fetchone()
    assert row == (T + 60_000, "asr")
    assert store.execute("SELECT color FROM customer_health WHERE customer='c1'").fetchone() is not None


def test_health_loop_settings_default_when_config_has_none():
    settings = settings_of({})
    assert settings["health"]["interval_s"] == 60 and settings["notify"]["webhooks"] == []
