"""``GET /api/v1/openapi.json``: the OpenAPI 3 description of every route, written by hand.

Kept honest by tests/integration/test_api_schemathesis.py, which runs schemathesis against the live
server.  The schemas here are the documented JSON bodies (see also docs/api.md)."""

from __future__ import annotations

import json

from aiohttp import web

from collector.alerts.states import STATES
from collector.api import handover_openapi
from collector.api.actions import MAX_NOTE, MAX_SNOOZE_MINUTES
from collector.api.outcome_rates import DUE_BANDS, FIELDS, GROUPS
from collector.api.params import COLORS, DEFAULT_LIMIT, MAX_LIMIT, RULES, ROBOT_STATES, SEVERITIES
from collector.api.params import LIFECYCLE_STAGES
from collector.health.funnel import STAGES as FUNNEL_STAGES
from collector.health.goals import REASONS as GOAL_REASONS, STATUSES as GOAL_STATUSES
from collector.store.events import KINDS, MAX_NOTE as EVENT_MAX_NOTE
from collector.store.goals import MAX_NOTE as GOAL_MAX_NOTE, METRICS as GOAL_METRICS
from collector.store.seam import CUSTOMER_SORTS, FEED_KINDS
from protocol.catalogue import HEALTH_SUBSYSTEMS
from protocol.topics import ID_RE

S = "#/components/schemas/"


def ref(name: str) -> dict:
    return {"$ref": S + name}


def nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


INT = {"type": "integer"}
NUM = {"type": "number"}
STR = {"type": "string"}
MS = {"type": "integer", "description": "milliseconds since the Unix epoch, UTC"}
ID = {"type": "string", "pattern": ID_RE.pattern}


def obj(props: dict, required: tuple | None = None, extra: bool = True) -> dict:
    out = {"type": "object", "properties": props,
           "required": list(props if required is None else required)}
    if not extra:
        out["additionalProperties"] = False
    return out


def page_of(item: str) -> dict:
    return obj({"items": {"type": "array", "items": ref(item)}, "total": INT, "limit": INT, "offset": INT})


