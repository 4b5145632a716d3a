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

        return open_postgres(str(db))
    from collector.store.sqlite import open_sqlite

    return open_sqlite(str(db))


__all__ = ["Store", "open_store"]
