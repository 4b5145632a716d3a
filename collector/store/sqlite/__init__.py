"""The SQLite backend: the embedded default (one file, WAL, one writer connection per writing process)."""

from __future__ import annotations

from collector.store.seam import Store


def open_sqlite(path: str) -> Store:
    """Migrate the file, then build the parts (each opens its own connections when first used)."""
    from collector.store.sqlite.alerts import SqliteAlertStore
    from collector.store.sqlite.db import connect_writer
    from collector.store.sqlite.handover import SqliteHandoverStore
    from collector.store.sqlite.health import SqliteHealthStore
    from collector.store.sqlite.ingest import SqliteIngestStore
    from collector.store.sqlite.outbox import SqliteOutboxStore
    from collector.store.sqlite.reads import SqliteReadStore
    from collector.store.sqlite.registry import SqliteRegistryStore
    from collector.store.sqlite.shared import SharedConnection

    connect_writer(path).close()  # migrate before any part reads
    evaluator = SharedConnection(path)  # health and the alert engine: one cycle, one transaction
    return Store(url=path, ingest=SqliteIngestStore(path), registry=SqliteRegistryStore(path),
                 health=SqliteHealthStore(path, evaluator), alerts=SqliteAlertStore(path, evaluator),
                 outbox=SqliteOutboxStore(path), reads=SqliteReadStore(path),
                 open_alerts=lambda: SqliteAlertStore(path), handover=SqliteHandoverStore(path))
