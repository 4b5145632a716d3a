"""Must-show 1: each route over a store seeded with known data returns the stored health numbers."""

from __future__ import annotations


import pytest
from protocol.timeunits import DAY_MS
from collector.store.sqlite.apply import add_rollups
from tests.plugins.api import CUSTOMERS, HEALTH, NOW_MS, ROBOTS, bearer, usage_value

#: the HTTP reads and the health loop on PostgreSQL too in the default run (tests/plugins/store.py)
pytestmark = pytest.mark.both_backends

VOLUMES = ("usage.foot_traffic", "usage.solicitations", "usage.wakeups", "usage.interactions")


async def get_json(client, url, status=200):
    resp = await client.get(url, headers=bearer())
    assert resp.status == status, await resp.text()
    return await resp.json()


async def test_api_customers_list_matches_customer_health(api_client, api_seed):
    body = await get_json(api_client, "/api/v1/customers")
    assert body["total"] == len(CUSTOMERS)
    by_id = {c["id"]: c for c in body["items"]}
    db = api_seed.connect()
    for cid, score, color, trend, total, online, offline, stale in db.execute(
            "SELECT customer, score, color, trend, robots_total, robots_online, robots_offline, robots_stale "
            "FROM customer_health"):
        c = by_id[cid]
        assert (c["health"]["score"], c["health"]["color"], c["health"]["trend"]) == (score, color, trend)
        assert c["robots"] == {"total": total, "online": online, "offline": offline, "stale": stale}
    assert by_id["kiwi-ktv"]["open_alerts"] == 2  # firing + acknowledged; pending and resolved are not open
    assert by_id["acme-museum"]["open_alerts"] == 0
    assert by_id["acme-museum"]["name"] == "上海博物馆"
    assert by_id["new-bank"]["health"] is None and by_id["new-bank"]["robots"]["total"] == 1
    # default order: worst score first, customers without health last
    assert [c["id"] for c in body["items"]] == ["kiwi-ktv", "sky-scenic", "acme-museum", "peer-museum",
                                                "new-bank"]


async def test_api_customers_filter_sort_and_paginate(api_client):
    assert [c["id"] for c in (await get_json(api_client, "/api/v1/customers?color=red"))["items"]] == ["kiwi-ktv"]
    alice = await get_json(api_client, "/api/v1/customers?csm=alice&sort=-score")
    assert [c["id"] for c in alice["items"]] == ["acme-museum", "sky-scenic"]
    museum = await get_json(api_client, "/api/v1/customers?scene=museum&sort=name")
    assert {c["id"] for c in museum["items"]} == {"acme-museum", "peer-museum"}
    page = await get_json(api_client, "/api/v1/customers?sort=id&limit=2&offset=2")
    assert page["total"] == 5 and [c["id"] for c in page["items"]] == ["new-bank", "peer-museum"]
    assert (await get_json(api_client, "/api/v1/customers?q=博物"))["total"] == 2


def with_hours(seed) -> None:
    """The seed's daily counts in their hour too (04:00 UTC, noon in Beijing, the customers' zone),
    as the store keeps both: the usage charts and the robot page sum local days from the hours."""
    from collector.store.sqlite import customer_usage
    conn = seed.connect()
    conn.execute("BEGIN")
    conn.execute("INSERT INTO counter_hour (robot, metric, bucket_ms, total) SELECT robot, metric, bucket_ms + ?, total"
                 " FROM counter_day", (4 * 3_600_000,))
    customer_usage.rebuild(conn)
    conn.execute("COMMIT")
    conn.close()


async def test_api_customer_page_has_breakdown_usage_and_timeline(api_client, api_seed):
    with_hours(api_seed)
    body = await get_json(api_client, "/api/v1/customers/acme-museum")
    assert body["health"]["score"] == HEALTH["acme-museum"][0]
    assert [b["measure"] for b in body["breakdown"]] == ["robot_health", "usage"]
    assert body["facts"] == {"usage": {"per_robot": 321}}
    assert len(body["score_history"]) == 30 and body["score_history"][-1]["day_ms"] == NOW_MS - NOW_MS % DAY_MS
    assert body["sites"] == ["hall-a", "hall-b"]
    usage = body["usage"]
    assert len(usage["days"]) == 30 and usage["days"][-1] == NOW_MS - NOW_MS % DAY_MS
    robots = [r[0] for r in ROBOTS if r[1] == "acme-museum"]
    for metric in VOLUMES:
        expected = [sum(usage_value(r, metric, d) for r in robots) for d in range(30)]
        assert usage["volumes"][metric]["total"] == expected
        assert usage["volumes"][metric]["per_robot"] == [round(v / 3, 2) for v in expected]
        # the only scene peer is peer-museum with one robot
        assert usage["volumes"][metric]["peers_per_robot"] == [float(usage_value("p-001", metric, d))
                                                               for d in range(30)]
    assert usage["peer_customers"] == 1 and usage["peer_robots"] == 1
    assert [a["id"] for a in body["alerts"]] == [api_seed.alerts["acme_pending"]]
    # timeline: newest first, every transition of the customer's alerts
    assert [e["to_state"] for e in body["timeline"]] == ["pending", "resolved", "firing", "pending"]


