"""Issue 13 in the monthly value report: its per-robot figures and its peers agree with health's
verdicts.  Robot-days in service are counted as health counts them (collector/health/service.py:
from the handover, never before the collector's first data, without the venue's weekly closing
days); the peers are the scene's customers with at least one robot-day; a percentile is shown only
from ``health.percentile_min_peers`` peers (one peer would always make it 0 or 100); a KTV is
compared on deliveries (``health.scene_measures``) while the benchmark stays 1,000 interactions.

The store is written straight through the rollup writer: one window a robot a day (the report sums
hourly rollups, an hour's worth is as good as eight), Beijing's November 2026, a fixed clock.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from collector.health import service
from collector.store.sqlite import seed
from collector.store.sqlite.db import connect_writer
from protocol.timeunits import DAY_MS, utc_offset_ms
from tests.plugins.api import bearer, make_api_app

ZONE = ZoneInfo("Asia/Shanghai")
HOUR = 3_600_000
MONTH = "2026-11"


def local_ms(y: int, m: int, d: int, h: int = 0) -> int:
    return int(dt.datetime(y, m, d, h, tzinfo=ZONE).timestamp() * 1000)


NOW = local_ms(2026, 12, 1, 10)  # health's last 30 complete local days are then exactly November
OCT1 = local_ms(2026, 10, 1)


def _days(first: dt.date, last: dt.date):
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


#: customer -> (scene, hours, [(robot, first day with data, handover or None)], counts a robot-day)
FLEETS = {
    # closed on Mondays (hours imported, robots off then), 2 robots at 700 a day when open
    "closed-museum": ("museum", "09:00-17:00", [("cm-0", dt.date(2026, 10, 1), None),
                                                ("cm-1", dt.date(2026, 10, 1), None)],
                      {"usage.interactions": 700, "usage.foot_traffic": 2000, "skill.guide": 100}),
    # a robot handed over on 1 November, switched on on the 11th: its first ten days count, as health's
    "handover-museum": ("museum", None, [("hm-0", dt.date(2026, 10, 1), None),
                                         ("hm-1", dt.date(2026, 11, 11), "2026-11-01")],
                        {"usage.interactions": 600, "usage.foot_traffic": 1800, "skill.guide": 100}),
    # five scenic spots with usage, one whose robots stood idle (still a peer: it has robot-days),
    # one whose robot arrives in December (no robot-day in November: not a peer)
    **{f"scenic-{i}": ("scenic", None, [(f"sc{i}-0", dt.date(2026, 10, 1), None)],
                       {"usage.interactions": 500 + 100 * i, "usage.foot_traffic": 3000})
       for i in range(5)},
    "scenic-idle": ("scenic", None, [("sci-0", dt.date(2026, 10, 1), None)], {"usage.foot_traffic": 0}),
    "scenic-late": ("scenic", None, [("scl-0", dt.date(2026, 12, 1), None)],
                    {"usage.interactions": 9000, "usage.foot_traffic": 9000}),
    # KTVs deliver a lot and talk little: judged on deliveries
    "ktv-main": ("ktv", None, [("km-0", dt.date(2026, 10, 1), None), ("km-1", dt.date(2026, 10, 1), None)],
                 {"skill.delivery": 400, "usage.interactions": 5, "usage.foot_traffic": 300}),
    "ktv-a": ("ktv", None, [("ka-0", dt.date(2026, 10, 1), None)],
              {"skill.delivery": 300, "usage.interactions": 50, "usage.foot_traffic": 300}),
    "ktv-b": ("ktv", None, [("kb-0", dt.date(2026, 10, 1), None)],
              {"skill.delivery": 350, "usage.interactions": 60, "usage.foot_traffic": 300}),
    "ktv-slow": ("ktv", None, [("ks-0", dt.date(2026, 10, 1), None)],
                 {"skill.delivery": 60, "usage.interactions": 50, "usage.foot_traffic": 300}),
    # a conference centre converting 1 % of its passers-by, with one peer at 30 %: one peer is no median
    "conf-low": ("conference", None, [("cl-0", dt.date(2026, 10, 1), None)],
                 {"usage.interactions": 10, "usage.foot_traffic": 1000, "skill.sign_in": 200}),
    "conf-peer": ("conference", None, [("cp-0", dt.date(2026, 10, 1), None)],
                  {"usage.interactions": 300, "usage.foot_traffic": 1000, "skill.sign_in": 200}),
}


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("report-peers") / "store.db"
    conn = connect_writer(path)
    windows = []
    for cid, (scene, hours, robots, counts) in FLEETS.items():
        seed.add_customer(conn, cid, scene, name=cid, hours=hours, now_ms=OCT1)
        for rid, first, handed in robots:
            seed.add_robot(conn, rid, cid, "hall", scene=scene, first_seen_ms=local_ms(first.year, first.month,
                                                                                       first.day, 10), now_ms=OCT1)
            if handed:
                conn.execute("INSERT INTO robot_registry (robot, customer, site, activated, created_ms, updated_ms) "
                             "VALUES (?,?,?,?,?,?)", (rid, cid, "hall", handed, OCT1, OCT1))
            for day in _days(first, dt.date(2026, 12, 1)):
                if cid == "closed-museum" and day.weekday() == 0:
                    continue  # closed on Mondays: no window at all
                t = local_ms(day.year, day.month, day.day, 10)
                windows.append((rid, t, t + HOUR, dict(counts)))
    seed.write_windows(conn, windows)
    conn.close()
    return path


@pytest.fixture
async def client(aiohttp_client, db):
    return await aiohttp_client(make_api_app(db, now_ms=NOW))


async def _report(client, cid: str) -> dict:
    resp = await client.get(f"/api/v1/customers/{cid}/reports/{MONTH}", headers=bearer())
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def _html(client, cid: str, lang: str) -> str:
    resp = await client.get(f"/api/v1/customers/{cid}/reports/{MONTH}?format=html&lang={lang}", headers=bearer())
    assert resp.status == 200
    return await resp.text()


def _health_robot_days(db, cid: str, alive: list[bool], hours_known: bool) -> int:
    """Health's own robot-days of the 30 complete local days before NOW (= November), from the
    store's robot rows and registry (the rows health's cycle reads)."""
    conn = connect_writer(db)
    try:
        rows = [{"first_seen_ms": f, "activated": a} for f, a in conn.execute(
            "SELECT r.first_seen_ms, g.activated FROM robots r LEFT JOIN robot_registry g ON g.robot = r.id "
            "WHERE r.customer = ?", (cid,))]
        data_start = conn.execute("SELECT min(first_seen_ms) FROM robots").fetchone()[0]
    finally:
        conn.close()
    off = utc_offset_ms("Asia/Shanghai", NOW)
    today = (NOW + off) - (NOW + off) % DAY_MS
    return service.scheduled(rows, alive, today, off, data_start, hours_known)["robot_days_30d"]


async def test_report_robot_days_leave_out_the_weekly_closing_day_as_health(client, db):
    """A museum closed on Mondays: 2 robots x 25 open days = 50 robot-days, 700 a robot a day (before:
    2 x 30 = 60, 583.3, and the five Mondays made an idle_days risk)."""
    r = await _report(client, "closed-museum")
    nov = list(_days(dt.date(2026, 11, 1), dt.date(2026, 11, 30)))
    alive = [d.weekday() != 0 for d in reversed(nov)]  # yesterday first, as health reads it
    assert r["robot_days"] == _health_robot_days(db, "closed-museum", alive, True) == 50
    assert r["closed_weekdays"] == [0]
    assert r["outcome"]["per_robot_day"]["usage.interactions"] == 700.0
    assert "idle_days" not in [x["code"] for x in r["risks"]]
    mondays = [i for i, d in enumerate(nov) if d.weekday() == 0]
    assert [r["daily"]["robots"][i] for i in mondays] == [0] * 5 and r["benchmark"]["days"] == 25
    en = await _html(client, "closed-museum", "en")
    assert "weekly closing days (Monday) are not counted as robot-days" in en
    zh = await _html(client, "closed-museum", "zh-CN")
    assert "场馆每周闭馆日（周一）不计入机器人服务天数" in zh


async def test_report_robot_days_count_from_the_handover_as_health(client, db):
    """A robot handed over on 1 November and first seen on the 11th counts 30 robot-days, not 20."""
    r = await _report(client, "handover-museum")
    assert r["robot_days"] == _health_robot_days(db, "handover-museum", [True] * 30, False) == 60
    assert r["robots"]["in_service"] == 2
    written = 600 * (30 + 20)
    assert r["outcome"]["volumes"]["usage.interactions"] == written
    assert r["outcome"]["per_robot_day"]["usage.interactions"] == round(written / 60, 1)


async def test_report_percentile_only_among_enough_peers(client):
    """One museum peer: no rank (it would read 'percentile 100'), and the report says why, in both
    languages; five scenic peers (one idle, the one arriving in December left out): a percentile."""
    museum = await _report(client, "closed-museum")
    assert museum["peers"]["customers"] == 1 and museum["peers"]["percentile"] is None
    zh = await _html(client, "closed-museum", "zh-CN")
    assert "第 100 百分位" not in zh
    assert "与另外 1 家博物馆场景客户相比：同行数量太少，不做排名（至少需要 5 家才给出百分位）。" in zh
    en = await _html(client, "closed-museum", "en")
    assert "Other museum customers to compare with: 1, too few to rank (a percentile needs at least 5)." in en
    assert "at percentile" not in en

    top = await _report(client, "scenic-4")
    peers = top["peers"]
    assert peers["customers"] == 5  # scenic-0..3 and the idle one; not the one with no robot-day in November
    assert peers["robot_days"] == 5 * 30
    assert peers["percentile"] == 100.0
    assert peers["per_robot_day"]["usage.interactions"] == round((500 + 600 + 700 + 800) * 30 / 150, 1)
    en = await _html(client, "scenic-4", "en")
    assert "Against 5 other scenic spot customers: interactions per robot per day at percentile 100." in en
    low = await _report(client, "scenic-1")  # 600: above 500 and the idle spot's 0, below 700, 800, 900
    assert low["peers"]["percentile"] == 40.0


async def test_report_compares_a_ktv_on_deliveries_and_keeps_the_interactions_benchmark(client):
    """A KTV at 400 deliveries and 5 interactions a robot a day among KTVs delivering 300, 350 and 60:
    on its scene's measure it is above the peers' median (300), so no below_peers (on interactions
    alone it read 10 % of theirs: below_peers); the slow KTV at 60 deliveries, 17 % of the median
    of 400, 350 and 300 (350), gets it.  The benchmark line stays 1,000 interactions."""
    r = await _report(client, "ktv-main")
    m, pm = r["measure"], r["peers"]["measure"]
    assert m["metrics"] == ["skill.delivery"] and m["is_interactions"] is False and m["benchmark"] == 300.0
    assert m["per_robot_day"] == 400.0 and pm["median"] == 300.0 and pm["median_ratio_pct"] == round(400 * 100 / 300, 1)
    assert r["peers"]["ratio_pct"]["usage.interactions"] < 50  # interactions alone would call it below its peers
    assert "below_peers" not in [x["code"] for x in r["risks"]]
    assert r["benchmark"]["threshold"] == 1000.0 and r["benchmark"]["interactions_per_robot_day"] == 5.0
    en = await _html(client, "ktv-main", "en")
    assert "Delivery (the scene&#x27;s main measure)" in en
    assert "KTV customers are judged on delivery: 400 per robot per day, 133.3% of the median" in en
    zh = await _html(client, "ktv-main", "zh-CN")
    assert "递送（本场景主要指标）" in zh and "KTV场景客户以递送衡量：台均每日 400 次" in zh

    slow = await _report(client, "ktv-slow")
    below = [x for x in slow["risks"] if x["code"] == "below_peers"]
    assert below and below[0]["facts"]["pct"] == round(60 * 100 / 350, 1)
    assert below[0]["facts"]["measure"] == ["skill.delivery"]
    en = await _html(client, "ktv-slow", "en")
    assert "delivery per robot per day at 17.1% of their median (3 customers)" in en


async def test_report_low_conversion_needs_a_median_of_three_peers_as_health(client):
    """low_conversion as health's rule: against the median conversion of the scene's peers with
    20 passers-by a robot a day, from three of them.  A conference centre at 1 % with one peer at
    30 %: no risk (before: the one peer was "the peers", and it fired); the KTV talking to 1.7 % of
    its passers-by among three KTVs at 16.7, 20 and 16.7 %: fires against their median, 16.7 %."""
    conf = await _report(client, "conf-low")
    assert conf["peers"]["conversion"] == {"peers": 1, "median_pct": 30.0}
    assert "low_conversion" not in [x["code"] for x in conf["risks"]]
    ktv = await _report(client, "ktv-main")
    low = [x for x in ktv["risks"] if x["code"] == "low_conversion"]
    assert ktv["peers"]["conversion"] == {"peers": 3, "median_pct": 16.7}
    assert low and low[0]["facts"] == {"pct": round(5 * 100 / 300, 1), "peers_pct": 16.7}
    en = await _html(client, "ktv-main", "en")
    assert "conversion 1.7% against a median of 16.7% at the scene&#x27;s peers" in en


async def test_report_of_a_month_in_progress_rates_its_complete_days_as_health(aiohttp_client, db):
    """At 09:00 on 15 November, before the day's use: the museum closed on Mondays has 14 complete
    days, two of them Mondays, so 2 x 12 = 24 robot-days and 700 a robot a day, its true rate (before:
    15 days x 2 robots = 30 robot-days, 560); today is neither a robot-day nor an idle day yet."""
    client = await aiohttp_client(make_api_app(db, now_ms=local_ms(2026, 11, 15, 9)))
    r = await _report(client, "closed-museum")
    assert r["period"]["complete"] is False and r["complete_until_ms"] == local_ms(2026, 11, 15)
    assert r["robot_days"] == 24 and r["outcome"]["per_robot_day"]["usage.interactions"] == 700.0
    assert "idle_days" not in [x["code"] for x in r["risks"]] and r["benchmark"]["days"] == 12
