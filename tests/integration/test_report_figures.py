"""Issue 15, must-show: the monthly value report's figures equal the API's own counters for the same
local month (summed by this test from ``/robots/{id}/counters`` and from what it wrote), and bad
months are refused naming the month; a month without data is a report that says so.

The store is built straight through the rollup writer (tests/support/report_month.py): two local
months of hourly windows for a Beijing museum, its scene peer, an English-speaking mall and a bank
whose robots went quiet; the app runs over aiohttp_client with a fixed clock.
"""

from __future__ import annotations

import pytest

from tests.plugins.api import bearer, make_api_app
from tests.support.report_month import build, local_ms, month_bounds

MONTH = "2026-11"
NOW = local_ms(2026, 12, 3, 10)
VOLUMES = ("usage.foot_traffic", "usage.solicitations", "usage.wakeups", "usage.interactions")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build(tmp_path_factory.mktemp("report") / "store.db", MONTH)


@pytest.fixture
async def client(aiohttp_client, built):
    return await aiohttp_client(make_api_app(built.path, now_ms=NOW))


async def _get(client, path: str, status: int = 200):
    resp = await client.get(path, headers=bearer())
    assert resp.status == status, await resp.text()
    return await resp.json()


async def test_report_figures_equal_the_counters_route_for_the_local_month(client, built):
    report = await _get(client, f"/api/v1/customers/nanjing-museum/reports/{MONTH}")
    start, end = month_bounds(MONTH)
    assert (report["period"]["from_ms"], report["period"]["to_ms"]) == (start, end)
    assert report["period"]["first_day"] == "2026-11-01" and report["period"]["complete"] is True
    via_api: dict[str, int] = {}
    for rid in built.robots["nanjing-museum"]:
        got = await _get(client, f"/api/v1/robots/{rid}/counters?from={start}&to={end}")
        for metric, v in got["counters"].items():
            via_api[metric] = via_api.get(metric, 0) + v
    written = built.sums[("nanjing-museum", MONTH)]
    for metric in VOLUMES:
        assert report["outcome"]["volumes"][metric] == via_api[metric] == written[metric], metric
    for metric in ("skill.guide", "skill.speech"):
        assert report["outcome"]["skills"][metric] == via_api[metric] == written[metric], metric
    assert report["outcome"]["skills"]["skill.delivery"] == 0  # a skill not used is shown as 0, not left out
    # the month before, summed the same way
    before = built.sums[("nanjing-museum", built.months[0])]
    assert report["previous"]["volumes"]["usage.interactions"] == before["usage.interactions"]
    # per robot per day: 5 robots x 30 days in service
    assert report["robot_days"] == 150
    assert report["outcome"]["per_robot_day"]["usage.interactions"] == round(written["usage.interactions"] / 150, 1)
    assert sum(report["daily"]["interactions"]) == written["usage.interactions"]
    funnel = [s["total"] for s in report["funnel"]["steps"]]
    assert funnel == [written[m] for m in VOLUMES]
    assert report["funnel"]["conversion_pct"] == round(
        written["usage.interactions"] * 100 / written["usage.foot_traffic"], 1)


async def test_report_compares_with_the_scene_peers_and_flags_the_bad_asr(client, built):
    report = await _get(client, f"/api/v1/customers/nanjing-museum/reports/{MONTH}")
    peer = built.sums[("river-gallery", MONTH)]
    assert report["peers"]["scene"] == "museum" and report["peers"]["customers"] == 1
    assert report["peers"]["per_robot_day"]["usage.interactions"] == round(peer["usage.interactions"] / 60, 1)
    # one peer: a rank would always be 0 or 100, so none, as health (health.percentile_min_peers, 5)
    assert report["peers"]["percentile"] is None and report["peers"]["percentile_min_peers"] == 5
    asr = report["anomalies"]["asr"]
    written = built.sums[("nanjing-museum", MONTH)]
    assert (asr["robots"], asr["robot_ids"], asr["rate"]) == (1, ["nanjing-museum-r4"], 0.2)
    assert asr["count"] == written["asr.unrecognized"]
    assert report["anomalies"]["nav"]["count"] == written["nav.interruptions"]
    assert report["anomalies"]["nav"]["robots"] == 0  # a few interruptions are not an anomaly
    fixed = report["alerts"]
    assert (fixed["opened"], fixed["resolved"], fixed["open_at_end"], fixed["median_minutes"]) == (3, 2, 1, 60.0)
    assert fixed["by_subsystem"]["asr"]["resolved"] == 1 and fixed["by_subsystem"]["network"]["resolved"] == 1
    assert report["availability"]["pct"] == 100.0 and report["availability"]["source"] == "imported"
    assert report["availability"]["expected_robot_hours"] == 5 * 30 * 8
    codes = [r["code"] for r in report["risks"]]
    assert codes == ["open_alerts", "goals_off_track", "renewal_due"], codes
    assert [x["code"] for x in report["next_steps"]] == ["close_alerts", "goal_plan", "prepare_renewal",
                                                         "path_to_benchmark"]


