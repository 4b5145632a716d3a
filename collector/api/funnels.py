"""Routes: the usage funnel of a customer and of each scene over any period of local days, and the
customers under their group's average score (issue 14, seed 002).

- ``GET /api/v1/customers/{id}/funnel?from=&to=``: one customer's funnel (foot traffic ->
  solicitations -> wake-ups -> interactions, conversion at each step) over its local dates
  ``from``..``to`` (default: its last 30 complete local days);
- ``GET /api/v1/funnel?from=&to=&scene=``: per scene, the summed funnel and the median conversion
  of its customers, and every customer's own funnel (sorted by conversion, lowest first: the ones to
  look at), each over its own local days;
- ``GET /api/v1/below-average?by=scene|tier``: the customers whose score is under the average
  score of their scene (default) or tier, the gap first ("低于平均分的客户需要引导和激活").

The volumes are read straight from the rollups (``ReadStore.usage_volumes``), so a figure is the
sum of the counters as they are now; the scores are the last health cycle's.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from aiohttp import web

from collector.api.common import api, not_found, now_ms, ok
from collector.api.params import BadRequest, choice, path_id, text
from collector.health import funnel
from collector.http.keys import CONFIG, STORE
from protocol.timeunits import known_zone

#: the longest period one request may ask for (a year and a bit: every day's hours are summed)
MAX_DAYS = 400
DEFAULT_ZONE = "Asia/Shanghai"
GROUPS = ("scene", "tier")


def default_zone(app: web.Application) -> str:
    """``[health] timezone``: the zone of customers that have none of their own."""
    return app[CONFIG].health.timezone or DEFAULT_ZONE


def _date(request: web.Request, name: str) -> str | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        if len(raw) == 10:
            return dt.date.fromisoformat(raw).isoformat()
    except ValueError:
        pass
    raise BadRequest(f"{name} must be a date YYYY-MM-DD")


def period_of(request: web.Request) -> tuple[str | None, str | None]:
    """``from``/``to`` as given (both or neither; None: each customer's default period)."""
    first, last = _date(request, "from"), _date(request, "to")
    if (first is None) != (last is None):
        raise BadRequest("from and to go together (or leave both out for the last 30 complete local days)")
    if first is not None:
        if last < first:
            raise BadRequest("to must not be before from")
        if (dt.date.fromisoformat(last) - dt.date.fromisoformat(first)).days >= MAX_DAYS:
            raise BadRequest(f"the period from..to must be shorter than {MAX_DAYS} days")
    return first, last


def funnels_of(reads, customers: list[dict], now: int, zone: str, first: str | None,
               last: str | None) -> dict[str, dict]:
    """``{customer id: funnel}`` over each customer's own local dates (``first``..``last``, else its
    default period), from one read of the rollups."""
    periods, spans = {}, {}
    for c in customers:
        tz = c.get("timezone") or zone
        tz = tz if known_zone(tz) else zone  # a zone this machine does not know: the default's days
        periods[c["id"]] = p = (first, last) if first is not None else funnel.default_period(now, tz)
        spans[c["id"]] = funnel.span(*p, tz)
    totals = reads.usage_volumes(spans)
    return {c["id"]: funnel.build(totals.get(c["id"], {}), *periods[c["id"]], c.get("robots") or 0)
            for c in customers}


def customer_funnel(reads, customer: dict, now: int, zone: str, first: str | None = None,
                    last: str | None = None) -> dict:
    """One customer's funnel (``customer``: its page's summary, with ``robots.total``), with its
    scene's median conversion as the last health cycle saw it (``facts.funnel.scene``)."""
    c = {"id": customer["id"], "timezone": customer.get("timezone"), "robots": customer["robots"]["total"] or 0}
    out = funnels_of(reads, [c], now, zone, first, last)[customer["id"]]
    tz = customer.get("timezone") or zone
    out["timezone"] = tz if known_zone(tz) else zone
    out["scene"] = ((customer.get("facts") or {}).get("funnel") or {}).get("scene")
    return out


def _customer_funnel(reads, cid: str, now: int, zone: str, first: str | None, last: str | None) -> dict | None:
    summary = reads.get_customer(cid, now, ())
    return None if summary is None else customer_funnel(reads, summary, now, zone, first, last)


@api
async def get_customer_funnel(request: web.Request) -> web.Response:
    cid = path_id(request, "customer id")
    first, last = period_of(request)
    reads = request.app[STORE].reads
    out = await reads.run(_customer_funnel, reads, cid, now_ms(request), default_zone(request.app), first, last)
    return not_found("customer", cid) if out is None else ok(out)


def _scene_funnels(reads, now: int, zone: str, first: str | None, last: str | None, scene: str | None) -> dict:
    customers = [c for c in reads.customer_funnel_inputs() if scene is None or c["scene"] == scene]
    funnels = funnels_of(reads, customers, now, zone, first, last)
    firsts = sorted({f["from"] for f in funnels.values()}) or [first]
    lasts = sorted({f["to"] for f in funnels.values()}) or [last]
    scenes = funnel.scene_funnels(((c["scene"] or "", funnels[c["id"]]) for c in customers), firsts[0], lasts[-1])
    rows = [{"id": c["id"], "name": c["name"], "scene": c["scene"] or "", "tier": c["tier"] or "",
             "csm": c["csm"] or "", "lifecycle": c["lifecycle"], **funnels[c["id"]]} for c in customers]
    rows.sort(key=lambda r: (r["conversion"] is None, r["conversion"] or 0.0, r["id"]))
    return {"from": firsts[0], "to": lasts[-1], "scenes": list(scenes.values()), "customers": rows}


@api
async def get_funnels(request: web.Request) -> web.Response:
    first, last = period_of(request)
    scene = text(request, "scene")
    reads = request.app[STORE].reads
    return ok(await reads.run(_scene_funnels, reads, now_ms(request), default_zone(request.app), first, last, scene))


def below_average(customers: list[dict], by: str) -> dict:
    """The customers scored under the mean score of their ``by`` group (scene or tier) by at least
    0.1 (the scores' precision: 0.02 under a mean is no finding), each with the group's mean and the
    gap, the widest gap first.  Unscored customers (no health yet) are
    neither in a mean nor listed; a group of one has nobody under its own mean."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for c in customers:
        if c["score"] is not None:
            groups[c[by] or ""].append(c)
    items, averages = [], {}
    for key, members in sorted(groups.items()):
        mean = sum(m["score"] for m in members) / len(members)
        averages[key] = {by: key, "customers": len(members), "average": round(mean, 1)}
        for m in members:
            if round(mean - m["score"], 1) > 0:  # under by a tenth of a point or more (scores are tenths)
                items.append({"id": m["id"], "name": m["name"], "scene": m["scene"] or "", "tier": m["tier"] or "",
                              "csm": m["csm"] or "", "score": m["score"], "color": m["color"],
                              "lifecycle": m["lifecycle"], "group": key, "average": round(mean, 1),
                              "gap": round(mean - m["score"], 1)})
    items.sort(key=lambda i: (-i["gap"], i["id"]))
    return {"by": by, "groups": list(averages.values()), "items": items, "total": len(items)}


@api
async def get_below_average(request: web.Request) -> web.Response:
    by = choice(request, "by", GROUPS) or "scene"
    reads = request.app[STORE].reads
    customers = await reads.run(reads.customer_funnel_inputs)
    return ok(below_average(customers, by))


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/customers/{id}/funnel", get_customer_funnel)
    app.router.add_get("/api/v1/funnel", get_funnels)
    app.router.add_get("/api/v1/below-average", get_below_average)
