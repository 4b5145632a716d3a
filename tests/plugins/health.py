"""Fixtures for the health tests: a real store (SQLite and PostgreSQL: the ``store_url`` parameter), parsed settings, and history writers that
put counters into the rollups the way the store does (collector.store.sqlite.seed), and the
evaluation cycle run on a test's connection (``evaluate``, ``compute``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from collector.alerts.notify_settings import parse as parse_notify
from collector.alerts.settings import parse as parse_alerts
from collector.alerts import evaluator
from collector.health import cycle
from collector.health.settings import parse as parse_health
from collector.store.sqlite import seed
from collector.store.sqlite.db import connect_writer
from collector.store.sqlite.shared import EvaluatorParts
from protocol.config import Values

HOUR = 3_600_000
DAY = 86_400_000
#: 2026-01-01T00:00:00Z, a Thursday: every test's history ends near here
T = 1_767_225_600_000


def parts(conn) -> EvaluatorParts:
    """The evaluator's store parts on a test's own connection (the test keeps reading it with SQL)."""
    return EvaluatorParts(conn)


def evaluate(conn, now_ms: int, settings: dict, memory=None) -> dict:
    """One evaluation cycle (``collector.alerts.evaluator.evaluate``) on ``conn``."""
    return evaluator.evaluate(parts(conn), now_ms, settings, memory)


def compute(conn, now_ms: int, hs: dict, memory=None) -> dict:
    """Health's read and compute (``collector.health.cycle.compute``) on ``conn``, no writes."""
    return cycle.compute(parts(conn).health, now_ms, hs, memory)


#: ``[health]`` that judges a subsystem on its rate as counted, without a confidence bound or a
#: state margin: for tests of the alert engine's own thresholds and durations
EXACT = {"confidence": 0.0, "state_margin": 0.0}


def make_settings(health: dict | None = None, alerts: dict | None = None, notify: dict | None = None) -> Values:
    """``[health]``, ``[alerts]`` and ``[notify]`` checked as the collector's config checks them."""
    return Values(health=parse_health(health), alerts=parse_alerts(alerts), notify=parse_notify(notify))


def date_in(days: int, now: int = T) -> str:
    return dt.datetime.fromtimestamp((now + days * DAY) / 1000, dt.timezone.utc).strftime("%Y-%m-%d")


def split(counts: dict[str, int], parts: int, i: int) -> dict[str, int]:
    """The i-th of ``parts`` windows' share of ``counts`` (remainders go to the first windows)."""
    return {k: v // parts + (1 if i < v % parts else 0) for k, v in counts.items()}


def history(conn, robot: str, start: int, hours: int, counts: Callable[[int], dict] | dict,
            window_ms: int = HOUR) -> None:
    """``hours`` hours of windows from ``start``, each hour's counts split over ``window_ms`` windows."""
    per_hour = HOUR // window_ms
    windows = []
    for h in range(hours):
        c = counts(start + h * HOUR) if callable(counts) else counts
        for i in range(per_hour):
            t0 = start + h * HOUR + i * window_ms
            windows.append((robot, t0, t0 + window_ms, split(c, per_hour, i)))
    seed.write_windows(conn, windows)


@pytest.fixture
def store(store_url):
    """The test's store connection, on each backend (``store_url``): a sqlite3 connection, or a
    PostgreSQL one taking the same SQL (``collector.store.postgres.db.PgConnection``)."""
    if store_url.startswith("postgresql://"):
        from collector.store.postgres.db import connect

        conn = connect(store_url)
    else:
        conn = connect_writer(store_url)
    yield conn
    conn.close()


@pytest.fixture
def fleet(store):
    """``fleet(customer, robots, scene=, site=, first_seen=, **customer_kw)`` -> robot ids."""
    def make(customer: str, robots: int = 1, scene: str = "museum", site: str = "site-1",
             first_seen: int = T - 60 * DAY, state: str = "online", reason: str | None = None, **kw) -> list[str]:
        seed.add_customer(store, customer, scene, now_ms=T, **kw)
        ids = []
        for i in range(robots):
            rid = f"{customer}-r{i}"
            seed.add_robot(store, rid, customer, site, scene=scene, state=state, state_reason=reason,
                           first_seen_ms=first_seen, now_ms=T)
            ids.append(rid)
        return ids
    return make


def daily(conn, robot: str, first_day: int, days: int, counts: Callable[[int], dict] | dict) -> None:
    """One 1-hour window at noon of each day from ``first_day`` carrying that day's counts."""
    windows = []
    for d in range(days):
        day = first_day + d * DAY
        c = counts(day) if callable(counts) else counts
        windows.append((robot, day + 12 * HOUR, day + 13 * HOUR, c))
    seed.write_windows(conn, windows)


def alerts_of(conn, rule: str | None = None) -> list[dict]:
    cols = ("id", "rule", "subject", "state", "customer", "site", "robot", "parent_id", "severity", "fired_ms",
            "resolved_ms", "summary")
    sql = f"SELECT {', '.join(cols)} FROM alerts" + (" WHERE rule = ?" if rule else "") + " ORDER BY id"
    return [dict(zip(cols, row)) for row in conn.execute(sql, (rule,) if rule else ())]
