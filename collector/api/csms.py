"""Route: one CSM's book of business (``GET /api/v1/csms/{csm}``, contract section 6, issue 14).

The CSM is a customer's ``csm`` value (free text, as imported: ``alice``, ``王芳``); a name no
customer carries is a 404.  The book (``book.compute``) is read in one transaction and cached until
a customer, health, an alert's state, an event or a goal changes, or the day does (its week is
local days).  Goals are judged as the goals route judges them (``api/goals.py``)."""

from __future__ import annotations

from aiohttp import web

from collector.alerts.states import OPEN
from collector.api import book
from collector.api.goals import judged_goals
from collector.api.cache import ResponseCache
from collector.api.common import api, dumps, json_bytes, not_found, now_ms
from collector.api.params import BadRequest
from collector.http.keys import CONFIG, STORE

#: the longest CSM name accepted in the path (customers' ``csm`` values are short names)
MAX_CSM = 200
QUARTER_HOUR_MS = 900_000
BOOKS = web.AppKey("api_book_cache", ResponseCache)


def csm_param(request: web.Request) -> str:
    """Any name up to ``MAX_CSM`` characters: it is only compared (as an SQL parameter) with the
    customers' ``csm`` values, so a name no customer carries is simply unknown (404)."""
    value = request.match_info["csm"]
    if len(value) > MAX_CSM:
        raise BadRequest(f"csm must be at most {MAX_CSM} characters")
    return value


def default_zone(app: web.Application) -> str:
    return app[CONFIG].health.timezone or "Asia/Shanghai"


def _book_json(reads, csm: str, now: int, zone: str, cache: ResponseCache) -> bytes | None:
    # the quarter-hour in the key: every zone's local day turns over on one (+05:45 included)
    key = (csm, now // QUARTER_HOUR_MS, reads.csm_book_version(csm))
    body = cache.get(key)
    if body is None:
        start, first = book.since(now)
        raw = reads.csm_book(csm, start, first, OPEN)
        if raw is None:
            return None
        goals = _goals_of(reads, [c["id"] for c in raw["customers"]], now, zone)
        body = dumps(book.compute(csm, raw, now, zone, goals)).encode()
        cache.put(key, body)
    return body


def _goals_of(reads, ids: list[str], now: int, zone: str) -> dict[str, list[dict]]:
    """The success goals of the book's customers that have any, judged as ``GET
    /api/v1/customers/{id}/goals`` judges them (without the per-day series: the customer's page
    has it)."""
    out: dict[str, list[dict]] = {}
    with_goals = {g["customer"] for g in reads.list_goals()} & set(ids)
    for customer in sorted(with_goals):
        ctx = reads.goal_customer(customer)
        if ctx is None:
            continue
        judged = judged_goals(reads, customer, ctx, ctx.get("timezone") or zone, now)
        out[customer] = [{k: v for k, v in g.items() if k != "days"} for g in judged["items"]]
    return out


@api
async def get_book(request: web.Request) -> web.Response:
    csm = csm_param(request)
    reads = request.app[STORE].reads
    body = await reads.run(_book_json, reads, csm, now_ms(request), default_zone(request.app),
                           request.app[BOOKS])
    return not_found("CSM", csm) if body is None else json_bytes(body)


def setup(app: web.Application) -> None:
    app[BOOKS] = ResponseCache(256)
    app.router.add_get("/api/v1/csms/{csm}", get_book)
