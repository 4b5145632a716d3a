"""Webhook delivery: sends the queued ``notifications`` rows, retrying with exponential backoff.

At-least-once: a row is marked delivered only after a 2xx answer, so a restart or a receiver that
is down loses nothing; the receiver de-duplicates on ``idempotency_key`` (also sent as the
``Idempotency-Key`` header).  Per webhook, rows go out in queue order: after a failure the rest of
that webhook's rows wait for the next round.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable

import aiohttp

from collector.metrics import REGISTRY
from collector.store.seam import OutboxStore
from protocol.logs import FailureLog, get_logger

log = get_logger("notify")
SENT = REGISTRY.counter("robopulse_notifications_sent_total", "webhook notifications delivered", ("target",))
FAILED = REGISTRY.counter("robopulse_notification_attempts_failed_total",
                          "webhook delivery attempts that failed (they are retried)", ("target",))


def backoff_ms(attempts: int, cfg: dict) -> int:
    """Wait after the ``attempts``-th failure: initial * 2^(attempts-1), capped at the maximum."""
    return int(min(cfg["backoff_max_s"], cfg["backoff_initial_s"] * 2 ** max(0, attempts - 1)) * 1000)


async def deliver_due(outbox: OutboxStore, session: aiohttp.ClientSession, cfg: dict,
                      clock: Callable[[], int]) -> int:
    """One round: try every due row once; returns how many were delivered."""
    hooks = {h["name"]: h for h in cfg["webhooks"]}
    blocked: set[str] = set()
    delivered = 0
    for d in outbox.due(clock()):
        hook = hooks.get(d.target)
        if hook is None or d.target in blocked:
            continue
        error = None
        try:
            async with session.post(hook["url"], data=d.payload,
                                    timeout=aiohttp.ClientTimeout(total=cfg["timeout_s"]),
                                    headers={"Content-Type": "application/json",
                                             "Idempotency-Key": d.idempotency_key}) as resp:
                if not 200 <= resp.status < 300:
                    error = f"HTTP {resp.status}"
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        if error is None:
            outbox.mark_delivered(d.id, clock())
            SENT.inc(target=d.target)
            delivered += 1
        else:
            now = clock()
            outbox.mark_failed(d.id, d.attempts + 1, now + backoff_ms(d.attempts + 1, cfg), error)
            FAILED.inc(target=d.target)
            blocked.add(d.target)
            log.warning("notification_failed", target=d.target, key=d.idempotency_key, attempts=d.attempts + 1,
                        error=error)
    return delivered


class Notifier:
    """The webhook delivery loop: ``Notifier(outbox, notify_settings, clock)``; ``start()`` inside a
    running event loop (does nothing when no webhook is configured), ``await stop()`` to end it.

    ``outbox``: the store's outbox part (its own write connection); ``notify_settings``: the parsed
    ``[notify]`` section; ``clock``: event time in ms."""

    def __init__(self, outbox: OutboxStore, settings: dict, clock: Callable[[], int]):
        self.outbox = outbox
        self.settings = settings
        self.clock = clock
        self._task: asyncio.Task | None = None

    async def run(self) -> None:
        """Deliver every ``poll_s`` until cancelled."""
        cfg = self.settings
        failures = FailureLog(log, "notify_round_failed", every_s=600.0)  # logged once, not per round
        async with aiohttp.ClientSession() as session:
            while True:
                try:
                    await deliver_due(self.outbox, session, cfg, self.clock)
                except sqlite3.Error as exc:  # locked for longer than busy_timeout, disk full: next round
                    failures.failed(f"{getattr(exc, 'sqlite_errorname', type(exc).__name__)}: {exc}")
                else:
                    failures.recovered("notify_round_recovered")
                await asyncio.sleep(cfg["poll_s"])

    def start(self) -> None:
        if self._task is None and self.settings.get("webhooks"):
            self._task = asyncio.create_task(self.run(), name="notify")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
