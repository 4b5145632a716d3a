"""Routes: outcome rates (``GET /api/v1/outcomes``) and a customer's commercial events
(``GET``/``POST /api/v1/customers/{id}/events``), issue 14.

The rates are computed from every customer and event (``outcome_rates.compute``, one read of both
tables: a few thousand rows for 500 customers) and cached until an event, a customer or the health
cycle changes them (``ReadStore.outcomes_version``); the events are written by the store's
registry part (the same code as ``import-events``), attributed to the admin token's ``person``
(else its ``name``)."""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from collector.api import outcome_rates
from collector.api.admin_writes import admin_customer, text_cells, write_as_actor, written
from collector.api.cache import ResponseCache
from collector.api.common import api, dumps, json_bytes, not_found, now_ms, ok
from collector.api.params import BadRequest, choice, path_id
from collector.http.keys import STORE
from collector.store.events import event_from

#: the longest period asked for (about three years), so one request stays cheap
MAX_PERIOD_DAYS = 1100
#: the POST body's fields (the CSV's columns without ``customer``, which is the path's id)
EVENT_FIELDS = ("date", "kind", "amount", "robots", "referred_by", "contract_end", "note")


def today_of(request: web.Request) -> dt.date:
    """Today, the UTC date of the app's clock."""
    return dt.datetime.fromtimestamp(now_ms(request) / 1000, dt.UTC).date()


def _day(request: web.Request, name: str) -> dt.date | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        if len(raw) == 10:
            return dt.date.fromisoformat(raw)
    except ValueError:
        pass
    raise BadRequest(f"{name} must be a date YYYY-MM-DD")


def period(request: web.Request) -> tuple[str, str, str | None]:
    """``(from, to, group)`` from the query; the default period is the current calendar quarter."""
    today = today_of(request)
    quarter_start = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    next_quarter = (dt.date(today.year + 1, 1, 1) if quarter_start.month == 10
                    else dt.date(today.year, quarter_start.month + 3, 1))
    start = _day(request, "from") or quarter_start
    end = _day(request, "to") or (next_quarter - dt.timedelta(days=1))
    if end < start:
        raise BadRequest("to must not be before from")
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise BadRequest(f"the period from..to must be shorter than {MAX_PERIOD_DAYS} days")
    return start.isoformat(), end.isoformat(), choice(request, "group", outcome_rates.GROUPS)


#: computed rates (and their JSON) keyed by the query and ``ReadStore.outcomes_version``: never stale
OUTCOMES = web.AppKey("api_outcomes_cache", ResponseCache)


def outcomes_of(reads, cache: ResponseCache, start: str, end: str, today: str, group: str | None) -> dict:
    """The rates for the period (computed from every customer and event, or from the cache when
    nothing they depend on changed since)."""
    key = (start, end, today, group, reads.outcomes_version())
    out = cache.get(key)
    if out is None:
        customers, events = reads.outcome_inputs()
        out = outcome_rates.compute(customers, events, start, end, today, group)
        cache.put(key, out)
    return out


def _outcomes_json(reads, cache: ResponseCache, start: str, end: str, today: str, group: str | None) -> bytes:
    key = ("json", start, end, today, group, reads.outcomes_version())
    body = cache.get(key)
    if body is None:
        body = dumps(outcomes_of(reads, cache, start, end, today, group)).encode()
        cache.put(key, body)
    return body


@api
async def get_outcomes(request: web.Request) -> web.Response:
    start, end, group = period(request)
    reads = request.app[STORE].reads
    return json_bytes(await reads.run(_outcomes_json, reads, request.app[OUTCOMES], start, end,
                                      today_of(request).isoformat(), group))


@api
async def list_events(request: web.Request) -> web.Response:
    customer = path_id(request, "customer id")
    reads = request.app[STORE].reads
    if not await reads.run(reads.customer_exists, customer):
        return not_found("customer", customer)
    items = await reads.run(reads.list_events, customer)
    return ok({"items": items, "total": len(items)})


def _store_event(registry, cells: dict, actor: str, now: int) -> tuple[int, bool]:
    """Validate against the stored customers and store; ``(id, created)`` (runs in a thread)."""
    try:
        row = event_from(cells, registry.customer_ids())
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    added = registry.add_events([row], actor, "api", now)
    return (added[0], True) if added else (registry.find_event(row), False)


@api
async def post_event(request: web.Request) -> web.Response:
    customer, _, refused = await admin_customer(request)
    if refused is not None:
        return refused
    store = request.app[STORE]
    cells = {**text_cells(await request.read(), EVENT_FIELDS), "customer": customer}
    event_id, created = await write_as_actor(request, _store_event, store.registry, cells)
    event = await store.reads.run(store.reads.get_event, event_id)
    return written({"event": event, "created": created}, created)


def setup(app: web.Application) -> None:
    app[OUTCOMES] = ResponseCache(64)
    app.router.add_get("/api/v1/outcomes", get_outcomes)
    app.router.add_get("/api/v1/customers/{id}/events", list_events)
    app.router.add_post("/api/v1/customers/{id}/events", post_event)
