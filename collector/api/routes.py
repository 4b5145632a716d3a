"""The /api/v1 part of the collector's HTTP app (see collector/http/app.py PARTS).

Each route module adds its own routes; the reader pool is shared with the feed."""

from __future__ import annotations

from aiohttp import web

from collector.api import alerts, cors, customers, exports, openapi, readers, robots
from collector.api.common import ok
from collector.http.keys import ROLE, TOKEN_NAME


async def me(request: web.Request) -> web.Response:
    """Who the token is: lets the dashboard offer admin actions only to admins."""
    return ok({"name": request.get(TOKEN_NAME, ""), "role": request.get(ROLE, "")})


def setup(app: web.Application) -> None:
    readers.setup(app)
    cors.setup(app)
    for module in (customers, robots, alerts, exports, openapi):
        module.setup(app)
    app.router.add_get("/api/v1/me", me)
