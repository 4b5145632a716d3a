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
sqlite3 returns it, so results compare and serialise the same on both backends.  Every Python
int is sent as a BIGINT, as SQLite's integers are 64-bit.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import pq
from psycopg.types.numeric import Int8Dumper, NumericLoader

from collector.store.sqlite.sql import POSTGRES


class _IntOrFloatNumeric(NumericLoader):
    """NUMERIC as int when whole, else float (sqlite3's answer for SUM of integers)."""

    def load(self, data: Any) -> int | float:
        value = super().load(data)
        return int(value) if value == value.to_integral_value() else float(value)


#: up to this many rows go as one multi-row statement (short text: parsed once, then cached)
SMALL_INSERT = 8

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

    #: the words the shared health reads spell per backend (``sqlite/sql.Dialect``)
    dialect = POSTGRES

    def __init__(self, raw: psycopg.Connection):
        self.raw = raw

    #: a read-only connection (``connect_reader``): its parameters are filters, never stored text
    reader = False

    def execute(self, sql: str, params: Any = None) -> psycopg.Cursor:
        if params is None:  # psycopg sends the text as it is (no marks to swap, no % to escape)
            return self.raw.execute(sql)
        if self.reader:
            params = _no_nul(params)
        return self.raw.execute(pg_sql(sql), params)

    def executemany(self, sql: str, rows: Any) -> psycopg.Cursor:
        cur = self.raw.cursor()
        cur.executemany(pg_sql(sql), list(rows))
        return cur

    def insert_many(self, insert: Any, rows: list) -> None:
        """``sql.insert_many`` here: a handful of rows as one multi-row statement; more are
        ``COPY``-ed into a temporary staging table shaped like the target and moved with one
        ``INSERT ... SELECT`` carrying the same conflict clause, in key order.

        Why not SQLite's 250-row VALUES statements: psycopg parses a statement's text on the
        client, and such a statement is longer than its parse cache holds, so every flush paid
        for parsing it (most of a flush's time); one row at a time in a pipeline was slower still."""
        if not rows:
            return
        if len(rows) <= SMALL_INSERT:
            self.raw.execute(pg_sql(insert.sql(len(rows))), [v for row in rows for v in row])
            return
        columns = ", ".join(insert.columns)
        stage = f"stage_{insert.table}_{len(insert.columns)}"  # the insert's columns and types, no constraints
        self.raw.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS"
                         f" SELECT {columns} FROM {insert.table} WITH NO DATA")
        cur = self.raw.cursor()
        with cur.copy(f"COPY {stage} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        order = ", ".join(str(i + 1) for i in range(len(insert.columns)))
        tail = f" {insert.on_conflict}" if insert.on_conflict else ""
        cur.execute(f"INSERT INTO {insert.table} ({columns}) SELECT {columns} FROM {stage} ORDER BY {order}{tail}")
        cur.execute(f"DELETE FROM {stage}")

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != pq.TransactionStatus.IDLE

    def commit(self) -> None:
        """Commit an open transaction (sqlite3's call; in autocommit there is usually none)."""
        if self.in_transaction:
            self.raw.execute("COMMIT")

    def rollback(self) -> None:
        """End a failed transaction (nothing to do when none is open or the connection is gone)."""
        if self.raw.closed:
            return
        if self.in_transaction:
            try:
                self.raw.execute("ROLLBACK")
            except psycopg.Error:
                pass

    @property
    def usable(self) -> bool:
        """False once the server or the network dropped the connection (psycopg marks it broken):
        its owner opens a new one rather than failing every call after a database restart."""
        return not (self.raw.closed or self.raw.broken)

    def close(self) -> None:
        self.raw.close()


def connect(url: str, migrate: bool = True) -> PgConnection:
    """A connection in autocommit mode (transactions are explicit ``BEGIN``s), schema migrated."""
    raw = psycopg.connect(url, autocommit=True)
    raw.adapters.register_loader("numeric", _IntOrFloatNumeric)
    # every Python int as BIGINT: psycopg would send a small one as INTEGER, and ``? * ?`` of two
    # millisecond figures would then overflow (SQLite's integers are all 64-bit)
    raw.adapters.register_dumper(int, Int8Dumper)
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


class _NamedRow(tuple):
    """A row read by index and by column name, and a mapping for ``dict(row)``: what the reads
    part's code expects of ``sqlite3.Row``.  Equal to the plain tuple of its values."""

    __slots__ = ()
    _names: tuple[str, ...] = ()
    _index: dict[str, int] = {}

    def keys(self) -> tuple[str, ...]:
        return self._names

    def __getitem__(self, key):  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)


@lru_cache(maxsize=512)
def _row_class(names: tuple[str, ...]) -> type:
    return type("Row", (_NamedRow,), {"__slots__": (), "_names": names,
                                      "_index": {n: i for i, n in enumerate(names)}})


def named_rows(cursor: psycopg.Cursor):
    """psycopg row factory: ``_NamedRow`` rows."""
    names = tuple(c.name for c in cursor.description or ())
    cls = _row_class(names)
    return lambda values: tuple.__new__(cls, values)


def _no_nul(params: Any) -> Any:
    """PostgreSQL text cannot hold NUL (the driver refuses the whole statement), and no stored text
    holds one: a read's filter holding NUL matches nothing, as on SQLite.  So NUL becomes U+FFFF
    (a Unicode noncharacter, never in stored text) and the read finds nothing instead of failing."""
    if isinstance(params, dict) or not any(isinstance(p, str) and "\x00" in p for p in params):
        return params
    return [p.replace("\x00", "\uffff") if isinstance(p, str) else p for p in params]


def connect_reader(url: str) -> PgConnection:
    """A read-only connection (its transactions cannot write) with rows read by name too."""
    conn = connect(url, migrate=False)
    conn.reader = True
    conn.raw.row_factory = named_rows
    conn.raw.execute("SET default_transaction_read_only = on")
    return conn
