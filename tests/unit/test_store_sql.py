"""SQL built from data, never by editing SQL text: INSERTs from a table, columns and a conflict
clause; migration files cut into statements by ``sqlite3.complete_statement``."""

from __future__ import annotations

import sqlite3

import pytest

from collector.store.sqlite.migrations import _statements
from collector.store.sqlite.sql import ROWS_PER_STATEMENT, Insert, insert_many


def test_store_sql_insert_is_built_from_table_columns_and_conflict_clause():
    upsert = Insert("t", ("k", "n"), "ON CONFLICT (k) DO UPDATE SET n = t.n + excluded.n")
    assert upsert.sql() == "INSERT INTO t (k, n) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET n = t.n + excluded.n"
    assert upsert.sql(2) == ("INSERT INTO t (k, n) VALUES (?, ?), (?, ?) "
                             "ON CONFLICT (k) DO UPDATE SET n = t.n + excluded.n")
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER)")
    rows = [(f"k{i % 300}", 1) for i in range(ROWS_PER_STATEMENT * 2 + 17)]  # several statements, conflicts
    insert_many(conn, upsert, rows)
    assert conn.execute("SELECT COUNT(*), SUM(n) FROM t").fetchone() == (300, len(rows))


def test_store_sql_migrations_cut_only_where_a_statement_ends():
    sql = ("-- a comment; with a semicolon\nCREATE TABLE a (x TEXT DEFAULT 'x;y');\n"
           "INSERT INTO a VALUES ('1;2'); INSERT INTO a VALUES ('3');\n"
           "CREATE TRIGGER tr AFTER INSERT ON a BEGIN UPDATE a SET x = x; END;\n-- trailing comment\n")
    statements = _statements(sql)
    assert len(statements) == 4
    conn = sqlite3.connect(":memory:")
    for statement in statements:
        conn.execute(statement)
    assert sorted(r[0] for r in conn.execute("SELECT x FROM a")) == ["1;2", "3"]
    with pytest.raises(ValueError):
        _statements("CREATE TABLE b (x TEXT);\nINSERT INTO b VALUES ('unfinished'")
