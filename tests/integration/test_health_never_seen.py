"""Issue 13, robots handed over and never switched on: a robot of the asset registry
(``import-robots``, ``activated``) that never connected is in service from its handover (its
robot-days count, so the customer's per-robot figure shows the idle robot) and is listed as never
seen in the usage facts; the customer page's chart counts it too.  Before, such a robot did not
exist for health: the customer read as fully used."""

import pytest

import json

from collector.app import create_app
from collector.store import open_store
from collector.store.records import RobotRow
from collector.store.sqlite.registry import SqliteRegistryStore
from tests.plugins.api import api_config, bearer
from tests.plugins.health import DAY, HOUR, T, daily, evaluate, make_settings

pytestmark = pytest.mark.sqlite_only("not yet on PostgreSQL: the registry handover test writes through SqliteRegistryStore")


def facts(store, cid):
    return json.loads(store.execute("SELECT facts FROM customer_health WHERE customer=?", (cid,)).fetchone()[0])


def registry(tmp_path, *rows):
    SqliteRegistryStore(str(tmp_path / "store.db")).upsert_robots([RobotRow(*r, "") for r in rows], T)


def test_registered_robot_never_seen_counts_from_its_handover(store, fleet, tmp_path):
    a, b = fleet("acme", 2)
    for rid in (a, b):
        daily(store, rid, T - 30 * DAY, 30, {"usage.interactions": 1000, "usage.foot_traffic": 3000})
    registry(tmp_path, (a, "acme", "site-1", "2025-10-01"),          # connected: not "never seen"
             ("acme-ghost", "acme", "hall-2", "2025-12-22"),          # handed over 10 local days ago
             ("acme-later", "acme", "hall-2", "2026-01-05"))          # handed over next week: not yet
    evaluate(store, T + 2 * HOUR, make_settings())                    # 1 January 10:00 Beijing
    use = facts(store, "acme")["usage"]
    assert use["robot_days_30d"] == 2 * 30 + 10
    assert use["interactions_per_robot_day_30d"] == round(60_000 / 70, 1)
    assert use["never_seen"] == [{"robot": "acme-ghost", "site": "hall-2", "activated": "2025-12-22"}]
    # no robot health for it: nothing was ever heard from it
    assert store.execute("SELECT count(*) FROM robot_health WHERE robot = 'acme-ghost'").fetchone()[0] == 0


async def test_usage_chart_counts_the_never_seen_robot(aiohttp_client, store, fleet, tmp_path):
    a, b = fleet("acme", 2)
    for rid in (a, b):
        daily(store, rid, T - 30 * DAY, 30, {"usage.interactions": 1000})
    registry(tmp_path, ("acme-ghost", "acme", "hall-2", "2025-12-22"))
    path = tmp_path / "store.db"
    client = await aiohttp_client(create_app(api_config(path), open_store(path), clock=lambda: T + 2 * HOUR))
    resp = await client.get("/api/v1/customers/acme", headers=bearer())
    assert resp.status == 200, await resp.text()
    usage = (await resp.json())["usage"]
    # days: 3 December .. 1 January (Beijing); the ghost from 22 December on
    assert usage["robots_per_day"] == [2] * 19 + [3] * 11
    assert usage["volumes"]["usage.interactions"]["per_robot"][-2] == round(2000 / 3, 2)
