"""SQLite implementation of the store seam's ``registry`` part (see collector/store/seam.py):
customers imported by ``import-customers``, on a write connection of their own (a short
transaction next to the running collector's writer: SQLite's busy timeout makes them take turns)."""

from __future__ import annotations

from collections.abc import Sequence

from collector.store.records import CustomerRow
from collector.store.sqlite.db import connect_writer
from collector.store.sqlite.events import RegistryEvents
from collector.store.sqlite.sql import Insert

#: imported customers are ``assigned``; importing again updates them (and takes over customers
#: that telemetry created)
UPSERT_CUSTOMER = Insert("customers", CustomerRow._fields + ("assigned", "created_ms", "updated_ms"), (
    "ON CONFLICT (id) DO UPDATE SET "
    "name = excluded.name, scene = excluded.scene, tier = excluded.tier, "
    "contract_start = excluded.contract_start, contract_end = excluded.contract_end, arr = excluded.arr, "
    "csm = excluded.csm, assigned = 1, updated_ms = excluded.updated_ms, "
    "distributor = COALESCE(excluded.distributor, customers.distributor)"))


class SqliteRegistryStore(RegistryEvents):
    def __init__(self, path: str):
        self.path = path

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

    def close(self) -> None:
        pass

