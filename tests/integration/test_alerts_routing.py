"""Issue 14: webhooks routed by CSM, tier, customer, rule and severity, and tiers that change what
is notified (``[notify.tiers]``: by default a tech-touch customer notifies only critical alerts).

Alerts come from the real health cycle on a real SQLite store (robots going offline and coming
back); the collector's ``Notifier`` delivers them to real aiohttp receivers on loopback, one path
per webhook; each test compares what every receiver got with what its filters let through."""

from __future__ import annotations

import json

import pytest

from collector.alerts.notify import Notifier
from collector.alerts.notify_settings import DEFAULT_TIERS, parse as parse_notify
from collector.alerts.outbox import wants
from collector.app import wall_clock_ms
from collector.store import open_store
from collector.store.sqlite import seed
from protocol.config import ConfigError
from tests.integration.test_alerts_webhooks import Receiver, wait_for
from tests.plugins.health import T, evaluate, make_settings

MIN = 60_000


@pytest.fixture
async def receiver():
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


def hooks(receiver: Receiver) -> list[dict]:
    return [
        {"name": "alice", "url": receiver.url("alice"), "csms": ["alice"]},
        {"name": "tech-team", "url": receiver.url("tech-team"), "tiers": ["tech"]},
        {"name": "critical", "url": receiver.url("critical"), "severities": ["critical"]},
        {"name": "ops", "url": receiver.url("ops"), "follow_tiers": False},
        {"name": "bob-offline", "url": receiver.url("bob-offline"), "customers": ["c-bob"],
         "rules": ["robot_offline"]},
    ]


def notify_table(receiver: Receiver, **more) -> dict:
    # queued at event time T (2026), delivered by the wall clock: max_age_s 0 keeps them from expiring
    return {"webhooks": hooks(receiver), "poll_s": 0.05, "timeout_s": 5.0, "max_age_s": 0, **more}


def offline(store, rid: str, at: int) -> None:
    seed.write_window(store, rid, at - MIN, at, {"usage.interactions": 1})
    seed.set_state(store, rid, "offline", "lost", at)


def back(store, rid: str, at: int) -> None:
    seed.write_window(store, rid, at - MIN, at + 5 * MIN, {"usage.interactions": 1})
    seed.set_state(store, rid, "online", None, at)


BOOK = {"alice": ("c-alice", "a1", "high"), "bob": ("c-bob", "b1", "tech"), "carol": ("c-carol", "k1", "mid")}


def book(fleet, *csms: str) -> dict[str, str]:
    """One customer per CSM (alice's high-touch, bob's tech-touch, carol's mid-touch), one robot
    each: CSM -> robot id.  (A robot that never reported would raise alerts of its own.)"""
    out = {}
    for csm in csms or tuple(BOOK):
        customer, site, tier = BOOK[csm]
        out[csm] = fleet(customer, 1, site=site, csm=csm, tier=tier)[0]
    return out


async def deliver_all(store, db_path, notify) -> None:
    parts = open_store(str(db_path))
    n = Notifier(parts.outbox, notify, wall_clock_ms)
    n.start()
    try:
        await wait_for(lambda: store.execute("SELECT count(*) FROM notifications WHERE delivered_ms IS NULL")
                       .fetchone()[0] == 0, what="every notification delivered")
    finally:
        await n.stop()
        parts.close()


def got(receiver: Receiver, name: str) -> list[tuple[str, str, str]]:
    """(customer, event, severity) of what ``name`` received, in arrival order."""
    out = []
    for n, _, status, _, body in receiver.log:
        if n == name and 200 <= status < 300:
            p = json.loads(body)
            out.append((p["alert"]["customer"], p["event"], p["alert"]["severity"]))
    return out


