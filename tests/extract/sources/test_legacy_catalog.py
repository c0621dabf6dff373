"""The legacy tables' columns as each catalog declares them, and how they meet the contract.

SQLite and DuckDB are real files; SQL Server answers through the ODBC recorder with the rows
``sys.columns`` gives (learn.microsoft.com/sql/relational-databases/system-catalog-views/
sys-columns-transact-sql): ``name`` sysname and ``TYPE_NAME(system_type_id)`` as str,
``max_length`` smallint in bytes (an nvarchar(n) is 2n, a (max) column -1), ``precision``
and ``scale`` tinyint (0 for types that are not numeric; datetime2(n) has scale n),
``is_nullable`` bit, which pyodbc returns as bool.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import duckdb
import pytest
from odbc_recorder import OdbcRecorder

from deltastore.dburl import DatabaseURL
from deltastore.extract.drift import LEGACY_DB, plan_legacy_table
from deltastore.extract.sources.legacy_catalog import (
    CATALOG_SQL,
    SourceColumn,
    lands_as,
    problem,
    read_columns,
)
from deltastore.extract.sources.legacy_db import LegacyReader
from deltastore.schema_changes import ACCEPTED, LANDED, STOPPED
from deltastore.schemas import table

LEGACY_MSSQL = DatabaseURL.parse("mssql://reader@legacy-sql:1433/shop").with_password("pw")
PRODUCTS = table("old_store", "products")
CUSTOMERS = table("old_store", "customers")

# sys.columns rows of dbo.products as `deltastore demo-data legacy` creates it on SQL Server
# (deltastore/db.py: BIGINT, NVARCHAR(4000), DECIMAL(12,2), DATETIME2(6)), price renamed.
SYS_COLUMNS_PRODUCTS = [
    ("product_id", "bigint", 8, 19, 0, False),
    ("product_name", "nvarchar", 8000, 0, 0, True),
    ("category", "nvarchar", 8000, 0, 0, True),
    ("unit_price", "decimal", 9, 12, 2, True),
    ("supplier_id", "bigint", 8, 19, 0, True),
    ("updated_at", "datetime2", 8, 26, 6, True),
]


def sqlite_columns(path: Path, ddl: str) -> list[SourceColumn]:
    with sqlite3.connect(path) as con:
        con.execute(ddl)
        return read_columns(con, "sqlite", "t")


def test_sqlite_reads_declared_types_by_affinity(tmp_path: Path) -> None:
    columns = sqlite_columns(tmp_path / "a.db", (
        "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(40), price DECIMAL(12,2), "
        "amount NUMERIC, rate REAL, created TEXT, flag BOOLEAN, blob BLOB, whatever)"))
    assert [(c.name, c.family, c.nullable) for c in columns] == [
        ("id", "integer", False), ("name", "text", True), ("price", "decimal", True),
        ("amount", "decimal", True), ("rate", "float", True), ("created", "text", True),
        ("flag", "bool", True), ("blob", "other", True), ("whatever", "any", True)]
    assert (columns[2].data_type, columns[2].precision, columns[2].scale) == (
        "DECIMAL(12,2)", 12, 2)
    assert columns[3].precision is None  # bare NUMERIC: no digits declared


def test_duckdb_reads_its_own_catalog(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "a.duckdb"))
    con.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, price DECIMAL(18,4), placed TIMESTAMP, "
                "note VARCHAR NOT NULL)")
    columns = read_columns(con, "duckdb", "t")
    assert [(c.name, c.data_type, c.family, c.nullable) for c in columns] == [
        ("id", "BIGINT", "integer", False), ("price", "DECIMAL(18,4)", "decimal", True),
        ("placed", "TIMESTAMP", "timestamp", True), ("note", "VARCHAR", "text", False)]
    assert read_columns(con, "duckdb", "nothing") == []


def test_sql_server_reads_sys_columns_for_the_schema_qualified_name(odbc: OdbcRecorder) -> None:
    odbc.answers["FROM sys.columns"] = SYS_COLUMNS_PRODUCTS + [
        ("notes", "varchar", -1, 0, 0, True), ("code", "nchar", 6, 0, 0, False),
        ("rebate", "money", 8, 19, 4, True), ("active", "bit", 1, 1, 0, True),
        ("placed", "datetime", 8, 23, 3, True), ("guid", "uniqueidentifier", 16, 0, 0, True)]
    url = LEGACY_MSSQL
    with LegacyReader(url, schema="old_store") as reader:
        columns = reader.catalog([PRODUCTS])["products"]
    sql, params, _ = odbc.executed[-1]
    assert sql == CATALOG_SQL["mssql"] and params == ("[old_store].[products]",)
    shown = {c.name: (c.data_type, c.family, c.nullable) for c in columns}
    assert shown["product_name"] == ("nvarchar(4000)", "text", True)  # 8000 bytes
    assert shown["unit_price"] == ("decimal(12,2)", "decimal", True)
    assert shown["updated_at"] == ("datetime2(6)", "timestamp", True)
    assert shown["product_id"] == ("bigint", "integer", False)
    assert shown["notes"] == ("varchar(max)", "text", True)
    assert shown["code"] == ("nchar(3)", "text", False)
    assert shown["rebate"] == ("money", "decimal", True)
    assert shown["active"] == ("bit", "bool", True)
    assert shown["guid"] == ("uniqueidentifier", "text", True)


def test_a_table_sys_columns_does_not_know_is_a_config_error(odbc: OdbcRecorder) -> None:
    from deltastore.errors import ConfigError

    odbc.answers["FROM sys.columns"] = []
    url = LEGACY_MSSQL
    with LegacyReader(url) as reader, pytest.raises(
            ConfigError, match=r"no table `products` in schema `dbo` that its login may read"
                               r".*LEGACY_DB_SCHEMA.*grant the login SELECT"):
        reader.catalog([PRODUCTS])


def col(data_type: str, family: str, precision: int | None = None, scale: int | None = None,
        nullable: bool = True, name: str = "c") -> SourceColumn:
    return SourceColumn(name, data_type, nullable, family, precision, scale)


@pytest.mark.parametrize(("column", "logical", "kind", "why"), [
    (col("INTEGER", "integer"), "int", "sqlite", None),
    (col("TEXT", "text"), "int", "sqlite", "`TEXT` is not a whole-number type"),
    (col("decimal(12,0)", "decimal", 12, 0), "int", "mssql", None),
    (col("NUMERIC", "decimal"), "money", "sqlite", None),
    (col("decimal(10,2)", "decimal", 10, 2), "money", "mssql", None),
    (col("DECIMAL(18,4)", "decimal", 18, 4), "money", "duckdb", "keeps 4 decimals"),
    (col("decimal(14,2)", "decimal", 14, 2), "money", "mssql", "12 digits before the point"),
    (col("money", "decimal", 19, 4), "money", "mssql", "keeps 4 decimals"),
    (col("REAL", "float"), "money", "sqlite", "not a decimal type"),
    (col("TEXT", "text"), "timestamp", "sqlite", None),  # SQLite keeps timestamps as text
    (col("VARCHAR", "text"), "timestamp", "duckdb", "not a timestamp type"),
    (col("datetime", "timestamp"), "timestamp", "mssql", None),
    (col("date", "date"), "timestamp", "mssql", None),
    (col("datetime2(6)", "timestamp"), "date", "mssql", "not a date type"),
    (col("nvarchar(20)", "text"), "text", "mssql", None),
    (col("varchar(max)", "text"), "text", "mssql", None),
    (col("bigint", "integer"), "text", "mssql", "not a text type"),
    (col("", "any"), "int", "sqlite", None),  # no declared type: the load's cast decides
])
def test_what_a_contract_column_can_hold(column: SourceColumn, logical: str, kind: str,
                                         why: str | None) -> None:
    found = problem(column, logical, kind)
    assert (found is None) == (why is None), found
    if why is not None:
        assert found is not None and why in found


def test_a_new_column_lands_as_the_logical_type_that_holds_it_whole() -> None:
    assert lands_as(col("TEXT", "text"), "sqlite") == "text"
    assert lands_as(col("decimal(10,2)", "decimal", 10, 2), "mssql") == "money"
    assert lands_as(col("decimal(18,4)", "decimal", 18, 4), "mssql") == "text"  # exact digits
    assert lands_as(col("varbinary(16)", "other"), "mssql") is None


def test_the_renamed_column_on_sql_server_is_named_with_its_likely_new_name(
        odbc: OdbcRecorder) -> None:
    odbc.answers["FROM sys.columns"] = SYS_COLUMNS_PRODUCTS
    url = LEGACY_MSSQL
    with LegacyReader(url) as reader:
        live = reader.catalog([PRODUCTS])["products"]
    seen: dict[str, tuple[str, bool]] = {"price": ("decimal(12,2)", True)}
    plan = plan_legacy_table(PRODUCTS, live, seen, "evolve", "mssql")
    [missing] = [c for c in plan.changes if c.stops]
    assert (missing.source, missing.column, missing.change, missing.action) == (
        LEGACY_DB, "price", "missing", STOPPED)
    assert "`price` is gone and `unit_price` is new with the same type (`decimal(12,2)`)" \
        in missing.detail


def _sys_columns_of(tables: dict[str, list[tuple[Any, ...]]], odbc: OdbcRecorder) -> None:
    """Answer each table's own sys.columns rows (the recorder matches on SQL text alone)."""
    plain = odbc.answer

    def answer(sql: str) -> list[tuple[Any, ...]] | None:
        if "FROM sys.columns" in sql:
            name = str(odbc.executed[-1][1][0])  # `[dbo].[customers]`
            return tables.get(name.split(".")[-1].strip("[]"), [])
        return plain(sql)

    odbc.answer = answer  # type: ignore[method-assign]


