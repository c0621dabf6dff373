"""What every warehouse writer shares: the load description, counts and bookkeeping rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from deltastore.schema_changes import SchemaChange, SchemaHistory
from deltastore.schemas import LOAD_COLUMNS, LOAD_STATE, REJECTS, SOURCE_COLUMNS, Table
from deltastore.sql_names import quote


@dataclass(frozen=True)
class Batch:
    """One extract run: every row it writes carries these two values."""

    batch_id: str
    loaded_at: dt.datetime  # naive UTC


@dataclass(frozen=True)
class TableLoad:
    """A staged table waiting to be merged, with what the reader knows about it."""

    table: Table
    source: str                # `store-api` or `legacy-db`
    snapshot: bool             # the stage holds every row: mark vanished rows deleted
    rows_read: int
    rows_rejected: int
    watermark: str | None
    started_at: dt.datetime    # naive UTC
    elapsed: float             # seconds spent reading and staging; the merge adds its own
    # Rows whose `protect_column` is in `protected` are in the source but were rejected:
    # a snapshot must not mark them deleted.
    protect_column: str | None = None
    protected: tuple[int, ...] = ()
    # Deletions from a key stage (``keys_table``): `present` = it holds every key in the
    # source (rows missing from it vanished); `deleted` = it holds keys the source deleted.
    key_stage: Literal["present", "deleted"] | None = None
    # Schema drift (extract/drift.py), written in the same transaction as the rows: raw
    # columns to add if absent (`table` has them), the changes to record, and the source's
    # columns to remember as (name, declared type, nullable); None leaves those as they are.
    new_columns: tuple[tuple[str, str], ...] = ()
    changes: tuple[SchemaChange, ...] = ()
    source_columns: tuple[tuple[str, str, bool], ...] | None = None


@dataclass(frozen=True)
class MergeCounts:
    inserted: int
    updated: int
    deleted: int
    seconds: float = 0.0  # whole table: reading, staging and merging (as in load_state)


@dataclass(frozen=True)
class RejectRow:
    source: str
    table_name: str
    record_key: str | None
    reason: str
    payload: str


class Warehouse(Protocol):
    """A place raw tables land. Staging never touches targets; ``commit`` is one transaction."""

    def ensure_tables(self, tables: Sequence[Table]) -> None: ...
    def last_watermark(self, table: Table) -> str | None: ...
    def start_stage(self, table: Table) -> None: ...
    def stage_rows(self, table: Table, rows: Sequence[Sequence[Any]]) -> None: ...
    def stage_ndjson(self, table: Table, path: Any) -> int: ...
    def commit(self, batch: Batch, loads: Sequence[TableLoad],
               rejects: Sequence[RejectRow]) -> list[MergeCounts]: ...
    def schema_history(self, source: str) -> SchemaHistory: ...
    def record_changes(self, batch: Batch, changes: Sequence[SchemaChange]) -> None: ...
    def close(self) -> None: ...



def target_columns(table: Table) -> list[tuple[str, str]]:
    """Business columns then load columns, as (name, logical type)."""
    return list(table.columns) + list(LOAD_COLUMNS)


def business_columns(table: Table) -> list[str]:
    """Columns compared to decide whether a row changed (everything but the key)."""
    return [c for c in table.column_names if c not in table.primary_key]


def load_state_values(batch: Batch, load: TableLoad, counts: MergeCounts) -> tuple[Any, ...]:
    """One ``meta.load_state`` row, in LOAD_STATE column order."""
    values = {
        "batch_id": batch.batch_id, "source": load.source,
        "table_name": load.table.qualified_name, "watermark": load.watermark,
        "rows_read": load.rows_read, "rows_inserted": counts.inserted,
        "rows_updated": counts.updated, "rows_deleted": counts.deleted,
        "rows_rejected": load.rows_rejected, "started_at": load.started_at,
        "seconds": round(counts.seconds, 3), "status": "ok",
    }
    return tuple(values[c] for c in LOAD_STATE.column_names)


def reject_values(batch: Batch, reject: RejectRow) -> tuple[Any, ...]:
    """One ``meta.rejects`` row, in REJECTS column order."""
    values = {
        "batch_id": batch.batch_id, "source": reject.source, "table_name": reject.table_name,
        "record_key": reject.record_key, "reason": reject.reason, "payload": reject.payload,
        "rejected_at": batch.loaded_at,
    }
    return tuple(values[c] for c in REJECTS.column_names)


def source_column_rows(batch: Batch, load: TableLoad) -> list[tuple[Any, ...]]:
    """The ``meta.source_columns`` rows of a load's table, in SOURCE_COLUMNS column order."""
    rows = []
    for name, data_type, nullable in load.source_columns or ():
        values = {"table_name": load.table.qualified_name, "column_name": name,
                  "data_type": data_type, "nullable": nullable, "seen_at": batch.loaded_at}
        rows.append(tuple(values[c] for c in SOURCE_COLUMNS.column_names))
    return rows


def forget_source_columns_sql(kind: str) -> str:
    """Deletes a table's remembered columns (``?`` = its qualified name) before new ones."""
    return (f"DELETE FROM {quote(kind, SOURCE_COLUMNS.schema)}.{quote(kind, SOURCE_COLUMNS.name)}"
            f" WHERE {quote(kind, 'table_name')} = ?")


def protected_filter(load: TableLoad, alias: str, kind: str) -> str:
    """SQL that keeps rejected-but-present rows out of the deletion marks ('' if none).

    The ids are validated integers, so writing them into the statement is safe.
    """
    if not load.protected or load.protect_column is None:
        return ""
    ids = ", ".join(str(int(i)) for i in sorted(load.protected))
    return f" AND {alias}.{quote(kind, load.protect_column)} NOT IN ({ids})"


def stage_name(table: Table) -> str:
    return f"stage_{table.schema}_{table.name}"


def keys_table(table: Table) -> Table:
    """The primary key columns alone: staged to find deletions without reading whole rows."""
    keys = tuple((c, t) for c, t in table.columns if c in table.primary_key)
    return Table(table.schema, f"{table.name}__keys", keys, table.primary_key)
