"""Numbered migrations of the PostgreSQL store: ``collector/store/postgres/schema/NNNN_name.sql``,
each applied once, recorded in ``_migrations``.

Why an advisory lock: several collectors (and the import commands) may start at once against one
database; ``pg_advisory_lock`` makes one of them migrate while the others wait, then find the
work done.  Each file runs in its own transaction (PostgreSQL DDL is transactional), so a failed
migration leaves nothing half applied.
"""

from __future__ import annotations

import time
from importlib import resources

#: the advisory lock key of migrations (any constant; ``'robopulse-migrate'`` hashed, fixed here)
MIGRATE_LOCK = 0x526F626F50756C73  # "RoboPuls"


def migration_files() -> list[tuple[str, str]]:
    folder = resources.files("collector.store.postgres") / "schema"
    files = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(name, (folder / name).read_text(encoding="utf-8")) for name in files]


def migrate(conn) -> list[str]:
    """Apply what has not been applied yet (``conn``: a ``PgConnection``); returns the names applied now."""
    raw = conn.raw
    raw.execute("SELECT pg_advisory_lock(%s)", (MIGRATE_LOCK,))
    try:
        raw.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_ms BIGINT NOT NULL)")
        done = {row[0] for row in raw.execute("SELECT name FROM _migrations")}
        applied = []
        for name, sql in migration_files():
            if name in done:
                continue
            with raw.transaction():
                raw.execute(sql)  # a whole file: no parameters, so several statements are allowed
                raw.execute("INSERT INTO _migrations (name, applied_ms) VALUES (%s, %s)",
                            (name, int(time.time() * 1000)))
            applied.append(name)
        return applied
    finally:
        raw.execute("SELECT pg_advisory_unlock(%s)", (MIGRATE_LOCK,))
