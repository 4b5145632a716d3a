"""Issue 17, finding 2: webhooks are queued, retried and ordered per webhook; orphaned and expired
rows are dead-lettered and counted; deliveries are signed; delivered rows are trimmed.

Every test runs the collector's ``Notifier`` on a real store (SQLite and PostgreSQL) (its own outbox connection, as
the service opens it) against a real aiohttp receiver on loopback; rows are queued through the
alert store's ``queue_notifications``, the path the evaluator takes."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
from collections.abc import Callable

import pytest
from aiohttp import web

from collector.alerts.notify import Notifier
from collector.alerts.notify_settings import parse as parse_notify
from collector.app import wall_clock_ms
from collector.metrics import REGISTRY
from collector.store import open_store
from collector.store.sqlite.shared import EvaluatorParts

DAY = 86_400_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_for(predicate, timeout=20.0, what="condition"):
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def queue(conn, target: str, keys: list[str], created_ms: int) -> None:
    """Queue one row per key for ``target``, as the evaluator does (same store method)."""
    rows = [(key, target, json.dumps({"idempotency_key": key, "event": "firing"})) for key in keys]
    EvaluatorParts(conn).alerts.queue_notifications(0, 1, created_ms, rows)


def dead_lettered():
    return REGISTRY.counter("robopulse_notifications_dead_lettered_total", "", ("target", "reason"))


class Receiver:
    """A webhook receiver on loopback: ``/<name>`` answers ``answer(name, key)`` (default 204) and
    records every request in arrival order as (name, key, status, headers, raw body)."""

    def __init__(self):
        self.port = free_port()
        self.log: list[tuple[str, str, int, dict, bytes]] = []
        self.answer: Callable[[str, str], int] = lambda name, key: 204
        self._runner: web.AppRunner | None = None

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def delivered(self, name: str) -> list[str]:
        return [key for n, key, status, _, _ in self.log if n == name and 200 <= status < 300]

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        name, key = request.match_info["name"], request.headers["Idempotency-Key"]
        status = self.answer(name, key)
        self.log.append((name, key, status, dict(request.headers), body))
        return web.Response(status=status)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{name}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        await self._runner.cleanup()


@pytest.fixture
async def receiver():
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


@pytest.fixture
async def notifier(store_url):
    """``notifier(notify_table, clock=wall_clock_ms)``: the collector's notifier on the test's store
    (its own connections, as the service opens them), started; stopped and closed after the test."""
    running = []

    def start(table: dict, clock=wall_clock_ms) -> Notifier:
        store = open_store(store_url)
        n = Notifier(store.outbox, parse_notify({"poll_s": 0.05, "timeout_s": 5.0, **table}), clock)
        n.start()
        running.append((n, store))
        return n

    yield start
    for n, store in running:
        await n.stop()
        store.close()


def rows(store, sql: str, *args):
    return store.execute(sql, args).fetchall()


async def test_webhooks_orphaned_rows_do_not_block_another_webhook(store, receiver, notifier):
    """150 rows of a webhook removed from the config come first in the table: the configured
    webhook still gets its rows, and the orphans are dead-lettered and counted on /metrics."""
    now = wall_clock_ms()
    queue(store, "removed-hook", [f"orphan-{i}" for i in range(150)], now)
    queue(store, "kept", ["kept-1", "kept-2", "kept-3"], now)
    before = dead_lettered().value(target="removed-hook", reason="orphaned")

    n = notifier({"webhooks": [{"name": "kept", "url": receiver.url("kept")}]})
    try:
        await wait_for(lambda: len(receiver.delivered("kept")) == 3, what="the kept webhook's rows")
        await wait_for(lambda: dead_lettered().value(target="removed-hook", reason="orphaned") - before == 150,
                       what="150 orphans counted")
    finally:
        await n.stop()
    assert receiver.delivered("kept") == ["kept-1", "kept-2", "kept-3"]
    assert all(name == "kept" for name, *_ in receiver.log)
    assert rows(store, "SELECT dead_reason, count(*) FROM notifications WHERE target='removed-hook'"
                       " AND delivered_ms IS NULL GROUP BY 1") == [("orphaned", 150)]
    assert ('robopulse_notifications_dead_lettered_total{target="removed-hook",reason="orphaned"}'
            in REGISTRY.render())


async def test_webhooks_failed_row_holds_back_its_webhook_not_others(store, receiver, notifier):
    """Webhook ``flaky`` refuses its first row twice: its second row waits (never sent before the
    first), while webhook ``steady`` delivers everything meanwhile."""
    refusals = {"flaky-1": 2}

    def answer(name: str, key: str) -> int:
        if refusals.get(key, 0) > 0:
            refusals[key] -= 1
            return 503
        return 204

    receiver.answer = answer
    now = wall_clock_ms()
    queue(store, "flaky", ["flaky-1"], now)
    queue(store, "steady", ["steady-1"], now)
    queue(store, "flaky", ["flaky-2"], now)
    queue(store, "steady", ["steady-2"], now)

    n = notifier({"webhooks": [{"name": "flaky", "url": receiver.url("flaky")},
                               {"name": "steady", "url": receiver.url("steady")}],
                  "backoff_initial_s": 0.5, "backoff_max_s": 1.0})
    try:
        await wait_for(lambda: len(receiver.delivered("flaky")) == 2, what="both flaky rows")
    finally:
        await n.stop()
    flaky = [(key, status) for name, key, status, _, _ in receiver.log if name == "flaky"]
    assert flaky == [("flaky-1", 503), ("flaky-1", 503), ("flaky-1", 204), ("flaky-2", 204)]
    assert receiver.delivered("steady") == ["steady-1", "steady-2"]
    order = [(name, key, status) for name, key, status, _, _ in receiver.log]
    first_flaky_success = order.index(("flaky", "flaky-1", 204))
    assert order.index(("steady", "steady-2", 204)) < first_flaky_success  # steady did not wait for flaky
    # the failed row carries the webhook's backoff; the row behind it was never attempted before
    # (>=: a pooled connection the server closed under load also counts as a failed attempt)
    [(first,), (second,)] = rows(store, "SELECT attempts FROM notifications WHERE target='flaky' ORDER BY id")
    assert first >= 3 and second >= 1


async def test_webhooks_row_past_max_age_is_dead_lettered_and_counted(store, receiver, notifier):
    """A row queued 2 minutes ago with ``max_age_s`` 60 is never sent: dead-lettered (``expired``)
    and counted; the fresh row behind it is delivered."""
    now = wall_clock_ms()
    queue(store, "aging", ["too-old"], now - 120_000)
    queue(store, "aging", ["fresh"], now)
    before = dead_lettered().value(target="aging", reason="expired")

    n = notifier({"webhooks": [{"name": "aging", "url": receiver.url("aging")}], "max_age_s": 60})
    try:
        await wait_for(lambda: receiver.delivered("aging") == ["fresh"], what="the fresh row")
    finally:
        await n.stop()
    assert [key for _, key, *_ in receiver.log] == ["fresh"]
    assert dead_lettered().value(target="aging", reason="expired") - before == 1
    assert rows(store, "SELECT dead_reason, delivered_ms IS NULL, dead_ms IS NOT NULL FROM notifications"
                       " WHERE idempotency_key='too-old'") == [("expired", 1, 1)]
    assert 'robopulse_notifications_dead_lettered_total{target="aging",reason="expired"}' in REGISTRY.render()


async def test_webhooks_signature_verifies_with_the_secret_and_is_absent_without(store, receiver, notifier):
    secret = "s3cret-ключ"
    now = wall_clock_ms()
    queue(store, "signed", ["signed-1", "signed-2"], now)
    queue(store, "plain", ["plain-1"], now)

    n = notifier({"webhooks": [{"name": "signed", "url": receiver.url("signed"), "secret": secret},
                               {"name": "plain", "url": receiver.url("plain")}]})
    try:
        await wait_for(lambda: len(receiver.log) == 3, what="three deliveries")
    finally:
        await n.stop()
    signed = [(headers, body) for name, _, _, headers, body in receiver.log if name == "signed"]
    assert len(signed) == 2
    for headers, body in signed:
        expected = "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Robopulse-Signature"], expected)
        wrong = "sha256=" + hmac.new(b"another secret", body, hashlib.sha256).hexdigest()
        assert headers["X-Robopulse-Signature"] != wrong
        assert json.loads(body)["idempotency_key"] == headers["Idempotency-Key"]
    [(plain_headers, _)] = [(headers, body) for name, _, _, headers, body in receiver.log if name == "plain"]
    assert "X-Robopulse-Signature" not in plain_headers


async def test_webhooks_delivered_rows_trimmed_after_retention(store, receiver, notifier):
    """Delivered rows stay ``keep_delivered_days``, then the notifier deletes them; a row
    delivered later stays."""
    offset = [0]
    now = wall_clock_ms()

    def clock() -> int:
        return wall_clock_ms() + offset[0]

    queue(store, "kept", ["day1-1", "day1-2"], now)
    n = notifier({"webhooks": [{"name": "kept", "url": receiver.url("kept")}], "keep_delivered_days": 1}, clock)
    try:
        await wait_for(lambda: receiver.delivered("kept") == ["day1-1", "day1-2"], what="the first day's rows")
        await asyncio.sleep(0.2)  # a few rounds: within the retention nothing is deleted
        assert len(rows(store, "SELECT id FROM notifications WHERE delivered_ms IS NOT NULL")) == 2
        offset[0] = DAY + 60_000
        queue(store, "kept", ["day2-1"], now + offset[0])
        await wait_for(lambda: receiver.delivered("kept")[-1:] == ["day2-1"], what="the next day's row")
        await wait_for(lambda: rows(store, "SELECT idempotency_key FROM notifications") == [("day2-1",)],
                       what="rows past the retention trimmed")
    finally:
        await n.stop()


async def test_webhooks_dead_letters_trimmed_after_retention(store, receiver, notifier):
    """A dead-lettered row stays ``keep_delivered_days`` after it was dead-lettered (for an operator
    to look at), then it is deleted too."""
    offset = [0]

    def clock() -> int:
        return wall_clock_ms() + offset[0]

    queue(store, "removed", ["orphan"], wall_clock_ms())
    n = notifier({"webhooks": [{"name": "kept", "url": receiver.url("kept")}], "keep_delivered_days": 1}, clock)
    try:
        await wait_for(lambda: rows(store, "SELECT dead_reason FROM notifications") == [("orphaned",)],
                       what="the orphan dead-lettered")
        await asyncio.sleep(0.2)
        assert len(rows(store, "SELECT id FROM notifications")) == 1
        offset[0] = DAY + 60_000
        await wait_for(lambda: not rows(store, "SELECT id FROM notifications"), what="the dead letter trimmed")
    finally:
        await n.stop()
    assert receiver.log == []
