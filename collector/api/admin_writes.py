"""What an admin's write under ``/api/v1/customers/{id}/…`` shares (goals, events, notes, contacts):
the order of checks, the JSON body, the attribution and the answer.

Why one module: the goals, events and handover routes each had their own copy of the body checks
and of the role / id / customer sequence, and that order is a rule: the role (403), the ids (400),
the customer (404), then the body (400), so a viewer learns nothing about customers and a bad body
never reaches the store."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Collection

from aiohttp import web

from collector.api.common import dumps, not_found, now_ms
from collector.api.params import BadRequest, path_id
from collector.http.auth import actor, require_role
from collector.http.keys import STORE


async def admin_customer(request: web.Request,
                         lookup: Callable[[str], object] | None = None) -> tuple[str, object, web.Response | None]:
    """``(customer, found, None)`` for an admin's write to a stored customer, else
    ``("", None, refusal)``: 403 below admin, 400 (raised) for a malformed id, 404 when ``lookup``
    (a read-store method, run in the read store's worker; ``customer_exists`` by default) finds
    nothing (None or False).  ``found`` is what ``lookup`` returned (the customer's context for goals)."""
    denied = require_role(request, "admin")
    if denied is not None:
        return "", None, denied
    customer = path_id(request, "customer id")
    reads = request.app[STORE].reads
    found = await reads.run(lookup or reads.customer_exists, customer)
    if found is None or found is False:
        return "", None, not_found("customer", customer)
    return customer, found, None


def json_object(raw: bytes) -> dict:
    """The body as a JSON object (an empty body is none): 400 otherwise."""
    try:
        body = json.loads(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("body must be JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    return body


def text_cells(raw: bytes, fields: Collection[str]) -> dict[str, str]:
    """The body as the text cells a CSV row gives (numbers as their text, nulls left out), so the
    API's POST and the ``import-…`` command check a row with the same code.  400 for a field not in
    ``fields`` or a value that is not a string or a number."""
    body = json_object(raw)
    unknown = set(body) - set(fields)
    if unknown:
        raise BadRequest(f"unknown field {sorted(unknown)[0]!r}")
    cells = {}
    for key, value in body.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise BadRequest(f"{key} must be a string or a number")
        cells[key] = value if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value)
    return cells


async def write_as_actor(request: web.Request, write: Callable, *args):
    """``write(*args, actor, now_ms)`` in a thread: the write attributed to the token's person (else
    its name, ``collector.http.auth.actor``) at the app clock's time."""
    return await asyncio.to_thread(write, *args, actor(request), now_ms(request))


def written(body: dict, created: bool = True) -> web.Response:
    """The answer to a write: 201 when it created something, 200 when it updated or found it."""
    return web.json_response(body, status=201 if created else 200, dumps=dumps)
