"""A change of a source's shape, as found by the extract and kept in ``meta.schema_changes``.

The extract (extract/drift.py) finds the changes and records each one once; the run summary,
the docs site and ``deltastore doctor`` read them back from here. Reads take any DB-API
connection to the warehouse (DuckDB or pyodbc), so they work for a command that does not
load anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from deltastore.db import classified, connect, driver_errors
from deltastore.dburl import DatabaseURL
from deltastore.schemas import SCHEMA_CHANGES, SOURCE_COLUMNS
from deltastore.sql_names import qualified, quote

T = TypeVar("T")
ADDED, MISSING, RETYPED, NULLABILITY = "added", "missing", "retyped", "nullability"
LANDED, NOT_LANDED, STOPPED, ACCEPTED = "landed", "not landed", "stopped", "accepted"


@dataclass(frozen=True)
class SchemaChange:
    """One column (legacy DB) or field (store API) that differs from what the extract
    expects, and what was done about it."""

    source: str            # `legacy-db` | `store-api`
    table: str             # the raw table, `old_store.customers`
    column: str            # the column; a store API field as in its records, `rating.stars`
    change: str            # added | missing | retyped | nullability
    old_type: str | None   # as expected (contract or last seen); None for an added column
    new_type: str | None   # as found now; None for a missing column
    policy: str            # DELTASTORE_SCHEMA_CHANGES when it was found
    action: str            # landed | not landed | stopped | accepted
    detail: str = ""       # a sentence for people: the likely rename, why it stops

    @property
    def key(self) -> tuple[Any, ...]:
        """What makes two reports the same change: it is recorded and reported once."""
        return (self.source, self.table, self.column, self.change, self.old_type,
                self.new_type, self.policy, self.action)

    @property
    def stops(self) -> bool:
        return self.action == STOPPED

    def line(self) -> str:
        """``old_store.customers.loyalty_tier: added (TEXT); evolve: landed``."""
        types = {ADDED: f" ({self.new_type})", MISSING: f" (was {self.old_type})"}.get(
            self.change, f" ({self.old_type} -> {self.new_type})")
        text = f"{self.table}.{self.column}: {self.change}{types}; {self.policy}: {self.action}"
        return text + (f" ({self.detail})" if self.detail else "")

    def values(self, detected_at: dt.datetime, run_id: str) -> tuple[Any, ...]:
        """The ``meta.schema_changes`` row, in column order."""
        row = {"detected_at": detected_at, "run_id": run_id, "source": self.source,
               "table_name": self.table, "column_name": self.column, "change": self.change,
               "old_type": self.old_type, "new_type": self.new_type, "policy": self.policy,
               "action": self.action, "detail": self.detail}
        return tuple(row[c] for c in SCHEMA_CHANGES.column_names)


def _select(kind: str, table: Any, columns: Sequence[str]) -> str:
    names = ", ".join(quote(kind, c) for c in columns)
    return f"SELECT {names} FROM {qualified(kind, table.schema, table.name)}"


def _rows(connection: Any, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    cursor = connection.cursor()
    try:
        cursor.execute(sql, list(params)) if params else cursor.execute(sql)
        return [tuple(r) for r in cursor.fetchall()]
    finally:
        cursor.close()


_CHANGE_COLUMNS = ("source", "table_name", "column_name", "change", "old_type", "new_type",
                   "policy", "action", "detail")


def _change(row: Sequence[Any]) -> SchemaChange:
    source, table, column, change, old_type, new_type, policy, action, detail = row
    return SchemaChange(source, table, column, change, old_type, new_type, policy, action,
                        detail or "")


@dataclass(frozen=True)
class SchemaHistory:
    """What the warehouse remembers of a source's shape."""

    seen: dict[str, dict[str, tuple[str, bool]]]  # table -> column -> (type, nullable)
    recorded: set[tuple[Any, ...]]                 # keys of the changes recorded


def read_history(connection: Any, kind: str, source: str) -> SchemaHistory:
    return SchemaHistory(last_seen(connection, kind), recorded_keys(connection, kind, source))


