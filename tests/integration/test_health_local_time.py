"""Issue 13, local time: every day-granular figure of a customer is a local day of its own zone
(``timezone``, default ``[health] timezone`` = Asia/Shanghai), through the real store."""

import json

import pytest

from collector.store import customers as import_customers
from collector.store.sqlite import seed
from collector.store.sqlite.db import connect_writer
from collector.store.sqlite.migrations import migrate
from tests.plugins.health import DAY, HOUR, T, compute, evaluate, make_settings

BEIJING = 8 * HOUR   # Asia/Shanghai, no daylight saving
MINUTE = 60_000


def window(store, robot, t0, counts, span=HOUR):
    seed.write_windows(store, [(robot, t0, t0 + span, counts)])


def test_score_history_is_recorded_per_local_day(store, fleet):
    """The snapshot of a Beijing customer evaluated at 01:00 local on 2 January belongs to 2 January
    (at UTC it was still 1 January: the history recorded the night as the day before)."""
    fleet("bj", 1)
    settings = make_settings()
    evaluate(store, T + 17 * HOUR, settings)          # 2026-01-02 01:00 Beijing
    evaluate(store, T - 7 * HOUR, settings)           # 2026-01-01 01:00 Beijing (2025-12-31 17:00 UTC)
    days = [d for (d,) in store.execute("SELECT day_ms FROM score_history WHERE customer='bj' ORDER BY day_ms")]
    assert days == [T, T + DAY]


def test_yesterday_and_week_are_local_days(store, fleet):
    """Beijing 01:00 on 1 January is 1 January's usage, 04:00 on 2 January is 2 January's: read at
    10:00 local on 2 January, yesterday holds the first and not the second."""
    (rid,) = fleet("bj", 1)
    window(store, rid, T - 7 * HOUR, {"usage.interactions": 30, "usage.foot_traffic": 90})   # 1 Jan 01:00 local
    window(store, rid, T + 20 * HOUR, {"usage.interactions": 500})                            # 2 Jan 04:00 local
    ctx = compute(store, T + 26 * HOUR, make_settings().health)                                      # 2 Jan 10:00 local
    use = ctx["customers"]["bj"]["facts"]["usage"]
    assert use["per_robot_per_day"]["interactions"] == 30.0
    assert use["per_robot_per_day"]["foot_traffic"] == 90.0
    assert use["interactions_7d"] == 30     # today's 500 are not a complete day yet
    assert ctx["customers"]["bj"]["timezone"] == "Asia/Shanghai"


def test_active_days_and_onboarding_count_local_days(store, fleet):
    """A robot used at 07:00 Beijing every morning is active on each of those local days; counted in
    UTC days each morning fell on the day before, and the first morning before its first day."""
    (rid,) = fleet("bj", 1, first_seen=T - 10 * DAY - 1 * HOUR)
    for d in range(10):     # 07:00-08:00 local = 23:00-24:00 UTC of the day before
        window(store, rid, T - 10 * DAY - 1 * HOUR + d * DAY, {"usage.interactions": 50})
    settings = make_settings(health={"active_day_interactions": 10})
    ctx = compute(store, T + 2 * HOUR, settings.health)   # 1 Jan 10:00 local
    (o,) = ctx["customers"]["bj"]["facts"]["onboarding"]
    assert o["age_days"] == 10                          # first local day: 22 December
    assert o["milestones"]["7"]["active_days"] == 7
    assert o["active_last_7d"] == 7


def test_contract_days_count_local_days(store, fleet):
    fleet("bj", 1, contract_end="2026-01-10")
    ctx = compute(store, T + 20 * HOUR, make_settings().health)  # 2 Jan 04:00 local, still 1 Jan in UTC
    assert ctx["customers"]["bj"]["facts"]["contract"]["days_to_renewal"] == 8


def test_default_zone_is_a_setting(store, fleet):
    fleet("utc", 1)
    evaluate(store, T + 17 * HOUR, make_settings(health={"timezone": "UTC"}))
    assert [d for (d,) in store.execute("SELECT day_ms FROM score_history")] == [T]


