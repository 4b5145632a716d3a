"""The records the collector's main process sends its writer process (``record_of`` / ``item_of``):
what the store needs survives the trip, and what a robot adds beyond that stays behind."""

from __future__ import annotations

import msgpack

from collector.ingest.validate import validate
from collector.store.writer import Item
from collector.store.writer_process import item_of, record_of
from protocol.codec import Batch, Window, encode_batch, encode_status, make_status

NOW = 1_767_225_600_000
PREFIX = "robopulse/v1"


def roundtrip(item: Item) -> tuple[Item, list]:
    taken: list = []
    return item_of(record_of(item), taken.append), taken


def test_store_records_carry_a_validated_batch_and_its_ack_token():
    windows = (Window(1, NOW, NOW + 10_000, {"nav.tasks": 2}, {"sys.cpu_pct": 5.0}), Window(2, NOW + 10_000, NOW + 20_000))
    payload = encode_batch(Batch("r1", "acme", "s1", "00000000000000aa", NOW, windows))
    accepted = validate(f"{PREFIX}/acme/r1/telemetry", payload, prefix=PREFIX, now_ms=NOW, max_age_ms=10**12)
    item, taken = roundtrip(Item("telemetry", accepted, NOW + 5, 2, (7, 1, 3)))
    b = item.value.batch
    assert (item.kind, item.received_ms, item.windows) == ("telemetry", NOW + 5, 2)
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
    item, _ = roundtrip(Item("status", accepted, NOW, 0, None))
    assert item.value.doc == {"robot": "r1", "customer": "acme", "site": "s1", "scene": "museum", "agent": "1.2",
                              "state": "online", "ts": NOW, "interval_s": 10}
    offline = make_status("r1", "acme", "s1", "offline", reason="lost")
    accepted = validate(f"{PREFIX}/acme/r1/status", encode_status(offline), prefix=PREFIX, now_ms=NOW,
                        max_age_ms=10**12)
    item, _ = roundtrip(Item("status", accepted, NOW, 0, None))
    assert item.value.doc["reason"] == "lost" and item.value.doc["state"] == "offline"


def test_store_records_carry_a_reject_row():
    row = (NOW, "bad_msgpack", "robopulse/v1/acme/r1/telemetry", 3, "c1c1c1")
    item, taken = roundtrip(Item("reject", row, NOW, 0, (9, 1, 1)))
    assert (item.kind, item.value) == ("reject", row)
    item.ack()
    assert taken == [(9, 1, 1)]