@pytest.mark.sqlite_only("not yet on PostgreSQL: routing fixtures are seeded through the SQLite seed")
async def test_alerts_routing_by_csm_tier_customer_rule_and_severity(store, fleet, receiver, tmp_path):
    robots = book(fleet)
    warning = make_settings(notify=notify_table(receiver))
    # warnings: the three customers' robots go offline, then come back (firing, then resolved)
    for rid in robots.values():
        offline(store, rid, T)
    evaluate(store, T + 10 * MIN, warning)
    for rid in robots.values():
        back(store, rid, T + 20 * MIN)
    evaluate(store, T + 20 * MIN, warning)
    evaluate(store, T + 25 * MIN, warning)
    # a critical one: bob's second robot, at a second site, with robot_offline set to critical
    critical = make_settings(notify=notify_table(receiver), alerts={"robot_offline": {"severity": "critical"}})
    seed.add_robot(store, "c-bob-r9", "c-bob", "b2", scene="museum", first_seen_ms=T - 60 * 86_400_000, now_ms=T)
    offline(store, "c-bob-r9", T + 30 * MIN)
    for rid in robots.values():
        back(store, rid, T + 38 * MIN)  # the others keep reporting
    evaluate(store, T + 40 * MIN, critical)
    await deliver_all(store, tmp_path / "store.db", critical.notify)

    w = "warning"
    assert got(receiver, "alice") == [("c-alice", "firing", w), ("c-alice", "resolved", w)]
    # bob is tech-touch: his warnings reach nobody who follows the tiers; his critical alert does
    assert got(receiver, "tech-team") == [("c-bob", "firing", "critical")]
    assert got(receiver, "critical") == [("c-bob", "firing", "critical")]
    assert got(receiver, "bob-offline") == [("c-bob", "firing", "critical")]
    # ops does not follow the tiers: everything
    assert sorted(got(receiver, "ops")) == sorted([
        ("c-alice", "firing", w), ("c-bob", "firing", w), ("c-carol", "firing", w),
        ("c-alice", "resolved", w), ("c-bob", "resolved", w), ("c-carol", "resolved", w),
        ("c-bob", "firing", "critical")])
    # nothing queued that no receiver got: filtering happens when queuing, not when sending
    assert store.execute("SELECT count(*) FROM notifications").fetchone()[0] == len(receiver.log) == 2 + 1 + 1 + 1 + 7


@pytest.mark.sqlite_only("not yet on PostgreSQL: routing fixtures are seeded through the SQLite seed")
async def test_alerts_routing_tiers_table_lifts_or_adds_a_tier(store, fleet, receiver, tmp_path):
    """``[notify.tiers]`` merged over the defaults: ``tech = "info"`` lets bob's warnings through,
    ``mid = "critical"`` holds back carol's."""
    robots = book(fleet, "bob", "carol")
    settings = make_settings(notify=notify_table(receiver, tiers={"tech": "info", "mid": "critical"}))
    assert settings.notify.tiers == {"tech": "info", "tech-touch": "critical", "mid": "critical"}
    for rid in robots.values():
        offline(store, rid, T)
    evaluate(store, T + 10 * MIN, settings)
    await deliver_all(store, tmp_path / "store.db", settings.notify)
    assert got(receiver, "tech-team") == [("c-bob", "firing", "warning")]
    assert got(receiver, "bob-offline") == [("c-bob", "firing", "warning")]
    assert sorted(got(receiver, "ops")) == [("c-bob", "firing", "warning"), ("c-carol", "firing", "warning")]
    assert got(receiver, "alice") == got(receiver, "critical") == []


def test_alerts_routing_defaults_and_bad_filters_are_refused():
    cfg = parse_notify({})
    assert cfg.tiers == DEFAULT_TIERS == {"tech": "critical", "tech-touch": "critical"}
    hook = parse_notify({"webhooks": [{"url": "http://x/"}]}).webhooks[0]
    assert (hook.csms, hook.severities, hook.tiers, hook.customers, hook.follow_tiers) == ((), (), (), (), True)
    for table, key in (({"webhooks": [{"url": "http://x/", "severities": ["loud"]}]}, "notify.webhooks[0].severities"),
                       ({"webhooks": [{"url": "http://x/", "csms": [""]}]}, "notify.webhooks[0].csms"),
                       ({"webhooks": [{"url": "http://x/", "tiers": "tech"}]}, "notify.webhooks[0].tiers"),
                       ({"tiers": {"tech": "loud"}}, "notify.tiers"), ({"tiers": ["tech"]}, "notify.tiers")):
        with pytest.raises(ConfigError) as err:
            parse_notify(table)
        assert err.value.key == key


def test_alerts_routing_an_unimported_customer_passes_only_unfiltered_webhooks():
    alert = {"rule": "robot_offline", "severity": "critical", "customer": "ghost"}
    plain, by_csm = (parse_notify({"webhooks": [{"url": "http://x/"}, {"url": "http://y/", "csms": ["alice"]}]})
                     .webhooks)
    assert wants(plain, alert) is True
    assert wants(by_csm, alert) is False
    assert wants(by_csm, alert, ("alice", "tech"), DEFAULT_TIERS) is True
    assert wants(by_csm, {**alert, "severity": "warning"}, ("alice", "tech"), DEFAULT_TIERS) is False
