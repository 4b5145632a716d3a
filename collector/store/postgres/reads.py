"""PostgreSQL implementation of the store seam's ``reads`` part: the SQLite part's queries (the
words that differ named by ``sql.Dialect``: a JSON field, a substring search, the read snapshot),
on a pool of read-only PostgreSQL connections whose rows read by name (``db.connect_reader``).

The one query of its own: the cache marker (``data_version``) has no ``rowid`` to watch for new
robots; robots are only ever added, so their count is the marker."""

from __future__ import annotations

from collector.store.postgres.db import connect_reader
from collector.store.sqlite.reads import SqliteReadStore
from collector.store.sqlite.sql import POSTGRES

_VERSION_SQL = """
SELECT (SELECT max(computed_ms) FROM customer_health), (SELECT count(*) FROM customer_health),
       (SELECT max(id) FROM alert_events), (SELECT max(updated_ms) FROM customers),
       (SELECT count(*) FROM customers), (SELECT count(*) FROM robots)
"""


class PgReadStore(SqliteReadStore):
    dialect = POSTGRES
    version_sql = _VERSION_SQL

    def _open(self):
        return connect_reader(self.path)

