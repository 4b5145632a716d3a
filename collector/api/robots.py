"""Routes: the robot list and one robot (status, subsystem health, recent usage, its alerts).

``/api/v1/robots/{id}/counters`` is served by collector/api/counters.py."""

from __future__ import annotations

from aiohttp import web

from collector.alerts.states import UNRESOLVED
from collector.api import funnels
from collector.api.common import api, not_found, now_ms, ok
from collector.api.params import page, path_id, robot_filters
from collector.http.keys import STORE
from collector.store.seam import ReadStore


@api
async def list_robots(request: web.Request) -> web.Response:
    filters, (limit, offset) = robot_filters(request), page(request)
    reads = request.app[STORE].reads
    return ok(await reads.run(reads.list_robots, filters, limit, offset))


def _robot_page(reads: ReadStore, robot: str, now: int, zone: str = funnels.DEFAULT_ZONE) -> dict | None:
    """The robot, its last 7 local days of usage and skills (its customer's days; ``zone`` for a
    customer with no zone), its alerts that are not resolved (pending ones included) and its timeline."""
    out = reads.get_robot(robot, now, zone=zone)
    if out is None:
        return None
    out["alerts"] = reads.list_alerts({"robot": robot, "states": UNRESOLVED}, 200, 0, count=False)["items"]
    out["timeline"] = reads.timeline(robot=robot)
    return out


@api
async def get_robot(request: web.Request) -> web.Response:
    robot = path_id(request, "robot id")
    reads = request.app[STORE].reads
    out = await reads.run(_robot_page, reads, robot, now_ms(request), funnels.default_zone(request.app))
    return not_found("robot", robot) if out is None else ok(out)


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/robots", list_robots)
    app.router.add_get("/api/v1/robots/{id}", get_robot)
