"""The loop's memory between cycles only saves work: late data for a complete hour or day (the
store's ``rollup_marks`` revision), back-filled usage days and a restart all give the answers a
cycle without memory gives."""

from __future__ import annotations

import json

from collector.health.memory import HealthMemory
from collector.store.sqlite import marks, seed
from tests.plugins.health import DAY, HOUR, T, daily, evaluate, history, make_settings

NOW = T + 10 * HOUR + 30 * 60_000   # 10:30 on the first day of 2026


def facts(conn, customer: str = "c1") -> dict:
    return json.loads(conn.execute("SELECT facts FROM customer_health WHERE customer = ?", (customer,)).fetchone()[0])


def subsystems(conn, robot: str) -> dict:
    return json.loads(conn.execute("SELECT subsystems FROM robot_health WHERE robot = ?", (robot,)).fetchone()[0])


def test_memory_store_bumps_the_revision_of_each_bucket_written(store, fleet):
    (rid,) = fleet("c1", 1)
    history(store, rid, NOW - 2 * HOUR, 2, {"asr.requests": 10})
    last_hour = NOW - NOW % HOUR - HOUR
    before = marks.revisions(store, [("counter_hour", last_hour), ("counter_day", T)])
    history(store, rid, last_hour, 1, {"asr.requests": 1}, window_ms=10 * 60_000)  # one write, six windows
    after = marks.revisions(store, [("counter_hour", last_hour), ("counter_day", T), ("counter_day", T - DAY)])
    assert after == {("counter_hour", last_hour): before[("counter_hour", last_hour)] + 1,
                     ("counter_day", T): before[("counter_day", T)] + 1, ("counter_day", T - DAY): 0}


def test_memory_late_data_for_yesterday_reaches_the_long_view(store, fleet):
    (rid,) = fleet("c1", 1)
    history(store, rid, T - 6 * HOUR, 6, {"nav.tasks": 10})          # yesterday evening: fine
    history(store, rid, T, 10, {"nav.tasks": 1})                     # today: too quiet for the short view
    memory = HealthMemory()
    evaluate(store, NOW, make_settings(), memory)
    assert subsystems(store, rid)["nav"]["level"] == "ok"
    assert ("counter_day", T - DAY) in memory["buckets"]              # yesterday is kept between cycles
    # an agent that was offline uploads yesterday afternoon's backlog: many failed navigation tasks
    history(store, rid, T - 10 * HOUR, 2, {"nav.tasks": 50, "nav.lidar_faults": 40}, window_ms=10 * 60_000)
    evaluate(store, NOW + 60_000, make_settings(), memory)
    assert subsystems(store, rid)["nav"]["level"] == "crit"
    assert subsystems(store, rid)["nav"]["volume_since_yesterday"] == 60 + 10 + 100


def test_memory_late_usage_for_an_old_day_changes_the_30_day_figures(store, fleet):
    rids = fleet("c1", 2)
    for rid in rids:
        daily(store, rid, T - 30 * DAY, 30, {"usage.interactions": 100})
    memory = HealthMemory()
    evaluate(store, NOW, make_settings(), memory)
    assert facts(store)["usage"]["interactions_per_robot_day_30d"] == 100.0
    assert facts(store)["benchmark"]["interactions_per_robot_day_30d"] == 100.0
    # late windows for a day three weeks ago (back-fill of a robot's outbox), added to that day
    daily(store, rids[0], T - 21 * DAY, 1, {"usage.interactions": 600})
    evaluate(store, NOW + 60_000, make_settings(), memory)
    assert facts(store)["usage"]["interactions_per_robot_day_30d"] == 110.0
    assert facts(store)["benchmark"]["interactions_per_robot_day_30d"] == 110.0


def test_memory_late_usage_completes_an_onboarding_day(store, fleet):
    (rid,) = fleet("c1", 1, first_seen=T - 10 * DAY)
    daily(store, rid, T - 10 * DAY, 10, lambda day: {"usage.interactions": 50 if day != T - 3 * DAY else 2})
    memory = HealthMemory()
    evaluate(store, NOW, make_settings(), memory)
    (robot,) = facts(store)["onboarding"]
    assert robot["milestones"]["7"]["active_days"] == 7 and robot["active_last_7d"] == 6
    daily(store, rid, T - 3 * DAY, 1, {"usage.interactions": 20})    # late: the quiet day was active
    evaluate(store, NOW + 60_000, make_settings(), memory)
    (robot,) = facts(store)["onboarding"]
    assert robot["active_last_7d"] == 7


def test_memory_a_restarted_loop_writes_what_a_running_loop_writes(tmp_path):
    """A restart (empty memory on a store with rows) takes the stored rows as its memory: figures
    that moved within ``detail_refresh_s`` are not all rewritten, and the store ends up the same."""
    from collector.store.sqlite.db import connect_writer
    dumps = []
    for restart in (False, True):
        conn = connect_writer(tmp_path / f"r{restart}.db")
        seed.add_customer(conn, "c1", "museum", now_ms=T)
        for i in range(3):
            seed.add_robot(conn, f"r{i}", "c1", "s", first_seen_ms=T - DAY, now_ms=T)
        memory = HealthMemory()
        for minute in range(6):
            now = NOW + minute * 60_000
            for i in range(3):  # figures move every minute, levels stay (until r2 gets sick)
                sick = i == 2 and minute >= 4
                seed.write_window(conn, f"r{i}", now - 60_000, now,
                                  {"asr.requests": 30 + minute, "asr.unrecognized": 20 if sick else minute % 2})
            if restart and minute == 3:
                memory = HealthMemory()
            evaluate(conn, now, make_settings(), memory)
        dumps.append([conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                      for t in ("robot_health", "customer_health", "alerts", "alert_events", "feed_events")])
        conn.close()
    assert dumps[0] == dumps[1]
    computed = {row[0]: row[2] for row in dumps[1][0]}  # robot, customer, computed_ms, ...
    # r0: written when asr became its worst subsystem (minute 1), not for the figures that moved after
    assert computed["r0"] == NOW + 60_000 and computed["r2"] == NOW + 5 * 60_000


def test_memory_running_sum_of_today_gives_the_daily_bucket(store, fleet):
    """The long view from the loop's running sum of today's hours equals reading today's daily
    bucket, minute by minute across an hour and a day boundary, with late data for an earlier hour
    of today and data ahead of the current hour (a robot's clock ahead)."""
    from tests.plugins.health import compute
    rids = fleet("c1", 3, first_seen=T - 3 * DAY)
    hs = make_settings().health
    start = T + DAY - 2 * HOUR - 3 * 60_000   # 21:57 on the first day
    memory = HealthMemory()
    for minute in range(0, 190, 3):
        now = start + minute * 60_000
        for i, rid in enumerate(rids):
            seed.write_window(store, rid, now - 60_000, now, {"nav.tasks": 3 + i, "nav.lidar_faults": minute % 4})
        if minute == 30:   # late: an agent's backlog for an earlier hour of today
            seed.write_window(store, rids[0], now - 3 * HOUR, now - 3 * HOUR + 10, {"nav.tasks": 500})
        if minute == 60:   # ahead: a robot whose clock is an hour fast (still today)
            seed.write_window(store, rids[1], now + HOUR, now + HOUR + 10, {"nav.lidar_faults": 9})
        kept = compute(store, now, hs, memory)["robots"]
        fresh = compute(store, now, hs, None)["robots"]
        assert kept == fresh, minute
    assert "today" in memory
