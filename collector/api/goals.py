"""Routes: a customer's success goals (``GET``/``POST /api/v1/customers/{id}/goals``), issue 14.

A goal is judged when asked (``collector.health.goals.judge``, the code the health cycle's
``goal_at_risk`` rule uses) from the store's daily sums over the customer's local days, so a goal
just posted shows its progress at once.  Goals are written by the store's registry part (the
code behind ``import-goals``), attributed to the admin token's person (else its name)."""

from __future__ import annotations

from aiohttp import web

from collector.api.admin_writes import admin_customer, text_cells, write_as_actor, written
from collector.api.common import api, not_found, now_ms, ok
from collector.api.params import BadRequest, path_id
from collector.health import goals as goal_health
from collector.http.keys import CONFIG, STORE
from collector.store.goals import goal_from
from collector.store.seam import DEFAULT_ACTIVE_FLOOR
from protocol.timeunits import utc_offset_ms

#: the POST body's fields (the CSV's columns without ``customer``, which is the path's id)
GOAL_FIELDS = ("metric", "target", "start", "due", "note")


def _zone(request: web.Request, ctx: dict) -> str:
    """The customer's zone: its own, else the one health last used for it, else ``[health] timezone``."""
    return ctx.get("timezone") or request.app[CONFIG].health.timezone or "Asia/Shanghai"


def _floor(request: web.Request) -> int:
    """``health.active_day_interactions``: what makes a robot's day active, as the health cycle counts it."""
    return request.app[CONFIG].health.active_day_interactions


def judged_goals(reads, customer: str, ctx: dict, zone: str, now: int, goal_id: int | None = None,
                 active_floor: int = DEFAULT_ACTIVE_FLOOR) -> dict:
    """The customer's goals (or the one ``goal_id``) judged at ``now`` in its local days (runs in
    a store worker thread)."""
    try:
        off = utc_offset_ms(zone, now)
    except (ValueError, KeyError, OSError):
        zone, off = "UTC", 0
    today = goal_health.today_of(now, off)
    hours = goal_health.open_hours(ctx.get("hours"), None, ctx.get("venue_hours"))
    rows = [reads.get_goal(goal_id)] if goal_id is not None else reads.list_goals(customer)
    items = []
    for goal in rows:
        series = reads.goal_series(customer, goal["metric"], goal_health.first_ms(goal["start"], off),
                                   goal_health.complete_days(goal, today),
                                   hours if goal["metric"] == "availability" else None, active_floor)
        items.append(goal_health.judge(goal, series, today))
    return {"customer": customer, "timezone": zone, "today": today.isoformat(), "items": items, "total": len(items)}


@api
async def list_goals(request: web.Request) -> web.Response:
    customer = path_id(request, "customer id")
    reads = request.app[STORE].reads
    ctx = await reads.run(reads.goal_customer, customer)
    if ctx is None:
        return not_found("customer", customer)
    return ok(await reads.run(judged_goals, reads, customer, ctx, _zone(request, ctx), now_ms(request), None,
                              _floor(request)))


def _store_goal(registry, cells: dict, actor: str, now: int) -> tuple[int, str]:
    """Validate against the stored customers and store; ``(id, created | updated | unchanged)``."""
    try:
        row = goal_from(cells, registry.customer_ids())
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    added, updated = registry.upsert_goals([row], actor, "api", now)
    if added:
        return added[0], "created"
    return (updated[0], "updated") if updated else (registry.find_goal(row), "unchanged")


@api
async def post_goal(request: web.Request) -> web.Response:
    customer, ctx, refused = await admin_customer(request, request.app[STORE].reads.goal_customer)
    if refused is not None:
        return refused
    store = request.app[STORE]
    cells = {**text_cells(await request.read(), GOAL_FIELDS), "customer": customer}
    goal_id, what = await write_as_actor(request, _store_goal, store.registry, cells)
    judged = await store.reads.run(judged_goals, store.reads, customer, ctx, _zone(request, ctx),
                                   now_ms(request), goal_id, _floor(request))
    return written({"goal": judged["items"][0], "created": what == "created", "updated": what == "updated"},
                   what == "created")


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/customers/{id}/goals", list_goals)
    app.router.add_post("/api/v1/customers/{id}/goals", post_goal)
