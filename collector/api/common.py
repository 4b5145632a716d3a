"""Small helpers every API route module uses: the error wrapper, JSON responses, the clock."""

from __future__ import annotations

import functools
import json

from aiohttp import web

from collector.api.actions import ActionError
from collector.api.params import BadRequest
from collector.http.errors import json_error
from collector.http.keys import CLOCK

dumps = functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"))


def ok(body) -> web.Response:
    return web.json_response(body, dumps=dumps)


def json_bytes(body: bytes) -> web.Response:
    return web.Response(body=body, content_type="application/json")


def not_found(what: str, ident) -> web.Response:
    return json_error(404, f"no {what} {ident}")


def now_ms(request: web.Request) -> int:
    return int(request.app[CLOCK]())


def api(handler):
    """Turn the client errors a handler raises into JSON errors with a message."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except (BadRequest, ActionError) as exc:
            return json_error(exc.status, exc.message)

    return wrapper
