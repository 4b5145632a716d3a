"""Issue 14: a CSM's book of business, ``GET /api/v1/csms/{csm}``, through the real store and app
(aiohttp_client over loopback) on the api fixtures' seeded store (tests/plugins/api.py: now is
2026-11-27 12:00 UTC; alice has acme-museum and sky-scenic, bob kiwi-ktv and peer-museum, carol
new-bank).  "This week" is each customer's own last 7 local days."""

from __future__ import annotations

import pytest

import io
import urllib.parse
from pathlib import Path

from collector.store import events as event_import
from collector.store import open_store
from tests.plugins.api import DAY_MS, NOW_MS, bearer

pytestmark = pytest.mark.sqlite_only("not yet on PostgreSQL: the CSM book tests seed the lifecycle facts with SQLite json_set")

EVENTS = """customer,date,kind,amount,robots,referred_by,contract_end,note
acme-museum,2026-11-26,expansion,12000,2,,,two more robots
acme-museum,2026-11-21,expansion,3000,1,,,six days before the 27th: inside the week
acme-museum,2026-11-20,expansion,5000,1,,,seven days before: outside
far-east,2026-11-21,expansion,1000,1,,,the 21st is outside the week in UTC+14 (its today is the 28th)
far-east,2026-11-22,expansion,2000,1,,,inside
"""


def add_far_east(seed) -> None:
    """bob's third customer, in UTC+14 (Pacific/Kiritimati: 02:00 on the 28th when it is noon UTC on
    the 27th), yellow, contract ending in 60 local days."""
    conn = seed.connect()
    conn.execute("INSERT INTO customers (id, name, scene, tier, contract_start, contract_end, arr, csm, "
                 "timezone, created_ms, updated_ms) VALUES ('far-east', '基里巴斯酒店', 'hotel', 'tech', "
                 "'2025-01-27', '2027-01-27', 15000, 'bob', 'Pacific/Kiritimati', ?, ?)", (NOW_MS, NOW_MS))
    conn.execute("INSERT INTO customer_health (customer, computed_ms, score, color, trend, robots_total, "
                 "robots_online, robots_offline, robots_stale, color_since_ms, breakdown, facts) "
                 "VALUES ('far-east', ?, 58.0, 'yellow', 'flat', 0, 0, 0, 0, ?, '[]', '{}')", (NOW_MS, NOW_MS))
    # the lifecycle stage the health cycle writes into the facts (collector/health/lifecycle.py)
    conn.execute("UPDATE customer_health SET facts = json_set(facts, '$.lifecycle', json(?)) WHERE customer = "
                 "'kiwi-ktv'", ('{"stage": "decline", "reason": "usage down 40% over 30 days"}',))
    # sky-scenic was green for one day in the week: two colour changes (the 24th and the 25th)
    day = NOW_MS - NOW_MS % DAY_MS
    conn.execute("UPDATE score_history SET color = 'green' WHERE customer = 'sky-scenic' AND day_ms = ?",
                 (day - 3 * DAY_MS,))
    # peer-museum turned green 8 days ago: before the week, not a change of this week
    conn.execute("UPDATE score_history SET color = 'red' WHERE customer = 'peer-museum' AND day_ms <= ?",
                 (day - 9 * DAY_MS,))
    conn.close()
    store = open_store(seed.path)
    try:
        path = Path(seed.path).parent / "events.csv"
        path.write_text(EVENTS, encoding="utf-8")
        err = io.StringIO()
        assert event_import.import_file(str(path), store.registry, io.StringIO(), err, actor="wang.fang",
                                        now_ms=NOW_MS) == 0, err.getvalue()
    finally:
        store.close()


async def get(client, url, status=200):
    resp = await client.get(url, headers=bearer())
    assert resp.status == status, await resp.text()
    return await resp.json()