SCHEMAS = {
    "Error": obj({"error": obj({"status": INT, "message": STR}, ("status", "message"))}),
    "CustomerHealth": obj({"score": {"type": "number", "minimum": 0, "maximum": 100},
                           "color": {"type": "string", "enum": list(COLORS)},
                           "trend": STR, "computed_ms": MS, "color_since_ms": MS}),
    "RobotCounts": obj({"total": INT, "online": INT, "offline": INT, "stale": INT}),
    "Customer": obj({
        "id": ID, "name": STR, "scene": STR, "tier": STR, "csm": STR,
        "contract_start": nullable({"type": "string", "description": "YYYY-MM-DD"}),
        "contract_end": nullable({"type": "string", "description": "YYYY-MM-DD"}),
        "arr": NUM, "assigned": {"type": "boolean"}, "health": nullable(ref("CustomerHealth")),
        "robots": ref("RobotCounts"), "open_alerts": INT, "distributor": nullable(STR),
        "timezone": nullable({"type": "string", "description": "IANA time zone of the customer's local days "
                              "(imported, else the one health used); null before its first evaluation"})}),
    "CustomerList": page_of("Customer"),
    "Usage": obj({
        "days": {"type": "array", "items": MS}, "robots": INT, "peer_customers": INT, "peer_robots": INT,
        "robots_per_day": {"type": "array", "items": INT, "description": "robots in service each day (from "
                           "their handover or first day seen): the denominator of per_robot"},
        "peer_robots_per_day": {"type": "array", "items": INT, "description": "the peers' robots in service "
                                "each day: the denominator of peers_per_robot"},
        "day_starts_ms": {"type": "array", "items": MS, "description": "the instant each local day of `days` "
                          "began (its local midnight; `days` are day labels: the local date at 00:00 UTC)"},
        "timezone": {"type": "string", "description": "the IANA zone of the customer's local days"},
        "volumes": {"type": "object", "additionalProperties": obj({
            "total": {"type": "array", "items": INT},
            "per_robot": {"type": "array", "items": NUM},
            "peers_per_robot": {"type": "array", "items": NUM}})}}),
    "CustomerPage": {"allOf": [ref("Customer"), obj({
        "breakdown": {"type": "array", "items": {"type": "object"}},
        "facts": {"type": "object"},
        "score_history": {"type": "array", "items": obj({"day_ms": MS, "score": NUM, "color": STR})},
        "sites": {"type": "array", "items": STR},
        "usage": ref("Usage"),
        "alerts": {"type": "array", "items": ref("Alert")},
        "timeline": {"type": "array", "items": ref("AlertEvent")}})]},
    "Subsystem": obj({"state": {"type": "string", "enum": ["ok", "warn", "crit", "stale"]}}),
    "RobotHealth": obj({"state": STR, "score": NUM, "worst": nullable(STR), "computed_ms": MS,
                        "subsystems": {"type": "object", "additionalProperties": ref("Subsystem"),
                                       "description": f"keys: {', '.join(HEALTH_SUBSYSTEMS)}"}}),
    "Robot": obj({
        "id": ID, "customer": STR, "site": STR, "scene": STR, "agent_version": STR, "interval_s": INT,
        "first_seen_ms": MS, "last_seen_ms": MS, "last_window_ms": nullable(MS),
        "status": obj({"state": STR, "reason": nullable(STR), "since_ms": nullable(MS)}),
        "clock_skew_ms": INT, "state": STR, "health": nullable(ref("RobotHealth"))}),
    "RobotList": page_of("Robot"),
    "RobotPage": {"allOf": [ref("Robot"), obj({
        "usage": obj({"days": {"type": "array", "items": MS},
                      "metrics": {"type": "object", "additionalProperties": {"type": "array", "items": INT}},
                      "day_starts_ms": {"type": "array", "items": MS, "description": "the instant each local "
                                        "day began (`days` are day labels: the local date at 00:00 UTC)"},
                      "timezone": {"type": "string", "description": "the IANA zone of the days: the "
                                   "robot's customer's"}}),
        "alerts": {"type": "array", "items": ref("Alert")},
        "timeline": {"type": "array", "items": ref("AlertEvent")}})]},
    "Alert": obj({
        "id": INT, "rule": STR, "subject": STR, "customer": STR, "site": nullable(STR),
        "robot": nullable(STR), "severity": STR,
        "state": {"type": "string", "enum": list(STATES)}, "summary": STR, "facts": {"type": "object"},
        "parent_id": nullable(INT), "opened_ms": MS, "updated_ms": MS, "fired_ms": nullable(MS),
        "resolved_ms": nullable(MS), "snoozed_until_ms": nullable(MS)}),
    "AlertList": page_of("Alert"),
    "AlertEvent": obj({"id": INT, "alert_id": INT, "ts_ms": MS, "from_state": nullable(STR),
                       "to_state": STR, "actor": STR, "note": STR, "facts": {"type": "object"}}),
    "AlertPage": {"allOf": [ref("Alert"), obj({"events": {"type": "array", "items": ref("AlertEvent")}})]},
    "Counters": obj({"robot": ID, "from": MS, "to": MS,
                     "counters": {"type": "object", "additionalProperties": INT},
                     "sources": {"type": "object"}}, ("robot", "from", "to", "counters")),
    "Me": obj({"name": STR, "role": {"type": "string", "enum": ["viewer", "admin"]},
               "person": {"type": "string", "description": "the token's person (actions are attributed "
                          "to them); empty when it names none"}}),
    "AckBody": obj({"note": {"type": "string", "maxLength": MAX_NOTE}}, (), extra=False),
    "SnoozeBody": {"oneOf": [
        obj({"minutes": {"type": "integer", "minimum": 1, "maximum": MAX_SNOOZE_MINUTES},
             "note": {"type": "string", "maxLength": MAX_NOTE}}, ("minutes",), extra=False),
        obj({"until_ms": {"type": "integer", "minimum": 0, "maximum": 2**53},
             "note": {"type": "string", "maxLength": MAX_NOTE}}, ("until_ms",), extra=False)]},
}

