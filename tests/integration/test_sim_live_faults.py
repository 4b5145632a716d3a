"""A live fault (one that starts after the live start) hits a robot only once it has gone live:
connected, its birth and its history delivered.  The live start is when ``sim run`` began, and the
back-fill before going live takes 1 s on a quiet machine and 10 s on a loaded one; a ``+4s`` power
cut used to take the robot down before it ever connected there, so the collector never heard of it
(tests/e2e/test_sim_alerts.py failed under load).  A fault at ``+0s`` has always come by the time
the fleet goes live, so this is that loaded machine, every time."""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as mqtt

from protocol.codec import decode_batch, decode_status
from simulator import scenario
from simulator.fleet import Fleet
from tests.support.procs import wait_until

SCENARIO = """
[scenario]
name = "live-faults"
seed = 3
interval_s = 5
publish_interval_s = 1
backfill_days = 0.25
backfill_window_s = 3600
backfill_recent_s = 600
backfill_recent_window_s = 300

[[customers]]
id = "cut-museum"
scene = "museum"
robots = 3
sites = ["hall-a", "hall-b", "hall-c"]
onboarded = "-30d"

[[faults]]
kind = "powered_off"       # a power cut: the broker publishes the last will
customer = "cut-museum"
robot = "1"
start = "+0s"

[[faults]]
kind = "site_network_down"
customer = "cut-museum"
site = "hall-b"            # robot 2
start = "+0s"

[[faults]]
kind = "powered_off"       # off since before the live start: never boots, never connects
customer = "cut-museum"
robot = "3"
start = "-1h"
"""


class Listener:
    """Every status and telemetry message the broker hands a subscriber, in order."""

    def __init__(self, port: int):
        self.messages: list[tuple[str, str, object]] = []  # (robot, kind, decoded)
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="live-faults-listener")
        self.client.on_connect = lambda c, *a: c.subscribe("robopulse/v1/#", qos=1)
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port, 30)
        self.client.loop_start()

    def _on_message(self, client, userdata, msg) -> None:
        kind = msg.topic.rsplit("/", 1)[-1]
        doc = decode_status(msg.payload) if kind == "status" else decode_batch(msg.payload)
        robot = doc["robot"] if kind == "status" else doc.robot
        with self.lock:
            self.messages.append((robot, kind, doc))

    def of(self, robot: str) -> list[tuple[str, object]]:
        with self.lock:
            return [(kind, doc) for r, kind, doc in self.messages if r == robot]

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def windows(messages) -> int:
    return sum(len(doc.windows) for kind, doc in messages if kind == "telemetry")


def states(messages) -> list[tuple[str, str | None]]:
    return [(doc["state"], doc.get("reason")) for kind, doc in messages if kind == "status"]


def test_sim_live_faults_wait_until_the_robot_went_live(broker, tmp_path):
    path = tmp_path / "live.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    scn = scenario.load(path, int(time.time() * 1000))
    listener = Listener(broker.port)
    assert listener.subscribed.wait(10)
    fleet = Fleet(scn, tmp_path / "state", "127.0.0.1", broker.port, workers=2)
    try:
        fleet.backfill()
        held = {r.robot.id: len(r.outbox) for r in fleet.robots}
        assert held["cut-museum-r01"] > 0 and held["cut-museum-r02"] > 0
        fleet.start()
        r01, r02, r03 = (r.robot.id for r in fleet.robots)

        def lost(robot: str) -> bool:
            return ("offline", "lost") in states(listener.of(robot))

        wait_until(lambda: lost(r01) and lost(r02), 60, 0.1, "the power cut's and the network loss's last wills")
        for robot in (r01, r02):
            seen = listener.of(robot)
            # seen live first: its birth, then everything it held at boot, then the broker's last will
            assert states(seen)[0] == ("online", None), seen
            assert states(seen)[-1] == ("offline", "lost"), seen
            assert windows(seen) >= held[robot], (robot, windows(seen), held[robot])
        by_id = {r.robot.id: r for r in fleet.robots}
        assert not by_id[r01].powered and by_id[r02].network_down
        # a robot off since before the live start never went live: nothing of it reached the broker
        assert not by_id[r03].powered and listener.of(r03) == []
    finally:
        fleet.stop(flush_timeout_s=5)
        listener.stop()