# dbo.products before the rename
SYS_COLUMNS_PRICED = [("price", *r[1:]) if r[0] == "unit_price" else r
                      for r in SYS_COLUMNS_PRODUCTS]
SYS_COLUMNS_CUSTOMERS = [
    ("customer_id", "bigint", 8, 19, 0, False), ("first_name", "nvarchar", 100, 0, 0, True),
    ("last_name", "nvarchar", 100, 0, 0, True), ("email", "nvarchar", 510, 0, 0, True),
    ("phone_number", "nvarchar", 40, 0, 0, True), ("address", "nvarchar", 400, 0, 0, True),
    ("created_at", "datetime", 8, 23, 3, True), ("updated_at", "datetime", 8, 23, 3, True),
]


def _replace(rows: list[tuple[Any, ...]], column: str, *new: Any) -> list[tuple[Any, ...]]:
    return [(column, *new) if r[0] == column else r for r in rows]


@pytest.mark.parametrize(("name", "before", "change", "expected"), [
    ("customers", SYS_COLUMNS_CUSTOMERS,  # a column added: landed under evolve
     lambda rows: rows + [("loyalty_tier", "nvarchar", 40, 0, 0, True)],
     [("loyalty_tier", "added", None, "nvarchar(20)", LANDED)]),
    ("customers", SYS_COLUMNS_CUSTOMERS,  # text length: still fits `text`
     lambda rows: _replace(rows, "first_name", "nvarchar", 40, 0, 0, True),
     [("first_name", "retyped", "nvarchar(50)", "nvarchar(20)", ACCEPTED)]),
    ("customers", SYS_COLUMNS_CUSTOMERS,  # nullability
     lambda rows: _replace(rows, "email", "nvarchar", 510, 0, 0, False),
     [("email", "nullability", "NULL", "NOT NULL", ACCEPTED)]),
    ("customers", SYS_COLUMNS_CUSTOMERS,  # integer -> text: the contract's int cannot hold it
     lambda rows: _replace(rows, "customer_id", "nvarchar", 40, 0, 0, False),
     [("customer_id", "retyped", "bigint", "nvarchar(20)", STOPPED)]),
    ("customers", SYS_COLUMNS_CUSTOMERS,  # dropped
     lambda rows: [r for r in rows if r[0] != "phone_number"],
     [("phone_number", "missing", "nvarchar(20)", None, STOPPED)]),
    ("products", SYS_COLUMNS_PRICED,  # decimal precision that still fits DECIMAL(12,2)
     lambda rows: _replace(rows, "price", "decimal", 9, 10, 2, True),
     [("price", "retyped", "decimal(12,2)", "decimal(10,2)", ACCEPTED)]),
    ("products", SYS_COLUMNS_PRICED,  # decimal precision with 4 decimals: would be rounded
     lambda rows: _replace(rows, "price", "decimal", 9, 18, 4, True),
     [("price", "retyped", "decimal(12,2)", "decimal(18,4)", STOPPED)]),
], ids=lambda v: v if isinstance(v, str) else "")
def test_sql_server_changes_against_the_last_seen_columns(
        name: str, before: list[tuple[Any, ...]], change: Any,
        expected: list[tuple[Any, ...]], odbc: OdbcRecorder) -> None:
    """The columns as the last load saw them (``meta.source_columns``) against sys.columns
    now, through the reader's own catalog read."""
    url = LEGACY_MSSQL
    contract = table("old_store", name)
    _sys_columns_of({name: before}, odbc)
    with LegacyReader(url) as reader:
        seen = {c.name: (c.data_type, c.nullable) for c in reader.catalog([contract])[name]}
    _sys_columns_of({name: change(before)}, odbc)
    with LegacyReader(url) as reader:
        after = reader.catalog([contract])[name]
    plan = plan_legacy_table(contract, after, seen, "evolve", "mssql")
    assert [(c.column, c.change, c.old_type, c.new_type, c.action) for c in plan.changes] == \
        expected
    landed = tuple((c.column, "text") for c in plan.changes if c.action == LANDED)
    assert plan.new_columns == landed
    assert plan.stops == any(c.action == STOPPED for c in plan.changes)


