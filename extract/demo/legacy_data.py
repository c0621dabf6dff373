"""Write the demo legacy store into a database: SQLite (default), DuckDB or SQL Server.

The tables and columns are exactly ``OLD_STORE_TABLES`` (deltastore/schemas.py): no schema
prefix in SQLite and DuckDB, schema ``dbo`` in SQL Server. Each run drops and recreates the
tables, so a rerun replaces the contents and never appends. Rows are generated and inserted
in batches (one transaction per batch), so memory stays flat at any scale.

The SQL is built by small pure functions (``create_table_sql``, ``insert_sql``, ...) that a
unit test checks for every kind of database, since SQL Server cannot run here.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from deltastore.extract.demo.legacy_records import LegacyData

from deltastore.db import column_type, connect, quote
from deltastore.dburl import DatabaseURL
from deltastore.errors import ConfigError, TransientError
from deltastore.schemas import OLD_STORE_TABLES, Table

log = logging.getLogger(__name__)

MSSQL_SCHEMA = "dbo"
TABLES = {t.name: t for t in OLD_STORE_TABLES}


def table_ref(kind: str, table: Table) -> str:
    """The table's name as written in SQL: ``[dbo].[orders]`` or ``"orders"``."""
    if kind == "mssql":
        return f"{quote(kind, MSSQL_SCHEMA)}.{quote(kind, table.name)}"
    return quote(kind, table.name)


def drop_table_sql(kind: str, table: Table) -> str:
    return f"DROP TABLE IF EXISTS {table_ref(kind, table)}"


def create_table_sql(kind: str, table: Table) -> str:
    """CREATE TABLE with the logical types mapped for ``kind`` and the primary key declared."""
    columns = [
        f"{quote(kind, name)} {column_type(kind, logical)}"
        + (" NOT NULL" if name in table.primary_key else "")
        for name, logical in table.columns
    ]
    key = ", ".join(quote(kind, c) for c in table.primary_key)
    constraint = (f"CONSTRAINT {quote(kind, 'pk_' + table.name)} " if kind == "mssql" else "")
    columns.append(f"{constraint}PRIMARY KEY ({key})")
    return f"CREATE TABLE {table_ref(kind, table)} ({', '.join(columns)})"


def insert_sql(kind: str, table: Table) -> str:
    """A parameterised INSERT of every column (``?`` placeholders: sqlite3, duckdb, pyodbc)."""
    names = ", ".join(quote(kind, c) for c in table.column_names)
    marks = ", ".join("?" for _ in table.columns)
    return f"INSERT INTO {table_ref(kind, table)} ({names}) VALUES ({marks})"


def insert_from_arrow_sql(table: Table, relation: str) -> str:
    """DuckDB: insert a registered Arrow batch (row-wise executemany is slow in DuckDB)."""
    names = ", ".join(quote("duckdb", c) for c in table.column_names)
    return f"INSERT INTO {table_ref('duckdb', table)} ({names}) SELECT {names} FROM {relation}"


def row_adapter(kind: str, table: Table) -> Callable[[tuple], tuple]:
    """Turn neutral values (cents, datetimes) into what the driver for ``kind`` takes."""
    money = _cents_to_decimal if kind == "mssql" else _cents_to_float
    timestamp = _timestamp_text if kind == "sqlite" else None
    active: list[tuple[int, Callable[[Any], Any]]] = []
    for index, (_, logical) in enumerate(table.columns):
        convert = money if logical == "money" else timestamp if logical == "timestamp" else None
        if convert is not None:
            active.append((index, convert))
    if not active:
        return lambda row: row

    def adapt(row: tuple) -> tuple:
        values = list(row)
        for index, convert in active:
            if values[index] is not None:
                values[index] = convert(values[index])
        return tuple(values)

    return adapt


def _cents_to_float(cents: int) -> float:
    return round(cents / 100, 2)


