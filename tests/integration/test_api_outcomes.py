"""Issue 14, must-show: the six outcome rates on a hand-checked book of 20 customers over Q1 2027,
by count and by amount, overall and grouped by CSM and by distributor, through the real store
(customers and events imported by the import code) and the real app over aiohttp_client.

The expected figures are literals worked out by hand from the book below (the arithmetic is in the
comments); the definitions are those of docs/api.md, "Outcome rates"."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from collector.store import open_store
from collector.store import customers as customer_import
from collector.store import events as event_import
from tests.plugins.api import ADMIN, bearer, connect_store, make_api_app

#: "today" for the app: 2027-04-25 04:00 UTC, after the quarter and its renewals' grace
NOW_MS = int(dt.datetime(2027, 4, 25, 4, tzinfo=dt.UTC).timestamp() * 1000)
Q1 = "from=2027-01-01&to=2027-03-31"

BOOK = """id,name,scene,tier,contract_start,contract_end,arr,csm,distributor
c01,上海博物馆,museum,high,2024-01-01,2027-01-31,100000,alice,east
c02,南京博物院,museum,high,2024-03-01,2027-02-28,50000,alice,east
c03,欢乐KTV,ktv,mid,2025-03-15,2027-03-15,80000,alice,west
c04,黄山风景区,scenic,mid,2024-04-01,2027-03-31,40000,alice,
c05,招商银行,bank,high,2025-01-10,2027-01-10,60000,bob,east
c06,KTV二店,ktv,low,2024-06-01,2027-02-15,30000,bob,west
c07,会展中心,conference,high,2024-02-01,2027-03-20,70000,bob,west
c08,月度商场,mall,low,2025-12-01,2027-01-05,20000,bob,
c09,科技馆,museum,high,2024-01-01,2027-06-30,90000,alice,east
c10,国际会展,conference,high,2024-01-01,2027-12-31,120000,alice,east
c11,西湖景区,scenic,mid,2025-05-01,2027-04-10,45000,alice,west
c12,工商银行,bank,mid,2025-01-01,2027-09-30,55000,bob,east
c13,万达广场,mall,mid,2024-07-01,2027-07-20,65000,bob,west
c14,人民医院,hospital,low,2025-08-01,2027-08-31,35000,bob,
c15,KTV三店,ktv,low,2025-09-01,2027-10-31,25000,alice,west
c16,新签博物馆,museum,mid,2027-02-01,2028-01-31,30000,carol,east
c17,新签银行,bank,mid,2027-03-15,2028-03-14,40000,bob,west
c18,老推荐商场,mall,low,2026-10-01,2027-09-30,20000,alice,east
c19,已停约KTV,ktv,low,2024-01-01,2026-12-15,50000,bob,
c20,无开始日期,scenic,low,,2027-05-31,10000,alice,east
"""

EVENTS = """customer,date,kind,amount,robots,referred_by,contract_end,note
c01,2027-01-20,renewal,110000,,,2028-01-31,on time
c02,2026-12-10,renewal,50000,,,2028-02-29,early: before the period
c03,2027-02-01,churn,,,,,budget cut
c04,2027-04-20,renewal,44000,,,2028-03-31,20 days after the end: within the grace
c05,2027-03-01,renewal,60000,,,2028-01-10,50 days after the end: a win-back
c07,2027-03-10,renewal,"90,000",,,2028-03-20,uplift
c08,2027-02-04,renewal,20000,,,2028-02-05,second term (listed first on purpose)
c08,2027-01-03,renewal,20000,,,2027-02-05,one-month term
c09,2027-02-10,expansion,15000,3,,,
c10,2027-01-25,expansion,10000,2,,,
c10,2027-03-05,expansion,5000,1,,,
c13,2026-12-20,expansion,8000,1,,,before the period
c14,2027-03-31,expansion,5000,1,,,the last day counts
c16,2027-02-01,referral,30000,,c15,,
c17,2027-03-15,referral,40000,,c12,,
c18,2026-10-01,referral,20000,,c09,,before the period
c20,2027-03-01,churn,,,,,=HYPERLINK("x")
"""

#: customer -> (score, colour); c15, c16 have no health yet
HEALTH = {"c01": (90.0, "green"), "c02": (60.0, "yellow"), "c03": (30.0, "red"), "c04": (85.0, "green"),
          "c05": (55.0, "yellow"), "c06": (25.0, "red"), "c07": (88.0, "green"), "c08": (80.0, "green"),
          "c09": (92.0, "green"), "c10": (58.0, "yellow"), "c11": (20.0, "red"), "c12": (91.0, "green"),
          "c13": (52.5, "yellow"), "c14": (83.0, "green"), "c17": (86.0, "green"), "c18": (81.0, "green"),
          "c19": (10.0, "red"), "c20": (57.0, "yellow")}


def build_book(path, folder) -> None:
    """The book in the store ``path`` names (a SQLite file or a PostgreSQL URL); ``folder`` holds the CSV."""
    store = open_store(path)
    try:
        store.registry.upsert_customers(customer_import.parse(BOOK).rows, NOW_MS)
        events = folder / "events.csv"
        events.write_text(EVENTS, encoding="utf-8")
        out, err = io.StringIO(), io.StringIO()
        assert event_import.import_file(str(events), store.registry, out, err, actor="wang.fang",
                                        now_ms=NOW_MS) == 0, err.getvalue()
        assert "imported 17 events (17 new, 0 already stored) as wang.fang" in out.getvalue()
    finally:
        store.close()
    conn = connect_store(path)
    for customer, (score, color) in HEALTH.items():
        conn.execute("INSERT INTO customer_health (customer, computed_ms, score, color, trend, robots_total, "
                     "robots_online, robots_offline, robots_stale, color_since_ms, breakdown, facts) "
                     "VALUES (?, ?, ?, ?, 'flat', 0, 0, 0, 0, ?, '[]', '{}')",
                     (customer, NOW_MS, score, color, NOW_MS))
    conn.close()


@pytest.fixture
async def book_client(aiohttp_client, tmp_path, store_url):
    db = store_url
    build_book(db, tmp_path)
    client = await aiohttp_client(make_api_app(db, now_ms=NOW_MS))
    client.db = db
    return client


async def get_json(client, url, status=200, token=None):
    resp = await client.get(url, headers=bearer(token) if token else bearer())
    assert resp.status == status, await resp.text()
    return await resp.json()


def rates(figures: dict) -> tuple:
    return tuple(figures[k] for k in ("renewal_rate_by_count", "renewal_rate_by_amount", "expansion_rate_by_count",
                                      "expansion_rate_by_amount", "referral_rate_by_count",
                                      "referral_rate_by_amount"))


async def test_api_outcomes_overall_rates_equal_the_hand_count(book_client):
    body = await get_json(book_client, f"/api/v1/outcomes?{Q1}")
    o = body["overall"]
    # due in Q1 (a term end in 2027-01-01..03-31, before renewals): c01..c08 = 8;
    # ARR due 100000+50000+80000+40000+60000+30000+70000+20000 = 450000
    assert (o["customers_due"], o["arr_due"]) == (8, 450000.0)
    # renewed within 30 days of the term's end: c01, c02 (early), c04 (20 days late), c07, c08 (its last
    # due term, 02-05, renewed on 02-04) = 5; c03 churned, c05 50 days late, c06 silent.
    # renewed ARR 110000+50000+44000+90000+20000 = 314000
    assert (o["customers_renewed"], o["arr_renewed"]) == (5, 314000.0)
    # under contract on 2027-01-01: c01..c15, c18, c20 (no start recorded) = 17; not c16, c17 (signed
    # later), c19 (ended 2026-12-15).  ARR 450000 + (90000+120000+45000+55000+65000+35000+25000) + 20000
    # + 10000 = 915000
    assert (o["customers_at_start"], o["arr_at_start"]) == (17, 915000.0)
    # expansions dated in Q1: c09 15000, c10 10000+5000, c14 5000 (03-31); c13's was in December
    assert (o["customers_expanded"], o["arr_expanded"]) == (3, 35000.0)
    # referrals dated in Q1: c16 30000, c17 40000; c18's was in October
    assert (o["customers_referred"], o["arr_referred"]) == (2, 70000.0)
    assert rates(o) == (
        62.5,    # 5 / 8
        69.78,   # 314000 / 450000 = 69.777..
        17.65,   # 3 / 17 = 17.647..
        3.83,    # 35000 / 915000 = 3.825..
        11.76,   # 2 / 17 = 11.764..
        7.65,    # 70000 / 915000 = 7.650..
    )
    assert o["customers_churned"] == 2  # c03, c20
    # not green, contract end within 2027-04-25..07-24: c20 (yellow, 05-31) 10000 + c13 (yellow, 07-20)
    # 65000; c03, c06, c11 (red) ended before today; c15 (no health) ends in October
    assert o["arr_at_risk"] == 75000.0
    assert body["groups"] == [] and body["renewal_grace_days"] == 30 and body["today"] == "2027-04-25"


async def test_api_outcomes_grouped_by_csm_equal_the_hand_count(book_client):
    body = await get_json(book_client, f"/api/v1/outcomes?{Q1}&group=csm")
    groups = {g["key"]: g for g in body["groups"]}
    assert set(groups) == {"alice", "bob", "carol"}
    alice, bob, carol = groups["alice"], groups["bob"], groups["carol"]
    # alice: due c01-c04 (270000), renewed c01, c02, c04 (110000+50000+44000 = 204000);
    # at start c01-c04, c09, c10, c11, c15, c18, c20 = 10 (270000+90000+120000+45000+25000+20000+10000
    # = 580000); expanded c09, c10 (30000); referred c16 through c15, an alice customer (30000)
    assert (alice["customers_due"], alice["customers_renewed"], alice["arr_due"], alice["arr_renewed"]) == \
        (4, 3, 270000.0, 204000.0)
    assert (alice["customers_at_start"], alice["arr_at_start"]) == (10, 580000.0)
    assert rates(alice) == (
        75.0,    # 3 / 4
        75.56,   # 204000 / 270000 = 75.555..
        20.0,    # 2 / 10
        5.17,    # 30000 / 580000 = 5.172..
        10.0,    # 1 / 10
        5.17,    # 30000 / 580000
    )
    assert (alice["customers_churned"], alice["arr_at_risk"]) == (2, 10000.0)
    # bob: due c05-c08 (60000+30000+70000+20000 = 180000), renewed c07, c08 (90000+20000 = 110000);
    # at start c05-c08, c12, c13, c14 = 7 (180000+55000+65000+35000 = 335000); expanded c14 (5000);
    # referred c17 through c12, a bob customer (40000)
    assert (bob["customers_due"], bob["customers_renewed"], bob["arr_due"], bob["arr_renewed"]) == \
        (4, 2, 180000.0, 110000.0)
    assert (bob["customers_at_start"], bob["arr_at_start"]) == (7, 335000.0)
    assert rates(bob) == (
        50.0,    # 2 / 4
        61.11,   # 110000 / 180000 = 61.111..
        14.29,   # 1 / 7 = 14.285..
        1.49,    # 5000 / 335000 = 1.492..
        14.29,   # 1 / 7
        11.94,   # 40000 / 335000 = 11.940..
    )
    assert bob["arr_at_risk"] == 65000.0
    # carol has only c16, signed in February: nobody due, nobody at the start: every rate null
    assert rates(carol) == (None,) * 6 and carol["customers_due"] == 0 and carol["customers_at_start"] == 0


async def test_api_outcomes_grouped_by_distributor_equal_the_hand_count(book_client):
    body = await get_json(book_client, f"/api/v1/outcomes?{Q1}&group=distributor")
    groups = {g["key"]: g for g in body["groups"]}
    assert set(groups) == {"", "east", "west"}
    east, west, direct = groups["east"], groups["west"], groups[""]
    # east: due c01, c02, c05 (210000), renewed c01, c02 (160000); at start c01, c02, c05, c09, c10, c12,
    # c18, c20 = 8 (505000); expanded c09, c10 (30000); referred c17 through c12 (east, 40000)
    assert (east["customers_due"], east["arr_due"], east["customers_at_start"], east["arr_at_start"]) == \
        (3, 210000.0, 8, 505000.0)
    assert rates(east) == (
        66.67,   # 2 / 3
        76.19,   # 160000 / 210000 = 76.190..
        25.0,    # 2 / 8
        5.94,    # 30000 / 505000 = 5.940..
        12.5,    # 1 / 8
        7.92,    # 40000 / 505000 = 7.920..
    )
    # west: due c03, c06, c07 (180000), renewed c07 (90000); at start c03, c06, c07, c11, c13, c15 = 6
    # (315000); no expansion; referred c16 through c15 (west, 30000)
    assert (west["customers_due"], west["arr_due"], west["customers_at_start"], west["arr_at_start"]) == \
        (3, 180000.0, 6, 315000.0)
    assert rates(west) == (
        33.33,   # 1 / 3
        50.0,    # 90000 / 180000
        0.0,     # 0 / 6: a denominator, so 0 and not null
        0.0,     # 0 / 315000
        16.67,   # 1 / 6 = 16.666..
        9.52,    # 30000 / 315000 = 9.523..
    )
    # no distributor: due c04, c08 (60000), both renewed (44000+20000 = 64000); at start c04, c08, c14 = 3
    # (95000); expanded c14 (5000); c19 lapsed in December
    assert (direct["customers_due"], direct["arr_due"], direct["customers_at_start"],
            direct["arr_at_start"]) == (2, 60000.0, 3, 95000.0)
    assert rates(direct) == (
        100.0,   # 2 / 2
        106.67,  # 64000 / 60000 = 106.666..: an uplift passes 100 %
        33.33,   # 1 / 3
        5.26,    # 5000 / 95000 = 5.263..
        0.0,     # 0 / 3
        0.0,     # 0 / 95000
    )
    # the groups add up to the whole
    assert sum(g["customers_at_start"] for g in groups.values()) == body["overall"]["customers_at_start"] == 17


async def test_api_outcomes_period_with_nobody_due_is_null(book_client):
    # nobody's term ends in November 2027, but 16 customers are under contract on 11-01
    body = await get_json(book_client, "/api/v1/outcomes?from=2027-11-01&to=2027-11-30&group=csm")
    o = body["overall"]
    assert o["customers_due"] == 0 and o["arr_due"] == 0
    assert o["renewal_rate_by_count"] is None and o["renewal_rate_by_amount"] is None
    assert o["customers_at_start"] > 0 and o["expansion_rate_by_count"] == 0.0
    # a period long after every contract: nothing due, nobody under contract, all six null
    far = await get_json(book_client, "/api/v1/outcomes?from=2031-01-01&to=2031-03-31")
    assert rates(far["overall"]) == (None,) * 6


async def test_api_outcomes_renewals_due_in_30_60_90_days_with_health(book_client):
    due = (await get_json(book_client, f"/api/v1/outcomes?{Q1}"))["renewals_due"]
    # today 2027-04-25: c20 ends 05-31 (36 days), c09 06-30 (66), c13 07-20 (86)
    assert [(c["customer"], c["days_left"], c["within"], c["score"], c["color"]) for c in due["customers"]] == [
        ("c20", 36, 60, 57.0, "yellow"), ("c09", 66, 90, 92.0, "green"), ("c13", 86, 90, 52.5, "yellow")]
    assert due["days_30"] == {"customers": 0, "arr": 0}
    assert due["days_60"] == {"customers": 1, "arr": 10000.0}
    assert due["days_90"] == {"customers": 3, "arr": 165000.0}  # 10000 + 90000 + 65000


async def test_api_outcomes_renewals_moved_contract_ends(book_client):
    c08 = await get_json(book_client, "/api/v1/customers/c08/events")
    # imported second-term-first, chained by date: each renewal keeps the end it replaced
    assert [(e["date"], e["previous_end"], e["contract_end"]) for e in c08["items"]] == [
        ("2027-01-03", "2027-01-05", "2027-02-05"), ("2027-02-04", "2027-02-05", "2028-02-05")]
    assert all(e["actor"] == "wang.fang" and e["source"] == "import" for e in c08["items"])
    customer = await get_json(book_client, "/api/v1/customers/c08")
    assert customer["contract_end"] == "2028-02-05" and customer["distributor"] == ""
    assert (await get_json(book_client, "/api/v1/customers/c05"))["contract_end"] == "2028-01-10"
    assert (await get_json(book_client, "/api/v1/customers/c01"))["distributor"] == "east"


@pytest.mark.parametrize("query, message", [
    ("from=2027-02-30", "from must be a date YYYY-MM-DD"),
    ("to=20270101", "to must be a date YYYY-MM-DD"),
    ("from=2027-03-01&to=2027-02-01", "to must not be before from"),
    ("from=2020-01-01&to=2027-01-01", "shorter than 1100 days"),
    ("group=region", "group must be one of csm, scene, tier, distributor"),
    ("group=", "group must be one of"),
])
async def test_api_outcomes_bad_parameters_are_400(book_client, query, message):
    body = await get_json(book_client, f"/api/v1/outcomes?{query}", status=400)
    assert message in body["error"]["message"]
    resp = await book_client.get(f"/api/v1/export/outcomes.csv?{query}", headers=bearer())
    assert resp.status == 400


async def test_api_outcomes_default_period_is_the_current_quarter(book_client):
    body = await get_json(book_client, "/api/v1/outcomes")
    assert (body["from"], body["to"]) == ("2027-04-01", "2027-06-30")


async def test_api_events_post_is_attributed_and_idempotent(book_client):
    q2 = "/api/v1/outcomes?from=2027-04-01&to=2027-06-30"
    assert (await get_json(book_client, q2))["overall"]["arr_expanded"] == 0  # computed and cached
    event = {"date": "2027-04-01", "kind": "expansion", "amount": 12000, "robots": 2, "note": "两台新机器"}
    resp = await book_client.post("/api/v1/customers/c12/events", json=event, headers=bearer(ADMIN))
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    assert body["created"] is True
    assert body["event"]["actor"] == "ops-admin" and body["event"]["source"] == "api"
    assert (body["event"]["amount"], body["event"]["robots"], body["event"]["note"]) == (12000.0, 2, "两台新机器")
    again = await book_client.post("/api/v1/customers/c12/events", json=event, headers=bearer(ADMIN))
    assert again.status == 200 and (await again.json()) == {**body, "created": False}
    assert (await get_json(book_client, q2))["overall"]["arr_expanded"] == 12000.0  # the cache knew
    listed = await get_json(book_client, "/api/v1/customers/c12/events")
    assert [e["kind"] for e in listed["items"]] == ["expansion"] and listed["total"] == 1
    # a renewal through the API moves the contract end
    resp = await book_client.post("/api/v1/customers/c13/events", headers=bearer(ADMIN), json={
        "date": "2027-04-20", "kind": "renewal", "amount": "65,000", "contract_end": "2028-07-20"})
    assert resp.status == 201
    assert (await get_json(book_client, "/api/v1/customers/c13"))["contract_end"] == "2028-07-20"


@pytest.mark.parametrize("body, status, message", [
    ({"date": "2027-02-30", "kind": "expansion", "amount": 1}, 400, "date '2027-02-30' is not a date"),
    ({"date": "2027-04-01", "kind": "upsell", "amount": 1}, 400, "kind 'upsell' must be one of"),
    ({"date": "2027-04-01", "kind": "expansion", "amount": -5}, 400, "amount '-5' must be a number >= 0"),
    ({"date": "2027-04-01", "kind": "referral", "amount": 5, "referred_by": "nobody"}, 400,
     "referred_by: unknown customer"),
    ({"date": "2027-04-01", "kind": "renewal", "amount": 5}, 400, "contract_end is empty"),
    ({"date": "2027-04-01", "kind": "churn", "extra": 1}, 400, "unknown field 'extra'"),
    ([1, 2], 400, "body must be a JSON object"),
])
async def test_api_events_post_refuses_bad_bodies(book_client, body, status, message):
    resp = await book_client.post("/api/v1/customers/c12/events", data=json.dumps(body), headers=bearer(ADMIN))
    assert resp.status == status
    assert message in (await resp.json())["error"]["message"]
    assert (await get_json(book_client, "/api/v1/customers/c12/events"))["total"] == 0


async def test_api_events_post_needs_admin_and_a_known_customer(book_client):
    event = {"date": "2027-04-01", "kind": "churn"}
    assert (await book_client.post("/api/v1/customers/c12/events", json=event, headers=bearer())).status == 403
    assert (await book_client.post("/api/v1/customers/zz/events", json=event, headers=bearer(ADMIN))).status == 404
    assert (await book_client.get("/api/v1/customers/zz/events", headers=bearer())).status == 404


async def fetch_csv(client, name, query=""):
    resp = await client.get(f"/api/v1/export/{name}.csv{query}", headers=bearer())
    assert resp.status == 200
    assert f'filename="{name}.csv"' in resp.headers["Content-Disposition"]
    raw = await resp.read()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw  # Excel: BOM, CRLF
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    return [dict(zip(rows[0], r)) for r in rows[1:]], tuple(rows[0])


async def test_api_export_events_opens_cleanly_in_excel(book_client):
    from collector.api.exports import EVENT_COLUMNS

    rows, header = await fetch_csv(book_client, "events")
    assert header == EVENT_COLUMNS and len(rows) == 17
    c20 = [r for r in rows if r["customer"] == "c20"][0]
    assert c20["note"] == "'=HYPERLINK(\"x\")"  # formula guard
    assert c20["customer_name"] == "无开始日期" and c20["actor"] == "wang.fang"
    assert c20["created_at"] == "2027-04-25T04:00:00Z" and c20["contract_end"] == ""
    one, _ = await fetch_csv(book_client, "events", "?customer=c10")
    assert [(r["date"], r["amount"]) for r in one] == [("2027-01-25", "10000.0"), ("2027-03-05", "5000.0")]


async def test_api_export_outcomes_equals_the_route(book_client):
    rows, header = await fetch_csv(book_client, "outcomes", f"?{Q1}&group=csm")
    body = await get_json(book_client, f"/api/v1/outcomes?{Q1}&group=csm")
    assert header[:4] == ("group", "key", "from", "to")
    assert [(r["group"], r["key"]) for r in rows] == [("all", ""), ("csm", "alice"), ("csm", "bob"),
                                                      ("csm", "carol")]
    for row, figures in zip(rows, [body["overall"], *body["groups"]]):
        for name in header[4:]:
            value = figures[name]
            assert row[name] == ("" if value is None else str(value)), name



async def test_api_outcomes_today_is_the_teams_date_not_utcs(aiohttp_client, tmp_path):
    """At 02:00 in Beijing (18:00 UTC the day before) "today" is the Beijing date: the date in
    ``[health] timezone`` (Asia/Shanghai by default) the CS team lives in, not the UTC date, for the
    outcomes route and a CSM's book alike (it was the UTC date: a contract that ended yesterday in
    Beijing still read as due today until 08:00)."""
    db = tmp_path / "store.db"
    build_book(db, tmp_path)
    night = int(dt.datetime(2027, 4, 24, 18, tzinfo=dt.UTC).timestamp() * 1000)
    client = await aiohttp_client(make_api_app(db, now_ms=night))
    assert (await get_json(client, f"/api/v1/outcomes?{Q1}"))["today"] == "2027-04-25"
    book = await get_json(client, "/api/v1/csms/alice")
    assert book["today"] == "2027-04-25"
