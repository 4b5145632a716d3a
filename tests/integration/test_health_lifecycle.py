"""Issue 14, must-show: the lifecycle stage, one customer per stage of seed 002's seven, through the
real store (customers, robots and rollups written as the store writes them, events through the
registry part that ``import-events`` uses) and the real health cycle.  Rules: docs/health.md,
"Lifecycle stage"."""

from __future__ import annotations

import json

import pytest

from collector.health.lifecycle import STAGES
from collector.store.events import event_from
from collector.store.sqlite.registry import SqliteRegistryStore
from tests.plugins.health import DAY, HOUR, T, compute, daily, evaluate, make_settings

pytestmark = pytest.mark.sqlite_only("not yet on PostgreSQL: the lifecycle fixtures import customers and events through SqliteRegistryStore")

#: 2026-01-01 12:00 in Beijing (Asia/Shanghai, every customer's default zone)
NOW = T + 4 * HOUR
STEADY = {"usage.foot_traffic": 400, "usage.solicitations": 200, "usage.wakeups": 120, "usage.interactions": 100}


def events(tmp_path, *rows: dict) -> None:
    registry = SqliteRegistryStore(str(tmp_path / "store.db"))
    known = registry.customer_ids()
    registry.add_events([event_from(r, known) for r in rows], "test", "import", NOW)


def used(store, robots: list[str], days: int = 20, counts=STEADY) -> None:
    """``days`` days of steady use before today, after a first window at the robot's first_seen
    (the store sets first_seen from the first window it gets)."""
    for rid in robots:
        (first,) = store.execute("SELECT first_seen_ms FROM robots WHERE id = ?", (rid,)).fetchone()
        if first < T - days * DAY:
            daily(store, rid, first - 12 * HOUR, 1, {"usage.interactions": 1})
        daily(store, rid, T - days * DAY, days, counts)


@pytest.fixture
def book(store, fleet, tmp_path):
    """Seven customers, one per stage, plus the edge cases of the rules."""
    old = T - 300 * DAY
    # signing: signed, starts next month
    fleet("signing", 0, contract_start="2026-02-01", contract_end="2027-01-31")
    # launch: first robot live 10 days ago
    used(store, fleet("launch", 2, contract_start="2025-12-15", contract_end="2026-12-14", first_seen=T - 10 * DAY),
         days=10)
    # growth: live for years, an expansion last month
    used(store, fleet("growth", 2, contract_start="2025-01-01", contract_end="2026-12-31", first_seen=old))
    # maturity: live for 300 days, steady, contract far away
    used(store, fleet("maturity", 2, contract_start="2025-03-01", contract_end="2027-02-28", first_seen=old))
    # decline: usage down 80% this week
    (d,) = fleet("decline", 1, contract_start="2025-03-01", contract_end="2027-02-28", first_seen=old)
    daily(store, d, old - 12 * HOUR, 1, {"usage.interactions": 1})
    daily(store, d, T - 14 * DAY, 7, STEADY)
    daily(store, d, T - 7 * DAY, 7, {**STEADY, "usage.interactions": 20})
    # renewal: contract ends in 45 days
    used(store, fleet("renewal", 1, contract_start="2025-02-15", contract_end="2026-02-14", first_seen=old))
    # churn: recorded
    used(store, fleet("churn", 1, contract_start="2025-01-01", contract_end="2026-06-30", first_seen=old))
    # edges: a contract ended 40 days ago unrenewed (churn); a churn won back by a later renewal
    used(store, fleet("lapsed", 1, contract_start="2024-11-22", contract_end="2025-11-21", first_seen=old))
    used(store, fleet("wonback", 1, contract_start="2025-01-01", contract_end="2025-12-31", first_seen=old))
    events(tmp_path,
           {"customer": "growth", "date": "2025-12-10", "kind": "expansion", "amount": "20000", "robots": "2"},
           {"customer": "churn", "date": "2025-12-20", "kind": "churn"},
           {"customer": "wonback", "date": "2025-11-30", "kind": "churn"},
           {"customer": "wonback", "date": "2025-12-28", "kind": "renewal", "amount": "30000",
            "contract_end": "2026-12-31"})
    return store


def test_lifecycle_one_customer_per_stage(book):
    ctx = compute(book, NOW, make_settings().health)
    stage = {cid: c["facts"]["lifecycle"] for cid, c in ctx["customers"].items()}
    assert {cid: s["stage"] for cid, s in stage.items() if cid in STAGES} == {s: s for s in STAGES}
    assert stage["signing"]["reason"] == "contract signed, starts 2026-02-01 (in 31 days)"
    assert stage["launch"]["reason"].startswith("first robot live since 2025-12-22 (10 days)")
    assert stage["growth"]["reason"] == "expansion on 2025-12-10 (+2 robots)"
    assert stage["maturity"]["reason"].startswith("live since 2025-03-07 (300 days), interactions +0% week on week")
    assert stage["decline"]["reason"] == "interactions -80% against the previous 7 days"
    assert stage["renewal"]["reason"] == "contract ends in 44 days (2026-02-14), no renewal recorded yet"
    assert (stage["renewal"]["code"], stage["renewal"]["args"]) == ("renewal_due", {"date": "2026-02-14", "days": 44})
    assert stage["churn"]["reason"] == "churn recorded on 2025-12-20"


def test_lifecycle_lapsed_contract_is_churn_and_a_renewal_wins_back(book):
    ctx = compute(book, NOW, make_settings().health)
    lapsed, won = (ctx["customers"][c]["facts"]["lifecycle"] for c in ("lapsed", "wonback"))
    assert lapsed == {"stage": "churn", "reason": "contract ended 2025-11-21, 41 days ago, with no renewal recorded",
                      "code": "churn_lapsed", "args": {"date": "2025-11-21", "days": 41}}
    assert won["stage"] == "maturity" and won["reason"].endswith("; renewed on 2025-12-28")


def test_lifecycle_signing_until_a_robot_sends_data(store, fleet):
    """A customer imported with its contract but no robot that reported yet is still signing; its
    first robot's first data launches it."""
    fleet("new", 0, contract_start="2025-12-01", contract_end="2026-11-30")
    hs = make_settings().health
    assert compute(store, NOW, hs)["customers"]["new"]["facts"]["lifecycle"] == {
        "stage": "signing", "reason": "contract signed, no robot has sent data yet", "code": "signing_no_data",
        "args": {}}
    (rid,) = fleet("new", 1, contract_start="2025-12-01", contract_end="2026-11-30", first_seen=T - DAY)
    daily(store, rid, T - DAY, 1, STEADY)
    assert compute(store, NOW, hs)["customers"]["new"]["facts"]["lifecycle"] == {
        "stage": "launch", "reason": "first robot live since 2025-12-31 (1 days)", "code": "launch",
        "args": {"date": "2025-12-31", "days": 1}}


def test_lifecycle_is_stored_with_the_customer_health(book):
    evaluate(book, NOW, make_settings())
    stored = {cid: json.loads(facts)["lifecycle"]["stage"]
              for cid, facts in book.execute("SELECT customer, facts FROM customer_health")}
    assert stored["renewal"] == "renewal" and stored["lapsed"] == "churn"
