"""Must-show 6: the same history back-filled in 1-hour windows or streamed in 10-second windows
gives the same health and the same alerts (health runs on event time; rollups bucket by t0)."""

import random

from collector.health.memory import HealthMemory
from collector.store.sqlite import seed
from collector.store.sqlite.db import connect_writer
from tests.plugins.health import DAY, HOUR, T, evaluate, history, make_settings

START = T - 8 * DAY
HOURS = 8 * 24
ROBOTS = {"c1": ["c1-a0", "c1-a1"], "c2": ["c2-b0", "c2-b1", "c2-b2"]}
HOOK = {"webhooks": [{"name": "cs", "url": "http://127.0.0.1:9/hook"}], "repeat_s": 3 * 3600}


def hour_counts(robot: str, h: int) -> dict | None:
    """Deterministic, varied history; None: the robot sent nothing that hour."""
    rng = random.Random(f"{robot}:{h}")
    if robot.startswith("c2") and 150 <= h < 154:      # site-b loses its network for 4 hours
        return None
    asr = rng.randint(60, 140)
    bad = 0.4 if robot == "c1-a0" and 100 <= h < 112 else 0.05   # a sick ASR for 12 hours
    day_factor = 0.2 if h >= 6 * 24 and robot.startswith("c1") else 1.0  # c1's usage collapses
    return {"asr.requests": asr, "asr.unrecognized": int(asr * bad * rng.uniform(0.8, 1.2)),
            "usage.interactions": int(rng.randint(30, 90) * day_factor), "usage.foot_traffic": rng.randint(100, 400),
            "touch.taps": rng.randint(20, 60), "touch.no_response": rng.randint(0, 2),
            "net.offline_s": rng.choice((0, 0, 0, 30)), "skill.guide": rng.randint(0, 9)}


def replay(path, window_ms: int) -> dict:
    conn = connect_writer(path)
    settings = make_settings(alerts={"usage_drop": {"min_volume": 5.0}}, notify=HOOK)
    for customer, robots in ROBOTS.items():
        seed.add_customer(conn, customer, "museum", contract_end="2026-02-20", arr=5000.0, now_ms=START)
        for rid in robots:
            seed.add_robot(conn, rid, customer, f"site-{customer}", first_seen_ms=START, now_ms=START)
    for h in range(HOURS):
        for robots in ROBOTS.values():
            for rid in robots:
                counts = hour_counts(rid, h)
                if counts is not None:
                    history(conn, rid, START + h * HOUR, 1, counts, window_ms=window_ms)
        evaluate(conn, START + (h + 1) * HOUR, settings)
    dump = {table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            for table in ("robot_health", "customer_health", "score_history", "alerts", "alert_events",
                          "notifications", "feed_events", "counter_hour", "counter_day")}
    conn.close()
    return dump


def test_backfill_hour_windows_and_streamed_10s_windows_agree(tmp_path):
    hourly = replay(tmp_path / "hourly.db", HOUR)
    streamed = replay(tmp_path / "streamed.db", 10_000)
    rules = {row[1] for row in hourly["alerts"]}
    # the history is rich enough to mean something
    assert {"subsystem_degraded", "site_outage", "robot_offline", "renewal_risk"} <= rules
    for table in hourly:
        assert hourly[table] == streamed[table], table


def test_backfill_memory_between_cycles_changes_nothing(tmp_path):
    """The loop's memory (rows last written) only saves work: the store ends up the same."""
    dumps = []
    for use_memory in (False, True):
        conn = connect_writer(tmp_path / f"m{use_memory}.db")
        seed.add_customer(conn, "c1", "museum", now_ms=START)
        for rid in ("r1", "r2"):
            seed.add_robot(conn, rid, "c1", "s", first_seen_ms=START, now_ms=START)
        memory = HealthMemory() if use_memory else None
        for h in range(30):
            for rid in ("r1", "r2"):
                counts = hour_counts("c1-a0" if rid == "r1" else "c1-a1", 90 + h)
                history(conn, rid, START + h * HOUR, 1, counts)
            evaluate(conn, START + (h + 1) * HOUR, make_settings(), memory)
        dumps.append([conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                      for t in ("robot_health", "customer_health", "alerts", "alert_events", "feed_events")])
        conn.close()
    assert dumps[0] == dumps[1]


def test_backfill_late_data_into_a_cached_bucket_is_seen(tmp_path):
    conn = connect_writer(tmp_path / "late.db")
    seed.add_customer(conn, "c1", "museum", now_ms=START)
    seed.add_robot(conn, "r1", "c1", "s", first_seen_ms=START, now_ms=START)
    history(conn, "r1", START, 2, {"asr.requests": 100, "asr.unrecognized": 1})
    memory = HealthMemory()
    evaluate(conn, START + 2 * HOUR, make_settings(), memory)
    assert "buckets" in memory  # the complete hour is cached now
    # late windows for the complete hour arrive (an agent that was offline uploads its backlog)
    history(conn, "r1", START + HOUR, 1, {"asr.requests": 100, "asr.unrecognized": 80}, window_ms=10 * 60_000)
    evaluate(conn, START + 2 * HOUR + 60_000, make_settings(), memory)
    state = conn.execute("SELECT json_extract(subsystems, '$.asr.level') FROM robot_health").fetchone()[0]
    assert state == "crit"
