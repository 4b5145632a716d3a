"""Issue 14, success goals through the real store and the real app (aiohttp_client): GET judges a
customer's goals over its own local days (New York here: a day's late evening is the next UTC
day), POST validates, stores, attributes to the admin token's name and is idempotent."""

from __future__ import annotations

import datetime as dt

import pytest

from collector.store.sqlite import seed
from collector.store.sqlite.db import connect_writer
from tests.plugins.api import ADMIN, VIEWER, bearer, make_api_app

HOUR = 3_600_000
DAY = 24 * HOUR
NY = -5 * HOUR  # America/New_York in January (EST)
#: the app's now: 2026-01-20 10:00 in New York (15:00 UTC)
NOW_MS = int(dt.datetime(2026, 1, 20, 15, tzinfo=dt.UTC).timestamp() * 1000)
#: 2026-01-05 00:00 in New York, as UTC ms
JAN5 = int(dt.datetime(2026, 1, 5, 5, tzinfo=dt.UTC).timestamp() * 1000)


def _store(path):
    conn = connect_writer(path)
    seed.add_customer(conn, "nyc", "museum", name="Met", timezone="America/New_York", now_ms=JAN5)
    seed.add_customer(conn, "bj", "bank", now_ms=JAN5)
    for rid in ("nyc-r0", "nyc-r1"):
        seed.add_robot(conn, rid, "nyc", first_seen_ms=JAN5 - 30 * DAY, now_ms=JAN5)
    windows = []
    for d in range(15):  # 5..19 January, local
        day = JAN5 + d * DAY
        # noon local: 30 interactions of 100 passers-by; 22:00 local (03:00 UTC the next day): 10 more
        windows.append(("nyc-r0", day + 12 * HOUR, day + 13 * HOUR, {"usage.interactions": 30,
                                                                     "usage.foot_traffic": 100}))
        windows.append(("nyc-r0", day + 22 * HOUR, day + 23 * HOUR, {"usage.interactions": 10, "skill.guide": 4}))
    seed.write_windows(conn, windows)
    conn.close()


@pytest.fixture
async def client(aiohttp_client, tmp_path):
    _store(tmp_path / "store.db")
    return await aiohttp_client(make_api_app(tmp_path / "store.db", now_ms=NOW_MS))


async def _post(client, customer, body, token=ADMIN):
    resp = await client.post(f"/api/v1/customers/{customer}/goals", json=body, headers=bearer(token))
    return resp.status, await resp.json()


async def test_api_goals_post_then_get_judges_the_customers_local_days(client):
    status, body = await _post(client, "nyc", {"metric": "conversion", "target": 45, "start": "2026-01-05",
                                               "due": "2026-02-15", "note": "QBR"})
    assert status == 201, body
    assert body["created"] is True and body["goal"]["actor"] == "ops-admin" and body["goal"]["source"] == "api"
    resp = await client.get("/api/v1/customers/nyc/goals", headers=bearer(VIEWER))
    assert resp.status == 200
    out = await resp.json()
    assert out["timezone"] == "America/New_York" and out["today"] == "2026-01-20" and out["total"] == 1
    (goal,) = out["items"]
    # 15 complete local days (5..19 January); each day's 22:00 window lands in its own local day
    assert [d["date"] for d in goal["days"]] == [f"2026-01-{d:02d}" for d in range(5, 20)]
    assert all(d["numerator"] == 4000.0 and d["denominator"] == 100.0 and d["value"] == 40.0 for d in goal["days"])
    assert goal["progress"] == 40.0 and goal["progress_pct"] == pytest.approx(88.89)
    assert goal["trend_per_day"] == 0 and goal["projection"] == 40.0
    assert goal["status"] == "at_risk" and goal["reason"] == "projected_short"
    assert (goal["days_total"], goal["days_elapsed"], goal["days_left"]) == (42, 15, 27)


