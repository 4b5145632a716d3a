"""Issue 14, must-show: funnel figures equal the summed counters.  Through the real store (windows
written into the rollups as the store writes them), the real health cycle and the real app over
aiohttp_client.  The test keeps every window it wrote and sums them itself, per customer, over the
customer's own local dates (zoneinfo, not the code under test); the API's funnels, per customer and
per scene, must equal those sums.  Also: the lifecycle stage on the customer JSON and its filter,
and the below-average list."""

from __future__ import annotations

import datetime as dt
import random
import statistics
from zoneinfo import ZoneInfo

import pytest

from collector.app import create_app
from collector.store import open_store
from collector.store.sqlite import seed
from collector.store.sqlite.db import connect_writer
from tests.plugins.api import api_config, bearer
from tests.plugins.health import DAY, HOUR, T, evaluate, make_settings

NOW = T + 4 * HOUR  # 2026-01-01 12:00 Beijing, 04:00 UTC, 2025-12-31 23:00 New York
VOLUMES = ("usage.foot_traffic", "usage.solicitations", "usage.wakeups", "usage.interactions")
#: customer -> (scene, time zone, robots, conversion it is built around)
BOOK = {
    "m-bj": ("museum", "Asia/Shanghai", 2, 0.30),
    "m-utc": ("museum", "UTC", 1, 0.20),
    "m-ny": ("museum", "America/New_York", 1, 0.25),
    "m-bj2": ("museum", "Asia/Shanghai", 1, 0.10),
    "k-bj": ("ktv", "Asia/Shanghai", 1, 0.05),
}
HISTORY_DAYS = 75  # back to mid-October: a period across New York's end of daylight saving (2 November)


def _counts(rng: random.Random, conversion: float) -> dict[str, int]:
    foot = rng.randint(20, 200)
    solicit = rng.randint(0, foot)
    return {"usage.foot_traffic": foot, "usage.solicitations": solicit,
            "usage.wakeups": rng.randint(0, solicit + 5), "usage.interactions": int(foot * conversion) + rng.randint(0, 3),
            "skill.guide": rng.randint(0, 9), "asr.not_recognised": rng.randint(0, 2)}


@pytest.fixture
def written(tmp_path):
    """The store with the book's history; returns (db path, [(customer, t0, counts)])."""
    db = tmp_path / "store.db"
    conn = connect_writer(db)
    rng = random.Random(14)
    windows, kept = [], []
    for cid, (scene, zone, robots, conversion) in BOOK.items():
        seed.add_customer(conn, cid, scene, timezone=zone, contract_start="2024-01-01", contract_end="2027-06-30",
                          tier="high" if cid.endswith("bj") else "mid", csm="alice", now_ms=T)
        for i in range(robots):
            rid = f"{cid}-r{i}"
            seed.add_robot(conn, rid, cid, scene=scene, first_seen_ms=T - HISTORY_DAYS * DAY, now_ms=NOW)
            for h in range(HISTORY_DAYS * 24 + 4):
                if rng.random() < 0.35:
                    t0 = T - HISTORY_DAYS * DAY + h * HOUR + rng.randint(0, 50) * 60_000
                    counts = _counts(rng, conversion)
                    windows.append((rid, t0, t0 + 60_000, counts))
                    kept.append((cid, t0, counts))
    seed.write_windows(conn, windows)
    evaluate(conn, NOW, make_settings())
    conn.close()
    return db, kept


def summed(kept, cid: str, first: str, last: str) -> dict[str, int]:
    """The test's own sum: windows of ``cid`` whose start falls on a local date first..last."""
    zone = ZoneInfo(BOOK[cid][1])
    lo, hi = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    out = {m.split(".")[1]: 0 for m in VOLUMES}
    for c, t0, counts in kept:
        if c == cid and lo <= dt.datetime.fromtimestamp(t0 / 1000, zone).date() <= hi:
            for m in VOLUMES:
                out[m.split(".")[1]] += counts[m]
    return out


