"""The store backend as a test parameter: tests that take ``store_url`` run once per backend in
``ROBOPULSE_TEST_BACKENDS`` (default ``sqlite,postgres``), a parameter, not a copy of the tests.
Left unset, postgres runs on the store-level subset only (``_in_default_subset``); set, on every
parametrized test (``ROBOPULSE_TEST_BACKENDS=sqlite,postgres make test``).

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


def _create_database(server: str, name: str, template: str = "") -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        if template:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        else:  # C collation: text sorts by code point, as in SQLite (docs/scale.md)
            conn.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")


def _drop_database(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_template(pg_server) -> Iterator[str]:
    """A database migrated once per session, copied for each test (a copy is several times faster
    than an empty database migrated anew); dropped at the end."""
    from collector.store.postgres.db import connect

    name = f"rp_tmpl_{uuid.uuid4().hex[:12]}"
    _create_database(pg_server, name)
    connect(f"{pg_server}/{name}").close()  # migrated
    yield name
    _drop_database(pg_server, name)


@pytest.fixture
def pg_url(pg_server, pg_template) -> Iterator[str]:
    """A fresh database on the test server, its schema migrated and no rows in it, dropped after
    the test (its URL).  ``test_store_postgres.py`` migrates empty ones of its own."""
    name = f"rp_test_{uuid.uuid4().hex[:12]}"
    _create_database(pg_server, name, pg_template)
    yield f"{pg_server}/{name}"
    _drop_database(pg_server, name)


@pytest.fixture
def pg_empty_url(pg_server) -> Iterator[str]:
    """A fresh, empty database (no schema: for the migration tests), dropped after the test."""
    name = f"rp_test_{uuid.uuid4().hex[:12]}"
    _create_database(pg_server, name)
    yield f"{pg_server}/{name}"
    _drop_database(pg_server, name)


def _in_default_subset(item) -> bool:
    """Without ``ROBOPULSE_TEST_BACKENDS`` the postgres parameter runs on the store-level tests only
    (modules ``test_store_*``, and tests marked ``both_backends``): every parametrized test on both
    backends adds about 4 minutes on 2 cores (docs/scale.md#tests).  Naming the backends runs all."""
    return item.path.name.startswith("test_store_") or item.get_closest_marker("both_backends") is not None


def pytest_collection_modifyitems(config, items):
    if _EXPLICIT:
        return
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("store_backend") if callspec is not None else None
        (drop if backend not in (None, "sqlite") and not _in_default_subset(item) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(params=BACKENDS)
def store_backend(request) -> str:
    """The backend of this run of the test.  A test marked ``sqlite_only`` (it uses store methods or
    SQL that have no PostgreSQL twin yet) is skipped on the others, visibly, with the reason."""
    marker = request.node.get_closest_marker("sqlite_only")
    if marker is not None and request.param != "sqlite":
        pytest.skip(f"SQLite only for now: {marker.args[0] if marker.args else 'no PostgreSQL twin yet'}"
                    " (docs/scale.md)")
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
