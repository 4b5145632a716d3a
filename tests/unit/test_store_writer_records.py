"""The records the collector's main process sends its writer process (``to_wire`` / ``queued_of``):
what the store needs survives the trip, and what a robot adds beyond that stays behind."""

from __future__ import annotations

import msgpack

from collector.ingest.validate import validate
from collector.store.records import Envelope, Queued, RejectRow, Status, Telemetry, to_wire
from collector.store.writer_process import queued_of
from protocol.codec import Batch, Window, encode_batch, encode_status, make_status

NOW = 1_767_225_600_000
PREFIX = "robopulse/v1"


def roundtrip(env: Envelope) -> tuple[Queued, list]:
    taken: list = []
    return queued_of(to_wire(env), taken.append), taken


def test_store_records_carry_a_validated_batch_and_its_ack_token():
    windows = (Window(1, NOW, NOW + 10_000, {"nav.tasks": 2}, {"sys.cpu_pct": 5.0}), Window(2, NOW + 10_000, NOW + 20_000))
    payload = encode_batch(Batch("r1", "acme", "s1", "00000000000000aa", NOW, windows))
    accepted = validate(f"{PREFIX}/acme/r1/telemetry", payload, prefix=PREFIX, now_ms=NOW, max_age_ms=10**12)
    item, taken = roundtrip(Envelope(accepted, NOW + 5, (7, 1, 3)))
    b = item.record
    assert (type(b), item.received_ms, item.windows) == (Telemetry, NOW + 5, 2)
    assert (b.robot, b.customer, b.site, b.stream, b.sent) == ("r1", "acme", "s1", "00000000000000aa", NOW)
    assert b.windows == ((1, NOW, NOW + 10_000, {"nav.tasks": 2}, {"sys.cpu_pct": 5.0}),
                         (2, NOW + 10_000, NOW + 20_000, {}, {}))
    item.ack()
    assert taken == [(7, 1, 3)]


def test_store_records_keep_only_the_status_fields_the_store_reads():
    doc = make_status("r1", "acme", "s1", "online", ts=NOW, agent="1.2", scene="museum")
    doc["extra"] = msgpack.ExtType(5, b"robot's own")  # valid msgpack, but not something marshal can carry
    doc["reason"] = ["not", "checked", "when online"]
    payload = msgpack.packb(doc, use_bin_type=True)
    accepted = validate(f"{PREFIX}/acme/r1/status", payload, prefix=PREFIX, now_ms=NOW, max_age_ms=10**12)
    item, _ = roundtrip(Envelope(accepted, NOW, None))
    assert item.record._asdict() == {"robot": "r1", "customer": "acme", "site": "s1", "scene": "museum",
                                     "agent": "1.2", "state": "online", "ts": NOW, "interval_s": 10,
                                     "reason": None}
    offline = make_status("r1", "acme", "s1", "offline", reason="lost")
    accepted = validate(f"{PREFIX}/acme/r1/status", encode_status(offline), prefix=PREFIX, now_ms=NOW,
                        max_age_ms=10**12)
    item, _ = roundtrip(Envelope(accepted, NOW, None))
    assert item.record.reason == "lost" and item.record.state == "offline"


def test_store_records_carry_a_reject_row():
    row = RejectRow(NOW, "bad_msgpack", "robopulse/v1/acme/r1/telemetry", 3, "c1c1c1")
    item, taken = roundtrip(Envelope(row, NOW, (9, 1, 1)))
    assert (type(item.record), item.record) == (RejectRow, row)
    item.ack()
    assert taken == [(9, 1, 1)]


def test_store_records_have_one_type_per_shape():
    """Status.of reads a decoded document; Telemetry.of converts Window objects to the stored tuples."""
    batch = Batch("r1", "acme", "s1", "00000000000000aa", NOW, (Window(1, NOW, NOW + 10_000, {"nav.tasks": 1}),))
    assert Telemetry.of(batch).windows == ((1, NOW, NOW + 10_000, {"nav.tasks": 1}, {}),)
    assert Queued.of(Telemetry.of(batch), NOW).windows == 1
    assert Queued.of(RejectRow(NOW, "bad_topic", "x", 1, "00"), NOW).windows == 0
    status = Status.of(make_status("r1", "acme", "s1", "offline", reason="shutdown"))
    assert (status.state, status.reason, status.ts) == ("offline", "shutdown", None)  # a last will has no ts
