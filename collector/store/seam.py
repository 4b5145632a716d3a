"""The store seam: one ``Store`` made of parts, one part per kind of caller.

Each part is a ``Protocol`` here and a class per backend (``collector/store/sqlite/<part>.py``).
Callers hold a ``Store`` (or just the part they need) and never see a connection or SQL text.

| part       | used by                                | writes? |
|------------|----------------------------------------|---------|
| ingest     | the writer process (store/writer*.py)  | raw windows, rollups, status, rejects |
| registry   | import-customers, import-robots, ingest's enrollment check | customers, robot_registry |
| health     | the evaluator (health/cycle.py)        | robot_health, customer_health, history, feed events |
| alerts     | the alert engine, API actions          | alerts, alert_events, feed events, queued notifications |
| outbox     | the webhook notifier                   | delivery attempts, dead letters, trimming |
| reads      | the HTTP API, exports, feed, counters  | nothing |
| handover   | the API (contacts and notes, issue 15) | customer_contacts, customer_notes |
| lease      | the service (which collector evaluates) | PostgreSQL: an advisory lock, no rows |

In SQLite the evaluator's ``health`` and ``alerts`` parts share one write connection, so a cycle's
health rows and the alert transitions they cause commit together (``sqlite/shared.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, TypeVar

from protocol.timeunits import DAY_MS, HOUR_MS

from collector.store.handover import ContactRow
from collector.store.records import CustomerRow, EventRow, GoalRow, Queued, RobotRow


class TransientStoreError(Exception):
    """A write that failed for a reason that may pass (the store locked, the disk full, I/O): the
    caller keeps what it was writing and tries again; nothing was written."""


T = TypeVar("T")


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

    # commercial events (issue 14: import-events, POST /api/v1/customers/{id}/events)
    def add_events(self, rows: Sequence[EventRow], actor: str, source: str, now_ms: int) -> list[int]:
        """Store the events whose identity (``EventRow.identity``) is not stored yet, all in one
        transaction, recorded as by ``actor`` from ``source`` (``import`` | ``api``); a renewal
        moves its customer's ``contract_end`` (renewals chained in date order, each keeping the end
        it replaced as ``previous_end``).  Returns the ids of the events added (none: all known)."""

    def find_event(self, row: EventRow) -> int | None:
        """The id of the stored event with ``row``'s identity, if any."""

    # success goals (issue 14: import-goals, POST /api/v1/customers/{id}/goals)
    def upsert_goals(self, rows: Sequence[GoalRow], actor: str, source: str,
                     now_ms: int) -> tuple[list[int], list[int]]:
        """Store each goal in one transaction: a new identity (``GoalRow.identity``) is added, a
        stored one whose target or note differs is updated (attributed to ``actor`` from ``source``),
        an equal one is left as it is.  Returns the ids (added, updated)."""

    def find_goal(self, row: GoalRow) -> int | None:
        """The id of the stored goal with ``row``'s identity, if any."""

    def close(self) -> None: ...


# ------------------------------------------------------------------ health (evaluator)
def hour_view_start(now_ms: int) -> int:
    """The short view: the last complete UTC hour and the current one (60 to 120 minutes)."""
    return now_ms - now_ms % HOUR_MS - HOUR_MS


def day_view_start(now_ms: int) -> int:
    """The long view: yesterday and today so far (UTC), 24 to 48 hours, read from the daily
    rollups: 24 hourly buckets per robot would be 12 times the rows and break the cycle's budget."""
    return now_ms - now_ms % DAY_MS - DAY_MS


#: a view of one robot: its slot sums (``SlotPlan``), one int per (subsystem, errors | denominator)
Vector = tuple[int, ...]


@dataclass(frozen=True)
class SlotPlan:
    """How the store sums a robot's counters into a view vector: metric -> slot (health's
    ``robot.SLOT_OF``, passed in so the store needs no health code)."""

    slot_of: Mapping[str, int]
    slots: int


@dataclass
class ViewCache:
    """What a store keeps between a loop's cycles so complete buckets are not re-read: per bucket
    its revision and rows, the last complete hour as robot -> vector, the running sum of today's
    hours.  Owned by the loop (inside ``HealthMemory``), dropped after a failed cycle; results
    never depend on it.  Its contents are the backend's business."""

    buckets: dict[tuple[str, int], tuple[int, Any]] = field(default_factory=dict)
    hour_base: tuple[Any, dict[str, Vector]] | None = None
    today: dict[str, Any] | None = None


