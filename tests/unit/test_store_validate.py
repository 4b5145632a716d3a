"""Validation of one MQTT message: accepted, or rejected with the right reason (no I/O)."""

import pytest

from collector.ingest.validate import Reject, Status, Telemetry, validate
from protocol.codec import Batch, Window, encode_batch, encode_status, make_status

NOW = 1_767_225_600_000
DAY = 86_400_000
PREFIX = "robopulse/v1"


def make_batch(t0=NOW - 10_000, t1=NOW, robot="r1", customer="acme"):
    return encode_batch(Batch(robot, customer, "s1", "0123456789abcdef", NOW, (Window(1, t0, t1, {"nav.tasks": 2}),)))


def check(topic, payload):
    return validate(topic, payload, prefix=PREFIX, now_ms=NOW, max_age_ms=730 * DAY)


def reason(topic, payload):
    with pytest.raises(Reject) as err:
        check(topic, payload)
    return err.value.reason


def test_store_validate_accepts_telemetry_and_status():
    assert isinstance(check("robopulse/v1/acme/r1/telemetry", make_batch()), Telemetry)
    status = encode_status(make_status("r1", "acme", "s1", "offline", reason="lost"))
    assert isinstance(check("robopulse/v1/acme/r1/status", status), Status)


def test_store_validate_accepts_backfilled_history_weeks_old():
    assert isinstance(check("robopulse/v1/acme/r1/telemetry", make_batch(NOW - 40 * DAY, NOW - 40 * DAY + 3600_000)),
                      Telemetry)


@pytest.mark.parametrize("topic,payload,expected", [
    ("robopulse/v1/acme/r2/telemetry", make_batch(), "topic_mismatch"),
    ("robopulse/v1/other/r1/telemetry", make_batch(), "topic_mismatch"),
    ("robopulse/v1/acme/R1/telemetry", make_batch(), "bad_topic"),
    ("robopulse/v1/acme/r1/extra/telemetry", make_batch(), "bad_topic"),
    ("robopulse/v1/acme/r1/telemetry", make_batch(NOW + DAY + 1, NOW + DAY + 10_000), "future_window"),
    ("robopulse/v1/acme/r1/telemetry", make_batch(NOW - 731 * DAY, NOW - 731 * DAY + 10), "too_old"),
    ("robopulse/v1/acme/r1/telemetry", b"\xc1", "bad_msgpack"),
    ("robopulse/v1/acme/r1/telemetry", b"x" * (300 * 1024), "too_large"),
    ("robopulse/v1/acme/r1/status", make_batch(), "missing_field"),
])
def test_store_validate_rejects_with_reason(topic, payload, expected):
    assert reason(topic, payload) == expected
