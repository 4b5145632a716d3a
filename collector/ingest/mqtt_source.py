"""The MQTT source: a persistent MQTT 5 session whose messages are acknowledged only once stored.

A fixed client id, clean start off and a long session expiry make the broker keep our
subscription and queue QoS 1 messages while the collector is down or restarting.  paho's manual
ack (``manual_ack=True``) holds back each PUBACK until the writer has committed the message: a
crash between receiving and storing loses nothing; the broker sends the message again and the
store's unique key drops the copy.  ``$share/<group>/`` lets several collectors split a fleet.

paho's network thread validates each message (``collector.ingest.intake``) and hands it, with its
packet id, to the writer process (``collector.store.writer_process``), which stores it and reports
which messages are committed; ``ack`` is then called for each of them.
"""

from __future__ import annotations

import socket
import ssl
import sys
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from protocol.config import Values
from protocol.logs import FailureLog, get_logger
from protocol.topics import subscriptions

log = get_logger("collector.ingest")
#: MQTT 5 DISCONNECT reason code 0x8E: another connection took over our client id's session
SESSION_TAKEN_OVER = 0x8E


def connect_cause(exc: BaseException | None) -> str:
    """A short, bounded name for why a connection attempt failed (the log's ``cause``)."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "tls_verify_failed"
    if isinstance(exc, ssl.SSLError):
        return "tls_failed"
    if isinstance(exc, socket.gaierror):
        return "dns_failed"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, OSError):
        return "network_error"
    return "unknown"


class MqttSource:
    """Every message goes to ``sink.receive(topic, payload, token)``; the token, ``(mid, qos,
    generation)`` or None for QoS 0, comes back to ``ack`` once the message is committed."""

    def __init__(self, config: Values, sink, stats):
        mq = config.mqtt
        self.cfg = mq
        self.sink = sink
        self.stats = stats
        self.filters = subscriptions(mq.topic_prefix, mq.shared_group or None)
        self.connected = threading.Event()
        self._generation = 0          # bumps on every connect: acks of an older connection are dropped
        self.received = 0             # QoS 1 messages received, and acknowledged (leave-group waits on them)
        self.acked = 0
        self._lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=mq.client_id,
                                  protocol=mqtt.MQTTv5, manual_ack=True)
        if mq.username:
            self.client.username_pw_set(mq.username, mq.password or None)
        if mq.tls_ca:
            self.client.tls_set(ca_certs=mq.tls_ca, certfile=mq.tls_cert or None,
                                keyfile=mq.tls_key or None, cert_reqs=ssl.CERT_REQUIRED)
        self.client.reconnect_delay_set(1, 30)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.on_connect_fail = self._on_connect_fail
        # broker down, TLS misconfigured: the first failure and each change of cause logged, then
        # once a minute (paho retries every 1-30 s and would say nothing at all by itself)
        self._connect_failures = FailureLog(log, "broker_connect_failed", every_s=60.0)
        self.broker = f"{mq.host}:{mq.port}"

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> "MqttSource":
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = int(self.cfg.session_expiry_s)
        # the broker may have this many unacknowledged messages out to us: our acks wait for a
        # commit, so this must cover a flush's worth of messages or ingest stalls on the window
        props.ReceiveMaximum = int(self.cfg.receive_maximum)
        self.client.connect_async(self.cfg.host, self.cfg.port, keepalive=self.cfg.keepalive_s,
                                  clean_start=False, properties=props)
        self.client.loop_start()
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        self.connected.clear()
        self.stats.connected.set(0)

    def ack(self, mid: int, qos: int, generation: int) -> None:
        """Acknowledge a committed message (any thread); one received on an older connection is
        not: the broker sends it again on the new one, and the store drops the copy."""
        if generation == self._generation:
            self.client.ack(mid, qos)
            self.acked += 1

    def leave(self, timeout: float = 10.0) -> bool:
        """Leave the shared group for good (``robopulse collector leave-group``), step one:
        unsubscribe, so the broker hands this session no more messages; True once it confirmed."""
        done = threading.Event()
        self.client.on_unsubscribe = lambda *args: done.set()
        self.client.unsubscribe(self.filters)
        return done.wait(timeout)

    def end_session(self) -> None:
        """Step two, after everything received is committed and acknowledged: disconnect with a
        session expiry of 0, so the broker drops the session (MQTT 5) instead of keeping it, and a
        share of the group's messages in it, for ``session_expiry_s`` (mosquitto#2662)."""
        props = Properties(PacketTypes.DISCONNECT)
        props.SessionExpiryInterval = 0
        self.client.disconnect(properties=props)
        self.client.loop_stop()
        self.connected.clear()
        self.stats.connected.set(0)

    # ---------------------------------------------------------------- callbacks (paho's thread)

    def _on_connect_fail(self, client, userdata):
        # paho calls this inside its ``except OSError`` around the connect: the error is the one
        # being handled (TLS errors are OSErrors too)
        exc = sys.exc_info()[1]
        cause = connect_cause(exc)
        self._connect_failures.failed(f"{cause}: {exc}"[:300], cause=cause, broker=self.broker)

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:  # bad user name or password, not authorised
            self._connect_failures.failed(f"refused_by_broker: {reason_code}", cause="refused_by_broker",
                                          broker=self.broker)
            return
        self._connect_failures.recovered("broker_connect_recovered", broker=self.broker)
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
        if getattr(reason_code, "value", None) == SESSION_TAKEN_OVER:
            # another client connected with our client id: two collectors configured alike (a
            # shared group needs one id per collector); each would keep taking the session over
            log.error("broker_session_taken_over", client_id=self.cfg.client_id,
                      hint="give each collector its own [mqtt] client_id")
            return
        log.warning("broker_disconnected", reason=str(reason_code))

    def _on_message(self, client, userdata, msg):
        try:
            topic = msg.topic
        except UnicodeDecodeError:  # not a robopulse topic: the writer rejects it as bad_topic
            topic = msg._topic.decode("utf-8", "replace")
        if msg.qos:
            self.received += 1
        self.sink.receive(topic, msg.payload, (msg.mid, msg.qos, self._generation) if msg.qos else None)
