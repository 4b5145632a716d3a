"""Connections to the store.  One writer owns the write connection; readers open their own."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from collector.store.sqlite.migrations import migrate


def connect_writer(path: str | Path) -> sqlite3.Connection:
    """The single write connection: WAL, migrations applied, autocommit (explicit BEGIN)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    migrate(conn)
    return conn


def connect_reader(path: str | Path) -> sqlite3.Connection:
    """A read-only connection (it never blocks the writer, and cannot write by mistake)."""
    conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA busy_timeout=30000")
    conn.row_factory = sqlite3.Row
    return conn


def rollback(conn: sqlite3.Connection) -> None:
    """End a failed write transaction, if SQLite has not ended it already.

    Why the check: on some errors (disk full, I/O, out of memory) SQLite rolls the transaction back
    itself, and a ROLLBACK then raises "cannot rollback - no transaction is active", which would
    hide the real error and skip whatever cleanup follows.  A ROLLBACK that fails for another reason
    leaves nothing to do: the connection's next BEGIN shows whether it is usable."""
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass


@contextmanager
def write_transaction(path: str | Path) -> Iterator[sqlite3.Connection]:
    """A write connection of its own in one ``BEGIN IMMEDIATE`` transaction: committed when the
    block ends, rolled back (``rollback``) when it raises, closed either way.  For the short writes
    of people's actions (imports, the API's POSTs), which take turns with the running collector's
    writers through SQLite's busy timeout."""
    conn = connect_writer(path)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        rollback(conn)
        raise
    finally:
        conn.close()


def identity_id(conn: sqlite3.Connection, table: str, where: str, identity: tuple) -> int | None:
    """The id of ``table``'s row whose identity columns (``where``, one ``?`` each) are ``identity``,
    None when it has none: the row an import or a POST found stored already."""
    found = conn.execute(f"SELECT id FROM {table} WHERE {where}", identity).fetchone()
    return found[0] if found else None


def find_id(path: str | Path, table: str, where: str, identity: tuple) -> int | None:
    """``identity_id`` on a write connection opened for it (so it sees what was just written)."""
    conn = connect_writer(path)
    try:
        return identity_id(conn, table, where, identity)
    finally:
        conn.close()


def describe(exc: BaseException) -> str:
    """The SQLite error as an operator reads it: ``SQLITE_FULL: database or disk is full``."""
    name = getattr(exc, "sqlite_errorname", None)
    return f"{name}: {exc}" if name else f"{type(exc).__name__}: {exc}"