# ------------------------------------------------------------------ commercial events, outcomes (issue 14)
DATE = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "description": "YYYY-MM-DD"}
PCT = nullable({"type": "number", "description": "percent; null when the denominator is 0"})
SCHEMAS.update({
    "Event": obj({"id": INT, "customer": ID, "date": DATE, "kind": {"type": "string", "enum": list(KINDS)},
                  "amount": NUM, "robots": INT, "referred_by": STR, "contract_end": nullable(DATE),
                  "previous_end": nullable(DATE), "note": STR, "actor": STR,
                  "source": {"type": "string", "enum": ["import", "api"]}, "created_ms": MS}),
    "EventList": obj({"items": {"type": "array", "items": ref("Event")}, "total": INT}),
    "EventCreated": obj({"event": ref("Event"), "created": {"type": "boolean"}}),
    "EventBody": obj({
        "date": {"type": "string", "maxLength": 10}, "kind": {"type": "string", "enum": list(KINDS)},
        "amount": {"oneOf": [{"type": "number", "minimum": 0}, {"type": "string", "maxLength": 40}]},
        "robots": {"oneOf": [{"type": "integer", "minimum": 0}, {"type": "string", "maxLength": 20}]},
        "referred_by": {"type": "string", "maxLength": 64},
        "contract_end": {"type": "string", "maxLength": 10},
        "note": {"type": "string", "maxLength": EVENT_MAX_NOTE}}, ("date", "kind"), extra=False),
    "OutcomeFigures": obj({f: (PCT if f.endswith(("_by_count", "_by_amount")) else
                              INT if f.startswith("customers_") else NUM) for f in FIELDS}),
    "OutcomeGroup": {"allOf": [obj({"key": STR}), ref("OutcomeFigures")]},
    "RenewalDue": obj({"customer": ID, "name": STR, "csm": STR, "distributor": STR, "contract_end": DATE,
                       "days_left": INT, "arr": NUM, "score": nullable(NUM), "color": nullable(STR),
                       "within": {"type": "integer", "enum": list(DUE_BANDS)}}),
    "Outcomes": obj({
        "from": DATE, "to": DATE, "group": nullable({"type": "string", "description": f"null or one of {', '.join(GROUPS)}"}), "today": DATE,
        "renewal_grace_days": INT, "overall": ref("OutcomeFigures"),
        "groups": {"type": "array", "items": ref("OutcomeGroup")},
        "renewals_due": obj({**{f"days_{b}": obj({"customers": INT, "arr": NUM}) for b in DUE_BANDS},
                             "customers": {"type": "array", "items": ref("RenewalDue")}})}),
})

# ------------------------------------------------------------------ monthly value report (issue 15)
MONTH = {"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$", "description": "YYYY-MM, the customer's local month"}
_COUNTS = {"type": "object", "additionalProperties": INT}
_PER_DAY = {"type": "object", "additionalProperties": nullable(NUM)}
_CODED = {"type": "array", "items": obj({"code": STR, "facts": {"type": "object"}})}
SCHEMAS.update({
    "Report": obj({
        "schema": STR, "month": MONTH, "previous_month": MONTH, "generated_ms": MS,
        "customer": obj({"id": ID, "name": STR, "scene": STR, "timezone": STR,
                         "language": {"type": "string", "enum": ["zh", "en"]}}),
        "period": obj({"from_ms": MS, "to_ms": MS, "through_ms": MS, "first_day": DATE, "last_day": DATE,
                       "days": INT, "days_elapsed": INT, "complete": {"type": "boolean"}}),
        "has_data": {"type": "boolean"},
        "robots": obj({"in_service": INT, "reporting": INT}), "robot_days": NUM,
        "outcome": obj({"volumes": _COUNTS, "skills": _COUNTS, "per_robot_day": _PER_DAY}),
        "previous": obj({"month": MONTH, "has_data": {"type": "boolean"}, "volumes": _COUNTS,
                         "per_robot_day": _PER_DAY, "change_pct": _PER_DAY, "per_robot_day_change_pct": _PER_DAY}),
        "peers": obj({"scene": STR, "customers": INT, "robot_days": NUM, "per_robot_day": _PER_DAY,
                      "ratio_pct": _PER_DAY, "percentile": nullable(NUM),
                      # issue 13: health's peers, the scene's measure, a rank only among enough peers
                      "percentile_min_peers": INT,
                      "measure": obj({"per_robot_day": nullable(NUM), "median": nullable(NUM),
                                      "ratio_pct": nullable(NUM), "median_ratio_pct": nullable(NUM)}),
                      "conversion": obj({"peers": INT, "median_pct": nullable(NUM)})}),
        "closed_weekdays": {"type": "array", "items": INT}, "complete_until_ms": MS,
        "measure": obj({"scene": STR, "metrics": {"type": "array", "items": STR}, "is_interactions": {"type": "boolean"},
                        "benchmark": NUM, "total": INT, "per_robot_day": nullable(NUM),
                        "previous_per_robot_day": nullable(NUM), "per_robot_day_change_pct": nullable(NUM)}),
        "daily": obj({"days": {"type": "array", "items": DATE}, "interactions": {"type": "array", "items": INT},
                      "foot_traffic": {"type": "array", "items": INT}, "robots": {"type": "array", "items": INT}}),
        "funnel": obj({"steps": {"type": "array", "items": obj({"metric": STR, "total": INT,
                                                                "of_previous_pct": nullable(NUM)})},
                       "conversion_pct": nullable(NUM)}),
        "availability": obj({"source": {"type": "string", "enum": ["imported", "learned", "none"]}, "hours": STR,
                             "expected_robot_hours": INT, "covered_robot_hours": INT, "pct": nullable(NUM)}),
        "anomalies": {"type": "object", "additionalProperties": obj({
            "robots": INT, "count": INT, "rate": NUM, "error_rate": nullable(NUM),
            "robot_ids": {"type": "array", "items": STR}})},
        "alerts": obj({"opened": INT, "resolved": INT, "open_at_end": INT, "median_minutes": nullable(NUM),
                       "max_minutes": nullable(NUM), "by_subsystem": {"type": "object"}, "by_rule": {"type": "object"}}),
        "goals": obj({"as_of": DATE, "items": {"type": "array", "items": obj({
            "metric": STR, "unit": STR, "target": NUM, "start": DATE, "due": DATE, "progress": nullable(NUM),
            "status": STR, "reason": STR})}}),
        "benchmark": obj({"threshold": NUM, "interactions_per_robot_day": nullable(NUM), "progress_pct": nullable(NUM),
                          "met": {"type": "boolean"}, "days_met": INT, "days": INT}),
        "risks": _CODED, "next_steps": _CODED}),
    "ReportMonths": obj({"customer": ID, "timezone": STR, "language": {"type": "string", "enum": ["zh", "en"]},
                         "months": {"type": "array", "items": MONTH}}),
})
REPORT_QUERY = [
    {"name": "format", "in": "query", "required": False, "schema": {"type": "string", "enum": ["json", "html"]},
     "description": "json (default): the figures; html: the report as the dashboard shows and prints it"},
    {"name": "lang", "in": "query", "required": False, "schema": {"type": "string", "enum": ["zh-CN", "en"]},
     "description": "with format=html: the language (default: the customer's)"}]


