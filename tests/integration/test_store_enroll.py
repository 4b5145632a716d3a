"""The enrollment check (``collector.ingest.enroll``) on a real store (each backend): what each mode admits,
the new-customer budget, and a registry import picked up by ``reload``."""

from __future__ import annotations

import pytest

from collector.ingest.enroll import Enrollment
from collector.store import open_store
from collector.store.records import CustomerRow, RobotRow


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def store(store_url):
    s = open_store(store_url)
    s.registry.upsert_customers([CustomerRow("acme", "Acme", "", "", None, None, 0.0, "")], 1)
    s.registry.upsert_robots([RobotRow("r-1", "acme", "hq", "2026-03-01", "")], 1)
    yield s
    s.close()


def _seen(store, robot: str, customer: str) -> None:
    from tests.plugins.api import connect_store

    conn = connect_store(store.url)  # autocommit: the insert is committed at once
    conn.execute("INSERT INTO robots (id, customer, site, first_seen_ms, last_seen_ms) VALUES (?, ?, 'x', 1, 1)",
                 (robot, customer))
    conn.close()


def test_store_enroll_registry_mode(store):
    e = Enrollment("registry", store.registry)
    assert e.check("r-1", "acme") is None
    assert e.check("r-1", "rival") == "wrong_customer"
    assert e.check("r-2", "acme") == "unregistered_robot"
    assert e.reload() is False  # nothing changed
    store.registry.upsert_robots([RobotRow("r-2", "acme", "hq", None, "")], 2)
    assert e.reload() is True
    assert e.check("r-2", "acme") is None
    # the registry moves a robot: its new customer is the one accepted
    store.registry.upsert_robots([RobotRow("r-1", "rival", "mall", None, "")], 3)
    e.reload()
    assert e.check("r-1", "rival") is None and e.check("r-1", "acme") == "wrong_customer"


def test_store_enroll_auto_mode_pins_robots_and_limits_new_customers(store):
    _seen(store, "r-9", "acme")
    clock = Clock()
    e = Enrollment("auto", store.registry, new_customers_per_minute=3, clock=clock)
    assert e.check("r-1", "acme") is None and e.check("r-1", "rival") == "wrong_customer"   # registered
    assert e.check("r-9", "acme") is None and e.check("r-9", "rival") == "wrong_customer"   # seen
    assert e.check("r-new", "acme") is None                    # an existing customer: no budget used
    assert e.check("r-new", "rival") == "wrong_customer"       # admitted here, pinned before it is stored
    assert [e.check(f"x-{i}", f"c-{i}") for i in range(5)] == [None, None, None, "new_customer_limit",
                                                               "new_customer_limit"]
    assert e.check("x-9", "c-0") is None                       # a customer admitted already: no budget
    clock.t += 20                                              # a third of a minute: one token back
    assert e.check("x-3", "c-3") is None and e.check("x-4", "c-4") == "new_customer_limit"
    # once the store holds them, a reload keeps them pinned
    _seen(store, "x-0", "c-0")
    assert e.reload() is True
    assert e.check("x-0", "c-1") == "wrong_customer" and e.check("x-0", "c-0") is None


def test_store_enroll_refuses_an_unknown_mode(store):
    with pytest.raises(ValueError):
        Enrollment("open", store.registry)
