"""A plain paho subscriber for tests: what really reached the broker."""

from __future__ import annotations

import threading
import uuid

import paho.mqtt.client as mqtt


class Recorder:
    """Subscribes to topics and keeps every message (topic, payload, retain) in arrival order."""

    def __init__(self, port: int, topics: list[str], host: str = "127.0.0.1"):
        self.messages: list[tuple[str, bytes, bool]] = []
        self.lock = threading.Lock()
        self.connected = threading.Event()
        self._pending_subs: set[int] = set()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"rec-{uuid.uuid4().hex[:8]}")
        self.topics = topics

        def on_connect(client, userdata, flags, reason_code, properties):
            if not reason_code.is_failure:
                for topic in self.topics:
                    _, mid = client.subscribe(topic, qos=1)
                    self._pending_subs.add(mid)

        def on_subscribe(client, userdata, mid, reason_codes, properties):
            # ready only once the broker has confirmed every subscription (SUBACK)
            self._pending_subs.discard(mid)
            if not self._pending_subs:
                self.connected.set()

        def on_message(client, userdata, msg):
            with self.lock:
                self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))

        self.client.on_connect = on_connect
        self.client.on_message = on_message
        self.client.on_subscribe = on_subscribe
        self.client.connect(host, port, keepalive=30)
        self.client.loop_start()
        if not self.connected.wait(10):
            raise AssertionError("recorder could not connect")

    def snapshot(self) -> list[tuple[str, bytes, bool]]:
        with self.lock:
            return list(self.messages)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
