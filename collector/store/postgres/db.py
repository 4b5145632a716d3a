"""Connections to a PostgreSQL store (psycopg 3), shaped like the SQLite connections the shared
statements were written for.

Why an adapter: most of the SQLite backend's SQL is portable (``ON CONFLICT`` upserts, ``CASE``
instead of two-argument MIN/MAX, multi-row ``VALUES``, ``RETURNING``); only the parameter mark
differs (``?`` in sqlite3, ``%s`` in psycopg).  ``PgConnection`` takes the SQLite text, swaps the
marks (once per statement text, cached) and offers the few sqlite3 calls the shared modules use
(``execute`` returning a cursor, ``executemany``, ``in_transaction``), so those modules
(``sqlite/apply.py``, ``raw.py``, ``customer_usage.py``, ``marks.py``, ``counters.py``,
``events.chain_renewals``) serve both backends and cannot drift.  Statements that are not portable
(``INSERT OR IGNORE``, ``lastrowid``, temp tables) are written per backend.

Transactions are explicit (``BEGIN`` ... ``COMMIT``, autocommit otherwise), as in SQLite.  ``SUM``
of a BIGINT is NUMERIC in PostgreSQL: it is loaded as a Python int (or float when fractional), as
sqlite3 returns it, so results compare and serialise the same on both backends.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import pq
from psycopg.types.numeric import NumericLoader


class _IntOrFloatNumeric(NumericLoader):
    """NUMERIC as int when whole, else float (sqlite3's answer for SUM of integers)."""

    def load(self, data: Any) -> int | float:
        value = super().load(data)
        return int(value) if value == value.to_integral_value() else float(value)


_MARK = re.compile(r"'[^']*'|\?|%")


@lru_cache(maxsize=1024)
def pg_sql(sql: str) -> str:
    """SQLite text with ``?`` marks -> psycopg text with ``%s`` (a literal ``%`` doubled; marks
    inside string literals left alone)."""
    def swap(m: re.Match) -> str:
        s = m.group(0)
        if s == "?":
            return "%s"
        if s == "%":
            return "%%"
        return s.replace("%", "%%")
    return _MARK.sub(swap, sql)


def is_url(db: str) -> bool:
    """Whether ``[collector] db`` names a PostgreSQL database rather than a SQLite file."""
    return str(db).startswith(("postgresql://", "postgres://"))


class PgConnection:
    """One psycopg connection with the sqlite3-like calls the shared store modules make."""

    def __init__(self, raw: psycopg.Connection):
        self.raw = raw

    def execute(self, sql: str, params: Any = None) -> psycopg.Cursor:
        if params is None:  # psycopg sends the text as it is (no marks to swap, no % to escape)
            return self.raw.execute(sql)
        return self.raw.execute(pg_sql(sql), params)

    def executemany(self, sql: str, rows: Any) -> psycopg.Cursor:
        cur = self.raw.cursor()
        cur.executemany(pg_sql(sql), list(rows))
        return cur

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != pq.TransactionStatus.IDLE

    def rollback(self) -> None:
        """End a failed transaction (nothing to do when none is open or the connection is gone)."""
        if self.raw.closed:
            return
        if self.in_transaction:
            try:
                self.raw.execute("ROLLBACK")
            except psycopg.Error:
                pass

    def close(self) -> None:
        self.raw.close()


def connect(url: str, migrate: bool = True) -> PgConnection:
    """A connection in autocommit mode (transactions are explicit ``BEGIN``s), schema migrated."""
    raw = psycopg.connect(url, autocommit=True)
    raw.adapters.register_loader("numeric", _IntOrFloatNumeric)
    conn = PgConnection(raw)
    if migrate:
        from collector.store.postgres.migrations import migrate as apply_migrations
        apply_migrations(conn)
    return conn


def describe(exc: BaseException) -> str:
    """The error as an operator reads it: ``40P01 DeadlockDetected: deadlock detected``."""
    state = getattr(exc, "sqlstate", None)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{state} {type(exc).__name__}: {text}" if state else f"{type(exc).__name__}: {text}"


def transient(exc: BaseException) -> bool:
    """A failure that may pass: the connection lost, a deadlock or serialization failure, the
    server shutting down or out of resources (SQLSTATE classes 08, 40, 53, 57)."""
    if isinstance(exc, psycopg.OperationalError):
        return True
    state = getattr(exc, "sqlstate", None) or ""
    return state[:2] in ("08", "40", "53", "57")
