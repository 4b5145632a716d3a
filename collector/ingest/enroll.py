"""Enrollment: may this robot send telemetry and status under this customer?  (``[ingest] enroll``)

The asset registry (``import-robots``) decides who a robot is.  Two modes:

- ``registry`` (recommended for production): only robots in the registry, each on its own
  customer's topics.  Anything else is refused: ``unregistered_robot``, ``wrong_customer``.
- ``auto`` (the demo's, and the default for compatibility): an unknown robot is enrolled under
  the customer its first message names, but a robot that is registered, or already seen under a
  customer (the ``robots`` table, or admitted by this process since the last read), is never moved
  to another customer by telemetry (``wrong_customer``).  Customers that telemetry would create are
  rate-limited: at most ``new_customers_per_minute`` (a token bucket of that size refilled over a
  minute); beyond it ``new_customer_limit``.  Only the registry moves a robot (import it with its
  new customer; its next message on the new customer's topic moves it, usage history included).

It runs in the main process on each validated message, where a dict lookup or two is all the hot
path pays: the registry, the robots seen and the customers are read from the store in one go at
start and again, by a background thread, whenever a cheap version stamp (counts and the registry's
latest ``updated_ms``) changes, polled every ``registry_refresh_s``.  A registry change therefore
takes effect within that time.  With several collectors in a ``shared_group`` each keeps its own
view: two of them could both admit a brand-new robot within one refresh (``auto`` only).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from protocol.logs import get_logger

log = get_logger("collector.ingest")

AUTO, REGISTRY = "auto", "registry"
MODES = (AUTO, REGISTRY)

#: the reasons this check refuses a message for (``robopulse_ingest_rejects_total{reason}``)
REASONS = (
    "unregistered_robot",   # enroll = "registry": the robot is not in the asset registry
    "wrong_customer",       # the topic's customer is not the robot's (registry, or first seen under)
    "new_customer_limit",   # enroll = "auto": more new customers named by telemetry than allowed a minute
)


class Enrollment:
    """``check(robot, customer)`` -> None (accepted) or a reason from ``REASONS``.  Called from
    paho's thread; the store is re-read from a thread of its own (``start``)."""

    def __init__(self, mode: str, registry, new_customers_per_minute: int = 10, refresh_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic):
        if mode not in MODES:
            raise ValueError(f"enroll mode must be one of {MODES}, not {mode!r}")
        self.mode = mode
        self.store = registry
        self.refresh_s = refresh_s
        self.clock = clock
        self.per_minute = new_customers_per_minute
        self._tokens = float(new_customers_per_minute)
        self._refilled = clock()
        self._lock = threading.Lock()        # the slow path (a new robot) and a reload's swap
        self._version: tuple | None = None
        self._registered: dict[str, str] = {}
        self._seen: dict[str, str] = {}
        self._customers: set[str] = set()
        self._admitted: dict[str, str] = {}       # robots admitted here, not yet read back
        self._admitted_customers: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.reload()

    # ------------------------------------------------------------ the check (paho's thread)
    def check(self, robot: str, customer: str) -> str | None:
        owner = self._registered.get(robot)
        if owner is not None:
            return None if owner == customer else "wrong_customer"
        if self.mode == REGISTRY:
            return "unregistered_robot"
        owner = self._seen.get(robot)
        if owner is not None:
            return None if owner == customer else "wrong_customer"
        return self._admit(robot, customer)

    def _admit(self, robot: str, customer: str) -> str | None:
        """A robot neither registered nor stored yet (``auto``): enroll it under ``customer``,
        within the new-customer budget."""
        with self._lock:
            owner = self._admitted.get(robot)
            if owner is not None:
                return None if owner == customer else "wrong_customer"
            if customer not in self._customers and customer not in self._admitted_customers:
                if not self._take_token():
                    return "new_customer_limit"
                self._admitted_customers.add(customer)
            self._admitted[robot] = customer
            return None

    def _take_token(self) -> bool:
        now = self.clock()
        self._tokens = min(float(self.per_minute),
                           self._tokens + (now - self._refilled) * self.per_minute / 60.0)
        self._refilled = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    # ------------------------------------------------------------ keeping the view current
    def reload(self) -> bool:
        """Re-read the store if its version stamp changed; True when it did."""
        version = self.store.enrollment_version()
        if version == self._version:
            return False
        version, registered, seen, customers = self.store.enrollment()
        with self._lock:
            self._registered, self._seen, self._customers = registered, seen, customers
            self._admitted = {r: c for r, c in self._admitted.items() if r not in seen}
            self._admitted_customers = {c for c in self._admitted_customers if c not in customers}
            self._version = version
        return True

    def start(self) -> "Enrollment":
        self._thread = threading.Thread(target=self._run, name="enrollment-refresh", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(self.refresh_s):
            try:
                if self.reload():
                    log.info("enrollment_reloaded", registered=len(self._registered), robots=len(self._seen),
                             customers=len(self._customers))
            except Exception as exc:  # the store busy or failing: keep the last view, try again
                log.warning("enrollment_reload_failed", error=repr(exc)[:200])
