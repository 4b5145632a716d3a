"""``create_app(config, store, ...)``: the application factory, the one place that assembles the
HTTP app.  It sets up, by plain imports, the API (``collector.api``: /api/v1, /healthz, /metrics),
the live feed (``collector.feed``) and the dashboard (``collector.dashboard``); those three read
from the store below and import nothing from each other.  This package keeps what they share: the
auth middleware, JSON errors and the app keys."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from aiohttp import web

from collector.api import routes as api_routes
from collector.dashboard import routes as dashboard_routes
from collector.feed import sse
from collector.http.auth import auth_middleware
from collector.http.keys import CLOCK, CONFIG, DB_PATH, SERVICES, STORE
from collector.http.tasks import run_while_serving
from collector.store.seam import Store

__all__ = ["create_app", "run_while_serving", "wall_clock_ms"]

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
}


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for key, value in SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


def create_app(config: dict, store: Store, *, services: dict | None = None,
               clock: Callable[[], int] = wall_clock_ms,
               background: Iterable[Callable[[web.Application], None]] = ()) -> web.Application:
    """The HTTP app over ``store`` (the caller owns it; the app only closes the read pool it used
    when it stops serving).  ``services``: the running pieces /healthz and /metrics report on
    (``writer``, ``ingest``, ``registry``).  ``clock``: "now" in ms (tests pass a fixed one).
    ``background``: ``setup(app)`` functions of tasks that run while the app serves but are not
    HTTP routes (the health loop and the notifier, until the service starts them itself)."""
    app = web.Application(middlewares=[auth_middleware], client_max_size=64 * 1024)
    app[CONFIG] = config
    app[STORE] = store
    app[DB_PATH] = str(store.url)
    app[SERVICES] = services or {}
    app[CLOCK] = clock
    app.on_response_prepare.append(_security_headers)

    async def release_reads(app: web.Application):  # first in: its cleanup runs after every task's
        yield
        app[STORE].reads.close()

    app.cleanup_ctx.append(release_reads)
    api_routes.setup(app)
    sse.setup(app)
    dashboard_routes.setup(app)
    for setup in background:
        setup(app)
    return app
