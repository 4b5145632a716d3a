"""The store seam: one ``Store`` made of parts, one part per kind of caller.

Each part is a ``Protocol`` here and a class per backend (``collector/store/sqlite/<part>.py``).
Callers hold a ``Store`` (or just the part they need) and never see a connection or SQL text.

| part       | used by                                | writes? |
|------------|----------------------------------------|---------|
| ingest     | the writer process (store/writer*.py)  | raw windows, rollups, status, rejects |
| registry   | import-customers (and import-robots)   | customers |
| health     | the health evaluator                   | robot_health, customer_health, history |
| alerts     | the alert engine, API actions          | alerts, alert_events |
| outbox     | the webhook notifier                   | deliveries |
| reads      | the HTTP API, exports, feed, counters  | nothing |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


# ------------------------------------------------------------------ ingest (writer process)
class IngestStore(Protocol):
    """Writes what ingest validated, exactly once per (robot, stream, seq)."""


# ------------------------------------------------------------------ registry (imports)
class RegistryStore(Protocol):
    """Customers (and later robots) imported by CS ops."""


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
