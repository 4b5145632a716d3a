"""The publisher (sink): outbox rows -> compressed Batch messages on the broker, QoS 1.

A row leaves the outbox only when the broker's PUBACK for its message arrives (tracked by ``mid``).
The outbox is the queue: paho only ever holds the few messages in flight on the current connection,
and a lost connection throws the paho client away, so after a reconnect the rows still in the outbox
go again, oldest first (the collector counts each (robot, stream, seq) once).

Nothing here owns a thread or reads the system clock: the caller drives ``poll()`` with its own
clock (the agent's loop, or the simulator's for a thousand robots at --speed).  ``start_thread()``
runs the same loop in a thread for callers that prefer that.
"""

from __future__ import annotations

import random
import ssl
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from agent import __version__
from protocol import topics, zdict
from protocol.codec import MAX_WINDOWS, Batch, ProtocolError, encode_batch, encode_status, make_status
from protocol.logs import get_logger

MAX_INFLIGHT = 4          # messages awaiting PUBACK on one connection
CONNACK_TIMEOUT_MS = 30_000
BACKOFF_MIN_S, BACKOFF_MAX_S = 1, 60


def wall_ms() -> int:
    return int(time.time() * 1000)


def backoff_s(attempt: int, rnd: float, max_s: float = BACKOFF_MAX_S) -> float:
    """Exponential backoff from 1 s to ``max_s``, every attempt jittered by 0.5x-1.5x: a venue full
    of robots must not stampede.  The first retry is spread too (0.5-1.5 s): after a broker restart
    every robot's first retry starts at the same moment (the chaos suite saw 118 first retries all at
    exactly 1.0 s when the floor clipped the jitter away)."""
    base = min(max_s, BACKOFF_MIN_S * 2 ** max(0, min(attempt, 30) - 1))
    return min(max_s, base * (0.5 + rnd))


def note_link_alive(client: mqtt.Client) -> None:
    """Tell paho the connection just carried a message, so it does not send a keepalive PINGREQ.

    paho 2.x never moves its last-sent time after an ordinary write (eclipse-paho/paho.mqtt.python
    issue #813, open), so it pings every ``keepalive_s`` however often the agent publishes: a PINGREQ,
    a PINGRESP and an ACK, three packets every 90 s, about 6 KB an hour on paid 4G. A PUBACK proves
    the link both ways, which is all the ping would prove. Guarded, so a paho that renames the field
    only brings the pings back (tests/e2e/test_agent_library.py counts them)."""
    mutex = getattr(client, "_msgtime_mutex", None)
    if mutex is not None and hasattr(client, "_last_msg_out"):
        with mutex:
            client._last_msg_out = getattr(mqtt, "time_func", time.monotonic)()


class TopicAlias:
    """MQTT 5 topic alias for the telemetry topic: the full topic (about 50 bytes) goes with the first
    PUBLISH of a connection, then a 2-byte alias stands for it; 60 messages an hour save ~3 KB.
    Used only when the broker's CONNACK allows aliases (Mosquitto: ``max_topic_alias``, 10 by
    default); aliases live as long as the connection, so each new one starts with the topic again."""

    ALIAS = 1

    def __init__(self, topic: str):
        self.topic = topic
        self.enabled = False
        self.established = False
        self._properties = Properties(PacketTypes.PUBLISH)
        self._properties.TopicAlias = self.ALIAS

    def connected(self, connack_properties) -> None:
        maximum = getattr(connack_properties, "TopicAliasMaximum", 0) if connack_properties else 0
        self.enabled = maximum >= self.ALIAS
        self.established = False

    def next(self) -> tuple[str, Properties | None]:
        """(topic, properties) for the next telemetry PUBLISH on this connection."""
        if not self.enabled:
            return self.topic, None
        if self.established:
            return "", self._properties
        self.established = True  # paho sends queued packets in order: this one sets the alias first
        return self.topic, self._properties

    def not_sent(self, topic: str) -> None:
        if topic:
            self.established = False


