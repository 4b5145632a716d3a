"""One evaluator at a time (issue 16): the store's lease on PostgreSQL (one holder; a dead holder's
lease taken by a survivor at its next ask) and on SQLite (always held), and ``Leadership`` running
the webhook notifier of exactly one of two collectors sharing a PostgreSQL store: every
notification delivered once across a hand-over."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter

import psycopg
import pytest
from aiohttp import web

from collector.alerts import notify_settings
from collector.alerts.leader import LEADER, Leadership
from collector.alerts.notify import Notifier
from collector.store import open_lease, open_store
from collector.store.postgres.alerts import PgAlertStore
from collector.store.postgres.lease import PgLease
from collector.store.postgres.outbox import PgOutboxStore


def terminate_session(url: str, pid: int) -> None:
    """End one database session from the server's side (what a crashed collector's host amounts to)."""
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]


def test_lease_postgres_one_holder_until_its_session_ends(pg_url):
    open_store(pg_url).close()
    a, b = PgLease(pg_url), PgLease(pg_url)
    try:
        assert a.hold() is True
        assert b.hold() is False
        assert a.hold() is True and b.hold() is False  # asked again: still one holder, held once
        pid = a.holder_pid()
        assert pid is not None
        terminate_session(pg_url, pid)
        deadline = time.monotonic() + 5  # the server process ends a moment after it was told to
        while not b.hold():
            assert time.monotonic() < deadline, "the survivor never got the lease"
            time.sleep(0.05)
        assert a.hold() is False         # the old holder learns it lost it (reconnected, refused)
        b.release()
        assert a.hold() is True          # a clean stop hands it over at once
        assert b.hold() is False
    finally:
        a.close()
        b.close()
    assert PgLease(pg_url).holder_pid() is None  # closing gives it up


def test_lease_postgres_unreachable_database_is_not_held():
    lease = PgLease("postgresql://postgres@127.0.0.1:1/none", connect_timeout_s=1)
    assert lease.hold() is False
    lease.close()


def test_lease_sqlite_always_held(tmp_path):
    store = open_store(str(tmp_path / "store.db"))
    try:
        assert store.lease.hold() is True
        assert open_lease(str(tmp_path / "store.db")).hold() is True
    finally:
        store.close()


class Receiver:
    """A webhook receiver on loopback that counts each idempotency key it is sent."""

    def __init__(self):
        self.keys: Counter[str] = Counter()

    async def handle(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        assert request.headers["Idempotency-Key"] == body["key"]
        self.keys[body["key"]] += 1
        return web.Response(text="ok")


def queue(url: str, keys: list[str], target: str = "hook") -> None:
    alerts = PgAlertStore(url)
    try:
        with alerts.transaction():
            alerts.queue_notifications(0, 1, 1_000, [(k, target, json.dumps({"key": k})) for k in keys])
    finally:
        alerts.close()


async def wait_for(predicate, timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_leadership_postgres_one_notifier_and_every_webhook_once_across_a_handover(pg_url, aiohttp_server):
    """Two collectors' notifiers on one store, each under its own ``Leadership``: only the holder's
    delivers; when its lease's database session ends while it lives on (a network cut), it stops
    before its next POST and the other takes over after its grace; every queued notification
    arrives once."""
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    server = await aiohttp_server(app)
    settings = notify_settings.parse({"poll_s": 0.1, "webhooks": [{"name": "hook", "url": str(server.make_url("/hook"))}]})
    open_store(pg_url).close()
    sides = []
    for _ in range(2):
        lease, outbox = PgLease(pg_url), PgOutboxStore(pg_url)
        notifier = Notifier(outbox, settings, lambda: 2_000, allowed=lease.hold)
        sides.append((lease, outbox, notifier, Leadership(lease, (), 0.1, after_handover=(notifier,), grace_s=1.0)))
    try:
        sides[0][3].start()
        await wait_for(lambda: sides[0][3].running, 10, "the first collector to take the role")
        sides[1][3].start()
        first = [f"k{i:03d}" for i in range(40)]
        await asyncio.to_thread(queue, pg_url, first)
        await wait_for(lambda: set(receiver.keys) == set(first), 20, "the first notifications")
        assert not sides[1][3].running and sides[1][2]._task is None   # the other never delivered
        assert LEADER.value() == 1
        # the holder's host "dies": the server ends its session; the holder's next ask fails
        await asyncio.to_thread(terminate_session, pg_url, sides[0][0].holder_pid())
        second = [f"k{i:03d}" for i in range(40, 80)]
        await asyncio.to_thread(queue, pg_url, second)
        await wait_for(lambda: sides[1][3].running, 5, "the survivor to take the role")
        await wait_for(lambda: not sides[0][3].running, 5, "the old holder to stop")
        await wait_for(lambda: set(receiver.keys) == set(first + second), 20, "every notification")
        await asyncio.sleep(0.5)  # more rounds of both: nothing is sent again
        assert max(receiver.keys.values()) == 1
        assert len(receiver.keys) == 80
    finally:
        for lease, outbox, _notifier, leadership in sides:
            await leadership.stop()
            outbox.close()
            lease.close()


def test_outbox_postgres_orphans_dead_lettered_with_no_webhook_configured(pg_url):
    """The notifier's housekeeping with no webhook left (``NOT IN ()`` is SQLite's only)."""
    open_store(pg_url).close()
    queue(pg_url, ["gone-1", "gone-2"], target="gone")
    outbox = PgOutboxStore(pg_url)
    try:
        assert outbox.dead_letter_orphans([], 3_000) == {"gone": 2}
        assert outbox.dead_letter_orphans([], 4_000) == {}
    finally:
        outbox.close()
