"""Hardening issue 17, findings 1 and 6, against a real Mosquitto and a real collector:

1. a robot cannot pick its customer nor create customers at will: with the default ``[ingest]
   enroll = "auto"`` a robot already seen under a customer is never moved (``wrong_customer``) and
   customers named by telemetry are rate-limited (``new_customer_limit``); with ``"registry"`` only
   robots of the asset registry, on their own customer's topics, get in (``unregistered_robot``);
6. a status ``ts`` from the future does not pin a robot's state: the broker's last will and a
   clean shutdown still take it offline (the ts is clamped to the receive time and counted).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from protocol.codec import Batch, Window, encode_batch, encode_status, make_status
from protocol.topics import status_topic, telemetry_topic
from tests.support.procs import robopulse_cmd, wait_until

YEAR_MS = 365 * 86_400_000


def _batch(robot: str, customer: str, stream: str, seqs, counts: dict[str, int], now_ms: int) -> bytes:
    windows = tuple(Window(s, now_ms - 60_000 + s * 1000, now_ms - 59_000 + s * 1000, dict(counts))
                    for s in seqs)
    return encode_batch(Batch(robot, customer, "hq", stream, now_ms, windows))


def _rows(col, sql: str, *args):
    with col.db_read() as conn:
        return conn.execute(sql, args).fetchall()


def _rejects(col, reason: str) -> float:
    return col.metric("robopulse_ingest_rejects_total", f'reason="{reason}"')


def _handled(col) -> float:
    """Messages validated so far (accepted or rejected)."""
    return sum(col.metric("robopulse_ingest_messages_total", f'kind="{k}"') for k in ("telemetry", "status"))


def test_store_enroll_auto_never_moves_a_robot_nor_floods_customers(broker, start_collector, make_publisher):
    col = start_collector(broker)  # the default config: enroll = "auto"
    pub = make_publisher(broker.port)
    now = int(time.time() * 1000)
    pub.publish(telemetry_topic("acme", "r-0001"), _batch("r-0001", "acme", "00000000000000a1", [1, 2, 3],
                                                           {"usage.interactions": 5}, now))
    pub.wait_all()
    wait_until(lambda: col.window_count() == 3, 30, 0.1, "r-0001's windows", (col.proc,))
    # the finding: r-0001 publishes under another customer's topic, naming it in the payload, with a
    # counter of 10^9: it used to move itself and its usage history to that customer
    pub.publish(telemetry_topic("rival", "r-0001"), _batch("r-0001", "rival", "00000000000000a1", [4],
                                                            {"usage.interactions": 10**9}, now))
    pub.publish(status_topic("rival", "r-0001"),
                encode_status(make_status("r-0001", "rival", "hq", "online", ts=now)))
    # and 30 publishes, each a new robot naming a new customer: they used to create 30 customers
    for i in range(30):
        robot, customer = f"r-x{i:02d}", f"shell-{i:02d}"
        pub.publish(telemetry_topic(customer, robot), _batch(robot, customer, f"{i:016x}", [1],
                                                               {"usage.interactions": 1}, now))
    pub.wait_all()
    wait_until(lambda: _handled(col) >= 33, 30, 0.1, "every message validated", (col.proc,))
    wait_until(lambda: col.metric("robopulse_ingest_backlog_messages") == 0, 30, 0.1, "committed", (col.proc,))
    assert _rows(col, "SELECT customer FROM robots WHERE id = 'r-0001'") == [("acme",)]
    assert _rows(col, "SELECT COUNT(*) FROM customers WHERE id = 'rival'") == [(0,)]
    assert _rows(col, "SELECT SUM(total) FROM counter_day WHERE robot = 'r-0001' AND metric = 'usage.interactions'") \
        == [(15,)]
    assert _rows(col, "SELECT customer, SUM(total) FROM customer_day WHERE metric = 'usage.interactions' "
                      "AND customer IN ('acme', 'rival') GROUP BY customer") == [("acme", 15)]
    assert _rejects(col, "wrong_customer") == 2
    shells = _rows(col, "SELECT COUNT(*) FROM customers WHERE id LIKE 'shell-%'")[0][0]
    assert 1 <= shells <= 11  # 10 a minute (the default), a token or so refilled meanwhile
    assert _rejects(col, "new_customer_limit") == 30 - shells
    assert _rows(col, "SELECT COUNT(*) FROM rejects WHERE reason IN ('wrong_customer', 'new_customer_limit')") \
        == [(32 - shells,)]
    # the process is fine and r-0001 still reports under its own customer
    pub.publish(telemetry_topic("acme", "r-0001"), _batch("r-0001", "acme", "00000000000000a1", [5],
                                                           {"usage.interactions": 1}, now))
    pub.wait_all()
    wait_until(lambda: _rows(col, "SELECT SUM(total) FROM counter_day WHERE robot = 'r-0001'")[0][0] == 16,
               30, 0.1, "r-0001's own window", (col.proc,))


def _registry_reloaded(col, registered: int) -> None:
    """Wait until the collector's view of the registry holds ``registered`` robots (it polls the
    store every ``registry_refresh_s`` and logs each change): a fixed sleep of a few refreshes is
    not enough on a loaded machine, and a message sent before the reload is rejected."""
    def reloaded() -> bool:
        out = [json.loads(line) for line in col.proc.output().splitlines() if line.startswith("{")]
        return any(e.get("event") == "enrollment_reloaded" and e.get("registered") == registered for e in out)
    wait_until(reloaded, 30, 0.1, f"the collector's registry view to hold {registered} robots", (col.proc,))


def _cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run(robopulse_cmd("collector", *map(str, args)), capture_output=True, text=True, timeout=60)


def test_store_enroll_registry_admits_only_registered_robots_on_their_customer(tmp_path, broker, start_collector,
                                                                              make_publisher):
    col = start_collector(broker, **{"ingest.enroll": "registry", "ingest.registry_refresh_s": 0.3})
    (tmp_path / "customers.csv").write_text("id,name\nacme,Acme\nrival,Rival\n", encoding="utf-8")
    assert _cli("import-customers", tmp_path / "customers.csv", "--config", col.config).returncode == 0
    (tmp_path / "robots.csv").write_text("robot,customer,site,activated\nr-0001,acme,hq,2026-03-01\n",
                                         encoding="utf-8")
    assert _cli("import-robots", tmp_path / "robots.csv", "--config", col.config).returncode == 0
    _registry_reloaded(col, 1)
    pub = make_publisher(broker.port)
    now = int(time.time() * 1000)
    pub.publish(telemetry_topic("acme", "r-0001"), _batch("r-0001", "acme", "00000000000000a1", [1, 2],
                                                           {"usage.interactions": 2}, now))
    pub.publish(telemetry_topic("rival", "r-0001"), _batch("r-0001", "rival", "00000000000000a1", [3],
                                                            {"usage.interactions": 10**9}, now))
    pub.publish(telemetry_topic("acme", "r-0009"), _batch("r-0009", "acme", "00000000000000b9", [1],
                                                           {"usage.interactions": 1}, now))
    pub.publish(status_topic("acme", "r-0009"),
                encode_status(make_status("r-0009", "acme", "hq", "online", ts=now)))
    pub.wait_all()
    wait_until(lambda: _handled(col) >= 4, 30, 0.1, "every message validated", (col.proc,))
    wait_until(lambda: col.metric("robopulse_ingest_backlog_messages") == 0, 30, 0.1, "committed", (col.proc,))
    assert _rows(col, "SELECT id, customer FROM robots") == [("r-0001", "acme")]
    assert col.window_count() == 2
    assert _rejects(col, "wrong_customer") == 1
    assert _rejects(col, "unregistered_robot") == 2
    # registered later: its next messages get in (within registry_refresh_s)
    (tmp_path / "robots.csv").write_text("robot,customer,site,activated\nr-0001,acme,hq,2026-03-01\n"
                                         "r-0009,acme,hq,2026-06-01\n", encoding="utf-8")
    assert _cli("import-robots", tmp_path / "robots.csv", "--config", col.config).returncode == 0
    _registry_reloaded(col, 2)
    pub.publish(telemetry_topic("acme", "r-0009"), _batch("r-0009", "acme", "00000000000000b9", [2],
                                                           {"usage.interactions": 1}, now))
    pub.wait_all()
    wait_until(lambda: col.window_count() == 3, 30, 0.1, "r-0009 admitted", (col.proc,))
    assert _rows(col, "SELECT customer FROM robots WHERE id = 'r-0009'") == [("acme",)]


def _state(col, robot: str):
    rows = _rows(col, "SELECT state, state_reason FROM robots WHERE id = ?", robot)
    return rows[0] if rows else None


def test_store_status_from_the_future_does_not_hide_the_last_will(broker, start_collector, make_publisher):
    col = start_collector(broker)
    robot, customer = "r-0042", "acme"
    topic = status_topic(customer, robot)
    will = encode_status(make_status(robot, customer, "hq", "offline", reason="lost"))  # no ts, as the agent's
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"robot-{uuid.uuid4().hex[:6]}",
                         protocol=mqtt.MQTTv5)
    client.will_set(topic, will, qos=1, retain=True)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    ahead = int(time.time() * 1000) + YEAR_MS  # a robot whose RTC is a year ahead
    client.publish(topic, encode_status(make_status(robot, customer, "hq", "online", ts=ahead)), qos=1,
                   retain=True).wait_for_publish(10)
    wait_until(lambda: _state(col, robot) == ("online", None), 30, 0.1, "online", (col.proc,))
    online_ms = _rows(col, "SELECT state_ms FROM robots WHERE id = ?", robot)[0][0]
    # the connection drops: the broker publishes the last will, which must win
    client.disconnect(reasoncode=ReasonCode(PacketTypes.DISCONNECT, "Disconnect with will message"))
    client.loop_stop()
    wait_until(lambda: _state(col, robot) == ("offline", "lost"), 30, 0.1, "the will applied", (col.proc,))
    assert online_ms <= int(time.time() * 1000)  # the receive time, not a year ahead
    assert col.metric("robopulse_ingest_clamped_total", 'field="status_ts"') == 1
    # back online (still a year ahead), then a clean shutdown stamped a year ahead too
    pub = make_publisher(broker.port)
    ahead = int(time.time() * 1000) + YEAR_MS
    pub.publish(topic, encode_status(make_status(robot, customer, "hq", "online", ts=ahead)))
    pub.wait_all()
    wait_until(lambda: _state(col, robot) == ("online", None), 30, 0.1, "online again", (col.proc,))
    pub.publish(topic, encode_status(make_status(robot, customer, "hq", "offline", reason="shutdown",
                                                 ts=ahead + 5_000)))
    pub.wait_all()
    wait_until(lambda: _state(col, robot) == ("offline", "shutdown"), 30, 0.1, "the shutdown applied", (col.proc,))
    assert col.metric("robopulse_ingest_clamped_total", 'field="status_ts"') == 3


def test_store_last_will_wins_over_a_future_ts_already_stored(broker, start_collector, make_publisher):
    """A store written by an older collector may hold a state stamped a year ahead: the will still
    wins."""
    col = start_collector(broker)
    pub = make_publisher(broker.port)
    robot, customer = "r-0043", "acme"
    pub.publish(status_topic(customer, robot),
                encode_status(make_status(robot, customer, "hq", "online", ts=int(time.time() * 1000))))
    pub.wait_all()
    wait_until(lambda: _state(col, robot) == ("online", None), 30, 0.1, "online", (col.proc,))
    conn = sqlite3.connect(col.db, timeout=30)
    with conn:
        conn.execute("UPDATE robots SET state_ms = ? WHERE id = ?", (int(time.time() * 1000) + YEAR_MS, robot))
    conn.close()
    pub.publish(status_topic(customer, robot),
                encode_status(make_status(robot, customer, "hq", "offline", reason="lost")))
    pub.wait_all()
    wait_until(lambda: _state(col, robot) == ("offline", "lost"), 30, 0.1, "the will applied", (col.proc,))
