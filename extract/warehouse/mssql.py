"""The production warehouse: SQL Server or Azure SQL through pyodbc (ODBC Driver 18).

Stages are ``#temp`` tables filled with ``fast_executemany`` in bounded batches (never one
round trip per row), with explicit input sizes so pyodbc never guesses a type from the
first row; text is bound at the longest value of the batch and a call carries at most
``MAX_BATCH_BYTES`` of parameters (deltastore/odbc_binding.py), not 8 KB per NVARCHAR(4000)
cell; the rejects go the same way. Free text (deltastore/schemas.py ``FREE_TEXT``) is
NVARCHAR(MAX): rows holding a value over 4,000 UTF-16 units travel in calls of their own,
bound as MAX (data at execution), so the common rows keep their short buffers.
``commit`` runs UPDATE, INSERT and the deletion marks of every staged table, the
``meta.load_state`` rows and the rejects in one transaction, with each load's schema drift:
the raw columns it adds (``ALTER TABLE … ADD``, transactional in SQL Server), the changes it
records and the source columns it remembers (extract/drift.py). Statements are built by the
small pure functions below, which the tests parse as T-SQL; the class only runs them.

Text comparisons never depend on a collation. ``#stage`` tables live in tempdb, whose
collation is the server's, so their text columns are declared ``COLLATE DATABASE_DEFAULT``
(the warehouse's own; without it every comparison with a raw table of a ``_CS``/``_UTF8``
warehouse fails with a collation conflict). The change test compares text in a binary
collation and by ``DATALENGTH``: under the usual ``_CI_AS`` collations ``'alice' = 'Alice'``
and ``'x' = 'x '`` (trailing blanks are padded in every collation), and such a change would
never reach the raw table, where DuckDB's ``IS DISTINCT FROM`` writes it.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator, Sequence
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from deltastore import odbc_binding
from deltastore.db import column_type, connect
from deltastore.dburl import DatabaseURL
from deltastore.errors import DataError
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
    FREE_TEXT,
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
KEY_TEXT_LIMIT = 200             # text in a key must stay under the 900-byte index limit
TEXT_LIMIT = 4000                # UTF-16 units of NVARCHAR(4000), and of a buffer pyodbc binds
KEY_TEXT_TYPE = f"NVARCHAR({KEY_TEXT_LIMIT})"
BINARY_COLLATION = "Latin1_General_100_BIN2"  # code point order, no case or accent folding
_CENT = Decimal("0.01")


def temp_name(table: Table) -> str:
    """The session's ``#temp`` stage. It is created by a batch without parameters (executed
    directly, not through sp_executesql), so it lives until the connection closes."""
    return "#" + stage_name(table)


def is_free_text(table: Table, column: str) -> bool:
    return (table.schema, table.name, column) in FREE_TEXT


def text_limit(table: Table, column: str) -> int | None:
    """UTF-16 units a text column holds (None: no limit)."""
    if column in table.primary_key:
        return KEY_TEXT_LIMIT
    return None if is_free_text(table, column) else TEXT_LIMIT


def sql_type(table: Table, column: str, logical: str) -> str:
    if logical == "text" and column in table.primary_key:
        return KEY_TEXT_TYPE
    if logical == "text" and is_free_text(table, column):
        return "NVARCHAR(MAX)"
    return column_type(KIND, logical)


def create_schema_sql(schema: str) -> str:
    return (f"IF SCHEMA_ID({literal(schema, national=True)}) IS NULL "
            f"EXEC({literal(f'CREATE SCHEMA {quote(KIND, schema)}', national=True)})")


def create_table_sql(table: Table) -> str:
    columns = target_columns(table) if table.schema != META else list(table.columns)
    parts = [f"{quote(KIND, c)} {sql_type(table, c, t)}"
             + (" NOT NULL" if c in table.primary_key else "") for c, t in columns]
    if table.primary_key:
        parts.append(f"CONSTRAINT {quote(KIND, f'pk_{table.schema}_{table.name}')} PRIMARY KEY "
                     f"({', '.join(quote(KIND, c) for c in table.primary_key)})")
    return (f"IF OBJECT_ID({literal(f'{table.schema}.{table.name}', national=True)}, N'U') IS NULL "
            f"CREATE TABLE {qualified(KIND, table.schema, table.name)} ({', '.join(parts)})")


def add_column_sql(table: Table, column: str, logical: str) -> str:
    """A new nullable raw column (schema drift under `evolve`); nothing if it is there."""
    target = qualified(KIND, table.schema, table.name)
    return (f"IF COL_LENGTH({literal(target, national=True)}, {literal(column, national=True)})"
            f" IS NULL ALTER TABLE {target} ADD {quote(KIND, column)} "
            f"{sql_type(table, column, logical)} NULL")


def widen_sql(table: Table) -> list[str]:
    """Free-text columns a warehouse created before they were NVARCHAR(MAX) are widened
    (COL_LENGTH is -1 for MAX); nothing happens once they are."""
    name = literal(f"{table.schema}.{table.name}", national=True)
    return [f"IF COL_LENGTH({name}, {literal(c, national=True)}) <> -1 ALTER TABLE "
            f"{qualified(KIND, table.schema, table.name)} "
            f"ALTER COLUMN {quote(KIND, c)} NVARCHAR(MAX) NULL"
            for c, t in table.columns if t == "text" and is_free_text(table, c)
            and c not in table.primary_key]


def create_stage_sql(table: Table) -> str:
    """The session's stage; text in the warehouse's collation, not tempdb's."""
    parts = ", ".join(f"{quote(KIND, c)} {sql_type(table, c, t)}"
                      + (" COLLATE DATABASE_DEFAULT" if t == "text" else "")
                      for c, t in table.columns)
    return f"DROP TABLE IF EXISTS {temp_name(table)}; CREATE TABLE {temp_name(table)} ({parts})"


