"""Issue 13, leading apart from lagging: the calendar alone does not change a customer's colour;
`renewal_risk` fires for a contract ending within the window while the customer is not green, or
once it ended (end date inclusive, in local days).  Through the store."""

import json

from collector.store.sqlite import seed
from tests.plugins.health import DAY, HOUR, T, alerts_of, date_in, evaluate, history, make_settings

MINUTE = 60_000


def _customer(store, cid):
    row = store.execute("SELECT score, color, breakdown, facts FROM customer_health WHERE customer=?", (cid,)).fetchone()
    return row[0], row[1], json.loads(row[2]), json.loads(row[3])


def _steady(store, fleet, cid, end):
    ids = fleet(cid, 2, contract_end=end, arr=24000.0, first_seen=T - 40 * DAY)
    for rid in ids:
        for d in range(30, 0, -1):
            history(store, rid, T - d * DAY + 2 * HOUR, 8, {"usage.interactions": 40, "asr.requests": 30})
        history(store, rid, T, 3, {"usage.interactions": 40})
    return ids


def test_the_calendar_alone_does_not_change_the_colour(store, fleet):
    """Same usage, 200 or 60 days left: the same score and colour (was 75 green -> 68.3 yellow, and
    then a critical renewal_risk caused by its own input)."""
    _steady(store, fleet, "far", date_in(200))
    _steady(store, fleet, "near", date_in(60))
    evaluate(store, T + 2 * HOUR, make_settings())
    far, near = _customer(store, "far"), _customer(store, "near")
    assert far[:2] == near[:2]
    assert near[1] == "green"
    assert "contract" not in {b["measure"] for b in near[2]}
    assert near[3]["contract"]["days_to_renewal"] == 60          # context on the page
    assert alerts_of(store, "renewal_risk") == []


def test_renewal_risk_needs_a_customer_not_green_within_the_window(store, fleet):
    ids = _steady(store, fleet, "near", date_in(60))
    for rid in ids:
        seed.set_state(store, rid, "offline", "lost", T + 2 * HOUR)
    settings = make_settings(health={"weight_reliability": 1.0, "weight_adoption": 0.0, "weight_usage_trend": 0.0,
                                     "weight_onboarding": 0.0})
    evaluate(store, T + 3 * HOUR, settings)
    assert _customer(store, "near")[1] == "red"
    (alert,) = alerts_of(store, "renewal_risk")
    assert alert["state"] == "firing" and "ends in 60 days" in alert["summary"]


def test_last_day_of_the_contract_is_not_ended(store, fleet):
    """Beijing customer, contract_end 1 January: on 1 January (local) it ends today, it has not
    ended "0 days ago"; from 00:00 on 2 January Beijing (16:00 UTC on 1 January) it ended 1 day ago."""
    _steady(store, fleet, "last", "2026-01-01")
    settings = make_settings()
    evaluate(store, T + 15 * HOUR + 30 * MINUTE, settings)       # 23:30 on 1 January, Beijing
    _, color, _, facts = _customer(store, "last")
    assert facts["contract"]["days_to_renewal"] == 0
    assert color == "green" and alerts_of(store, "renewal_risk") == []
    evaluate(store, T + 16 * HOUR + 30 * MINUTE, settings)       # 00:30 on 2 January, Beijing
    (alert,) = alerts_of(store, "renewal_risk")
    assert alert["state"] == "firing"
    assert "ended 1 day ago" in alert["summary"] and "0 days" not in alert["summary"]


def test_last_day_when_not_green_says_it_ends_today(store, fleet):
    ids = _steady(store, fleet, "today", "2026-01-01")
    for rid in ids:
        seed.set_state(store, rid, "offline", "lost", T + 2 * HOUR)
    settings = make_settings(health={"weight_reliability": 1.0, "weight_adoption": 0.0, "weight_usage_trend": 0.0,
                                     "weight_onboarding": 0.0})
    evaluate(store, T + 3 * HOUR, settings)
    (alert,) = alerts_of(store, "renewal_risk")
    assert "contract ends today" in alert["summary"]
