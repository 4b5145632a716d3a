"""SQLite implementation of the store seam's ``handover`` part (collector/store/seam.py): a
customer's contacts and CS notes, tables of ``schema/0024_handover.sql``.

Writes are people's actions from the API: one short ``BEGIN IMMEDIATE`` transaction each on a
write connection of their own (as the registry's commercial events), so they take turns with the
running collector's writers through SQLite's busy timeout.  Reads open a read-only connection per
call: a handover page makes a handful of them, not worth a pool of their own."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator

from collector.store.handover import ContactRow
from collector.store.sqlite.db import connect_reader, write_transaction
from collector.store.sqlite.sql import Insert
from protocol.catalogue import USAGE_VOLUMES

NOTE_FIELDS = "id, customer, text, author, token, created_ms"
CONTACT_FIELDS = "id, customer, name, role, phone, email, wechat, note, actor, created_ms, updated_ms"
INSERT_NOTE = Insert("customer_notes", ("customer", "text", "author", "token", "created_ms"))
#: a contact posted again under its name is updated, but only when something in it differs (so a
#: double-clicked save changes nothing, not even ``updated_ms``)
UPSERT_CONTACT = Insert("customer_contacts", ContactRow._fields + ("actor", "created_ms", "updated_ms"), (
    "ON CONFLICT (customer, name) DO UPDATE SET role = excluded.role, phone = excluded.phone, "
    "email = excluded.email, wechat = excluded.wechat, note = excluded.note, actor = excluded.actor, "
    "updated_ms = excluded.updated_ms "
    "WHERE customer_contacts.role <> excluded.role OR customer_contacts.phone <> excluded.phone "
    "OR customer_contacts.email <> excluded.email OR customer_contacts.wechat <> excluded.wechat "
    "OR customer_contacts.note <> excluded.note"))


class SqliteHandoverStore:
    def __init__(self, path: str):
        self.path = path

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        conn = connect_reader(self.path)
        try:
            yield conn
        finally:
            conn.close()

    def _write(self):
        """One write transaction (the PostgreSQL part opens its own: ``postgres/handover.py``)."""
        return write_transaction(self.path)

    #: BEGIN a read whose statements share one snapshot (``sql.Dialect.snapshot``)
    snapshot = "BEGIN"

    # ------------------------------------------------------------ notes
    def add_note(self, customer: str, text: str, author: str, token: str, now_ms: int) -> int:
        with self._write() as conn:
            return self._new_id(conn, INSERT_NOTE.sql(), (customer, text, author, token, now_ms))

    @staticmethod
    def _new_id(conn, sql: str, args) -> int:
        return conn.execute(sql, args).lastrowid

    def get_note(self, note_id: int) -> dict | None:
        with self._read() as conn:
            row = conn.execute(f"SELECT {NOTE_FIELDS} FROM customer_notes WHERE id = ?", (note_id,)).fetchone()
        return dict(row) if row else None

    def notes(self, customer: str, limit: int, offset: int) -> dict:
        with self._read() as conn:
            conn.execute(self.snapshot)  # the page and its total from one snapshot
            rows = conn.execute(f"SELECT {NOTE_FIELDS} FROM customer_notes WHERE customer = ? "
                                "ORDER BY created_ms DESC, id DESC LIMIT ? OFFSET ?",
                                (customer, limit, offset)).fetchall()
            total = conn.execute("SELECT count(*) FROM customer_notes WHERE customer = ?", (customer,)).fetchone()[0]
            conn.execute("COMMIT")
        return {"items": [dict(r) for r in rows], "total": total, "limit": limit, "offset": offset}

    # ------------------------------------------------------------ contacts
    def put_contact(self, row: ContactRow, actor: str, now_ms: int) -> tuple[int, bool]:
        with self._write() as conn:
            known = conn.execute("SELECT id FROM customer_contacts WHERE customer = ? AND name = ?",
                                 (row.customer, row.name)).fetchone()
            conn.execute(UPSERT_CONTACT.sql(), (*row, actor, now_ms, now_ms))
            if known:
                return known[0], False
            return conn.execute("SELECT id FROM customer_contacts WHERE customer = ? AND name = ?",
                                (row.customer, row.name)).fetchone()[0], True

    def get_contact(self, contact_id: int) -> dict | None:
        with self._read() as conn:
            row = conn.execute(f"SELECT {CONTACT_FIELDS} FROM customer_contacts WHERE id = ?",
                               (contact_id,)).fetchone()
        return dict(row) if row else None

    def contacts(self, customer: str) -> list[dict]:
        with self._read() as conn:
            return [dict(r) for r in conn.execute(
                f"SELECT {CONTACT_FIELDS} FROM customer_contacts WHERE customer = ? ORDER BY name, id", (customer,))]

    def remove_contact(self, customer: str, contact_id: int) -> bool:
        with self._write() as conn:
            return conn.execute("DELETE FROM customer_contacts WHERE customer = ? AND id = ?",
                                (customer, contact_id)).rowcount > 0

    # ------------------------------------------------------------ the reports' first month
    def first_data(self, customer: str) -> int | None:
        with self._read() as conn:
            # robots_customer and customer_hour's covering index (metric, customer, bucket_ms): a few
            # index seeks, whatever the fleet's size
            robots = conn.execute("SELECT min(first_seen_ms) FROM robots WHERE customer = ? "
                                  "AND last_window_ms IS NOT NULL", (customer,)).fetchone()[0]
            usage = conn.execute(f"SELECT min(bucket_ms) FROM customer_hour WHERE metric IN "
                                 f"({','.join('?' * len(USAGE_VOLUMES))}) AND customer = ?",
                                 (*USAGE_VOLUMES, customer)).fetchone()[0]
        found = [v for v in (robots, usage) if v is not None]
        return min(found) if found else None

    def close(self) -> None:
        """Nothing kept open between calls."""
