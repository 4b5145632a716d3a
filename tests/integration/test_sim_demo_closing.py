"""Issue 13 must-show: ``make demo`` through a closing time.  The demo's conference centre
(``expo-center``, open 08:00-18:00) is of a scene whose venues cut the robots' power at closing
(``simulator.profiles``: ``off_when_closed``); the demo imports its hours (``customers_csv``).
The demo's scenario is run across its closing time, fast: its robots' windows and states (a power
cut: the last will, ``offline``/``lost``) written through the store as the collector would, the
demo's collector settings, a cycle every 30 simulated seconds.  Nothing may fire for the closing;
the scripted power cut of robot 5 during opening hours still fires."""

import pytest

import tomllib

from collector.store.customers import parse as parse_customers
from collector.store.sqlite import seed
from simulator import model, scenario
from simulator.demo import DEMO_COLLECTOR
from tests.plugins.health import DAY, HOUR, T, alerts_of, evaluate, make_settings

pytestmark = pytest.mark.sqlite_only("not yet on PostgreSQL: the demo is seeded and read with SQLite SQL (json_extract)")

CUSTOMER = "expo-center"
STEP = 30_000


def _demo_at(local_start: str, now_ms: int):
    doc = tomllib.loads(scenario.builtin("demo").read_text(encoding="utf-8"))
    doc["scenario"]["local_start"] = local_start  # the live part starts 10 minutes before closing
    return scenario.parse(doc, now_ms)


def test_sim_demo_closing_time_fires_nothing(store):
    scn = _demo_at("17:50", T + 3 * DAY)
    live, closing = scn.live_start_ms, scn.live_start_ms + 10 * 60_000
    customer = scn.customer(CUSTOMER)
    for row in parse_customers(scenario.customers_csv(scn)).rows:  # the demo's import-customers
        seed.add_customer(store, row.id, row.scene, name=row.name, contract_end=row.contract_end,
                          contract_start=row.contract_start, arr=row.arr, timezone=row.timezone, hours=row.hours,
                          now_ms=live)
    robots = [r for r in scn.robots if r.customer == CUSTOMER]
    faults = {r.id: scn.faults_for(r) for r in robots}
    history = []
    for r in robots:
        seed.add_robot(store, r.id, CUSTOMER, r.site, scene=r.scene, first_seen_ms=customer.onboarded_ms, now_ms=live)
        for t0 in range(live - 3 * DAY, live, HOUR):  # three days of history in 1-hour windows
            counts = model.window_counts(scn, customer, r, faults[r.id], t0, t0 + HOUR)
            if counts is not None:
                history.append((r.id, t0, t0 + HOUR, counts))
    seed.write_windows(store, history)
    settings = tomllib.loads(DEMO_COLLECTOR)
    settings = make_settings(settings["health"], settings["alerts"])

    on = {r.id: True for r in robots}
    for t in range(live, closing + 40 * 60_000, STEP):
        windows = []
        for r in robots:
            off = model.switched_off(scn, customer, faults[r.id], t)
            if off and on[r.id]:
                seed.set_state(store, r.id, "offline", "lost", t)  # a power cut: the broker's last will
            elif not off and not on[r.id]:
                seed.set_state(store, r.id, "online", None, t)
            on[r.id] = not off
            counts = None if off else model.window_counts(scn, customer, r, faults[r.id], t, t + STEP)
            if counts is not None:
                windows.append((r.id, t, t + STEP, counts))
        seed.write_windows(store, windows)
        evaluate(store, t + STEP, settings)

    assert not any(on.values())  # every robot of the venue was switched off at closing
    fired = [(a["rule"], a["subject"], a["fired_ms"]) for a in alerts_of(store)
             if a["customer"] == CUSTOMER and a["rule"] in ("robot_offline", "site_outage") and a["fired_ms"]]
    # the demo's scripted power cut (robot 5, +2 to +9 min, in opening hours) fired, and nothing else
    assert [(rule, subject) for rule, subject, _ in fired] == [("robot_offline", "expo-center-r05")], fired
    assert all(when < closing for _, _, when in fired)
    venue, closed = store.execute("SELECT json_extract(facts, '$.venue.open'), robots_offline FROM customer_health"
                                  " WHERE customer = ?", (CUSTOMER,)).fetchone()
    assert (venue, closed) == (0, len(robots))
