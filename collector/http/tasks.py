"""Background tasks that live as long as the app serves (the feed poller; until the service starts
them itself, the health loop and the webhook notifier)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine

from aiohttp import web


def run_while_serving(app: web.Application, name: str, start: Callable[[web.Application], Coroutine | None],
                      before_cancel: Callable[[web.Application], None] | None = None) -> None:
    """Run the coroutine ``start(app)`` returns (None: nothing to run) as a task named ``name`` for
    as long as the app serves; at shutdown call ``before_cancel(app)``, cancel the task and wait
    for it."""
    async def lifetime(app: web.Application):
        coro = start(app)
        task = asyncio.create_task(coro, name=name) if coro is not None else None
        yield
        if before_cancel is not None:
            before_cancel(app)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    app.cleanup_ctx.append(lifetime)
