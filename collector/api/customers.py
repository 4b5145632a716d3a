"""Routes: the customer list (the overview), one customer's fleet health, its robots."""

from __future__ import annotations

import time

from aiohttp import web

from collector.api import alert_queries, queries
from collector.api.common import api, not_found, now_ms, ok
from collector.api.params import BadRequest, customer_filters, page, path_id, robot_filters
from collector.api.readers import READERS

#: the scene peers' usage is the expensive part of a customer page and changes slowly
PEER_CACHE_S = 60.0


class PeerCache:
    def __init__(self, ttl_s: float = PEER_CACHE_S):
        self.ttl_s = ttl_s
        self._items: dict[tuple, tuple[float, dict]] = {}

    def get(self, key: tuple) -> dict | None:
        hit = self._items.get(key)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        return None

    def put(self, key: tuple, value: dict) -> None:
        if len(self._items) > 5000:
            self._items.clear()
        self._items[key] = (time.monotonic() + self.ttl_s, value)


PEERS = web.AppKey("api_peer_cache", PeerCache)


def sort_param(request: web.Request) -> str:
    sort = request.query.get("sort") or "score"
    if sort.lstrip("-") not in queries.CUSTOMER_SORTS or sort.startswith("--"):
        raise BadRequest(f"sort must be one of {', '.join(queries.CUSTOMER_SORTS)} (prefix - to reverse)")
    return sort


@api
async def list_customers(request: web.Request) -> web.Response:
    filters, sort, (limit, offset) = customer_filters(request), sort_param(request), page(request)
    return ok(await request.app[READERS].run(queries.list_customers, filters, sort, limit, offset))


def _customer_page(conn, customer: str, now: int, cache: PeerCache) -> dict | None:
    out = queries.get_customer(conn, customer, now)
    if out is None:
        return None
    days = 30
    first = queries.day_start(now) - (days - 1) * queries.DAY_MS
    key = (out["scene"], customer, first)
    peers = cache.get(key)
    if peers is None:
        peers = queries.peer_usage(conn, customer, out["scene"], first, days)
        cache.put(key, peers)
    out["usage"] = queries.customer_usage(conn, customer, out["scene"], now, days, peers=peers)
    out["alerts"] = alert_queries.list_alerts(
        conn, {"customer": customer, "states": ("pending", "firing", "acknowledged", "snoozed")},
        200, 0)["items"]
    out["timeline"] = alert_queries.timeline(conn, customer=customer)
    return out


@api
async def get_customer(request: web.Request) -> web.Response:
    customer = path_id(request, "customer id")
    out = await request.app[READERS].run(_customer_page, customer, now_ms(request), request.app[PEERS])
    return not_found("customer", customer) if out is None else ok(out)


def _customer_robots(conn, customer: str, filters: dict, limit: int, offset: int) -> dict | None:
    if not queries.customer_exists(conn, customer):
        return None
    return queries.list_robots(conn, {**filters, "customer": customer}, limit, offset)


@api
async def customer_robots(request: web.Request) -> web.Response:
    customer = path_id(request, "customer id")
    filters, (limit, offset) = robot_filters(request), page(request)
    out = await request.app[READERS].run(_customer_robots, customer, filters, limit, offset)
    return not_found("customer", customer) if out is None else ok(out)


def setup(app: web.Application) -> None:
    app[PEERS] = PeerCache()
    app.router.add_get("/api/v1/customers", list_customers)
    app.router.add_get("/api/v1/customers/{id}", get_customer)
    app.router.add_get("/api/v1/customers/{id}/robots", customer_robots)
