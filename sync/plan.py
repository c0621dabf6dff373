"""What a sync does to each mart, and why: the plan the publish transaction carries out.

Actions:
- ``keep``: unchanged since the last publish; nothing is written, the table is verified;
- ``delta``: a mart with a key gets only its inserted, updated and deleted rows;
- ``rewrite``: every row is replaced inside the existing table (a changed mart without a
  key, or a mart published in full whose table can take the new rows as they are), so the
  table keeps its grants, masks, indexes and dependent views;
- ``swap``: a verified shadow replaces the table (a new mart, changed columns, DuckDB's
  full publish);
- ``outgrown``: a delta whose new text no longer fits its published column; it is planned
  again as a full publish.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from deltastore.sync.state import MartRecord, column_signature
from deltastore.sync.statements import Column, Dialect


@dataclass(frozen=True)
class TablePlan:
    table: str
    action: str
    reason: str                  # why it is published in full, or rewritten; "" otherwise
    columns: list[Column]        # in the warehouse
    keys: tuple[str, ...]
    rows: int                    # rows the mart has in the warehouse
    checksum: int                # and their checksum: what the target must hold after
    target_columns: tuple[tuple[str, str], ...]  # declared types on the target
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    written: int | None = None   # rows written (a delta: inserted + updated + deleted)
    seconds: float = 0.0
    # SQL Server: the columns with the longest text of the rows to copy, measured while
    # planning; the copy sizes its batches by them rather than reading the mart again.
    measured: tuple[Column, ...] | None = None

    def __post_init__(self) -> None:
        if self.written is None:
            object.__setattr__(self, "written", self.inserted + self.updated + self.deleted)

    @property
    def record(self) -> MartRecord:
        return MartRecord(self.table, self.keys, column_signature(self.columns),
                          self.target_columns, self.rows, self.checksum, self.action)


def full_action(target: Dialect, table_fits: bool) -> str:
    """How a mart is published in full: on SQL Server into its existing table when that
    table's columns fit the new rows (its security and indexes stay), else by swap; on
    DuckDB always by swap (a rename; DuckDB has no table-level security to keep)."""
    return "rewrite" if target == "mssql" and table_fits else "swap"


def hash_kind(batched: bool) -> str:
    """The row hash a snapshot is made with: DuckDB's own (exact within one DuckDB version)
    when one DuckDB reads both sides, else the portable MD5-based one (sync/statements.py)."""
    return "md5-60" if batched else f"duckdb-hash-{duckdb.__version__}"
