"""Routes: alerts (newest first), one alert with its timeline, and the admin actions."""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from collector.api import actions
from collector.api.common import api, not_found, now_ms, ok
from collector.api.params import alert_filters, alert_id, page
from collector.http.auth import actor, require_role
from collector.http.errors import json_error
from collector.http.keys import STORE


@api
async def list_alerts(request: web.Request) -> web.Response:
    filters, (limit, offset) = alert_filters(request), page(request)
    reads = request.app[STORE].reads
    return ok(await reads.run(reads.list_alerts, filters, limit, offset))


@api
async def get_alert(request: web.Request) -> web.Response:
    ident = alert_id(request)
    reads = request.app[STORE].reads
    out = await reads.run(reads.get_alert, ident)
    return not_found("alert", ident) if out is None else ok(out)


async def _body(request: web.Request):
    if not request.can_read_body:
        return None
    raw = await request.read()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise actions.ActionError(400, "body must be JSON") from None


def _action(name: str):
    @api
    async def handler(request: web.Request) -> web.Response:
        denied = require_role(request, "admin")
        if denied is not None:
            return denied
        ident = alert_id(request)
        body = actions.parse_body(await _body(request), name)
        store = request.app[STORE]
        await asyncio.to_thread(actions.perform, store.open_alerts, name, ident,
                                actor(request), now_ms(request), body)
        out = await store.reads.run(store.reads.get_alert, ident)
        return json_error(404, f"no alert {ident}") if out is None else ok(out)

    handler.__name__ = f"{name}_alert"
    return handler


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/alerts", list_alerts)
    app.router.add_get("/api/v1/alerts/{id}", get_alert)
    app.router.add_post("/api/v1/alerts/{id}/ack", _action("ack"))
    app.router.add_post("/api/v1/alerts/{id}/snooze", _action("snooze"))
