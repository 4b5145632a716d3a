"""Bearer tokens for /api/v1: ``viewer`` reads, ``admin`` also acts.  Compared in constant time.

A failed authentication is logged (``auth_failed``: the reason, the remote address and the path,
never the presented text), at most once per reason per interval with a count, so a scan cannot
flood the log.  Credentials that are not UTF-8 (aiohttp hands such header bytes over as lone
surrogates) get a 401 like an unknown token, not a 500."""

from __future__ import annotations

import hmac

from aiohttp import web

from collector.http.errors import json_error
from collector.http.keys import CONFIG, PERSON, ROLE, TOKEN_NAME
from collector.http.throttle import Throttle, log
from protocol.config import Values

ROLE_RANK = {"viewer": 1, "admin": 2}
_FAILURES = Throttle()


def _match(tokens: tuple[Values, ...], presented: str) -> Values | None:
    found = None
    for entry in tokens:  # compare against every token so timing does not tell which matched
        if hmac.compare_digest(entry.token.encode(), presented.encode()):
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
        _log_failure(request, "missing")
        return json_error(401, "missing bearer token", hint="send Authorization: Bearer <token>")
    if not _encodable(presented):
        _log_failure(request, "malformed")
        return json_error(401, "malformed bearer token")
    entry = _match(request.app[CONFIG].http.tokens, presented.strip())
    if entry is None:
        _log_failure(request, "unknown")
        return json_error(401, "unknown token")
    request[ROLE] = entry.role
    request[TOKEN_NAME] = entry.name
    request[PERSON] = entry.person
    return await handler(request)


def _encodable(presented: str) -> bool:
    """False for header bytes that were not UTF-8 (aiohttp keeps them as lone surrogates)."""
    try:
        presented.encode()
    except UnicodeEncodeError:
        return False
    return True


def _log_failure(request: web.Request, reason: str) -> None:
    count = _FAILURES.ready(reason)
    if count:
        log.warning("auth_failed", reason=reason, remote=request.remote, path=request.path, count=count,
                    interval_s=_FAILURES.interval_s,
                    forwarded_for=request.headers.get("X-Forwarded-For", "")[:100])


def require_role(request: web.Request, role: str) -> web.Response | None:
    """A 403 response when the request's token is below ``role``, else None."""
    if ROLE_RANK.get(request.get(ROLE, ""), 0) < ROLE_RANK[role]:
        return json_error(403, f"this action needs the {role} role")
    return None


def actor(request: web.Request) -> str:
    """Who an action is attributed to: the token's person (issue 14: actions and notes name someone
    real), else the token's name (a token without a person, as in the first release)."""
    return request.get(PERSON) or request.get(TOKEN_NAME) or "unknown"
