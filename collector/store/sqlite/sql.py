"""INSERT statements built from a table, its columns and a conflict clause, never by editing SQL text.

Why multi-row statements: ``executemany`` releases the GIL around every row's step, and a busy
MQTT thread then keeps it for a whole switch interval each time (a convoy that made flushes 4x
slower under load).  One ``VALUES (...), (...)`` statement per 250 rows releases it 250x less often,
and does less VM work.  The statements are portable (PostgreSQL takes the same text with ``%s``).
"""

from __future__ import annotations

import sqlite3
from functools import lru_cache
from itertools import chain
from typing import NamedTuple

class Dialect(NamedTuple):
    """The few words of SQL that differ between the backends where a statement is otherwise shared
    (the health and reads parts): SQLite's planner hints and temporary-table spellings, and their
    PostgreSQL equivalents (its planner needs no hints).  A connection names its dialect in a
    ``dialect`` attribute (``postgres/db.PgConnection``); a sqlite3 connection has none: SQLite."""

    name: str
    temp: str              # the schema of temporary tables: "temp." / "pg_temp."
    without_rowid: str     # a keyed table's option: " WITHOUT ROWID" / ""
    cross_join: str        # SQLite's CROSS JOIN fixes the join order; elsewhere a plain JOIN
    hints: bool            # SQLite's INDEXED BY
    concat_agg: str        # group_concat / string_agg
    snapshot: str          # BEGIN a read transaction whose statements share one snapshot
    strpos: str            # position of a substring: instr / strpos (same arguments)

    def indexed(self, index: str) -> str:
        return f" INDEXED BY {index}" if self.hints else ""

    def unindexed(self, column: str) -> str:
        """SQLite's unary ``+``, which keeps its planner off the column's index; elsewhere the column."""
        return f"+{column}" if self.hints else column

    def total(self, expr: str) -> str:
        """SQLite's ``total(x)`` (0.0 over no rows, never NULL); elsewhere ``COALESCE(SUM(x), 0)``."""
        return f"total({expr})" if self.name == "sqlite" else f"COALESCE(SUM({expr}), 0)"

    def temp_view(self, name: str) -> str:
        """The head of a per-connection view's definition, made once and kept (PostgreSQL has no
        ``IF NOT EXISTS`` for views: there it is replaced with the same text)."""
        return (f"CREATE TEMP VIEW IF NOT EXISTS {name}" if self.name == "sqlite"
                else f"CREATE OR REPLACE TEMP VIEW {name}")

    def json_path(self, column: str, path: str) -> str:
        """A text field of a JSON column at a dotted ``path`` (``lifecycle.stage``)."""
        if self.name == "sqlite":
            return f"json_extract({column}, '$.{path}')"
        keys = ",".join(path.split("."))
        return f"({column}::json #>> '{{{keys}}}')"

    def json_text(self, column: str, key: str) -> str:
        """A top-level text field of a JSON column."""
        return f"json_extract({column}, '$.{key}')" if self.name == "sqlite" else f"({column}::json ->> '{key}')"


SQLITE = Dialect("sqlite", "temp.", " WITHOUT ROWID", "CROSS JOIN", True, "group_concat", "BEGIN", "instr")
POSTGRES = Dialect("postgres", "pg_temp.", "", "JOIN", False, "string_agg",
                   "BEGIN ISOLATION LEVEL REPEATABLE READ", "strpos")


def dialect(conn) -> Dialect:
    return getattr(conn, "dialect", SQLITE)


#: rows per multi-row statement (SQLite allows 32,766 parameters; PostgreSQL 65,535)
ROWS_PER_STATEMENT = 250


class Insert(NamedTuple):
    """``INSERT INTO table (columns) VALUES ... [on_conflict]``, as data."""

    table: str
    columns: tuple[str, ...]
    on_conflict: str = ""   # e.g. "ON CONFLICT (id) DO NOTHING"

    def sql(self, rows: int = 1) -> str:
        return _sql(self, rows)


@lru_cache(maxsize=256)
def _sql(insert: Insert, rows: int) -> str:
    one = "(" + ", ".join("?" * len(insert.columns)) + ")"
    tail = f" {insert.on_conflict}" if insert.on_conflict else ""
    return f"INSERT INTO {insert.table} ({', '.join(insert.columns)}) VALUES {', '.join([one] * rows)}{tail}"


def insert_many(conn: sqlite3.Connection, insert: Insert, rows: list) -> None:
    """Insert ``rows`` (sequences in ``insert.columns`` order) as multi-row statements (or as the
    connection's own ``insert_many`` does it, when it has one: ``postgres/db.PgConnection``)."""
    own = getattr(conn, "insert_many", None)
    if own is not None:
        own(insert, rows)
        return
    for i in range(0, len(rows), ROWS_PER_STATEMENT):
        chunk = rows[i:i + ROWS_PER_STATEMENT]
        conn.execute(insert.sql(len(chunk)), list(chain.from_iterable(chunk)))