# ------------------------------------------------------------------ success goals (issue 14)
SCHEMAS.update({
    "GoalDay": obj({"date": DATE, "value": nullable(NUM), "numerator": NUM, "denominator": NUM}),
    "Goal": obj({
        "id": INT, "customer": ID,
        "metric": {"type": "string", "description": f"one of {', '.join(GOAL_METRICS)}, or skill:<name>"},
        "target": NUM, "start": DATE, "due": DATE, "note": STR, "actor": STR,
        "source": {"type": "string", "enum": ["import", "api"]}, "created_ms": MS, "updated_ms": MS,
        "unit": STR, "progress": nullable({"type": "number", "description": "the metric over the last 7 complete "
                                                                             "local days of the goal"}),
        "progress_pct": nullable(NUM), "projection": nullable({"type": "number", "description": "the value expected "
                                                                                                "at the due date"}),
        "trend_per_day": NUM, "status": {"type": "string", "enum": list(GOAL_STATUSES)},
        "reason": {"type": "string", "enum": list(GOAL_REASONS)},
        "days_total": INT, "days_elapsed": INT, "days_left": INT, "window_days": INT,
        "days": {"type": "array", "items": ref("GoalDay")}}),
    "GoalList": obj({"customer": ID, "timezone": STR, "today": DATE,
                     "items": {"type": "array", "items": ref("Goal")}, "total": INT}),
    "GoalCreated": obj({"goal": ref("Goal"), "created": {"type": "boolean"}, "updated": {"type": "boolean"}}),
    "GoalBody": obj({
        "metric": {"type": "string", "maxLength": 60},
        "target": {"oneOf": [{"type": "number", "minimum": 0}, {"type": "string", "maxLength": 40}]},
        "start": {"type": "string", "maxLength": 10}, "due": {"type": "string", "maxLength": 10},
        "note": {"type": "string", "maxLength": GOAL_MAX_NOTE}}, ("metric", "target", "start", "due"), extra=False),
})

OUTCOME_QUERY = [
    {"name": "from", "in": "query", "required": False, "schema": DATE,
     "description": "first day of the period (inclusive); default: the current quarter's first"},
    {"name": "to", "in": "query", "required": False, "schema": DATE,
     "description": "last day of the period (inclusive, not before from); default: the quarter's last"},
    {"name": "group", "in": "query", "required": False, "schema": {"type": "string", "enum": list(GROUPS)},
     "description": "also give the figures per csm, scene, tier or distributor"}]
