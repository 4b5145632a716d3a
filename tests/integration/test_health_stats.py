"""Issue 13, honest statistics: chance does not make a robot sick, a sick one still fires quickly.

Each case of the issue's "Why" against the real store and the real cycle: a robot at its usual
error rate over few tasks reads ok; a robot seen for 5 minutes with one Wi-Fi drop is not network
crit; a customer's colour holds within its margin; ``for_s`` means held without a break;
``site_outage`` needs ``min_down`` robots down; lost and stale robots count as network anomalies.
And the fleet-level must-show: 50 robots at the simulator's healthy rates and low volume for 7
days raise no ``subsystem_degraded`` and read warn in at most 1 % of robot-hours, while a robot at
40 % ASR errors fires within 15 minutes."""

import json
import random

import pytest

from collector.store.sqlite import seed
from simulator.profiles import BASE_ERRORS, PROFILES, error_rate
from tests.plugins.health import DAY, HOUR, T, alerts_of, compute, evaluate, history, make_settings

MIN = 60_000
FAST = {"subsystem_degraded": {"for_s": 0}, "site_outage": {"for_s": 0}}


def subsystems(conn, robot: str) -> dict:
    return json.loads(conn.execute("SELECT subsystems FROM robot_health WHERE robot = ?", (robot,)).fetchone()[0])


# a robot at its usual rate over few tasks ---------------------------------------------------

@pytest.mark.parametrize("failures", [1, 2, 3])
def test_stats_usual_nav_rate_over_20_tasks_is_not_sick(store, fleet, failures):
    """3.9 % is the simulator's healthy navigation rate (warn 5 %, crit 15 %): over 20 tasks, 1 to 3
    failures happen by chance (55 % of hours have at least one); before, 1 read warn, 3 crit."""
    fleet("c1", 1)
    history(store, "c1-r0", T - HOUR, 1, {"nav.tasks": 20, "nav.interruptions": failures})
    evaluate(store, T, make_settings(alerts=FAST))
    nav = subsystems(store, "c1-r0")["nav"]
    assert (nav["level"], nav["rate_1h"]) == ("ok", failures / 20)
    assert nav["rate_bound"] < 0.05 and nav["score"] >= 80
    assert alerts_of(store, "subsystem_degraded") == []


@pytest.mark.parametrize("failures, level", [(5, "warn"), (8, "crit")])
def test_stats_many_failures_over_20_tasks_still_read_sick(store, fleet, failures, level):
    """The bound still proves a problem when there is one: 5 failures of 20 tasks (25 %) are surely
    above 5 %, 8 (40 %) surely above 15 %."""
    fleet("c1", 1)
    history(store, "c1-r0", T - HOUR, 1, {"nav.tasks": 20, "nav.interruptions": failures})
    evaluate(store, T, make_settings())
    assert subsystems(store, "c1-r0")["nav"]["level"] == level


# network coverage ------------------------------------------------------------------------------

def test_stats_robot_seen_5_minutes_with_one_wifi_drop_is_not_network_crit(store, fleet):
    fleet("c1", 1, first_seen=T - 5 * MIN)
    seed.write_window(store, "c1-r0", T - 5 * MIN, T, {"net.offline_s": 60, "net.disconnects": 1,
                                                        "usage.interactions": 4})
    evaluate(store, T, make_settings(alerts=FAST))
    net = subsystems(store, "c1-r0")["network"]
    assert net["rate_1h"] == 0.2  # the figure is shown: 60 s of 300
    assert (net["level"], net["judged"], net["score"]) == ("ok", False, 100.0)
    (row,) = store.execute("SELECT score FROM robot_health WHERE robot = 'c1-r0'").fetchall()
    assert row[0] == 100.0
    assert alerts_of(store, "subsystem_degraded") == []


def test_stats_network_judged_once_covered(store, fleet):
    """A robot seen for 40 minutes and offline for 10 of them (25 %) is crit: coverage is met."""
    fleet("c1", 1, first_seen=T - 40 * MIN)
    seed.write_window(store, "c1-r0", T - 40 * MIN, T, {"net.offline_s": 600, "net.disconnects": 1})
    evaluate(store, T, make_settings())
    net = subsystems(store, "c1-r0")["network"]
    assert (net["level"], net["judged"]) == ("crit", True)


# hysteresis of a subsystem's state ----------------------------------------------------------

def test_stats_state_leaves_crit_only_past_the_margin(store, fleet):
    """crit at 0.30 (asr, rate as counted); back to 0.27 stays crit (not below 0.8 x 0.30 = 0.24),
    0.23 leaves it (for warn: 0.23 >= 0.15)."""
    fleet("c1", 1)
    settings = make_settings({"confidence": 0.0})
    levels = []
    for i, errors in enumerate((32, 27, 23)):
        history(store, "c1-r0", T + i * HOUR, 1, {"asr.requests": 100, "asr.unrecognized": errors})
        evaluate(store, T + (i + 1) * HOUR, settings)
        levels.append(subsystems(store, "c1-r0")["asr"]["level"])
    assert levels == ["crit", "crit", "warn"]
    # without a stored level (a robot first judged at 0.27) there is nothing to hold
    fleet("c2", 1)
    history(store, "c2-r0", T + 2 * HOUR, 1, {"asr.requests": 100, "asr.unrecognized": 27})
    evaluate(store, T + 3 * HOUR, settings)
    assert subsystems(store, "c2-r0")["asr"]["level"] == "warn"


