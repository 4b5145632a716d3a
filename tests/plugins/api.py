"""Fixtures for the api tests: a store seeded with known data, the app with a fixed clock, and a
live server on a free loopback port (for schemathesis and for Chromium)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from collector.config import load_mapping
from collector.app import create_app
from collector.store import open_store
from collector.store.sqlite import customer_usage
from collector.store.sqlite.db import connect_writer
from protocol.config import Values

NOW_MS = 1_795_780_800_000  # 2026-11-27T12:00:00Z, a fixed noon
DAY_MS = 86_400_000
VIEWER = "viewer-token-123"
ADMIN = "admin-token-456"
#: an admin token that names its person (issue 14): what it does is attributed to 王芳
CSM_ADMIN = "csm-token-789"
CSM_PERSON = "王芳"

CUSTOMERS = [
    # id, name, scene, tier, csm, start, end, arr
    ("acme-museum", "上海博物馆", "museum", "high", "alice", "2025-03-01", "2027-02-28", 120000.0),
    ("peer-museum", "南京博物院", "museum", "mid", "bob", "2025-06-01", "2026-05-31", 60000.0),
    ("kiwi-ktv", "欢乐KTV 朝阳店", "ktv", "mid", "bob", "2025-01-01", "2026-12-31", 30000.0),
    ("sky-scenic", "黄山风景区", "scenic", "high", "alice", "2024-09-01", "2026-08-31", 90000.0),
    ("new-bank", "=招商银行", "bank", "tech", "carol", None, None, 0.0),
]
#: customer -> (score, color, trend, robots online, offline, stale); new-bank has no health yet
HEALTH = {
    "acme-museum": (86.5, "green", "up", 2, 1, 0),
    "peer-museum": (91.0, "green", "flat", 1, 0, 0),
    "kiwi-ktv": (35.25, "red", "down", 0, 1, 1),
    "sky-scenic": (62.0, "yellow", "down", 1, 0, 0),
}
ROBOTS = [
    # id, customer, site, state
    ("r-001", "acme-museum", "hall-a", "online"),
    ("r-002", "acme-museum", "hall-a", "offline"),
    ("r-003", "acme-museum", "hall-b", "online"),
    ("p-001", "peer-museum", "main", "online"),
    ("k-001", "kiwi-ktv", "room-1", "offline"),
    ("k-002", "kiwi-ktv", "room-2", "stale"),
    ("s-001", "sky-scenic", "gate", "online"),
    ("b-001", "new-bank", "lobby", "online"),
]
#: acme-museum's success goals: metric, target, start, due (one of them over already)
GOALS = [("conversion", 45.0, "2026-11-01", "2026-12-31"),
         ("interactions_per_robot_day", 150.0, "2026-11-10", "2027-01-31"),
         ("skill:guide", 2.0, "2026-10-01", "2026-10-31")]
SUBSYSTEMS = ("network", "vision", "touch", "nav", "asr", "nlp", "tts")


@dataclass
class Seed:
    path: Path
    now_ms: int = NOW_MS
    alerts: dict[str, int] = field(default_factory=dict)

    def connect(self):
        return connect_store(self.path)


def usage_value(robot: str, metric: str, day: int) -> int:
    """Deterministic daily usage: different per robot, metric and day (day 0 = 29 days ago)."""
    return (sum(map(ord, robot)) * 7 + len(metric) * 13 + day * 11) % 400 + 10


def connect_store(db):
    """A write connection to the store ``db`` names: a SQLite file, or a PostgreSQL database (its
    connection takes the same SQL: collector/store/postgres/db.py)."""
    if str(db).startswith("postgresql://"):
        from collector.store.postgres.db import connect

        return connect(str(db))
    return connect_writer(db)


def seed_store(path: Path | str, now_ms: int = NOW_MS) -> Seed:
    """Customers, robots, health, 30 days of usage, alerts with timelines, feed events (``path``:
    a SQLite file or a ``postgresql://`` URL)."""
    seed = Seed(path, now_ms)
    conn = connect_store(path)
    conn.execute("BEGIN")
    for cid, name, scene, tier, csm, start, end, arr in CUSTOMERS:
        conn.execute("INSERT INTO customers (id, name, scene, tier, contract_start, contract_end, arr, csm, "
                     "created_ms, updated_ms) VALUES (?,?,?,?,?,?,?,?,?,?)",
                     (cid, name, scene, tier, start, end, arr, csm, now_ms - 90 * DAY_MS, now_ms))
    scenes = {c[0]: c[2] for c in CUSTOMERS}
    for i, (rid, cid, site, state) in enumerate(ROBOTS):
        conn.execute("INSERT INTO robots (id, customer, site, scene, agent_version, first_seen_ms, last_seen_ms, "
                     "last_window_ms, state, state_ms) VALUES (?,?,?,?,?,?,?,?,?,?)",
                     (rid, cid, site, scenes[cid], "0.1.0", now_ms - 60 * DAY_MS, now_ms - 1000 * i,
                      now_ms - 10_000 * i, "online" if state == "stale" else state, now_ms - DAY_MS))
        if cid == "new-bank":
            continue
        subs = {s: {"state": "ok", "rate_1h": 0.0} for s in SUBSYSTEMS}
        if rid == "k-001":
            subs["asr"] = {"state": "crit", "rate_1h": 0.4}
            subs["network"] = {"state": "warn", "rate_1h": 0.1}
        if rid == "k-002":
            subs = {s: {"state": "stale"} for s in SUBSYSTEMS}
        score = {"k-001": 20.0, "k-002": 0.0, "r-002": 55.5}.get(rid, 95.0)
        conn.execute("INSERT INTO robot_health (robot, customer, computed_ms, state, score, worst, subsystems) "
                     "VALUES (?,?,?,?,?,?,?)", (rid, cid, now_ms - 5000, state, score,
                                                "asr" if rid == "k-001" else None, json.dumps(subs)))
        first = now_ms - now_ms % DAY_MS - 29 * DAY_MS
        for day in range(30):
            for metric in ("usage.foot_traffic", "usage.solicitations", "usage.wakeups", "usage.interactions",
                           "skill.guide"):
                conn.execute("INSERT INTO counter_day (robot, metric, bucket_ms, total) VALUES (?,?,?,?)",
                             (rid, metric, first + day * DAY_MS, usage_value(rid, metric, day)))
    customer_usage.rebuild(conn)  # rows written straight into counter_day: the store would have kept it
    for metric, target, start, due in GOALS:  # success goals (issue 14), shown on acme-museum's page
        conn.execute("INSERT INTO customer_goals (customer, metric, target, start, due, note, actor, source, "
                     "created_ms, updated_ms) VALUES ('acme-museum',?,?,?,?,'','wang.fang','import',?,?)",
                     (metric, target, start, due, now_ms - 30 * DAY_MS, now_ms - 30 * DAY_MS))
    for cid, (score, color, trend, online, offline, stale) in HEALTH.items():
        breakdown = [{"measure": "robot_health", "score": score, "weight": 0.5, "fact": "mean robot score"},
                     {"measure": "usage", "score": 70.0, "weight": 0.5, "fact": "interactions per robot per day"}]
        conn.execute("INSERT INTO customer_health (customer, computed_ms, score, color, trend, robots_total, "
                     "robots_online, robots_offline, robots_stale, color_since_ms, breakdown, facts) "
                     "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                     (cid, now_ms - 5000, score, color, trend, online + offline + stale, online, offline, stale,
                      now_ms - 3 * DAY_MS, json.dumps(breakdown), json.dumps({"usage": {"per_robot": 321}})))
        for back in range(30):
            day = now_ms - now_ms % DAY_MS - back * DAY_MS
            conn.execute("INSERT INTO score_history (customer, day_ms, score, color) VALUES (?,?,?,?)",
                         (cid, day, score - back * 0.5, color))
    alerts = [
        # key, rule, customer, site, robot, severity, state, opened (ms ago)
        ("ktv_offline", "robot_offline", "kiwi-ktv", "room-1", "k-001", "critical", "firing", 3_600_000),
        ("ktv_asr", "subsystem_degraded", "kiwi-ktv", "room-1", "k-001", "warning", "acknowledged", 7_200_000),
        ("acme_usage", "usage_drop", "acme-museum", None, None, "warning", "resolved", 5 * DAY_MS),
        ("sky_renewal", "renewal_risk", "sky-scenic", None, None, "warning", "firing", DAY_MS),
        ("acme_pending", "robot_offline", "acme-museum", "hall-a", "r-002", "critical", "pending", 60_000),
    ]
    for key, rule, cid, site, robot, severity, state, ago in alerts:
        opened = now_ms - ago
        alert_id = conn.execute(
            "INSERT INTO alerts (rule, subject, customer, site, robot, severity, state, summary, facts, "
            "opened_ms, updated_ms, fired_ms, resolved_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
            (rule, robot or cid, cid, site, robot, severity, state, f"{rule} on {robot or cid} 机器人",
             json.dumps({"ago_ms": ago}), opened, opened, None if state == "pending" else opened + 1000,
             opened + 2000 if state == "resolved" else None)).fetchone()[0]
        seed.alerts[key] = alert_id
        conn.execute("INSERT INTO alert_events (alert_id, ts_ms, from_state, to_state, actor) VALUES (?,?,?,?,?)",
                     (alert_id, opened, None, "pending", "rules"))
        if state != "pending":
            conn.execute("INSERT INTO alert_events (alert_id, ts_ms, from_state, to_state, actor) "
                         "VALUES (?,?,?,?,?)", (alert_id, opened + 1000, "pending", "firing", "rules"))
        if state in ("acknowledged", "resolved"):
            conn.execute("INSERT INTO alert_events (alert_id, ts_ms, from_state, to_state, actor) "
                         "VALUES (?,?,?,?,?)", (alert_id, opened + 2000, "firing", state,
                                                "ops-admin" if state == "acknowledged" else "rules"))
    for i in range(3):
        conn.execute("INSERT INTO feed_events (ts_ms, kind, data) VALUES (?,?,?)",
                     (now_ms - 1000 + i, "customer_health",
                      json.dumps({"customer": "kiwi-ktv", "color": "red", "from_color": "yellow", "score": 35.25})))
    conn.execute("COMMIT")
    conn.close()
    return seed


