"""The SQL the legacy generator issues, checked as text (SQL Server cannot run here).

SQL Server statements are also parsed as T-SQL by sqlglot, and the batch writer is driven
against a recording DB-API connection to check batching, fast_executemany and commits.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlglot

from deltastore.extract.demo.legacy_data import (
    TABLES,
    _BatchWriter,
    _chunks,
    _fill,
    create_table_sql,
    drop_table_sql,
    insert_from_arrow_sql,
    insert_sql,
    row_adapter,
)
from deltastore.extract.demo.legacy_records import LegacyData
from deltastore.schemas import OLD_STORE_TABLES


def test_mssql_statements_use_dbo_types_and_primary_keys() -> None:
    customers = TABLES["customers"]
    assert drop_table_sql("mssql", customers) == "DROP TABLE IF EXISTS [dbo].[customers]"
    assert create_table_sql("mssql", customers) == (
        "CREATE TABLE [dbo].[customers] ([customer_id] BIGINT NOT NULL, "
        "[first_name] NVARCHAR(4000), [last_name] NVARCHAR(4000), [email] NVARCHAR(4000), "
        "[phone_number] NVARCHAR(4000), [address] NVARCHAR(4000), "
        "[created_at] DATETIME2(6), [updated_at] DATETIME2(6), "
        "CONSTRAINT [pk_customers] PRIMARY KEY ([customer_id]))"
    )
    assert insert_sql("mssql", TABLES["payment"]) == (
        "INSERT INTO [dbo].[payment] ([payment_id], [order_id], [payment_method], [amount], "
        "[transaction_status]) VALUES (?, ?, ?, ?, ?)"
    )
    assert "[total_price] DECIMAL(12,2)" in create_table_sql("mssql", TABLES["orders"])


def test_every_mssql_statement_parses_as_tsql() -> None:
    for table in OLD_STORE_TABLES:
        for sql in (drop_table_sql("mssql", table), create_table_sql("mssql", table),
                    insert_sql("mssql", table)):
            parsed = sqlglot.parse_one(sql, read="tsql")
            assert parsed.sql(dialect="tsql")
        create = sqlglot.parse_one(create_table_sql("mssql", table), read="tsql")
        assert create.this.this.name == table.name
        assert len(create.this.expressions) == len(table.columns) + 1  # + primary key


def test_sqlite_and_duckdb_statements_have_no_schema_prefix() -> None:
    orders = TABLES["orders"]
    assert create_table_sql("sqlite", orders) == (  # backticks: deltastore/sql_names.py
        'CREATE TABLE `orders` (`order_id` INTEGER NOT NULL, `customer_id` INTEGER, '
        '`order_date` TEXT, `total_price` NUMERIC, `updated_at` TEXT, '
        'PRIMARY KEY (`order_id`))'
    )
    assert drop_table_sql("duckdb", orders) == 'DROP TABLE IF EXISTS "orders"'
    assert insert_from_arrow_sql(orders, "batch").startswith(
        'INSERT INTO "orders" ("order_id", "customer_id", ')


def test_mssql_rows_carry_decimals_and_datetimes() -> None:
    moment = dt.datetime(2025, 3, 2, 10, 30)
    order = (7, 3, moment, 123_456, moment)
    assert row_adapter("mssql", TABLES["orders"])(order) == (
        7, 3, moment, Decimal("1234.56"), moment)
    assert row_adapter("sqlite", TABLES["orders"])(order) == (
        7, 3, "2025-03-02 10:30:00", 1234.56, "2025-03-02 10:30:00")
    review = (1, 2, 3, 4, None, moment)
    assert row_adapter("sqlite", TABLES["reviews"])(review)[4] is None


class _RecordingCursor:
    def __init__(self, log: list[Any]) -> None:
        self.log = log
        self.fast_executemany = False

    def executemany(self, sql: str, rows: list[tuple]) -> None:
        self.log.append(("executemany", sql, len(rows), self.fast_executemany))


class _RecordingConnection:
    """Stands in for pyodbc's connection: records what the writer sends."""

    def __init__(self) -> None:
        self.log: list[Any] = []

    def cursor(self) -> _RecordingCursor:
        return _RecordingCursor(self.log)

    def commit(self) -> None:
        self.log.append(("commit",))


def test_mssql_writer_batches_with_fast_executemany() -> None:
    conn = _RecordingConnection()
    writer = _BatchWriter(conn, "mssql", batch_size=100)
    data = LegacyData(scale=0.02, seed=42)
    _fill(writer, _chunks(data, "mssql", workers=1))
    writer.flush_all()
    calls = [c for c in conn.log if c[0] == "executemany"]
    assert all(fast for *_, fast in calls)
    assert all(size <= 100 for _, _, size, _ in calls)
    assert conn.log.count(("commit",)) == len(calls)  # one transaction per batch
    customer_batches = [size for _, sql, size, _ in calls if "[dbo].[customers]" in sql]
    assert customer_batches == [100, 100]
    assert writer.counts["orders"] == 300 and writer.counts["payment"] == 300
    assert sum(writer.counts.values()) == sum(size for _, _, size, _ in calls)
