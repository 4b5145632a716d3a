"""The PostgreSQL backend (psycopg 3): the store shared by several collectors (issue 16).

``[collector] db = "postgresql://user@host/dbname"`` selects it (``collector.store.open_store``).
Where the SQLite backend's SQL is portable it is shared (``db.PgConnection`` runs it); what is
PostgreSQL's own: the schema and its migrations (``schema/``, ``migrations.py``), exactly-once
across collectors (``ingest.py``), the alert writers' turn-taking (``shared.py``).  See
docs/scale.md for the design and what is still to do.
"""

from __future__ import annotations

from collector.store.seam import Store


def open_postgres(url: str) -> Store:
    """Migrate the database, then build the parts (each opens its own connection when first used)."""
    from collector.store.postgres.alerts import PgAlertStore
    from collector.store.postgres.db import connect
    from collector.store.postgres.ingest import PgIngestStore
    from collector.store.postgres.missing import MissingPart
    from collector.store.postgres.outbox import PgOutboxStore
    from collector.store.postgres.registry import PgRegistryStore
    from collector.store.postgres.shared import PgShared

    connect(url).close()  # migrate before any part reads
    evaluator = PgShared(url)
    return Store(url=url, ingest=PgIngestStore(url), registry=PgRegistryStore(url),
                 health=MissingPart("health"), alerts=PgAlertStore(url, evaluator),
                 outbox=PgOutboxStore(url), reads=MissingPart("reads"),
                 open_alerts=lambda: PgAlertStore(url), handover=MissingPart("handover"))
