"""The /api/v1 part of the collector's HTTP app (assembled by collector/app.py), plus the
operational routes /healthz and /metrics.  Each route module adds its own routes; they all read
through the store the app holds (``app[STORE]``)."""

from __future__ import annotations

from aiohttp import web

from collector.api import alerts, cors, counters, customers, exports, openapi, ops, outcomes, robots
from collector.api import handover
from collector.api import csms
from collector.api import funnels
from collector.api import reports
from collector.api import goals
from collector.api.common import ok
from collector.http.keys import PERSON, ROLE, TOKEN_NAME


async def me(request: web.Request) -> web.Response:
    """Who the token is: lets the dashboard offer admin actions only to admins, and name the person
    its actions and notes will be attributed to (``person``: "" when the token names none)."""
    return ok({"name": request.get(TOKEN_NAME, ""), "role": request.get(ROLE, ""),
               "person": request.get(PERSON, "")})


def setup(app: web.Application) -> None:
    cors.setup(app)
    ops.setup(app)
    counters.setup(app)
    customers.setup(app)
    robots.setup(app)
    alerts.setup(app)
    exports.setup(app)
    outcomes.setup(app)
    csms.setup(app)
    funnels.setup(app)
    reports.setup(app)
    goals.setup(app)
    openapi.setup(app)
    handover.setup(app)
    app.router.add_get("/api/v1/me", me)
