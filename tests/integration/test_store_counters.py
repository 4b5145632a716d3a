"""Must-show 7: the counters route answers from rollups where the range allows, with the same
sums as the raw windows, for ragged ranges and windows that cross hour and day boundaries (on each
store backend)."""

from __future__ import annotations

import random

from collector.config import load
from collector.store import open_store
from collector.app import create_app
from collector.store.sqlite.apply import apply_items
from collector.store.sqlite.counters import raw_counters, robot_counters
from collector.store.records import Queued, Telemetry
from protocol.codec import Batch, Window
from tests.plugins.api import connect_store

HOUR = 3_600_000
DAY = 24 * HOUR
BASE = 1_767_225_600_000  # 2026-01-01T00:00Z


def _fill(db, robots=("r1", "r2"), days=9, seed=11):
    """Windows of mixed spans (10 s .. 5 h, some crossing hour and day edges), gaps between them."""
    rng = random.Random(seed)
    conn = connect_store(db)
    items = []
    for robot in robots:
        t, seq, windows = BASE - 3 * HOUR + rng.randint(0, HOUR), 0, []
        while t < BASE + days * DAY:
            span = rng.choice([10_000, 10_000, 60_000, 7 * 60_000, 2 * HOUR + 17_000, 5 * HOUR])
            seq += 1
            windows.append(Window(seq, t, t + span, {"usage.interactions": rng.randint(0, 9),
                                                     "nav.tasks": rng.randint(0, 3)}, {"sys.cpu_pct": 1.0}))
            t += span + rng.choice([0, 0, 5_000, 40 * 60_000])
        for i in range(0, len(windows), 500):
            chunk = tuple(windows[i:i + 500])
            items.append(Queued.of(Telemetry.of(Batch(robot, "acme", "s1", "00000000000000aa", BASE, chunk)),
                                   BASE + days * DAY))
    conn.execute("BEGIN")
    apply_items(conn, items, 100)
    conn.execute("COMMIT")
    conn.close()


def test_store_counters_equal_raw_sums_for_random_ranges(store_url):
    db = store_url
    _fill(db)
    conn = connect_store(db)
    rng = random.Random(5)
    used_rollups = 0
    for _ in range(300):
        a = BASE - 4 * HOUR + rng.randint(0, 10 * DAY)
        b = a + rng.choice([rng.randint(1, HOUR), rng.randint(HOUR, DAY), rng.randint(DAY, 8 * DAY)])
        for robot in ("r1", "r2"):
            got = robot_counters(conn, robot, a, b)
            assert got["counters"] == raw_counters(conn, robot, a, b), (robot, a, b, got["sources"])
            used_rollups += got["sources"]["days"] + got["sources"]["hours"]
    assert used_rollups > 0


def test_store_counters_whole_days_come_from_daily_rollups(store_url):
    db = store_url
    _fill(db, robots=("r1",))
    conn = connect_store(db)
    got = robot_counters(conn, "r1", BASE + 90 * 60_000, BASE + 5 * DAY + 30 * 60_000)
    assert got["sources"]["days"] == 4          # days 2..5 whole
    assert got["sources"]["hours"] == 22        # 02:00-24:00 of day 1
    assert got["sources"]["raw_windows"] < 20   # only the ragged half hours at each end
    assert got["counters"] == raw_counters(conn, "r1", BASE + 90 * 60_000, BASE + 5 * DAY + 30 * 60_000)


async def test_store_counters_route_json_and_errors(tmp_path, store_url, aiohttp_client):
    db = store_url
    _fill(db, robots=("r1",), days=3)
    cfgfile = tmp_path / "c.toml"
    cfgfile.write_text(f'[collector]\ndb = "{db}"\n[[http.tokens]]\ntoken = "viewer-token-1"\nrole = "viewer"\n')
    config = load(cfgfile, env={})
    app = create_app(config, open_store(config.collector.db), clock=lambda: BASE + 3 * DAY)
    client = await aiohttp_client(app)
    auth = {"Authorization": "Bearer viewer-token-1"}
    resp = await client.get(f"/api/v1/robots/r1/counters?from={BASE}&to={BASE + 2 * DAY + 5}", headers=auth)
    assert resp.status == 200
    body = await resp.json()
    assert body["robot"] == "r1" and body["sources"]["days"] == 2
    assert body["counters"] == raw_counters(connect_store(db), "r1", BASE, BASE + 2 * DAY + 5)
    resp = await client.get("/api/v1/robots/r1/counters", headers=auth)  # default: the last 24 h
    assert (await resp.json())["from"] == BASE + 2 * DAY
    for query, status in (("from=abc&to=5", 400), ("from=10&to=5", 400), ("from=-1&to=5", 400),
                          ("from=0&to=99999999999999", 400)):
        resp = await client.get(f"/api/v1/robots/r1/counters?{query}", headers=auth)
        assert resp.status == status, query
        assert (await resp.json())["error"]["status"] == status
    resp = await client.get("/api/v1/robots/ghost/counters?from=0&to=5", headers=auth)
    assert resp.status == 404
    resp = await client.get("/api/v1/robots/r1/counters?from=0&to=5")
    assert resp.status == 401
