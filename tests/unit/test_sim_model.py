"""The model: seeded and pure, scene-shaped, faults visible in the right counters."""

from simulator import model, scenario
from simulator.clock import SimClock
from simulator.ledger import Ledger

NOW = 1_764_064_800_000  # 2025-11-25T10:00:00Z, a Tuesday
H = 3_600_000


def make(faults=(), **customer):
    c = {"id": "acme", "scene": "museum", "robots": 2, "opening_hours": "09:00-17:00", "onboarded": "-60d",
         "engagement": 0.9}
    c.update(customer)
    return scenario.parse({"scenario": {"seed": 5, "utc_offset_h": 0}, "customers": [c], "faults": list(faults)},
                          NOW)


def day_total(scn, robot, day_start, metric):
    c = scn.customer(robot.customer)
    f = scn.faults_for(robot)
    total = 0
    for h in range(24):
        counts = model.window_counts(scn, c, robot, f, day_start + h * H, day_start + (h + 1) * H) or {}
        total += counts.get(metric, 0)
    return total


def test_sim_model_same_inputs_same_counts():
    scn = make()
    c, r = scn.customers[0], scn.robots[0]
    a = model.window_counts(scn, c, r, (), NOW, NOW + 10_000)
    assert a == model.window_counts(scn, c, r, (), NOW, NOW + 10_000)
    assert a == model.window_counts(make(), c, r, (), NOW, NOW + 10_000)


def test_sim_model_closed_hours_have_no_usage():
    scn = make()
    night = NOW - 8 * H  # 02:00 UTC
    counts = model.window_counts(scn, scn.customers[0], scn.robots[0], (), night, night + H)
    assert counts is not None
    assert not any(k.startswith(("usage.", "skill.", "asr.")) for k in counts)


def test_sim_model_scenes_differ_as_the_domain_says():
    day0 = NOW - 10 * H - 7 * 86_400_000
    museum = make(scene="museum")
    ktv = make(scene="ktv", opening_hours="12:00-23:00")
    conf = make(scene="conference")
    m_guide = day_total(museum, museum.robots[0], day0, "skill.guide")
    m_sign = day_total(museum, museum.robots[0], day0, "skill.sign_in")
    assert m_guide > 5 * max(m_sign, 1)
    scenic = make(scene="scenic")
    assert day_total(ktv, ktv.robots[0], day0, "skill.delivery") > 10 * max(
        day_total(museum, museum.robots[0], day0, "skill.delivery"), 1)
    assert day_total(ktv, ktv.robots[0], day0, "usage.interactions") < day_total(
        scenic, scenic.robots[0], day0, "usage.interactions") / 3
    assert day_total(conf, conf.robots[0], day0, "skill.sign_in") > 10 * max(
        day_total(conf, conf.robots[0], day0, "skill.guide"), 1)


def test_sim_model_lidar_failing_raises_lidar_faults_for_that_robot_only():
    scn = make([{"kind": "lidar_failing", "customer": "acme", "robot": "1", "start": "-1d", "rate": 0.6}])
    day0 = NOW - 10 * H
    sick, well = scn.robots
    tasks = day_total(scn, sick, day0, "nav.tasks")
    assert day_total(scn, sick, day0, "nav.lidar_faults") > 0.3 * tasks
    assert day_total(scn, well, day0, "nav.lidar_faults") < 0.05 * day_total(scn, well, day0, "nav.tasks") + 2


def test_sim_model_disengaging_customer_uses_less():
    scn = make([{"kind": "disengaging", "customer": "acme", "start": "-20d", "end": "-5d", "to": 0.1}])
    r = scn.robots[0]
    day0 = NOW - 10 * H
    before = sum(day_total(scn, r, day0 - d * 86_400_000, "usage.interactions") for d in range(22, 29))
    after = sum(day_total(scn, r, day0 - d * 86_400_000, "usage.interactions") for d in range(0, 7))
    assert after < 0.3 * before


def test_sim_model_powered_off_and_not_yet_onboarded_give_no_window():
    scn = make([{"kind": "powered_off", "customer": "acme", "robot": "1", "start": "-1h", "end": "+1h"}],
               onboarded="-1d")
    c = scn.customers[0]
    assert model.window_counts(scn, c, scn.robots[0], scn.faults_for(scn.robots[0]), NOW, NOW + 10_000) is None
    assert model.window_counts(scn, c, scn.robots[1], (), NOW - 2 * 86_400_000, NOW - 2 * 86_400_000 + H) is None


def test_sim_model_network_down_counts_offline_seconds():
    scn = make([{"kind": "site_network_down", "customer": "acme", "site": "main", "start": "0", "end": "+30m"}])
    r = scn.robots[0]
    counts = model.window_counts(scn, scn.customers[0], r, scn.faults_for(r), NOW, NOW + H)
    assert counts["net.offline_s"] >= 1800 and counts["net.disconnects"] >= 1


def test_sim_model_long_window_equals_its_short_windows_in_expectation():
    scn = make()
    c, r = scn.customers[0], scn.robots[0]
    t0 = NOW - 2 * 86_400_000
    long = sum((model.window_counts(scn, c, r, (), t0 + h * H, t0 + (h + 1) * H) or {}).get(
        "usage.interactions", 0) for h in range(24))
    short = sum((model.window_counts(scn, c, r, (), t, t + 60_000) or {}).get("usage.interactions", 0)
                for t in range(t0, t0 + 86_400_000, 60_000))
    assert abs(long - short) < 0.15 * max(long, 1)


def test_sim_clock_runs_at_speed():
    now = [100.0]
    clock = SimClock(NOW, speed=60, monotonic=lambda: now[0])
    now[0] += 2
    assert clock.now_ms() == NOW + 120_000
    assert clock.real_seconds_until(NOW + 180_000) == 1.0


def test_sim_ledger_totals_and_json(tmp_path):
    ledger = Ledger("t")
    ledger.add_robot("r1", "acme", "a")
    ledger.record("r1", 0, 10, {"a.b": 2, "c.d": 0})
    ledger.record("r1", 10, 20, {"a.b": 3})
    ledger.write(tmp_path / "l.json", {"done": True})
    from simulator.ledger import read

    doc = read(tmp_path / "l.json")
    assert doc["robots"]["r1"]["counters"] == {"a.b": 5}
    assert doc["robots"]["r1"]["windows"] == 2 and doc["done"] is True


def test_sim_backfill_plan_is_contiguous_long_then_short():
    from simulator.backfill import plan

    start, live = NOW - 3 * 86_400_000 + 123_456, NOW + 7_000
    spans = list(plan(start, live, 3600, 3600, 60))
    assert spans[0][0] == start and spans[-1][1] == live
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    long = [s for s in spans if s[1] <= live - 3_600_000]
    assert all(t1 - t0 <= H for t0, t1 in long) and all(t0 % H == 0 for t0, _ in long[1:])
    short = [s for s in spans if s[0] >= live - 3_600_000]
    assert len(short) in (60, 61) and all(t1 - t0 <= 60_000 for t0, t1 in short)