# colour hysteresis ----------------------------------------------------------------------------

def test_stats_colour_holds_within_its_margin(store, fleet):
    """A customer at score S: green with the green edge at S - 1; moving the edge to S + 1 (the score
    now 1 point under it) keeps it green; to S + 3 (past the 2-point margin) makes it yellow.  A
    customer seen for the first time takes its plain band."""
    fleet("c1", 2)
    for rid in ("c1-r0", "c1-r1"):
        history(store, rid, T - 2 * HOUR, 2, {"usage.interactions": 30})
    score = compute(store, T, make_settings().health)["customers"]["c1"]["score"]
    colors = []
    for edge in (score - 1, score + 1, score + 3):
        evaluate(store, T, make_settings({"green": edge, "yellow": min(edge, 10.0)}))
        colors.append(store.execute("SELECT color FROM customer_health WHERE customer = 'c1'").fetchone()[0])
    assert colors == ["green", "green", "yellow"]
    # and back up: yellow at S + 3; the edge at S - 1 is within the margin, S - 3 is past it
    for edge, want in ((score - 1, "yellow"), (score - 3, "green")):
        evaluate(store, T, make_settings({"green": edge, "yellow": min(edge, 10.0)}))
        assert store.execute("SELECT color FROM customer_health WHERE customer = 'c1'").fetchone()[0] == want
    store.execute("DELETE FROM customer_health")
    fresh = compute(store, T, make_settings({"green": score + 1, "yellow": 10.0}).health)["customers"]["c1"]
    assert fresh["color"] == "yellow"


# for_s held without a break -------------------------------------------------------------------

def test_stats_for_s_restarts_when_the_condition_lapses(store, fleet):
    """crit at T (pending), warn at T+10 min (lapsed), crit again at T+30 min: 30 minutes after the
    opening but not held for them, so not firing; it fires 30 minutes after it held again."""
    fleet("c1", 1)
    settings = make_settings(alerts={"subsystem_degraded": {"for_s": 1800}})
    history(store, "c1-r0", T - HOUR, 1, {"asr.requests": 100, "asr.unrecognized": 50})
    evaluate(store, T, settings)
    assert [a["state"] for a in alerts_of(store, "subsystem_degraded")] == ["pending"]
    seed.write_window(store, "c1-r0", T, T + 10 * MIN, {"asr.requests": 900, "asr.unrecognized": 170})
    evaluate(store, T + 10 * MIN, settings)  # 220 / 1000: warn, the crit condition lapsed
    assert subsystems(store, "c1-r0")["asr"]["level"] == "warn"
    seed.write_window(store, "c1-r0", T + 10 * MIN, T + 30 * MIN, {"asr.requests": 1000, "asr.unrecognized": 1000})
    evaluate(store, T + 30 * MIN, settings)  # 1220 / 2000: crit again
    assert [a["state"] for a in alerts_of(store, "subsystem_degraded")][-1] == "pending"
    for m in range(31, 61):
        seed.write_window(store, "c1-r0", T + (m - 1) * MIN, T + m * MIN, {"asr.requests": 5, "asr.unrecognized": 5})
        evaluate(store, T + m * MIN, settings)
        if m < 60:
            assert alerts_of(store, "subsystem_degraded")[-1]["state"] == "pending", m
    first, second = alerts_of(store, "subsystem_degraded")
    assert first["fired_ms"] is None and first["state"] == "resolved"
    assert second["state"] == "firing" and second["fired_ms"] == T + 60 * MIN


# site_outage needs min_down robots down -------------------------------------------------------

@pytest.mark.parametrize("robots, down, min_down, expected", [
    (2, 1, None, []),             # one lost robot of two: robot_offline's job, not a site outage
    (2, 2, None, ["c1/site-1"]),  # both (the default min_down is 2)
    (4, 2, 3, []),                # half the site, but under min_down 3
    (6, 3, 3, ["c1/site-1"]),
])
def test_stats_site_outage_needs_min_down(store, fleet, robots, down, min_down, expected):
    ids = fleet("c1", robots)
    for rid in ids:
        history(store, rid, T - HOUR, 1, {"usage.interactions": 5})
    for rid in ids[:down]:
        seed.set_state(store, rid, "offline", "lost", T)
    outage = {"for_s": 0} if min_down is None else {"for_s": 0, "min_down": min_down}
    evaluate(store, T + MIN, make_settings(alerts={"site_outage": outage}))
    assert [a["subject"] for a in alerts_of(store, "site_outage") if a["state"] == "firing"] == expected


# lost and stale robots in the network anomaly figures -----------------------------------------

