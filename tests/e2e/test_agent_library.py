"""The pipeline as a library (what the simulator drives): backlog drain, back-fill, injected clock."""

from __future__ import annotations

from agent.config import build_config
from agent.core import AgentCore
from agent.publisher import Publisher
from tests.support.procs import wait_until


def make(tmp_path, broker, **agent):
    return build_config({"agent": {"robot_id": "r-1", "customer_id": "acme", "interval_s": 10,
                                   "publish_interval_s": 60, "state_dir": str(tmp_path / "state"), **agent},
                         "mqtt": {"host": "127.0.0.1", "port": broker.port}})


def test_agent_backlog_drains_oldest_first_in_batches_of_500(tmp_path, broker, make_subscriber):
    sub = make_subscriber(broker.port, ("robopulse/v1/+/+/telemetry",))
    now = [1_800_000_000_000]
    config = make(tmp_path, broker)
    core = AgentCore(config, clock=lambda: now[0], synchronous="OFF")
    for i in range(1200):  # a day offline at 10 s windows would be 8640; same shape
        core.record_window(1_700_000_000_000 + i * 10_000, 1_700_000_010_000 + i * 10_000, {"nav.tasks": 1})
    pub = Publisher(config, core.outbox, clock=lambda: now[0])
    try:
        # one poll connects; the drain then runs on PUBACKs without the 60 s interval passing
        wait_until(lambda: (pub.poll(0.05) or True) and len(core.outbox) == 0, 30, interval=0,
                   message="the backlog drained")
        core.add("asr.requests", 2)
        now[0] += 10_000
        (new,) = core.tick()
        assert len(core.outbox) == 1
        now[0] += 60_000  # the next publish interval on the injected clock
        wait_until(lambda: (pub.poll(0.05) or True) and len(core.outbox) == 0, 30, interval=0,
                   message="the new window published")
    finally:
        pub.stop()
        core.close()
    wait_until(lambda: len(sub.windows()) == 1201, 30, message="all windows at the subscriber")
    batches = sub.batches()
    assert [len(b.windows) for b in batches] == [500, 500, 200, 1]
    assert [b.windows[0].seq for b in batches] == [1, 501, 1001, 1201]
    assert batches[-1].windows[0].c == {"asr.requests": 2}
    assert sum(w.c.get("nav.tasks", 0) for w in sub.windows().values()) == 1200


def test_agent_library_backfills_day_long_windows(tmp_path, broker, make_subscriber):
    sub = make_subscriber(broker.port, ("robopulse/v1/+/+/telemetry",))
    day = 86_400_000
    now = [1_800_000_000_000]
    config = make(tmp_path, broker)
    core = AgentCore(config, clock=lambda: now[0], synchronous="OFF")
    for d in range(3):
        core.record_window(now[0] - (3 - d) * day, now[0] - (2 - d) * day, {"usage.interactions": 1000 + d})
    pub = Publisher(config, core.outbox, clock=lambda: now[0])
    try:
        assert pub.flush(20)
    finally:
        pub.stop()
        core.close()
    windows = wait_until(lambda: len(sub.windows()) == 3 and sub.windows(), 20, message="back-filled windows")
    assert [w.t1 - w.t0 for w in windows.values()] == [day] * 3
    assert [w.c["usage.interactions"] for w in windows.values()] == [1000, 1001, 1002]


