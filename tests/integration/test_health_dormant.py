"""Issue 13, dead customers are red: a fleet with no interaction for `health.dormant_days` complete
local days (robots on and reporting but unused, or switched off) is red and `fleet_dormant` fires
within a day.  Through the store."""

import json

from collector.store.sqlite import seed
from tests.plugins.health import DAY, HOUR, T, alerts_of, evaluate, history, make_settings

BJ_OPEN = T + 1 * HOUR       # 09:00 Beijing on 1 January


def _colour(store, cid):
    color, facts = store.execute("SELECT color, facts FROM customer_health WHERE customer=?", (cid,)).fetchone()
    return color, json.loads(facts)


def test_robots_on_and_reporting_without_interactions_are_red_and_alert(store, fleet):
    """Four robots on and reporting for 60 days (people pass, nobody talks to them): was score 65,
    yellow, no alert."""
    ids = fleet("dead", 4, first_seen=BJ_OPEN - 60 * DAY)
    for rid in ids:
        for d in range(60, -1, -1):
            history(store, rid, BJ_OPEN - d * DAY, 12, {"usage.foot_traffic": 40, "nav.tasks": 0})
    evaluate(store, BJ_OPEN + 3 * HOUR, make_settings())
    color, facts = _colour(store, "dead")
    assert color == "red"
    assert facts["dormant"]["idle_days"] == 30 and facts["dormant"]["robots_on"] == 4
    (alert,) = alerts_of(store, "fleet_dormant")
    assert alert["state"] == "firing" and alert["severity"] == "critical"
    assert "4 of 4 robots on and reporting" in alert["summary"]
    assert alerts_of(store, "robot_offline") == []


def test_switched_off_fleet_turns_red_within_a_day(store, fleet):
    """Used every day until the evening of 28 December (Beijing), then switched off properly: the
    third complete day without use (31 December) ends at midnight and the next cycle alerts."""
    ids = fleet("off", 3, first_seen=BJ_OPEN - 30 * DAY)
    for rid in ids:
        for d in range(30, 3, -1):
            history(store, rid, BJ_OPEN - d * DAY, 12, {"usage.interactions": 300})
        seed.set_state(store, rid, "offline", "shutdown", BJ_OPEN - 4 * DAY + 13 * HOUR)
    settings = make_settings()
    evaluate(store, BJ_OPEN - DAY - 2 * HOUR, settings)       # 31 Dec 07:00 local: 2 idle days (29, 30 Dec)
    assert _colour(store, "off")[0] != "red" and alerts_of(store, "fleet_dormant") == []
    evaluate(store, T - 8 * HOUR + 10 * 60_000, settings)    # 1 Jan 00:10 local: 29, 30, 31 Dec idle
    color, facts = _colour(store, "off")
    assert color == "red" and "switched off" in facts["dormant"]["reason"]
    assert [a["state"] for a in alerts_of(store, "fleet_dormant")] == ["firing"]
    assert alerts_of(store, "robot_offline") == [] and alerts_of(store, "site_outage") == []


def test_a_day_of_use_clears_it_and_new_fleets_are_not_dormant(store, fleet):
    ids = fleet("back", 2, first_seen=BJ_OPEN - 20 * DAY)
    for rid in ids:
        history(store, rid, BJ_OPEN - 20 * DAY, 12, {"usage.interactions": 100})
    fresh = fleet("fresh", 2, first_seen=BJ_OPEN - 1 * DAY)
    for rid in fresh:
        history(store, rid, BJ_OPEN - 1 * DAY, 36, {"usage.foot_traffic": 10})
    settings = make_settings()
    evaluate(store, BJ_OPEN + HOUR, settings)
    assert [a["state"] for a in alerts_of(store, "fleet_dormant") if a["customer"] == "back"] == ["firing"]
    assert _colour(store, "fresh")[1]["dormant"] is None
    assert [a for a in alerts_of(store, "fleet_dormant") if a["customer"] == "fresh"] == []
    for rid in ids:
        history(store, rid, BJ_OPEN, 12, {"usage.interactions": 100})
    evaluate(store, BJ_OPEN + DAY + HOUR, settings)            # 1 January was used
    assert [a["state"] for a in alerts_of(store, "fleet_dormant") if a["customer"] == "back"] == ["resolved"]
    assert _colour(store, "back")[1]["dormant"] is None
