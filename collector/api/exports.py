"""CSV exports of customers, robots and alerts, for Excel and Tableau.

UTF-8 with a byte-order mark (Excel then reads Chinese names correctly), one header row, ISO 8601
timestamps in the customer's local time with its offset (``2026-11-26T16:00:00+08:00``: what the
CSM's day is, and still one exact instant; UTC ``...Z`` where no customer is concerned), dates as
``YYYY-MM-DD``, CRLF line ends.  The column
names below are part of the documented interface (docs/api.md): add columns at the end, never
rename.  Text cells that a spreadsheet would run as a formula get a leading apostrophe: those
starting with ``= + - @``, and with a TAB or CR, which Excel and LibreOffice skip before looking
for a formula (robots send ``scene`` and ``agent_version`` themselves)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from aiohttp import web

from collector.alerts.states import OPEN
from collector.api import outcome_rates, outcomes
from collector.api.common import api
from collector.api.params import EXPORT_LIMIT, alert_filters, customer_filters, ident, robot_filters
from collector.http.keys import STORE
from collector.store.seam import ReadStore
from protocol.catalogue import HEALTH_SUBSYSTEMS, subsystem_metrics

CUSTOMER_COLUMNS = ("id", "name", "scene", "tier", "csm", "contract_start", "contract_end", "arr",
                    "score", "color", "trend", "robots_total", "robots_online", "robots_offline",
                    "robots_stale", "open_alerts", "color_since", "computed_at", "distributor")
#: the catalogue's known skills (``skill.guide`` -> ``guide``): one share column each
SKILLS = tuple(m.name.split(".", 1)[1] for m in subsystem_metrics("skills"))
#: issue 13: the time zone the timestamps are in, per-robot usage over robot-days in service, seed
#: 002's three figures per subsystem (robots with anomalies, anomaly count, anomaly rate) and the
#: skill mix of the customer's last local day (each skill's share of skill uses)
CUSTOMER_COLUMNS += ("timezone", "interactions_per_robot_day_30d", "robot_days_30d",
                     *(f"{s}_{f}" for s in HEALTH_SUBSYSTEMS
                       for f in ("robots_with_anomalies", "anomaly_count", "anomaly_rate")),
                     *(f"skill_{k}" for k in SKILLS), "skill_other",
                     "lifecycle")  # issue 14: the customer's lifecycle stage
ROBOT_COLUMNS = ("id", "customer", "customer_name", "site", "scene", "state", "score", "worst",
                 *HEALTH_SUBSYSTEMS, "agent_version", "status", "last_seen_at", "last_window_at",
                 "computed_at")
ALERT_COLUMNS = ("id", "rule", "state", "severity", "customer", "customer_name", "site", "robot",
                 "summary", "opened_at", "fired_at", "updated_at", "resolved_at", "snoozed_until")


#: the zone of customers without one imported nor yet evaluated (``[health] timezone``'s default)
DEFAULT_ZONE = "Asia/Shanghai"


def iso(ms: int | None, zone: str | None = None) -> str:
    """``ms`` as ISO 8601: in ``zone`` with its offset (``2026-11-27T19:59:55+08:00``), else UTC (``Z``)."""
    if ms is None:
        return ""
    if zone:
        try:
            return datetime.fromtimestamp(ms / 1000, ZoneInfo(zone)).isoformat(timespec="seconds")
        except (ValueError, KeyError, OSError):  # a zone unknown here: UTC
            pass
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _health_columns(facts: dict) -> dict:
    """The issue-13 columns of ``customers.csv`` from a customer's stored health facts."""
    out: dict = {}
    use = facts.get("usage") or {}
    out["interactions_per_robot_day_30d"] = use.get("interactions_per_robot_day_30d")
    out["robot_days_30d"] = use.get("robot_days_30d")
    for sub, a in (facts.get("anomalies") or {}).items():
        out[f"{sub}_robots_with_anomalies"] = a.get("robots")
        out[f"{sub}_anomaly_count"] = a.get("count")
        out[f"{sub}_anomaly_rate"] = a.get("rate")
    mix = facts.get("skills")
    if isinstance(mix, dict):
        for k in SKILLS:
            out[f"skill_{k}"] = mix.get(k, 0.0)
        out["skill_other"] = round(sum(v for k, v in mix.items() if k not in SKILLS), 3)
    return out


