"""Must-show 2: data flapping around a threshold gives one alert, not a storm; it resolves only
after its clearing condition held for ``clear_for``.  Also acknowledge and snooze."""

import json

import pytest

from collector.alerts import engine
from tests.plugins.health import EXACT, HOUR, T, alerts_of, evaluate, history, make_settings, parts

MIN = 60_000
HOOK = {"webhooks": [{"name": "cs", "url": "http://127.0.0.1:9/hook"}], "repeat_s": 0}


def asr(rate: float) -> dict:
    return {"asr.requests": 100, "asr.unrecognized": round(rate * 100)}


def run_hours(store, settings, start, rates):
    """For each hour: write its windows, then evaluate at its end and 2 minutes later."""
    for i, rate in enumerate(rates):
        hour = start + i * HOUR
        history(store, "c1-r0", hour, 1, asr(rate), window_ms=10 * MIN)
        for m in (0, 2):
            evaluate(store, hour + HOUR + m * MIN, settings)


def events(store, alert_id):
    return [r[0] for r in store.execute("SELECT to_state FROM alert_events WHERE alert_id=? ORDER BY id",
                                        (alert_id,))]


def test_hysteresis_flapping_gives_one_alert_and_one_notification(store, fleet):
    fleet("c1", 1)
    settings = make_settings(EXACT, alerts={"subsystem_degraded": {"for_s": 0, "clear_for_s": 7200}}, notify=HOOK)
    # crit (0.31) and warn (0.29) alternate around the crit threshold (0.30): never clears (ok < 0.15)
    run_hours(store, settings, T, [0.31, 0.29, 0.31, 0.29, 0.31, 0.29, 0.31, 0.29])
    (alert,) = alerts_of(store, "subsystem_degraded")
    assert alert["state"] == "firing"
    assert events(store, alert["id"]) == ["pending", "firing"]
    # one hour of ok data, then crit again: shorter than clear_for (2 h), so still the same alert
    run_hours(store, settings, T + 8 * HOUR, [0.05, 0.31])
    assert [a["state"] for a in alerts_of(store, "subsystem_degraded")] == ["firing"]
    keys = [r[0] for r in store.execute("SELECT idempotency_key FROM notifications")]
    assert len(keys) == 1 and "-firing-" in keys[0]


def test_hysteresis_resolves_only_after_clear_for(store, fleet):
    fleet("c1", 1)
    settings = make_settings(EXACT, alerts={"subsystem_degraded": {"for_s": 0, "clear_for_s": 7200}}, notify=HOOK)
    run_hours(store, settings, T, [0.40])
    (alert,) = alerts_of(store, "subsystem_degraded")
    assert alert["state"] == "firing"
    # ok from the hour T+1h on: the clearing condition first holds at T+2h (evaluation after that hour)
    for i in range(1, 6):
        history(store, "c1-r0", T + i * HOUR, 1, asr(0.05), window_ms=10 * MIN)
    for now in range(T + 2 * HOUR, T + 4 * HOUR, 10 * MIN):
        evaluate(store, now, settings)
        assert alerts_of(store, "subsystem_degraded")[0]["state"] == "firing", now
    evaluate(store, T + 4 * HOUR, settings)
    (alert,) = alerts_of(store, "subsystem_degraded")
    assert alert["state"] == "resolved" and alert["resolved_ms"] == T + 4 * HOUR
    events_ = [json.loads(r[0])["event"] for r in store.execute("SELECT payload FROM notifications ORDER BY id")]
    assert events_ == ["firing", "resolved"]


def test_hysteresis_pending_waits_for_for_s(store, fleet):
    fleet("c1", 1)
    settings = make_settings(alerts={"subsystem_degraded": {"for_s": 1800}})
    history(store, "c1-r0", T, 2, asr(0.5), window_ms=10 * MIN)
    evaluate(store, T + HOUR, settings)
    assert alerts_of(store, "subsystem_degraded")[0]["state"] == "pending"
    evaluate(store, T + HOUR + 29 * MIN, settings)
    assert alerts_of(store, "subsystem_degraded")[0]["state"] == "pending"
    evaluate(store, T + HOUR + 30 * MIN, settings)
    assert alerts_of(store, "subsystem_degraded")[0]["state"] == "firing"


def test_alert_acknowledge_stops_repeats_and_is_on_the_timeline(store, fleet):
    fleet("c1", 1)
    settings = make_settings(alerts={"subsystem_degraded": {"for_s": 0}}, notify={**HOOK, "repeat_s": 1800})
    history(store, "c1-r0", T, 3, asr(0.5), window_ms=10 * MIN)
    evaluate(store, T + HOUR, settings)
    evaluate(store, T + HOUR + 30 * MIN, settings)  # a repeat while firing
    (alert,) = alerts_of(store, "subsystem_degraded")
    engine.acknowledge(parts(store).alerts, alert["id"], "alice", "calling the site", T + HOUR + 31 * MIN)
    evaluate(store, T + 2 * HOUR + 30 * MIN, settings)
    events_ = [json.loads(r[0])["event"] for r in store.execute("SELECT payload FROM notifications ORDER BY id")]
    assert events_ == ["firing", "repeat"]
    row = store.execute("SELECT actor, note FROM alert_events WHERE to_state='acknowledged'").fetchone()
    assert row == ("alice", "calling the site")
    assert alerts_of(store, "subsystem_degraded")[0]["state"] == "acknowledged"


def test_alert_snooze_fires_again_when_it_ends(store, fleet):
    fleet("c1", 1)
    settings = make_settings(alerts={"subsystem_degraded": {"for_s": 0}})
    history(store, "c1-r0", T, 4, asr(0.5), window_ms=10 * MIN)
    evaluate(store, T + HOUR, settings)
    (alert,) = alerts_of(store, "subsystem_degraded")
    engine.snooze(parts(store).alerts, alert["id"], T + 2 * HOUR, "robot being repaired", "bob", T + HOUR)
    evaluate(store, T + HOUR + 30 * MIN, settings)
    assert alerts_of(store, "subsystem_degraded")[0]["state"] == "snoozed"
    evaluate(store, T + 2 * HOUR, settings)
    assert alerts_of(store, "subsystem_degraded")[0]["state"] == "firing"
    assert events(store, alert["id"]) == ["pending", "firing", "snoozed", "firing"]
    with pytest.raises(engine.AlertStateError):
        engine.snooze(parts(store).alerts, alert["id"], T, "in the past", "bob", T + 2 * HOUR)
    with pytest.raises(engine.AlertNotFound):
        engine.acknowledge(parts(store).alerts, 9999, "bob", "", T)