async def test_api_csms_book_lists_the_csms_customers_worst_first_with_open_alerts(api_client, api_seed):
    add_far_east(api_seed)
    book = await get(api_client, "/api/v1/csms/bob")
    assert book["csm"] == "bob" and book["today"] == "2026-11-27"
    rows = {c["id"]: c for c in book["customers"]}
    assert [c["id"] for c in book["customers"]] == ["kiwi-ktv", "far-east", "peer-museum"]  # red, yellow, green
    kiwi = rows["kiwi-ktv"]
    assert (kiwi["health"]["color"], kiwi["arr"], kiwi["contract_end"]) == ("red", 30000.0, "2026-12-31")
    # firing + acknowledged: the same two the overview counts as open
    assert sorted(a["id"] for a in kiwi["alerts"]) == sorted([api_seed.alerts["ktv_offline"],
                                                             api_seed.alerts["ktv_asr"]])
    assert kiwi["open_alerts"] == 2 and kiwi["days_to_contract_end"] == 34 and kiwi["arr_at_risk"] is True
    assert (kiwi["lifecycle"], rows["far-east"]["lifecycle"]) == ("decline", None)  # as the overview's items
    # far-east's local today is the 28th: 60 days to its contract end on 2027-01-27
    assert (rows["far-east"]["today"], rows["far-east"]["days_to_contract_end"]) == ("2026-11-28", 60)
    assert rows["far-east"]["timezone"] == "Pacific/Kiritimati"
    assert rows["peer-museum"]["arr_at_risk"] is False  # green (and its contract ended in May)
    s = book["summary"]
    assert (s["customers"], s["arr"], s["open_alerts"]) == (3, 105000.0, 2)  # 30000 + 15000 + 60000
    # not green, contract end in 2026-11-27..2027-02-25: kiwi-ktv 30000 + far-east 15000
    assert (s["arr_at_risk"], s["customers_at_risk"]) == (45000.0, 2)
    assert s["colors"] == {"green": 1, "yellow": 1, "red": 1, "none": 0}
    # the bands count days from the UTC date, as the outcomes route does: far-east's end is 61 days away
    assert s["renewals_due"] == {"days_30": {"customers": 0, "arr": 0.0}, "days_60": {"customers": 1, "arr": 30000.0},
                                 "days_90": {"customers": 2, "arr": 45000.0}}


async def test_api_csms_arr_at_risk_equals_the_outcomes_route(api_client, api_seed):
    add_far_east(api_seed)
    outcomes = await get(api_client, "/api/v1/outcomes?group=csm")
    by_csm = {g["key"]: g["arr_at_risk"] for g in outcomes["groups"]}
    for csm in ("alice", "bob", "carol"):
        book = await get(api_client, f"/api/v1/csms/{csm}")
        assert book["summary"]["arr_at_risk"] == by_csm[csm], csm
    assert by_csm["bob"] == 45000.0


async def test_api_csms_week_is_each_customers_last_seven_local_days(api_client, api_seed):
    add_far_east(api_seed)
    alice = (await get(api_client, "/api/v1/csms/alice"))["week"]
    a = api_seed.alerts
    # fired in the week: acme's usage drop (5 days ago, since resolved) and sky's renewal risk (a day ago);
    # acme's pending alert never fired: not a call to action yet
    assert [x["id"] for x in alice["alerts_opened"]] == [a["acme_usage"], a["sky_renewal"]]
    assert [x["id"] for x in alice["alerts_resolved"]] == [a["acme_usage"]]
    assert alice["alerts_opened"][0]["name"] == "上海博物馆"
    assert alice["color_changes"] == [
        {"customer": "sky-scenic", "name": "黄山风景区", "date": "2026-11-24", "from": "yellow", "to": "green"},
        {"customer": "sky-scenic", "name": "黄山风景区", "date": "2026-11-25", "from": "green", "to": "yellow"}]
    # Shanghai's week is 11-21..11-27: the 20th is out
    assert [(e["customer"], e["date"], e["amount"]) for e in alice["events"]] == [
        ("acme-museum", "2026-11-21", 3000.0), ("acme-museum", "2026-11-26", 12000.0)]
    assert alice["events"][0]["actor"] == "wang.fang"
    bob = (await get(api_client, "/api/v1/csms/bob"))["week"]
    # UTC+14's week is 11-22..11-28
    assert [(e["customer"], e["date"]) for e in bob["events"]] == [("far-east", "2026-11-22")]
    assert bob["color_changes"] == []  # peer-museum turned green before the week
    assert sorted(x["id"] for x in bob["alerts_opened"]) == sorted([a["ktv_offline"], a["ktv_asr"]])
    assert bob["alerts_resolved"] == []