class Publisher:
    def __init__(self, config, outbox, clock=wall_ms, log=None, rng: random.Random | None = None):
        a, m = config.agent, config.mqtt
        self.config = config
        self.outbox = outbox
        self.clock = clock
        self.log = log or get_logger("agent.publisher")
        self.rng = rng or random.Random()
        self.broker = f"{m.host}:{m.port}"
        self.telemetry_topic = topics.telemetry_topic(a.customer_id, a.robot_id, m.topic_prefix)
        self.status_topic = topics.status_topic(a.customer_id, a.robot_id, m.topic_prefix)
        self.publish_interval_ms = a.publish_interval_s * 1000
        self.dictionary = zdict.CURRENT if m.zlib_dictionary else None
        self.mqtt5 = m.protocol == "5"
        self.topic_alias = TopicAlias(self.telemetry_topic)
        self.client: mqtt.Client | None = None
        self.connected = False
        self.connected_since_ms: int | None = None
        self.state_since_ms: int = clock()  # connected since / disconnected since
        self.last_publish_ms: int | None = None
        self.last_error: str | None = None
        self.attempts = 0
        self.next_attempt_ms = 0
        self.next_publish_ms = 0
        self._connect_started_ms = 0
        self._lock = threading.RLock()
        self._inflight: dict[int, tuple[int, int, float, int]] = {}  # mid -> (lo, hi, sent monotonic, n)
        self._sent_upto = 0
        self._draining = False
        self._status_mid: int | None = None
        self._status_acked = threading.Event()
        # link report for the network sampler
        self._offline_since: int | None = clock()
        self._offline_acc_ms = 0
        self._disconnects = 0
        self._rtt_ms: float | None = None
        # totals, for status and the benchmark
        self.messages_total = 0
        self.windows_total = 0
        self.payload_bytes_total = 0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    # ------------------------------------------------------------------ connection

    def _status_payload(self, state: str, reason: str | None = None, ts: int | None = None) -> bytes:
        a = self.config.agent
        return encode_status(make_status(a.robot_id, a.customer_id, a.site_id, state, ts=ts,
                                         agent=__version__, scene=a.scene, interval_s=a.interval_s,
                                         reason=reason))

    def _make_client(self) -> mqtt.Client:
        a, m = self.config.agent, self.config.mqtt
        client_id = f"robopulse-{a.customer_id}-{a.robot_id}"
        if self.mqtt5:
            client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        else:
            client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                                 protocol=mqtt.MQTTv311, clean_session=True)
        client.max_inflight_messages = MAX_INFLIGHT + 2
        client.connect_timeout = 10
        client.will_set(self.status_topic, self._status_payload("offline", "lost"), qos=1, retain=True)
        if m.username:
            client.username_pw_set(m.username, m.password or None)
        if m.tls_ca:
            client.tls_set(ca_certs=m.tls_ca, certfile=m.tls_cert or None, keyfile=m.tls_key or None)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        return client

    def _connect(self, now: int) -> None:
        client = self._make_client()
        try:
            m = self.config.mqtt
            if self.mqtt5:  # a clean session: the outbox, not the broker, keeps what is unacknowledged
                client.connect(m.host, m.port, m.keepalive_s, clean_start=True)
            else:
                client.connect(m.host, m.port, m.keepalive_s)
        except (OSError, ssl.SSLError, ValueError) as exc:
            self._retry_later(now, f"{type(exc).__name__}: {exc}", "mqtt_connect_failed")
            return
        self.client = client
        self._connect_started_ms = now

    def _retry_later(self, now: int, error: str, event: str) -> None:
        self.attempts += 1
        delay = backoff_s(self.attempts, self.rng.random(), self.config.mqtt.reconnect_max_s)
        self.next_attempt_ms = now + int(delay * 1000)
        self.last_error = error
        self.log.warning(event, broker=self.broker, error=error, attempt=self.attempts, retry_in_s=round(delay, 1))

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if client is not self.client:
            return
        now = self.clock()
        if reason_code.is_failure:
            # e.g. "Bad user name or password" / "Not authorized": paho closes the socket
            self.client = None
            self._retry_later(now, f"connection refused: {reason_code}", "mqtt_connect_refused")
            return
        with self._lock:
            self.connected = True
            self.connected_since_ms = now
            self.state_since_ms = now
            self.attempts = 0
            self.last_error = None
            self._inflight.clear()
            self._sent_upto = 0
            self.topic_alias.connected(properties)
            self.next_publish_ms = now  # backlog goes at once
            if self._offline_since is not None:
                self._offline_acc_ms += max(0, now - self._offline_since)
                self._offline_since = None
        client.publish(self.status_topic, self._status_payload("online", ts=now), qos=1, retain=True)
        self.log.info("mqtt_connected", broker=self.broker, backlog=len(self.outbox))

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        if client is self.client and not self._stop.is_set():
            self._lost(f"disconnected: {reason_code}")

    def _lost(self, error: str) -> None:
        now = self.clock()
        with self._lock:
            was_connected = self.connected
            self.client = None
            self.connected = False
            self._inflight.clear()
            self._sent_upto = 0
            if was_connected:
                self._disconnects += 1
                self._offline_since = now
                self.state_since_ms = now
                self.attempts = 0
        self._retry_later(now, error, "mqtt_connection_lost" if was_connected else "mqtt_connect_failed")

    # ------------------------------------------------------------------ publishing

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        if client is not self.client:
            return
        with self._lock:
            if mid == self._status_mid:
                self._status_acked.set()
            entry = self._inflight.pop(mid, None)
        if entry is None:
            return
        lo, hi, sent, n = entry
        if reason_code.is_failure:  # MQTT 5 brokers may refuse; the rows stay and go again
            self.log.warning("batch_refused", reason=str(reason_code), first_seq=lo, last_seq=hi)
            return
        note_link_alive(client)
        self.outbox.delete_range(lo, hi)
        self.last_publish_ms = self.clock()
        self._rtt_ms = (time.monotonic() - sent) * 1000
        self.windows_total += n
        self.log.debug("batch_published", first_seq=lo, last_seq=hi, windows=n)

    def _encode(self, windows: list, now: int) -> tuple[bytes, list]:
        a = self.config.agent
        while True:
            try:
                batch = Batch(a.robot_id, a.customer_id, a.site_id, self.outbox.stream, now, tuple(windows))
                # tiny batches: zlib's header and checksum can outweigh the gain, plain when smaller
                packed = encode_batch(batch, compress=True, dictionary=self.dictionary, smallest=len(windows) < 8)
                return packed, windows
            except ProtocolError as exc:
                if exc.reason == "too_large" and len(windows) > 1:
                    windows = windows[: len(windows) // 2]
                    continue
                raise

    def _send(self, windows: list, now: int) -> int:
        """Publish one batch; returns how many windows went (0: could not publish)."""
        try:
            payload, windows = self._encode(windows, now)
        except ProtocolError as exc:
            # cannot happen for windows the core wrote; never let one bad row block the outbox
            self.log.error("window_invalid", seq=windows[0].seq, reason=exc.reason)
            self.outbox.delete_range(windows[0].seq, windows[0].seq)
            return 1
        with self._lock:
            topic, properties = self.topic_alias.next()
            info = self.client.publish(topic, payload, qos=1, properties=properties)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                self.topic_alias.not_sent(topic)
                return 0
            self._inflight[info.mid] = (windows[0].seq, windows[-1].seq, time.monotonic(), len(windows))
            self._sent_upto = windows[-1].seq
        self.messages_total += 1
        self.payload_bytes_total += len(payload)
        return len(windows)

    def _pump(self, now: int, force: bool = False) -> None:
        """Every publish_interval_s the closed windows go out (batches of <= 500); a backlog keeps
        draining as PUBACKs come back instead of waiting for the next interval, so new windows are
        never stuck behind it for long."""
        if not (force or self._draining or now >= self.next_publish_ms):
            return
        if now >= self.next_publish_ms:
            self.next_publish_ms = now + self.publish_interval_ms
        while len(self._inflight) < MAX_INFLIGHT and self.client is not None:
            windows = self.outbox.peek(self._sent_upto, MAX_WINDOWS)
            if not windows:
                self._draining = False
                return
            sent = self._send(windows, now)
            if sent == 0:
                return
            self._draining = len(windows) == MAX_WINDOWS or sent < len(windows)
            if not self._draining:
                return

    # ------------------------------------------------------------------ driving

    def poll(self, timeout: float = 0.0, force: bool = False) -> bool:
        """Connect when due, move bytes (blocking up to ``timeout`` in select), publish when due.
        Returns False when there is no socket to wait on (the caller sleeps instead)."""
        now = self.clock()
        if self.client is None:
            if now >= self.next_attempt_ms:
                self._connect(now)
            if self.client is None:
                return False
        client = self.client
        rc = client.loop(timeout)
        if client is self.client and rc != mqtt.MQTT_ERR_SUCCESS:
            self._lost(f"network: {mqtt.error_string(rc)}")
            return True
        if self.client is not None and not self.connected and now - self._connect_started_ms > CONNACK_TIMEOUT_MS:
            self._lost("no CONNACK from the broker")
            return True
        if self.connected:
            self._pump(self.clock(), force)
        return True

    def pending(self) -> int:
        """Windows in the outbox (sent or not) that the broker has not acknowledged yet."""
        return len(self.outbox)

    def flush(self, timeout_s: float = 10.0, step_s: float = 0.05) -> bool:
        """Publish everything now and wait for the PUBACKs (real time); True when the outbox is empty."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if len(self.outbox) == 0 and not self._inflight:
                return True
            if not self.poll(step_s, force=True):
                time.sleep(step_s)
        return len(self.outbox) == 0

    def stop(self, timeout_s: float = 5.0) -> None:
        """Clean stop: flush what we can, publish retained offline/shutdown, disconnect (no will)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self.connected and self.client is not None:
            self.flush(timeout_s * 0.6)
        client = self.client
        if client is not None and self.connected:
            deadline = time.monotonic() + timeout_s * 0.4
            with self._lock:
                info = client.publish(self.status_topic,
                                      self._status_payload("offline", "shutdown", ts=self.clock()),
                                      qos=1, retain=True)
                self._status_mid = info.mid
            while not self._status_acked.is_set() and time.monotonic() < deadline and client is self.client:
                client.loop(0.05)
            client.disconnect()
            client.loop(0.05)
            self.log.info("mqtt_stopped", status_acked=self._status_acked.is_set(), backlog=len(self.outbox))
        self.client = None
        self.connected = False

    def start_thread(self, step_s: float = 0.2) -> "Publisher":
        """Drive ``poll`` from a thread of its own (the agent's loop calls poll itself instead)."""
        def run() -> None:
            while not self._stop.is_set():
                if not self.poll(step_s):
                    self._stop.wait(step_s)
        self._thread = threading.Thread(target=run, name="publisher", daemon=True)
        self._thread.start()
        return self

    # ------------------------------------------------------------------ for the network sampler

    def link_report(self) -> tuple[int, int, float | None]:
        """(disconnect episodes, offline ms, PUBLISH->PUBACK ms) since the last call."""
        now = self.clock()
        with self._lock:
            offline = self._offline_acc_ms
            if self._offline_since is not None:
                offline += max(0, now - self._offline_since)
                self._offline_since = now
            self._offline_acc_ms = 0
            disconnects, self._disconnects = self._disconnects, 0
            rtt, self._rtt_ms = self._rtt_ms, None
        return disconnects, offline, rtt

    def snapshot(self) -> dict:
        return {"connected": self.connected, "since_ms": self.state_since_ms,
                "broker": self.broker, "tls": bool(self.config.mqtt.tls_ca), "last_error": self.last_error,
                "last_publish_ms": self.last_publish_ms, "next_attempt_ms": None if self.connected else self.next_attempt_ms,
                "messages_total": self.messages_total, "windows_total": self.windows_total}
