"""Issue 13, closing time is not an outage: robots off or lost outside opening hours are `closed`
(no robot_offline, no site_outage, no reliability penalty); a robot not back within
`health.opening_grace_s` after opening, or lost while open, alerts as before.  Through the store."""

import json

from collector.store.sqlite import seed
from tests.plugins.health import DAY, HOUR, T, alerts_of, compute, evaluate, history, make_settings

MINUTE = 60_000
BJ = 8 * HOUR          # Beijing = UTC + 8
#: T is 2026-01-01 00:00 UTC = 08:00 Beijing; local hour h of 1 January Beijing is T + (h - 8) h
def local(h: float) -> int:
    return T + int((h - 8) * HOUR)


def _venue(store, fleet, cid="museum", hours="09:00-21:00", robots=4, today=12):
    """A Beijing venue open 09:00-21:00 whose robots worked there for 20 days, 09:00-21:00 local,
    and ``today`` hours from 09:00 on 1 January."""
    kw = {"hours": hours} if hours else {}
    ids = fleet(cid, robots, first_seen=T - 30 * DAY, **kw)
    for rid in ids:
        for d in range(20, 0, -1):
            history(store, rid, local(9) - d * DAY, 12, {"usage.interactions": 60, "usage.foot_traffic": 200,
                                                         "nav.tasks": 30, "asr.requests": 40})
        history(store, rid, local(9), today, {"usage.interactions": 60, "usage.foot_traffic": 200,
                                           "nav.tasks": 30, "asr.requests": 40})
    return ids


def _switch_off(store, ids, at):
    for rid in ids:
        seed.set_state(store, rid, "offline", "lost", at)   # a power cut: the broker's last will, not a shutdown


def _score(store, cid):
    score, facts, breakdown = store.execute("SELECT score, facts, breakdown FROM customer_health WHERE customer=?",
                                            (cid,)).fetchone()
    return score, json.loads(facts), {b["measure"]: b for b in json.loads(breakdown)}


def test_closing_time_power_cut_raises_nothing_and_keeps_the_score(store, fleet):
    ids = _venue(store, fleet)
    settings = make_settings()
    for m in range(0, 60, 5):
        evaluate(store, local(20) + m * MINUTE, settings)     # open, all robots online
    open_score, _, _ = _score(store, "museum")
    _switch_off(store, ids, local(21) + 5 * MINUTE)           # closing time: power off
    for m in range(10, 11 * 60, 10):                          # 21:10 until 07:50 next morning
        evaluate(store, local(21) + m * MINUTE, settings)
        assert alerts_of(store) == [], m
        if m == 170:                                          # 23:50, the local day's last cycle
            score, facts, parts = _score(store, "museum")
            assert score == open_score
            assert parts["reliability"]["score"] == 100.0 and "closed" in parts["reliability"]["fact"]
            assert facts["venue"]["open"] is False and facts["venue"]["source"] == "imported"
    (day_score,) = store.execute("SELECT score FROM score_history WHERE customer='museum' AND day_ms=?", (T,)).fetchone()
    assert day_score == open_score                            # the night is not the day's score


def test_robot_not_back_after_the_grace_alerts(store, fleet):
    ids = _venue(store, fleet)
    settings = make_settings(health={"opening_grace_s": 1800})
    _switch_off(store, ids, local(21) + 5 * MINUTE)
    evaluate(store, local(9) + DAY + 10 * MINUTE, settings)        # 09:10: the venue opened, robots not back yet
    assert alerts_of(store) == []
    for rid in ids[1:]:                                             # three come back by 09:20
        seed.set_state(store, rid, "online", None, local(9) + DAY + 20 * MINUTE)
        history(store, rid, local(9) + DAY, 1, {"nav.tasks": 30})
    evaluate(store, local(9) + DAY + 35 * MINUTE, settings)        # 09:35: grace over
    offline = alerts_of(store, "robot_offline")
    assert [(a["robot"], a["state"]) for a in offline] == [(ids[0], "firing")]
    assert alerts_of(store, "site_outage") == []                    # one of four down is not an outage


