"""Fuzzing the agent's StatsD line parser (issue 17): any line, in any dialect or none, gives a
parsed result or a bad line (``None``, or an exception class the parser's module defines for bad
lines), never another exception; and what it accepts is finite and within the codec's limits, so one
bad byte cannot stop the listener or poison a window.

Budget: ``ROBOPULSE_FUZZ_EXAMPLES`` (default 300), see test_fuzz_codec.py."""

from __future__ import annotations

import math
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.samplers import statsd
from agent.windows import Accumulator
from protocol.codec import MAX_COUNT

FUZZ = settings(max_examples=int(os.environ.get("ROBOPULSE_FUZZ_EXAMPLES", "300")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
parse_line = statsd.parse_line
#: the parser's documented "bad line" errors: exception classes its own module defines (none today:
#: it returns None for a bad line)
DOCUMENTED = tuple(v for v in vars(statsd).values()
                   if isinstance(v, type) and issubclass(v, Exception) and v.__module__ == statsd.__name__)


def numbers():
    return st.one_of(st.integers(-10**20, 10**20).map(str), st.floats().map(repr),
                     st.sampled_from(["nan", "inf", "-inf", "1e999", "0x10", "1_000", "", "+", ".", "1e-400"]))


def lines():
    """Lines shaped like StatsD (plain, DogStatsD and Telegraf tags, timers, sets, rates) with random
    parts, and plain random text."""
    name = st.one_of(st.sampled_from(["usage.wakeups", "tts.latency_ms", "asr.requests", "sys.cpu_pct"]),
                     st.text(max_size=20))
    kind = st.one_of(st.sampled_from(["c", "g", "ms", "h", "d", "s", "C", ""]), st.text(max_size=3))
    extra = st.lists(st.one_of(st.tuples(st.just("@"), numbers()).map("".join),
                               st.lists(st.text(max_size=8), max_size=3).map(lambda t: "#" + ",".join(t)),
                               st.text(max_size=10)), max_size=3)
    shaped = st.tuples(name, st.sampled_from([":", ",site=a:", ":", "::"]), numbers(), kind, extra).map(
        lambda p: p[0] + p[1] + p[2] + "|" + p[3] + "".join("|" + e for e in p[4]))
    return st.one_of(shaped, st.text(max_size=120),
                     st.binary(max_size=120).map(lambda b: b.decode("utf-8", errors="surrogateescape")))


def finite_numbers(result) -> list[float]:
    found = []
    stack = [result]
    while stack:
        item = stack.pop()
        if isinstance(item, bool):
            continue
        if isinstance(item, (int, float)):
            found.append(item)
        elif isinstance(item, (tuple, list)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif hasattr(item, "__dict__"):
            stack.extend(vars(item).values())
    return found


@FUZZ
@given(lines())
def test_fuzz_statsd_parse_line_returns_or_refuses(line):
    try:
        result = parse_line(line)
    except DOCUMENTED or ():
        return
    for value in finite_numbers(result):
        assert math.isfinite(value), (line, result)
        assert abs(value) <= max(MAX_COUNT, 1e15), (line, result)


def test_fuzz_statsd_parser_accepts_a_plain_counter():
    """The harness sees accepted lines too, not only refusals."""
    result = parse_line("usage.wakeups:3|c")
    assert result is not None and 3 in finite_numbers(result)


#: the short path's shape, ``name:value|kind``: names, numbers at and past every bound, kinds (with a
#: rate, a tag or a second value the line must leave the short path)
PLAIN_NAMES = ["usage.wakeups", "tts.latency_ms", "a." + "b" * 120, "a." + "b" * 121, "a." + "b" * 127,
               "Bad.Name", "a.b,c=d", "", "a.b:c"]
PLAIN_NUMBERS = ["-0", "-1", "0", "1", "2.5", "1e9", "1000000001", "999999999.5", "1e15", "-1e15",
                 "1.0000001e15", "-1.0000001e15", "4:5", " 3 ", "1_0", "nan", "inf", "-inf", "x", ""]
PLAIN_KINDS = ["c", "g", "ms", "h", "d", "s", "c|@0.5", "c|#skill:qa", "g|#k:v", "C", "c ", "", "q"]


def plain_lines():
    """Lines of the short path's shape with random parts."""
    name = st.one_of(st.sampled_from(PLAIN_NAMES), st.text(max_size=12))
    number = st.one_of(st.sampled_from(PLAIN_NUMBERS), st.floats().map(repr), numbers())
    kind = st.one_of(st.sampled_from(PLAIN_KINDS), st.text(max_size=3))
    return st.tuples(name, number, kind).map(lambda p: f"{p[0]}:{p[1]}|{p[2]}")


def test_statsd_short_path_gives_what_the_full_parser_gives_at_every_bound():
    """parse_line's short path for plain lines (the agent's CPU at 200 lines/s, issue 12) is only
    a shortcut: every combination of the names, numbers and kinds above parses to exactly what the
    full parser makes of it."""
    accepted = 0
    for name in PLAIN_NAMES:
        for number in PLAIN_NUMBERS:
            for kind in PLAIN_KINDS:
                line = f"{name}:{number}|{kind}"
                got = statsd.parse_line(line)
                assert got == statsd.parse_any(line), line
                accepted += got is not None
    assert accepted > 100  # the grid reaches the accepting branches, not only refusals


@FUZZ
@given(st.one_of(plain_lines(), lines()))
def test_fuzz_statsd_short_path_gives_what_the_full_parser_gives(line):
    assert statsd.parse_line(line) == statsd.parse_any(line), line


def listener_counts(datagrams):
    acc = Accumulator()
    listener = statsd.StatsdListener.__new__(statsd.StatsdListener)
    listener.acc, listener.lines_total, listener.bad_lines_total, listener.ignored_tags_total = acc, 0, 0, 0
    for data in datagrams:
        listener.feed(data)
    return acc.take(), listener.lines_total, listener.bad_lines_total, listener.ignored_tags_total


@FUZZ
@given(st.lists(st.one_of(plain_lines().map(str.encode), st.binary(max_size=30),
                          st.sampled_from([b"", b" \t", b"a.b:1|c\r", b"\xffa.b:1|c", b"\xc2\x85a.b:1|c"])), max_size=6))
def test_fuzz_statsd_datagram_decoded_whole_counts_like_its_lines_one_by_one(lines_):
    """A datagram is decoded whole, or line by line when it is not UTF-8: either way its lines count
    exactly as if each had come in a datagram of its own (one bad byte still costs one line)."""
    assert listener_counts([b"\n".join(lines_)]) == listener_counts(lines_)
