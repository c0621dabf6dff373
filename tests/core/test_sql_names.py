"""Identifier quoting: a name can never end its quotes early, whatever it holds."""

from __future__ import annotations

import sqlite3

import duckdb
import pytest
import sqlglot

from deltastore.schemas import Table
from deltastore.sql_names import insert_values_sql, qualified, quote

AWKWARD = 'we"ird]na`me'


def test_each_kind_doubles_its_own_closing_quote() -> None:
    assert quote("mssql", AWKWARD) == '[we"ird]]na`me]'
    assert quote("duckdb", AWKWARD) == '"we""ird]na`me"'
    assert quote("sqlite", AWKWARD) == '`we"ird]na``me`'


def test_qualified_leaves_out_a_missing_catalog() -> None:
    assert qualified("duckdb", None, "analytics", "t") == '"analytics"."t"'
    assert qualified("mssql", "wh", "analytics", "t") == "[wh].[analytics].[t]"


def test_databases_read_the_quoted_names_back() -> None:
    table = Table("s", AWKWARD, ((AWKWARD, "int"), ("x", "text")), (AWKWARD,))
    for kind, connect in (("duckdb", duckdb.connect),
                          ("sqlite", lambda: sqlite3.connect(":memory:"))):
        con = connect()
        if kind == "duckdb":
            con.execute(f"CREATE SCHEMA {quote(kind, 's')}")
        else:
            con.execute("ATTACH ':memory:' AS s")
        name = qualified(kind, "s", AWKWARD)
        con.execute(f"CREATE TABLE {name} ({quote(kind, AWKWARD)} INTEGER, x TEXT)")
        con.execute(insert_values_sql(kind, table), (1, "a"))
        assert con.execute(f"SELECT {quote(kind, AWKWARD)}, x FROM {name}").fetchall() == [
            (1, "a")]
    # T-SQL: the bracketed name parses as one identifier.
    parsed = sqlglot.parse_one(insert_values_sql("mssql", table), read="tsql")
    assert parsed.this.this.name == AWKWARD


def test_a_missing_column_is_an_error_never_a_string_literal() -> None:
    """SQLite reads a double-quoted name that matches no column as a string (its documented
    quirk, sqlite.org/quirks.html); the project's quoting leaves it no such way out, in
    Python's SQLite and in the ADBC driver's own copy of SQLite."""
    import adbc_driver_sqlite.dbapi as adbc

    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE products (product_id INTEGER, unit_price NUMERIC)")
    con.execute("INSERT INTO products VALUES (1, 9.5)")
    assert con.execute('SELECT "price" FROM products').fetchall() == [("price",)]  # the quirk
    with pytest.raises(sqlite3.OperationalError, match="no such column"):
        con.execute(f"SELECT {quote('sqlite', 'price')} FROM products")
    with adbc.connect(":memory:") as arrow_con, arrow_con.cursor() as cursor:
        cursor.execute("CREATE TABLE products (product_id INTEGER, unit_price NUMERIC)")
        with pytest.raises(adbc.Error, match="no such column"):
            cursor.execute(f"SELECT {quote('sqlite', 'price')} FROM products")


def test_a_literal_can_hold_any_text() -> None:
    from deltastore.sql_names import literal

    text = "it's a \"name\" `x`"
    assert duckdb.connect().execute(f"SELECT {literal(text)}").fetchone() == (text,)
    assert literal("o'k", national=True) == "N'o''k'"
