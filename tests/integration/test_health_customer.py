"""Must-show 5 through the store: the stored breakdown adds up to the stored score, peers are the
customer's own scene, and the fleet figures a CSM reads are there."""

import json

from collector.store.sqlite import seed
from tests.plugins.health import DAY, HOUR, T, daily, date_in, evaluate, history, make_settings


def customer_health(store, cid):
    cols = ("score", "color", "trend", "robots_total", "robots_online", "robots_offline", "robots_stale",
            "color_since_ms", "breakdown", "facts")
    row = store.execute(f"SELECT {', '.join(cols)} FROM customer_health WHERE customer=?", (cid,)).fetchone()
    out = dict(zip(cols, row))
    out["breakdown"], out["facts"] = json.loads(out["breakdown"]), json.loads(out["facts"])
    return out


def test_customer_score_breakdown_and_scene_peers(store, fleet):
    for i, per_day in enumerate((100, 200, 300)):
        for rid in fleet(f"museum{i}", 2, contract_end=date_in(120), arr=10000.0 * (i + 1)):
            daily(store, rid, T - 30 * DAY, 30, {"usage.interactions": per_day, "skill.guide": 8, "skill.qa": 2})
    for i, per_day in enumerate((5000, 6000)):  # a busier scene must not move the museums' ranks
        for rid in fleet(f"ktv{i}", 1, scene="ktv"):
            daily(store, rid, T - 30 * DAY, 30, {"usage.interactions": per_day, "skill.delivery": 9})
    evaluate(store, T, make_settings({"percentile_min_peers": 2}))  # ranks from 2 peers (default 5)
    for cid in ("museum0", "museum1", "museum2", "ktv0", "ktv1"):
        h = customer_health(store, cid)
        assert round(sum(b["points"] for b in h["breakdown"]), 6) == h["score"]
        # leading indicators only: the contract is context (facts.contract), not a score part (issue 13)
        assert {b["measure"] for b in h["breakdown"]} == {"reliability", "adoption", "usage_trend",
                                                           "onboarding"}
    m1 = customer_health(store, "museum1")
    # issue 13: peers on the scene's measure (museum: guide + interactions = 208 a robot a day), the
    # median of the others, and a percentile only from percentile_min_peers others
    assert m1["facts"]["peers"] == {"scene": "museum", "peers": 2, "percentile": 50.0, "value": 208.0,
                                    "median": 208.0, "ratio": 1.0, "at_benchmark": False}
    assert customer_health(store, "museum2")["facts"]["peers"]["percentile"] == 100.0
    ktv0 = customer_health(store, "ktv0")["facts"]["peers"]  # KTV: deliveries, one peer: no rank
    assert (ktv0["value"], ktv0["peers"], ktv0["percentile"], ktv0["median"]) == (9.0, 1, None, 9.0)
    adoption = next(b for b in m1["breakdown"] if b["measure"] == "adoption")
    assert adoption["score"] == 50.0 and "museum" in adoption["fact"]
    assert m1["facts"]["skills"] == {"guide": 0.8, "qa": 0.2}
    assert m1["facts"]["usage"]["per_robot_per_day"]["interactions"] == 200.0
    assert m1["facts"]["contract"] == {"arr": 20000.0, "contract_end": date_in(120), "days_to_renewal": 120}
    assert m1["robots_total"] == 2


def test_customer_robots_anomalies_history_and_trend(store, fleet):
    ids = fleet("c1", 3)
    for rid in ids:
        history(store, rid, T - 2 * HOUR, 2, {"asr.requests": 100, "asr.unrecognized": 40 if rid == ids[0] else 1})
    seed.set_state(store, ids[2], "offline", "lost", T)
    settings = make_settings()
    evaluate(store, T - 7 * DAY, settings)   # a week ago: nothing yet, score history starts
    evaluate(store, T, settings)
    h = customer_health(store, "c1")
    assert (h["robots_total"], h["robots_online"], h["robots_offline"], h["robots_stale"]) == (3, 2, 1, 0)
    asr = h["facts"]["anomalies"]["asr"]
    assert asr["robots"] == 1 and asr["count"] == 80 + 2 + 2 and asr["rate"] == round(1 / 3, 4)
    history_rows = store.execute("SELECT day_ms, score FROM score_history WHERE customer='c1' ORDER BY day_ms").fetchall()
    assert [d for d, _ in history_rows] == [T - 7 * DAY, T]
    assert h["facts"]["score_7d_ago"] == history_rows[0][1]
    assert h["trend"] == ("down" if h["score"] <= history_rows[0][1] - 5 else "flat")
    robot = store.execute("SELECT score, worst, subsystems FROM robot_health WHERE robot=?", (ids[0],)).fetchone()
    assert robot[1] == "asr" and robot[0] < 50
    assert json.loads(robot[2])["asr"]["state"] == "crit"


def test_customer_onboarding_milestones(store, fleet):
    (rid,) = fleet("c1", 1)
    daily(store, rid, T - 10 * DAY, 10, lambda day: {"usage.interactions": 50 if day < T - 4 * DAY else 1})
    evaluate(store, T, make_settings())
    (robot,) = customer_health(store, "c1")["facts"]["onboarding"]
    assert robot["age_days"] == 10
    assert robot["milestones"]["7"] == {"active_days": 6, "needed": 5, "status": "met"}
    assert robot["milestones"]["14"]["status"] == "open"


def test_customer_color_change_goes_to_the_feed(store, fleet):
    ids = fleet("c1", 2)
    for rid in ids:
        history(store, rid, T - HOUR, 2, {"usage.interactions": 5})
    settings = make_settings(health={"weight_reliability": 1.0, "weight_adoption": 0.0, "weight_usage_trend": 0.0,
                                     "weight_onboarding": 0.0})
    evaluate(store, T, settings)
    assert customer_health(store, "c1")["color"] == "green"
    for rid in ids:
        seed.set_state(store, rid, "offline", "lost", T + 1)
    evaluate(store, T + 60_000, settings)
    assert customer_health(store, "c1")["color"] == "red"
    kinds = [(k, json.loads(d)) for k, d in store.execute("SELECT kind, data FROM feed_events ORDER BY id")]
    colors = [d for k, d in kinds if k == "customer_health"]
    assert [(d["from"], d["color"]) for d in colors] == [("green", "red")]
    assert sorted(d["robot"] for k, d in kinds if k == "robot_state") == sorted(ids)
    assert customer_health(store, "c1")["color_since_ms"] == T + 60_000


def test_customer_feed_and_delivered_notifications_are_trimmed(store, fleet):
    fleet("c1", 1)
    store.execute("INSERT INTO feed_events (ts_ms, kind, data) VALUES (?, 'alert', '{}'), (?, 'alert', '{}')",
                  (T - 8 * DAY, T - 6 * DAY))
    store.execute("INSERT INTO notifications (idempotency_key, target, payload, created_ms, next_attempt_ms,"
                  " delivered_ms) VALUES ('old', 'cs', '{}', 0, 0, ?), ('pending', 'cs', '{}', 0, 0, NULL),"
                  " ('recent', 'cs', '{}', 0, 0, ?)", (T - 31 * DAY, T - DAY))
    evaluate(store, T, make_settings())
    assert [r[0] for r in store.execute("SELECT ts_ms FROM feed_events WHERE data='{}'")] == [T - 6 * DAY]
    assert sorted(r[0] for r in store.execute("SELECT idempotency_key FROM notifications")) == ["pending", "recent"]
