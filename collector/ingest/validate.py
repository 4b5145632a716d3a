"""Turn one MQTT message into an accepted batch or status, or a reject with a short reason.

Decoding itself is ``protocol.codec``'s job (it refuses oversize payloads, zlib bombs, bad
msgpack, bad schema and ids).  Here we add what only the collector can judge: the topic must be a
robopulse topic, its customer and robot must equal the payload's (a robot publishing as another is
a spoof), and windows must be plausible in time (not more than a day in the future, not older than
the longest retention, where they would be deleted at once).
"""

from __future__ import annotations

from collector.ingest.enroll import REASONS as ENROLL_REASONS
from collector.store.records import Status, Telemetry
from protocol.codec import REASONS as CODEC_REASONS
from protocol.codec import ProtocolError, decode_batch_rows, decode_status
from protocol.timeunits import DAY_MS
from protocol.topics import STATUS, TELEMETRY, Topic, parse_topic

FUTURE_MS = DAY_MS

#: every reason a message can be rejected for (codec reasons plus the collector's own)
REJECT_REASONS = CODEC_REASONS + (
    "bad_topic",       # not PREFIX/{customer}/{robot}/{telemetry|status} with valid ids
    "topic_mismatch",  # payload robot or customer differs from the topic's (spoofing)
    "future_window",   # a window ends more than a day after the collector's clock
    "too_old",         # a window starts before the longest retention (would be deleted at once)
    "internal_error",  # the collector failed on this message (a bug): logged, counted, dropped
) + ENROLL_REASONS     # [ingest] enroll: unregistered_robot, wrong_customer, new_customer_limit


class Reject(ProtocolError):
    """A message the collector refuses: a protocol error, or one of the collector's own checks
    (topic, time range); ``reason`` is one of ``REJECT_REASONS``."""


#: robopulse topics already parsed, per prefix: one dict lookup per message instead of a split and
#: two regex matches.  Only valid topics go in; bounded (cleared when full) against topic floods.
_TOPICS: dict[str, dict[str, Topic]] = {}
_TOPICS_MAX = 65_536


def _parse(topic: str, prefix: str) -> Topic | None:
    known = _TOPICS.get(prefix)
    if known is None:
        known = _TOPICS.setdefault(prefix, {})
    parsed = known.get(topic)
    if parsed is None:
        parsed = parse_topic(topic, prefix)
        if parsed is not None:
            if len(known) >= _TOPICS_MAX:
                known.clear()
            known[topic] = parsed
    return parsed


def validate(topic: str, payload: bytes, *, prefix: str, now_ms: int, max_age_ms: int) -> Telemetry | Status:
    """The store's record of an accepted message, or raise ``Reject``.  Never raises anything
    else, whatever the bytes."""
    parsed = _parse(topic, prefix) if type(topic) is str else None
    if parsed is None:
        raise Reject("bad_topic")
    try:
        if parsed.kind == TELEMETRY:
            batch = decode_batch_rows(payload)
            doc_robot, doc_customer = batch.robot, batch.customer
        else:
            assert parsed.kind == STATUS
            doc = decode_status(payload)
            doc_robot, doc_customer = doc["robot"], doc["customer"]
    except ProtocolError as exc:
        raise Reject(exc.reason, exc.detail) from None
    if doc_robot != parsed.robot or doc_customer != parsed.customer:
        raise Reject("topic_mismatch")
    if parsed.kind == STATUS:
        return Status.of(doc)
    oldest = now_ms - max_age_ms
    newest = now_ms + FUTURE_MS
    for seq, t0, t1, _c, _g in batch.windows:
        if t1 > newest:
            raise Reject("future_window", str(seq))
        if t0 < oldest:
            raise Reject("too_old", str(seq))
    return Telemetry(batch.robot, batch.customer, batch.site, batch.stream, batch.sent, batch.windows)
