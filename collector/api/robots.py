"""Routes: the robot list and one robot (status, subsystem health, recent usage, its alerts).

``/api/v1/robots/{id}/counters`` is served by collector/http/counters.py."""

from __future__ import annotations

from aiohttp import web

from collector.api import alert_queries, queries
from collector.api.common import api, not_found, now_ms, ok
from collector.api.params import page, path_id, robot_filters
from collector.api.readers import READERS


@api
async def list_robots(request: web.Request) -> web.Response:
    filters, (limit, offset) = robot_filters(request), page(request)
    return ok(await request.app[READERS].run(queries.list_robots, filters, limit, offset))


def _robot_page(conn, robot: str, now: int) -> dict | None:
    out = queries.get_robot(conn, robot, now)
    if out is None:
        return None
    out["alerts"] = alert_queries.list_alerts(
        conn, {"robot": robot, "states": ("pending", "firing", "acknowledged", "snoozed")}, 200, 0,
        count=False)["items"]
    out["timeline"] = alert_queries.timeline(conn, robot=robot)
    return out


@api
async def get_robot(request: web.Request) -> web.Response:
    robot = path_id(request, "robot id")
    out = await request.app[READERS].run(_robot_page, robot, now_ms(request))
    return not_found("robot", robot) if out is None else ok(out)


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/robots", list_robots)
    app.router.add_get("/api/v1/robots/{id}", get_robot)
