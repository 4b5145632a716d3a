"""Docs stay true: the worked example's bytes, every reason code and every catalogue metric."""

import re
from pathlib import Path

from protocol import catalogue, zdict
from protocol.codec import REASONS, Batch, Window, encode_batch

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_docs_protocol_example_bytes_match_codec():
    text = (DOCS / "protocol.md").read_text(encoding="utf-8")
    dump = text.split("```text\n", 1)[1].split("```", 1)[0]
    documented = bytes.fromhex(" ".join(line[6:] for line in dump.strip().splitlines()))
    batch = Batch(robot="r-017", customer="acme-museum", site="hall-a", stream="3f9a0c1d2e4b5a69",
                  sent=1764064870123,
                  windows=(Window(41, 1764064850000, 1764064860000,
                                  {"asr.requests": 12, "asr.unrecognized": 2, "usage.interactions": 9,
                                   "touch.taps": 0}, {"net.rtt_ms": 35.0}),
                           Window(42, 1764064860000, 1764064870000,
                                  {"asr.requests": 7, "usage.interactions": 5}, {})))
    assert encode_batch(batch, compress=False) == documented
    assert len(encode_batch(batch)) == 222 and "222 bytes starting `78 9c`" in text
    primed = encode_batch(batch, dictionary=zdict.V1)
    assert len(primed) == 149 and primed[:6].hex(" ") == "78 bb d6 40 34 4f"
    assert "149 bytes starting `78 bb d6 40 34 4f`" in text


def test_docs_protocol_lists_every_reason_and_metric():
    text = (DOCS / "protocol.md").read_text(encoding="utf-8")
    for reason in REASONS:
        assert f"`{reason}`" in text, reason
    for metric in catalogue.CATALOGUE:
        assert re.search(rf"`{re.escape(metric.name)}`", text), metric.name