#: first characters that make a spreadsheet cell a formula (OWASP's "CSV injection" list)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> object:
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def to_csv(columns: tuple[str, ...], rows: list[dict]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def customer_rows(reads: ReadStore, filters: dict) -> list[dict]:
    out = []
    items = reads.list_customers(filters, "id", EXPORT_LIMIT, 0, OPEN)["items"]
    facts = reads.customer_facts([c["id"] for c in items if c["health"]])
    for c in items:
        h = c["health"] or {}
        zone = c.get("timezone") or DEFAULT_ZONE
        out.append({**c, "score": h.get("score"), "color": h.get("color"), "trend": h.get("trend"),
                    "robots_total": c["robots"]["total"], "robots_online": c["robots"]["online"],
                    "robots_offline": c["robots"]["offline"], "robots_stale": c["robots"]["stale"],
                    "color_since": iso(h.get("color_since_ms"), zone), "computed_at": iso(h.get("computed_ms"), zone),
                    "timezone": zone, **_health_columns(facts.get(c["id"], {}))})
    return out


def robot_rows(reads: ReadStore, filters: dict) -> list[dict]:
    names, zones, out = reads.customer_names(), reads.customer_zones(), []
    for r in reads.list_robots(filters, EXPORT_LIMIT, 0)["items"]:
        h = r["health"] or {}
        subsystems = h.get("subsystems") or {}
        zone = zones.get(r["customer"]) or DEFAULT_ZONE
        out.append({**r, "customer_name": names.get(r["customer"], ""), "score": h.get("score"),
                    "worst": h.get("worst"), "status": r["status"]["state"],
                    **{s: (subsystems.get(s) or {}).get("state", "") for s in HEALTH_SUBSYSTEMS},
                    "last_seen_at": iso(r["last_seen_ms"], zone), "last_window_at": iso(r["last_window_ms"], zone),
                    "computed_at": iso(h.get("computed_ms"), zone)})
    return out


def alert_rows(reads: ReadStore, filters: dict) -> list[dict]:
    names, zones, out = reads.customer_names(), reads.customer_zones(), []
    for a in reads.list_alerts(filters, EXPORT_LIMIT, 0)["items"]:
        zone = zones.get(a["customer"]) or DEFAULT_ZONE if a["customer"] else None
        out.append({**a, "customer_name": names.get(a["customer"], ""), "opened_at": iso(a["opened_ms"], zone),
                    "fired_at": iso(a["fired_ms"], zone), "updated_at": iso(a["updated_ms"], zone),
                    "resolved_at": iso(a["resolved_ms"], zone), "snoozed_until": iso(a["snoozed_until_ms"], zone)})
    return out


# ------------------------------------------------------------------ commercial events, outcomes (issue 14)
EVENT_COLUMNS = ("id", "customer", "customer_name", "date", "kind", "amount", "robots", "referred_by",
                 "contract_end", "previous_end", "note", "actor", "source", "created_at")
OUTCOME_COLUMNS = ("group", "key", "from", "to", *outcome_rates.FIELDS)


def event_filters(request: web.Request) -> dict:
    return {"customer": ident(request, "customer")}


def event_rows(reads: ReadStore, filters: dict) -> list[dict]:
    names = reads.customer_names()
    return [{**e, "customer_name": names.get(e["customer"], ""), "created_at": iso(e["created_ms"])}
            for e in reads.list_events(filters["customer"], EXPORT_LIMIT)]


def outcome_filters(request: web.Request) -> dict:
    start, end, group = outcomes.period(request)
    return {"from": start, "to": end, "group": group, "today": outcomes.today_of(request).isoformat(),
            "cache": request.app[outcomes.OUTCOMES]}


def outcome_rows(reads: ReadStore, f: dict) -> list[dict]:
    """The overall row (group ``all``), then one row per group value."""
    result = outcomes.outcomes_of(reads, f["cache"], f["from"], f["to"], f["today"], f["group"])
    period = {"from": f["from"], "to": f["to"]}
    return [{"group": "all", "key": "", **period, **result["overall"]},
            *({"group": f["group"], **period, **g} for g in result["groups"])]


EXPORTS = {
    "customers": (CUSTOMER_COLUMNS, customer_rows, customer_filters),
    "robots": (ROBOT_COLUMNS, robot_rows, robot_filters),
    "alerts": (ALERT_COLUMNS, alert_rows, alert_filters),
    "events": (EVENT_COLUMNS, event_rows, event_filters),
    "outcomes": (OUTCOME_COLUMNS, outcome_rows, outcome_filters),
}


def _export(name: str):
    columns, rows_fn, filters_fn = EXPORTS[name]

    @api
    async def handler(request: web.Request) -> web.Response:
        filters = filters_fn(request)
        reads = request.app[STORE].reads
        body = await reads.run(lambda: to_csv(columns, rows_fn(reads, filters)))
        return web.Response(body=body, content_type="text/csv", charset="utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})

    handler.__name__ = f"export_{name}"
    return handler


def setup(app: web.Application) -> None:
    for name in EXPORTS:
        app.router.add_get(f"/api/v1/export/{name}.csv", _export(name))
