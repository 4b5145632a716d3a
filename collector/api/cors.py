"""CORS, only when ``[http] cors_origins`` lists origins: none by default, so a browser page from
another site cannot read the API with a viewer's token.  Installed outermost so that a preflight
(which carries no token) is answered before authentication."""

from __future__ import annotations

from aiohttp import web

from collector.http.keys import CONFIG

ALLOW_HEADERS = "Authorization, Content-Type, Last-Event-ID"
ALLOW_METHODS = "GET, POST, OPTIONS"


def make_middleware(origins: list[str]):
    allowed = frozenset(o.rstrip("/") for o in origins)

    @web.middleware
    async def cors(request: web.Request, handler):
        origin = request.headers.get("Origin", "")
        ok = origin in allowed or "*" in allowed
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            if not ok:
                return web.Response(status=403, text="origin not allowed")
            return web.Response(status=204, headers={
                "Access-Control-Allow-Origin": origin, "Access-Control-Allow-Methods": ALLOW_METHODS,
                "Access-Control-Allow-Headers": ALLOW_HEADERS, "Access-Control-Max-Age": "600",
                "Vary": "Origin"})
        response = await handler(request)
        if ok:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
        return response

    return cors


def setup(app: web.Application) -> None:
    origins = app[CONFIG].http.cors_origins or []
    if origins:
        app.middlewares.insert(0, make_middleware(origins))
