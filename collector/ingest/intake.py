"""One received MQTT message -> an ``Envelope`` for the writer process: validated, counted, or rejected.

This runs in the collector's main process, in paho's thread, and hands each item to the writer
process (``collector.store.writer_process``) as a compact record: validating here splits the
work per window about evenly between the two processes (validation here, rollups and SQLite
there), where validating in the writer process left it doing nearly everything at batched
message sizes (docs/benchmarks/store.md).  Every message becomes exactly one record (a batch, a
status, or a reject to record: ``collector.store.records``), so every message is acknowledged
once, after the commit that holds it.  Logs about rejects are rate-limited.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from collector.ingest.validate import Reject, validate
from collector.store.records import AckToken, Envelope, RejectRow, Status
from protocol.logs import get_logger
from protocol.timeunits import DAY_MS

log = get_logger("collector.ingest")
HEAD_BYTES = 32


class RateLimitedLog:
    """At most one line per reason every ``every_s`` seconds, with how many were suppressed."""

    def __init__(self, every_s: float = 10.0, clock=time.monotonic):
        self.every_s, self.clock = every_s, clock
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def reject(self, reason: str, topic: str, detail: str, event: str = "message_rejected") -> None:
        now = self.clock()
        if now - self._last.get(reason, -1e9) < self.every_s:
            self._suppressed[reason] = self._suppressed.get(reason, 0) + 1
            return
        self._last[reason] = now
        log.warning(event, reason=reason, topic=topic[:200], detail=detail[:100],
                    suppressed=self._suppressed.pop(reason, 0))


class Intake:
    """Validates messages, checks their robot's enrollment (``enrollment``: an
    ``collector.ingest.enroll.Enrollment``, or None to accept every robot) and hands them to
    ``writer`` (``submit(Envelope)``: the ``WriterProcess``); counts messages and rejects into
    ``stats``.

    A status ``ts`` more than ``[ingest] status_future_s`` after the receive time (a robot whose
    clock runs ahead) is replaced by the receive time and counted
    (``robopulse_ingest_clamped_total{field="status_ts"}``): the store orders a robot's states by
    these times, and a state stamped a year ahead would otherwise outrank the broker's last will."""

    def __init__(self, config, writer, stats, clock: Callable[[], float] = time.time, enrollment=None):
        mq, col = config.mqtt, config.collector
        self.writer = writer
        self.stats = stats
        self.clock = clock
        self.enrollment = enrollment
        self.prefix = mq.topic_prefix
        self.max_age_ms = max(col.raw_retention_days, col.rollup_retention_days) * DAY_MS
        self.status_future_ms = config.ingest.status_future_s * 1000
        self._rlog = RateLimitedLog()

    def receive(self, topic: str, payload: bytes, ack: AckToken | None) -> None:
        """Submit one message; ``ack`` goes with it to the writer process, which hands it back once
        committed.  A message the
        collector fails on is recorded as an ``internal_error`` reject, and so acknowledged too:
        sent again it would fail again, forever."""
        try:
            self._receive(topic, payload, ack)
        except Exception as exc:  # a bug must not stop ingest
            log.error("message_failed", reason="internal_error", error=repr(exc)[:300], topic=str(topic)[:200])
            self.stats.rejects.inc(reason="internal_error")
            now_ms = int(self.clock() * 1000)
            self.writer.submit(Envelope(_reject_row(now_ms, "internal_error", str(topic), payload), now_ms, ack))

    def _receive(self, topic: str, payload: bytes, ack: AckToken | None) -> None:
        now_ms = int(self.clock() * 1000)
        try:
            accepted = validate(topic, payload, prefix=self.prefix, now_ms=now_ms, max_age_ms=self.max_age_ms)
        except Reject as exc:
            self.stats.messages.inc(kind=_kind(topic))
            self._reject(exc.reason, exc.detail, topic, payload, now_ms, ack)
            return
        is_status = type(accepted) is Status
        self.stats.messages.inc(kind="status" if is_status else "telemetry")
        if self.enrollment is not None:
            reason = self.enrollment.check(accepted.robot, accepted.customer)
            if reason is not None:
                self._reject(reason, accepted.robot, topic, payload, now_ms, ack)
                return
        if is_status and accepted.ts is not None and accepted.ts > now_ms + self.status_future_ms:
            self.stats.clamped.inc(field="status_ts")
            self._rlog.reject("status_ts", topic, f"ts {accepted.ts} is {accepted.ts - now_ms} ms ahead",
                              event="time_clamped")
            accepted = accepted._replace(ts=now_ms)
        self.writer.submit(Envelope(accepted, now_ms, ack))

    def _reject(self, reason: str, detail: str, topic: str, payload: bytes, now_ms: int,
                ack: AckToken | None) -> None:
        self.stats.rejects.inc(reason=reason)
        self._rlog.reject(reason, topic, detail)
        self.writer.submit(Envelope(_reject_row(now_ms, reason, topic, payload), now_ms, ack))


def _reject_row(now_ms: int, reason: str, topic: str, payload: bytes) -> RejectRow:
    """A ``rejects`` row: time, reason, topic, size and the first bytes in hex."""
    return RejectRow(now_ms, reason, topic[:256], len(payload), bytes(payload[:HEAD_BYTES]).hex())


def _kind(topic: str) -> str:
    tail = topic.rsplit("/", 1)[-1]
    return tail if tail in ("telemetry", "status") else "other"