def test_agent_compresses_with_the_preset_dictionary_unless_told_not_to(tmp_path, broker, make_subscriber):
    """Busy windows (many names) go zlib-compressed; by default the stream names the protocol's
    dictionary (FDICT, DICTID of zdict.V1), with ``zlib_dictionary = false`` it is plain RFC 1950."""
    from protocol import zdict

    sub = make_subscriber(broker.port, ("robopulse/v1/+/+/telemetry",))
    counts = {"asr.requests": 130, "asr.unrecognized": 12, "nav.tasks": 40, "usage.interactions": 77,
              "vision.face_attempts": 90, "touch.taps": 31, "tts.requests": 120, "nlp.requests": 118}
    for robot, primed in (("r-1", True), ("r-2", False)):
        config = build_config({"agent": {"robot_id": robot, "customer_id": "acme",
                                         "state_dir": str(tmp_path / robot)},
                               "mqtt": {"host": "127.0.0.1", "port": broker.port, "zlib_dictionary": primed}})
        core = AgentCore(config, clock=lambda: 1_800_000_000_000, synchronous="OFF")
        for i in range(12):
            core.record_window(1_799_999_000_000 + i * 10_000, 1_799_999_010_000 + i * 10_000, counts)
        pub = Publisher(config, core.outbox, clock=lambda: 1_800_000_000_000)
        try:
            assert pub.flush(20)
        finally:
            pub.stop()
            core.close()
    wait_until(lambda: len(sub.messages) >= 2, 15, message="both robots' batches")
    payloads = {topic.split("/")[3]: payload for topic, payload, _ in sub.messages}
    assert payloads["r-1"][0] == 0x78 and payloads["r-1"][1] & 0x20
    assert int.from_bytes(payloads["r-1"][2:6], "big") == zdict.V1_ID
    assert payloads["r-2"][0] == 0x78 and not payloads["r-2"][1] & 0x20
    assert len(payloads["r-1"]) < len(payloads["r-2"])
    assert [sum(w.c["nav.tasks"] for w in b.windows) for b in sub.batches()] == [480, 480]


def _publish_for(tmp_path, broker, seconds: float, **mqtt_options) -> list[str]:
    """Run an agent publishing every 2 s (keepalive 5 s) for ``seconds``; paho's log lines."""
    import time

    config = build_config({"agent": {"robot_id": "r-1", "customer_id": "acme", "interval_s": 1,
                                     "publish_interval_s": 2, "state_dir": str(tmp_path / "state")},
                           "mqtt": {"host": "127.0.0.1", "port": broker.port, "keepalive_s": 5, **mqtt_options}})
    core = AgentCore(config, synchronous="OFF")
    pub = Publisher(config, core.outbox)
    log: list[str] = []
    try:
        wait_until(lambda: (pub.poll(0.05) or True) and pub.connected, 10, interval=0, message="connected")
        pub.client.on_log = lambda client, userdata, level, buf: log.append(buf)
        start, t0 = time.monotonic(), 1_800_000_000_000
        while time.monotonic() - start < seconds:
            core.record_window(t0, t0 + 1000, {"nav.tasks": 1})
            t0 += 1000
            pub.poll(0.25)
        assert pub.connected
        assert pub.flush(10)
    finally:
        pub.stop()
        core.close()
    return [line for line in log if "Sending PUBLISH" not in line or "/status" not in line]


def test_agent_publishing_within_keepalive_sends_no_pings_and_names_the_topic_once(tmp_path, broker,
                                                                                   make_subscriber):
    """paho 2.x would PINGREQ every keepalive however often we publish (its issue #813); each PUBACK
    now counts as proof of the link, so a robot publishing every 2 s with a 5 s keepalive never pings.
    Over MQTT 5 the telemetry topic goes once, then its alias; the subscriber sees the full topic."""
    sub = make_subscriber(broker.port, ("robopulse/v1/+/+/telemetry",))
    log = _publish_for(tmp_path, broker, 8)  # 1.6 keepalives
    publishes = [line for line in log if "Sending PUBLISH" in line]
    assert len(publishes) >= 3
    assert "robopulse/v1/acme/r-1/telemetry" in publishes[0]
    assert all("telemetry" not in line and "b''" in line for line in publishes[1:]), publishes
    assert [line for line in log if "PINGREQ" in line] == []
    wait_until(lambda: sum(w.c["nav.tasks"] for w in sub.windows().values()) >= 8, 10, message="windows arrive")
    assert {topic for topic, _, _ in sub.messages} == {"robopulse/v1/acme/r-1/telemetry"}


def test_agent_over_mqtt_311_names_the_topic_every_time(tmp_path, broker):
    log = _publish_for(tmp_path, broker, 5, protocol="3.1.1")
    publishes = [line for line in log if "Sending PUBLISH" in line]
    assert len(publishes) >= 2
    assert all("robopulse/v1/acme/r-1/telemetry" in line for line in publishes)
