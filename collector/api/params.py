"""Query-string and path parsing shared by the API routes.

An empty value is a value: ``?limit=`` or ``?color=`` is a 400 like any other bad value (only the
free-text filters take an empty string, meaning no filter).

Every value a client sends is checked here once, so that handlers only see clean values and a bad
value becomes a 400 with a message naming the parameter (never a 500, never raw SQL)."""

from __future__ import annotations

from aiohttp import web

from collector.alerts.states import OPEN, STATES
from collector.health.lifecycle import STAGES as LIFECYCLE_STAGES
from protocol.topics import ID_RE

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
#: exports are not paginated but still bounded, so one request cannot ask for everything forever
EXPORT_LIMIT = 100_000

COLORS = ("green", "yellow", "red")
ROBOT_STATES = ("online", "offline", "stale", "unknown")
SEVERITIES = ("info", "warning", "critical")
RULES = ("robot_offline", "subsystem_degraded", "site_outage", "usage_drop", "below_peers",
         "onboarding_stalled", "renewal_risk", "benchmark_candidate", "fleet_dormant", "goal_at_risk")


class BadRequest(Exception):
    """A client error: becomes ``json_error(400, message)``."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def path_id(request: web.Request, what: str = "id") -> str:
    value = request.match_info["id"]
    if not ID_RE.match(value):
        raise BadRequest(f"{what} must match {ID_RE.pattern}")
    return value


def alert_id(request: web.Request) -> int:
    value = request.match_info["id"]
    if not value.isascii() or not value.isdigit() or len(value) > 18 or int(value) < 1:
        raise BadRequest("alert id must be a positive integer")
    return int(value)


def integer(request: web.Request, name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer") from None
    if not low <= value <= high:
        raise BadRequest(f"{name} must be between {low} and {high}")
    return value


def page(request: web.Request) -> tuple[int, int]:
    """``(limit, offset)`` from ``?limit=&offset=`` (limit 1..MAX_LIMIT, default DEFAULT_LIMIT)."""
    return (integer(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
            integer(request, "offset", 0, 0, 10_000_000))


def choice(request: web.Request, name: str, allowed: tuple[str, ...]) -> str | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    if raw not in allowed:
        raise BadRequest(f"{name} must be one of {', '.join(allowed)}")
    return raw


def ident(request: web.Request, name: str) -> str | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    if not ID_RE.match(raw):
        raise BadRequest(f"{name} must match {ID_RE.pattern}")
    return raw


def text(request: web.Request, name: str, max_len: int = 100) -> str | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    if len(raw) > max_len:
        raise BadRequest(f"{name} must be at most {max_len} characters")
    return raw


def customer_filters(request: web.Request) -> dict:
    return {"scene": text(request, "scene"), "color": choice(request, "color", COLORS),
            "csm": text(request, "csm"), "tier": text(request, "tier"),
            "customer": ident(request, "customer"), "q": text(request, "q"),
            "lifecycle": choice(request, "lifecycle", LIFECYCLE_STAGES)}


def robot_filters(request: web.Request) -> dict:
    return {"customer": ident(request, "customer"), "scene": text(request, "scene"),
            "state": choice(request, "state", ROBOT_STATES), "site": ident(request, "site"),
            "csm": text(request, "csm")}


def alert_filters(request: web.Request) -> dict:
    state = choice(request, "state", STATES + ("open",))
    states = OPEN if state == "open" else (state,) if state else ()
    return {"states": states, "customer": ident(request, "customer"), "robot": ident(request, "robot"),
            "rule": choice(request, "rule", RULES), "severity": choice(request, "severity", SEVERITIES),
            "csm": text(request, "csm"), "scene": text(request, "scene")}