@dataclass
class HealthInputs:
    """Everything one cycle reads, in one snapshot: robots and customers (dicts by column name),
    the two views (robot -> vector), the day-granular usage figures, and how long the reads took."""

    robots: list[dict]
    hour: dict[str, Vector]
    day: dict[str, Vector]
    customers: list[dict]
    usage: dict[str, dict[str, int]]       # customer -> {last7, prev7, last30, yesterday, weekday4}
    yesterday: dict[str, dict[str, int]]   # customer -> {metric: total} of the last complete day
    active: dict[str, set[int]]            # onboarding robot -> its active days
    week_ago: dict[str, float]             # customer -> score 7 days ago
    robot_views_s: float
    day_view_s: float
    usage_read_s: float
    #: robots of the asset registry with a handover date that never connected (``id``, ``customer``,
    #: ``site``, ``activated``, ``first_seen_ms`` None): in service from their handover (issue 13)
    unseen: list[dict] = field(default_factory=list)


class RobotHealthRow(NamedTuple):
    """One ``robot_health`` row as compared and written (``subsystems``: a dict, or the stored
    JSON text when read back)."""

    customer: str
    state: str
    score: float
    worst: str | None
    subsystems: dict | str


class StoredRobotHealth(NamedTuple):
    robot: str
    computed_ms: int
    row: RobotHealthRow


class CustomerHealthRow(NamedTuple):
    customer: str
    score: float
    color: str
    trend: str
    robots_total: int
    robots_online: int
    robots_offline: int
    robots_stale: int
    color_since_ms: int
    breakdown: dict
    facts: dict


#: the interactions that make a robot's day active for a goal's ``active_day_share`` when a caller
#: passes none: ``health.active_day_interactions``' default (the store cannot read health's settings)
DEFAULT_ACTIVE_FLOOR = 10


class GoalRequest(NamedTuple):
    """One goal's daily sums asked of the health part (``HealthStore.goal_sums``)."""

    customer: str
    metric: str
    first_ms: int                      # the first day's local midnight, UTC ms
    days: int
    open_hours: Sequence[int] | None   # availability: the venue's open local hours (None: all day)
    active_floor: int                  # active_day_share: interactions that make a robot's day active


class HealthStore(Protocol):
    """What the health evaluator reads (rollups, robots, customers) and writes (health rows).

    Its writes share a transaction with the alert engine's (``transaction``): one cycle's results
    are stored together or not at all."""

    def read_inputs(self, now_ms: int, plan: SlotPlan, onboarding_days: int, active_day_interactions: int,
                    cache: ViewCache | None, zone: str = "Asia/Shanghai",
                    learn: tuple[int, float] = (14, 0.5),
                    measures: dict[str, tuple[str, ...]] | None = None) -> HealthInputs:
        """Day-granular figures are each customer's local days (its ``timezone``, else ``zone``);
        its dict carries ``timezone``, ``offset_ms``, ``day_start_ms``, ``local_day`` and, without
        imported ``hours``, ``learned_hours`` (``learn``: days, share); with ``measures`` (scene ->
        metrics, ``""`` for other scenes), ``measure_days``: ``{metric: [35 local-day totals, oldest
        first, the last = yesterday]}`` of its scene's metrics."""

    def stored_robot_health(self) -> Iterator[StoredRobotHealth]: ...

    def customer_colors(self) -> dict[str, tuple[str, int]]:
        """customer -> (color, color_since_ms) as stored."""

    def transaction(self) -> AbstractContextManager[None]:
        """One write transaction for the cycle's writes (health, then the alert engine's)."""

    def write_robot_health(self, now_ms: int, changed: Iterable[tuple[str, RobotHealthRow]]) -> None: ...

    def write_customer_health(self, now_ms: int, day_ms: int | dict[str, int],
                              rows: Iterable[CustomerHealthRow]) -> None:
        """The customers' rows and their score of the day (``score_history``; ``day_ms``: one day
        for all, or each customer's local day label)."""

    def add_feed_events(self, events: Iterable[tuple[int, str, dict]]) -> None:
        """``(ts_ms, kind, data)`` live-feed events."""

    def trim_feed(self, before_ms: int, limit: int) -> None: ...

    def usage_volumes(self, spans: dict[str, tuple[int, int]]) -> dict[str, dict[str, int]]:
        """``{customer: (start_ms, end_ms)}`` -> the four usage volumes (``USAGE_VOLUMES``) of its
        robots summed over its span (UTC ms, end excluded), every customer asked for present."""

    def latest_events(self) -> dict[str, dict[str, dict]]:
        """``{customer: {kind: {date, robots, amount}}}``: its latest commercial event of each kind."""

    # success goals (issue 14): what ``collector.health.goals`` judges each cycle
    def goals(self) -> list[dict]:
        """Every stored goal (``customer_goals`` rows as dicts)."""

    def goal_sums(self, requests: Sequence["GoalRequest"]) -> list[list[tuple[float, float]]]:
        """For each request, the ``(numerator, denominator)`` of its goal metric for each of its
        ``days`` local days (``ReadStore.goal_series`` for one).  A backend may keep results between
        cycles while the rollups they were summed from are unchanged (late data included)."""


