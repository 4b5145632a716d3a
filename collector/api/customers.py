"""Routes: the customer list (the overview), one customer's fleet health, its robots."""

from __future__ import annotations

from aiohttp import web

from collector.alerts.states import OPEN, UNRESOLVED
from collector.api import funnels, usage
from collector.api.cache import ResponseCache, UsageCache
from collector.api.common import api, dumps, json_bytes, not_found, now_ms
from collector.api.params import BadRequest, customer_filters, page, path_id, robot_filters
from collector.http.keys import CONFIG, STORE
from collector.store.seam import CUSTOMER_SORTS, ReadStore
from protocol.timeunits import day_start, local_day, utc_offset_ms

PEERS = web.AppKey("api_peer_cache", UsageCache)


def sort_param(request: web.Request) -> str:
    sort = request.query.get("sort", "score")
    if sort.lstrip("-") not in CUSTOMER_SORTS or sort.startswith("--"):
        raise BadRequest(f"sort must be one of {', '.join(CUSTOMER_SORTS)} (prefix - to reverse)")
    return sort


#: serialized overview, customer pages and robot lists, keyed by data versions (never stale)
PAGES = web.AppKey("api_page_cache", ResponseCache)


def _overview(reads: ReadStore, filters: dict, sort: str, limit: int, offset: int, cache: ResponseCache) -> bytes:
    key = (tuple(sorted(filters.items())), sort, limit, offset, reads.data_version())
    body = cache.get(key)
    if body is None:
        body = dumps(reads.list_customers(filters, sort, limit, offset, OPEN)).encode()
        cache.put(key, body)
    return body


@api
async def list_customers(request: web.Request) -> web.Response:
    filters, sort, (limit, offset) = customer_filters(request), sort_param(request), page(request)
    reads = request.app[STORE].reads
    body = await reads.run(_overview, reads, filters, sort, limit, offset, request.app[PAGES])
    return json_bytes(body)


def _fleet(reads: ReadStore, now: int, cache: UsageCache, zone: str = funnels.DEFAULT_ZONE) -> dict:
    # recomputed in the foreground once per UTC day (as before local days); local midnights in
    # between are covered by reading the customer's incomplete days fresh (api/usage.py)
    return cache.single_flight(("fleet", day_start(now), zone), lambda: usage.fleet_usage(reads, now, zone))


def _customer_page(reads: ReadStore, customer: str, now: int, fleet: dict,
                   zone: str = funnels.DEFAULT_ZONE) -> dict | None:
    """The customer, its usage against peers, its funnel over its last 30 complete local days
    (``zone``: for a customer with no zone of its own), its alerts that are not resolved (pending
    ones included: ``open_alerts`` counts the open ones among them) and its timeline."""
    out = reads.get_customer(customer, now, OPEN)
    if out is None:
        return None
    out["usage"] = usage.customer_usage(reads, customer, out["scene"], now, fleet, out.get("timezone"), zone)
    out["funnel"] = funnels.customer_funnel(reads, out, now, zone)
    out["alerts"] = reads.list_alerts({"customer": customer, "states": UNRESOLVED}, 200, 0, count=False)["items"]
    out["timeline"] = reads.timeline(customer=customer)
    return out


def _cached_customer_page(reads: ReadStore, customer: str, now: int, peers: UsageCache,
                          pages: ResponseCache, zone: str = funnels.DEFAULT_ZONE) -> bytes | None:
    fleet = _fleet(reads, now, peers, zone)
    # the customer's local day (its chart moves on at its own midnight, even with no new data)
    local = usage.zone_for(fleet["zone_of"].get(customer), zone)
    key = ("customer", customer, local_day(now, utc_offset_ms(local, now)), fleet["built"], reads.data_version(),
           reads.robots_version(customer))
    body = pages.get(key)
    if body is None:
        out = _customer_page(reads, customer, now, fleet, zone)
        if out is None:
            return None
        body = dumps(out).encode()
        pages.put(key, body)
    return body


@api
async def get_customer(request: web.Request) -> web.Response:
    customer = path_id(request, "customer id")
    reads = request.app[STORE].reads
    out = await reads.run(_cached_customer_page, reads, customer, now_ms(request), request.app[PEERS],
                          request.app[PAGES], funnels.default_zone(request.app))
    return not_found("customer", customer) if out is None else json_bytes(out)


def _customer_robots(reads: ReadStore, customer: str, filters: dict, limit: int, offset: int,
                     pages: ResponseCache) -> bytes | None:
    key = ("robots", customer, tuple(sorted(filters.items())), limit, offset,
           reads.robots_version(customer), reads.robot_health_version(customer))
    body = pages.get(key)
    if body is None:
        if not reads.customer_exists(customer):
            return None
        body = dumps(reads.list_robots({**filters, "customer": customer}, limit, offset)).encode()
        pages.put(key, body)
    return body


@api
async def customer_robots(request: web.Request) -> web.Response:
    customer = path_id(request, "customer id")
    filters, (limit, offset) = robot_filters(request), page(request)
    reads = request.app[STORE].reads
    out = await reads.run(_customer_robots, reads, customer, filters, limit, offset, request.app[PAGES])
    return not_found("customer", customer) if out is None else json_bytes(out)


def setup(app: web.Application) -> None:
    app[PEERS] = UsageCache(ttl_s=float(app[CONFIG].http.usage_refresh_s))
    app[PAGES] = ResponseCache(size=2048)
    app.router.add_get("/api/v1/customers", list_customers)
    app.router.add_get("/api/v1/customers/{id}", get_customer)
    app.router.add_get("/api/v1/customers/{id}/robots", customer_robots)