SCHEMAS.update(handover_openapi.schemas(obj, ref, page_of, INT, STR, MS, ID))  # contacts, notes (issue 15)


# ------------------------------------------------------------------ a CSM's book of business (issue 14)
SCHEMAS.update({
    "BookAlert": obj({"id": INT, "rule": STR, "severity": STR, "state": {"type": "string", "enum": list(STATES)},
                      "customer": STR, "site": nullable(STR), "robot": nullable(STR), "summary": STR,
                      "facts": {"type": "object"}, "opened_ms": MS, "fired_ms": nullable(MS),
                      "resolved_ms": nullable(MS)}),
    "BookCustomer": {"allOf": [ref("Customer"), obj({
        "today": DATE, "days_to_contract_end": nullable(INT), "arr_at_risk": {"type": "boolean"},
        "alerts": {"type": "array", "items": ref("BookAlert")},
        "goals": {"type": "array", "items": {"type": "object", "description": "a Goal without its days"}}})]},
    "BookWeekAlert": {"allOf": [ref("BookAlert"), obj({"name": STR})]},
    "Book": obj({
        "csm": STR, "today": DATE,
        "summary": obj({"customers": INT, "arr": NUM, "arr_at_risk": NUM, "customers_at_risk": INT,
                        "open_alerts": INT,
                        "colors": obj({c: INT for c in (*COLORS, "none")}),
                        "renewals_due": obj({f"days_{b}": obj({"customers": INT, "arr": NUM}) for b in DUE_BANDS}),
                        "goals": obj({k: INT for k in ("on_track", "at_risk", "achieved", "missed")})}),
        "customers": {"type": "array", "items": ref("BookCustomer")},
        "week": obj({"days": INT,
                     "color_changes": {"type": "array", "items": obj({
                         "customer": ID, "name": STR, "date": DATE, "from": nullable(STR), "to": STR})},
                     "alerts_opened": {"type": "array", "items": ref("BookWeekAlert")},
                     "alerts_resolved": {"type": "array", "items": ref("BookWeekAlert")},
                     "events": {"type": "array", "items": {"allOf": [ref("Event"), obj({"name": STR})]}}})}),
})
CSM_PATH = {"name": "csm", "in": "path", "required": True,
            "schema": {"type": "string", "minLength": 1, "maxLength": 200},
            "description": "the CSM's name, as in the customers' csm column"}