# ------------------------------------------------------------------ alerts (engine, actions)
class AlertStore(Protocol):
    """Alert rows and their transitions.  An alert is a dict keyed by the ``alerts`` columns
    (``ALERT_COLUMNS``; ``facts`` parsed).  The engine's writes run inside ``transaction`` (in a
    cycle: the health part's, the same transaction)."""

    # the alert engine's reads and writes
    def transaction(self, immediate: bool = True) -> AbstractContextManager[None]: ...

    def alerts_in(self, states: tuple[str, ...]) -> dict[tuple[str, str], dict]:
        """The alerts in ``states`` (the engine passes ``alerts.states.UNRESOLVED``), by (rule, subject)."""

    def get(self, alert_id: int) -> dict | None: ...

    def insert(self, alert: dict) -> int:
        """Store a new alert (its ``id`` is ignored); returns its id."""

    def save(self, alert: dict, now_ms: int) -> None:
        """Write the engine-kept fields of ``alert`` (state, summary, facts, times, value)."""

    def add_transition(self, alert: dict, from_state: str | None, now_ms: int, actor: str, note: str) -> None:
        """The transition's timeline row (``alert_events``) and live-feed event."""

    def site_outage_of(self, customer: str, site: str, states: tuple[str, ...]) -> int | None:
        """The id of the site's ``site_outage`` alert in ``states`` (the engine passes ``OPEN``), if any."""

    def adopt_children(self, parent_id: int, rules: tuple[str, ...], customer: str, site: str,
                       states: tuple[str, ...]) -> None:
        """Group the site's alerts of ``rules`` in ``states`` that have no parent under ``parent_id``."""

    def grouped_robots(self, alert_id: int) -> list[str]: ...

    def queue_notifications(self, alert_id: int, seq: int, now_ms: int,
                            deliveries: Iterable[tuple[str, str, str]]) -> None:
        """Record the alert's ``seq``-th notification and queue ``(idempotency_key, target, payload)``
        rows for the notifier (kept once per key)."""

    def trim_delivered(self, before_ms: int, limit: int) -> None: ...


ALERT_COLUMNS = ("id", "rule", "subject", "customer", "site", "robot", "severity", "state", "summary", "facts",
                 "parent_id", "opened_ms", "updated_ms", "fired_ms", "resolved_ms", "snoozed_until_ms",
                 "clear_since_ms", "notified_ms", "notify_count", "value")



class AlertNotFound(LookupError):
    """No alert with that id."""


class AlertStateError(ValueError):
    """The alert's state does not allow the action (a resolved alert)."""


# ------------------------------------------------------------------ outbox (webhook notifier)
class Delivery(NamedTuple):
    """One queued webhook notification (a ``notifications`` row)."""

    id: int
    idempotency_key: str
    target: str
    payload: str
    attempts: int
    next_attempt_ms: int