def test_robot_lost_during_opening_hours_alerts_at_once(store, fleet):
    ids = _venue(store, fleet, today=5)
    for rid in ids[1:]:
        history(store, rid, local(14), 2, {"nav.tasks": 30})     # the others keep working
    settings = make_settings()
    evaluate(store, local(14), settings)
    seed.set_state(store, ids[0], "offline", "lost", local(14) + MINUTE)
    evaluate(store, local(14) + 15 * MINUTE, settings)
    assert [(a["robot"], a["state"]) for a in alerts_of(store, "robot_offline")] == [(ids[0], "firing")]
    _score_now, _, parts = _score(store, "museum")
    assert parts["reliability"]["score"] < 100.0


def test_opening_hours_learned_from_the_venues_own_usage(store, fleet):
    """No hours imported: 20 days of use 09:00-21:00 Beijing teach the venue's hours; a power cut at
    21:05 is the night, a loss at 14:00 is an outage."""
    ids = _venue(store, fleet, hours=None)
    settings = make_settings()
    _switch_off(store, ids, local(21) + 5 * MINUTE)
    for m in range(10, 11 * 60, 20):
        evaluate(store, local(21) + m * MINUTE, settings)
    assert alerts_of(store) == []
    ctx = compute(store, local(23), settings.health)
    assert ctx["customers"]["museum"]["facts"]["venue"] == {
        "open": False, "opened_ms": None, "source": "learned", "hours": "learned: 09:00-21:00"}
    for rid in ids:
        seed.set_state(store, rid, "online", None, local(9) + DAY)
    for rid in ids:
        history(store, rid, local(9) + DAY, 5 if rid in ids[1:3] else 7, {"nav.tasks": 30})
    seed.set_state(store, ids[1], "offline", "lost", local(14) + DAY)
    seed.set_state(store, ids[2], "offline", "lost", local(14) + DAY)
    for m in range(0, 30, 2):
        evaluate(store, local(14) + DAY + m * MINUTE, settings)
    assert {a["robot"] for a in alerts_of(store, "robot_offline")} == {ids[1], ids[2]}
    assert [a["state"] for a in alerts_of(store, "site_outage")] == ["firing"]


def test_overnight_hours_are_open_across_midnight(store, fleet):
    """A KTV open 18:00-02:00: a robot lost at 01:00 alerts, one off at 03:00 is closed."""
    ids = fleet("ktv", 2, scene="ktv", hours="18:00-02:00", first_seen=T - 30 * DAY)
    for rid, hours in zip(ids, (7, 8)):       # r0 is lost at 01:00, r1 works until closing
        history(store, rid, local(18), hours, {"usage.interactions": 10})
    settings = make_settings()
    seed.set_state(store, ids[0], "offline", "lost", local(25))
    evaluate(store, local(25) + 15 * MINUTE, settings)                # 01:15 local, open
    assert [a["robot"] for a in alerts_of(store, "robot_offline")] == [ids[0]]
    evaluate(store, local(26) + 10 * MINUTE, settings)                              # 03:00 local, closed
    seed.set_state(store, ids[1], "offline", "lost", local(27))
    evaluate(store, local(27) + 30 * MINUTE, settings)
    assert [a["robot"] for a in alerts_of(store, "robot_offline")] == [ids[0]]


def test_learned_hours_bridge_the_gaps_of_two_hour_windows(store, fleet):
    """History back-filled in 2-hour windows puts each window's counts in the hour of its start, so
    every other hour looks unused: the venue is still open 09:00-21:00, not every other hour."""
    ids = fleet("museum", 2, first_seen=T - 30 * DAY)
    windows = [(rid, local(h) - d * DAY, local(h) - d * DAY + 2 * HOUR, {"usage.interactions": 100})
               for rid in ids for d in range(20, 0, -1) for h in range(9, 21, 2)]
    seed.write_windows(store, windows)
    ctx = compute(store, local(12), make_settings().health)
    assert ctx["customers"]["museum"]["facts"]["venue"]["hours"] == "learned: 09:00-20:00"
    seed.set_state(store, ids[0], "offline", "lost", local(12))
    history(store, ids[0], local(9), 3, {"nav.tasks": 5})
    history(store, ids[1], local(9), 6, {"nav.tasks": 5})
    evaluate(store, local(12) + 15 * MINUTE, make_settings())       # 12:15, an "odd" hour: open
    assert [a["robot"] for a in alerts_of(store, "robot_offline")] == [ids[0]]
