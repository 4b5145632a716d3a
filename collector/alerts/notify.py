"""Webhook delivery: sends the queued ``notifications`` rows, one queue per webhook.

At-least-once: a row is marked delivered only after a 2xx answer, so a restart or a receiver that
is down loses nothing; the receiver de-duplicates on ``idempotency_key`` (also sent as the
``Idempotency-Key`` header).  Each webhook has its own queue, its own loop and its own backoff: its
rows go out in queue order, a failed row holds back that webhook's later rows (its backoff is the
webhook's), and a webhook that is down or slow never delays another.  Rows that can no longer be
delivered are dead-lettered (kept, marked, counted), never left to wait forever: those of a
webhook removed from the config (``orphaned``) and those older than ``notify.max_age_s``
(``expired``).  Delivered and dead-lettered rows are deleted after ``notify.keep_delivered_days``.
With a ``secret``, a delivery carries ``X-Robopulse-Signature: sha256=<hex HMAC-SHA256 of the body>``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import sqlite3
from collections.abc import Awaitable, Callable

import aiohttp

from collector.alerts.background import Background
from collector.metrics import REGISTRY
from collector.store.seam import Delivery, OutboxStore
from protocol.config import Values
from protocol.logs import FailureLog, get_logger
from protocol.timeunits import DAY_MS

log = get_logger("notify")
SENT = REGISTRY.counter("robopulse_notifications_sent_total", "webhook notifications delivered", ("target",))
FAILED = REGISTRY.counter("robopulse_notification_attempts_failed_total",
                          "webhook delivery attempts that failed (they are retried)", ("target",))
DEAD = REGISTRY.counter("robopulse_notifications_dead_lettered_total",
                        "webhook notifications given up and kept unsent, by reason: orphaned (webhook no longer "
                        "configured), expired (older than notify.max_age_s)", ("target", "reason"))
SIGNATURE_HEADER = "X-Robopulse-Signature"
#: rows one round of one webhook sends at most (the next round follows after ``poll_s``)
BATCH = 100


def backoff_ms(attempts: int, cfg: Values) -> int:
    """Wait after the ``attempts``-th failure: initial * 2^(attempts-1), capped at the maximum."""
    return int(min(cfg.backoff_max_s, cfg.backoff_initial_s * 2 ** max(0, attempts - 1)) * 1000)


def signature(secret: str, body: bytes) -> str:
    """The ``X-Robopulse-Signature`` value: the receiver recomputes it over the raw body it got."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


async def post(session: aiohttp.ClientSession, hook: Values, d: Delivery, timeout_s: float) -> str | None:
    """POST one row to its webhook; returns None on a 2xx answer, else why it failed."""
    body = d.payload.encode("utf-8")
    headers = {"Content-Type": "application/json", "Idempotency-Key": d.idempotency_key}
    if hook.secret:
        headers[SIGNATURE_HEADER] = signature(hook.secret, body)
    try:
        async with session.post(hook.url, data=body, headers=headers,
                                timeout=aiohttp.ClientTimeout(total=timeout_s)) as resp:
            return None if 200 <= resp.status < 300 else f"HTTP {resp.status}"
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"


async def deliver_webhook(outbox: OutboxStore, session: aiohttp.ClientSession, hook: Values, cfg: Values,
                          clock: Callable[[], int], allowed: Callable[[], bool] | None = None) -> int:
    """One round of one webhook: dead-letter its rows past ``max_age_s``, then send its due rows in
    queue order up to the first failure (which starts the webhook's backoff); returns how many
    were delivered.  Expiry runs here, not beside it, so a row is never given up mid-POST.
    ``allowed``: asked before each POST (the store's lease: a collector that lost the evaluator's
    role stops at once, not at its next check; collector/alerts/leader.py)."""
    if cfg.max_age_s:
        now = clock()
        count_dead(hook.name, "expired", outbox.dead_letter_expired(hook.name, now - cfg.max_age_s * 1000, now))
    delivered = 0
    for d in outbox.due(hook.name, clock(), BATCH):
        if allowed is not None and not await asyncio.to_thread(allowed):  # a database round trip
            break
        error = await post(session, hook, d, cfg.timeout_s)
        if error is None:
            outbox.mark_delivered(d.id, clock())
            SENT.inc(target=d.target)
            delivered += 1
            continue
        attempts = d.attempts + 1
        outbox.mark_failed(d.id, attempts, clock() + backoff_ms(attempts, cfg), error)
        FAILED.inc(target=d.target)
        log.warning("notification_failed", target=d.target, key=d.idempotency_key, attempts=attempts, error=error)
        break
    return delivered


def count_dead(target: str, reason: str, n: int) -> None:
    if n:
        DEAD.inc(n, target=target, reason=reason)
        log.warning("notifications_dead_lettered", target=target, reason=reason, count=n)


def housekeep(outbox: OutboxStore, cfg: Values, clock: Callable[[], int]) -> dict[str, int]:
    """Dead-letter the rows of webhooks no longer configured (counted per target), then trim what
    was delivered or dead-lettered before the retention; returns the orphans per target."""
    now = clock()
    orphans = outbox.dead_letter_orphans([h.name for h in cfg.webhooks], now)
    for target, n in orphans.items():
        count_dead(target, "orphaned", n)
    outbox.trim(now - cfg.keep_delivered_days * DAY_MS)
    return orphans


class Notifier(Background):
    """The webhook delivery loops: ``Notifier(outbox, notify_settings, clock)``; ``start()`` inside a
    running event loop, ``await stop()`` to end it.  It runs with no webhook configured too: rows
    queued for webhooks since removed are still dead-lettered and old rows trimmed.

    ``outbox``: the store's outbox part (its own write connection); ``notify_settings``: the parsed
    ``[notify]`` section; ``clock``: event time in ms."""

    task_name = "notify"

    def __init__(self, outbox: OutboxStore, settings: Values, clock: Callable[[], int],
                 allowed: Callable[[], bool] | None = None):
        self.outbox = outbox
        self.allowed = allowed  # asked before each POST: the store's lease (several collectors)
        self.settings = settings
        self.clock = clock
        super().__init__()
        DEAD.preset(*((h.name, reason) for h in settings.webhooks for reason in ("orphaned", "expired")))

    async def _every(self, what: str, round_: Callable[[], Awaitable[object] | object]) -> None:
        """Run ``round_`` every ``poll_s`` until cancelled; an error (logged) skips one round."""
        failures = FailureLog(log, "notify_round_failed", every_s=600.0)  # logged once, not per round
        while True:
            try:
                result = round_()
                if asyncio.iscoroutine(result):
                    await result
            except sqlite3.Error as exc:  # locked for longer than busy_timeout, disk full: next round
                failures.failed(f"{getattr(exc, 'sqlite_errorname', type(exc).__name__)}: {exc}", loop=what)
            except Exception:  # a bug in one round must not silence every webhook for good
                log.exception("notify_round_failed", loop=what)
            else:
                failures.recovered("notify_round_recovered", loop=what)
            await asyncio.sleep(self.settings.poll_s)

    async def run(self) -> None:
        """One loop per webhook and one for housekeeping, until cancelled."""
        cfg = self.settings
        async with aiohttp.ClientSession() as session, asyncio.TaskGroup() as loops:
            loops.create_task(self._every("housekeeping", lambda: housekeep(self.outbox, cfg, self.clock)))
            for hook in cfg.webhooks:
                loops.create_task(self._every(hook.name, lambda hook=hook: deliver_webhook(
                    self.outbox, session, hook, cfg, self.clock, self.allowed)), name=f"notify-{hook.name}")