async def test_api_csms_unknown_csm_is_a_json_404_and_a_name_is_matched_exactly(api_client, api_seed):
    conn = api_seed.connect()
    conn.execute("UPDATE customers SET csm = '王芳' WHERE id = 'new-bank'")
    conn.close()
    body = await get(api_client, "/api/v1/csms/nobody", status=404)
    assert body == {"error": {"status": 404, "message": "no CSM nobody"}}
    assert (await get(api_client, "/api/v1/csms/Alice", status=404))["error"]["status"] == 404
    book = await get(api_client, "/api/v1/csms/" + urllib.parse.quote("王芳"))
    assert [c["id"] for c in book["customers"]] == ["new-bank"]
    assert book["customers"][0]["health"] is None and book["summary"]["colors"]["none"] == 1
    assert (await get(api_client, "/api/v1/csms/%20", status=404))["error"]["message"] == "no CSM  "
    assert (await get(api_client, "/api/v1/csms/" + "x" * 201, status=400))["error"]["status"] == 400
    resp = await api_client.get("/api/v1/csms/alice")  # no token
    assert resp.status == 401


async def test_api_csms_book_follows_a_change_in_the_store(api_client, api_seed):
    before = await get(api_client, "/api/v1/csms/alice")
    assert before["summary"]["colors"]["red"] == 0
    conn = api_seed.connect()
    conn.execute("UPDATE customer_health SET color = 'red', score = 30.0, computed_ms = computed_ms + 1 "
                 "WHERE customer = 'acme-museum'")
    conn.close()
    after = await get(api_client, "/api/v1/csms/alice")
    assert after["summary"]["colors"]["red"] == 1 and after["customers"][0]["id"] == "acme-museum"
    # acme-museum is now red with its contract ending 2027-02-28 (93 days): still outside the 90
    assert after["summary"]["arr_at_risk"] == 0.0


async def test_api_csms_book_lists_each_customers_goals_as_the_goals_route_judges_them(api_client, api_seed):
    """acme-museum has the api fixtures' three goals (one over already); the book carries them as
    ``GET /api/v1/customers/acme-museum/goals`` judges them, without the per-day series."""
    book = await get(api_client, "/api/v1/csms/alice")
    route = await get(api_client, "/api/v1/customers/acme-museum/goals")
    rows = {c["id"]: c for c in book["customers"]}
    assert len(route["items"]) == 3
    assert rows["acme-museum"]["goals"] == [{k: v for k, v in g.items() if k != "days"} for g in route["items"]]
    assert rows["sky-scenic"]["goals"] == []
    statuses = [g["status"] for g in route["items"]]
    assert book["summary"]["goals"] == {s: statuses.count(s) for s in ("on_track", "at_risk", "achieved", "missed")}
    # a goal removed shows at once (the book's cache marker counts the goals)
    conn = api_seed.connect()
    conn.execute("DELETE FROM customer_goals WHERE metric = 'skill:guide'")
    conn.close()
    again = await get(api_client, "/api/v1/csms/alice")
    acme = next(c for c in again["customers"] if c["id"] == "acme-museum")
    assert [g["metric"] for g in acme["goals"]] == ["conversion", "interactions_per_robot_day"]
    assert sum(again["summary"]["goals"].values()) == 2
