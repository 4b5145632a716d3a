"""Routes: a customer's contacts and notes, and its handover (issue 15, seed 003: a CSM taking over
an account finds the whole context in one place).

- ``GET``/``POST /api/v1/customers/{id}/notes``: CS notes, newest first; an admin adds one, attributed
  to the token's person (``collector.http.auth.actor``) with the time.  Notes are kept for good.
- ``GET``/``POST /api/v1/customers/{id}/contacts``, ``DELETE .../contacts/{contact}``: the customer's
  people; posting a known name updates that contact.
- ``GET /api/v1/customers/{id}/handover``: what the handover page needs beyond the customer's own
  JSON, in one request: contacts, notes, commercial events, the last ``days`` (90) of the alert
  timeline, and the local months a monthly report can be asked for.

Order of checks on a write: the role (403), the ids (400), the customer (404), then the body (400),
so a viewer learns nothing about customers and a bad body never reaches the store."""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

from aiohttp import web

from collector.alerts.states import OPEN
from collector.api.admin_writes import admin_customer, json_object, write_as_actor, written
from collector.api.common import api, not_found, now_ms, ok
from collector.api.params import BadRequest, integer, page, path_id
from collector.http.auth import actor, require_role
from collector.http.keys import CONFIG, STORE, TOKEN_NAME
from collector.store.handover import contact_row, note_text
from protocol.timeunits import DAY_MS

#: the handover's timeline: the last 90 days by default (seed 003's "recent history"), at most a year
TIMELINE_DAYS, MAX_TIMELINE_DAYS = 90, 366
#: alert transitions read for it at most (a fleet in a storm can have more; ``timeline_truncated``)
TIMELINE_ROWS = 1000
#: notes in the handover (older ones: ``GET .../notes?offset=``)
HANDOVER_NOTES = 100
#: report months listed at most, newest first
MAX_MONTHS = 24
DEFAULT_ZONE = "Asia/Shanghai"


def _parsed(parse, *args):
    try:
        return parse(*args)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


def contact_id(request: web.Request) -> int:
    value = request.match_info["contact"]
    if not value.isascii() or not value.isdigit() or len(value) > 18 or int(value) < 1:
        raise BadRequest("contact id must be a positive integer")
    return int(value)


async def _known_customer(request: web.Request) -> str | None:
    """The path's customer id (400 when malformed), or None when no such customer is stored."""
    customer = path_id(request, "customer id")
    reads = request.app[STORE].reads
    return customer if await reads.run(reads.customer_exists, customer) else None


# ------------------------------------------------------------------ notes
@api
async def list_notes(request: web.Request) -> web.Response:
    limit, offset = page(request)
    customer = await _known_customer(request)
    if customer is None:
        return not_found("customer", request.match_info["id"])
    store = request.app[STORE]
    return ok(await store.reads.run(store.handover.notes, customer, limit, offset))


@api
async def post_note(request: web.Request) -> web.Response:
    customer, _, refused = await admin_customer(request)
    if refused is not None:
        return refused
    text = _parsed(note_text, json_object(await request.read()))
    store = request.app[STORE]
    note_id = await asyncio.to_thread(store.handover.add_note, customer, text, actor(request),
                                      request.get(TOKEN_NAME, ""), now_ms(request))
    note = await store.reads.run(store.handover.get_note, note_id)
    return written({"note": note})


# ------------------------------------------------------------------ contacts
@api
async def list_contacts(request: web.Request) -> web.Response:
    customer = await _known_customer(request)
    if customer is None:
        return not_found("customer", request.match_info["id"])
    store = request.app[STORE]
    items = await store.reads.run(store.handover.contacts, customer)
    return ok({"items": items, "total": len(items)})


@api
async def post_contact(request: web.Request) -> web.Response:
    customer, _, refused = await admin_customer(request)
    if refused is not None:
        return refused
    row = _parsed(contact_row, customer, json_object(await request.read()))
    store = request.app[STORE]
    ident, created = await write_as_actor(request, store.handover.put_contact, row)
    contact = await store.reads.run(store.handover.get_contact, ident)
    return written({"contact": contact, "created": created}, created)


@api
async def delete_contact(request: web.Request) -> web.Response:
    denied = require_role(request, "admin")
    if denied is not None:
        return denied
    ident = contact_id(request)
    customer = await _known_customer(request)
    if customer is None:
        return not_found("customer", request.match_info["id"])
    removed = await asyncio.to_thread(request.app[STORE].handover.remove_contact, customer, ident)
    return ok({"id": ident, "removed": True}) if removed else not_found("contact", ident)


# ------------------------------------------------------------------ the handover
def zone_of(request: web.Request, timezone: str | None) -> ZoneInfo:
    """The customer's zone: its own, else ``[health] timezone``, else Asia/Shanghai."""
    fallback = request.app[CONFIG].health.timezone or DEFAULT_ZONE
    for name in (timezone, fallback, DEFAULT_ZONE):
        if name:
            try:
                return ZoneInfo(name)
            except (ValueError, KeyError, OSError):
                continue
    return ZoneInfo(DEFAULT_ZONE)


def report_months(first_ms: int | None, now: int, zone: ZoneInfo) -> list[dict]:
    """The local months from the one of the first data to the current one, newest first (at most
    MAX_MONTHS): the months a monthly report has data for.  The current month is not complete."""
    if first_ms is None:
        return []
    local = lambda ms: dt.datetime.fromtimestamp(ms / 1000, zone)  # noqa: E731
    first, current = local(first_ms), local(now)
    months = []
    year, month = current.year, current.month
    while (year, month) >= (first.year, first.month) and len(months) < MAX_MONTHS:
        months.append({"month": f"{year:04d}-{month:02d}", "complete": (year, month) != (current.year, current.month)})
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months


def _handover(store, customer: str, now: int, days: int) -> dict | None:
    """One read of the handover's parts (runs in the read store's worker thread)."""
    reads, parts = store.reads, store.handover
    found = reads.list_customers({"customer": customer}, "id", 1, 0, OPEN)["items"]
    if not found:
        return None
    since = now - days * DAY_MS
    transitions = reads.timeline(customer=customer, limit=TIMELINE_ROWS)
    return {"customer": customer, "timezone": found[0].get("timezone"), "days": days, "since_ms": since,
            "contacts": parts.contacts(customer),
            "notes": parts.notes(customer, HANDOVER_NOTES, 0),
            "events": reads.list_events(customer),
            "timeline": [e for e in transitions if e["ts_ms"] >= since],
            "timeline_truncated": len(transitions) == TIMELINE_ROWS and transitions[-1]["ts_ms"] >= since,
            "first_data_ms": parts.first_data(customer)}


@api
async def get_handover(request: web.Request) -> web.Response:
    customer = path_id(request, "customer id")
    days = integer(request, "days", TIMELINE_DAYS, 1, MAX_TIMELINE_DAYS)
    store, now = request.app[STORE], now_ms(request)
    out = await store.reads.run(_handover, store, customer, now, days)
    if out is None:
        return not_found("customer", customer)
    out["months"] = report_months(out["first_data_ms"], now, zone_of(request, out["timezone"]))
    return ok(out)


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/customers/{id}/handover", get_handover)
    app.router.add_get("/api/v1/customers/{id}/notes", list_notes)
    app.router.add_post("/api/v1/customers/{id}/notes", post_note)
    app.router.add_get("/api/v1/customers/{id}/contacts", list_contacts)
    app.router.add_post("/api/v1/customers/{id}/contacts", post_contact)
    app.router.add_delete("/api/v1/customers/{id}/contacts/{contact}", delete_contact)
