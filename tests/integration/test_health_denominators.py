"""Issue 13, true denominators: per-robot figures are over robot-days in service (robots that
existed, from their handover or first day seen, on the customer's local days), onboarding counts
from the handover, and local days follow daylight saving, through the real store."""

import pytest

import datetime as dt
import json
from zoneinfo import ZoneInfo

from collector.store.records import RobotRow
from collector.store.sqlite import seed
from collector.store.sqlite.registry import SqliteRegistryStore
from tests.plugins.health import DAY, HOUR, T, alerts_of, compute, daily, evaluate, make_settings


def facts(store, cid):
    return json.loads(store.execute("SELECT facts FROM customer_health WHERE customer=?", (cid,)).fetchone()[0])


def firing(store, rule):
    return sorted(a["subject"] for a in alerts_of(store, rule) if a["state"] == "firing")


def test_new_customer_reads_its_own_days_not_thirty(store, fleet):
    """4 robots at 1,500 interactions a day for 5 days read 1,500 (before: 250 = 30,000 / (30 x 4)),
    are no `below_peers` among museums at 500, and are a benchmark customer."""
    for i in range(3):
        for rid in fleet(f"old{i}", 2):
            daily(store, rid, T - 30 * DAY, 30, {"usage.interactions": 500})
    for rid in fleet("new", 4):
        daily(store, rid, T - 5 * DAY, 5, {"usage.interactions": 1500})
    evaluate(store, T + 2 * HOUR, make_settings())          # 1 January 10:00 Beijing
    use = facts(store, "new")["usage"]
    assert use["interactions_per_robot_day_30d"] == 1500.0
    assert use["interactions_per_robot_day_7d"] == 1500.0
    assert use["robot_days_30d"] == 20
    assert facts(store, "old0")["usage"]["interactions_per_robot_day_30d"] == 500.0
    # issue 13's peers (branch peers): the median of the 3 others, no rank from fewer than 5 peers
    peers = facts(store, "new")["peers"]
    assert (peers["median"], peers["ratio"], peers["percentile"]) == (500.0, 3.0, None)
    assert firing(store, "below_peers") == []
    assert facts(store, "new")["benchmark"]["candidate"] is True
    assert firing(store, "benchmark_candidate") == ["new"]


def test_grown_fleet_reads_per_robot_day(store, fleet):
    """A fleet grown from 2 to 10 robots, every robot at 1,200 interactions a day, reads 1,200
    (before: the 30 days divided by 10 robots each day, 432)."""
    ids = fleet("grown", 10)
    for rid in ids[:2]:
        daily(store, rid, T - 30 * DAY, 30, {"usage.interactions": 1200, "usage.foot_traffic": 3000})
    for rid in ids[2:]:
        daily(store, rid, T - 6 * DAY, 6, {"usage.interactions": 1200, "usage.foot_traffic": 3000})
    ctx = compute(store, T + 2 * HOUR, make_settings().health)
    use = ctx["customers"]["grown"]["facts"]["usage"]
    assert use["robot_days_30d"] == 2 * 30 + 8 * 6
    assert use["interactions_per_robot_day_30d"] == 1200.0
    assert use["interactions_per_robot_day_7d"] == 1200.0
    assert use["per_robot_per_day"]["interactions"] == 1200.0
    assert ctx["customers"]["grown"]["facts"]["benchmark"]["interactions_per_robot_day_30d"] == 1200.0