@pytest.mark.mssql
def test_a_real_sql_server_answers_sys_columns_in_the_shape_the_tests_use() -> None:
    """Runs in GitHub Actions' SQL Server job (DELTASTORE_TEST_MSSQL_URL): the rows written
    out above, as the server and pyodbc really give them."""
    import os

    from deltastore.db import connect

    url = DatabaseURL.parse(os.environ["DELTASTORE_TEST_MSSQL_URL"]).with_password(
        os.environ.get("DELTASTORE_TEST_MSSQL_PASSWORD"))
    con = connect(url, autocommit=True)
    con.execute("DROP TABLE IF EXISTS [dbo].[drift_probe]")
    con.execute("CREATE TABLE [dbo].[drift_probe] ([id] BIGINT NOT NULL, [name] NVARCHAR(50), "
                "[notes] VARCHAR(MAX), [price] DECIMAL(12,2), [rebate] MONEY, "
                "[placed] DATETIME, [updated_at] DATETIME2(6), [active] BIT)")
    try:
        rows = [tuple(r) for r in con.execute(CATALOG_SQL["mssql"], "[dbo].[drift_probe]")]
    finally:
        con.execute("DROP TABLE [dbo].[drift_probe]")
        con.close()
    assert rows == [
        ("id", "bigint", 8, 19, 0, False), ("name", "nvarchar", 100, 0, 0, True),
        ("notes", "varchar", -1, 0, 0, True), ("price", "decimal", 9, 12, 2, True),
        ("rebate", "money", 8, 19, 4, True), ("placed", "datetime", 8, 23, 3, True),
        ("updated_at", "datetime2", 8, 26, 6, True), ("active", "bit", 1, 1, 0, True)]
    assert all(type(r[5]) is bool and type(r[2]) is int for r in rows)