async def test_report_goals_are_judged_as_they_stood_at_the_months_end(client, built):
    goals = (await _get(client, f"/api/v1/customers/nanjing-museum/reports/{MONTH}"))["goals"]
    assert goals["as_of"] == "2026-11-30"
    by_metric = {g["metric"]: g for g in goals["items"]}
    assert set(by_metric) == {"interactions_per_robot_day", "conversion"}  # the third starts in December
    written = built.sums[("nanjing-museum", MONTH)]
    assert by_metric["interactions_per_robot_day"]["status"] == "achieved"
    assert by_metric["interactions_per_robot_day"]["progress"] > 500
    conversion = by_metric["conversion"]
    assert conversion["status"] == "at_risk" and conversion["progress"] < 45
    assert abs(conversion["progress"] - written["usage.interactions"] * 100 / written["usage.foot_traffic"]) < 1
    html = await (await client.get(f"/api/v1/customers/nanjing-museum/reports/{MONTH}?format=html&lang=en",
                                   headers=bearer())).text()
    assert "goals-table" in html and "Interaction conversion (interactions / foot traffic)" in html


async def test_report_availability_counts_the_robot_hours_missing_in_opening_hours(client, built):
    report = await _get(client, f"/api/v1/customers/harbour-mall/reports/{MONTH}")
    assert report["customer"]["language"] == "en"
    # one robot of three off on days 10, 20 and 30: 3 x 12 of 3 x 30 x 12 robot-hours
    assert report["availability"]["expected_robot_hours"] == 1080
    assert report["availability"]["covered_robot_hours"] == 1080 - 36
    assert report["availability"]["pct"] == round(1044 * 100 / 1080, 1)
    assert report["benchmark"]["met"] is False and report["benchmark"]["threshold"] == 1000.0


async def test_report_refuses_a_future_month_and_one_before_the_first_data(client):
    future = await _get(client, "/api/v1/customers/nanjing-museum/reports/2027-01", 400)
    assert "2027-01" in future["error"]["message"] and "not begun" in future["error"]["message"]
    early = await _get(client, "/api/v1/customers/nanjing-museum/reports/2026-09", 404)
    assert "2026-09" in early["error"]["message"] and "first data (2026-10)" in early["error"]["message"]
    bad = await _get(client, "/api/v1/customers/nanjing-museum/reports/2026-13", 400)
    assert "2026-13" in bad["error"]["message"]
    none = await _get(client, "/api/v1/customers/never-seen/reports/2026-11", 404)
    assert "no data yet" in none["error"]["message"] and "2026-11" in none["error"]["message"]
    await _get(client, "/api/v1/customers/nobody/reports/2026-11", 404)
    await _get(client, "/api/v1/customers/nanjing-museum/reports/2026-11?format=pdf", 400)


async def test_report_of_a_month_without_data_says_so(client):
    report = await _get(client, f"/api/v1/customers/quiet-bank/reports/{MONTH}")
    assert report["has_data"] is False and report["risks"] == [] and report["next_steps"] == []
    assert report["previous"]["has_data"] is True
    resp = await client.get(f"/api/v1/customers/quiet-bank/reports/{MONTH}?format=html&lang=en", headers=bearer())
    html = await resp.text()
    assert resp.status == 200 and resp.content_type == "text/html"
    assert 'id="report-no-data"' in html and "sent no data in November 2026" in html
    assert "anomaly-table" not in html and "report-availability" not in html  # not a page of zeros


async def test_report_html_is_in_the_customers_language_unless_asked(client):
    zh = await (await client.get(f"/api/v1/customers/nanjing-museum/reports/{MONTH}?format=html",
                                 headers=bearer())).text()
    assert "月度价值报告" in zh and "南京博物院" in zh and "2026年11月" in zh and "<svg" in zh
    en = await (await client.get(f"/api/v1/customers/nanjing-museum/reports/{MONTH}?format=html&lang=en",
                                 headers=bearer())).text()
    assert "Monthly value report" in en and "November 2026" in en
    mall = await (await client.get(f"/api/v1/customers/harbour-mall/reports/{MONTH}?format=html",
                                   headers=bearer())).text()
    assert "Monthly value report" in mall and "Harbour City Mall" in mall
    assert "No other mall customer had robots in service this month" in mall
    assert zh.count('class="rchart"') == 4 and mall.count('class="rchart"') == 3  # no chart against no peers


async def test_report_months_lists_each_month_from_the_first_data(client):
    months = await _get(client, "/api/v1/customers/nanjing-museum/reports")
    assert months["months"] == ["2026-12", "2026-11", "2026-10"] and months["language"] == "zh"
    assert (await _get(client, "/api/v1/customers/never-seen/reports"))["months"] == []
