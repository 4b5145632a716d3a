"""``GET /api/v1/robots/{id}/counters?from=MS&to=MS``: a robot's summed counters over a range.

Sums the windows with ``from <= t0`` and ``t1 <= to`` (docs/contract.md section 4), answered from the
hourly and daily rollups wherever the range allows (``ReadStore.robot_counters``, see
``collector.store.sqlite.counters``).  ``to``
defaults to now and ``from`` to 24 hours before ``to``.  Bad parameters give 400, an unknown
robot 404, both as JSON errors.
"""

from __future__ import annotations

from aiohttp import web

from collector.http.errors import json_error
from collector.http.keys import CLOCK, STORE
from protocol.timeunits import DAY_MS
from protocol.topics import is_valid_id

MAX_RANGE_MS = 3 * 366 * DAY_MS


def _int_param(request: web.Request, name: str, default: int) -> int:
    text = request.query.get(name, "")
    if text == "":
        return default
    if not text.lstrip("-").isdigit() or len(text) > 16:
        raise ValueError(f"{name} must be an integer, milliseconds since the epoch")
    value = int(text)
    if value < 0:
        raise ValueError(f"{name} must be >= 0")
    return value


async def counters(request: web.Request) -> web.Response:
    robot = request.match_info["id"]
    if not is_valid_id(robot):
        return json_error(400, "robot id must match ^[a-z0-9][a-z0-9_-]{0,63}$")
    try:
        to_ms = _int_param(request, "to", int(request.app[CLOCK]()))
        from_ms = _int_param(request, "from", max(0, to_ms - DAY_MS))
    except ValueError as exc:
        return json_error(400, str(exc))
    if from_ms >= to_ms:
        return json_error(400, "from must be before to")
    if to_ms - from_ms > MAX_RANGE_MS:
        return json_error(400, "range is longer than 3 years")
    reads = request.app[STORE].reads
    result = await reads.run(reads.robot_counters, robot, from_ms, to_ms)
    if result is None:
        return json_error(404, f"unknown robot {robot}")
    return web.json_response({"robot": robot, "from": from_ms, "to": to_ms, **result})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/robots/{id}/counters", counters)
