"""Routes: a customer's monthly value report (issue 15).

``GET /api/v1/customers/{id}/reports/{YYYY-MM}`` answers the report's figures as JSON (contract
section 6); with ``?format=html`` the same report as the dashboard shows and prints it (an HTML
fragment in ``lang``, default the customer's language).  ``GET /api/v1/customers/{id}/reports``
lists the months a report can be made for (the dashboard's month picker, the handover's links).
A month that has not begun is a 400, one before the customer's first data a 404, both naming it.
"""

from __future__ import annotations

from aiohttp import web

from collector.api.common import api, dumps, json_bytes, not_found, now_ms
from collector.api.params import BadRequest, path_id
from collector.http.errors import json_error
from collector.http.keys import CONFIG, STORE
from collector.report import build, period, render


def _lang(request: web.Request) -> str | None:
    lang = request.query.get("lang")
    if lang is None:
        return None
    if lang not in render.LANGUAGES:
        raise BadRequest(f"lang must be one of {', '.join(render.LANGUAGES)}")
    return lang


def _format(request: web.Request) -> str:
    fmt = request.query.get("format", "json")
    if fmt not in ("json", "html"):
        raise BadRequest("format must be json or html")
    return fmt


def _report(reads, customer: str, month: str, now: int, health, fmt: str, lang: str | None):
    figures = build.report(reads, customer, month, now, health)
    if fmt == "html":
        return render.fragment(figures, lang or render.language_of(figures)).encode()
    return dumps(figures).encode()


@api
async def get_report(request: web.Request) -> web.Response:
    customer = path_id(request, "customer id")
    month, fmt, lang = request.match_info["month"], _format(request), _lang(request)
    reads = request.app[STORE].reads
    try:
        body = await reads.run(_report, reads, customer, month, now_ms(request), request.app[CONFIG].health,
                               fmt, lang)
    except period.ReportError as exc:
        return json_error(exc.status, exc.message)
    if fmt == "html":
        return web.Response(body=body, content_type="text/html", charset="utf-8")
    return json_bytes(body)


def _months(reads, customer: str, now: int, health) -> dict | None:
    row, first = reads.report_customer(customer)
    if row is None:
        return None
    zone = row.get("timezone") or health.timezone
    months = [] if first is None else period.months_between(first, now, zone)
    return {"customer": customer, "timezone": zone, "language": row.get("language") or "zh",
            "months": months[::-1]}


@api
async def list_reports(request: web.Request) -> web.Response:
    customer = path_id(request, "customer id")
    reads = request.app[STORE].reads
    out = await reads.run(_months, reads, customer, now_ms(request), request.app[CONFIG].health)
    return not_found("customer", customer) if out is None else json_bytes(dumps(out).encode())


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/customers/{id}/reports", list_reports)
    app.router.add_get("/api/v1/customers/{id}/reports/{month}", get_report)
