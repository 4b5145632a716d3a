"""The /api/v1 part of the collector's HTTP app (see collector/http/app.py PARTS).

Each route module adds its own routes; the reader pool is shared with the feed."""

from __future__ import annotations

from aiohttp import web

from collector.api import alerts, cors, customers, exports, openapi, readers, robots


def setup(app: web.Application) -> None:
    readers.setup(app)
    cors.setup(app)
    for module in (customers, robots, alerts, exports, openapi):
        module.setup(app)
