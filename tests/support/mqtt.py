"""A plain paho subscriber for tests: what the broker really delivered, read without robopulse code."""

from __future__ import annotations

import threading
import uuid

import paho.mqtt.client as mqtt

from protocol.codec import decode_batch, decode_status


class Subscriber:
    """A plain paho subscriber, QoS 1, persistent session: what the broker really delivered."""

    def __init__(self, port: int, topics: list[str], tls=None, username=None, password=None):
        self.messages: list[tuple[str, bytes, bool]] = []
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"sub-{uuid.uuid4().hex[:8]}",
                                  clean_session=False)
        self.client.reconnect_delay_set(1, 1)
        if tls is not None:
            self.client.tls_set(ca_certs=str(tls.ca), certfile=str(tls.client_cert), keyfile=str(tls.client_key))
        if username:
            self.client.username_pw_set(username, password)

        def on_connect(client, userdata, flags, reason_code, properties):
            if not reason_code.is_failure:
                client.subscribe([(t, 1) for t in topics])

        def on_subscribe(client, userdata, mid, reason_codes, properties):
            self.ready.set()

        def on_message(client, userdata, msg):
            with self.lock:
                self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))

        self.client.on_connect = on_connect
        self.client.on_subscribe = on_subscribe
        self.client.on_message = on_message
        self.client.connect("127.0.0.1", port, keepalive=10)
        self.client.loop_start()
        if not self.ready.wait(15):
            raise AssertionError("subscriber could not subscribe")

    def batches(self):
        with self.lock:
            return [decode_batch(p) for t, p, _ in self.messages if t.endswith("/telemetry")]

    def windows(self) -> dict[int, object]:
        """Windows by seq (duplicates collapse, as at the collector)."""
        return {w.seq: w for b in self.batches() for w in b.windows}

    def statuses(self):
        with self.lock:
            return [(decode_status(p), r) for t, p, r in self.messages if t.endswith("/status")]

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()
