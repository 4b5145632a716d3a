"""StatsD over UDP (docs/contract.md section 2): the robot's own software reports its counters here.

The dialects robot teams' client libraries speak (docs/agent.md):

- plain StatsD: ``name:value|c`` adds to a counter (``|@rate`` scales it up), ``name:value|g`` sets a
  gauge, ``|ms`` / ``|h`` / ``|d`` (timer, histogram, distribution) are summarised per window as
  ``<name>.count``, ``<name>.sum`` and gauge ``<name>.max``, ``|s`` (set) counts distinct values;
- DogStatsD tags ``|#key:value,key2`` and Telegraf tags ``name,key=value:1|c``: the line is kept,
  a tag a catalogue rule maps (``protocol.catalogue.TAG_RULES``) also counts its metric, any other
  tag is ignored and counted in ``agent.statsd_ignored_tags``.

Each line of a datagram is decoded on its own, so one bad byte costs one line.  Anything the agent
cannot read is a bad line: counted in ``agent.statsd_bad_lines`` and dropped, never fatal.  One small
thread blocks on the socket."""

from __future__ import annotations

import math
import socket
import threading
from typing import NamedTuple

from protocol.catalogue import is_valid_name, tag_metric
from protocol.codec import MAX_COUNT

BAD = "agent.statsd_bad_lines"
IGNORED_TAGS = "agent.statsd_ignored_tags"

#: types summarised per window (count, sum, max): timer, histogram, distribution
SUMMARY_TYPES = ("ms", "h", "d")
TYPES = ("c", "g", "s", *SUMMARY_TYPES)
#: the longest name a summary may have: ``<name>.count`` must stay a valid metric name (128)
MAX_SUMMARY_NAME = 128 - len(".count")
#: the largest value a timer/histogram/distribution sample may carry (its sum is a counter)
MAX_SAMPLE = 1e9


class StatsdLine(NamedTuple):
    """One parsed line.  ``values``: counters already scaled by the rate; for a set, its members.
    ``rate`` is kept for summaries (each sample then weighs 1/rate).  ``tags``: (key, value or None)."""

    name: str
    kind: str
    values: tuple
    rate: float = 1.0
    tags: tuple[tuple[str, str | None], ...] = ()


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _dog_tags(field: str) -> list[tuple[str, str | None]] | None:
    tags = []
    for tag in field.split(","):
        if not tag:
            return None
        key, sep, value = tag.partition(":")
        tags.append((key, value if sep else None))
    return tags


#: kinds whose plain one-value line (``name:value|kind``) takes ``parse_line``'s short path
_SHORT_KINDS = frozenset({"c", "g", *SUMMARY_TYPES})
#: what ``bytes.strip()`` strips (ASCII whitespace), for lines decoded with the whole datagram
_ASCII_SPACE = " \t\n\r\x0b\x0c"
_new_line = tuple.__new__


def parse_line(line: str) -> StatsdLine | None:
    """A line in any of the dialects above, or None for a bad line.

    The plain line (``name:value|c``, no rate, no tags: what most robot software sends, hundreds a
    second) takes a short path with the same result as ``parse_any``'s; everything else goes there.
    Why: at 200 lines/s most of the agent's CPU is this thread, and the full parser's work per plain
    line (about twice the first release's) showed up as +31 % of the agent's CPU
    (docs/benchmarks/rerun-architecture.md)."""
    head, sep, rest = line.partition(":")
    if sep and ":" not in rest:
        text, bar, kind = rest.partition("|")
        if bar and kind in _SHORT_KINDS and is_valid_name(head):
            try:
                value = float(text)
            except ValueError:
                return None
            # NaN fails every comparison and infinity every bound: no isfinite needed
            if kind == "c":
                ok = 0 <= value <= MAX_COUNT
            elif kind == "g":
                ok = abs(value) <= 1e15
            else:
                ok = len(head) <= MAX_SUMMARY_NAME and 0 <= value <= MAX_SAMPLE
            # tuple.__new__: the StatsdLine the class call would build, without its Python-level __new__
            return _new_line(StatsdLine, (head, kind, (value,), 1.0, ())) if ok else None
    return parse_any(line)


