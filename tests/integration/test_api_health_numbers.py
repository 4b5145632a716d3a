"""Must-show 1, against the real health functions: history goes into the rollups, the health cycle
(collector.health.cycle.evaluate) computes and stores health and alerts, and every route returns
exactly the numbers the health functions give (compared with ``compute`` at the same instant)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from collector.store.sqlite import seed
from tests.plugins.api import bearer, make_api_app
from tests.plugins.health import DAY, HOUR, T, compute, daily, evaluate, history, make_settings

USAGE = {"usage.foot_traffic": 900, "usage.solicitations": 300, "usage.wakeups": 200, "usage.interactions": 1200}


def canon(value):
    return json.loads(json.dumps(value))


@pytest.fixture
def evaluated(store, fleet):
    """Three customers with 30 days of usage, one with a robot down and speech failing."""
    good = fleet("good-museum", 3, "museum", name="故宫博物院", csm="alice", contract_end="2027-06-30", arr=50000.0)
    bad = fleet("bad-museum", 2, "museum", name="西安碑林", csm="bob", contract_end="2026-02-01", arr=20000.0)
    ktv = fleet("ktv-one", 1, "ktv", name="好乐迪", csm="alice")
    first = T - T % DAY - 29 * DAY
    for rid in good + ktv:
        daily(store, rid, first, 30, USAGE)
        history(store, rid, T - 6 * HOUR, 6, {"asr.requests": 100, "asr.unrecognized": 2, "net.disconnects": 0})
    for rid in bad:
        daily(store, rid, first, 30, lambda day: {k: v // (1 + (day - first) // (5 * DAY)) for k, v in USAGE.items()})
        history(store, rid, T - 6 * HOUR, 6, {"asr.requests": 100, "asr.unrecognized": 70})
    seed.set_state(store, bad[1], "offline", "lost", T - 3 * HOUR)
    settings = make_settings()
    evaluate(store, T - 30 * 60_000, settings)  # a first cycle half an hour ago: alerts become pending
    expected = compute(store, T, settings.health)
    evaluate(store, T, settings)
    return expected


async def get(client, url):
    resp = await client.get(url, headers=bearer())
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_api_routes_return_what_health_computes(aiohttp_client, store, store_url, evaluated):
    client = await aiohttp_client(make_api_app(store_url, now_ms=T))
    customers = evaluated["customers"]
    assert len({c["color"] for c in customers.values()}) > 1  # the fixture really has good and bad

    listing = {c["id"]: c for c in (await get(client, "/api/v1/customers"))["items"]}
    assert set(listing) == set(customers)
    for cid, want in customers.items():
        got = listing[cid]
        assert (got["health"]["score"], got["health"]["color"], got["health"]["trend"]) == (
            want["score"], want["color"], want["trend"]), cid
        assert got["robots"] == {k: want["robots"][k] for k in ("total", "online", "offline", "stale")}, cid

        page = await get(client, f"/api/v1/customers/{cid}")
        assert page["health"]["score"] == want["score"]
        assert page["breakdown"] == canon(want["breakdown"])
        assert page["facts"] == canon(want["facts"])

        robots = {r["id"]: r for r in (await get(client, f"/api/v1/customers/{cid}/robots"))["items"]}
        mine = [r for r in evaluated["robots"] if r["customer"] == cid]
        assert set(robots) == {r["robot"] for r in mine}
        for r in mine:
            h = robots[r["robot"]]["health"]
            assert (h["state"], h["score"], h["worst"]) == (r["state"], r["score"], r["worst"])
            assert h["subsystems"] == canon(r["subsystems"])
            one = await get(client, f"/api/v1/robots/{r['robot']}")
            assert one["health"] == h

    # the CSV says the same
    resp = await client.get("/api/v1/export/customers.csv", headers=bearer())
    rows = list(csv.DictReader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    assert {r["id"]: (float(r["score"]), r["color"]) for r in rows} == {
        cid: (c["score"], c["color"]) for cid, c in customers.items()}
    assert {r["name"] for r in rows} == {"故宫博物院", "西安碑林", "好乐迪"}


async def test_api_alerts_are_the_engines_alerts(aiohttp_client, store, store_url, evaluated):
    client = await aiohttp_client(make_api_app(store_url, now_ms=T))
    stored = {row[0]: row[1:] for row in store.execute(
        "SELECT id, rule, state, customer, robot, severity FROM alerts")}
    assert stored, "the fixture should raise alerts"
    body = await get(client, "/api/v1/alerts?limit=1000")
    assert {a["id"]: (a["rule"], a["state"], a["customer"], a["robot"], a["severity"]) for a in body["items"]} == stored
    firing = await get(client, "/api/v1/alerts?state=open&customer=bad-museum")
    rule_state_customer = [(s[0], s[1], s[2]) for s in stored.values()]
    assert firing["total"] == sum(1 for _, state, cust in rule_state_customer
                                  if state in ("firing", "acknowledged", "snoozed") and cust == "bad-museum") > 0
    listing = {c["id"]: c for c in (await get(client, "/api/v1/customers"))["items"]}
    assert listing["bad-museum"]["open_alerts"] == firing["total"]
