"""The records ingest hands the store: one named type per shape a message takes on its way.

    MQTT message --ingest--> Telemetry | Status | RejectRow   (a ``Record``: what the store keeps)
                 --ingest--> Envelope (record, receive time, ack token) --pipe--> the writer process
                 --writer process--> Queued (record, ack callback) --> the writer thread's flush

Ingest builds these (``collector.ingest``); the store accepts them and imports nothing from ingest.
The records are ``NamedTuple``\\ s of plain values (str, int, float, None, dicts, tuples) because an
``Envelope`` crosses a process boundary as ``marshal`` bytes (``to_wire`` / ``from_wire``): the
cheapest serialiser there is for such values, and it carries plain tuples only (hence the
re-wrapping on the far side).
"""

from __future__ import annotations

import marshal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

#: one window as stored: ``(seq, t0, t1, counts, gauges)``; plain tuples because a batch holds up
#: to 500 of them and an object per window costs ~0.5 us on the hot path (see protocol.codec)
WindowRow = tuple[int, int, int, dict[str, int], dict[str, float]]
#: what the MQTT source acknowledges a message with once it is committed: ``(mid, qos, generation)``
AckToken = tuple[int, int, int]


class Telemetry(NamedTuple):
    """A validated telemetry batch, its windows as ``WindowRow`` tuples in seq order."""

    robot: str
    customer: str
    site: str
    stream: str
    sent: int
    windows: tuple[WindowRow, ...]

    @classmethod
    def of(cls, batch) -> "Telemetry":
        """From a ``protocol.codec.Batch`` of ``Window`` objects (tools, tests, benchmarks)."""
        return cls(batch.robot, batch.customer, batch.site, batch.stream, batch.sent,
                   tuple([(w.seq, w.t0, w.t1, w.c, w.g) for w in batch.windows]))


class Status(NamedTuple):
    """What the store reads of a validated status message (whatever else a robot put in it stays
    behind).  ``reason`` only when offline; ``ts`` None when the message had none (a retained last
    will: the receive time stands in)."""

    robot: str
    customer: str
    site: str
    scene: str
    agent: str
    interval_s: int
    state: str
    reason: str | None
    ts: int | None

    @classmethod
    def of(cls, doc: dict) -> "Status":
        """From a status document as ``protocol.codec.decode_status`` returns it."""
        state = doc["state"]
        return cls(doc["robot"], doc["customer"], doc["site"], doc.get("scene", ""), doc.get("agent", ""),
                   doc.get("interval_s", 10), state, doc.get("reason") if state == "offline" else None, doc.get("ts"))


class RejectRow(NamedTuple):
    """A rejected message as kept for an operator: time, reason, topic, size, first bytes in hex."""

    ts_ms: int
    reason: str
    topic: str
    size: int
    head: str


Record = Telemetry | Status | RejectRow


class CustomerRow(NamedTuple):
    """A customer and its contract, as import-customers reads it from the CS team's CSV."""

    id: str
    name: str
    scene: str
    tier: str
    contract_start: str | None   # YYYY-MM-DD
    contract_end: str | None
    arr: float
    csm: str
    timezone: str | None = None  # IANA name; None: [health] timezone
    hours: str | None = None     # opening hours 'HH:MM-HH:MM' local; None: learned
    # commercial records (issue 14): the reseller; None = the file has no distributor column (the
    # stored one is kept), '' = none
    distributor: str | None = None
    language: str = "zh"
    # opening hours per site 'site=HH:MM-HH:MM;...' (issue 13); None = the file has no site_hours
    # column (the stored ones are kept), '' = none (every site keeps the customer's hours)
    site_hours: str | None = None


class RobotRow(NamedTuple):
    """A robot of the asset registry, as import-robots reads it from the CS team's CSV."""

    robot: str
    customer: str
    site: str
    activated: str | None        # YYYY-MM-DD, the customer's local calendar; None: not known
    model: str


class Envelope(NamedTuple):
    """One received message as ingest hands it to the writer process."""

    record: Record
    received_ms: int
    ack: AckToken | None  # None: QoS 0, nothing to acknowledge


# ------------------------------------------------------------------ the pipe to the writer process
#: the wire form: ``(tag, ack, received_ms, *record fields)``, tag by record type
_TAGS: dict[type, int] = {Telemetry: 0, Status: 1, RejectRow: 2}
_TYPES: tuple[type, ...] = (Telemetry, Status, RejectRow)
#: the end of the stream
END = marshal.dumps(None)


def to_wire(env: Envelope) -> bytes:
    rec = env.record
    return marshal.dumps((_TAGS[type(rec)], env.ack, env.received_ms) + rec)  # a plain tuple


def from_wire(data: bytes) -> Envelope | None:
    """The envelope ``to_wire`` made (None for ``END``)."""
    rec = marshal.loads(data)
    if rec is None:
        return None
    return Envelope(_TYPES[rec[0]]._make(rec[3:]), rec[2], rec[1])


# ------------------------------------------------------------------ the writer's queue
@dataclass(slots=True)
class Queued:
    """A record waiting in the writer's queue; ``ack`` is called once its flush is committed."""

    record: Record
    received_ms: int
    windows: int = 0                      # its windows (telemetry): what flush sizes count
    ack: Callable[[], None] | None = None
    arrived: float = field(default_factory=time.monotonic)

    @classmethod
    def of(cls, record: Record, received_ms: int, ack: Callable[[], None] | None = None) -> "Queued":
        return cls(record, received_ms, len(record.windows) if type(record) is Telemetry else 0, ack)


# ------------------------------------------------------------------ commercial events (issue 14)
class EventRow(NamedTuple):
    """A commercial event as ``import-events`` (or the API) reads it (collector/store/events.py)."""

    customer: str
    date: str                  # YYYY-MM-DD
    kind: str                  # renewal | expansion | churn | referral
    amount: float
    robots: int
    referred_by: str
    contract_end: str | None   # a renewal's new end
    note: str

    @property
    def identity(self) -> tuple:
        """What makes two rows the same event: importing a row with a stored identity changes nothing."""
        return (self.customer, self.date, self.kind, self.amount, self.referred_by)


# ------------------------------------------------------------------ success goals (issue 14)
class GoalRow(NamedTuple):
    """A success goal as ``import-goals`` (or the API) reads it (collector/store/goals.py)."""

    customer: str
    metric: str                # interactions_per_robot_day | conversion | active_day_share | availability | skill:<name>
    target: float
    start: str                 # YYYY-MM-DD, the customer's local calendar
    due: str                   # YYYY-MM-DD, on or after start
    note: str

    @property
    def identity(self) -> tuple:
        """What makes two rows the same goal: importing it again updates its target and note only."""
        return (self.customer, self.metric, self.start, self.due)
