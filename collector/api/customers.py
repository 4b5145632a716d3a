"""Routes: the customer list (the overview), one customer's fleet health, its robots."""

from __future__ import annotations

from aiohttp import web

from collector.api import alert_queries, queries, usage
from collector.api.cache import USAGE_REFRESH_S, ResponseCache, UsageCache, data_version
from collector.api.common import api, dumps, json_bytes, not_found, now_ms
from collector.api.params import BadRequest, customer_filters, page, path_id, robot_filters
from collector.api.readers import READERS, ReaderPool
from collector.http.keys import CONFIG

PEERS = web.AppKey("api_peer_cache", UsageCache)


def sort_param(request: web.Request) -> str:
    sort = request.query.get("sort", "score")
    if sort.lstrip("-") not in queries.CUSTOMER_SORTS or sort.startswith("--"):
        raise BadRequest(f"sort must be one of {', '.join(queries.CUSTOMER_SORTS)} (prefix - to reverse)")
    return sort


#: serialized overview, customer pages and robot lists, keyed by data versions (never stale)
PAGES = web.AppKey("api_page_cache", ResponseCache)


def _overview(conn, filters: dict, sort: str, limit: int, offset: int, cache: ResponseCache) -> bytes:
    key = (tuple(sorted(filters.items())), sort, limit, offset, data_version(conn))
    body = cache.get(key)
    if body is None:
        body = dumps(queries.list_customers(conn, filters, sort, limit, offset)).encode()
        cache.put(key, body)
    return body


@api
async def list_customers(request: web.Request) -> web.Response:
    filters, sort, (limit, offset) = customer_filters(request), sort_param(request), page(request)
    body = await request.app[READERS].run(_overview, filters, sort, limit, offset, request.app[PAGES])
    return json_bytes(body)


def _fleet(pool: ReaderPool, now: int, cache: UsageCache) -> dict:
    first = queries.day_start(now) - (usage.DAYS - 1) * queries.DAY_MS
    return cache.single_flight(("fleet", first), lambda: pool.run_sync(usage.fleet_usage, first))


def _customer_page(conn, customer: str, now: int, fleet: dict) -> dict | None:
    out = queries.get_customer(conn, customer, now)
    if out is None:
        return None
    out["usage"] = usage.customer_usage(conn, customer, out["scene"], now, fleet)
    out["alerts"] = alert_queries.list_alerts(
        conn, {"customer": customer, "states": ("pending", "firing", "acknowledged", "snoozed")},
        200, 0, count=False)["items"]
    out["timeline"] = alert_queries.timeline(conn, customer=customer)
    return out


def _cached_customer_page(conn, customer: str, now: int, pool: ReaderPool, peers: UsageCache,
                          pages: ResponseCache) -> bytes | None:
    fleet = _fleet(pool, now, peers)
    key = ("customer", customer, queries.day_start(now), fleet["built"], data_version(conn),
           queries.robots_version(conn, customer))
    body = pages.get(key)
    if body is None:
        out = _customer_page(conn, customer, now, fleet)
        if out is None:
            return None
        body = dumps(out).encode()
        pages.put(key, body)
    return body


@api
async def get_customer(request: web.Request) -> web.Response:
    customer = path_id(request, "customer id")
    pool = request.app[READERS]
    out = await pool.run(_cached_customer_page, customer, now_ms(request), pool, request.app[PEERS],
                         request.app[PAGES])
    return not_found("customer", customer) if out is None else json_bytes(out)


def _customer_robots(conn, customer: str, filters: dict, limit: int, offset: int,
                     pages: ResponseCache) -> bytes | None:
    key = ("robots", customer, tuple(sorted(filters.items())), limit, offset,
           queries.robots_version(conn, customer), queries.robot_health_version(conn, customer))
    body = pages.get(key)
    if body is None:
        if not queries.customer_exists(conn, customer):
            return None
        body = dumps(queries.list_robots(conn, {**filters, "customer": customer}, limit, offset)).encode()
        pages.put(key, body)
    return body


@api
async def customer_robots(request: web.Request) -> web.Response:
    customer = path_id(request, "customer id")
    filters, (limit, offset) = robot_filters(request), page(request)
    out = await request.app[READERS].run(_customer_robots, customer, filters, limit, offset, request.app[PAGES])
    return not_found("customer", customer) if out is None else json_bytes(out)


def setup(app: web.Application) -> None:
    app[PEERS] = UsageCache(ttl_s=float(app[CONFIG]["http"].get("usage_refresh_s", USAGE_REFRESH_S)))
    app[PAGES] = ResponseCache(size=2048)
    app.router.add_get("/api/v1/customers", list_customers)
    app.router.add_get("/api/v1/customers/{id}", get_customer)
    app.router.add_get("/api/v1/customers/{id}/robots", customer_robots)
