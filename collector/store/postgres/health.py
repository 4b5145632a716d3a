"""PostgreSQL implementation of the store seam's ``health`` part: the SQLite part itself
(``sqlite/health.py``), on the evaluator's PostgreSQL connection.

Its reads are set-based SQL that PostgreSQL runs as written, but for a few words named by the
connection's dialect (``sqlite/sql.Dialect``: temporary tables in ``pg_temp``, no planner hints, a
REPEATABLE READ snapshot for the cycle's reads); its writes are ``ON CONFLICT`` upserts and run in
the evaluator's transaction (``shared.PgShared``), with the alert engine's."""

from __future__ import annotations

from collector.store.postgres.shared import PgShared
from collector.store.sqlite.health import SqliteHealthStore


class PgHealthStore(SqliteHealthStore):
    def __init__(self, url: str | None, shared: PgShared | None = None):
        super().__init__(url, shared or PgShared(url))