def api_config(db: Path, cors_origins: list[str] | None = None, **http) -> Values:
    return load_mapping({"collector": {"db": str(db)},
            "http": {"listen": "127.0.0.1:0", "cors_origins": cors_origins or [],
                     "feed_poll_ms": 50, "feed_heartbeat_s": 1,
                     "tokens": [{"token": VIEWER, "role": "viewer", "name": "cs-viewer"},
                                {"token": ADMIN, "role": "admin", "name": "ops-admin"},
                                {"token": CSM_ADMIN, "role": "admin", "name": "wang-fang-laptop",
                                 "person": CSM_PERSON}], **http}})


def make_api_app(db: Path, now_ms: int = NOW_MS, **kw) -> web.Application:
    """The HTTP app alone: no health loop, so the seeded health tables stay as seeded."""
    return create_app(api_config(db, **kw), open_store(db), clock=lambda: now_ms)


@pytest.fixture
def api_seed(store_url) -> Seed:
    """The seeded store, on each backend (``store_url``)."""
    return seed_store(store_url)


@pytest.fixture
async def api_client(aiohttp_client, api_seed):
    return await aiohttp_client(make_api_app(api_seed.path))


def bearer(token: str = VIEWER) -> dict:
    return {"Authorization": f"Bearer {token}"}


class LiveServer:
    """The app on a free loopback port, in its own thread and event loop (for sync clients)."""

    def __init__(self, app: web.Application):
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.runner = web.AppRunner(app)
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        self.thread.start()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]

        async def up():
            await self.runner.setup()
            await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

        asyncio.run_coroutine_threadsafe(up(), self.loop).result(30)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def live_api(api_seed):
    server = LiveServer(make_api_app(api_seed.path)).start()
    yield server
    server.stop()