async def test_api_customer_robots_carry_subsystem_states(api_client):
    body = await get_json(api_client, "/api/v1/customers/kiwi-ktv/robots")
    by_id = {r["id"]: r for r in body["items"]}
    assert set(by_id) == {"k-001", "k-002"}
    assert by_id["k-001"]["health"]["subsystems"]["asr"]["state"] == "crit"
    assert by_id["k-001"]["health"]["worst"] == "asr" and by_id["k-001"]["health"]["score"] == 20.0
    assert by_id["k-002"]["state"] == "stale"
    only = await get_json(api_client, "/api/v1/customers/kiwi-ktv/robots?state=offline")
    assert [r["id"] for r in only["items"]] == ["k-001"]
    await get_json(api_client, "/api/v1/customers/nobody/robots", 404)


async def test_api_robot_page_has_status_health_and_recent_usage(api_client, api_seed):
    with_hours(api_seed)
    body = await get_json(api_client, "/api/v1/robots/k-001")
    assert body["customer"] == "kiwi-ktv" and body["status"]["state"] == "offline"
    assert body["health"]["subsystems"]["network"]["state"] == "warn"
    assert len(body["usage"]["days"]) == 7
    assert body["usage"]["metrics"]["usage.interactions"] == [usage_value("k-001", "usage.interactions", d)
                                                             for d in range(23, 30)]
    assert body["usage"]["metrics"]["skill.guide"][-1] == usage_value("k-001", "skill.guide", 29)
    assert {a["id"] for a in body["alerts"]} == {api_seed.alerts["ktv_offline"], api_seed.alerts["ktv_asr"]}
    robots = await get_json(api_client, "/api/v1/robots?customer=acme-museum&state=online")
    assert [r["id"] for r in robots["items"]] == ["r-001", "r-003"]


async def test_api_alerts_newest_first_and_filtered(api_client, api_seed):
    body = await get_json(api_client, "/api/v1/alerts")
    opened = [a["opened_ms"] for a in body["items"]]
    assert opened == sorted(opened, reverse=True) and body["total"] == 5
    firing = await get_json(api_client, "/api/v1/alerts?state=firing")
    assert {a["id"] for a in firing["items"]} == {api_seed.alerts["ktv_offline"], api_seed.alerts["sky_renewal"]}
    ktv = await get_json(api_client, "/api/v1/alerts?customer=kiwi-ktv&state=open")
    assert ktv["total"] == 2 and all(a["customer"] == "kiwi-ktv" for a in ktv["items"])
    one = await get_json(api_client, f"/api/v1/alerts/{api_seed.alerts['ktv_asr']}")
    assert [(e["to_state"], e["actor"]) for e in one["events"]] == [("pending", "rules"), ("firing", "rules"),
                                                                    ("acknowledged", "ops-admin")]


async def test_api_rejects_bad_ids_and_parameters_with_json(api_client):
    for url, status in [("/api/v1/customers/Bad%20Id", 400), ("/api/v1/customers/nobody", 404),
                        ("/api/v1/robots/nobody", 404), ("/api/v1/alerts/abc", 400),
                        ("/api/v1/alerts/999", 404), ("/api/v1/customers?limit=0", 400),
                        ("/api/v1/customers?limit=5000", 400), ("/api/v1/customers?color=blue", 400),
                        ("/api/v1/customers?sort=password", 400), ("/api/v1/alerts?state=closed", 400),
                        ("/api/v1/customers?customer=x'%20OR%201=1", 400)]:
        body = await get_json(api_client, url, status)
        assert body["error"]["status"] == status and body["error"]["message"], url


