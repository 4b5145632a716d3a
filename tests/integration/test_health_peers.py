"""Issue 13, peers that fit the scene and seasonality: each scene judged on its primary measure
(``[health] scene_measures``), ``below_peers`` as a share of the scene's median and never at the
benchmark, percentiles only where the group is large enough, ``usage_drop`` against the usual level.
Real SQLite, rollups written the way the store writes them."""

import json

from tests.plugins.health import DAY, T, alerts_of, daily, evaluate, make_settings


def firing(conn, rule):
    return [a["subject"] for a in alerts_of(conn, rule) if a["state"] == "firing"]


def facts(conn, cid):
    breakdown, f = conn.execute("SELECT breakdown, facts FROM customer_health WHERE customer=?", (cid,)).fetchone()
    return {b["measure"]: b for b in json.loads(breakdown)}, json.loads(f)


def test_peers_ktv_judged_on_its_deliveries_not_its_interactions(store, fleet):
    # seed 002: KTVs deliver a lot and talk little; on interactions alone adoption read 2 (20 / 1,000)
    for rid in fleet("ktv1", 2, scene="ktv"):
        daily(store, rid, T - 30 * DAY, 30, {"usage.interactions": 20, "skill.delivery": 400})
    evaluate(store, T, make_settings())
    parts, f = facts(store, "ktv1")
    assert f["usage"]["primary"]["measure"] == "delivery"
    assert f["usage"]["primary"]["per_robot_day_30d"] == 400.0
    assert parts["adoption"]["score"] == 100.0  # 400 deliveries a day against the KTV benchmark of 300
    assert "delivery/robot/day" in parts["adoption"]["fact"]


def test_peers_scene_table_is_configurable(store, fleet):
    for rid in fleet("ktv1", 1, scene="ktv"):
        daily(store, rid, T - 30 * DAY, 30, {"usage.interactions": 20, "skill.delivery": 400})
    evaluate(store, T, make_settings({"scene_measures": ["ktv: usage.interactions @ 100"]}))
    parts, f = facts(store, "ktv1")
    assert f["usage"]["primary"]["measure"] == "interactions"
    assert parts["adoption"]["score"] == 20.0


def _scenic(store, fleet, per_day):
    for i, n in enumerate(per_day):
        (rid,) = fleet(f"s{i}", 1, scene="scenic")
        daily(store, rid, T - 30 * DAY, 30, {"usage.interactions": n})


#: a demanding threshold, so that only the benchmark guard keeps the lowest of a strong scene quiet
STRICT = {"below_peers": {"threshold": 0.9, "clear": 0.95}}


def test_peers_lowest_of_a_scene_above_the_benchmark_is_not_below_peers(store, fleet):
    _scenic(store, fleet, (1100, 1200, 1300, 1400))  # all above the benchmark (1,000 interactions)
    evaluate(store, T, make_settings(alerts=STRICT))
    assert firing(store, "below_peers") == []
    _, f = facts(store, "s0")
    assert f["peers"]["ratio"] == round(1100 / 1300, 3) and f["peers"]["at_benchmark"] is True


def test_peers_lowest_of_a_scene_below_the_benchmark_is_below_peers(store, fleet):
    _scenic(store, fleet, (110, 120, 130, 140))  # the same shape a tenth as busy: under the benchmark
    evaluate(store, T, make_settings(alerts=STRICT))
    assert firing(store, "below_peers") == ["s0"]


def test_peers_percentile_only_for_a_large_enough_group(store, fleet):
    _scenic(store, fleet, (100, 200))
    evaluate(store, T, make_settings())
    _, f = facts(store, "s0")
    assert f["peers"]["peers"] == 1 and f["peers"]["percentile"] is None  # was 0 (and the other 100)
    parts, _ = facts(store, "s1")
    assert "too few to rank" in parts["adoption"]["fact"]


def test_peers_percentile_shown_from_the_documented_minimum(store, fleet):
    _scenic(store, fleet, (100, 200, 300, 400, 500, 600))  # 5 others each: health.percentile_min_peers
    evaluate(store, T, make_settings())
    _, f = facts(store, "s0")
    assert f["peers"]["percentile"] == 0.0 and f["peers"]["peers"] == 5
    parts, _ = facts(store, "s5")
    assert parts["adoption"]["score"] == 100.0 and "percentile 100" in parts["adoption"]["fact"]


# seasonality ------------------------------------------------------------------------------

def _weeks(store, fleet, last_week, week_before):
    """Two robots at 100 interactions a day for four weeks, then ``week_before``, then ``last_week``."""
    def per_day(day):
        n = 100 if day < T - 14 * DAY else week_before if day < T - 7 * DAY else last_week
        return {"usage.interactions": n}
    for rid in fleet("c1", 2, scene="scenic"):
        daily(store, rid, T - 35 * DAY, 35, per_day)


def test_usage_drop_not_after_a_holiday_spike(store, fleet):
    # back to its usual 100 a day after a holiday week at 200: -50% against the week before, which
    # fired; against the usual level (the same weekdays of the 4 weeks before: median 100) it is 0
    _weeks(store, fleet, last_week=100, week_before=200)
    evaluate(store, T, make_settings())
    assert firing(store, "usage_drop") == []
    parts, f = facts(store, "c1")
    assert f["usage"]["primary"]["trend_7d_pct"] == -50.0
    assert f["usage"]["primary"]["vs_usual_pct"] == 0.0
    # nor a fall of the score: its usage trend is judged on the usual level too (was 0 at -50 %)
    assert parts["usage_trend"]["score"] == 100.0
    assert parts["usage_trend"]["fact"] == "interactions +0% against its usual level"


def test_usage_drop_below_the_usual_level_fires(store, fleet):
    _weeks(store, fleet, last_week=55, week_before=100)
    evaluate(store, T, make_settings())
    assert firing(store, "usage_drop") == ["c1"]
    (alert,) = alerts_of(store, "usage_drop")
    assert "usual level" in alert["summary"]


def test_usage_drop_after_a_holiday_dip_is_judged_on_the_usual_level(store, fleet):
    # a week at 30 (holidays closed), then a week at 55: +83% on the week before, -45% on the usual level
    _weeks(store, fleet, last_week=55, week_before=30)
    evaluate(store, T, make_settings())
    assert firing(store, "usage_drop") == ["c1"]


def test_usual_level_follows_late_data_between_cycles(store, fleet):
    # the store keeps each cycle's complete-day reads between cycles; a late back-fill of a day 33
    # days back (older than the 31 days the interaction sums watch) must still reach the usual level
    from collector.alerts import evaluator
    from tests.plugins.health import parts

    (rid,) = fleet("c1", 1, scene="scenic")
    # three weeks at 100 after one at 300: each weekday's median of (300, 100, 100) is 100
    daily(store, rid, T - 28 * DAY, 28, lambda day: {"usage.interactions": 300 if day < T - 21 * DAY else 100})
    store_parts, settings = parts(store), make_settings()
    evaluator.evaluate(store_parts, T, settings)
    _, before = facts(store, "c1")
    daily(store, rid, T - 33 * DAY, 1, {"usage.interactions": 300})  # that weekday: (300, 300, 100, 100)
    evaluator.evaluate(store_parts, T + 60_000, settings)
    _, after = facts(store, "c1")
    assert (before["usage"]["primary"]["usual_7d"], after["usage"]["primary"]["usual_7d"]) == (700.0, 800.0)
