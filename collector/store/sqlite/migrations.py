"""Numbered migrations: ``collector/store/sqlite/schema/NNNN_name.sql`` applied in order, once each.

Ranges keep parts from colliding: 0001-0009 store, 0010-0019 health and alerts, 0020-0029 API.
A migration that must move data SQL cannot express (e.g. repacking blobs) names a Python step in
``AFTER``, run in the same transaction right after its statements.
"""

from __future__ import annotations

import sqlite3
import time
from importlib import resources


def _adopt_legacy_windows(conn: sqlite3.Connection) -> None:
    from collector.store.sqlite.raw import adopt_legacy_windows

    adopt_legacy_windows(conn)


#: migration file -> Python step run after its statements, in its transaction
AFTER = {"0005_window_chunks.sql": _adopt_legacy_windows}


def migration_files() -> list[tuple[str, str]]:
    folder = resources.files("collector.store.sqlite") / "schema"
    files = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(name, (folder / name).read_text(encoding="utf-8")) for name in files]


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply what has not been applied yet; returns the names applied now."""
    conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_ms INTEGER NOT NULL)")
    done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
    applied = []
    for name, sql in migration_files():
        if name in done:
            continue
        conn.execute("BEGIN")
        try:
            for statement in _statements(sql):
                conn.execute(statement)
            if name in AFTER:
                AFTER[name](conn)
            conn.execute("INSERT INTO _migrations (name, applied_ms) VALUES (?, ?)", (name, int(time.time() * 1000)))
            conn.execute("COMMIT")
        except Exception:
            conn.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied


def _statements(sql: str) -> list[str]:
    """The statements of a migration file, cut where ``sqlite3.complete_statement`` says one ends
    (so a ``;`` inside a string, a comment or a trigger body does not cut one in two)."""
    out: list[str] = []
    start = 0
    for i, ch in enumerate(sql):
        if ch == ";" and sqlite3.complete_statement(sql[start:i + 1]):
            out.append(sql[start:i + 1].strip())
            start = i + 1
    rest = "\n".join(line for line in sql[start:].splitlines() if not line.strip().startswith("--")).strip()
    if rest:
        raise ValueError(f"migration ends inside a statement: {rest[:80]!r}")
    return out
