"""Encode and decode Batch and Status payloads, with strict validation and hard limits.

Every failure raises ``ProtocolError`` with a short, low-cardinality ``reason`` code that the
collector uses as a metric label; nothing else escapes ``decode_*`` whatever the bytes.
"""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass, field
from typing import Any

import msgpack

from protocol import SCHEMA_VERSION, zdict
from protocol.catalogue import is_valid_name
from protocol.topics import is_valid_id

MAX_PAYLOAD = 256 * 1024
MAX_INFLATED = 1024 * 1024
MAX_WINDOWS = 500
MAX_METRICS = 256
MAX_COUNT = 10**9
MAX_SPAN_MS = 24 * 3600 * 1000
ZLIB_FIRST_BYTE = 0x78
STREAM_RE = re.compile(r"^[0-9a-f]{16}$")
MAX_STR = 128
_ZLIB_HEAD = bytes([ZLIB_FIRST_BYTE])

#: every reason code decode can give, for docs and metric pre-registration
REASONS = (
    "too_large",        # payload over 256 KiB
    "bad_zlib",         # starts like zlib but does not inflate
    "inflate_too_large",  # inflates past 1 MiB (zlib bomb)
    "bad_msgpack",      # not a msgpack document
    "not_a_map",        # msgpack, but not a map with string keys
    "bad_version",      # v missing or not 1
    "missing_field",    # a required key is absent
    "bad_type",         # a key has the wrong type
    "bad_id",           # robot, customer, site or stream does not match its pattern
    "no_windows",       # windows is empty
    "too_many_windows",  # more than 500 windows
    "bad_seq",          # seq < 1, or not strictly increasing
    "bad_time",         # t0 >= t1, negative, or span over 24 h
    "bad_metric_name",  # a metric name does not match the pattern
    "too_many_metrics",  # more than 256 metrics in a window
    "bad_count",        # a counter negative, over 10^9 or not an int
    "bad_gauge",        # a gauge not a finite number
    "bad_state",        # status state/reason not in the allowed set
)


