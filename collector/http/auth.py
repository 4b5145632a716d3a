"""Bearer tokens for /api/v1: ``viewer`` reads, ``admin`` also acts.  Compared in constant time."""

from __future__ import annotations

import hmac

from aiohttp import web

from collector.http.errors import json_error
from collector.http.keys import CONFIG, ROLE, TOKEN_NAME

ROLE_RANK = {"viewer": 1, "admin": 2}


def _match(tokens: list[dict], presented: str) -> dict | None:
    found = None
    for entry in tokens:  # compare against every token so timing does not tell which matched
        if hmac.compare_digest(entry["token"].encode(), presented.encode()):
            found = entry
    return found


@web.middleware
async def auth_middleware(request: web.Request, handler):
    if not request.path.startswith("/api/v1/") or request.path == "/api/v1/openapi.json":
        return await handler(request)
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or not presented:
        presented = request.query.get("access_token", "") if request.path == "/api/v1/feed" else ""
    if not presented:
        return json_error(401, "missing bearer token", hint="send Authorization: Bearer <token>")
    entry = _match(request.app[CONFIG]["http"]["tokens"], presented.strip())
    if entry is None:
        return json_error(401, "unknown token")
    request[ROLE] = entry["role"]
    request[TOKEN_NAME] = entry["name"]
    return await handler(request)


def require_role(request: web.Request, role: str) -> web.Response | None:
    """A 403 response when the request's token is below ``role``, else None."""
    if ROLE_RANK.get(request.get(ROLE, ""), 0) < ROLE_RANK[role]:
        return json_error(403, f"this action needs the {role} role")
    return None
