"""The broker deployment in docs/deploy.md: with exactly its ACL and accounts, robot A's
credentials cannot publish as robot B, and the collector with the documented settings reads both."""

from __future__ import annotations

import re
import threading
import uuid
from collections import Counter
from pathlib import Path

import paho.mqtt.client as mqtt

from collector.store.sqlite.raw import all_windows
from tests.plugins.collector import Fleet
from tests.support.procs import wait_until

DOC = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"


def _doc_block(name: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"<!-- file: " + re.escape(name) + r"[^>]*-->\n```\n(.*?)```", text, re.S)
    assert match, f"docs/deploy.md has no block for {name}"
    return match.group(1)


def _doc_accounts() -> dict[str, str]:
    block = _doc_block("robopulse.passwd")
    return {m.group(1): m.group(2) for m in re.finditer(r"-b \S+ (\S+) '([^']+)'", block)}


def _v5_publish(port: int, user: str, password: str, topic: str, payload: bytes):
    """Publish QoS 1 as ``user`` with MQTT 5; the PUBACK reason code (or the CONNACK failure)."""
    done = threading.Event()
    result = {}
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"t-{uuid.uuid4().hex[:6]}",
                         protocol=mqtt.MQTTv5)
    client.username_pw_set(user, password)

    def on_connect(c, u, flags, rc, props):
        result["connack"] = rc
        if rc.is_failure:
            done.set()
        else:
            c.publish(topic, payload, qos=1)

    def on_publish(c, u, mid, rc, props):
        result["puback"] = rc
        done.set()

    client.on_connect, client.on_publish = on_connect, on_publish
    client.connect("127.0.0.1", port)
    client.loop_start()
    assert done.wait(15), "no answer from the broker"
    client.disconnect()
    client.loop_stop()
    return result


def test_store_broker_acl_robot_cannot_publish_as_another(make_broker, start_collector):
    accounts = _doc_accounts()
    assert {"robopulse-collector", "r-0001", "r-0002"} <= set(accounts)
    broker = make_broker(passwords=accounts, acl=_doc_block("robopulse.acl"), persistence=True)
    col = start_collector(broker, **{"mqtt.username": "robopulse-collector",
                                     "mqtt.password": accounts["robopulse-collector"],
                                     "mqtt.client_id": "robopulse-collector", "mqtt.shared_group": "collectors"})
    fleet = Fleet(0)
    from tests.plugins.collector import SimRobot
    a = SimRobot("r-0001", "acme", "hq", "00000000000000a1", fleet.base_ms)
    b = SimRobot("r-0002", "acme", "hq", "00000000000000b2", fleet.base_ms)
    # robot A publishes as itself: accepted and stored
    topic, payload = fleet.payload(a, fleet.make_windows(a, 3))
    assert _v5_publish(broker.port, "r-0001", accounts["r-0001"], topic, payload)["puback"] == 0
    # robot A's credentials, robot B's topic and a payload claiming to be B: refused by the broker
    own_windows = dict(fleet.windows)
    spoof_topic, spoof = fleet.payload(b, fleet.make_windows(b, 3))
    res = _v5_publish(broker.port, "r-0001", accounts["r-0001"], spoof_topic, spoof)
    assert res["puback"].is_failure and res["puback"].value == 135  # Not authorized
    # robot A under another customer's segment with B's id: refused too
    res = _v5_publish(broker.port, "r-0001", accounts["r-0001"], spoof_topic.replace("/acme/", "/other/"), spoof)
    assert res["puback"].value == 135
    # wrong password and anonymous: no connection at all
    assert _v5_publish(broker.port, "r-0001", "guess", topic, payload)["connack"].is_failure
    # robot B as itself still works (positive control for B's topic)
    topic_b, payload_b = fleet.payload(b, fleet.make_windows(b, 2))
    assert _v5_publish(broker.port, "r-0002", accounts["r-0002"], topic_b, payload_b)["puback"] == 0
    wait_until(lambda: col.window_count() == len(own_windows) + 2, 30, 0.1, "A's and B's own windows", (col.proc,))
    with col.db_read() as conn:
        per_robot = Counter(w[0] for w in all_windows(conn))
        assert per_robot == {"r-0001": 3, "r-0002": 2}
        assert min(w[2] for w in all_windows(conn, "r-0002")) == 4
