"""Errors as JSON bodies with a message, the same shape on every route.

``api_json_errors`` makes that true under ``/api/v1`` for the errors aiohttp raises itself before
or around a handler (no such route 404, wrong method 405, body too large 413, bad request 400), and
for a handler's unexpected exception (500, logged with its traceback, throttled)."""

from __future__ import annotations

from aiohttp import web

from collector.http.throttle import Throttle, log

API_PREFIX = "/api/v1"
#: response headers of an HTTP exception worth keeping on its JSON form
KEPT_HEADERS = ("Allow", "Retry-After", "Location")
#: unexpected exceptions: one log line (with a traceback) per exception type per interval
_FAILURES = Throttle()


def json_error(status: int, message: str, **extra) -> web.Response:
    return web.json_response({"error": {"status": status, "message": message, **extra}}, status=status)


def _under_api(path: str) -> bool:
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


@web.middleware
async def api_json_errors(request: web.Request, handler):
    if not _under_api(request.path):
        return await handler(request)
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        default = exc.text in (None, "", f"{exc.status}: {exc.reason}")
        response = json_error(exc.status, exc.reason if default else exc.text)
        for key in KEPT_HEADERS:
            if key in exc.headers:
                response.headers[key] = exc.headers[key]
        return response
    except Exception as exc:  # a bug: answer in the API's shape, log it (not a flood)
        count = _FAILURES.ready(type(exc).__name__)
        if count:
            log.error("api_request_failed", path=request.path, method=request.method, count=count,
                      exc_info=exc)
        return json_error(500, "internal error")
