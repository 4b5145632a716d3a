"""``GET /``: the CS dashboard, static files served by the collector itself (no CDN, works offline).

The page is plain HTML, CSS and JavaScript with hand-drawn SVG charts; it logs in with a token kept
in sessionStorage and talks to /api/v1 like any other client."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).resolve().parent / "static"


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


def setup(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC, name="dashboard_static", append_version=False)
