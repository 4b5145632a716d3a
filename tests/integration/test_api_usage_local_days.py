"""Issue 13, the customer page's usage charts over the customer's local days: a +05:30 (Kolkata) and
a +08:00 (Beijing) customer, each chart day equal to the hand-summed local day of the windows the
test wrote through the store (a window counts in the hour holding its start, an hour in the local
day holding its start), the peers each on their own local day of the same date.  Before, every
chart day was a UTC day (Beijing 08:00 to 08:00)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from collector.app import create_app
from collector.store import open_store
from collector.store.sqlite import seed
from collector.store.sqlite.db import connect_writer
from tests.plugins.api import NOW_MS, api_config, bearer

HOUR = 3_600_000
DAY = 86_400_000
ZONES = {"kol": "Asia/Kolkata", "bj": "Asia/Shanghai"}
ROBOTS = {"kol-1": "kol", "kol-2": "kol", "bj-1": "bj"}
METRIC = "usage.interactions"


def label(ms: int, zone: str) -> int:
    """The local date holding ``ms`` as the API labels it (that date at 00:00 UTC)."""
    d = dt.datetime.fromtimestamp(ms / 1000, ZoneInfo(zone)).date()
    return int(dt.datetime(d.year, d.month, d.day, tzinfo=dt.timezone.utc).timestamp()) * 1000


def windows(until: int) -> list[tuple[str, int, int, dict[str, int]]]:
    """Every 7 hours and 10 minutes for 35 days: windows fall on every hour of the day, the half
    hours around a +05:30 midnight included; counts differ per robot and window."""
    out = []
    for n, robot in enumerate(ROBOTS):
        t = until - 35 * DAY + n * 1_234_567
        i = 0
        while t < until:
            out.append((robot, t, t + 60_000, {METRIC: 3 + (i * 7 + n * 5) % 41, "usage.wakeups": 1 + i % 3}))
            t += 7 * HOUR + 10 * 60_000
            i += 1
    return out


def expected(written, customer: str, metric: str = METRIC) -> dict[int, int]:
    """Hand-summed local days: each window in the local day holding the start of its hour."""
    out: dict[int, int] = {}
    for robot, t0, _t1, counts in written:
        if ROBOTS[robot] == customer:
            key = label(t0 - t0 % HOUR, ZONES[customer])
            out[key] = out.get(key, 0) + counts.get(metric, 0)
    return out


def store(tmp_path, until: int = NOW_MS):
    path = tmp_path / "store.db"
    conn = connect_writer(path)
    for cid, zone in ZONES.items():
        seed.add_customer(conn, cid, "museum", timezone=zone, now_ms=NOW_MS)
    for rid, cid in ROBOTS.items():
        seed.add_robot(conn, rid, cid, now_ms=NOW_MS)
    written = windows(until)
    seed.write_windows(conn, written)
    conn.close()
    return path, written


async def page(client, customer: str) -> dict:
    resp = await client.get(f"/api/v1/customers/{customer}", headers=bearer())
    assert resp.status == 200, await resp.text()
    return (await resp.json())["usage"]


async def test_usage_chart_days_are_the_customers_local_days(aiohttp_client, tmp_path):
    path, written = store(tmp_path)
    client = await aiohttp_client(create_app(api_config(path), open_store(path), clock=lambda: NOW_MS))
    for customer, peer in (("kol", "bj"), ("bj", "kol")):
        zone = ZONES[customer]
        usage = await page(client, customer)
        today = label(NOW_MS, zone)
        assert usage["timezone"] == zone
        assert usage["days"] == [today - (29 - i) * DAY for i in range(30)]
        first = dt.datetime.fromtimestamp(usage["day_starts_ms"][0] / 1000, ZoneInfo(zone))
        assert (first.hour, first.minute) == (0, 0)                     # each day from its local midnight
        for metric in (METRIC, "usage.wakeups"):
            own, theirs = expected(written, customer, metric), expected(written, peer, metric)
            assert usage["volumes"][metric]["total"] == [own.get(d, 0) for d in usage["days"]], metric
            n_own = 2 if customer == "kol" else 1
            assert usage["volumes"][metric]["per_robot"] == [round(own.get(d, 0) / n_own, 2) for d in usage["days"]]
            # the peer on its own local day of the same date
            n_peer = 3 - n_own
            assert usage["volumes"][metric]["peers_per_robot"] == [
                round(theirs.get(d, 0) / n_peer, 2) for d in usage["days"]], metric
        assert usage["robots_per_day"] == [2 if customer == "kol" else 1] * 30
        # the local days are not the UTC days (so this would fail on UTC days)
        utc: dict[int, int] = {}
        for robot, t0, _t1, counts in written:
            if ROBOTS[robot] == customer:
                utc[t0 - t0 % DAY] = utc.get(t0 - t0 % DAY, 0) + counts[METRIC]
        assert usage["volumes"][METRIC]["total"] != [utc.get(d, 0) for d in usage["days"]]


async def test_usage_chart_moves_on_at_the_customers_midnight_with_the_same_snapshot(aiohttp_client, tmp_path):
    """The fleet snapshot is kept for the UTC day; past Kolkata's midnight (18:30 UTC) its chart
    starts a new day at once, and the day just ended (incomplete when the snapshot was built) is
    read fresh, windows written since included."""
    path, written = store(tmp_path)
    clock = [NOW_MS]
    client = await aiohttp_client(create_app(api_config(path), open_store(path), clock=lambda: clock[0]))
    before = await page(client, "kol")
    assert before["days"][-1] == label(NOW_MS, "Asia/Kolkata")
    late = [("kol-1", NOW_MS + 6 * HOUR + 5 * 60_000, NOW_MS + 6 * HOUR + 6 * 60_000, {METRIC: 1000}),   # 23:35 local
            ("kol-2", NOW_MS + 6 * HOUR + 45 * 60_000, NOW_MS + 6 * HOUR + 46 * 60_000, {METRIC: 500})]  # 00:15, next day
    conn = connect_writer(path)
    seed.write_windows(conn, late)
    conn.close()
    clock[0] = NOW_MS + 7 * HOUR  # 00:30 in Kolkata the next day, 19:00 UTC the same UTC day
    after = await page(client, "kol")
    today = label(clock[0], "Asia/Kolkata")
    assert today == before["days"][-1] + DAY and after["days"] == before["days"][1:] + [today]
    own = expected(written + late, "kol")
    # the 18:00 UTC hour holds both late windows: it began at 23:30 local, so both count for the day
    # that just ended, the new day has nothing yet
    assert own[before["days"][-1]] - expected(written, "kol")[before["days"][-1]] == 1500
    assert after["volumes"][METRIC]["total"] == [own.get(d, 0) for d in after["days"]]
    assert after["volumes"][METRIC]["total"][-1] == 0
    assert after["volumes"][METRIC]["peers_per_robot"][:-1] == before["volumes"][METRIC]["peers_per_robot"][1:]


async def test_robot_page_days_are_its_customers_local_days(aiohttp_client, tmp_path):
    """The robot page's 7 days of usage and skills: its customer's local days (Kolkata, +05:30)."""
    path, written = store(tmp_path)
    conn = connect_writer(path)
    skill = [("kol-1", NOW_MS - k * 5 * HOUR - 20 * 60_000, NOW_MS - k * 5 * HOUR, {"skill.guide": k + 1})
             for k in range(40)]
    seed.write_windows(conn, skill)
    conn.close()
    client = await aiohttp_client(create_app(api_config(path), open_store(path), clock=lambda: NOW_MS))
    resp = await client.get("/api/v1/robots/kol-1", headers=bearer())
    assert resp.status == 200, await resp.text()
    usage = (await resp.json())["usage"]
    today = label(NOW_MS, "Asia/Kolkata")
    assert usage["timezone"] == "Asia/Kolkata" and usage["days"] == [today - (6 - i) * DAY for i in range(7)]
    for metric in (METRIC, "skill.guide"):
        own: dict[int, int] = {}
        for robot, t0, _t1, counts in written + skill:
            if robot == "kol-1":
                key = label(t0 - t0 % HOUR, "Asia/Kolkata")
                own[key] = own.get(key, 0) + counts.get(metric, 0)
        assert usage["metrics"][metric] == [own.get(d, 0) for d in usage["days"]], metric


async def test_score_history_is_the_last_30_local_days_ahead_of_utc(aiohttp_client, tmp_path):
    """A +14 customer's today is tomorrow in UTC: its history is its last 30 local days, today's
    included (a UTC cut-off gave 31, the oldest one too many)."""
    path = tmp_path / "store.db"
    conn = connect_writer(path)
    seed.add_customer(conn, "kiri", "museum", timezone="Pacific/Kiritimati", now_ms=NOW_MS)
    today = label(NOW_MS, "Pacific/Kiritimati")
    assert today == NOW_MS - NOW_MS % DAY + DAY
    conn.executemany("INSERT INTO score_history (customer, day_ms, score, color) VALUES ('kiri', ?, ?, 'green')",
                     [(today - k * DAY, 90.0 - k) for k in range(40)])
    conn.close()
    client = await aiohttp_client(create_app(api_config(path), open_store(path), clock=lambda: NOW_MS))
    resp = await client.get("/api/v1/customers/kiri", headers=bearer())
    assert resp.status == 200, await resp.text()
    history = (await resp.json())["score_history"]
    assert [h["day_ms"] for h in history] == [today - (29 - i) * DAY for i in range(30)]