def by_hand(v: dict[str, int]) -> tuple[list, float | None]:
    steps = ["foot_traffic", "solicitations", "wakeups", "interactions"]
    rates = [None] + [round(100 * v[b] / v[a], 2) if v[a] else None for a, b in zip(steps, steps[1:])]
    conv = round(100 * v["interactions"] / v["foot_traffic"], 2) if v["foot_traffic"] else None
    return [{"stage": s, "volume": v[s], "rate": r} for s, r in zip(steps, rates)], conv


@pytest.fixture
async def client(aiohttp_client, written):
    db, _ = written
    return await aiohttp_client(create_app(api_config(db), open_store(db), clock=lambda: NOW))


async def get(client, path: str, status: int = 200):
    resp = await client.get(path, headers=bearer())
    assert resp.status == status, await resp.text()
    return await resp.json()


#: each customer's last 30 complete local days at NOW
DEFAULT = {"Asia/Shanghai": ("2025-12-02", "2025-12-31"), "UTC": ("2025-12-02", "2025-12-31"),
           "America/New_York": ("2025-12-01", "2025-12-30")}


async def test_api_funnel_on_the_customer_page_equals_the_summed_counters(client, written):
    _, kept = written
    for cid, (scene, zone, robots, _) in BOOK.items():
        page = await get(client, f"/api/v1/customers/{cid}")
        f = page["funnel"]
        first, last = DEFAULT[zone]
        want = summed(kept, cid, first, last)
        assert (f["from"], f["to"], f["days"], f["timezone"]) == (first, last, 30, zone), cid
        assert f["volumes"] == want, cid
        assert min(want.values()) > 0
        stages, conv = by_hand(want)
        assert f["stages"] == stages and f["conversion"] == conv
        assert (f["robots"], f["robot_days"]) == (robots, 30 * robots)
        # the health cycle judged the same 30 days (low_conversion reads facts.funnel)
        assert page["facts"]["funnel"]["volumes"] == want


async def test_api_funnel_any_period_of_local_days_across_daylight_saving(client, written):
    """New York left daylight saving on 2 November: the period's start is at UTC-4, its end at UTC-5."""
    _, kept = written
    for cid, first, last in (("m-ny", "2025-10-25", "2025-11-08"), ("m-bj", "2025-11-30", "2025-11-30"),
                             ("m-utc", "2025-10-20", "2025-12-31"), ("k-bj", "2026-01-01", "2026-01-01")):
        f = await get(client, f"/api/v1/customers/{cid}/funnel?from={first}&to={last}")
        assert f["volumes"] == summed(kept, cid, first, last), (cid, first, last)
        assert f["days"] == (dt.date.fromisoformat(last) - dt.date.fromisoformat(first)).days + 1


async def test_api_funnel_per_scene_sums_its_customers_and_takes_their_median(client, written):
    _, kept = written
    body = await get(client, "/api/v1/funnel")
    scenes = {s["scene"]: s for s in body["scenes"]}
    museum = [c for c, b in BOOK.items() if b[0] == "museum"]
    own = {c: summed(kept, c, *DEFAULT[BOOK[c][1]]) for c in BOOK}
    total = {k: sum(own[c][k] for c in museum) for k in own["m-bj"]}
    assert scenes["museum"]["volumes"] == total and scenes["museum"]["customers"] == 4
    assert scenes["museum"]["conversion"] == by_hand(total)[1]
    assert scenes["museum"]["median_conversion"] == round(statistics.median(by_hand(own[c])[1] for c in museum), 2)
    assert scenes["ktv"]["volumes"] == own["k-bj"]
    # every customer's own funnel, lowest conversion first
    rows = body["customers"]
    assert [r["id"] for r in rows] == sorted(BOOK, key=lambda c: by_hand(own[c])[1])
    assert all(r["volumes"] == own[r["id"]] for r in rows)
    only = await get(client, "/api/v1/funnel?scene=ktv&from=2025-12-10&to=2025-12-12")
    assert [s["scene"] for s in only["scenes"]] == ["ktv"]
    assert only["customers"][0]["volumes"] == summed(kept, "k-bj", "2025-12-10", "2025-12-12")


