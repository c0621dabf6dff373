"""The embedded warehouse: a DuckDB file.

Stages are connection-local temp tables, filled natively from NDJSON (``read_json`` with
explicit column types) or from Arrow batches built from DB-API rows. ``commit`` merges
every staged table, the ``meta.load_state`` rows and the rejects in one transaction, with
the schema drift of each load: the raw columns it adds, the changes it records and the
source columns it remembers (extract/drift.py).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from deltastore.db import column_type, connect
from deltastore.dburl import DatabaseURL
from deltastore.duckdb_errors import classify
from deltastore.errors import ConfigError, TransientError
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
from deltastore.retry import RetryPolicy, call_with_retries
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

KIND = "duckdb"
LOCK_WAIT_SECONDS = 300.0
# Opening a file another process holds locked: bounded by the wait in seconds alone.
LOCK_RETRY = RetryPolicy(attempts=1_000_000, max_seconds=LOCK_WAIT_SECONDS, base_delay=0.1,
                         max_delay=1.0)
CREATE_RETRY = RetryPolicy(attempts=5, max_seconds=10.0, base_delay=0.05, max_delay=0.4)
log = logging.getLogger(__name__)
# Arrow types that DB-API values convert to without surprises; others are inferred per
# batch and cast by DuckDB on insert (text timestamps, floats or Decimals for money).
_ARROW_TYPES = {"int": pa.int64(), "text": pa.string(), "float": pa.float64(),
                "bool": pa.bool_()}


def create_table_sql(table: Table, with_load_columns: bool = True) -> str:
    columns = target_columns(table) if with_load_columns else list(table.columns)
    parts = [f"{quote(KIND, c)} {column_type(KIND, t)}" for c, t in columns]
    if table.primary_key:
        parts.append(f"PRIMARY KEY ({', '.join(quote(KIND, c) for c in table.primary_key)})")
    target = qualified(KIND, table.schema, table.name)
    return f"CREATE TABLE IF NOT EXISTS {target} ({', '.join(parts)})"


def add_column_sql(table: Table, column: str, logical: str) -> str:
    """A new nullable raw column (schema drift under `evolve`); nothing if it is there."""
    return (f"ALTER TABLE {qualified(KIND, table.schema, table.name)} ADD COLUMN IF NOT EXISTS "
            f"{quote(KIND, column)} {column_type(KIND, logical)}")


def create_stage_sql(table: Table) -> str:
    parts = ", ".join(f"{quote(KIND, c)} {column_type(KIND, t)}" for c, t in table.columns)
    return f"CREATE OR REPLACE TEMP TABLE {quote(KIND, stage_name(table))} ({parts})"


def stage_ndjson_sql(table: Table, path: Path) -> str:
    # Column names may come from the source (schema drift), so they are escaped too.
    types = ", ".join(f"{literal(c)}: '{column_type(KIND, t)}'" for c, t in table.columns)
    names = ", ".join(quote(KIND, c) for c in table.column_names)
    return (f"INSERT INTO {quote(KIND, stage_name(table))} SELECT {names} FROM "
            f"read_json({literal(str(path))}, format = 'newline_delimited', "
            f"columns = {{{types}}})")


def _key_match(table: Table, left: str, right: str) -> str:
    keys = [quote(KIND, c) for c in table.primary_key]
    return " AND ".join(f"{left}.{c} = {right}.{c}" for c in keys)


def update_sql(table: Table) -> str:
    """Rewrite rows whose business columns changed, or that come back after a deletion."""
    business = [quote(KIND, c) for c in business_columns(table)]
    changed = [f"t.{c} IS DISTINCT FROM s.{c}" for c in business]
    changed.append("t._deleted_at IS NOT NULL")
    sets = [f"{c} = s.{c}" for c in business]
    sets += ["_loaded_at = $loaded_at", "_batch_id = $batch_id", "_deleted_at = NULL"]
    return (f"UPDATE {qualified(KIND, table.schema, table.name)} AS t SET {', '.join(sets)} "
            f"FROM {quote(KIND, stage_name(table))} AS s WHERE {_key_match(table, 't', 's')} "
            f"AND ({' OR '.join(changed)})")


def insert_sql(table: Table) -> str:
    names = [quote(KIND, c) for c in table.column_names]
    target = qualified(KIND, table.schema, table.name)
    return (f"INSERT INTO {target} ({', '.join(names)}, _loaded_at, _batch_id, "
            f"_deleted_at) SELECT {', '.join('s.' + n for n in names)}, $loaded_at, $batch_id, "
            f"NULL FROM {quote(KIND, stage_name(table))} AS s WHERE NOT EXISTS "
            f"(SELECT 1 FROM {target} AS t WHERE {_key_match(table, 't', 's')})")


def mark_deleted_sql(table: Table, load: TableLoad | None = None) -> str:
    """Mark live rows deleted: those missing from the stage (or the `present` key stage),
    or listed in the `deleted` key stage."""
    stage, test = stage_name(table), "NOT EXISTS"
    if load is not None and load.key_stage is not None:
        stage = stage_name(keys_table(table))
        test = "NOT EXISTS" if load.key_stage == "present" else "EXISTS"
    target = qualified(KIND, table.schema, table.name)
    return (f"UPDATE {target} AS t SET _deleted_at = $loaded_at "
            f"WHERE t._deleted_at IS NULL AND {test} "
            f"(SELECT 1 FROM {quote(KIND, stage)} AS s WHERE {_key_match(table, 't', 's')})"
            + (protected_filter(load, "t", KIND) if load else ""))


def arrow_batch(table: Table, rows: Sequence[Sequence[Any]]) -> pa.Table:
    """Rows to an Arrow table, column by column (the transposition runs in C)."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in table.columns]
    arrays = [_arrow_array(values, _ARROW_TYPES.get(logical))
              for values, (_, logical) in zip(columns, table.columns, strict=True)]
    return pa.Table.from_arrays(arrays, names=table.column_names)


