"""The store seam: one ``Store`` made of parts, one part per kind of caller.

Each part is a ``Protocol`` here and a class per backend (``collector/store/sqlite/<part>.py``).
Callers hold a ``Store`` (or just the part they need) and never see a connection or SQL text.

| part       | used by                                | writes? |
|------------|----------------------------------------|---------|
| ingest     | the writer process (store/writer*.py)  | raw windows, rollups, status, rejects |
| registry   | import-customers, import-robots, ingest's enrollment check | customers, robot_registry |
| health     | the health evaluator                   | robot_health, customer_health, history |
| alerts     | the alert engine, API actions          | alerts, alert_events |
| outbox     | the webhook notifier                   | deliveries |
| reads      | the HTTP API, exports, feed, counters  | nothing |
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from collector.store.records import CustomerRow, Queued, RobotRow


class TransientStoreError(Exception):
    """A write that failed for a reason that may pass (the store locked, the disk full, I/O): the
    caller keeps what it was writing and tries again; nothing was written."""


# ------------------------------------------------------------------ ingest (writer process)
@dataclass
class Outcome:
    """What one flush did (the writer counts it into its metrics)."""

    stored: int = 0          # windows stored for the first time
    duplicates: int = 0      # windows already stored, ignored
    statuses: int = 0
    rejects: int = 0
    robots: set[str] = field(default_factory=set)


class IngestStore(Protocol):
    """Writes what ingest validated, exactly once per (robot, stream, seq).  Used by one writer
    thread (``collector.store.writer``): one write at a time, each its own transaction."""

    def apply(self, items: Sequence[Queued], rejects_kept: int) -> Outcome:
        """One transaction: each window stored once (a seq already stored is a duplicate) with its
        rollups, robots and customers updated; statuses applied; rejects recorded (the newest
        ``rejects_kept`` kept).  All or nothing: raises ``TransientStoreError`` for a failure that
        may pass, anything else for a bug on some item (the caller then applies items one by one).
        Which seqs a stream has stored is read here, inside the transaction (a backend may cache
        it only while it is the store's one writer of windows)."""

    def delete_expired(self, table: str, cutoff_ms: int, limit: int) -> int:
        """Retention: delete up to ``limit`` rows of ``table`` (one of ``retention.RETAINED``) older
        than ``cutoff_ms`` in one short transaction; how many.  Raises ``TransientStoreError``."""

    def close(self) -> None: ...


# ------------------------------------------------------------------ registry (imports)
class RegistryStore(Protocol):
    """Customers and the asset registry (robots) imported by CS ops, and what ingest's enrollment
    check reads of them."""

    def customer_ids(self) -> set[str]:
        """The ids of every customer stored (imported or created from telemetry)."""

    def upsert_customers(self, rows: Sequence[CustomerRow], now_ms: int) -> None:
        """Insert or update ``rows`` in one transaction, marking each as assigned (imported)."""

    def registered_robots(self) -> dict[str, RobotRow]:
        """The asset registry: robot id -> its row."""

    def upsert_robots(self, rows: Sequence[RobotRow], now_ms: int) -> tuple[int, int]:
        """Insert or update ``rows`` in one transaction; a row equal to the stored one is left as
        it is (importing the same file twice changes nothing).  Returns (new, updated)."""

    def enrollment(self) -> tuple[tuple, dict[str, str], dict[str, str], set[str]]:
        """What ingest's enrollment check needs, read in one go: a cheap version stamp (changes
        whenever any of the rest may have), registry robot -> customer, seen robot -> customer
        (the ``robots`` table), and every customer id."""

    def enrollment_version(self) -> tuple:
        """The version stamp alone (a few aggregate reads), polled to know when to re-read."""

    def close(self) -> None: ...


# ------------------------------------------------------------------ health (evaluator)
class HealthStore(Protocol):
    """What the health evaluator reads (rollups, robots, customers) and writes (health rows)."""


# ------------------------------------------------------------------ alerts (engine, actions)
class AlertStore(Protocol):
    """Alert rows and their transitions."""


# ------------------------------------------------------------------ outbox (webhook notifier)
class OutboxStore(Protocol):
    """Webhook deliveries waiting, sent and failed."""


# ------------------------------------------------------------------ reads (HTTP API, feed)
class ReadStore(Protocol):
    """Everything the API, the exports, the live feed and the counters route read."""


@dataclass
class Store:
    """One backend's parts.  ``close()`` releases what the parts opened."""

    url: str
    ingest: IngestStore
    registry: RegistryStore
    health: HealthStore
    alerts: AlertStore
    outbox: OutboxStore
    reads: ReadStore

    def close(self) -> None:
        for part in (self.ingest, self.registry, self.health, self.alerts, self.outbox, self.reads):
            close = getattr(part, "close", None)
            if close is not None:
                close()
