"""Must-show 4: notifications (resolved ones too) reach a real aiohttp webhook receiver that was
down for a while and a collector that restarted meanwhile: every one arrives, identified by its
idempotency key, none lost."""

import asyncio
import json
import socket

from aiohttp import web

from collector.alerts.notify import Notifier, backoff_ms
from collector.alerts.notify_settings import parse as parse_notify
from collector.app import wall_clock_ms
from collector.store import open_store
from collector.store.sqlite import seed
from tests.plugins.health import T, evaluate, make_settings

MIN = 60_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_for(predicate, timeout=30.0, what="condition"):
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def queue_alerts(store, fleet, settings):
    """Three robots at three sites go offline, then come back: 3 firing + 3 resolved notifications."""
    robots = [fleet(f"c{i}", 1, site=f"s{i}")[0] for i in range(3)]
    for rid in robots:
        seed.write_window(store, rid, T - MIN, T, {"usage.interactions": 1})
        seed.set_state(store, rid, "offline", "lost", T)
    evaluate(store, T + 10 * MIN, settings)
    for rid in robots:
        seed.write_window(store, rid, T + 19 * MIN, T + 25 * MIN, {"usage.interactions": 1})
        seed.set_state(store, rid, "online", None, T + 20 * MIN)
    evaluate(store, T + 20 * MIN, settings)
    evaluate(store, T + 25 * MIN, settings)


class Running:
    """The collector's notifier on its own store parts, as the service starts it."""

    def __init__(self, settings, db_path):
        self.store = open_store(db_path)
        self.notifier = Notifier(self.store.outbox, settings.notify, wall_clock_ms)
        self.notifier.start()

    async def close(self):
        await self.notifier.stop()
        self.store.close()


async def start_collector(settings, db_path):
    return Running(settings, str(db_path))


async def test_notify_receiver_down_then_up_gets_everything(store, store_url, fleet):
    port = free_port()
    notify = {"webhooks": [{"name": "cs", "url": f"http://127.0.0.1:{port}/hook"}],
              "poll_s": 0.05, "backoff_initial_s": 0.05, "backoff_max_s": 0.3, "timeout_s": 5.0,
              "max_age_s": 0}  # queued at event time T, long before the wall clock: never expire
    settings = make_settings(notify=notify)
    queue_alerts(store, fleet, settings)
    queued = {r[0]: json.loads(r[1]) for r in store.execute("SELECT idempotency_key, payload FROM notifications")}
    assert sorted(p["event"] for p in queued.values()) == ["firing"] * 3 + ["resolved"] * 3

    def attempts():
        # the webhook's queue waits on its first row: only that one is attempted while it fails
        return store.execute("SELECT max(attempts) FROM notifications").fetchone()[0]

    collector = await start_collector(settings, store_url)
    await wait_for(lambda: attempts() >= 1, what="failed attempts while the receiver is down")
    await collector.close()  # the collector restarts while the receiver is still down
    assert store.execute("SELECT count(*) FROM notifications WHERE delivered_ms IS NULL").fetchone()[0] == 6
    assert store.execute("SELECT last_error FROM notifications ORDER BY id LIMIT 1").fetchone()[0]

    received: list[tuple[str, dict]] = []
    calls = 0

    async def hook(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        if calls == 1:  # up, but the first answer is an error: retried too
            return web.Response(status=503)
        received.append((request.headers["Idempotency-Key"], await request.json()))
        return web.Response(status=204)

    receiver_app = web.Application()
    receiver_app.router.add_post("/hook", hook)
    runner = web.AppRunner(receiver_app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    collector = await start_collector(settings, store_url)
    try:
        await wait_for(lambda: store.execute("SELECT count(*) FROM notifications WHERE delivered_ms IS NULL")
                       .fetchone()[0] == 0, what="every notification delivered")
    finally:
        await collector.close()
        await runner.cleanup()
    keys = {key for key, _ in received}
    assert keys == set(queued)                               # every one, none lost
    assert all(body["idempotency_key"] == key for key, body in received)
    assert all(body == queued[key] for key, body in received)
    resolved = [body for _, body in received if body["event"] == "resolved"]
    assert len(resolved) == 3 and all(b["text"].startswith("[WARNING] RESOLVED robot_offline") for b in resolved)


def test_notify_backoff_doubles_up_to_the_maximum():
    cfg = parse_notify({"backoff_initial_s": 5.0, "backoff_max_s": 60.0})
    assert [backoff_ms(n, cfg) for n in (1, 2, 3, 4, 5, 6)] == [5000, 10000, 20000, 40000, 60000, 60000]
