"""A CSM's book of business (``GET /api/v1/csms/{csm}``, issue 14), as one plain function over rows.

``compute(csm, raw, now_ms, default_zone)`` takes what ``ReadStore.csm_book`` returns.  Why a
function of its own: "this week" is each customer's own last 7 local days (its ``timezone``, else
``[health] timezone``), so the store reads a superset and the cut is made here, where a test can
check it without a clock.  Definitions (docs/api.md, "A CSM's book of business"):

- **customers**: every customer whose ``csm`` is this one, worst first (red, yellow, no health yet,
  green; then by score), each with its open alerts (firing, acknowledged, snoozed: the number the
  overview's ``open_alerts`` counts), its days to the contract end (in its local calendar),
  whether its ARR is at risk, and its success goals as judged now (``goals``);
- **ARR at risk**: exactly ``arr_at_risk`` of ``GET /api/v1/outcomes`` for this CSM: customers not
  green whose contract ends within today..today+90 (today: the UTC date, as the outcomes route);
- **week**: in each customer's last 7 local days (today and the 6 before): colour changes (a local
  day whose colour in ``score_history`` differs from the customer's previous recorded day), alerts
  opened (``alerts_opened``: fired in those days, i.e. became a call to action; a pending one that
  lapsed never was), alerts resolved after firing, and commercial events dated in those days.
"""

from __future__ import annotations

import datetime as dt

from collector.alerts.states import OPEN
from collector.api import outcome_rates
from protocol.timeunits import DAY_MS, known_zone, local_day, local_day_start, utc_offset_ms

#: the days "this week" covers, today included
WEEK_DAYS = 7
#: the alert fields a book lists (the whole row is at ``/api/v1/alerts/{id}``)
ALERT_BRIEF = ("id", "rule", "severity", "state", "customer", "site", "robot", "summary", "facts",
               "opened_ms", "fired_ms", "resolved_ms")
COLOR_RANK = {"red": 0, "yellow": 1, None: 2, "green": 3}
#: a goal's statuses (contract section 6), counted in the book's summary
GOAL_STATUSES = ("on_track", "at_risk", "achieved", "missed")


def _iso(label_ms: int) -> str:
    return dt.datetime.fromtimestamp(label_ms / 1000, dt.UTC).date().isoformat()


def _brief(alert: dict) -> dict:
    return {k: alert.get(k) for k in ALERT_BRIEF}


def window(zone: str, now_ms: int) -> tuple[int, str, str]:
    """``(start ms, first date, today)`` of the last ``WEEK_DAYS`` local days in ``zone``."""
    off = utc_offset_ms(zone, now_ms)
    today = local_day(now_ms, off)
    return (local_day_start(now_ms, off) - (WEEK_DAYS - 1) * DAY_MS, _iso(today - (WEEK_DAYS - 1) * DAY_MS),
            _iso(today))


def since(now_ms: int) -> tuple[int, str]:
    """What the store reads from: a day before the earliest zone's window (UTC+14) can begin."""
    start = now_ms - (WEEK_DAYS + 1) * DAY_MS
    return start, _iso(start)


def compute(csm: str, raw: dict, now_ms: int, default_zone: str, goals: dict[str, list[dict]] | None = None) -> dict:
    """``goals``: each customer's judged success goals (``GET /api/v1/customers/{id}/goals`` items)."""
    goals = goals or {}
    today_utc = dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC).date().isoformat()
    risk_until = outcome_rates.plus_days(today_utc, outcome_rates.RISK_DAYS)
    colors_of: dict[str, list[dict]] = {}
    for row in raw["colors"]:
        colors_of.setdefault(row["customer"], []).append(row)
    alerts_of: dict[str, list[dict]] = {}
    for a in raw["alerts"]:
        alerts_of.setdefault(a["customer"], []).append(a)
    events_of: dict[str, list[dict]] = {}
    for e in raw["events"]:
        events_of.setdefault(e["customer"], []).append(e)

    customers, changes, opened, resolved, events = [], [], [], [], []
    for c in raw["customers"]:
        zone = c["timezone"] if c["timezone"] and known_zone(c["timezone"]) else default_zone
        start_ms, first, today = window(zone, now_ms)
        color = c["health"]["color"] if c["health"] else None
        at_risk = (color != "green" and c["contract_end"] is not None
                   and today_utc <= c["contract_end"] <= risk_until)
        left = None
        if c["contract_end"]:
            left = (dt.date.fromisoformat(c["contract_end"]) - dt.date.fromisoformat(today)).days
        own = alerts_of.get(c["id"], [])
        customers.append({**c, "timezone": zone, "today": today, "days_to_contract_end": left,
                          "arr_at_risk": at_risk, "goals": goals.get(c["id"], []),
                          "alerts": [_brief(a) for a in own if a["state"] in OPEN]})
        name = {"customer": c["id"], "name": c["name"]}
        history = colors_of.get(c["id"], [])
        for before, row in zip(history, history[1:]):
            if first <= _iso(row["day_ms"]) <= today and row["color"] != before["color"]:
                changes.append({**name, "date": _iso(row["day_ms"]), "from": before["color"], "to": row["color"]})
        opened += [{**_brief(a), "name": c["name"]} for a in own if (a["fired_ms"] or 0) >= start_ms]
        resolved += [{**_brief(a), "name": c["name"]} for a in own
                     if a["fired_ms"] is not None and (a["resolved_ms"] or 0) >= start_ms]
        events += [{**e, "name": c["name"]} for e in events_of.get(c["id"], []) if first <= e["date"] <= today]

    customers.sort(key=lambda c: (COLOR_RANK.get(c["health"]["color"] if c["health"] else None, 2),
                                  c["health"]["score"] if c["health"] else 0.0, c["id"]))
    due = outcome_rates.renewals_due([{**c, "score": (c["health"] or {}).get("score"), "color": color_of(c)}
                                      for c in customers], today_utc)
    tally = {k: 0 for k in ("green", "yellow", "red", "none")}
    for c in customers:
        tally[color_of(c) or "none"] += 1
    changes.sort(key=lambda x: (x["date"], x["customer"]))
    opened.sort(key=lambda a: (a["fired_ms"], a["id"]))
    resolved.sort(key=lambda a: (a["resolved_ms"], a["id"]))
    return {
        "csm": csm, "today": today_utc,
        "summary": {
            "customers": len(customers), "arr": round(sum(c["arr"] or 0 for c in customers), 2),
            "arr_at_risk": round(sum(c["arr"] or 0 for c in customers if c["arr_at_risk"]), 2),
            "customers_at_risk": sum(1 for c in customers if c["arr_at_risk"]),
            "open_alerts": sum(c["open_alerts"] for c in customers), "colors": tally,
            "renewals_due": {k: v for k, v in due.items() if k != "customers"},
            "goals": {status: sum(1 for c in customers for g in c["goals"] if g["status"] == status)
                      for status in GOAL_STATUSES},
        },
        "customers": customers,
        "week": {"days": WEEK_DAYS, "color_changes": changes, "alerts_opened": opened, "alerts_resolved": resolved,
                 "events": events},
    }


def color_of(c: dict) -> str | None:
    return c["health"]["color"] if c["health"] else None