def stage_insert_sql(table: Table) -> str:
    marks = ", ".join("?" for _ in table.columns)
    names = ", ".join(quote(KIND, c) for c in table.column_names)
    return f"INSERT INTO {temp_name(table)} ({names}) VALUES ({marks})"


def _key_match(table: Table) -> str:
    keys = [quote(KIND, c) for c in table.primary_key]
    return " AND ".join(f"t.{c} = s.{c}" for c in keys)


def _compared(alias: str, column: str, logical: str) -> str:
    """A column as the change test compares it: text in a binary collation and with its
    length in bytes (trailing blanks count), other types as they are."""
    name = f"{alias}.{quote(KIND, column)}"
    if logical != "text":
        return name
    return f"{name} COLLATE {BINARY_COLLATION}, DATALENGTH({name})"


def update_sql(table: Table) -> str:
    """Rewrite changed or revived rows. ``EXCEPT`` compares NULLs as equal on every version."""
    cols = business_columns(table)
    logical = dict(table.columns)
    sets = [f"t.{quote(KIND, c)} = s.{quote(KIND, c)}" for c in cols]
    sets += ["t.[_loaded_at] = ?", "t.[_batch_id] = ?", "t.[_deleted_at] = NULL"]
    changed = "t.[_deleted_at] IS NOT NULL"
    if cols:
        source = ", ".join(_compared("s", c, logical[c]) for c in cols)
        target = ", ".join(_compared("t", c, logical[c]) for c in cols)
        changed += f" OR EXISTS (SELECT {source} EXCEPT SELECT {target})"
    return (f"UPDATE t SET {', '.join(sets)} FROM {qualified(KIND, table.schema, table.name)} AS t "
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

    With ``rows``, text is sized to its longest value there (UTF-16 units), which is what
    pyodbc's parameter array is allocated from; free text longer than 4,000 units (or,
    without rows, any free text) is bound with size 0, as NVARCHAR(MAX).
    """
    sizes = {
        "int": (odbc_binding.SQL_BIGINT, 0, 0),
        "money": (odbc_binding.SQL_DECIMAL, 12, 2),
        "float": (odbc_binding.SQL_DOUBLE, 0, 0),
        "date": (odbc_binding.SQL_TYPE_DATE, 0, 0),
        "timestamp": (odbc_binding.SQL_TYPE_TIMESTAMP, 26, 6),  # DATETIME2(6): 26 characters
        "bool": (odbc_binding.SQL_BIT, 0, 0),
    }

    def size(index: int, column: str, logical: str) -> tuple[int, int, int]:
        if logical != "text":
            return sizes[logical]
        limit = text_limit(table, column)
        if rows is None:
            return odbc_binding.text_size(limit, TEXT_LIMIT)  # None: MAX
        longest = max((_units(row[index]) for row in rows if row[index] is not None),
                      default=1)
        return odbc_binding.text_size(longest, limit or TEXT_LIMIT)

    return [size(i, c, t) for i, (c, t) in enumerate(table.columns)]


def _units(value: Any) -> int:
    return odbc_binding.utf16_units(value if isinstance(value, str) else str(value))


def insert_calls(table: Table, rows: Sequence[Sequence[Any]], max_bytes: int = MAX_BATCH_BYTES,
                 max_rows: int = EXECUTEMANY_BATCH,
                 ) -> Iterator[tuple[list[tuple[int, int, int]], Sequence[Sequence[Any]]]]:
    """The ``executemany`` calls that insert ``rows``: (input sizes, rows of the call).

    No call's parameter array exceeds ``max_bytes`` (deltastore/odbc_binding.py). Rows with
    a free-text value over 4,000 UTF-16 units go in calls of their own, bound as
    NVARCHAR(MAX); a value longer than any other text column holds raises DataError naming
    the table, the column and the row's key, before anything is sent.
    """
    short, long = _split_long(table, rows)
    for part in (short, long):
        if not part:
            continue
        sizes = input_sizes(table, part)
        per_call = odbc_binding.rows_per_call(sizes, max_bytes, max_rows)
        for chunk in chunks(part, per_call):
            yield sizes, chunk


def _split_long(table: Table, rows: Sequence[Sequence[Any]]
                ) -> tuple[list[Sequence[Any]], list[Sequence[Any]]]:
    texts = [(i, c, text_limit(table, c)) for i, (c, t) in enumerate(table.columns)
             if t == "text"]
    short: list[Sequence[Any]] = []
    long: list[Sequence[Any]] = []
    for row in rows:
        over = False
        for index, column, limit in texts:
            value = row[index]
            # A value of at most half the limit in code points fits whatever it holds.
            if value is None or len(str(value)) * 2 <= TEXT_LIMIT:
                continue
            units = _units(value)
            if limit is not None and units > limit:
                raise DataError(_too_long(table, row, column, units, limit))
            over = over or units > TEXT_LIMIT
        (long if over else short).append(row)
    return short, long


def _too_long(table: Table, row: Sequence[Any], column: str, units: int, limit: int) -> str:
    key = ", ".join(f"{c}={row[table.column_names.index(c)]!r}" for c in table.primary_key)
    return (f"`{table.qualified_name}.{column}`: a value of {units:,} UTF-16 units "
            f"(row {key or 'without key'}) is longer than the {limit:,} that SQL Server's "
            f"NVARCHAR({limit}) column holds; shorten it in the source, or, if the column "
            "holds free text, add it to FREE_TEXT in deltastore/schemas.py (NVARCHAR(MAX))")


def to_param(logical: str, value: Any) -> Any:
    """A value as the Python type pyodbc binds for the column's SQL type."""
    if value is None:
        return None
    if logical == "money":
        # Half away from zero, as DuckDB casts the same text to DECIMAL(12,2).
        return Decimal(str(value)).quantize(_CENT, rounding=ROUND_HALF_UP)
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
            for statement in widen_sql(table):
                self._run(statement).close()
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
        try:
            _insert(cursor, table, stage_insert_sql(table), rows)
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
                _insert(cursor, REJECTS, insert_values_sql(KIND, REJECTS),
                        [reject_values(batch, r) for r in rejects])
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


def _insert(cursor: Any, table: Table, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """``rows`` into ``table`` with fast_executemany, in the calls ``insert_calls`` plans."""
    cursor.fast_executemany = True
    for sizes, chunk in insert_calls(table, rows):
        cursor.setinputsizes(sizes)
        cursor.executemany(sql, params(table, chunk))