def _arrow_array(values: Sequence[Any], wanted: pa.DataType | None) -> pa.Array:
    try:
        return pa.array(values, type=wanted) if wanted is not None else pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # SQLite is dynamically typed: a column may mix ints and text. Hand DuckDB text
        # and let its cast decide (it fails loudly on values that really don't fit).
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())


class DuckDBWarehouse:
    """Writer for ``duckdb:///path`` warehouses."""

    kind = KIND

    def __init__(self, url: DatabaseURL, lock_wait_seconds: float = LOCK_WAIT_SECONDS) -> None:
        self.url = url
        self.connection = _connect_waiting(url, lock_wait_seconds)

    def close(self) -> None:
        self.connection.close()

    def _run(self, sql: str, params: Any = None) -> Any:
        """Execute one statement; a database error becomes the error of its kind."""
        try:
            return self.connection.execute(sql, params)
        except duckdb.Error as exc:
            raise classify(exc, f"`{self.url}`") from None

    def ensure_tables(self, tables: Sequence[Table]) -> None:
        for table in (*tables, *EXTRACT_META_TABLES):
            self._create(f"CREATE SCHEMA IF NOT EXISTS {quote(KIND, table.schema)}")
            self._create(create_table_sql(table, with_load_columns=table.schema != META))
            self._check_columns(table)

    def _in_transaction(self, work: Any, what: str) -> None:
        """``work(connection)`` in one transaction, rolled back whole if anything fails."""
        con = self.connection
        con.execute("BEGIN TRANSACTION")
        try:
            work(con)
            con.execute("COMMIT")
        except duckdb.Error as exc:
            con.execute("ROLLBACK")
            raise classify(exc, f"{what} into `{self.url}`",
                           "it was rolled back: the warehouse is as it was") from None
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def _create(self, sql: str) -> None:
        """Run a ``CREATE … IF NOT EXISTS``, again if another connection raced it.

        ``deltastore run`` extracts both sources at once in one process, so two connections
        to one database may create ``meta.load_state`` together; DuckDB then aborts one with
        a write-write conflict, and a second try finds the object there.
        """
        call_with_retries(lambda: self._run(sql), what=f"creating a table in `{self.url}`",
                          policy=CREATE_RETRY, retryable=_lost_a_conflict, notify=log.info)

    def _check_columns(self, table: Table) -> None:
        """Every column of the contract is there; a raw table may have more (the columns
        schema drift added under `evolve`)."""
        found = [r[0] for r in self._run(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
            "AND table_name = ? ORDER BY ordinal_position", [table.schema, table.name]
        ).fetchall()]
        expected = [c for c, _ in (target_columns(table) if table.schema != META
                                   else table.columns)]
        if not set(expected) <= set(found):
            raise ConfigError(
                f"`{table.qualified_name}` in `{self.url}` has columns `{', '.join(found)}` but "
                f"the contract (deltastore/schemas.py) says `{', '.join(expected)}`; "
                "migrate or drop the table, then rerun with --full-refresh"
            )

    def schema_history(self, source: str) -> SchemaHistory:
        try:
            return read_history(self.connection, KIND, source)
        except duckdb.Error as exc:
            raise classify(exc, f"reading `meta.schema_changes` in `{self.url}`") from None

    def record_changes(self, batch: Batch, changes: Sequence[SchemaChange]) -> None:
        """Changes found by a run that loads nothing (it stopped on them)."""
        if changes:
            self._in_transaction(lambda con: _insert_changes(con, batch, changes),
                                 "recording schema changes")

    def last_watermark(self, table: Table) -> str | None:
        row = self._run(
            "SELECT watermark FROM "
            f"{qualified(KIND, LOAD_STATE.schema, LOAD_STATE.name)} WHERE table_name = ? "
            "AND status = 'ok' AND watermark IS NOT NULL ORDER BY started_at DESC LIMIT 1",
            [table.qualified_name],
        ).fetchone()
        return None if row is None else str(row[0])

    def start_stage(self, table: Table) -> None:
        self._run(create_stage_sql(table))

    def stage_rows(self, table: Table, rows: Sequence[Sequence[Any]]) -> None:
        self.stage_arrow(table, arrow_batch(table, rows))

    def stage_arrow(self, table: Table, batch: pa.Table | pa.RecordBatch) -> None:
        """Append an Arrow batch with the table's columns in order; DuckDB casts each column
        to the stage's type (text timestamps, floats or Decimals for money)."""
        con = self.connection
        con.register("_arrow_batch", batch)
        try:
            con.execute(f"INSERT INTO {quote(KIND, stage_name(table))} SELECT * FROM _arrow_batch")
        except duckdb.Error as exc:
            raise classify(exc, f"staging `{table.qualified_name}`",
                           "the legacy data does not fit the raw table contract") from None
        finally:
            con.unregister("_arrow_batch")

    def stage_ndjson(self, table: Table, path: Any) -> int:
        self.start_stage(table)
        try:
            row = self.connection.execute(stage_ndjson_sql(table, Path(path))).fetchone()
        except duckdb.Error as exc:
            raise classify(exc, f"loading `{path}` into `{table.qualified_name}`") from None
        return int(row[0]) if row else 0

    def commit(self, batch: Batch, loads: Sequence[TableLoad],
               rejects: Sequence[RejectRow]) -> list[MergeCounts]:
        params = {"loaded_at": batch.loaded_at, "batch_id": batch.batch_id}
        counts: list[MergeCounts] = []

        def merge(con: Any) -> None:
            for load in loads:
                merge_started = time.monotonic()
                table = load.table
                for column, logical in load.new_columns:
                    con.execute(add_column_sql(table, column, logical))
                updated = _count(con.execute(update_sql(table), params))
                inserted = _count(con.execute(insert_sql(table), params))
                deleted = (_count(con.execute(mark_deleted_sql(table, load),
                                              {"loaded_at": batch.loaded_at}))
                           if load.snapshot or load.key_stage else 0)
                merged = MergeCounts(inserted, updated, deleted,
                                     load.elapsed + time.monotonic() - merge_started)
                counts.append(merged)
                con.execute(insert_values_sql(KIND, LOAD_STATE),
                            load_state_values(batch, load, merged))
                if load.source_columns is not None:
                    con.execute(forget_source_columns_sql(KIND), [table.qualified_name])
                    if load.source_columns:
                        con.executemany(insert_values_sql(KIND, SOURCE_COLUMNS),
                                        source_column_rows(batch, load))
                _insert_changes(con, batch, load.changes)
            if rejects:
                con.executemany(insert_values_sql(KIND, REJECTS),
                                [reject_values(batch, r) for r in rejects])

        names = ", ".join(f"`{load.table.qualified_name}`" for load in loads)
        self._in_transaction(merge, f"merging {names}")
        con = self.connection
        for load in loads:
            con.execute(f"DROP TABLE IF EXISTS {quote(KIND, stage_name(load.table))}")
            con.execute(f"DROP TABLE IF EXISTS {quote(KIND, stage_name(keys_table(load.table)))}")
        return counts


def _insert_changes(con: Any, batch: Batch, changes: Sequence[SchemaChange]) -> None:
    if changes:
        con.executemany(insert_values_sql(KIND, SCHEMA_CHANGES),
                        [c.values(batch.loaded_at, batch.batch_id) for c in changes])


def _connect_waiting(url: DatabaseURL, seconds: float) -> Any:
    """Open the file, waiting up to ``seconds`` if another process holds its write lock.

    The two extract steps may run at the same time (they are independent in the DAG);
    DuckDB allows one writer per file, so the second one waits its turn.
    """
    return call_with_retries(
        lambda: connect(url), what=f"opening the warehouse `{url}`",
        policy=dataclasses.replace(LOCK_RETRY, max_seconds=seconds),
        retryable=lambda exc: isinstance(exc, TransientError), notify=log.info,
        hint="another process holds its write lock; rerun when it is done")


def _lost_a_conflict(exc: BaseException) -> bool:
    """A write-write conflict with a concurrent transaction (DuckDB's TransactionException)."""
    return isinstance(exc, TransientError) and "conflict" in str(exc).lower()


def _count(result: Any) -> int:
    row = result.fetchone()
    return int(row[0]) if row else 0