def has_tables(connection: Any) -> bool:
    """Whether the warehouse has ``meta.schema_changes`` and ``meta.source_columns``."""
    rows = _rows(connection, "SELECT COUNT(*) FROM INFORMATION_SCHEMA.TABLES WHERE "
                             "TABLE_SCHEMA = ? AND TABLE_NAME IN (?, ?)",
                 [SCHEMA_CHANGES.schema, SCHEMA_CHANGES.name, SOURCE_COLUMNS.name])
    return int(rows[0][0]) == 2


def warehouse_history(url: DatabaseURL, source: str) -> SchemaHistory:
    """The history read without writing (``deltastore doctor``): empty when the warehouse
    or its bookkeeping tables do not exist yet."""
    found = _read_warehouse(url, lambda con: read_history(con, url.kind, source), True)
    return found if found is not None else SchemaHistory({}, set())


def found_since(url: DatabaseURL, since: dt.datetime | None = None, read_only: bool = False,
                ) -> list[tuple[dt.datetime, SchemaChange]]:
    """``changes_since`` in the warehouse at ``url`` ([] before its first extract).

    Not read-only by default: a process that also writes to the DuckDB file (the local
    runner) may share it only between connections of the same configuration."""
    found = _read_warehouse(url, lambda con: changes_since(con, url.kind, since), read_only)
    return found or []


def _read_warehouse(url: DatabaseURL, read: Callable[[Any], T], read_only: bool) -> T | None:
    """``read`` on a connection of its own; a driver's error becomes the error of its kind."""
    if url.path is not None and not url.path.exists():
        return None
    connection = connect(url, read_only=read_only)
    try:
        return read(connection) if has_tables(connection) else None
    except driver_errors(url.kind) as exc:
        raise classified(url.kind, exc, f"reading `meta.schema_changes` in `{url}`") from None
    finally:
        connection.close()


def recorded_keys(connection: Any, kind: str, source: str) -> set[tuple[Any, ...]]:
    """The keys of every change of ``source`` already recorded."""
    sql = _select(kind, SCHEMA_CHANGES, _CHANGE_COLUMNS) + f" WHERE {quote(kind, 'source')} = ?"
    return {_change(row).key for row in _rows(connection, sql, [source])}


def last_seen(connection: Any, kind: str) -> dict[str, dict[str, tuple[str, bool]]]:
    """``meta.source_columns``: per raw table, each column's declared type and nullability."""
    sql = _select(kind, SOURCE_COLUMNS, ("table_name", "column_name", "data_type", "nullable"))
    seen: dict[str, dict[str, tuple[str, bool]]] = {}
    for table, column, data_type, nullable in _rows(connection, sql):
        seen.setdefault(table, {})[column] = (str(data_type), bool(nullable))
    return seen


def changes_since(connection: Any, kind: str, since: dt.datetime | None = None,
                  ) -> list[tuple[dt.datetime, SchemaChange]]:
    """Recorded changes (all, or those found at or after ``since``), newest first."""
    sql = _select(kind, SCHEMA_CHANGES, ("detected_at", *_CHANGE_COLUMNS))
    params: list[Any] = []
    if since is not None:
        sql += f" WHERE {quote(kind, 'detected_at')} >= ?"
        params.append(since)
    sql += f" ORDER BY {quote(kind, 'detected_at')} DESC"
    return [(row[0], _change(row[1:])) for row in _rows(connection, sql, params)]


def markdown_table(found: Iterable[tuple[dt.datetime, SchemaChange]]) -> str:
    """The changes as a Markdown table (the docs site's section)."""
    lines = ["| found | source | table | column | change | was | now | policy | action |",
             "|---|---|---|---|---|---|---|---|---|"]
    for when, c in found:
        cells = [f"{when:%Y-%m-%d %H:%M}", c.source, c.table, f"`{c.column}`", c.change,
                 c.old_type or "", c.new_type or "", c.policy,
                 c.action + (f": {c.detail}" if c.detail else "")]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)
