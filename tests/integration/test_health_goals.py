"""Issue 14, must-show: a success goal's progress and status follow the data day by day through the
real store and the real evaluation cycle (health, then the alert engine): on track while usage
rises towards the target, at risk when usage falls (``goal_at_risk`` fires), back on track and
achieved when it recovers (the alert resolves), all in the customer's local days (Los Angeles:
an evening's use lies in the next UTC day, and is still counted on its own local day).

The goal is imported by the import code (``collector.store.goals``) into the store's registry
part; the history is written through the store (``seed.write_windows``: the store's own rollup
code; ``SqliteIngestStore.apply`` where gauges matter)."""

from __future__ import annotations

import io

import pytest

from collector.store import goals as goal_import
from collector.store.records import Queued, Telemetry
from collector.store.sqlite import seed
from collector.store.sqlite.ingest import SqliteIngestStore
from collector.store.sqlite.reads import SqliteReadStore
from collector.store.sqlite.registry import SqliteRegistryStore
from collector.api.goals import judged_goals
from tests.plugins.health import DAY, HOUR, T, alerts_of, compute, evaluate, make_settings

pytestmark = pytest.mark.sqlite_only("not yet on PostgreSQL: goals are imported and their series read through the SQLite parts (SqliteRegistryStore, SqliteReadStore)")

LA = -8 * HOUR                 # America/Los_Angeles in December and January (PST)
DEC1 = T - 31 * DAY - LA       # 2025-12-01 00:00 in Los Angeles, as UTC ms


def _import(path, text: str, by: str = "wang.fang") -> str:
    registry = SqliteRegistryStore(str(path))
    csv_path = path.parent / "goals.csv"
    csv_path.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    try:
        assert goal_import.import_file(str(csv_path), registry, out, err, actor=by) == 0, err.getvalue()
    finally:
        registry.close()
    return out.getvalue()


def usage(d: int) -> int:
    """Interactions per robot on local day ``d`` (0 = 1 December): rising towards 100, then a fall
    to 30 for a week, then 200."""
    return 80 + d if d < 8 else 30 if d < 15 else 200


