"""Webhook delivery: sends the queued ``notifications`` rows, retrying with exponential backoff.

At-least-once: a row is marked delivered only after a 2xx answer, so a restart or a receiver that
is down loses nothing; the receiver de-duplicates on ``idempotency_key`` (also sent as the
``Idempotency-Key`` header).  Per webhook, rows go out in queue order: after a failure the rest of
that webhook's rows wait for the next round.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable

import aiohttp
from aiohttp import web

from collector.http.app import run_while_serving
from collector.http.keys import CLOCK, CONFIG, DB_PATH
from collector.metrics import REGISTRY
from collector.store.sqlite.db import connect_writer
from protocol.logs import get_logger

log = get_logger("notify")
SENT = REGISTRY.counter("robopulse_notifications_sent_total", "webhook notifications delivered", ("target",))
FAILED = REGISTRY.counter("robopulse_notification_attempts_failed_total",
                          "webhook delivery attempts that failed (they are retried)", ("target",))


def due(conn: sqlite3.Connection, now_ms: int, limit: int = 100) -> list[tuple]:
    return conn.execute(
        "SELECT id, idempotency_key, target, payload, attempts FROM notifications"
        " WHERE delivered_ms IS NULL AND next_attempt_ms <= ? ORDER BY id LIMIT ?", (now_ms, limit)).fetchall()


def backoff_ms(attempts: int, cfg: dict) -> int:
    """Wait after the ``attempts``-th failure: initial * 2^(attempts-1), capped at the maximum."""
    return int(min(cfg["backoff_max_s"], cfg["backoff_initial_s"] * 2 ** max(0, attempts - 1)) * 1000)


def mark_delivered(conn: sqlite3.Connection, row_id: int, now_ms: int) -> None:
    conn.execute("UPDATE notifications SET delivered_ms=?, attempts=attempts+1, last_error=NULL WHERE id=?",
                 (now_ms, row_id))


def mark_failed(conn: sqlite3.Connection, row_id: int, attempts: int, error: str, now_ms: int, cfg: dict) -> None:
    conn.execute("UPDATE notifications SET attempts=?, next_attempt_ms=?, last_error=? WHERE id=?",
                 (attempts, now_ms + backoff_ms(attempts, cfg), error[:500], row_id))


async def deliver_due(conn: sqlite3.Connection, session: aiohttp.ClientSession, cfg: dict,
                      clock: Callable[[], int]) -> int:
    """One round: try every due row once; returns how many were delivered."""
    hooks = {h["name"]: h for h in cfg["webhooks"]}
    blocked: set[str] = set()
    delivered = 0
    for row_id, key, target, body, attempts in due(conn, clock()):
        hook = hooks.get(target)
        if hook is None or target in blocked:
            continue
        error = None
        try:
            async with session.post(hook["url"], data=body, timeout=aiohttp.ClientTimeout(total=cfg["timeout_s"]),
                                    headers={"Content-Type": "application/json", "Idempotency-Key": key}) as resp:
                if not 200 <= resp.status < 300:
                    error = f"HTTP {resp.status}"
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        if error is None:
            mark_delivered(conn, row_id, clock())
            SENT.inc(target=target)
            delivered += 1
        else:
            mark_failed(conn, row_id, attempts + 1, error, clock(), cfg)
            FAILED.inc(target=target)
            blocked.add(target)
            log.warning("notification_failed", target=target, key=key, attempts=attempts + 1, error=error)
    return delivered


async def run_forever(db_path: str, cfg: dict, clock: Callable[[], int]) -> None:
    conn = connect_writer(db_path)
    try:
        async with aiohttp.ClientSession() as session:
            while True:
                try:
                    await deliver_due(conn, session, cfg, clock)
                except sqlite3.Error as exc:  # e.g. locked for longer than busy_timeout: next round
                    log.warning("notify_round_failed", error=str(exc))
                await asyncio.sleep(cfg["poll_s"])
    finally:
        conn.close()


def _delivery(app: web.Application):
    cfg = app[CONFIG].get("notify") or {}
    return run_forever(app[DB_PATH], cfg, app[CLOCK]) if cfg.get("webhooks") else None


def setup(app: web.Application) -> None:
    """Run the delivery loop while the app runs (only when webhooks are configured)."""
    run_while_serving(app, "notify", _delivery)