class OutboxStore(Protocol):
    """Webhook deliveries waiting, sent, failed and dead-lettered (the notifier's own connection).

    A row is pending until it is delivered or dead-lettered; each webhook (``target``) is its own
    queue, read in queue order."""

    def due(self, target: str, now_ms: int, limit: int = 100) -> list[Delivery]:
        """The first ``limit`` pending rows of ``target`` in queue order, or none while its first
        row waits out its backoff (later rows never overtake it)."""

    def mark_delivered(self, delivery_id: int, now_ms: int) -> None: ...

    def mark_failed(self, delivery_id: int, attempts: int, next_attempt_ms: int, error: str) -> None: ...

    def dead_letter_orphans(self, targets: Iterable[str], now_ms: int) -> dict[str, int]:
        """Dead-letter (reason ``orphaned``) pending rows whose target is not in ``targets``;
        returns how many per target."""

    def dead_letter_expired(self, target: str, created_before_ms: int, now_ms: int) -> int:
        """Dead-letter (reason ``expired``) pending rows of ``target`` queued before
        ``created_before_ms``; returns how many."""

    def trim(self, before_ms: int, limit: int = 5000) -> int:
        """Delete up to ``limit`` rows delivered, and as many dead-lettered, before ``before_ms``;
        returns how many."""

    def close(self) -> None: ...


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
    def list_customers(self, f: dict, sort: str, limit: int, offset: int, open_states: tuple[str, ...]) -> dict:
        """A page of customers with their health summary; ``open_alerts`` counts ``open_states``."""
    def get_customer(self, customer: str, now_ms: int, open_states: tuple[str, ...], days: int = 30) -> dict | None: ...
    def customer_exists(self, customer: str) -> bool: ...
    def customer_names(self) -> dict[str, str]: ...
    def customer_zones(self) -> dict[str, str | None]:
        """Each customer's time zone: imported, else the one its last health cycle used (None: neither)."""
    def customer_facts(self, ids: list[str]) -> dict[str, dict]:
        """The stored health facts (``customer_health.facts``) of the customers ``ids``."""

    # the funnel (issue 14): usage volumes over spans of local days, customers with their peers' keys
    def usage_volumes(self, spans: dict[str, tuple[int, int]]) -> dict[str, dict[str, int]]: ...
    def customer_funnel_inputs(self) -> list[dict]: ...

    # daily usage per customer (customer_day)
    def customer_scenes(self) -> dict[str, str]: ...
    def robot_counts(self) -> dict[str, int]: ...
    def robot_count(self, customer: str) -> int: ...
    def customer_days(self, since_ms: int, metrics: tuple[str, ...],
                      customer: str | None = None) -> list[tuple[str, str, int, int]]: ...
    def customer_day(self, customer: str, day_ms: int, metrics: tuple[str, ...]) -> dict[str, int]: ...
    def customer_hour_days(self, customers: list[str], days: list[tuple[int, int, int]],
                           metrics: tuple[str, ...]) -> list[tuple[str, str, int, int]]:
        """``(customer, metric, day label, total)`` of local days ``(label, start_ms, end_ms)`` of one
        zone, summed from the hourly ``customer_hour`` (the usage charts' local days)."""
    def robot_starts(self, customer: str | None = None) -> list[dict]:
        """Each robot's ``customer``, ``first_seen_ms`` and registry handover date ``activated``
        (None when not known), of one customer or all: the charts' robot-days in service."""
    def data_start_ms(self) -> int | None:
        """The earliest first sighting of any robot: the collector's first data."""

    # robots
    def list_robots(self, f: dict, limit: int, offset: int) -> dict: ...
    def get_robot(self, robot: str, now_ms: int, days: int = 7, zone: str = "Asia/Shanghai") -> dict | None:
        """The robot and its last ``days`` local days of usage and skills, in its customer's zone
        (else ``zone``)."""
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

    # commercial events and outcome rates (issue 14)
    def list_events(self, customer: str | None = None, limit: int = 100_000) -> list[dict]:
        """Commercial events (``customer_events`` rows as dicts), oldest first (date, then id)."""
    def get_event(self, event_id: int) -> dict | None: ...
    def outcomes_version(self) -> tuple:
        """Changes whenever an event is added, a customer changes or health is recomputed (the
        outcome rates' cache marker)."""
    def outcome_inputs(self) -> tuple[list[dict], list[dict]]:
        """What the outcome rates are computed from, in one read: every customer (id, name, scene,
        tier, csm, distributor, contract_start, contract_end, arr, score, color) and every event."""

    # a CSM's book of business (issue 14)
    def csm_book(self, csm: str, since_ms: int, since_date: str, open_states: tuple[str, ...]) -> dict | None:
        """The CSM's customers (``list_customers`` items), their alerts unresolved or fired or
        resolved since ``since_ms``, their ``score_history`` colours from two days before
        ``since_ms`` and their events dated from ``since_date``; None when no customer has this CSM."""
    def csm_book_version(self, csm: str) -> tuple:
        """The book's cache marker: changes whenever what ``csm_book`` reads changes."""
    # the monthly value report (issue 15; collector/report)
    def report_customers(self) -> list[tuple[str, str]]:
        """Every customer's ``(id, name)``, by id (what ``report --all`` walks)."""
    def report_customer(self, customer: str) -> tuple[dict | None, int | None]:
        """The customer's row (id, name, scene, tier, csm, contract_start, contract_end, arr,
        timezone, hours, language, created_ms), or None, and the start of its first data (ms), or None."""
    def report_inputs(self, customer: str, from_ms: int, to_ms: int, prev_from_ms: int,
                      peers_to_ms: int | None = None) -> dict:
        """The month ``[from_ms, to_ms)`` of one customer in one snapshot (the peers' usage up to
        ``peers_to_ms``, default ``to_ms``: a month in progress compares complete days only): ``customer`` (as
        ``report_customer``), ``first_data_ms``, ``hours`` (``(bucket_ms, metric, total)`` usage and
        skill rows of ``[prev_from_ms, to_ms)``), ``robots`` (id, site, first_seen_ms, last_window_ms),
        ``robot_counters`` (robot -> summed health-subsystem counters of the month), ``robot_hours``
        (robot -> the hour buckets it reported anything in), ``peers`` (the scene's other customers:
        id, usage volume ``totals`` of the month, ``robots`` with first_seen_ms/last_window_ms) and
        ``alerts`` (opened before ``to_ms`` and not resolved before ``from_ms``).  An hour bucket
        belongs to the month when its start does."""
    # success goals (issue 14)
    def list_goals(self, customer: str | None = None) -> list[dict]:
        """Stored goals (``customer_goals`` rows as dicts), by customer, due date, id."""
    def get_goal(self, goal_id: int) -> dict | None: ...
    def goal_customer(self, customer: str) -> dict | None:
        """What judging a customer's goals needs beside the sums: ``timezone`` and ``hours`` as
        imported, and ``learned_hours`` (local hours, 0-23) as the last health cycle learned them."""
    def goal_series(self, customer: str, metric: str, first_ms: int, days: int,
                    open_hours: Sequence[int] | None, active_floor: int = DEFAULT_ACTIVE_FLOOR) -> list[tuple[float, float]]:
        """``(numerator, denominator)`` of a goal metric for each of ``days`` local days from
        ``first_ms`` (the first day's local midnight, UTC ms); ``open_hours``: the venue's local
        hours (None: all day), for ``availability``; ``active_floor``: the interactions that make a
        robot's day active, for ``active_day_share``."""


