"""Fuzzing the wire codec's decode paths (issue 17): whatever the bytes, ``decode_batch``,
``decode_batch_rows`` and ``decode_status`` return or raise ``ProtocolError`` with a known reason;
nothing else escapes (the collector counts a rejection per reason and goes on).

Budget: ``ROBOPULSE_FUZZ_EXAMPLES`` examples per target (default 300, a few seconds each); e.g.
``ROBOPULSE_FUZZ_EXAMPLES=20000 .venv/bin/python -m pytest -q tests/unit/test_fuzz_*.py`` for a long run
(docs/chaos.md, "Fuzzing")."""

from __future__ import annotations

import os
import zlib

import msgpack
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol import zdict
from protocol.codec import (REASONS, Batch, ProtocolError, Window, decode_batch, decode_batch_rows, decode_status,
                            encode_batch, encode_status, make_status)

FUZZ = settings(max_examples=int(os.environ.get("ROBOPULSE_FUZZ_EXAMPLES", "300")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
DECODERS = (decode_batch, decode_batch_rows, decode_status)

# msgpack-able values of every kind the wire can carry, including the awkward ones
scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**63, max_value=2**64 - 1),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40), st.binary(max_size=40))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(st.one_of(st.text(max_size=12), st.binary(max_size=12)), inner,
                                                 max_size=5)), max_leaves=20)
names = st.sampled_from(["usage.wakeups", "asr.requests", "sys.cpu_pct", "Bad Name", "", "a" * 200, "x.y"])


def window_docs():
    return st.fixed_dictionaries({
        "seq": st.one_of(st.integers(-3, 10**12), values), "t0": st.one_of(st.integers(-10, 2**63 - 1), values),
        "t1": st.one_of(st.integers(-10, 2**63 - 1), values),
        "c": st.one_of(st.dictionaries(names, st.one_of(st.integers(-5, 2 * 10**9), values), max_size=4), values),
    }, optional={"g": st.one_of(st.dictionaries(names, st.one_of(st.floats(), values), max_size=4), values)})


def batch_docs():
    ids = st.one_of(st.sampled_from(["r-0001", "acme", "hall-a", "UPPER", "", "a/b", "#"]), values)
    return st.fixed_dictionaries({
        "v": st.one_of(st.just(1), values), "robot": ids, "customer": ids, "site": ids,
        "stream": st.one_of(st.just("0123456789abcdef"), st.text(max_size=20), values),
        "sent": st.one_of(st.integers(-5, 2**63 - 1), values),
        "windows": st.one_of(st.lists(window_docs(), max_size=4), values),
    }, optional={"state": st.one_of(st.sampled_from(["online", "offline"]), values),
                 "reason": st.one_of(st.sampled_from(["lost", "shutdown"]), values),
                 "ts": st.one_of(st.integers(-5, 2**64 - 1), values), "agent": values, "scene": values,
                 "interval_s": values})


def payloads():
    """Raw bytes; msgpack of near-valid documents; the same deflated (plain and with the preset
    dictionary); and truncations of those."""
    docs = st.one_of(batch_docs(), values).map(lambda d: msgpack.packb(d, use_bin_type=True))

    def deflate(data: bytes, use_dict: bool) -> bytes:
        c = zlib.compressobj(zdict=zdict.CURRENT) if use_dict else zlib.compressobj()
        return c.compress(data) + c.flush()

    deflated = st.tuples(docs, st.booleans()).map(lambda t: deflate(*t))
    whole = st.one_of(st.binary(max_size=2000), docs, deflated,
                      st.binary(max_size=200).map(lambda b: b"\x78" + b))
    return st.one_of(whole, st.tuples(whole, st.integers(0, 2000)).map(lambda t: t[0][:t[1]]))


def decode_only_refuses(payload: bytes) -> None:
    for decode in DECODERS:
        try:
            decode(payload)
        except ProtocolError as exc:
            assert exc.reason in REASONS, exc.reason


@FUZZ
@given(payloads())
def test_fuzz_decoders_return_or_raise_protocol_error(payload):
    decode_only_refuses(payload)


@FUZZ
@given(st.data())
def test_fuzz_valid_batches_round_trip_and_their_mutations_are_refused_cleanly(data):
    n = data.draw(st.integers(1, 5))
    windows, t = [], data.draw(st.integers(0, 2**41))
    for seq in range(1, n + 1):
        counts = data.draw(st.dictionaries(st.sampled_from(["usage.wakeups", "asr.requests", "nav.tasks"]),
                                           st.integers(0, 10**9), max_size=3))
        gauges = data.draw(st.dictionaries(st.sampled_from(["sys.cpu_pct", "net.rtt_ms"]),
                                           st.floats(-1e15, 1e15, allow_nan=False), max_size=2))
        windows.append(Window(seq, t, t + 10_000, counts, gauges))
        t += 10_000
    batch = Batch("r-0001", "acme", "hall-a", "0123456789abcdef", t, tuple(windows))
    payload = encode_batch(batch, compress=data.draw(st.booleans()),
                           dictionary=data.draw(st.sampled_from([None, zdict.CURRENT])))
    back = decode_batch(payload)
    assert back.robot == "r-0001" and len(back.windows) == n
    for got, sent in zip(back.windows, windows):  # zero counts are not sent (the wire is sparse)
        assert (got.seq, got.t0, got.t1, got.g) == (sent.seq, sent.t0, sent.t1, sent.g)
        assert got.c == {k: v for k, v in sent.c.items() if v}
    # flip, cut or extend the valid payload: still only a clean refusal (or a valid batch)
    pos = data.draw(st.integers(0, len(payload) - 1))
    mutated = payload[:pos] + bytes([data.draw(st.integers(0, 255))]) + payload[pos + 1:]
    decode_only_refuses(mutated)
    decode_only_refuses(payload[:pos])
    decode_only_refuses(payload + data.draw(st.binary(min_size=1, max_size=20)))


def test_fuzz_sees_a_status_round_trip():
    """The harness decodes real payloads (not only refusals): a status goes through."""
    doc = decode_status(encode_status(make_status("r-0001", "acme", "hall-a", "offline", ts=5, reason="lost")))
    assert doc["state"] == "offline" and doc["reason"] == "lost"
