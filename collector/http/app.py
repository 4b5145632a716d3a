"""``create_app(config)``: the application factory.  Each part is a module with ``setup(app)``
that adds its routes and, through ``cleanup_ctx``, its background tasks."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import time
from collections.abc import Callable, Coroutine

from aiohttp import web

from collector.http.auth import auth_middleware
from collector.http.keys import CLOCK, CONFIG, DB_PATH, SERVICES

PARTS = (
    "collector.http.ops",          # /healthz, /metrics                      (store/ingest)
    "collector.http.counters",     # /api/v1/robots/{id}/counters           (store/ingest)
    "collector.api.routes",        # the rest of /api/v1, openapi, exports   (api)
    "collector.feed.sse",          # /api/v1/feed                            (api)
    "collector.dashboard.routes",  # / and static files                      (api)
)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
}


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for key, value in SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)


def run_while_serving(app: web.Application, name: str, start: Callable[[web.Application], Coroutine | None],
                      before_cancel: Callable[[web.Application], None] | None = None) -> None:
    """Run the coroutine ``start(app)`` returns (None: nothing to run) as a task named ``name`` for
    as long as the app serves; at shutdown call ``before_cancel(app)``, cancel the task and wait
    for it.  The health loop, the webhook notifier and the feed poller are such tasks."""
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


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


def create_app(config: dict, services: dict | None = None,
               clock: Callable[[], int] = wall_clock_ms, parts: tuple[str, ...] = PARTS) -> web.Application:
    app = web.Application(middlewares=[auth_middleware], client_max_size=64 * 1024)
    app[CONFIG] = config
    app[DB_PATH] = str(config["collector"]["db"])
    app[SERVICES] = services or {}
    app[CLOCK] = clock
    app.on_response_prepare.append(_security_headers)
    for name in parts:
        importlib.import_module(name).setup(app)
    return app