def _day(conn, robots, d: int) -> None:
    """Day ``d``'s use: two thirds at noon, the rest at 23:00 local (07:00 UTC of the next day)."""
    day = DEC1 + d * DAY
    n = usage(d)
    seed.write_windows(conn, [w for rid in robots for w in (
        (rid, day + 12 * HOUR, day + 13 * HOUR, {"usage.interactions": n - n // 3}),
        (rid, day + 23 * HOUR, day + 24 * HOUR, {"usage.interactions": n // 3}))])


def test_health_goal_follows_the_data_day_by_day_in_local_days(store, fleet, tmp_path):
    robots = fleet("la", 2, timezone="America/Los_Angeles", first_seen=DEC1 - 30 * DAY)
    _import(tmp_path / "store.db", "customer,metric,target,start,due,note\n"
                                   "la,interactions_per_robot_day,100,2025-12-01,2026-01-30,agreed at kick-off\n")
    settings = make_settings()
    reads = SqliteReadStore(str(tmp_path / "store.db"))
    seen = []
    for d in range(20):
        _day(store, robots, d)
        # 23:30 local on day d is already the next UTC day: day d is not complete yet, locally
        late = compute(store, DEC1 + d * DAY + 23 * HOUR + 30 * 60_000, settings.health)["goals"][0]
        assert late["days_elapsed"] == d
        # 08:00 local the next morning: day d is complete, counted whole on its own local date
        morning = DEC1 + (d + 1) * DAY + 8 * HOUR
        evaluate(store, morning, settings)
        goal = compute(store, morning, settings.health)["goals"][0]
        # the API's view of the same goal (the same judge), with its progress per local day
        (shown,) = judged_goals(reads, "la", reads.goal_customer("la"), "America/Los_Angeles", morning)["items"]
        assert shown["days"][-1] == {"date": f"2025-12-{d + 1:02d}", "value": float(usage(d)),
                                     "numerator": 2.0 * usage(d), "denominator": 2.0}
        assert {k: v for k, v in shown.items() if k != "days"} == {k: v for k, v in goal.items() if k != "days"}
        states = [a["state"] for a in alerts_of(store, "goal_at_risk")]
        seen.append((goal["status"], goal["reason"], states[-1] if states else None))
    assert seen[:2] == [("on_track", "too_early", None)] * 2
    assert seen[2:8] == [("on_track", "projected_to_reach", None)] * 6     # rising towards 100
    assert seen[8:16] == [("at_risk", "projected_short", "firing")] * 8    # the fall to 30
    assert seen[16] == ("on_track", "projected_to_reach", "resolved")      # 200 a day: back on track
    assert seen[17:] == [("achieved", "at_target", "resolved")] * 3        # the last 7 days average >= 100
    reads.close()
    (alert,) = alerts_of(store, "goal_at_risk")                            # fired once, resolved once
    assert alert["customer"] == "la" and alert["subject"] == "la/goal/1"
    assert "goal interactions_per_robot_day 100 by 2026-01-30 at risk" in alert["summary"]


def test_health_goal_is_missed_or_achieved_once_its_due_date_is_over(store, fleet, tmp_path):
    robots = fleet("la", 1, timezone="America/Los_Angeles", first_seen=DEC1 - 30 * DAY)
    _import(tmp_path / "store.db", "customer,metric,target,start,due,note\n"
                                   "la,interactions_per_robot_day,100,2025-12-01,2025-12-10,\n"
                                   "la,interactions_per_robot_day,50,2025-12-01,2025-12-09,\n")
    for d in range(12):
        _day(store, robots, d)
    settings = make_settings()
    evaluate(store, DEC1 + 12 * DAY + 8 * HOUR, settings)
    goals = {g["target"]: g for g in compute(store, DEC1 + 12 * DAY + 8 * HOUR, settings.health)["goals"]}
    assert goals[100.0]["status"] == "missed" and goals[100.0]["days_elapsed"] == 10
    assert goals[100.0]["progress"] == pytest.approx(sum(usage(d) for d in range(3, 10)) / 7, abs=0.01)
    assert goals[50.0]["status"] == "achieved" and goals[50.0]["reason"] == "reached_by_due"
    assert goals[50.0]["days_left"] == 0
    assert alerts_of(store, "goal_at_risk") == []  # a missed goal is not a call to action


def test_health_goal_metrics_sum_the_stored_data(store, fleet, tmp_path):
    """Conversion, active-day share, a skill and availability for one Berlin customer open 09:00-17:00:
    each equals the figure worked out by hand from the windows stored."""
    berlin = 1 * HOUR
    day0 = T - 5 * DAY - berlin  # 27 December 2025 00:00 in Berlin
    fleet("de", 2, timezone="Europe/Berlin", hours="09:00-17:00", first_seen=day0 - 10 * DAY)
    _import(tmp_path / "store.db", "customer,metric,target,start,due,note\n"
                                   "de,conversion,40,2025-12-27,2026-01-31,\n"
                                   "de,active_day_share,80,2025-12-27,2026-01-31,\n"
                                   "de,skill:guide,5,2025-12-27,2026-01-31,\n"
                                   "de,availability,95,2025-12-27,2026-01-31,\n")
    ingest = SqliteIngestStore(str(tmp_path / "store.db"))
    windows, seq = [], 0
    for hour in range(9, 17):   # robot 0 reports every open hour of the first day; robot 1 stays off
        if hour == 14:
            continue                # 13:00-15:00 is one 2-hour window, counted in the hour of its start
        seq += 1
        t0 = day0 + hour * HOUR
        counts = {"usage.interactions": 5 * (2 if hour == 13 else 1), "usage.foot_traffic": 20 * (2 if hour == 13 else 1),
                  "skill.guide": 2 if hour == 13 else 1}
        if hour == 12:
            counts["net.offline_s"] = 1800   # half an hour without network
        windows.append((seq, t0, t0 + (2 if hour == 13 else 1) * HOUR, counts, {"sys.cpu_pct": 20.0}))
    try:
        ingest.apply([Queued.of(Telemetry("de-r0", "de", "site-1", "00000000000000aa", T, tuple(windows)), T)], 100)
    finally:
        ingest.close()
    ctx = compute(store, day0 + DAY + 10 * HOUR, make_settings().health)   # 28 December 10:00 Berlin
    goals = {g["metric"]: g for g in ctx["goals"]}
    assert all(g["days_elapsed"] == 1 for g in goals.values())
    assert goals["conversion"]["progress"] == 25.0            # 40 interactions / 160 passers-by
    assert goals["active_day_share"]["progress"] == 50.0      # one robot of two used
    assert goals["skill:guide"]["progress"] == 4.0            # 8 guide tours over 2 robots
    # 16 open robot-hours (8 hours x 2 robots); robot 0 online 7.5 of its 8 (14:00 inside the 2-hour window)
    assert goals["availability"]["progress"] == pytest.approx(100 * 7.5 / 16, abs=0.01)
    # an active day is health's: at least health.active_day_interactions interactions (40 < 50 here)
    strict = compute(store, day0 + DAY + 10 * HOUR, make_settings(health={"active_day_interactions": 50}).health)
    assert {g["metric"]: g["progress"] for g in strict["goals"]}["active_day_share"] == 0.0


def test_health_goal_sums_kept_between_cycles_follow_late_data(store, fleet, tmp_path):
    """The store keeps each day's sums between cycles; late data for a past day (an agent's backlog),
    including a 2-hour window across local midnight, shows on the next cycle exactly as a fresh
    read gives it."""
    from collector.store.seam import GoalRequest
    from tests.plugins.health import parts

    robots = fleet("la", 2, timezone="America/Los_Angeles", first_seen=DEC1 - 30 * DAY)
    _import(tmp_path / "store.db", "customer,metric,target,start,due,note\n"
                                   "la,interactions_per_robot_day,100,2025-12-01,2026-01-30,\n"
                                   "la,availability,90,2025-12-01,2026-01-30,\n")
    seed.write_windows(store, [(rid, DEC1 + d * DAY + 12 * HOUR, DEC1 + d * DAY + 13 * HOUR, {"usage.interactions": 90})
                               for d in range(6) for rid in robots])
    seed.write_windows(store, [(robots[1], DEC1 + 4 * DAY + 1 * HOUR, DEC1 + 4 * DAY + 2 * HOUR, {"usage.wakeups": 1})])
    kept = parts(store)   # one health part across cycles, as the evaluator keeps it

    def goals(health):
        """Each goal's daily (numerator, denominator), as the cycle asks the store for them."""
        asked = [GoalRequest("la", metric, DEC1, 6, None, 10) for metric in ("interactions_per_robot_day", "availability")]
        return {r.metric: [{"numerator": n, "denominator": d} for n, d in sums]
                for r, sums in zip(asked, health.goal_sums(asked))}

    first = goals(kept.health)
    assert goals(kept.health) == first                     # served from the kept sums
    assert kept.health.goal_cache
    # late: day 2 gets 50 more interactions, and a 2-hour window from 23:00 on day 3 (into day 4)
    seed.write_windows(store, [(robots[0], DEC1 + 2 * DAY + 15 * HOUR, DEC1 + 2 * DAY + 16 * HOUR,
                                {"usage.interactions": 50}),
                               (robots[1], DEC1 + 3 * DAY + 23 * HOUR, DEC1 + 4 * DAY + 1 * HOUR,
                                {"usage.interactions": 1})])
    later = goals(kept.health)
    assert later == goals(parts(store).health)             # the same as a fresh read
    assert later["interactions_per_robot_day"][2]["numerator"] == first["interactions_per_robot_day"][2]["numerator"] + 50
    # day 4's midnight hour lies between robot 1's 23:00 window of day 3 and its 01:00 one: online now
    assert later["availability"][4]["numerator"] == first["availability"][4]["numerator"] + 100.0
