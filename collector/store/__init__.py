"""The store seam: every read and write that ingest, health, alerts and the API make goes through a
``Store`` (``collector/store/seam.py``), so a second backend is a new implementation of the same
parts, not a change to its callers.  ``open_store(db)`` picks the backend from ``[collector] db``.
"""

from __future__ import annotations

from collector.store.seam import Store


def open_store(db: str) -> Store:
    """The store behind ``[collector] db``: a ``postgresql://`` URL is PostgreSQL (several
    collectors, docs/scale.md), a file path is SQLite (the embedded default)."""
    if str(db).startswith(("postgresql://", "postgres://")):
        from collector.store.postgres import open_postgres

        store = open_postgres(str(db))
    else:
        from collector.store.sqlite import open_sqlite

        store = open_sqlite(str(db))
    if store.lease is None:
        store.lease = open_lease(str(db))
    return store


def is_postgres(db: str) -> bool:
    """Whether ``[collector] db`` names a PostgreSQL database (several collectors may share it)."""
    return str(db).startswith(("postgresql://", "postgres://"))


def open_lease(db: str):
    """The evaluator's role (``seam.LeaseStore``) on the store behind ``[collector] db``: on
    PostgreSQL an advisory lock (one collector of several evaluates), on SQLite always held."""
    if str(db).startswith(("postgresql://", "postgres://")):
        from collector.store.postgres.lease import PgLease

        return PgLease(str(db))
    from collector.store.sqlite.lease import SqliteLease

    return SqliteLease()


__all__ = ["Store", "is_postgres", "open_lease", "open_store"]