def _history(conn, zone: str, shift: int):
    """One customer's 40 days at a museum's local hours (10:00-18:00, busier on weekends), each
    window written at local time minus ``shift`` (the zone's offset), and a robot added on day 25."""
    seed.add_customer(conn, "c", "museum", timezone=zone, contract_end="2026-01-20", now_ms=T)
    seed.add_robot(conn, "c-r0", "c", first_seen_ms=T - 40 * DAY - shift, now_ms=T)
    seed.add_robot(conn, "c-r1", "c", first_seen_ms=T - 15 * DAY + 10 * HOUR - shift, now_ms=T)
    windows = []
    for d in range(40):
        day = T - 40 * DAY + d * DAY
        for h in range(10, 18):
            n = 20 + 3 * h + (40 if d % 7 in (2, 3) else 0) + (d % 5)
            windows.append(("c-r0", day + h * HOUR - shift, day + (h + 1) * HOUR - shift,
                            {"usage.interactions": n, "usage.foot_traffic": 4 * n, "skill.guide": d % 3}))
            if d >= 25:
                windows.append(("c-r1", day + h * HOUR - shift, day + (h + 1) * HOUR - shift,
                                {"usage.interactions": n // 2 + (d % 4)}))
    seed.write_windows(conn, windows)


@pytest.mark.parametrize("now_local", [T + 11 * HOUR, T + 23 * HOUR + 40 * MINUTE, T + 5 * MINUTE])
def test_half_hour_zone_matches_utc_shifted_by_its_offset(tmp_path, now_local):
    """A customer in Asia/Kolkata (+05:30) gets the figures of a UTC customer whose history and
    clock are shifted by 5 h 30: usage sums, yesterday, skills, onboarding, contract days, score
    history day.  Exactly so while no usage falls in 00:00-00:30 local (the hour bucket that holds
    local midnight counts for the day holding its start, so those 30 minutes would go to the day
    before): the museum here is open 10:00-18:00."""
    off = 5 * HOUR + 30 * MINUTE
    figures = []
    for zone, shift in (("Asia/Kolkata", off), ("UTC", 0)):
        conn = connect_writer(tmp_path / f"{zone.replace('/', '_')}.db")
        _history(conn, zone, shift)
        settings = make_settings(health={"active_day_interactions": 10})
        evaluate(conn, now_local - shift, settings)
        c = compute(conn, now_local - shift, settings.health)["customers"]["c"]
        day = conn.execute("SELECT day_ms FROM score_history").fetchall()
        facts = c["facts"]
        use = dict(facts["usage"])
        use.pop("last_use_ms")          # an instant (UTC), the start of an hour bucket: shifted by 5 or 6 h
        figures.append((use, facts["skills"], facts["contract"], day,
                        [{k: v for k, v in o.items() if k != "first_seen_ms"} for o in facts["onboarding"]]))
        conn.close()
    assert figures[0] == figures[1]
    assert figures[0][0]["interactions_7d"] > 0 and figures[0][4]


def test_import_customers_reads_timezone_and_hours(tmp_path):
    text = ("id,name,scene,timezone,hours,distributor,language\n"
            "a,A,museum,Asia/Kolkata,09:30-21:00,Acme Resale,en\n"
            "b,B,ktv,,18:00-02:00,,\n"
            "c,C,mall,Mars/Olympus,,,\n"
            "d,D,mall,UTC,9-21,,\n"
            "e,E,mall,UTC,,,fr\n")
    report = import_customers.parse(text)
    assert [(r.id, r.timezone, r.hours, r.distributor, r.language) for r in report.rows] == [
        ("a", "Asia/Kolkata", "09:30-21:00", "Acme Resale", "en"), ("b", None, "18:00-02:00", "", "zh")]
    assert [line for line, _ in report.errors] == [4, 5, 6]
    assert "IANA" in report.errors[0][1] and "HH:MM" in report.errors[1][1] and "zh or en" in report.errors[2][1]
    conn = connect_writer(tmp_path / "store.db")
    migrate(conn)
    from collector.store.sqlite.registry import SqliteRegistryStore
    SqliteRegistryStore(str(tmp_path / "store.db")).upsert_customers(report.rows, T)
    assert conn.execute("SELECT id, timezone, hours, distributor, language FROM customers ORDER BY id").fetchall() == [
        ("a", "Asia/Kolkata", "09:30-21:00", "Acme Resale", "en"), ("b", None, "18:00-02:00", "", "zh")]
    conn.close()


def test_api_customer_json_carries_its_timezone(store, store_url, fleet):
    from collector.store import open_store
    fleet("kol", 1, timezone="Asia/Kolkata")
    fleet("dflt", 1)
    evaluate(store, T, make_settings())
    store.commit() if store.in_transaction else None
    reads = open_store(store_url).reads
    try:
        assert reads.get_customer("kol", T, ("firing",))["timezone"] == "Asia/Kolkata"
        assert reads.get_customer("dflt", T, ("firing",))["timezone"] == "Asia/Shanghai"   # the one health used
        listed = {c["id"]: c["timezone"] for c in reads.list_customers({}, "id", 10, 0, ("firing",))["items"]}
        assert listed == {"kol": "Asia/Kolkata", "dflt": "Asia/Shanghai"}
    finally:
        reads.close()
    row = store.execute("SELECT facts FROM customer_health WHERE customer='kol'").fetchone()
    assert json.loads(row[0])["timezone"] == "Asia/Kolkata"
