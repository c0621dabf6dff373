"""Copying one source table into its shadow table on the sync target.

Two ways, both streaming (memory does not grow with the table):
- DuckDB to DuckDB: the target connection attaches the warehouse file read-only and copies
  with one ``CREATE TABLE … AS SELECT``, inside DuckDB; column types stay exactly as built.
- Anything else (a SQL Server target, or a SQL Server warehouse): rows are read with
  ``fetchmany(batch_size)`` and written with parameter arrays (``fast_executemany`` on
  SQL Server, an Arrow batch on DuckDB) into a shadow created with mapped types.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from deltastore.extract.sync import statements as sync_sql
from deltastore.extract.sync.statements import Column, Dialect


def attach_read_only(target: Any, path: str, alias: str) -> None:
    literal = path.replace("'", "''")
    target.execute(f"ATTACH '{literal}' AS {sync_sql.quote('duckdb', alias)} (READ_ONLY)")


def copy_attached(target: Any, alias: str, schema: str, table: str, shadow: str) -> None:
    source = sync_sql.qualified("duckdb", schema, table, alias)
    target.execute(f"CREATE TABLE {sync_sql.qualified('duckdb', schema, shadow)} AS "
                   f"SELECT * FROM {source}")


def read_batches(source: Any, dialect: Dialect, schema: str, table: str,
                 columns: Sequence[Column], batch_size: int) -> Iterator[list[tuple[Any, ...]]]:
    """The source table's rows, ``batch_size`` at a time."""
    cursor = source.cursor()
    try:
        cursor.execute(sync_sql.select_for_copy(dialect, schema, table, columns))
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
        for rows in batches:
            cursor.executemany(sql, rows)
            written += len(rows)
        cursor.close()
        return written
    import pyarrow as pa

    names = [c.name for c in columns]
    into = sync_sql.qualified(dialect, schema, shadow)
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
                 schema: str, table: str, shadow: str, columns: Sequence[Column],
                 batch_size: int) -> int:
    target.execute(sync_sql.create_table(target_dialect, schema, shadow, columns))
    batches = read_batches(source, source_dialect, schema, table, columns, batch_size)
    return write_batches(target, target_dialect, schema, shadow, columns, batches)
