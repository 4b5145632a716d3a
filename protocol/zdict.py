"""Preset zlib dictionaries for Batch payloads (RFC 1950 ``FDICT``), an extension of the v1 wire format.

Why: a robot publishes six 10-second windows a minute, so every message is small and zlib has no
history to learn from: the first time each key and metric name appears it is sent almost literally,
and those names are about a quarter of a busy robot's bytes. A dictionary primes the compressor with
the names both sides already know, so they cost a back-reference from the first byte (measured on a
real agent's batches: 660 -> 484 bytes at 200 StatsD lines a second, 276 -> 203 for an idle robot).

A dictionary is frozen once it is published: agents in the field compress with it, and the collector
must inflate what they send for as long as they run. The stream names its dictionary by the Adler-32
of the dictionary's bytes (``DICTID``, four bytes after the zlib header), so a later dictionary is
added next to this one under its own id, never put in its place. ``V1_STRINGS`` is therefore a literal,
not derived from the catalogue (which grows); tests pin its bytes' id.
"""

from __future__ import annotations

import zlib

import msgpack

#: the keys of a Batch and a Window, then every catalogue name as of protocol v1, in catalogue order
V1_STRINGS: tuple[str, ...] = (
    "v", "robot", "customer", "site", "stream", "sent", "windows", "seq", "t0", "t1", "c", "g",
    "net.disconnects", "net.offline_s", "net.errors", "net.rtt_ms", "vision.face_attempts",
    "vision.face_unrecognized", "vision.face_errors", "touch.taps", "touch.no_response",
    "touch.wrong_command", "nav.tasks", "nav.start_failures", "nav.interruptions", "nav.lidar_faults",
    "nav.localization_faults", "nav.relocalization_faults", "asr.requests", "asr.unrecognized",
    "asr.misrecognized", "nlp.requests", "nlp.unhandled", "nlp.errors", "tts.requests", "tts.failed",
    "tts.errors", "usage.foot_traffic", "usage.solicitations", "usage.wakeups", "usage.interactions",
    "skill.guide", "skill.sign_in", "skill.delivery", "skill.lead_way", "skill.speech", "skill.qa",
    "sys.cpu_pct", "sys.mem_pct", "sys.disk_pct", "sys.temp_c", "sys.uptime_s", "power.battery_pct",
    "agent.dropped_windows", "agent.backlog",
)

#: each string msgpack-packed (so a match covers the length byte too), concatenated: 722 bytes
V1: bytes = b"".join(msgpack.packb(s) for s in V1_STRINGS)
V1_ID = 0xD640344F  # zlib.adler32(V1), the DICTID a v1-dictionary stream carries

#: every dictionary ever published, by DICTID; the collector inflates any of them
DICTIONARIES: dict[int, bytes] = {V1_ID: V1}
#: the one agents compress with
CURRENT = V1

_FDICT = 0x20  # bit 5 of the zlib FLG byte


def dictionary_for(payload: bytes) -> bytes | None:
    """The preset dictionary a zlib stream asks for: None when it asks for none.

    Raises ``KeyError`` with the DICTID when it asks for one this side does not know."""
    if len(payload) < 2 or not payload[1] & _FDICT:
        return None
    if len(payload) < 6:
        raise KeyError("truncated DICTID")
    dict_id = int.from_bytes(payload[2:6], "big")
    try:
        return DICTIONARIES[dict_id]
    except KeyError:
        raise KeyError(f"unknown preset dictionary {dict_id:#010x}") from None


def compress(raw: bytes, level: int = 6, dictionary: bytes | None = CURRENT) -> bytes:
    """zlib (RFC 1950) with the preset dictionary, or plain zlib when ``dictionary`` is None."""
    if dictionary is None:
        return zlib.compress(raw, level)
    deflater = zlib.compressobj(level, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY, dictionary)
    return deflater.compress(raw) + deflater.flush()