def parse_any(line: str) -> StatsdLine | None:
    """``parse_line`` without its short path: every dialect, the reference the short path must match."""
    head, sep, rest = line.partition(":")
    if not sep:
        return None
    name, *telegraf = head.split(",")
    tags: list[tuple[str, str | None]] = []
    for tag in telegraf:  # Telegraf: name,key=value,key2=value2
        key, sep, value = tag.partition("=")
        if not sep or not key or not value:
            return None
        tags.append((key, value))
    if not is_valid_name(name):
        return None
    fields = rest.split("|")
    if len(fields) < 2 or fields[1] not in TYPES:
        return None
    kind = fields[1]
    rate = 1.0
    for field in fields[2:]:
        if field.startswith("@"):
            rate = _number(field[1:]) or 0.0
            if not 0 < rate <= 1:
                return None
        elif field.startswith("#"):  # DogStatsD tags
            got = _dog_tags(field[1:])
            if got is None:
                return None
            tags += got
        elif field.startswith(("c:", "e:", "T")):  # DogStatsD container id, external env, timestamp
            continue
        else:
            return None
    if kind == "s":
        member = fields[0]
        return StatsdLine(name, kind, (member,), rate, tuple(tags)) if member else None
    # DogStatsD 1.1 packs several values in one line (name:1:2:3|d); counts and samples add up
    values = [_number(v) for v in fields[0].split(":")]
    if not values or any(v is None for v in values):
        return None
    if kind == "c":
        values = [v / rate for v in values]
        if any(v < 0 or v > MAX_COUNT for v in values):
            return None
    elif kind == "g":
        if len(values) != 1 or abs(values[0]) > 1e15:
            return None
    elif len(name) > MAX_SUMMARY_NAME or any(v < 0 or v > MAX_SAMPLE for v in values):
        return None  # a negative sample would make a negative <name>.sum counter
    return StatsdLine(name, kind, tuple(values), rate, tuple(tags))


class StatsdListener:
    """Receives datagrams on ``host:port`` and feeds the accumulator of the window in progress."""

    name = "statsd"

    def __init__(self, accumulator, listen: str, log=None):
        self.acc = accumulator
        host, _, port = listen.rpartition(":")
        family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind((host.strip("[]"), int(port)))
        self.address = self.sock.getsockname()
        self.lines_total = 0
        self.bad_lines_total = 0
        self.ignored_tags_total = 0
        self.log = log
        self._thread: threading.Thread | None = None
        self._stopping = False

    def _bad(self) -> None:
        self.bad_lines_total += 1
        self.acc.add(BAD, 1)

    def _apply(self, parsed: StatsdLine) -> bool:
        acc = self.acc
        name, kind, values, rate, tags = parsed
        if kind == "c":
            n = round(sum(values))
            if not acc.add(name, n):
                return False
            if tags:
                ignored = 0
                for key, value in tags:
                    also = tag_metric(name, key, value)
                    if also is None or not acc.add(also, n):
                        ignored += 1
                if ignored:
                    self.ignored_tags_total += ignored
                    acc.add(IGNORED_TAGS, ignored)
            return True
        if kind == "g":
            ok = acc.gauge(name, values[0])
        elif kind == "s":
            ok = acc.set_add(name, values[0])
        else:
            ok = all([acc.observe(name, v, 1 / rate) for v in values])
        if ok and tags:
            self.ignored_tags_total += len(tags)
            acc.add(IGNORED_TAGS, len(tags))
        return ok

    def feed(self, data: bytes) -> None:
        """Handle one datagram, line by line (public so tests and the benchmark can call it).

        The datagram is decoded once, whole; one that is not UTF-8 goes line by line instead, so
        one bad byte costs one line."""
        try:
            lines = data.decode("utf-8").split("\n")
        except UnicodeDecodeError:
            self._feed_undecodable(data)
            return
        for line in lines:
            line = line.strip(_ASCII_SPACE)
            if not line:
                continue
            self.lines_total += 1
            parsed = parse_line(line)
            if parsed is None or not self._apply(parsed):
                self._bad()

    def _feed_undecodable(self, data: bytes) -> None:
        """Each line of a datagram that is not UTF-8 as a whole, decoded on its own (a newline is
        never part of a UTF-8 sequence, so these are the lines ``feed`` would have split)."""
        for raw in data.split(b"\n"):
            raw = raw.strip()
            if not raw:
                continue
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                self.lines_total += 1
                self._bad()
                continue
            self.feed(raw)

    def _run(self) -> None:
        while not self._stopping:
            try:
                data = self.sock.recv(65535)
            except OSError:
                if self._stopping:
                    return
                continue
            self.feed(data)

    def start(self) -> "StatsdListener":
        self._thread = threading.Thread(target=self._run, name="statsd", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping = True
        try:
            # wake the blocking recv with an empty datagram, then close
            with socket.socket(self.sock.family, socket.SOCK_DGRAM) as s:
                s.sendto(b"", self.address)
        except OSError:
            pass
        if self._thread is not None:
            self._thread.join(2)
        self.sock.close()