async def test_api_goals_per_robot_metrics_count_every_robot(client):
    for metric, target in (("interactions_per_robot_day", 15), ("skill:guide", 3), ("active_day_share", 50)):
        status, body = await _post(client, "nyc", {"metric": metric, "target": target, "start": "2026-01-05",
                                                   "due": "2026-01-31"})
        assert status == 201, body
    out = await (await client.get("/api/v1/customers/nyc/goals", headers=bearer(VIEWER))).json()
    by_metric = {g["metric"]: g for g in out["items"]}
    assert by_metric["interactions_per_robot_day"]["progress"] == 20.0   # 40 a day over two robots
    assert by_metric["interactions_per_robot_day"]["status"] == "achieved"
    assert by_metric["skill:guide"]["progress"] == 2.0 and by_metric["skill:guide"]["unit"] == "uses"
    assert by_metric["active_day_share"]["progress"] == 50.0              # one robot of two used each day
    assert by_metric["active_day_share"]["status"] == "achieved"


async def test_api_goals_post_again_is_idempotent_and_a_new_target_updates(client):
    body = {"metric": "active_day_share", "target": "80", "start": "2026-01-05", "due": "2026-01-31"}
    status, first = await _post(client, "nyc", body)
    assert status == 201
    status, again = await _post(client, "nyc", body)
    assert status == 200 and again["created"] is False and again["updated"] is False
    assert again["goal"]["id"] == first["goal"]["id"] and again["goal"]["updated_ms"] == first["goal"]["updated_ms"]
    status, changed = await _post(client, "nyc", {**body, "target": 90.5})
    assert status == 200 and changed["updated"] is True and changed["goal"]["target"] == 90.5
    out = await (await client.get("/api/v1/customers/nyc/goals", headers=bearer(VIEWER))).json()
    assert out["total"] == 1


@pytest.mark.parametrize("body, message", [
    ({"metric": "happiness", "target": 1, "start": "2026-01-05", "due": "2026-01-31"}, "unknown metric 'happiness'"),
    ({"metric": "conversion", "target": -1, "start": "2026-01-05", "due": "2026-01-31"}, "must be a number >= 0"),
    ({"metric": "conversion", "target": 120, "start": "2026-01-05", "due": "2026-01-31"}, "at most 100"),
    ({"metric": "conversion", "target": 40, "start": "2026-02-30", "due": "2026-03-31"}, "is not a date"),
    ({"metric": "conversion", "target": 40, "start": "2026-01-31", "due": "2026-01-05"}, "before start"),
    ({"metric": "conversion", "target": 40, "start": "2026-01-05", "due": "2026-01-31", "owner": "x"}, "unknown field"),
    ({"metric": "conversion", "start": "2026-01-05", "due": "2026-01-31"}, "target is empty"),
])
async def test_api_goals_post_refuses_bad_input_naming_it(client, body, message):
    status, out = await _post(client, "nyc", body)
    assert status == 400 and message in out["error"]["message"], out
    listed = await (await client.get("/api/v1/customers/nyc/goals", headers=bearer(VIEWER))).json()
    assert listed["total"] == 0


async def test_api_goals_post_needs_an_admin_and_a_known_customer(client):
    body = {"metric": "conversion", "target": 40, "start": "2026-01-05", "due": "2026-01-31"}
    assert (await _post(client, "nyc", body, token=VIEWER))[0] == 403
    assert (await _post(client, "nobody", body))[0] == 404
    assert (await client.get("/api/v1/customers/nobody/goals", headers=bearer(VIEWER))).status == 404


async def test_api_goals_default_zone_and_a_goal_not_started(client):
    status, body = await _post(client, "bj", {"metric": "availability", "target": 95, "start": "2026-02-01",
                                              "due": "2026-02-28"})
    assert status == 201
    out = await (await client.get("/api/v1/customers/bj/goals", headers=bearer(VIEWER))).json()
    assert out["timezone"] == "Asia/Shanghai" and out["today"] == "2026-01-20"
    (goal,) = out["items"]
    assert goal["status"] == "on_track" and goal["reason"] == "not_started" and goal["days"] == []
    assert goal["progress"] is None and goal["days_left"] == 40  # 20 January (today) to 28 February


async def test_api_goals_alerts_filter_by_the_goal_rule(client):
    resp = await client.get("/api/v1/alerts?rule=goal_at_risk", headers=bearer(VIEWER))
    assert resp.status == 200 and (await resp.json())["items"] == []
