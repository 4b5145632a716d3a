"""The preset zlib dictionary: frozen bytes, named by its DICTID, inflated by the collector's decoder,
and refused clearly when a stream names one this side does not know."""

import hashlib
import zlib

import pytest

from protocol import zdict
from protocol.catalogue import CATALOGUE
from protocol.codec import ProtocolError, decode_batch, encode_batch
from tests.unit.test_protocol_codec import make_batch, make_window, raw, good_doc, reason_of

BUSY = {m.name: 100 + i for i, m in enumerate(CATALOGUE) if m.kind == "counter"}


def busy_batch():
    return make_batch(windows=tuple(make_window(seq=i + 1, t0=1_700_000_000_000 + i * 10_000,
                                                t1=1_700_000_010_000 + i * 10_000, c=BUSY)
                                    for i in range(6)))


def test_zdict_v1_bytes_are_frozen():
    # agents in the field compress with these exact bytes: changing them breaks every one of them
    assert len(zdict.V1) == 722
    assert zlib.adler32(zdict.V1) == zdict.V1_ID == 0xD640344F
    assert hashlib.sha256(zdict.V1).hexdigest() == "8fa246b00aa06f6999b3c381fce1b632ae76ef95143b14d8ef4289f48004569c"
    assert zdict.DICTIONARIES[zdict.V1_ID] is zdict.V1
    assert zdict.CURRENT in zdict.DICTIONARIES.values()


def test_zdict_stream_names_its_dictionary_and_decodes():
    batch = busy_batch()
    data = encode_batch(batch, dictionary=zdict.CURRENT)
    assert data[0] == 0x78 and data[1] & 0x20  # FDICT set
    assert int.from_bytes(data[2:6], "big") == zdict.V1_ID
    assert decode_batch(data) == batch


def test_zdict_saves_bytes_on_a_busy_and_an_idle_batch():
    for batch in (busy_batch(), make_batch(windows=(make_window(c={}), make_window(seq=2, c={})))):
        plain = encode_batch(batch)
        primed = encode_batch(batch, dictionary=zdict.CURRENT)
        assert len(primed) < len(plain)


def _primed(doc_bytes: bytes, dict_id: int) -> bytes:
    """A zlib stream whose header names ``dict_id`` (compressed with V1 whatever the id says)."""
    data = zdict.compress(doc_bytes, 6, zdict.V1)
    return data[:2] + dict_id.to_bytes(4, "big") + data[6:]


@pytest.mark.parametrize("payload,reason", [
    (_primed(raw(good_doc()), 0x12345678), "bad_zlib"),      # a dictionary we never published
    (b"\x78\xbb\x01", "bad_zlib"),                            # FDICT set, DICTID cut short
    (zdict.compress(b"\x00" * (2 * 1024 * 1024), 9), "inflate_too_large"),  # a bomb stays a bomb
    (zdict.compress(raw(good_doc()))[:-3], "bad_zlib"),       # truncated
])
def test_zdict_bad_streams_are_rejected_with_reason(payload, reason):
    assert reason_of(payload) == reason


def test_zdict_unknown_dictionary_is_named_in_the_error():
    with pytest.raises(ProtocolError, match="unknown preset dictionary 0x12345678"):
        decode_batch(_primed(raw(good_doc()), 0x12345678))
