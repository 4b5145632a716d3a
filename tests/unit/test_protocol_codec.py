import zlib

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.codec import (MAX_PAYLOAD, Batch, ProtocolError, Window, decode_batch, decode_batch_rows, decode_status,
                            encode_batch, encode_status, make_status)


def make_window(**kw) -> Window:
    base = dict(seq=1, t0=1_700_000_000_000, t1=1_700_000_010_000, c={"asr.requests": 5}, g={})
    base.update(kw)
    return Window(**base)


def make_batch(**kw) -> Batch:
    base = dict(robot="r1", customer="acme", site="hall-a", stream="0123456789abcdef",
                sent=1_700_000_011_000, windows=(make_window(),))
    base.update(kw)
    return Batch(**base)


def raw(doc) -> bytes:
    return msgpack.packb(doc, use_bin_type=True)


def good_doc(**kw) -> dict:
    doc = {"v": 1, "robot": "r1", "customer": "acme", "site": "hall-a", "stream": "0123456789abcdef",
           "sent": 1, "windows": [{"seq": 1, "t0": 0, "t1": 10_000, "c": {"asr.requests": 1}}]}
    doc.update(kw)
    return doc


def reason_of(payload: bytes) -> str:
    with pytest.raises(ProtocolError) as exc:
        decode_batch(payload)
    with pytest.raises(ProtocolError) as rows_exc:
        decode_batch_rows(payload)
    assert rows_exc.value.reason == exc.value.reason  # the collector's decoder refuses it the same way
    return exc.value.reason


def same_outcome(payload: bytes) -> None:
    """decode_batch and decode_batch_rows accept and refuse the same payloads, with the same reason
    and the same windows."""
    try:
        batch = decode_batch(payload)
    except ProtocolError as exc:
        with pytest.raises(ProtocolError) as rows_exc:
            decode_batch_rows(payload)
        assert rows_exc.value.reason == exc.reason
        return
    rows = decode_batch_rows(payload)
    assert rows.windows == tuple((w.seq, w.t0, w.t1, w.c, w.g) for w in batch.windows)
    assert (rows.robot, rows.customer, rows.site, rows.stream, rows.sent) == \
        (batch.robot, batch.customer, batch.site, batch.stream, batch.sent)


def test_codec_roundtrip_compressed_and_plain():
    batch = make_batch(windows=(make_window(g={"net.rtt_ms": 35.5}), make_window(seq=2)))
    for compress in (True, False):
        data = encode_batch(batch, compress=compress)
        assert (data[0] == 0x78) is compress
        assert decode_batch(data) == batch
        same_outcome(data)


def test_codec_smallest_picks_the_shorter_form_and_both_decode():
    tiny = make_batch(windows=(make_window(),))
    big = make_batch(windows=tuple(make_window(seq=n) for n in range(1, 60)))
    for batch in (tiny, big):
        plain, packed = encode_batch(batch, compress=False), encode_batch(batch)
        best = encode_batch(batch, smallest=True)
        assert best == (plain if len(plain) <= len(packed) else packed)
        assert decode_batch(best) == batch
    assert encode_batch(big, smallest=True)[0] == 0x78  # many windows: zlib wins
    assert len(encode_batch(tiny, smallest=True)) <= len(encode_batch(tiny))


def test_codec_omits_zero_counters():
    batch = make_batch(windows=(make_window(c={"asr.requests": 0, "asr.unrecognized": 2}),))
    assert decode_batch(encode_batch(batch)).windows[0].c == {"asr.unrecognized": 2}


