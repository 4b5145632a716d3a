"""SQLite implementation of the store seam's ``registry`` part (see collector/store/seam.py):
customers imported by ``import-customers`` and the asset registry imported by ``import-robots``,
written on a write connection of their own (a short transaction next to the running collector's
writer: SQLite's busy timeout makes them take turns); and the reads behind ingest's enrollment
check, on a read-only connection kept open (polled every few seconds from the main process)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence

from collector.store.records import CustomerRow, RobotRow
from collector.store.sqlite.db import connect_reader, connect_writer
from collector.store.sqlite.events import RegistryEvents
from collector.store.sqlite.goals import RegistryGoals
from collector.store.sqlite.sql import Insert

#: imported customers are ``assigned``; importing again updates them (and takes over customers
#: that telemetry created)
UPSERT_CUSTOMER = Insert("customers", CustomerRow._fields + ("assigned", "created_ms", "updated_ms"), (
    "ON CONFLICT (id) DO UPDATE SET "
    "name = excluded.name, scene = excluded.scene, tier = excluded.tier, "
    "contract_start = excluded.contract_start, contract_end = excluded.contract_end, arr = excluded.arr, "
    "csm = excluded.csm, timezone = excluded.timezone, hours = excluded.hours, "
    "language = excluded.language, assigned = 1, updated_ms = excluded.updated_ms, "
    "distributor = COALESCE(excluded.distributor, customers.distributor), "
    "site_hours = COALESCE(excluded.site_hours, customers.site_hours)"))

#: a registry row is rewritten only when something in it differs, so that importing the same file
#: twice changes nothing (not even ``updated_ms``, which the enrollment check's version stamp reads)
UPSERT_ROBOT = Insert("robot_registry", RobotRow._fields + ("created_ms", "updated_ms"), (
    "ON CONFLICT (robot) DO UPDATE SET "
    "customer = excluded.customer, site = excluded.site, activated = excluded.activated, "
    "model = excluded.model, updated_ms = excluded.updated_ms "
    "WHERE robot_registry.customer <> excluded.customer OR robot_registry.site <> excluded.site "
    "OR COALESCE(robot_registry.activated, '') <> COALESCE(excluded.activated, '') "
    "OR robot_registry.model <> excluded.model"))

#: changes whenever the registry, the set of robots or the set of customers may have changed
#: (robots and customers are only ever added by ingest; the registry's rows carry updated_ms)
VERSION = ("SELECT (SELECT COUNT(*) FROM robot_registry), (SELECT MAX(updated_ms) FROM robot_registry), "
           "(SELECT COUNT(*) FROM robots), (SELECT COUNT(*) FROM customers)")


class SqliteRegistryStore(RegistryEvents, RegistryGoals):
    def __init__(self, path: str):
        self.path = path
        self._reader: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------ customers
    def customer_ids(self) -> set[str]:
        conn = connect_writer(self.path)
        try:
            return {r[0] for r in conn.execute("SELECT id FROM customers")}
        finally:
            conn.close()

    def upsert_customers(self, rows: Sequence[CustomerRow], now_ms: int) -> None:
        conn = connect_writer(self.path)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(UPSERT_CUSTOMER.sql(), [(*row, 1, now_ms, now_ms) for row in rows])
            conn.execute("COMMIT")
        finally:
            conn.close()

    # ------------------------------------------------------------ the asset registry
    def registered_robots(self) -> dict[str, RobotRow]:
        conn = connect_writer(self.path)
        try:
            return {r[0]: RobotRow(*r) for r in conn.execute(
                f"SELECT {', '.join(RobotRow._fields)} FROM robot_registry")}
        finally:
            conn.close()

    def upsert_robots(self, rows: Sequence[RobotRow], now_ms: int) -> tuple[int, int]:
        conn = connect_writer(self.path)
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                before = {r[0] for r in conn.execute("SELECT robot FROM robot_registry")}
                changed = 0
                sql = UPSERT_ROBOT.sql()
                for row in rows:
                    changed += conn.execute(sql, (*row, now_ms, now_ms)).rowcount
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        finally:
            conn.close()
        new = sum(1 for r in rows if r.robot not in before)
        return new, changed - new

    # ------------------------------------------------------------ ingest's enrollment check
    def _read(self, sql: str) -> list[tuple]:
        with self._lock:
            if self._reader is None:
                self._reader = connect_reader(self.path)
                self._reader.row_factory = None
            return self._reader.execute(sql).fetchall()

    def enrollment_version(self) -> tuple:
        return tuple(self._read(VERSION)[0])

    def enrollment(self) -> tuple[tuple, dict[str, str], dict[str, str], set[str]]:
        with self._lock:
            if self._reader is None:
                self._reader = connect_reader(self.path)
                self._reader.row_factory = None
            conn = self._reader
            conn.execute("BEGIN")  # one snapshot for all four reads
            try:
                version = tuple(conn.execute(VERSION).fetchone())
                registry = dict(conn.execute("SELECT robot, customer FROM robot_registry").fetchall())
                seen = dict(conn.execute("SELECT id, customer FROM robots").fetchall())
                customers = {r[0] for r in conn.execute("SELECT id FROM customers")}
            finally:
                conn.execute("COMMIT")
        return version, registry, seen, customers

    def close(self) -> None:
        with self._lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None