def test_weekly_closing_day_is_not_a_robot_day(store, fleet):
    """A museum closed on Mondays (robots off, no usage at all that day; hours imported): Mondays
    are no robot-days, so the figure is per day the venue was open."""
    (rid,) = fleet("mus", 1, hours="09:00-21:00")
    monday = 0

    def counts(day):
        weekday = (day // DAY + 3) % 7
        return {} if weekday == monday else {"usage.interactions": 700, "usage.foot_traffic": 2000}
    daily(store, rid, T - 40 * DAY, 40, counts)
    use = compute(store, T + 2 * HOUR, make_settings().health)["customers"]["mus"]["facts"]["usage"]
    assert use["closed_weekdays"] == [monday]
    assert use["interactions_per_robot_day_30d"] == 700.0


@pytest.mark.sqlite_only("not yet on PostgreSQL: the registry handover is written through SqliteRegistryStore")
def test_onboarding_counts_from_the_registry_handover(store, fleet, tmp_path):
    """A robot handed over 60 days ago (``import-robots``) but first seen 10 days ago is not
    onboarding; one handed over 12 days ago and first seen 3 days ago is 12 days old."""
    for rid in fleet("older", 1):
        daily(store, rid, T - 60 * DAY, 60, {"usage.interactions": 100})      # the collector's first data
    a, b = fleet("acme", 2)
    daily(store, a, T - 10 * DAY, 10, lambda d: {"usage.interactions": 50 if d == T - 10 * DAY else 0})
    daily(store, b, T - 3 * DAY, 3, {"usage.interactions": 50})
    SqliteRegistryStore(str(tmp_path / "store.db")).upsert_robots(
        [RobotRow(a, "acme", "site-1", "2025-11-02", ""), RobotRow(b, "acme", "site-1", "2025-12-20", "")], T)
    evaluate(store, T + 2 * HOUR, make_settings())
    onboard = {o["robot"]: o for o in facts(store, "acme")["onboarding"]}
    assert set(onboard) == {b}
    assert (onboard[b]["age_days"], onboard[b]["handover_from"], onboard[b]["handover_date"]) == \
        (12, "activated", "2025-12-20")
    assert a not in firing(store, "onboarding_stalled")
    # robot-days count from the handover too: a's 60 days... but never before the collector's data
    use = facts(store, "acme")["usage"]
    assert use["robot_days_30d"] == 30 + 12


def test_fleet_older_than_its_collector_is_not_stalled(store, fleet):
    """A fleet deployed long before its collector (contract since 2025-01-01) used one day a week is
    not an onboarding fleet that stalled: before, its robots were 'new' from the collector's first day."""
    ids = fleet("veteran", 2, contract_start="2025-01-01")
    for rid in ids:
        daily(store, rid, T - 10 * DAY, 10,
              lambda d: {"usage.interactions": 40 if (d // DAY) % 7 == 0 else 0, "usage.foot_traffic": 300})
    evaluate(store, T + 2 * HOUR, make_settings())
    assert facts(store, "veteran")["onboarding"] == []
    assert firing(store, "onboarding_stalled") == []


BERLIN = ZoneInfo("Europe/Berlin")


def berlin(y, m, d, hh=0, mm=0) -> int:
    return int(dt.datetime(y, m, d, hh, mm, tzinfo=BERLIN).timestamp() * 1000)


def test_local_days_follow_daylight_saving(store, fleet):
    """Europe/Berlin, the day after the spring change (29 March 2026, 23 hours): yesterday runs from
    its own midnight (23:00 UTC, CET), not from today's offset (22:00 UTC), and the 30-day span
    starts at 28 February 00:00 CET.  Before, 23:30 on the 28th counted for the 29th and 23:30 on
    27 February for the span."""
    fleet("ber", 1, timezone="Europe/Berlin", first_seen=berlin(2026, 2, 1))
    rid = "ber-r0"
    for t0, n in ((berlin(2026, 2, 27, 23, 30), 1000), (berlin(2026, 2, 28, 0, 10), 3),
                  (berlin(2026, 3, 28, 23, 30), 7), (berlin(2026, 3, 29, 12), 100)):
        seed.write_windows(store, [(rid, t0, t0 + 10 * 60_000, {"usage.interactions": n})])
    now = berlin(2026, 3, 30, 10)
    use = compute(store, now, make_settings().health)["customers"]["ber"]["facts"]["usage"]
    assert use["per_robot_per_day"]["interactions"] == 100.0
    assert use["interactions_30d"] == 3 + 7 + 100


def test_long_view_fields_say_their_span(store, fleet):
    """The long view holds yesterday and today (UTC): at 23:00 that is 47 hours, so its fields are
    named ``*_since_yesterday``, not ``*_24h`` (issue 13: field names say their span)."""
    (rid,) = fleet("c", 1)
    seed.write_windows(store, [(rid, T - DAY + 30 * 60_000, T - DAY + HOUR, {"asr.requests": 50}),
                               (rid, T + 22 * HOUR, T + 23 * HOUR, {"asr.requests": 30})])
    evaluate(store, T + 23 * HOUR, make_settings())
    subs = json.loads(store.execute("SELECT subsystems FROM robot_health WHERE robot=?", (rid,)).fetchone()[0])
    assert subs["asr"]["volume_since_yesterday"] == 80      # 46.5 hours apart: more than 24 h
    assert not [k for s in subs.values() for k in s if k.endswith("_24h")]
    assert "offline_s_since_yesterday" in subs["network"]


def test_onboarding_days_follow_daylight_saving(store, fleet):
    """A Berlin robot first seen at 23:30 on 20 March (CET) and used at 23:30 every evening: each
    evening is its own local day, before and after the change of 29 March.  Before, today's +02:00
    put every CET evening in the next day: the robot looked a day younger with one active day fewer."""
    fleet("ber", 1, timezone="Europe/Berlin", first_seen=berlin(2026, 3, 20, 23, 30))
    rid = "ber-r0"
    seed.write_windows(store, [(rid, berlin(2026, 3, 20 + d, 23, 30), berlin(2026, 3, 20 + d, 23, 40),
                                {"usage.interactions": 30}) for d in range(12)])
    ctx = compute(store, berlin(2026, 4, 2, 10), make_settings().health)
    (o,) = ctx["customers"]["ber"]["facts"]["onboarding"]
    assert o["handover_date"] == "2026-03-20" and o["age_days"] == 13
    assert o["milestones"]["7"]["active_days"] == 7
    assert o["milestones"]["14"]["active_days"] == 12          # 20 to 31 March, each its own day


def test_customer_without_a_robot_day_is_not_compared(store, fleet):
    """Robots first seen today have no complete day in service: no figure yet, so no percentile
    and no `below_peers` (before: 0 interactions per robot per day, percentile 0, the alert)."""
    for i in range(3):
        for rid in fleet(f"old{i}", 1):
            daily(store, rid, T - 30 * DAY, 30, {"usage.interactions": 500})
    (rid,) = fleet("today", 1)
    seed.write_windows(store, [(rid, T + HOUR, T + 2 * HOUR, {"usage.interactions": 40})])
    evaluate(store, T + 3 * HOUR, make_settings())
    assert facts(store, "today")["peers"]["percentile"] is None
    assert facts(store, "today")["usage"]["robot_days_30d"] == 0
    assert firing(store, "below_peers") == []
    assert facts(store, "old0")["peers"]["peers"] == 2
