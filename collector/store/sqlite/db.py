"""Connections to the store.  One writer owns the write connection; readers open their own."""

from __future__ import annotations

import sqlite3
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
