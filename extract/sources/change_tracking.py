"""SQL Server Change Tracking: read only what changed in a legacy table, deletions included.

When Change Tracking is on for a table (see docs/sql-server.md), an incremental read
asks ``CHANGETABLE(CHANGES <table>, @last_sync_version)`` for the keys changed since the
version the last run saved, joined to the table for their current values; a key whose row
is gone was deleted. No timestamp is trusted, so late commits and ``datetime``'s 3 ms
rounding cannot hide a change. The version saved in ``meta.load_state.watermark`` is
``ct:<version>``.

Microsoft's rules this follows (learn.microsoft.com/sql/relational-databases/track-changes/
work-with-change-tracking-sql-server and the pages of the functions it links to):
- the version to save next time is CHANGE_TRACKING_CURRENT_VERSION(), read in the same
  snapshot-isolation transaction as the rows, so no commit falls between the two. The
  transaction is an explicit ``BEGIN TRANSACTION`` on a connection in autocommit mode, as in
  Microsoft's example: with autocommit off the driver runs ``SET IMPLICIT_TRANSACTIONS ON``,
  and a SELECT that reads no table (the versions) starts no implicit transaction, so the
  snapshot would begin only at the read of the changes (SET IMPLICIT_TRANSACTIONS, Remarks);
- a saved version below CHANGE_TRACKING_MIN_VALID_VERSION(table) (retention cleanup, a
  TRUNCATE) gives invalid changes: the table is then read whole, and rows missing from
  that read are marked deleted.
Snapshot isolation must be allowed on the database (``ALLOW_SNAPSHOT_ISOLATION ON``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from deltastore.errors import ConfigError, TransientError
from deltastore.mssql_errors import classify, native_error
from deltastore.schemas import Table
from deltastore.sql_names import quote

PREFIX = "ct:"
KIND = "mssql"
Rows = list[tuple[Any, ...]]


def version_of(watermark: str | None) -> int | None:
    """The Change Tracking version in a saved watermark (None: not one, read in full)."""
    if watermark is None or not watermark.startswith(PREFIX):
        return None
    try:
        return int(watermark[len(PREFIX):])
    except ValueError:
        return None


def tracked_sql() -> str:
    """1 when Change Tracking is enabled on the table (parameter: `schema.table`)."""
    # OBJECT_ID() takes the quoted name as the reader writes it: `[dbo].[customers]`.
    return "SELECT COUNT(*) FROM sys.change_tracking_tables WHERE object_id = OBJECT_ID(?)"


def versions_sql() -> str:
    """The current version and the table's oldest valid one (parameter: `schema.table`)."""
    return ("SELECT CHANGE_TRACKING_CURRENT_VERSION(), "
            "CHANGE_TRACKING_MIN_VALID_VERSION(OBJECT_ID(?))")


def full_sql(table: Table, source: str) -> str:
    columns = ", ".join(quote(KIND, c) for c in table.column_names)
    return f"SELECT {columns} FROM {source}"


def changes_sql(table: Table, source: str) -> str:
    """Changed rows with their current values, and a last column: 1 when deleted.

    The key comes from CHANGETABLE (a deleted row has no other values); one parameter,
    the last synchronised version.
    """
    columns = [f"ct.{quote(KIND, c)}" if c in table.primary_key else f"t.{quote(KIND, c)}"
               for c in table.column_names]
    first_key = quote(KIND, table.primary_key[0])
    join = " AND ".join(f"t.{quote(KIND, c)} = ct.{quote(KIND, c)}" for c in table.primary_key)
    return (f"SELECT {', '.join(columns)}, "
            f"CASE WHEN t.{first_key} IS NULL THEN 1 ELSE 0 END AS {quote(KIND, '_ct_deleted')} "
            f"FROM CHANGETABLE(CHANGES {source}, ?) AS ct "
            f"LEFT OUTER JOIN {source} AS t ON {join}")


SNAPSHOT = "SET TRANSACTION ISOLATION LEVEL SNAPSHOT"
READ_COMMITTED = "SET TRANSACTION ISOLATION LEVEL READ COMMITTED"
BEGIN = "BEGIN TRANSACTION"
COMMIT = "COMMIT TRANSACTION"
ROLLBACK = "IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION"
SNAPSHOT_NOT_ALLOWED = 3952  # "Snapshot isolation transaction failed accessing database ..."