def _cents_to_decimal(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _timestamp_text(moment: dt.datetime) -> str:
    return moment.isoformat(sep=" ")


def _arrow_types() -> dict[str, Any]:
    import pyarrow as pa

    # Money goes in as double; DuckDB rounds it into DECIMAL(12,2) exactly (cents fit).
    return {"int": pa.int64(), "text": pa.string(), "money": pa.float64(),
            "float": pa.float64(), "date": pa.date32(), "timestamp": pa.timestamp("us"),
            "bool": pa.bool_()}


class _BatchWriter:
    """Buffers rows per table and inserts each buffer when it is full (one commit each)."""

    def __init__(self, conn: Any, kind: str, batch_size: int) -> None:
        self.conn = conn
        self.kind = kind
        self.batch_size = batch_size
        self.buffers: dict[str, list[tuple]] = {name: [] for name in TABLES}
        self.adapters = {name: row_adapter(kind, t) for name, t in TABLES.items()}
        self.statements = {name: insert_sql(kind, t) for name, t in TABLES.items()}
        self.counts = dict.fromkeys(TABLES, 0)
        self.arrow_types = _arrow_types() if kind == "duckdb" else {}

    def add(self, table: str, row: tuple) -> None:
        buffer = self.buffers[table]
        buffer.append(self.adapters[table](row))
        if len(buffer) >= self.batch_size:
            self.flush(table)

    def flush(self, table: str) -> None:
        rows = self.buffers[table]
        if not rows:
            return
        if self.kind == "duckdb":
            self._insert_arrow(TABLES[table], rows)
        else:
            cursor = self.conn.cursor()
            if self.kind == "mssql":
                cursor.fast_executemany = True
            cursor.executemany(self.statements[table], rows)
        self.conn.commit()
        self.counts[table] += len(rows)
        self.buffers[table] = []

    def _insert_arrow(self, table: Table, rows: list[tuple]) -> None:
        import pyarrow as pa

        columns = list(zip(*rows, strict=True))
        batch = pa.table({
            name: pa.array(values, type=self.arrow_types[logical])
            for (name, logical), values in zip(table.columns, columns, strict=True)
        })
        self.conn.register("legacy_batch", batch)
        try:
            self.conn.execute(insert_from_arrow_sql(table, "legacy_batch"))
        finally:
            self.conn.unregister("legacy_batch")

    def flush_all(self) -> None:
        for table in TABLES:
            self.flush(table)


def generate_legacy_db(url: DatabaseURL, scale: float = 1, seed: int = 42,
                       batch_size: int = 10_000) -> dict[str, int]:
    """Create (or replace) the legacy tables at ``url`` and fill them; rows per table."""
    if batch_size < 1:
        raise ConfigError(f"batch size `{batch_size}` must be at least 1")
    data = LegacyData(scale, seed)
    conn = connect(url)
    try:
        if url.kind == "sqlite":
            # The file is rebuilt from scratch on every run: durability per batch buys nothing.
            conn.execute("PRAGMA synchronous = OFF")
        recreate_tables(conn, url.kind)
        writer = _BatchWriter(conn, url.kind, batch_size)
        _fill(writer, data)
        writer.flush_all()
    except _driver_errors(url.kind) as exc:
        raise TransientError(f"writing the demo legacy database `{url}` failed: {exc}") from None
    finally:
        conn.close()
    log.info("demo legacy database `%s`: %s", url, writer.counts)
    return writer.counts


def recreate_tables(conn: Any, kind: str) -> None:
    """Drop and create every legacy table, then commit (SQLite and DuckDB run DDL at once)."""
    cursor = conn.cursor()
    for table in OLD_STORE_TABLES:
        cursor.execute(drop_table_sql(kind, table))
        cursor.execute(create_table_sql(kind, table))
    conn.commit()


def _fill(writer: _BatchWriter, data: LegacyData) -> None:
    for row in data.customer_rows():
        writer.add("customers", row)
    for row in data.supplier_rows():
        writer.add("suppliers", row)
    for row in data.product_rows():
        writer.add("products", row)
    for rows in data.order_rows():
        writer.add("orders", rows.order)
        for item in rows.items:
            writer.add("order_items", item)
        writer.add("payment", rows.payment)
        writer.add("shipments", rows.shipment)
    for row in data.review_rows():
        writer.add("reviews", row)


def _driver_errors(kind: str) -> tuple[type[Exception], ...]:
    """The exceptions a database driver raises for failed statements."""
    import sqlite3

    errors: list[type[Exception]] = [sqlite3.Error]
    if kind == "duckdb":
        import duckdb

        errors.append(duckdb.Error)
    if kind == "mssql":
        import pyodbc

        errors.append(pyodbc.Error)
    return tuple(errors)
