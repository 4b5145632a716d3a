"""Must-show 1: each rule fires on data that should fire it, and stays silent just under its
threshold and under its minimum volume.  Real SQLite, rollups written the way the store writes them."""

import pytest

from collector.store.sqlite import seed
from tests.plugins.health import DAY, EXACT, HOUR, T, alerts_of, daily, date_in, evaluate, history, make_settings

MIN = 60_000
FAST = {rule: {"for_s": 0} for rule in ("site_outage", "subsystem_degraded")}


def firing(conn, rule):
    return [a["subject"] for a in alerts_of(conn, rule) if a["state"] == "firing"]


# robot_offline -----------------------------------------------------------------------------

@pytest.mark.parametrize("after_min, reason, expected", [
    (10, "lost", ["c1-r0"]),      # unreachable 10 min: threshold reached
    (9, "lost", []),              # just under
    (60, "shutdown", []),         # switched off cleanly: not a robot problem
])
def test_rules_robot_offline(store, fleet, after_min, reason, expected):
    fleet("c1", 1)
    history(store, "c1-r0", T - 2 * HOUR, 2, {"usage.interactions": 10})
    seed.set_state(store, "c1-r0", "offline", reason, T)
    evaluate(store, T + after_min * MIN, make_settings())
    assert firing(store, "robot_offline") == expected


def test_rules_robot_offline_stale_robot_fires_without_offline_status(store, fleet):
    fleet("c1", 1)
    history(store, "c1-r0", T - 2 * HOUR, 2, {"usage.interactions": 10})
    evaluate(store, T + 11 * MIN, make_settings())
    assert firing(store, "robot_offline") == ["c1-r0"]


# subsystem_degraded ------------------------------------------------------------------------

@pytest.mark.parametrize("requests, errors, expected", [
    (100, 30, ["c1-r0/asr"]),   # rate 0.30 = crit
    (100, 29, []),              # 0.29: warn only, just under the crit threshold
    (19, 19, []),               # rate 1.0 but under min_volume (20 requests)
])
def test_rules_subsystem_degraded(store, fleet, requests, errors, expected):
    fleet("c1", 1)
    history(store, "c1-r0", T - HOUR, 1, {"asr.requests": requests, "asr.unrecognized": errors})
    evaluate(store, T, make_settings(EXACT, alerts=FAST))  # the rule's threshold on the rate as counted
    assert firing(store, "subsystem_degraded") == expected


def test_rules_subsystem_degraded_network_offline_share(store, fleet):
    fleet("c1", 1)
    history(store, "c1-r0", T - HOUR, 1, {"net.offline_s": 720})  # 20% of the hour offline
    evaluate(store, T, make_settings(alerts=FAST))
    assert firing(store, "subsystem_degraded") == ["c1-r0/network"]


# site_outage -------------------------------------------------------------------------------

@pytest.mark.parametrize("robots, down, expected", [
    (4, 2, ["c1/site-1"]),   # half the site unreachable
    (4, 1, []),              # a quarter: under the threshold
    (1, 1, []),              # one robot is not a site (min_robots 2): robot_offline's job
])
def test_rules_site_outage(store, fleet, robots, down, expected):
    ids = fleet("c1", robots)
    for rid in ids:
        history(store, rid, T - HOUR, 1, {"usage.interactions": 5})
    for rid in ids[:down]:
        seed.set_state(store, rid, "offline", "lost", T)
    evaluate(store, T + MIN, make_settings(alerts=FAST))
    assert firing(store, "site_outage") == expected


# usage_drop --------------------------------------------------------------------------------

@pytest.mark.parametrize("before, after, expected", [
    (100, 60, ["c1"]),   # -40%
    (100, 61, []),       # -39%: just under
    (10, 0, []),         # -100% but 10 interactions/robot/day before: under min_volume (20)
])
def test_rules_usage_drop(store, fleet, before, after, expected):
    for rid in fleet("c1", 2):
        daily(store, rid, T - 14 * DAY, 14, lambda day: {"usage.interactions": before if day < T - 7 * DAY else after})
    evaluate(store, T, make_settings())
    assert firing(store, "usage_drop") == expected