@dataclass(frozen=True)
class ChangeRead:
    """What one read did: the version to save, and whether it read the table whole."""

    version: int
    full: bool
    rows: int
    deleted: int
    reason: str


def read_changes(connection: Any, table: Table, source: str, saved: str | None,
                 batch_size: int, on_rows: Callable[[Rows], None],
                 on_deleted: Callable[[Rows], None]) -> ChangeRead:
    """Read ``table``'s changes since ``saved`` (or all of it) in one snapshot transaction.

    ``on_rows`` gets batches of live rows (table column order); ``on_deleted`` batches of
    deleted keys (primary key order). Raises TransientError on a database error.
    """
    last = version_of(saved)
    connection.commit()  # end what the reader's connection had open (autocommit off)
    connection.autocommit = True  # so that BEGIN TRANSACTION below is the only transaction
    cursor = connection.cursor()
    try:
        cursor.execute(SNAPSHOT)
        cursor.execute(BEGIN)
        # The versions and the rows below are read in this one snapshot transaction.
        cursor.execute(versions_sql(), (source,))
        current, min_valid = cursor.fetchone()
        if current is None or min_valid is None:
            raise ConfigError(f"Change Tracking is not enabled on `{source}` (or this login "
                              "may not see it); enable it (docs/sql-server.md) or turn "
                              "it off on the table to use the `updated_at` watermark")
        if last is None:
            full, reason = True, "no saved version: first read"
        elif last < min_valid:
            full, reason = True, (f"saved version {last} is older than the oldest valid "
                                  f"{min_valid} (retention cleanup or TRUNCATE)")
        else:
            full, reason = False, f"changes since version {last}"
        if full:
            cursor.execute(full_sql(table, source))
        else:
            cursor.execute(changes_sql(table, source), (last,))
        rows, deleted = _split(cursor, table, batch_size, full, on_rows, on_deleted)
        cursor.execute(COMMIT)
    except Exception as exc:
        _rollback(cursor)
        if isinstance(exc, ConfigError):
            raise
        if native_error(exc) == SNAPSHOT_NOT_ALLOWED:
            raise ConfigError(f"reading `{source}` needs snapshot isolation: run `ALTER "
                              "DATABASE <legacy> SET ALLOW_SNAPSHOT_ISOLATION ON` "
                              "(docs/sql-server.md)") from None
        if type(exc).__module__ == "pyodbc":  # by SQL Server error number
            raise classify(exc, f"reading the changes of `{source}`") from None
        raise TransientError(f"reading the changes of `{source}` failed: {exc}") from None
    finally:
        _reset(connection, cursor)
    return ChangeRead(int(current), full, rows, deleted, reason)


def _split(cursor: Any, table: Table, batch_size: int, full: bool,
           on_rows: Callable[[Rows], None], on_deleted: Callable[[Rows], None],
           ) -> tuple[int, int]:
    keys = [table.column_names.index(c) for c in table.primary_key]
    rows = deleted = 0
    while True:
        batch: Sequence[Any] = cursor.fetchmany(batch_size)
        if not batch:
            return rows, deleted
        if full:
            live, gone = [tuple(r) for r in batch], []
        else:
            live = [tuple(r[:-1]) for r in batch if not r[-1]]
            gone = [tuple(r[i] for i in keys) for r in batch if r[-1]]
        if live:
            on_rows(live)
        if gone:
            on_deleted(gone)
        rows += len(live)
        deleted += len(gone)


def _rollback(cursor: Any) -> None:
    # The connection may be gone; the original error is raised anyway.
    with contextlib.suppress(Exception):
        cursor.execute(ROLLBACK)


def _reset(connection: Any, cursor: Any) -> None:
    """Back to the default isolation and to autocommit off for the reader's other tables."""
    with contextlib.suppress(Exception):  # a broken connection: its error is already out
        cursor.execute(READ_COMMITTED)
        cursor.close()
    with contextlib.suppress(Exception):
        connection.autocommit = False


def is_tracked(connection: Any, source: str) -> bool:
    """Whether Change Tracking is enabled on the table (False when the catalog says no)."""
    cursor = connection.cursor()
    try:
        cursor.execute(tracked_sql(), (source,))
        row = cursor.fetchone()
        return bool(row and row[0])
    finally:
        cursor.close()
