"""SQLite: commercial events (issue 14), the registry part's ``add_events`` / ``find_event``
(a mixin of ``SqliteRegistryStore``, kept apart from the customer and robot imports).

An event's identity ``(customer, date, kind, amount, referred_by)`` is the table's UNIQUE key, so
storing a known event again does nothing.  A renewal moves its customer's ``contract_end``: after
every insert the customer's renewals are chained again in date order, each keeping the end it
replaced (``previous_end``), so renewals imported out of order still end up right."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence

from collector.store.records import EventRow
from collector.store.sqlite.db import find_id, write_transaction
from collector.store.sqlite.sql import Insert

EVENT_COLUMNS = ("customer", "date", "kind", "amount", "robots", "referred_by", "contract_end", "note",
                 "actor", "source", "created_ms")
INSERT_EVENT = Insert("customer_events", EVENT_COLUMNS,
                      "ON CONFLICT (customer, date, kind, amount, referred_by) DO NOTHING")
IDENTITY_WHERE = "customer = ? AND date = ? AND kind = ? AND amount = ? AND referred_by = ?"


def chain_renewals(conn: sqlite3.Connection, customer: str, new_ids: Collection[int]) -> None:
    """Re-derive the customer's renewal chain after ``new_ids`` were inserted: renewals in date
    order (then id), each one's ``previous_end`` the end before it, the customer's ``contract_end``
    the last one's new end.  The original end (before any renewal) is the earliest already-chained
    renewal's ``previous_end``, or the customer's ``contract_end`` when none was chained yet."""
    renewals = conn.execute("SELECT id, contract_end, previous_end FROM customer_events "
                            "WHERE customer = ? AND kind = 'renewal' ORDER BY date, id", (customer,)).fetchall()
    chained = [r for r in renewals if r[0] not in new_ids]
    if chained:
        end = chained[0][2]
    else:
        end = conn.execute("SELECT contract_end FROM customers WHERE id = ?", (customer,)).fetchone()[0]
    for event_id, new_end, _ in renewals:
        conn.execute("UPDATE customer_events SET previous_end = ? WHERE id = ?", (end, event_id))
        end = new_end
    conn.execute("UPDATE customers SET contract_end = ? WHERE id = ?", (end, customer))


class RegistryEvents:
    """The registry part's commercial events (needs ``self.path``)."""

    path: str

    def add_events(self, rows: Sequence[EventRow], actor: str, source: str, now_ms: int) -> list[int]:
        added: list[int] = []
        with write_transaction(self.path) as conn:
            renewed: set[str] = set()
            for row in rows:
                cur = conn.execute(INSERT_EVENT.sql(), (*row, actor, source, now_ms))
                if cur.rowcount:
                    added.append(cur.lastrowid)
                    if row.kind == "renewal":
                        renewed.add(row.customer)
            new_ids = set(added)
            for customer in sorted(renewed):
                chain_renewals(conn, customer, new_ids)
                conn.execute("UPDATE customers SET updated_ms = ? WHERE id = ?", (now_ms, customer))
        return added

    def find_event(self, row: EventRow) -> int | None:
        return find_id(self.path, "customer_events", IDENTITY_WHERE, row.identity)
