"""The MQTT source: a persistent MQTT 5 session whose messages are acknowledged only once stored.

A fixed client id, clean start off and a long session expiry make the broker keep our
subscription and queue QoS 1 messages while the collector is down or restarting.  paho's manual
ack (``manual_ack=True``) holds back each PUBACK until the writer has committed the message: a
crash between receiving and storing loses nothing; the broker sends the message again and the
store's unique key drops the copy.  ``$share/<group>/`` lets several collectors split a fleet.

Validation runs here, in paho's network thread; rejects are counted at once and recorded (and
acknowledged) through the writer like everything else.  Logs about rejects are rate-limited.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from collector.ingest.validate import Reject, Status, validate
from collector.store.writer import Item
from protocol.logs import get_logger
from protocol.timeunits import DAY_MS
from protocol.topics import subscriptions

log = get_logger("collector.ingest")
HEAD_BYTES = 32


class RateLimitedLog:
    """At most one line per reason every ``every_s`` seconds, with how many were suppressed."""

    def __init__(self, every_s: float = 10.0, clock=time.monotonic):
        self.every_s, self.clock = every_s, clock
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def reject(self, reason: str, topic: str, detail: str) -> None:
        now = self.clock()
        if now - self._last.get(reason, -1e9) < self.every_s:
            self._suppressed[reason] = self._suppressed.get(reason, 0) + 1
            return
        self._last[reason] = now
        log.warning("message_rejected", reason=reason, topic=topic[:200], detail=detail[:100],
                    suppressed=self._suppressed.pop(reason, 0))


class MqttSource:
    def __init__(self, config: dict, writer, stats, clock: Callable[[], float] = time.time):
        mq, col = config["mqtt"], config["collector"]
        self.cfg = mq
        self.writer = writer
        self.stats = stats
        self.clock = clock
        self.prefix = mq["topic_prefix"]
        self.max_age_ms = max(col["raw_retention_days"], col["rollup_retention_days"]) * DAY_MS
        self.filters = subscriptions(self.prefix, mq["shared_group"] or None)
        self.connected = threading.Event()
        self._generation = 0          # bumps on every connect: acks of an older connection are dropped
        self._lock = threading.Lock()
        self._rlog = RateLimitedLog()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=mq["client_id"],
                                  protocol=mqtt.MQTTv5, manual_ack=True)
        if mq["username"]:
            self.client.username_pw_set(mq["username"], mq["password"] or None)
        if mq["tls_ca"]:
            self.client.tls_set(ca_certs=mq["tls_ca"], certfile=mq["tls_cert"] or None,
                                keyfile=mq["tls_key"] or None, cert_reqs=ssl.CERT_REQUIRED)
        self.client.reconnect_delay_set(1, 30)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> "MqttSource":
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = int(self.cfg["session_expiry_s"])
        # the broker may have this many unacknowledged messages out to us: our acks wait for a
        # commit, so this must cover a flush's worth of messages or ingest stalls on the window
        props.ReceiveMaximum = int(self.cfg["receive_maximum"])
        self.client.connect_async(self.cfg["host"], self.cfg["port"], keepalive=self.cfg["keepalive_s"],
                                  clean_start=False, properties=props)
        self.client.loop_start()
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        self.stats.connected.set(0)

    # ---------------------------------------------------------------- callbacks (paho's thread)

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.error("broker_refused", reason=str(reason_code))
            return
        with self._lock:
            self._generation += 1
        for topic in self.filters:
            client.subscribe(topic, qos=1)
        self.stats.connects.inc()
        log.info("broker_connected", session_present=bool(flags.session_present), filters=self.filters)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        if any(rc.is_failure for rc in reason_codes):
            log.error("subscribe_refused", reasons=[str(rc) for rc in reason_codes])
            return
        self.connected.set()
        self.stats.connected.set(1)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self.connected.clear()
        self.stats.connected.set(0)
        log.warning("broker_disconnected", reason=str(reason_code))

    def _ack_for(self, msg) -> Callable[[], None] | None:
        if msg.qos == 0:
            return None
        mid, qos, generation = msg.mid, msg.qos, self._generation

        def ack() -> None:
            if generation == self._generation:   # else the broker resends it on the new connection
                self.client.ack(mid, qos)
        return ack

    def _on_message(self, client, userdata, msg):
        try:
            self._receive(msg)
        except Exception as exc:  # a bug must not stop paho's loop (and with it all ingest)
            log.error("message_failed", reason="internal_error", error=repr(exc)[:300], topic=msg.topic[:200])
            self.stats.rejects.inc(reason="internal_error")
            ack = self._ack_for(msg)
            if ack is not None:
                ack()

    def _receive(self, msg) -> None:
        now_ms = int(self.clock() * 1000)
        payload = msg.payload
        topic = msg.topic
        try:
            accepted = validate(topic, payload, prefix=self.prefix, now_ms=now_ms, max_age_ms=self.max_age_ms)
        except Reject as exc:
            self.stats.messages.inc(kind=_kind(topic))
            self.stats.rejects.inc(reason=exc.reason)
            self._rlog.reject(exc.reason, topic, exc.detail)
            row = (now_ms, exc.reason, topic[:256], len(payload), bytes(payload[:HEAD_BYTES]).hex())
            self.writer.submit(Item("reject", row, now_ms, 0, self._ack_for(msg)))
            return
        if isinstance(accepted, Status):
            self.stats.messages.inc(kind="status")
            self.writer.submit(Item("status", accepted, now_ms, 0, self._ack_for(msg)))
        else:
            self.stats.messages.inc(kind="telemetry")
            self.writer.submit(Item("telemetry", accepted, now_ms, len(accepted.batch.windows),
                                    self._ack_for(msg)))


def _kind(topic: str) -> str:
    tail = topic.rsplit("/", 1)[-1]
    return tail if tail in ("telemetry", "status") else "other"