def test_stats_lost_and_stale_robots_are_network_anomalies(store, fleet):
    ids = fleet("c1", 4)
    for rid in ids[:3]:
        history(store, rid, T - HOUR, 1, {"usage.interactions": 5})
    history(store, ids[3], T - 3 * HOUR, 1, {"usage.interactions": 5})  # silent for 2 hours: stale
    seed.set_state(store, ids[0], "offline", "lost", T - 30 * MIN)
    seed.set_state(store, ids[1], "offline", "shutdown", T - 30 * MIN)  # switched off: no anomaly
    evaluate(store, T, make_settings())
    facts = json.loads(store.execute("SELECT facts FROM customer_health WHERE customer = 'c1'").fetchone()[0])
    net = facts["anomalies"]["network"]
    assert (net["robots"], net["rate"]) == (2, 0.5)
    assert facts["anomalies"]["asr"]["robots"] == 0


# the fleet: healthy and quiet, and one robot truly sick ---------------------------------------

SCENES = ("museum", "ktv", "scenic", "mall", "bank")
#: per robot per hour, each denominator near ``min_volume`` (20): the lowest volume that is judged
LOW_VOLUME = {"nav.tasks": (20, 30), "asr.requests": (20, 35), "nlp.requests": (20, 35),
              "tts.requests": (20, 35), "touch.taps": (20, 30), "vision.face_attempts": (20, 40)}
ERRORS_OF = {den: [m for m in BASE_ERRORS if m.split(".")[0] == den.split(".")[0]] for den in LOW_VOLUME}


def healthy_hour(rng: random.Random, scene: str) -> dict[str, int]:
    """One robot-hour at the simulator's healthy error rates (simulator/profiles.py): each error
    counter drawn from its binomial, disconnects at the scene's rate with a few seconds offline."""
    counts = {}
    for den, (lo, hi) in LOW_VOLUME.items():
        n = rng.randint(lo, hi)
        counts[den] = n
        for metric in ERRORS_OF[den]:
            p = error_rate(scene, metric)
            counts[metric] = sum(1 for _ in range(n) if rng.random() < p)
    disconnects = sum(1 for _ in range(60) if rng.random() < PROFILES[scene].disconnects_per_h / 60)
    counts["net.disconnects"] = disconnects
    counts["net.offline_s"] = sum(rng.randint(3, 40) for _ in range(disconnects))
    counts["usage.interactions"] = counts["asr.requests"]
    return counts


def test_stats_healthy_quiet_fleet_for_a_week_raises_nothing(store, fleet):
    rng = random.Random(13)
    robots = []
    for i, scene in enumerate(SCENES):
        robots += [(rid, scene) for rid in fleet(f"{scene}-c", 10, scene=scene, first_seen=T - 8 * DAY)]
    settings = make_settings()
    start = T - 7 * DAY
    warn_hours = robot_hours = 0
    for h in range(7 * 24):
        t0 = start + h * HOUR
        seed.write_windows(store, [(rid, t0, t0 + HOUR, healthy_hour(rng, scene)) for rid, scene in robots])
        evaluate(store, t0 + HOUR, settings)
        for (text,) in store.execute("SELECT subsystems FROM robot_health"):
            robot_hours += 1
            warn_hours += any(v["level"] != "ok" for v in json.loads(text).values())
    assert robot_hours == 50 * 7 * 24
    assert alerts_of(store, "subsystem_degraded") == []
    assert warn_hours <= 0.01 * robot_hours, f"{warn_hours} of {robot_hours} robot-hours read warn"


def test_stats_robot_at_40_percent_asr_errors_fires_within_15_minutes(store, fleet):
    """A scenic robot (115 interactions an hour, 1.3 ASR requests each: 150 requests an hour) whose
    ASR fails 40 % of the time since two hours, among healthy robots, evaluated every minute."""
    ids = fleet("c1", 3, scene="scenic", first_seen=T - 8 * DAY)
    sick = ids[0]
    rng = random.Random(40)
    settings = make_settings()
    for rid in ids:
        history(store, rid, T - 2 * DAY, 46, lambda t: healthy_hour(rng, "scenic"))
    history(store, sick, T - 2 * HOUR, 2, {"asr.requests": 150, "asr.unrecognized": 45, "asr.misrecognized": 15})
    for rid in ids[1:]:
        history(store, rid, T - 2 * HOUR, 2, lambda t: healthy_hour(rng, "scenic"))
    fired = None
    for m in range(0, 16):
        now = T + m * MIN
        if m:
            seed.write_window(store, sick, now - MIN, now, {"asr.requests": 3, "asr.unrecognized": 1,
                                                              "asr.misrecognized": 0 if m % 5 else 1})
        evaluate(store, now, settings)
        firing = [a for a in alerts_of(store, "subsystem_degraded") if a["state"] == "firing"]
        if firing and fired is None:
            fired = now
            assert [a["subject"] for a in firing] == [f"{sick}/asr"]
    assert fired is not None and fired - T <= 15 * MIN
