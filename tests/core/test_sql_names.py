"""Identifier quoting: a name can never end its quotes early, whatever it holds."""

from __future__ import annotations

import sqlite3

import duckdb
import sqlglot

from deltastore.schemas import Table
from deltastore.sql_names import insert_values_sql, qualified, quote

AWKWARD = 'we"ird]name'


def test_each_kind_doubles_its_own_closing_quote() -> None:
    assert quote("mssql", AWKWARD) == '[we"ird]]name]'
    assert quote("duckdb", AWKWARD) == '"we""ird]name"'
    assert quote("sqlite", AWKWARD) == quote("duckdb", AWKWARD)


def test_qualified_leaves_out_a_missing_catalog() -> None:
    assert qualified("duckdb", None, "analytics", "t") == '"analytics"."t"'
    assert qualified("mssql", "wh", "analytics", "t") == "[wh].[analytics].[t]"


def test_databases_read_the_quoted_names_back() -> None:
    table = Table("s", AWKWARD, ((AWKWARD, "int"), ("x", "text")), (AWKWARD,))
    for connect in (duckdb.connect, lambda: sqlite3.connect(":memory:")):
        con = connect()
        if connect is duckdb.connect:
            con.execute(f"CREATE SCHEMA {quote('duckdb', 's')}")
            name = qualified("duckdb", "s", AWKWARD)
        else:
            con.execute("ATTACH ':memory:' AS s")
            name = qualified("sqlite", "s", AWKWARD)
        con.execute(f"CREATE TABLE {name} ({quote('duckdb', AWKWARD)} INTEGER, x TEXT)")
        con.execute(insert_values_sql("duckdb", table), (1, "a"))
        assert con.execute(f"SELECT {quote('duckdb', AWKWARD)}, x FROM {name}").fetchall() == [
            (1, "a")]
    # T-SQL: the bracketed name parses as one identifier.
    parsed = sqlglot.parse_one(insert_values_sql("mssql", table), read="tsql")
    assert parsed.this.this.name == AWKWARD