# ------------------------------------------------------------------ handover (contacts, notes)
class HandoverStore(Protocol):
    """A customer's contacts and CS notes (issue 15's handover page, seed 003), written by people
    through the API one short transaction each, every row attributed to the acting token's person
    (``collector.http.auth.actor``).  Rows are dicts shaped like the API's JSON (docs/api.md).
    The reads block like ``ReadStore``'s: the API runs them through ``reads.run``."""

    def add_note(self, customer: str, text: str, author: str, token: str, now_ms: int) -> int:
        """Store a note (kept for good: never edited, never deleted); its id."""

    def get_note(self, note_id: int) -> dict | None: ...

    def notes(self, customer: str, limit: int, offset: int) -> dict:
        """``{"items", "total", "limit", "offset"}``, newest first."""

    def put_contact(self, row: ContactRow, actor: str, now_ms: int) -> tuple[int, bool]:
        """Store a contact; one whose ``(customer, name)`` is stored already is updated instead
        (nothing written when nothing differs).  ``(id, created)``."""

    def get_contact(self, contact_id: int) -> dict | None: ...

    def contacts(self, customer: str) -> list[dict]:
        """The customer's contacts, by name."""

    def remove_contact(self, customer: str, contact_id: int) -> bool:
        """Delete one of the customer's contacts (the person left); False when it has no such one."""

    def first_data(self, customer: str) -> int | None:
        """The start (ms) of the customer's first data, if any: the earliest first window of its
        robots or its earliest hour of usage (as the monthly report judges it, so the handover
        never links a month the report refuses)."""

    def close(self) -> None: ...


# ------------------------------------------------------------------ lease (the evaluator's role)
class LeaseStore(Protocol):
    """Which collector runs the health and alert cycle and the webhook notifier (issue 16): exactly
    one per store.  ``hold`` is asked again before each cycle: True while this collector holds the
    role (taking it when free), False while another one does; a lease whose holder died is free
    again (the holder's database session ended) so a survivor takes it at its next ask.

    SQLite: always True (one collector per SQLite store, enforced by ``store/lock.py``).
    PostgreSQL: a session-level advisory lock on a connection of its own (``postgres/lease.py``)."""

    def hold(self) -> bool:
        """Take or keep the role; True while held.  Never raises: a store it cannot reach is
        "not held" (a collector cut off from the database must stop evaluating)."""

    def release(self) -> None:
        """Give the role up (a clean stop), so that another collector takes it at once."""

    def close(self) -> None: ...


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
    #: a new ``alerts`` part on a connection of its own, for one person's action from the API (the
    #: evaluator's part belongs to its cycle); the caller closes it
    open_alerts: Callable[[], AlertStore]
    #: contacts and notes (issue 15)
    handover: HandoverStore
    #: the evaluator's role (issue 16); ``open_store`` sets it for the backend
    lease: LeaseStore | None = None

    def close(self) -> None:
        for part in (self.ingest, self.registry, self.health, self.alerts, self.outbox, self.reads, self.handover,
                     self.lease):
            close = getattr(part, "close", None)
            if close is not None:
                close()
