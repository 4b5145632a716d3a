"""``create_app(config, store, ...)``: the application factory, the one place that assembles the
HTTP app.  It sets up, by plain imports, the API (``collector.api``: /api/v1, /healthz, /metrics),
the live feed (``collector.feed``) and the dashboard (``collector.dashboard``); those three read
from the store below and import nothing from each other.  What they share (the auth middleware,
JSON errors, the app keys, background tasks tied to the app) is in ``collector.http``, below them;
this module sits above them, next to the service module that calls it."""

from __future__ import annotations

import time
from collections.abc import Callable

from aiohttp import web

from collector.api import routes as api_routes
from collector.dashboard import routes as dashboard_routes
from collector.feed import sse
from collector.http.auth import auth_middleware
from collector.http.connections import CONNECTIONS, Connections, track_requests
from collector.http.errors import api_json_errors
from collector.http.keys import CLOCK, CONFIG, SERVICES, STORE
from collector.store.seam import Store
from protocol.config import Values

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


def create_app(config: Values, store: Store, *, services: dict | None = None,
               clock: Callable[[], int] = wall_clock_ms) -> web.Application:
    """The HTTP app over ``store`` (the caller owns it; the app only closes the read pool it used
    when it stops serving).  ``services``: the running pieces /healthz and /metrics report on
    (``writer``, ``ingest``, ``registry``).  ``clock``: "now" in ms (tests pass a fixed one).  The
    health evaluator and the webhook notifier are not part of the app: the service starts them."""
    app = web.Application(middlewares=[track_requests, api_json_errors, auth_middleware],
                          client_max_size=64 * 1024)
    app[CONFIG] = config
    app[CONNECTIONS] = Connections(config.http.max_connections, config.http.header_timeout_s)
    app[STORE] = store
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
    return app
