"""Issue 13, true denominators on the customer page's usage charts: each day per robot in service
that day (from the registry handover or the first day seen), the peers' too; before, every past day
was divided by today's robot count."""

from __future__ import annotations

import datetime as dt

from collector.store.records import RobotRow
from collector.store.sqlite import seed
from collector.store.sqlite.db import connect_writer
from collector.store.sqlite.registry import SqliteRegistryStore
from tests.plugins.api import NOW_MS, bearer, make_api_app

DAY = 86_400_000
TODAY = NOW_MS - NOW_MS % DAY
FIRST = TODAY - 29 * DAY


def _daily(conn, robot, since, n):
    seed.write_windows(conn, [(robot, d + 10 * 3_600_000, d + 11 * 3_600_000, {"usage.interactions": n})
                              for d in range(since, TODAY, DAY)])


async def test_usage_chart_divides_each_day_by_its_robots_in_service(aiohttp_client, tmp_path):
    path = tmp_path / "store.db"
    conn = connect_writer(path)
    seed.add_customer(conn, "grow", "museum", now_ms=NOW_MS)
    seed.add_customer(conn, "peer", "museum", now_ms=NOW_MS)
    for rid, customer in (("g1", "grow"), ("g2", "grow"), ("g3", "grow"), ("g4", "grow"), ("p1", "peer")):
        seed.add_robot(conn, rid, customer, now_ms=NOW_MS)
    _daily(conn, "g1", FIRST - 30 * DAY, 100)
    _daily(conn, "g2", FIRST - 30 * DAY, 100)
    _daily(conn, "g3", TODAY - 5 * DAY, 100)         # handed over 10 days ago, used from 5 days ago
    _daily(conn, "g4", TODAY - 5 * DAY, 100)         # not registered: from its first day seen
    _daily(conn, "p1", FIRST - 30 * DAY, 50)
    conn.close()
    handed = dt.datetime.fromtimestamp((TODAY - 10 * DAY) / 1000, dt.timezone.utc).strftime("%Y-%m-%d")
    SqliteRegistryStore(str(path)).upsert_robots([RobotRow("g3", "grow", "site-1", handed, "")], NOW_MS)

    client = await aiohttp_client(make_api_app(path))
    resp = await client.get("/api/v1/customers/grow", headers=bearer())
    assert resp.status == 200, await resp.text()
    usage = (await resp.json())["usage"]
    day = {d: i for i, d in enumerate(usage["days"])}
    per_robot = usage["volumes"]["usage.interactions"]["per_robot"]
    robots = usage["robots_per_day"]
    assert robots[day[TODAY - 20 * DAY]] == 2 and robots[day[TODAY - 8 * DAY]] == 3
    assert robots[day[TODAY - 2 * DAY]] == 4 and usage["robots"] == 4
    assert per_robot[day[TODAY - 20 * DAY]] == 100.0                 # before: 200 / 4 = 50
    assert per_robot[day[TODAY - 8 * DAY]] == round(200 / 3, 2)      # g3 handed over, not used yet
    assert per_robot[day[TODAY - 2 * DAY]] == 100.0
    assert usage["volumes"]["usage.interactions"]["peers_per_robot"][day[TODAY - 20 * DAY]] == 50.0
    assert usage["peer_robots_per_day"][day[TODAY - 20 * DAY]] == 1
