"""The production warehouse: SQL Server or Azure SQL through pyodbc (ODBC Driver 18).

Stages are ``#temp`` tables filled with ``fast_executemany`` in bounded batches (never one
round trip per row), with explicit input sizes so pyodbc never guesses a type from the
first row; text is bound at the longest value of the batch and a call carries at most
``MAX_BATCH_BYTES`` of parameters (deltastore/odbc_binding.py), not 8 KB per NVARCHAR(4000)
cell. ``commit`` runs UPDATE, INSERT and the deletion marks of every staged table,
the ``meta.load_state`` rows and the rejects in one transaction, with each load's schema
drift: the raw columns it adds (``ALTER TABLE … ADD``, transactional in SQL Server), the
changes it records and the source columns it remembers (extract/drift.py). Statements are
built by the small pure functions below, which the tests parse as T-SQL; the class only
runs them.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from deltastore import odbc_binding
from deltastore.db import column_type, connect
from deltastore.dburl import DatabaseURL
from deltastore.extract.warehouse.base import (
    Batch,
    MergeCounts,
    RejectRow,
    TableLoad,
    business_columns,
    forget_source_columns_sql,
    keys_table,
    load_state_values,
    protected_filter,
    reject_values,
    source_column_rows,
    stage_name,
    target_columns,
)
from deltastore.mssql_errors import classify
from deltastore.schema_changes import SchemaChange, SchemaHistory, read_history
from deltastore.schemas import (
    EXTRACT_META_TABLES,
    LOAD_STATE,
    META,
    REJECTS,
    SCHEMA_CHANGES,
    SOURCE_COLUMNS,
    Table,
)
from deltastore.sql_names import insert_values_sql, literal, qualified, quote

KIND = "mssql"
EXECUTEMANY_BATCH = 10_000       # rows per fast_executemany call at most
MAX_BATCH_BYTES = 64 * 2**20     # and at most this much of pyodbc's parameter array
KEY_TEXT_TYPE = "NVARCHAR(200)"  # text in a key must stay under the 900-byte index limit
_CENT = Decimal("0.01")
# A rejected record is kept whole, however long.
_UNBOUNDED_TEXT = {(REJECTS.schema, REJECTS.name, c) for c in ("payload", "reason")}


def temp_name(table: Table) -> str:
    """The session's ``#temp`` stage. It is created by a batch without parameters (executed
    directly, not through sp_executesql), so it lives until the connection closes."""
    return "#" + stage_name(table)


def sql_type(table: Table, column: str, logical: str) -> str:
    if logical == "text" and column in table.primary_key:
        return KEY_TEXT_TYPE
    if (table.schema, table.name, column) in _UNBOUNDED_TEXT:
        return "NVARCHAR(MAX)"
    return column_type(KIND, logical)


def create_schema_sql(schema: str) -> str:
    literal = schema.replace("'", "''")
    return f"IF SCHEMA_ID(N'{literal}') IS NULL EXEC(N'CREATE SCHEMA {quote(KIND, schema)}')"


def create_table_sql(table: Table) -> str:
    columns = target_columns(table) if table.schema != META else list(table.columns)
    parts = [f"{quote(KIND, c)} {sql_type(table, c, t)}"
             + (" NOT NULL" if c in table.primary_key else "") for c, t in columns]
    if table.primary_key:
        parts.append(f"CONSTRAINT {quote(KIND, f'pk_{table.schema}_{table.name}')} PRIMARY KEY "
                     f"({', '.join(quote(KIND, c) for c in table.primary_key)})")
    return (f"IF OBJECT_ID(N'{table.schema}.{table.name}', N'U') IS NULL "
            f"CREATE TABLE {qualified(KIND, table.schema, table.name)} ({', '.join(parts)})")


def add_column_sql(table: Table, column: str, logical: str) -> str:
    """A new nullable raw column (schema drift under `evolve`); nothing if it is there."""
    target = qualified(KIND, table.schema, table.name)
    return (f"IF COL_LENGTH({literal(target, national=True)}, {literal(column, national=True)})"
            f" IS NULL ALTER TABLE {target} ADD {quote(KIND, column)} "
            f"{sql_type(table, column, logical)} NULL")


def create_stage_sql(table: Table) -> str:
    parts = ", ".join(f"{quote(KIND, c)} {sql_type(table, c, t)}" for c, t in table.columns)
    return f"DROP TABLE IF EXISTS {temp_name(table)}; CREATE TABLE {temp_name(table)} ({parts})"


def stage_insert_sql(table: Table) -> str:
    marks = ", ".join("?" for _ in table.columns)
    names = ", ".join(quote(KIND, c) for c in table.column_names)
    return f"INSERT INTO {temp_name(table)} ({names}) VALUES ({marks})"


def _key_match(table: Table) -> str:
    keys = [quote(KIND, c) for c in table.primary_key]
    return " AND ".join(f"t.{c} = s.{c}" for c in keys)


def update_sql(table: Table) -> str:
    """Rewrite changed or revived rows. ``EXCEPT`` compares NULLs as equal on every version."""
    cols = [quote(KIND, c) for c in business_columns(table)]
    sets = [f"t.{c} = s.{c}" for c in cols]
    sets += ["t.[_loaded_at] = ?", "t.[_batch_id] = ?", "t.[_deleted_at] = NULL"]
    changed = "t.[_deleted_at] IS NOT NULL"
    if cols:
        changed += (f" OR EXISTS (SELECT {', '.join('s.' + c for c in cols)} "
                    f"EXCEPT SELECT {', '.join('t.' + c for c in cols)})")
    target = qualified(KIND, table.schema, table.name)
    return (f"UPDATE t SET {', '.join(sets)} FROM {target} AS t "
            f"INNER JOIN {temp_name(table)} AS s ON {_key_match(table)} WHERE {changed}")


def insert_sql(table: Table) -> str:
    names = [quote(KIND, c) for c in table.column_names]
    target = qualified(KIND, table.schema, table.name)
    return (f"INSERT INTO {target} ({', '.join(names)}, [_loaded_at], [_batch_id], "
            f"[_deleted_at]) SELECT {', '.join('s.' + n for n in names)}, ?, ?, NULL "
            f"FROM {temp_name(table)} AS s WHERE NOT EXISTS "
            f"(SELECT 1 FROM {target} AS t WHERE {_key_match(table)})")


def mark_deleted_sql(table: Table, load: TableLoad | None = None) -> str:
    """Mark live rows deleted: those missing from the stage (or the `present` key stage),
    or listed in the `deleted` key stage."""
    stage, test = temp_name(table), "NOT EXISTS"
    if load is not None and load.key_stage is not None:
        stage = temp_name(keys_table(table))
        test = "NOT EXISTS" if load.key_stage == "present" else "EXISTS"
    target = qualified(KIND, table.schema, table.name)
    return (f"UPDATE t SET t.[_deleted_at] = ? FROM {target} AS t "
            f"WHERE t.[_deleted_at] IS NULL AND {test} "
            f"(SELECT 1 FROM {stage} AS s WHERE {_key_match(table)})"
            + (protected_filter(load, "t", KIND) if load else ""))


def last_watermark_sql() -> str:
    return ("SELECT TOP 1 [watermark] FROM "
            f"{qualified(KIND, LOAD_STATE.schema, LOAD_STATE.name)} WHERE [table_name] = ? "
            "AND [status] = 'ok' AND [watermark] IS NOT NULL ORDER BY [started_at] DESC")


def input_sizes(table: Table, rows: Sequence[Sequence[Any]] | None = None
                ) -> list[tuple[int, int, int]]:
    """``cursor.setinputsizes`` for a table's columns: (SQL type, size, decimal digits).

    With ``rows``, text is sized to its longest value there (UTF-16 units, within the
    column's declared size), which is what pyodbc's parameter array is allocated from.
    """
    import pyodbc

    sizes = {
        "int": (pyodbc.SQL_BIGINT, 0, 0),
        "text": (pyodbc.SQL_WVARCHAR, 4000, 0),
        "money": (pyodbc.SQL_DECIMAL, 12, 2),
        "float": (pyodbc.SQL_DOUBLE, 0, 0),
        "date": (pyodbc.SQL_TYPE_DATE, 0, 0),
        "timestamp": (pyodbc.SQL_TYPE_TIMESTAMP, 26, 6),  # DATETIME2(6): 26 characters
        "bool": (pyodbc.SQL_BIT, 0, 0),
    }
    def size(index: int, column: str, logical: str) -> tuple[int, int, int]:
        if (table.schema, table.name, column) in _UNBOUNDED_TEXT:
            return (pyodbc.SQL_WVARCHAR, 0, 0)  # size 0 binds as NVARCHAR(MAX)
        declared = sizes[logical]
        if logical == "text" and column in table.primary_key:
            declared = (pyodbc.SQL_WVARCHAR, 200, 0)
        if logical != "text" or rows is None:
            return declared
        longest = max((odbc_binding.utf16_units(str(row[index])) for row in rows
                       if row[index] is not None), default=1)
        return (pyodbc.SQL_WVARCHAR, max(1, min(longest, declared[1])), 0)

    return [size(i, c, t) for i, (c, t) in enumerate(table.columns)]


def to_param(logical: str, value: Any) -> Any:
    """A value as the Python type pyodbc binds for the column's SQL type."""
    if value is None:
        return None
    if logical == "money":
        return Decimal(str(value)).quantize(_CENT)
    if logical == "timestamp" and isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    if logical == "date" and isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    if logical == "text" and not isinstance(value, str):
        return str(value)
    if logical == "int" and not isinstance(value, int):
        return int(value)
    if logical == "float" and not isinstance(value, float):
        return float(value)
    return value


def params(table: Table, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """The parameter array for ``stage_insert_sql``; types converted where pyodbc needs it."""
    logical = [t for _, t in table.columns]
    return [tuple(to_param(t, v) for t, v in zip(logical, row, strict=True)) for row in rows]


def chunks(rows: Sequence[Any], size: int = EXECUTEMANY_BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def ndjson_rows(table: Table, path: Path, size: int = EXECUTEMANY_BATCH
                ) -> Iterator[list[tuple[Any, ...]]]:
    """Read a landing file in batches of column-ordered tuples."""
    names = table.column_names
    batch: list[tuple[Any, ...]] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                batch.append(tuple(record.get(n) for n in names))
                if len(batch) >= size:
                    yield batch
                    batch = []
    if batch:
        yield batch


class MssqlWarehouse:
    """Writer for ``mssql://`` warehouses (runs in GitHub Actions' SQL Server job)."""

    kind = KIND

    def __init__(self, url: DatabaseURL) -> None:
        self.url = url
        self.connection = connect(url, autocommit=False)

    def close(self) -> None:
        self.connection.close()

    def _run(self, sql: str, *args: Any) -> Any:
        import pyodbc

        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, *args)
        except pyodbc.Error as exc:
            cursor.close()
            raise classify(exc, f"a statement on `{self.url}`") from None
        return cursor

    def ensure_tables(self, tables: Sequence[Table]) -> None:
        for table in (*tables, *EXTRACT_META_TABLES):
            self._run(create_schema_sql(table.schema)).close()
            self._run(create_table_sql(table)).close()
        self.connection.commit()

    def schema_history(self, source: str) -> SchemaHistory:
        import pyodbc

        try:
            return read_history(self.connection, KIND, source)
        except pyodbc.Error as exc:
            raise classify(exc, f"reading `meta.schema_changes` in `{self.url}`") from None

    def record_changes(self, batch: Batch, changes: Sequence[SchemaChange]) -> None:
        """Changes found by a run that loads nothing (it stopped on them)."""
        import pyodbc

        if not changes:
            return
        cursor = self.connection.cursor()
        try:
            _insert_changes(cursor, batch, changes)
            self.connection.commit()
        except pyodbc.Error as exc:
            self.connection.rollback()
            raise classify(exc, f"recording schema changes in `{self.url}`") from None
        finally:
            cursor.close()

    def last_watermark(self, table: Table) -> str | None:
        cursor = self._run(last_watermark_sql(), table.qualified_name)
        row = cursor.fetchone()
        cursor.close()
        return None if row is None else str(row[0])

    def start_stage(self, table: Table) -> None:
        self._run(create_stage_sql(table)).close()

    def stage_rows(self, table: Table, rows: Sequence[Sequence[Any]]) -> None:
        import pyodbc

        cursor = self.connection.cursor()
        cursor.fast_executemany = True
        sizes = input_sizes(table, rows)
        per_call = odbc_binding.rows_per_call(sizes, MAX_BATCH_BYTES, EXECUTEMANY_BATCH)
        try:
            for chunk in chunks(rows, per_call):
                cursor.setinputsizes(sizes)
                cursor.executemany(stage_insert_sql(table), params(table, chunk))
        except pyodbc.Error as exc:
            raise classify(exc, f"staging `{table.qualified_name}` in `{self.url}`") from None
        finally:
            cursor.close()

    def stage_ndjson(self, table: Table, path: Any) -> int:
        self.start_stage(table)
        total = 0
        for batch in ndjson_rows(table, Path(path)):
            self.stage_rows(table, batch)
            total += len(batch)
        return total

    def commit(self, batch: Batch, loads: Sequence[TableLoad],
               rejects: Sequence[RejectRow]) -> list[MergeCounts]:
        import pyodbc

        con = self.connection
        con.commit()  # staging is done; the merge below is its own transaction
        counts: list[MergeCounts] = []
        cursor = con.cursor()
        try:
            for load in loads:
                merge_started = time.monotonic()
                table = load.table
                for column, logical in load.new_columns:
                    cursor.execute(add_column_sql(table, column, logical))
                cursor.execute(update_sql(table), batch.loaded_at, batch.batch_id)
                updated = cursor.rowcount
                cursor.execute(insert_sql(table), batch.loaded_at, batch.batch_id)
                inserted = cursor.rowcount
                deleted = 0
                if load.snapshot or load.key_stage:
                    cursor.execute(mark_deleted_sql(table, load), batch.loaded_at)
                    deleted = cursor.rowcount
                merged = MergeCounts(inserted, updated, deleted,
                                     load.elapsed + time.monotonic() - merge_started)
                counts.append(merged)
                cursor.execute(insert_values_sql(KIND, LOAD_STATE),
                               *load_state_values(batch, load, merged))
                if load.source_columns is not None:
                    cursor.execute(forget_source_columns_sql(KIND), table.qualified_name)
                    for row in source_column_rows(batch, load):
                        cursor.execute(insert_values_sql(KIND, SOURCE_COLUMNS), *row)
                _insert_changes(cursor, batch, load.changes)
            if rejects:
                cursor.fast_executemany = True
                cursor.setinputsizes(input_sizes(REJECTS))
                for chunk in chunks([reject_values(batch, r) for r in rejects]):
                    cursor.executemany(insert_values_sql(KIND, REJECTS), chunk)
            con.commit()
        except pyodbc.Error as exc:
            con.rollback()
            names = ", ".join(f"`{load.table.qualified_name}`" for load in loads)
            raise classify(exc, f"merging {names} into `{self.url}` (rolled back)") from None
        except BaseException:
            con.rollback()
            raise
        finally:
            cursor.close()
        return counts


def _insert_changes(cursor: Any, batch: Batch, changes: Sequence[SchemaChange]) -> None:
    """One row per change: a few per run at most, so no array binding."""
    for change in changes:
        cursor.execute(insert_values_sql(KIND, SCHEMA_CHANGES),
                       *change.values(batch.loaded_at, batch.batch_id))