# below_peers -------------------------------------------------------------------------------

def test_rules_below_peers_fires_under_half_the_scene_median_only(store, fleet):
    # issue 13: a ratio to the median of the scene's other customers (threshold 0.5), not a rank
    for cid, per_day in (("m0", 10), ("m1", 21), ("m2", 40), ("m3", 40)):
        (rid,) = fleet(cid, 1)
        daily(store, rid, T - 30 * DAY, 30, {"usage.interactions": per_day})
    (ktv,) = fleet("k0", 1, scene="ktv")  # far lower, but another scene
    daily(store, ktv, T - 30 * DAY, 30, {"usage.interactions": 1})
    evaluate(store, T, make_settings())
    # m0: 10 against the median 40 of m1..m3 = 0.25; m1: 21 / 40 = 0.525, just over; k0 has no peers
    assert firing(store, "below_peers") == ["m0"]


def test_rules_below_peers_works_from_two_peers_and_not_from_one(store, fleet):
    for cid, per_day in (("m0", 10), ("m1", 40)):
        (rid,) = fleet(cid, 1)
        daily(store, rid, T - 30 * DAY, 30, {"usage.interactions": per_day})
    evaluate(store, T, make_settings())
    assert firing(store, "below_peers") == []  # one peer: no comparison
    (rid,) = fleet("m2", 1)
    daily(store, rid, T - 30 * DAY, 30, {"usage.interactions": 40})
    evaluate(store, T + 60_000, make_settings())
    assert firing(store, "below_peers") == ["m0"]  # two peers: 10 against their median 40


# onboarding_stalled ------------------------------------------------------------------------

@pytest.mark.parametrize("age_days, active, expected", [
    (10, 2, ["c1-r0"]),   # 2 active days of the last 7
    (10, 3, []),          # 3: just over the threshold
    (6, 0, []),           # too young to judge (min_age_days 7)
])
def test_rules_onboarding_stalled(store, fleet, age_days, active, expected):
    fleet("c1", 1)
    first = T - age_days * DAY
    daily(store, "c1-r0", first, age_days,
          lambda day: {"usage.interactions": 50 if day >= T - active * DAY else 1})
    evaluate(store, T, make_settings())
    assert firing(store, "onboarding_stalled") == expected


# renewal_risk ------------------------------------------------------------------------------

ONLY_RELIABILITY = {"weight_reliability": 1.0, "weight_adoption": 0.0, "weight_usage_trend": 0.0,
                    "weight_onboarding": 0.0}


@pytest.mark.parametrize("days, red, expected", [
    (60, True, ["c1"]),   # 60 days left and red
    (60, False, []),      # 60 days left but green
    (91, True, []),       # red, but just outside the 90-day threshold
    (-5, False, ["c1"]),  # ended 5 days ago, no renewal recorded
])
def test_rules_renewal_risk(store, fleet, days, red, expected):
    fleet("c1", 2, contract_end=date_in(days), arr=12000.0)
    for rid in ("c1-r0", "c1-r1"):
        history(store, rid, T - HOUR, 1, {"usage.interactions": 5})
        if red:
            seed.set_state(store, rid, "offline", "lost", T)
    evaluate(store, T, make_settings(health=ONLY_RELIABILITY))
    assert firing(store, "renewal_risk") == expected


# benchmark_candidate -----------------------------------------------------------------------

@pytest.mark.parametrize("per_day, min_robots, expected", [
    (1000, 1, ["c1"]),
    (999, 1, []),        # just under 1,000 interactions per robot per day
    (1000, 3, []),       # 2 robots: under min_robots
])
def test_rules_benchmark_candidate(store, fleet, per_day, min_robots, expected):
    for rid in fleet("c1", 2):
        daily(store, rid, T - 30 * DAY, 30, {"usage.interactions": per_day})
    evaluate(store, T, make_settings(alerts={"benchmark_candidate": {"min_robots": min_robots}}))
    assert firing(store, "benchmark_candidate") == expected
