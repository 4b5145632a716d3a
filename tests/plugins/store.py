"""The store backend as a test parameter: tests that take ``store_url`` run once per backend in
``ROBOPULSE_TEST_BACKENDS`` (default ``sqlite,postgres``), a parameter, not a copy of the tests.

PostgreSQL: the machine's server (``ROBOPULSE_TEST_PG``, default ``postgresql://postgres@127.0.0.1:5432``,
trust auth; ``make test`` starts one with ``scripts/pg-test-cluster`` when nothing listens).  Each
test gets a fresh database, dropped after it.  Without a server the postgres cases are skipped,
unless ``ROBOPULSE_TEST_BACKENDS`` names postgres explicitly: then they fail (a run that asked for
PostgreSQL must not pass without it).
"""

from __future__ import annotations

import getpass
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator

import pytest

BACKENDS = tuple(b.strip() for b in os.environ.get("ROBOPULSE_TEST_BACKENDS", "sqlite,postgres").split(",")
                 if b.strip())
_EXPLICIT = "ROBOPULSE_TEST_BACKENDS" in os.environ


def _server_candidates() -> list[str]:
    if os.environ.get("ROBOPULSE_TEST_PG"):
        return [os.environ["ROBOPULSE_TEST_PG"].rstrip("/")]
    return [f"postgresql://{user}@127.0.0.1:5432" for user in ("postgres", getpass.getuser())]


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The base URL (no database) of a PostgreSQL server the tests may create databases on."""
    import psycopg

    errors = []
    for base in _server_candidates():
        try:
            with psycopg.connect(f"{base}/postgres", connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            return base
        except psycopg.Error as exc:
            errors.append(f"{base}: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc}")
    message = "no PostgreSQL for the tests (run scripts/pg-test-cluster start, or make test): " + "; ".join(errors)
    if _EXPLICIT:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def pg_url(pg_server) -> Iterator[str]:
    """A fresh, empty database on the test server, dropped after the test (its URL)."""
    import psycopg

    name = f"rp_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{pg_server}/{name}"
    with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def store_backend(request) -> str:
    return request.param


@pytest.fixture
def store_url(store_backend, request, tmp_path) -> str:
    """``[collector] db`` of a fresh store of the parameter's backend."""
    if store_backend == "sqlite":
        return str(tmp_path / "store.db")
    if store_backend == "postgres":
        return request.getfixturevalue("pg_url")
    raise ValueError(f"unknown store backend {store_backend!r} in ROBOPULSE_TEST_BACKENDS")


@pytest.fixture
def store_sql(store_url) -> Iterator[Callable[..., list[tuple]]]:
    """``store_sql(sql, *args)`` -> rows: a plain query on the store behind ``store_url`` (SQLite
    text with ``?`` marks; each call its own short connection, so it sees what was committed)."""
    if store_url.startswith("postgresql://"):
        from collector.store.postgres.db import connect

        def query(sql: str, *args) -> list[tuple]:
            conn = connect(store_url, migrate=False)
            try:
                return [tuple(r) for r in conn.execute(sql, args).fetchall()]
            finally:
                conn.close()
    else:
        def query(sql: str, *args) -> list[tuple]:
            with sqlite3.connect(store_url) as conn:
                return conn.execute(sql, args).fetchall()
    yield query
