"""A plain paho subscriber for tests: what really reached the broker."""

from __future__ import annotations

import threading
import uuid

import paho.mqtt.client as mqtt


class Recorder:
    """Subscribes to topics and keeps every message (topic, payload, retain) in arrival order."""

    def __init__(self, port: int, topics: list[str], host: str = "127.0.0.1", **tls):
        self.messages: list[tuple[str, bytes, bool]] = []
        self.lock = threading.Lock()
        self.connected = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"rec-{uuid.uuid4().hex[:8]}")
        self.topics = topics

        def on_connect(client, userdata, flags, reason_code, properties):
            if not reason_code.is_failure:
                for topic in self.topics:
                    client.subscribe(topic, qos=1)
                self.connected.set()

        def on_message(client, userdata, msg):
            with self.lock:
                self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))

        self.client.on_connect = on_connect
        self.client.on_message = on_message
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