@pytest.mark.parametrize("payload,reason", [
    (b"\xc1garbage", "bad_msgpack"),
    (b"", "bad_msgpack"),
    (raw([1, 2]), "not_a_map"),
    (raw(good_doc(v=2)), "bad_version"),
    (raw({k: v for k, v in good_doc().items() if k != "stream"}), "missing_field"),
    (raw(good_doc(sent="x")), "bad_type"),
    (raw(good_doc(robot="Robot!")), "bad_id"),
    (raw(good_doc(stream="XYZ")), "bad_id"),
    (raw(good_doc(windows=[])), "no_windows"),
    (raw(good_doc(windows=[{"seq": i + 1, "t0": 0, "t1": 1, "c": {}} for i in range(501)])), "too_many_windows"),
    (raw(good_doc(windows=[{"seq": 2, "t0": 0, "t1": 1, "c": {}}, {"seq": 2, "t0": 0, "t1": 1, "c": {}}])), "bad_seq"),
    (raw(good_doc(windows=[{"seq": 0, "t0": 0, "t1": 1, "c": {}}])), "bad_seq"),
    (raw(good_doc(windows=[{"seq": 1, "t0": 5, "t1": 5, "c": {}}])), "bad_time"),
    (raw(good_doc(windows=[{"seq": 1, "t0": 0, "t1": 86_400_001, "c": {}}])), "bad_time"),
    (raw(good_doc(windows=[{"seq": 1, "t0": 0, "t1": 1, "c": {"Bad": 1}}])), "bad_metric_name"),
    (raw(good_doc(windows=[{"seq": 1, "t0": 0, "t1": 1, "c": {f"x.m{i}": 1 for i in range(257)}}])), "too_many_metrics"),
    (raw(good_doc(windows=[{"seq": 1, "t0": 0, "t1": 1, "c": {"asr.requests": -1}}])), "bad_count"),
    (raw(good_doc(windows=[{"seq": 1, "t0": 0, "t1": 1, "c": {"asr.requests": 10**9 + 1}}])), "bad_count"),
    (raw(good_doc(windows=[{"seq": 1, "t0": 0, "t1": 1, "c": {"asr.requests": 1.5}}])), "bad_count"),
    (raw(good_doc(windows=[{"seq": 1, "t0": 0, "t1": 1, "c": {}, "g": {"net.rtt_ms": float("nan")}}])), "bad_gauge"),
    (b"\x00" * (MAX_PAYLOAD + 1), "too_large"),
    (b"\x78\x9cnot zlib", "bad_zlib"),
    (zlib.compress(b"\x00" * (2 * 1024 * 1024), 9), "inflate_too_large"),
    (zlib.compress(raw(good_doc()))[:-3], "bad_zlib"),
])
def test_codec_rejects_with_reason(payload, reason):
    assert reason_of(payload) == reason


def test_codec_accepts_unknown_metric_names():
    batch = decode_batch(raw(good_doc(windows=[{"seq": 1, "t0": 0, "t1": 1, "c": {"custom.thing": 3}}])))
    assert batch.windows[0].c == {"custom.thing": 3}


def test_codec_encode_refuses_invalid_batch():
    with pytest.raises(ProtocolError) as exc:
        encode_batch(make_batch(robot="BAD"))
    assert exc.value.reason == "bad_id"


def test_codec_status_roundtrip_and_offline_needs_reason():
    online = make_status("r1", "acme", "hall-a", "online", ts=5, agent="0.1.0", scene="museum")
    assert decode_status(encode_status(online)) == online
    will = make_status("r1", "acme", "hall-a", "offline", reason="lost")
    assert "ts" not in decode_status(encode_status(will))
    with pytest.raises(ProtocolError) as exc:
        encode_status(make_status("r1", "acme", "hall-a", "offline"))
    assert exc.value.reason == "bad_state"


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=2048))
def test_codec_decode_raises_only_protocol_error_on_arbitrary_bytes(data):
    for decode in (decode_batch, decode_status):
        try:
            decode(data)
        except ProtocolError:
            pass


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers(-2**63, 2**64 - 1) | st.floats() | st.text(max_size=8)
                    | st.binary(max_size=8),
                    lambda children: st.lists(children, max_size=4)
                    | st.dictionaries(st.text(max_size=8), children, max_size=4), max_leaves=30))
def test_codec_decode_raises_only_protocol_error_on_arbitrary_msgpack(doc):
    data = msgpack.packb(doc, use_bin_type=True)
    for payload in (data, zlib.compress(data)):
        same_outcome(payload)
