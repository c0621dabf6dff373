"""Copying one source table into its shadow table on the sync target.

Two ways, both streaming (memory does not grow with the table):
- DuckDB to DuckDB: the target connection attaches the warehouse file read-only and copies
  with one ``CREATE TABLE … AS SELECT``, inside DuckDB; column types stay exactly as built.
- Anything else (a SQL Server target, or a SQL Server warehouse): rows are read with
  ``fetchmany`` and written with parameter arrays (``fast_executemany`` on SQL Server, an
  Arrow batch on DuckDB) into a shadow created with mapped types. On SQL Server every
  parameter is bound with ``setinputsizes`` (text at its longest value) and a batch holds
  at most ``rows_per_call`` rows, so pyodbc's parameter array stays under the byte budget
  (deltastore/odbc_binding.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from deltastore import odbc_binding as binding
from deltastore.sql_names import literal, qualified, quote
from deltastore.sync import statements as sync_sql
from deltastore.sync.statements import NVARCHAR_LIMIT, Column, Dialect


def attach(target: Any, path: str, alias: str) -> None:
    """The warehouse file, attached read-write: the sync keeps its record there."""
    target.execute(f"ATTACH {literal(path)} AS {quote('duckdb', alias)}")


def copy_attached(target: Any, alias: str, schema: str, table: str, shadow: str) -> None:
    source = qualified("duckdb", alias, schema, table)
    target.execute(f"CREATE TABLE {qualified('duckdb', schema, shadow)} AS "
                   f"SELECT * FROM {source}")


def input_size(column: Column) -> binding.InputSize:
    """How a column's values are bound on a SQL Server target (matches ``target_type``)."""
    if column.kind == "text":
        return binding.text_size(column.max_length, NVARCHAR_LIMIT)
    if column.kind in ("decimal", "wideint"):
        precision, scale = (38, 0) if column.kind == "wideint" else (column.precision,
                                                                     column.scale)
        return (binding.SQL_DECIMAL, int(precision or 38), int(scale or 0))
    return {"int": (binding.SQL_BIGINT, 0, 0), "float": (binding.SQL_DOUBLE, 0, 0),
            "date": (binding.SQL_TYPE_DATE, 0, 0),
            "timestamp": (binding.SQL_TYPE_TIMESTAMP, 26, 6),  # DATETIME2(6)
            "timestamptz": (binding.SQL_TYPE_TIMESTAMP, 26, 6),
            "bool": (binding.SQL_BIT, 0, 0)}[column.kind]


def read_batches(source: Any, dialect: Dialect, schema: str, table: str,
                 columns: Sequence[Column], batch_size: int,
                 where: str = "") -> Iterator[list[tuple[Any, ...]]]:
    """The source table's rows (those meeting ``where``), ``batch_size`` at a time."""
    yield from read_query(source, sync_sql.select_for_copy(dialect, schema, table, columns,
                                                           where), batch_size)


def read_query(source: Any, sql: str, batch_size: int) -> Iterator[list[tuple[Any, ...]]]:
    """A query's rows, ``batch_size`` at a time."""
    cursor = source.cursor()
    try:
        cursor.execute(sql)
        while True:
            rows = cursor.fetchmany(batch_size)
            if not rows:
                return
            yield [tuple(r) for r in rows]
    finally:
        cursor.close()


def write_batches(target: Any, dialect: Dialect, schema: str, shadow: str,
                  columns: Sequence[Column], batches: Iterator[list[tuple[Any, ...]]]) -> int:
    """Insert every batch into ``schema.shadow``; returns the number of rows written."""
    written = 0
    if dialect == "mssql":
        cursor = target.cursor()
        cursor.fast_executemany = True  # one round trip per batch, not per row
        sql = sync_sql.insert_rows(dialect, schema, shadow, columns)
        sizes = [input_size(c) for c in columns]
        for rows in batches:
            cursor.setinputsizes(sizes)  # never the 8 KB per NVARCHAR(4000) cell it describes
            cursor.executemany(sql, rows)
            written += len(rows)
        cursor.close()
        return written
    import pyarrow as pa

    names = [c.name for c in columns]
    into = qualified(dialect, schema, shadow)
    for rows in batches:
        arrays = [pa.array(list(values)) for values in zip(*rows, strict=True)]
        target.register("deltastore_sync_batch", pa.Table.from_arrays(arrays, names=names))
        try:
            target.execute(f"INSERT INTO {into} SELECT * FROM deltastore_sync_batch")
        finally:
            target.unregister("deltastore_sync_batch")
        written += len(rows)
    return written


def copy_batched(source: Any, source_dialect: Dialect, target: Any, target_dialect: Dialect,
                 table: str, into: tuple[str, str], columns: Sequence[Column],
                 batch_size: int, where: str = "", create: str | None = None) -> int:
    """Copy ``analytics.<table>`` of the warehouse (the rows meeting ``where``) into a new
    table ``into`` (schema, name), made by ``create`` (default: ``target_type`` columns)."""
    target.execute(create or sync_sql.create_table(target_dialect, *into, columns))
    batches = read_batches(source, source_dialect, sync_sql.MART_SCHEMA, table, columns,
                           batch_size, where)
    return write_batches(target, target_dialect, *into, columns, batches)


def copy_query(source: Any, target: Any, target_dialect: Dialect, into: tuple[str, str],
               columns: Sequence[Column], select: str, batch_size: int, create: str) -> int:
    """Copy a query's rows (``columns``, in order) into a new table ``into``."""
    target.execute(create)
    return write_batches(target, target_dialect, *into, columns,
                         read_query(source, select, batch_size))