def q(name: str, schema: dict, doc: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": doc}


def path(doc: str, schema: dict = ID) -> dict:
    return {"name": "id", "in": "path", "required": True, "schema": schema, "description": doc}


PAGE = [q("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
          "page size"), q("offset", {"type": "integer", "minimum": 0, "maximum": 10_000_000}, "rows to skip")]
TEXT = {"type": "string", "maxLength": 100}
SORTS = [s for k in CUSTOMER_SORTS for s in (k, "-" + k)]
CUSTOMER_QUERY = [q("scene", TEXT, "scene"), q("color", {"type": "string", "enum": list(COLORS)}, "colour"),
                  q("csm", TEXT, "customer-success manager"), q("tier", TEXT, "tier"),
                  q("customer", ID, "one customer id"), q("q", TEXT, "substring of name or id")]
ROBOT_QUERY = [q("customer", ID, "customer id"), q("scene", TEXT, "scene"),
               q("state", {"type": "string", "enum": list(ROBOT_STATES)}, "robot state"),
               q("site", ID, "site id"), q("csm", TEXT, "the customer's CSM")]
ALERT_QUERY = [q("state", {"type": "string", "enum": [*STATES, "open"]},
                 "state; 'open' = firing, acknowledged or snoozed"),
               q("customer", ID, "customer id"), q("robot", ID, "robot id"),
               q("rule", {"type": "string", "enum": list(RULES)}, "rule name"),
               q("severity", {"type": "string", "enum": list(SEVERITIES)}, "severity"),
               q("csm", TEXT, "the customer's CSM"), q("scene", TEXT, "the customer's scene")]

# ------------------------------------------------------------------ funnel, lifecycle, below average (issue 14)
STAGE = {"type": "string", "enum": list(LIFECYCLE_STAGES)}
#: a stage or null (before the customer's first evaluation): null is in the enum too, so validators
#: that turn ``nullable`` into a type list still accept it
STAGE_OR_NULL = {**STAGE, "nullable": True, "enum": [*LIFECYCLE_STAGES, None]}
SCHEMAS["Customer"]["properties"].update({
    "lifecycle": {**STAGE_OR_NULL, "description": "lifecycle stage (docs/health.md); null before its first "
                  "evaluation"},
    "lifecycle_reason": nullable({"type": "string", "description": "why this stage"})})
SCHEMAS["Customer"]["required"] += ["lifecycle", "lifecycle_reason"]
FUNNEL_STAGE = obj({"stage": {"type": "string", "enum": list(FUNNEL_STAGES)}, "volume": INT,
                    "rate": nullable({"type": "number", "description": "percent of the stage before; null "
                                      "for the first stage or when the stage before is 0"})})
FUNNEL_FIELDS = {"from": DATE, "to": DATE, "days": INT,
                 "volumes": obj({s: INT for s in FUNNEL_STAGES}),
                 "stages": {"type": "array", "items": FUNNEL_STAGE},
                 "conversion": nullable({"type": "number", "description": "interactions / foot traffic, percent"}),
                 "robots": INT, "robot_days": INT, "foot_traffic_per_robot_day": nullable(NUM)}
SCHEMAS.update({
    "Funnel": obj({**FUNNEL_FIELDS, "timezone": STR,
                   "scene": nullable(obj({"scene": STR, "peers": INT, "median_conversion": nullable(NUM)}))}),
    "SceneFunnel": obj({**FUNNEL_FIELDS, "scene": STR, "customers": INT, "median_conversion": nullable(NUM)}),
    "CustomerFunnel": obj({**FUNNEL_FIELDS, "id": ID, "name": STR, "scene": STR, "tier": STR, "csm": STR,
                           "lifecycle": STAGE_OR_NULL}),
    "Funnels": obj({"from": nullable(DATE), "to": nullable(DATE),
                    "scenes": {"type": "array", "items": ref("SceneFunnel")},
                    "customers": {"type": "array", "items": ref("CustomerFunnel")}}),
    "BelowAverage": obj({
        "by": {"type": "string", "enum": ["scene", "tier"]},
        "groups": {"type": "array", "items": {"type": "object"}},
        "items": {"type": "array", "items": obj({
            "id": ID, "name": STR, "scene": STR, "tier": STR, "csm": STR, "score": NUM, "color": nullable(STR),
            "lifecycle": STAGE_OR_NULL, "group": STR, "average": NUM, "gap": NUM})},
        "total": INT}),
})
SCHEMAS["CustomerPage"]["allOf"][1]["properties"]["funnel"] = ref("Funnel")
SCHEMAS["CustomerPage"]["allOf"][1]["required"].append("funnel")
CUSTOMER_QUERY.append(q("lifecycle", STAGE, "lifecycle stage"))
FUNNEL_QUERY = [q("from", DATE, "first local date (inclusive); with to; default: the last 30 complete local days"),
                q("to", DATE, "last local date (inclusive, not before from, under 400 days after it)")]


def resp(schema_name: str | None, doc: str, media: str = "application/json") -> dict:
    out = {"description": doc}
    if schema_name:
        out["content"] = {media: {"schema": ref(schema_name) if media == "application/json" else
                                  {"type": "string"}}}
    return out


ERR = {"400": resp("Error", "bad parameter"), "401": resp("Error", "missing or unknown token")}
NF = {"404": resp("Error", "unknown id")}


def get(summary: str, ok: dict, params: list | None = None, errors: dict | None = None,
        public: bool = False) -> dict:
    responses = {"200": ok, **(ERR if errors is None else errors)}
    op = {"summary": summary, "parameters": params or [], "responses": responses}
    if public:
        op["security"] = []
    return {"get": op}


def action(summary: str, body: str) -> dict:
    return {"post": {
        "summary": summary, "parameters": [path("alert id", {"type": "integer", "minimum": 1,
                                                            "maximum": 10**18 - 1})],
        "requestBody": {"required": False, "content": {"application/json": {"schema": ref(body)}}},
        "responses": {"200": resp("AlertPage", "the alert after the action"), **ERR, **NF,
                      "403": resp("Error", "the token is not an admin"),
                      "409": resp("Error", "the alert's state does not allow the action")}}}


def csv_export(what: str, params: list) -> dict:
    return get(f"CSV export of {what} (UTF-8 with BOM; columns in docs/api.md)",
               {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}, params)


def document() -> dict:
    paths = {
        "/healthz": get("liveness: status ok (degraded, still 200, while the store's commits fail), and the "
                        "writer, store and MQTT state when running as the collector",
                        {"description": "alive", "content": {"application/json": {"schema": obj(
                            {"status": STR}, ("status",))}}},
                        errors={"503": {"description": "the writer stopped", "content": {"application/json": {
                            "schema": obj({"status": STR}, ("status",))}}}}, public=True),
        "/metrics": get("the collector's own metrics, Prometheus text format",
                        {"description": "metrics", "content": {"text/plain": {"schema": STR}}}, errors={},
                        public=True),
        "/api/v1/openapi.json": get("this document", {"description": "OpenAPI 3",
                                    "content": {"application/json": {"schema": {"type": "object"}}}},
                                    errors={}, public=True),
        "/api/v1/me": get("the token's name and role", resp("Me", "who is asking")),
        "/api/v1/customers": get("every customer with its health summary (the overview)",
                                 resp("CustomerList", "customers"),
                                 [*CUSTOMER_QUERY, *PAGE, q("sort", {"type": "string", "enum": SORTS},
                                                           "sort key; default score (worst first)")]),
        "/api/v1/customers/{id}": get("one customer's fleet health", resp("CustomerPage", "the customer"),
                                      [path("customer id")], {**ERR, **NF}),
        "/api/v1/customers/{id}/robots": get("the customer's robots with their health",
                                             resp("RobotList", "robots"),
                                             [path("customer id"),
                                              *[p for p in ROBOT_QUERY if p["name"] in ("state", "site",
                                                                                        "scene")], *PAGE],
                                             {**ERR, **NF}),
        "/api/v1/robots": get("robots with their health", resp("RobotList", "robots"), [*ROBOT_QUERY, *PAGE]),
        "/api/v1/robots/{id}": get("one robot: status, subsystem health, recent usage",
                                   resp("RobotPage", "the robot"), [path("robot id")], {**ERR, **NF}),
        "/api/v1/robots/{id}/counters": get(
            "summed counters of the windows with from <= t0 and t1 <= to (to defaults to now, from to "
            "24 h before to; from < to, at most 3 years)",
            resp("Counters", "counters keyed by catalogue name"),
            [path("robot id"), q("from", {"type": "integer", "minimum": 0, "maximum": 10**16 - 1}, "ms, inclusive"),
             q("to", {"type": "integer", "minimum": 0, "maximum": 10**16 - 1}, "ms, inclusive")], {**ERR, **NF}),
        "/api/v1/alerts": get("alerts, newest first", resp("AlertList", "alerts"), [*ALERT_QUERY, *PAGE]),
        "/api/v1/alerts/{id}": get("one alert with its timeline", resp("AlertPage", "the alert"),
                                   [path("alert id", {"type": "integer", "minimum": 1, "maximum": 10**18 - 1})],
                                   {**ERR, **NF}),
        "/api/v1/alerts/{id}/ack": action("acknowledge (admin)", "AckBody"),
        "/api/v1/alerts/{id}/snooze": action("snooze for minutes or until a time (admin)", "SnoozeBody"),
        "/api/v1/feed": get("Server-Sent Events: health changes and alert transitions",
                            {"description": "an endless text/event-stream",
                             "content": {"text/event-stream": {"schema": STR}}},
                            [q("kind", STR, f"comma-separated subset of {', '.join(FEED_KINDS)}"),
                             q("customer", ID, "only events about this customer"),
                             q("last_event_id", {"type": "integer", "minimum": 0},
                               "resume after this id (or the Last-Event-ID header)"),
                             q("access_token", STR, "token, for EventSource which cannot send headers")]),
        "/api/v1/export/customers.csv": csv_export("customers", CUSTOMER_QUERY),
        "/api/v1/export/robots.csv": csv_export("robots", ROBOT_QUERY),
        "/api/v1/export/alerts.csv": csv_export("alerts", ALERT_QUERY),
        "/api/v1/outcomes": get("outcome rates for a period, overall and per group; renewals due in 30/60/90 days",
                                resp("Outcomes", "rates (docs/api.md, Outcome rates)"), OUTCOME_QUERY),
        "/api/v1/customers/{id}/events": {
            **get("the customer's commercial events, oldest first", resp("EventList", "events"),
                  [path("customer id")], {**ERR, **NF}),
            "post": {
                "summary": "record a commercial event (admin; the token's name is recorded as the actor); "
                           "an event already stored (same date, kind, amount, referred_by) is not added again",
                "parameters": [path("customer id")],
                "requestBody": {"required": True, "content": {"application/json": {"schema": ref("EventBody")}}},
                "responses": {"201": resp("EventCreated", "stored"),
                              "200": resp("EventCreated", "already stored: nothing changed"), **ERR, **NF,
                              "403": resp("Error", "the token is not an admin")}}},
        "/api/v1/customers/{id}/goals": {
            **get("the customer's success goals, each with progress per local day, projection and status",
                  resp("GoalList", "goals (docs/api.md, Success goals)"), [path("customer id")], {**ERR, **NF}),
            "post": {
                "summary": "set a success goal (admin; the token's name is recorded as the actor); a goal with the "
                           "same metric, start and due is updated (target, note), not added again",
                "parameters": [path("customer id")],
                "requestBody": {"required": True, "content": {"application/json": {"schema": ref("GoalBody")}}},
                "responses": {"201": resp("GoalCreated", "stored"),
                              "200": resp("GoalCreated", "already stored: updated, or nothing changed"), **ERR, **NF,
                              "403": resp("Error", "the token is not an admin")}}},
        "/api/v1/export/events.csv": csv_export("commercial events", [q("customer", ID, "one customer id")]),
        "/api/v1/export/outcomes.csv": csv_export("outcome rates (the overall row, then one per group)",
                                                  OUTCOME_QUERY),
        "/api/v1/customers/{id}/funnel": get(
            "the customer's funnel (foot traffic -> solicitations -> wake-ups -> interactions) over its local days",
            resp("Funnel", "the funnel"), [path("customer id"), *FUNNEL_QUERY], {**ERR, **NF}),
        "/api/v1/funnel": get("the funnel per scene (median conversion of its customers) and per customer, "
                              "lowest conversion first", resp("Funnels", "funnels"),
                              [*FUNNEL_QUERY, q("scene", TEXT, "only this scene")]),
        "/api/v1/below-average": get("customers scored under the average of their scene or tier, widest gap first",
                                     resp("BelowAverage", "customers"),
                                     [q("by", {"type": "string", "enum": ["scene", "tier"]}, "group; default scene")]),
        "/api/v1/customers/{id}/reports": get(
            "the months a monthly value report can be made for (newest first: the current month, so far, "
            "back to the month of the customer's first data)", resp("ReportMonths", "months"),
            [path("customer id")], {**ERR, **NF}),
        "/api/v1/customers/{id}/reports/{month}": {"get": {
            "summary": "a customer's monthly value report over its local month (docs/report.md)",
            "parameters": [path("customer id"), {"name": "month", "in": "path", "required": True, "schema": MONTH,
                                                 "description": "YYYY-MM"}, *REPORT_QUERY],
            "responses": {"200": {"description": "the report's figures, or its HTML",
                                  "content": {"application/json": {"schema": ref("Report")},
                                              "text/html": {"schema": STR}}},
                          "400": resp("Error", "a month malformed or not begun yet in the customer's zone"),
                          "401": resp("Error", "missing or unknown token"),
                          "404": resp("Error", "no such customer, or a month before its first data")}}},
        "/": get("the CS dashboard (HTML)", {"description": "HTML page",
                                             "content": {"text/html": {"schema": STR}}}, errors={},
                 public=True),
    }
    paths.update(handover_openapi.paths(get, resp, path, q, ERR, NF, PAGE))  # contacts, notes (issue 15)
    paths["/api/v1/csms/{csm}"] = get(
        "one CSM's book of business: customers with colour, ARR, contract end, open alerts; ARR at risk; "
        "what changed in each customer's last 7 local days", resp("Book", "the book (docs/api.md)"), [CSM_PATH],
        {**ERR, "404": resp("Error", "no customer has this CSM")})
    return {
        "openapi": "3.0.3",
        "info": {"title": "robopulse collector API", "version": "1",
                 "description": "Fleet health for customer-success teams. Times are ms since the epoch, UTC."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                       "schemas": SCHEMAS},
        "paths": paths,
    }


async def openapi_json(request: web.Request) -> web.Response:
    return web.Response(body=request.app[DOC], content_type="application/json")


DOC = web.AppKey("openapi_doc", bytes)


def setup(app: web.Application) -> None:
    app[DOC] = json.dumps(document()).encode()
    app.router.add_get("/api/v1/openapi.json", openapi_json)