@pytest.mark.parametrize("query, message", [
    ("from=2025-12-01", "from and to go together"), ("from=2025-12-05&to=2025-12-01", "to must not be before from"),
    ("from=2025-13-01&to=2025-12-31", "from must be a date"), ("from=2024-01-01&to=2025-12-31", "shorter than 400"),
])
async def test_api_funnel_refuses_bad_periods(client, query, message):
    body = await get(client, f"/api/v1/customers/m-bj/funnel?{query}", 400)
    assert message in body["error"]["message"]
    assert message in (await get(client, f"/api/v1/funnel?{query}", 400))["error"]["message"]
    await get(client, "/api/v1/customers/nobody/funnel", 404)


async def test_api_lifecycle_on_the_customers_and_filtered(client, written):
    db, _ = written
    conn = connect_writer(db)
    conn.execute("UPDATE customers SET contract_end = '2026-02-10' WHERE id = 'm-utc'")  # renewal due
    evaluate(conn, NOW + 60_000, make_settings())
    conn.close()
    listed = {c["id"]: c for c in (await get(client, "/api/v1/customers"))["items"]}
    stages = {c: listed[c]["lifecycle"] for c in BOOK}
    # live 75 days (growth, or decline when a random week fell): only m-utc's contract is near its end
    assert stages["m-utc"] == "renewal" and set(stages.values()) - {"renewal"} <= {"growth", "decline"}
    assert listed["m-utc"]["lifecycle_reason"] == "contract ends in 40 days (2026-02-10), no renewal recorded yet"
    page = await get(client, "/api/v1/customers/m-utc")
    assert (page["lifecycle"], page["facts"]["lifecycle"]["code"]) == ("renewal", "renewal_due")
    renewal = await get(client, "/api/v1/customers?lifecycle=renewal")
    assert [c["id"] for c in renewal["items"]] == ["m-utc"] and renewal["total"] == 1
    assert (await get(client, "/api/v1/customers?lifecycle=maturity"))["total"] == 0
    growing = await get(client, "/api/v1/customers?lifecycle=growth")
    assert [c["id"] for c in growing["items"]] == sorted((c for c, s in stages.items() if s == "growth"),
                                                         key=lambda c: (listed[c]["health"]["score"], c))
    resp = await client.get("/api/v1/export/customers.csv?lifecycle=renewal", headers=bearer())
    lines = (await resp.read()).decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and lines[0].endswith(",lifecycle") and lines[1].startswith("m-utc,")
    assert lines[1].endswith(",renewal")
    bad = await get(client, "/api/v1/customers?lifecycle=asleep", 400)
    assert "lifecycle must be one of signing, launch, growth" in bad["error"]["message"]


async def test_api_below_average_lists_customers_under_their_group_mean(client, written):
    db, _ = written
    conn = connect_writer(db)
    for cid, score in {"m-bj": 80.0, "m-utc": 60.0, "m-ny": 90.0, "m-bj2": 40.0, "k-bj": 55.0}.items():
        conn.execute("UPDATE customer_health SET score = ? WHERE customer = ?", (score, cid))
    conn.close()
    scene = await get(client, "/api/v1/below-average")
    # museum mean (80 + 60 + 90 + 40) / 4 = 67.5: m-bj2 27.5 under, m-utc 7.5; k-bj alone in ktv
    assert [(i["id"], i["average"], i["gap"]) for i in scene["items"]] == [("m-bj2", 67.5, 27.5), ("m-utc", 67.5, 7.5)]
    assert {g["scene"]: g["average"] for g in scene["groups"]} == {"ktv": 55.0, "museum": 67.5}
    tier = await get(client, "/api/v1/below-average?by=tier")
    # high (ids ending "bj"): m-bj 80, k-bj 55 -> mean 67.5; mid: m-utc 60, m-ny 90, m-bj2 40 -> mean 63.33
    assert [(i["id"], i["group"], i["gap"]) for i in tier["items"]] == [("m-bj2", "mid", 23.3), ("k-bj", "high", 12.5),
                                                                       ("m-utc", "mid", 3.3)]
    await get(client, "/api/v1/below-average?by=csm", 400)