async def test_api_security_headers_and_no_cors_by_default(api_client):
    resp = await api_client.get("/api/v1/customers", headers={**bearer(), "Origin": "https://evil.example"})
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
    assert "Access-Control-Allow-Origin" not in resp.headers


async def test_api_cors_only_for_configured_origins(aiohttp_client, api_seed):
    from tests.plugins.api import make_api_app

    client = await aiohttp_client(make_api_app(api_seed.path, cors_origins=["https://bi.example"]))
    pre = await client.options("/api/v1/customers", headers={"Origin": "https://bi.example",
                                                             "Access-Control-Request-Method": "GET"})
    assert pre.status == 204 and pre.headers["Access-Control-Allow-Origin"] == "https://bi.example"
    resp = await client.get("/api/v1/customers", headers={**bearer(), "Origin": "https://bi.example"})
    assert resp.headers["Access-Control-Allow-Origin"] == "https://bi.example"
    other = await client.get("/api/v1/customers", headers={**bearer(), "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


async def test_api_overview_cache_follows_health_changes(api_client, api_seed):
    first = await get_json(api_client, "/api/v1/customers?color=red")
    assert [c["id"] for c in first["items"]] == ["kiwi-ktv"]
    assert await get_json(api_client, "/api/v1/customers?color=red") == first  # served again (cached)
    conn = api_seed.connect()
    conn.execute("UPDATE customer_health SET color = 'red', score = 10.0, computed_ms = computed_ms + 1000 "
                 "WHERE customer = 'sky-scenic'")
    conn.close()
    second = await get_json(api_client, "/api/v1/customers?color=red")
    assert [(c["id"], c["health"]["score"]) for c in second["items"]] == [("sky-scenic", 10.0),
                                                                         ("kiwi-ktv", 35.25)]
    conn = api_seed.connect()  # an alert transition changes the open-alert count at once
    alert_id = conn.execute(
        "INSERT INTO alerts (rule, subject, customer, severity, state, summary, facts, opened_ms, updated_ms)"
        " VALUES ('usage_drop', 'kiwi-ktv', 'kiwi-ktv', 'warning', 'firing', 's', '{}', 1, 1) RETURNING id").fetchone()[0]
    conn.execute("INSERT INTO alert_events (alert_id, ts_ms, to_state, actor) VALUES (?, 1, 'firing', 'rules')",
                 (alert_id,))
    conn.close()
    third = await get_json(api_client, "/api/v1/customers?color=red")
    assert {c["id"]: c["open_alerts"] for c in third["items"]}["kiwi-ktv"] == 3


async def test_api_customer_usage_follows_new_reports(api_client, api_seed):
    before = await get_json(api_client, "/api/v1/customers/acme-museum")
    today = before["usage"]["volumes"]["usage.interactions"]["total"][-1]
    conn = api_seed.connect()  # ingest adds to today's rollups (as the store's writer does) and touches the robot
    conn.execute("BEGIN")
    add_rollups(conn, {("r-001", NOW_MS - NOW_MS % 3_600_000): {"usage.interactions": 1000}}, {"r-001": "acme-museum"})
    conn.execute("UPDATE robots SET last_seen_ms = last_seen_ms + 10 WHERE id = 'r-001'")
    conn.execute("COMMIT")
    conn.close()
    after = await get_json(api_client, "/api/v1/customers/acme-museum")
    assert after["usage"]["volumes"]["usage.interactions"]["total"][-1] == today + 1000


async def test_api_customer_page_open_alerts_counts_its_open_alerts(api_client):
    """The page's open_alerts (the dashboard's card and its "Open alerts (N)" heading) is the number
    of its listed alerts in an open state; pending ones are listed but not counted."""
    from collector.alerts.states import OPEN

    for cid in ("acme-museum", "kiwi-ktv", "sky-scenic", "new-bank"):
        body = await get_json(api_client, f"/api/v1/customers/{cid}")
        assert body["open_alerts"] == sum(1 for a in body["alerts"] if a["state"] in OPEN), cid
        overview = await get_json(api_client, f"/api/v1/customers?customer={cid}")
        assert overview["items"][0]["open_alerts"] == body["open_alerts"]
    acme = await get_json(api_client, "/api/v1/customers/acme-museum")
    assert acme["open_alerts"] == 0 and [a["state"] for a in acme["alerts"]] == ["pending"]
