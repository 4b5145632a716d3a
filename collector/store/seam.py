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

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


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

    # -------------------------------------------------------------- people's actions (the API)
    # A person's transition of one alert, in its own short write transaction, recorded in the
    # alert's timeline and the feed with the person as the actor.  Both return the alert as the
    # engine keeps it; they raise AlertNotFound, or AlertStateError for a resolved alert.
    def acknowledge(self, alert_id: int, actor: str, note: str, now_ms: int) -> dict: ...

    def snooze(self, alert_id: int, until_ms: int, note: str, actor: str, now_ms: int) -> dict: ...


class AlertNotFound(LookupError):
    """No alert with that id."""


class AlertStateError(ValueError):
    """The alert's state does not allow the action (a resolved alert)."""


# ------------------------------------------------------------------ outbox (webhook notifier)
class OutboxStore(Protocol):
    """Webhook deliveries waiting, sent and failed."""


# ------------------------------------------------------------------ reads (HTTP API, feed)
#: the customer list's sort keys (``?sort=``, a leading ``-`` reverses), in the OpenAPI order
CUSTOMER_SORTS = ("score", "name", "id", "scene", "csm", "arr", "contract_end", "open_alerts", "robots",
                  "color")
#: the kinds of ``feed_events`` rows (written by health and alerts, read by the live feed)
FEED_KINDS = ("customer_health", "robot_state", "alert")


class ReadStore(Protocol):
    """Everything the API, the exports, the live feed and the counters route read.

    The read methods block (a backend may run them on any thread); ``run(fn, *args)`` runs
    ``fn(*args)`` on the store's own worker threads, so an async handler awaits one unit of read
    work (several reads plus serialization) without blocking the event loop.  Results are plain
    dicts shaped like the API's JSON bodies (docs/api.md)."""

    async def run(self, fn: Callable[..., T], *args: Any) -> T: ...

    def close(self) -> None: ...

    # cache markers: a cached page keyed by them is never stale
    def data_version(self) -> tuple: ...
    def robots_version(self, customer: str) -> tuple: ...
    def robot_health_version(self, customer: str) -> tuple: ...

    # customers
    def list_customers(self, f: dict, sort: str, limit: int, offset: int) -> dict: ...
    def get_customer(self, customer: str, now_ms: int, days: int = 30) -> dict | None: ...
    def customer_exists(self, customer: str) -> bool: ...
    def customer_names(self) -> dict[str, str]: ...

    # daily usage per customer (customer_day)
    def customer_scenes(self) -> dict[str, str]: ...
    def robot_counts(self) -> dict[str, int]: ...
    def robot_count(self, customer: str) -> int: ...
    def customer_days(self, since_ms: int, metrics: tuple[str, ...],
                      customer: str | None = None) -> list[tuple[str, str, int, int]]: ...
    def customer_day(self, customer: str, day_ms: int, metrics: tuple[str, ...]) -> dict[str, int]: ...

    # robots
    def list_robots(self, f: dict, limit: int, offset: int) -> dict: ...
    def get_robot(self, robot: str, now_ms: int, days: int = 7) -> dict | None: ...
    def robot_counters(self, robot: str, from_ms: int, to_ms: int) -> dict | None: ...

    # alerts
    def list_alerts(self, f: dict, limit: int, offset: int, count: bool = True) -> dict: ...
    def get_alert(self, alert: int) -> dict | None: ...
    def timeline(self, customer: str | None = None, robot: str | None = None,
                 limit: int = 100) -> list[dict]: ...

    # the live feed
    def feed_last_id(self) -> int: ...
    def feed_oldest_id(self) -> int: ...
    def feed_after(self, after: int, limit: int) -> list[tuple[int, int, str, str]]: ...


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