class ProtocolError(ValueError):
    """A payload that breaks the contract; ``reason`` is one of ``REASONS``."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Window:
    seq: int
    t0: int
    t1: int
    c: dict[str, int] = field(default_factory=dict)
    g: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Batch:
    robot: str
    customer: str
    site: str
    stream: str
    sent: int
    windows: tuple[Window, ...]
    v: int = SCHEMA_VERSION


# ---------------------------------------------------------------- encode

def window_to_wire(w: Window) -> dict[str, Any]:
    """Zero counters are omitted: robots often sit on paid 4G."""
    out: dict[str, Any] = {"seq": w.seq, "t0": w.t0, "t1": w.t1, "c": {k: v for k, v in w.c.items() if v}}
    if w.g:
        out["g"] = dict(w.g)
    return out


def encode_batch(batch: Batch, compress: bool = True, dictionary: bytes | None = None,
                 smallest: bool = False) -> bytes:
    """Validate and pack a batch; compressed with zlib unless ``compress`` is false, primed with a
    preset ``dictionary`` from ``protocol.zdict`` when one is given (the agent's default).  With
    ``smallest``, the plain msgpack when it is no larger than the compressed form (tiny batches,
    where zlib's header and checksum can outweigh the gain); decoders take either."""
    doc = {
        "v": batch.v, "robot": batch.robot, "customer": batch.customer, "site": batch.site,
        "stream": batch.stream, "sent": batch.sent,
        "windows": [window_to_wire(w) for w in batch.windows],
    }
    _validate_batch(doc)
    raw = msgpack.packb(doc, use_bin_type=True)
    data = zdict.compress(raw, 6, dictionary) if compress else raw
    if smallest and len(raw) <= len(data):
        data = raw
    if len(data) > MAX_PAYLOAD:
        raise ProtocolError("too_large", f"{len(data)} bytes")
    return data


def encode_status(status: dict[str, Any]) -> bytes:
    _validate_status(status)
    return msgpack.packb(status, use_bin_type=True)


# ---------------------------------------------------------------- decode

def _unpack(payload: bytes) -> dict:
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise ProtocolError("bad_type", "payload is not bytes")
    payload = bytes(payload)
    if len(payload) > MAX_PAYLOAD:
        raise ProtocolError("too_large", f"{len(payload)} bytes")
    if payload[:1] == _ZLIB_HEAD:
        payload = inflate(payload)
    try:
        doc = msgpack.unpackb(payload, raw=False, strict_map_key=True)
    except Exception as exc:  # msgpack raises many types; all mean the same thing here
        raise ProtocolError("bad_msgpack", type(exc).__name__) from None
    if not isinstance(doc, dict):
        raise ProtocolError("not_a_map")
    return doc


def inflate(payload: bytes) -> bytes:
    """Inflate a zlib payload, with the preset dictionary it names if any, refusing one that grows
    past 1 MiB."""
    try:
        dictionary = zdict.dictionary_for(payload)
    except KeyError as exc:
        raise ProtocolError("bad_zlib", exc.args[0]) from None
    inflater = zlib.decompressobj(zdict=dictionary) if dictionary is not None else zlib.decompressobj()
    try:
        out = inflater.decompress(payload, MAX_INFLATED + 1)
    except zlib.error:
        raise ProtocolError("bad_zlib") from None
    if len(out) > MAX_INFLATED or inflater.unconsumed_tail:
        raise ProtocolError("inflate_too_large")
    if not inflater.eof:
        raise ProtocolError("bad_zlib", "truncated")
    return out


def decode_batch(payload: bytes) -> Batch:
    doc = _unpack(payload)
    windows = _validate_batch(doc)
    return Batch(doc["robot"], doc["customer"], doc["site"], doc["stream"], doc["sent"], windows, doc["v"])


def decode_batch_rows(payload: bytes) -> Batch:
    """``decode_batch`` with the same checks and reasons, but the batch's windows as plain
    ``(seq, t0, t1, counts, gauges)`` tuples instead of ``Window`` objects.

    For a consumer that stores windows rather than inspects them (the collector): an object per
    window is ~0.5 us of its ~6 us per window, and tuples go through ``marshal`` and into msgpack
    as they are."""
    doc = _unpack(payload)
    windows = _validate_batch(doc, rows=True)
    return Batch(doc["robot"], doc["customer"], doc["site"], doc["stream"], doc["sent"], windows, doc["v"])


def decode_status(payload: bytes) -> dict[str, Any]:
    doc = _unpack(payload)
    _validate_status(doc)
    return doc


# ---------------------------------------------------------------- validation

def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _require(doc: dict, key: str, kind: type | tuple) -> Any:
    if key not in doc:
        raise ProtocolError("missing_field", key)
    value = doc[key]
    if kind is int:
        ok = _is_int(value)
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise ProtocolError("bad_type", key)
    return value


def _check_header(doc: dict) -> None:
    v = doc.get("v")
    if v != SCHEMA_VERSION or not (type(v) is int or _is_int(v)):
        raise ProtocolError("bad_version", repr(v)[:20])
    for key in ("robot", "customer", "site"):
        value = _require(doc, key, str)
        if value not in _GOOD_IDS:
            if not is_valid_id(value):
                raise ProtocolError("bad_id", key)
            _remember(_GOOD_IDS, value)


# Names and ids already seen to be valid, so the common case is one set lookup instead of a regex
# match.  Only valid strings go in, so a hit proves validity; bounded so a flood of distinct ids
# cannot grow memory (when full it is cleared and refilled).
_GOOD_IDS: set[str] = set()
_GOOD_NAMES: set[str] = set()
_GOOD_STREAMS: set[str] = set()
_CACHE_MAX = 65_536


def _remember(cache: set, value: str) -> None:
    if len(cache) >= _CACHE_MAX:
        cache.clear()
    cache.add(value)


def _validate_batch(doc: dict, rows: bool = False) -> tuple:
    """Check a batch document and return its windows as ``Window`` objects (or, with ``rows``,
    ``(seq, t0, t1, counts, gauges)`` tuples).

    One pass does both, with ``type(x) is int``/``is str`` fast paths for what msgpack produces
    (falling back to the general check, so int subclasses other than bool are still accepted) and
    the cached name/id checks above: decode runs once per MQTT message in the collector's hot path.
    The order of checks, hence the reason given for a document with several faults, is unchanged.
    """
    _check_header(doc)
    stream = _require(doc, "stream", str)
    if stream not in _GOOD_STREAMS:
        if not STREAM_RE.match(stream):
            raise ProtocolError("bad_id", "stream")
        _remember(_GOOD_STREAMS, stream)
    if _require(doc, "sent", int) < 0:
        raise ProtocolError("bad_time", "sent")
    windows = _require(doc, "windows", list)
    if not windows:
        raise ProtocolError("no_windows")
    if len(windows) > MAX_WINDOWS:
        raise ProtocolError("too_many_windows", str(len(windows)))
    good_names = _GOOD_NAMES
    isfinite = math.isfinite
    out = []
    last_seq = 0
    for w in windows:
        if type(w) is not dict and not isinstance(w, dict):
            raise ProtocolError("bad_type", "window")
        seq, t0, t1, counts = w.get("seq"), w.get("t0"), w.get("t1"), w.get("c")
        if type(seq) is not int or type(t0) is not int or type(t1) is not int or type(counts) is not dict:
            # the uncommon shape: the general checks give the exact reason
            seq = _require(w, "seq", int)
            if seq < 1 or seq <= last_seq:
                raise ProtocolError("bad_seq", str(seq)[:20])
            t0, t1 = _require(w, "t0", int), _require(w, "t1", int)
            if t0 < 0 or t1 <= t0 or t1 - t0 > MAX_SPAN_MS:
                raise ProtocolError("bad_time", "window")
            counts = _require(w, "c", dict)
        else:
            if seq < 1 or seq <= last_seq:
                raise ProtocolError("bad_seq", str(seq)[:20])
            if t0 < 0 or t1 <= t0 or t1 - t0 > MAX_SPAN_MS:
                raise ProtocolError("bad_time", "window")
        last_seq = seq
        gauges = w.get("g", {})
        if not isinstance(gauges, dict):
            raise ProtocolError("bad_type", "g")
        if len(counts) + len(gauges) > MAX_METRICS:
            raise ProtocolError("too_many_metrics")
        for name, value in counts.items():
            if name not in good_names:
                if not is_valid_name(name):
                    raise ProtocolError("bad_metric_name")
                _remember(good_names, name)
            if type(value) is not int and not _is_int(value) or value < 0 or value > MAX_COUNT:
                raise ProtocolError("bad_count", name)
        fgauges = {}
        for name, value in gauges.items():
            if name not in good_names:
                if not is_valid_name(name):
                    raise ProtocolError("bad_metric_name")
                _remember(good_names, name)
            if not (type(value) is float or _is_int(value) or isinstance(value, float)) \
                    or not isfinite(value) or abs(value) > 1e15:
                raise ProtocolError("bad_gauge", name)
            fgauges[name] = float(value)
        if rows:
            out.append((seq, t0, t1, counts if type(counts) is dict else dict(counts), fgauges))
        else:
            out.append(Window(seq, t0, t1, dict(counts), fgauges))
    return tuple(out)


STATES = ("online", "offline")
OFFLINE_REASONS = ("shutdown", "lost")


def _validate_status(doc: dict) -> None:
    _check_header(doc)
    state = _require(doc, "state", str)
    if state not in STATES:
        raise ProtocolError("bad_state", "state")
    if "ts" in doc and (not _is_int(doc["ts"]) or doc["ts"] < 0):
        raise ProtocolError("bad_type", "ts")
    for key in ("agent", "scene"):
        if key in doc and (not isinstance(doc[key], str) or len(doc[key]) > MAX_STR):
            raise ProtocolError("bad_type", key)
    if "interval_s" in doc and (not _is_int(doc["interval_s"]) or doc["interval_s"] <= 0):
        raise ProtocolError("bad_type", "interval_s")
    if state == "offline":
        if doc.get("reason") not in OFFLINE_REASONS:
            raise ProtocolError("bad_state", "reason")


def make_status(robot: str, customer: str, site: str, state: str, *, ts: int | None = None,
                agent: str = "", scene: str = "", interval_s: int = 10, reason: str | None = None) -> dict:
    """A Status document (``ts`` omitted for the last will, which is written before connect)."""
    doc: dict[str, Any] = {"v": SCHEMA_VERSION, "robot": robot, "customer": customer, "site": site,
                           "state": state, "agent": agent, "scene": scene, "interval_s": interval_s}
    if ts is not None:
        doc["ts"] = ts
    if reason is not None:
        doc["reason"] = reason
    return doc
