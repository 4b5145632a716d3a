"""PostgreSQL implementation of the store seam's ``registry`` part: customers, the asset registry,
commercial events and ingest's enrollment reads.

The upserts are the SQLite part's (``sqlite/registry.py``, ``sqlite/events.py``: portable); what
differs is the connection (one of its own, kept open, used one call at a time) and the new ids of
inserted events (``RETURNING id``).  The enrollment reads run in one REPEATABLE READ, READ ONLY
transaction: one snapshot for all four, as SQLite's ``BEGIN`` on its reader gives."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from collector.store.postgres.db import PgConnection, connect
from collector.store.records import CustomerRow, EventRow, RobotRow
from collector.store.sqlite.events import IDENTITY_WHERE, INSERT_EVENT, chain_renewals
from collector.store.sqlite.registry import UPSERT_CUSTOMER, UPSERT_ROBOT, VERSION


class PgRegistryStore:
    def __init__(self, url: str):
        self.url = url
        self._conn: PgConnection | None = None
        self._lock = threading.RLock()

    @property
    def conn(self) -> PgConnection:
        if self._conn is None:
            self._conn = connect(self.url)
        return self._conn

    # ------------------------------------------------------------ customers
    def customer_ids(self) -> set[str]:
        with self._lock:
            return {r[0] for r in self.conn.execute("SELECT id FROM customers")}

    def upsert_customers(self, rows: Sequence[CustomerRow], now_ms: int) -> None:
        with self._lock, self.conn.raw.transaction():
            self.conn.executemany(UPSERT_CUSTOMER.sql(), [(*row, 1, now_ms, now_ms) for row in rows])

    # ------------------------------------------------------------ the asset registry
    def registered_robots(self) -> dict[str, RobotRow]:
        with self._lock:
            return {r[0]: RobotRow(*r) for r in self.conn.execute(
                f"SELECT {', '.join(RobotRow._fields)} FROM robot_registry")}

    def upsert_robots(self, rows: Sequence[RobotRow], now_ms: int) -> tuple[int, int]:
        with self._lock, self.conn.raw.transaction():
            conn = self.conn
            before = {r[0] for r in conn.execute("SELECT robot FROM robot_registry")}
            changed = 0
            sql = UPSERT_ROBOT.sql()
            for row in rows:
                changed += conn.execute(sql, (*row, now_ms, now_ms)).rowcount
        new = sum(1 for r in rows if r.robot not in before)
        return new, changed - new

    # ------------------------------------------------------------ commercial events
    def add_events(self, rows: Sequence[EventRow], actor: str, source: str, now_ms: int) -> list[int]:
        with self._lock, self.conn.raw.transaction():
            conn = self.conn
            added: list[int] = []
            renewed: set[str] = set()
            sql = INSERT_EVENT.sql() + " RETURNING id"
            for row in rows:
                found = conn.execute(sql, (*row, actor, source, now_ms)).fetchone()
                if found:
                    added.append(found[0])
                    if row.kind == "renewal":
                        renewed.add(row.customer)
            new_ids = set(added)
            for customer in sorted(renewed):
                chain_renewals(conn, customer, new_ids)
                conn.execute("UPDATE customers SET updated_ms = ? WHERE id = ?", (now_ms, customer))
            return added

    def find_event(self, row: EventRow) -> int | None:
        with self._lock:
            found = self.conn.execute(f"SELECT id FROM customer_events WHERE {IDENTITY_WHERE}",
                                      row.identity).fetchone()
            return found[0] if found else None

    # ------------------------------------------------------------ ingest's enrollment check
    def enrollment_version(self) -> tuple:
        with self._lock:
            return tuple(self.conn.execute(VERSION).fetchone())

    def enrollment(self) -> tuple[tuple, dict[str, str], dict[str, str], set[str]]:
        with self._lock:
            conn = self.conn
            conn.raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")  # one snapshot for all four
            try:
                version = tuple(conn.execute(VERSION).fetchone())
                registry = dict(conn.execute("SELECT robot, customer FROM robot_registry").fetchall())
                seen = dict(conn.execute("SELECT id, customer FROM robots").fetchall())
                customers = {r[0] for r in conn.execute("SELECT id FROM customers")}
            finally:
                conn.raw.execute("COMMIT")
        return version, registry, seen, customers

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
