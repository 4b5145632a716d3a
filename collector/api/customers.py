"""Routes: the customer list (the overview), one customer's fleet health, its robots."""

from __future__ import annotations

import time

from aiohttp import web

from collector.api import alert_queries, queries
from collector.api.cache import ResponseCache, data_version
from collector.api.common import api, dumps, json_bytes, not_found, now_ms, serialized
from collector.api.params import BadRequest, customer_filters, page, path_id, robot_filters
from collector.api.readers import READERS

#: a scene's usage totals are the expensive part of a customer page and change slowly (daily buckets)
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
        if len(self._items) > 1000:
            self._items.clear()
        self._items[key] = (time.monotonic() + self.ttl_s, value)


PEERS = web.AppKey("api_peer_cache", PeerCache)


def sort_param(request: web.Request) -> str:
    sort = request.query.get("sort") or "score"
    if sort.lstrip("-") not in queries.CUSTOMER_SORTS or sort.startswith("--"):
        raise BadRequest(f"sort must be one of {', '.join(queries.CUSTOMER_SORTS)} (prefix - to reverse)")
    return sort


OVERVIEW = web.AppKey("api_overview_cache", ResponseCache)


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
    body = await request.app[READERS].run(_overview, filters, sort, limit, offset, request.app[OVERVIEW])
    return json_bytes(body)


def _customer_page(conn, customer: str, now: int, cache: PeerCache) -> dict | None:
    out = queries.get_customer(conn, customer, now)
    if out is None:
        return None
    days = 30
    first = queries.day_start(now) - (days - 1) * queries.DAY_MS
    key = (out["scene"], first)
    scene = cache.get(key)
    if scene is None or customer not in scene["members"]:
        scene = queries.scene_totals(conn, out["scene"], first, days)
        cache.put(key, scene)
    out["usage"] = queries.customer_usage(conn, customer, out["scene"], now, days, scene_usage=scene)
    out["alerts"] = alert_queries.list_alerts(
        conn, {"customer": customer, "states": ("pending", "firing", "acknowledged", "snoozed")},
        200, 0)["items"]
    out["timeline"] = alert_queries.timeline(conn, customer=customer)
    return out


@api
async def get_customer(request: web.Request) -> web.Response:
    customer = path_id(request, "customer id")
    out = await request.app[READERS].run(serialized(_customer_page), customer, now_ms(request),
                                         request.app[PEERS])
    return not_found("customer", customer) if out is None else json_bytes(out)


def _customer_robots(conn, customer: str, filters: dict, limit: int, offset: int) -> dict | None:
    if not queries.customer_exists(conn, customer):
        return None
    return queries.list_robots(conn, {**filters, "customer": customer}, limit, offset)


@api
async def customer_robots(request: web.Request) -> web.Response:
    customer = path_id(request, "customer id")
    filters, (limit, offset) = robot_filters(request), page(request)
    out = await request.app[READERS].run(serialized(_customer_robots), customer, filters, limit, offset)
    return not_found("customer", customer) if out is None else json_bytes(out)


def setup(app: web.Application) -> None:
    app[PEERS] = PeerCache()
    app[OVERVIEW] = ResponseCache()
    app.router.add_get("/api/v1/customers", list_customers)
    app.router.add_get("/api/v1/customers/{id}", get_customer)
    app.router.add_get("/api/v1/customers/{id}/robots", customer_robots)
