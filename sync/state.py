"""What the warehouse knows about the published marts, and the marker the target keeps.

The incremental publish needs to know, without reading the target back, what each
published mart holds. The warehouse keeps it in schema ``meta_sync``:

- ``publishes``: one row per publish to a target (``pending`` until the target committed
  it, then ``published``; the one before becomes ``superseded``) and the row hash it used;
- ``published_marts``: per publish and mart, its key, its columns (in the warehouse and on
  the target), row count and checksum;
- ``rows__<mart>``: for each mart with a key, one row per published row: the key and the
  row's hash. Between the last publish's record and the target commit of the next one,
  ``delta__<mart>`` (the changed keys, with old and new hash) or ``next__<mart>`` (the whole
  new snapshot) wait; promoting the publish applies them (``promote``).

The target keeps the id of the publish it holds last in ``analytics_sync_stage``
(``MARKER``), written in the same transaction as the marts. The warehouse and the target
cannot commit together, so the record is written first as ``pending``: a sync that stopped
after the target's commit but before the record's is completed by the next one (the marker
names the pending publish), one that stopped before is discarded (the marker names the
previous one). A marker that names neither, or none at all, means the target is not in a
state the warehouse knows, and everything is published in full.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from deltastore.schemas import DBT_MART_KEYS, DBT_MART_TABLES, META_SYNC, Table
from deltastore.sql_names import qualified, quote
from deltastore.sync.statements import (
    STAGE_SCHEMA,
    Column,
    Dialect,
    column_list,
    create_schema,
    create_table_if_missing,
    delete_matching_sql,
    rename_table,
    table_exists_query,
    tables_query,
)

STATE_SCHEMA = META_SYNC
PUBLISHES = "publishes"
PUBLISHED_MARTS = "published_marts"
ROWS_PREFIX = "rows__"    # the published snapshot of a keyed mart
NEXT_PREFIX = "next__"    # a pending whole snapshot
DELTA_PREFIX = "delta__"  # pending changes to a snapshot
# The target's record of the publish it holds; never a mart's name (marts are dbt models).
MARKER = (STAGE_SCHEMA, "__deltastore_publish")
HASH_COLUMN = "_row_hash"
OLD_HASH_COLUMN = "_old_hash"
OP_COLUMN = "_op"  # I (inserted), U (updated), D (deleted)

Run = Callable[[str, tuple[Any, ...]], list[Any]]


def new_publish_id() -> str:
    now = dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class MartRecord:
    """One mart as a publish left it (or, pending, will leave it)."""

    mart: str
    keys: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]          # warehouse: name and kind/type
    target_columns: tuple[tuple[str, str], ...]   # target: name and declared type
    rows: int
    checksum: int
    action: str


@dataclass(frozen=True)
class Publish:
    publish_id: str
    status: str
    hash_kind: str
    marts: dict[str, MartRecord]


def column_signature(columns: Sequence[Column]) -> tuple[tuple[str, str], ...]:
    """Names and types of a mart's columns, as recorded (a change means: publish it whole)."""
    def kind(c: Column) -> str:
        if c.kind == "decimal":
            return f"decimal({c.precision},{c.scale})"
        return c.kind
    return tuple((c.name, kind(c)) for c in columns)


# --- statements -------------------------------------------------------------------------

def _text(dialect: Dialect, bounded: bool = True) -> str:
    if dialect == "duckdb":
        return "VARCHAR"
    return "NVARCHAR(200)" if bounded else "NVARCHAR(MAX)"


def _table_ddl(dialect: Dialect, catalog: str | None, name: str,
               columns: Sequence[tuple[str, str]]) -> str:
    body = ", ".join(f"{quote(dialect, c)} {t}" for c, t in columns)
    return create_table_if_missing(dialect, catalog, STATE_SCHEMA, name, body)


def create_statements(dialect: Dialect, catalog: str | None = None) -> list[str]:
    """Schema ``meta_sync`` and its two record tables, when missing."""
    text, long_text = _text(dialect), _text(dialect, bounded=False)
    stamp = "TIMESTAMP" if dialect == "duckdb" else "DATETIME2(6)"
    integer = "BIGINT"
    return [
        create_schema(dialect, STATE_SCHEMA, catalog),
        _table_ddl(dialect, catalog, PUBLISHES, [
            ("publish_id", text), ("target", long_text), ("status", text),
            ("hash_kind", text), ("started_at", stamp), ("finished_at", stamp)]),
        _table_ddl(dialect, catalog, PUBLISHED_MARTS, [
            ("publish_id", text), ("mart", text), ("key_columns", long_text),
            ("columns", long_text), ("target_columns", long_text), ("row_count", integer),
            ("checksum", text), ("action", text)]),
    ]


def snapshot_name(prefix: str, mart: str) -> str:
    return prefix + mart


def state_table(dialect: Dialect, catalog: str | None, name: str) -> str:
    return qualified(dialect, catalog, STATE_SCHEMA, name)


# --- the record -------------------------------------------------------------------------

class Record:
    """The warehouse's record of publishes to one target, read and written through ``run``
    (a statement and its parameters -> rows) on the warehouse, ``catalog`` being the
    warehouse's alias when it is attached inside a DuckDB target."""

    def __init__(self, dialect: Dialect, catalog: str | None, target: str, run: Run,
                 begin: Callable[[], None], commit: Callable[[], None],
                 rollback: Callable[[], None]) -> None:
        self.dialect = dialect
        self.catalog = catalog
        self.target = target
        self.run = run
        self.begin, self.commit, self.rollback = begin, commit, rollback

    def table(self, name: str) -> str:
        return state_table(self.dialect, self.catalog, name)

    def ensure(self) -> None:
        for statement in create_statements(self.dialect, self.catalog):
            self.run(statement, ())
        self.commit()

    def mart_keys(self) -> dict[str, tuple[str, ...]]:
        """Each mart's key as the last build recorded it (none when no build recorded keys)."""
        rows = self._build_rows(DBT_MART_KEYS, "key_columns")
        return {str(mart): tuple(json.loads(columns)) for mart, columns in rows}

    def mart_tables(self) -> set[str] | None:
        """The tables the marts of the last build build; None when no build recorded them
        (a warehouse built before builds did)."""
        return {str(mart) for mart, _ in self._build_rows(DBT_MART_TABLES, "unique_id")} or None

    def _build_rows(self, table: Table, column: str) -> list[Any]:
        """``mart`` and ``column`` of a table ``deltastore build`` writes (none when absent)."""
        exists = self.run(table_exists_query(self.dialect, self.catalog),
                          (table.schema, table.name))
        if not exists or not int(exists[0][0]):
            return []
        name = qualified(self.dialect, self.catalog, table.schema, table.name)
        return self.run(f"SELECT {quote(self.dialect, 'mart')}, "
                        f"{quote(self.dialect, column)} FROM {name}", ())

    def publishes(self, status: str) -> list[Publish]:
        d = self.dialect
        rows = self.run(
            f"SELECT {column_list(d, ['publish_id', 'status', 'hash_kind'])} FROM "
            f"{self.table(PUBLISHES)} WHERE {quote(d, 'target')} = ? AND "
            f"{quote(d, 'status')} = ? ORDER BY {quote(d, 'started_at')} DESC",
            (self.target, status))
        return [Publish(str(i), str(s), str(h), self._marts(str(i))) for i, s, h in rows]

    def last_target(self) -> str | None:
        """The target of the last publish, whichever it was."""
        d = self.dialect
        rows = self.run(f"SELECT {quote(d, 'target')} FROM {self.table(PUBLISHES)} WHERE "
                        f"{quote(d, 'status')} = 'published'", ())
        return str(rows[0][0]) if rows else None

    def _marts(self, publish_id: str) -> dict[str, MartRecord]:
        d = self.dialect
        rows = self.run(
            f"SELECT {column_list(d, ['mart', 'key_columns', 'columns', 'target_columns'])}, "
            f"{column_list(d, ['row_count', 'checksum', 'action'])} "
            f"FROM {self.table(PUBLISHED_MARTS)} WHERE {quote(d, 'publish_id')} = ?",
            (publish_id,))
        marts = {}
        for mart, keys, columns, target_columns, count, checksum, action in rows:
            marts[str(mart)] = MartRecord(
                str(mart), tuple(json.loads(keys)),
                tuple(tuple(c) for c in json.loads(columns)),  # type: ignore[misc]
                tuple(tuple(c) for c in json.loads(target_columns)),  # type: ignore[misc]
                int(count), int(checksum), str(action))
        return marts

    def save_pending(self, publish_id: str, hash_kind: str, marts: Sequence[MartRecord]) -> None:
        """Record a publish about to be committed on the target (one warehouse transaction)."""
        d = self.dialect
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        self.begin()
        try:
            self.run(f"INSERT INTO {self.table(PUBLISHES)} ("
                     f"{column_list(d, ['publish_id', 'target', 'status', 'hash_kind'])}, "
                     f"{quote(d, 'started_at')}) VALUES (?, ?, 'pending', ?, ?)",
                     (publish_id, self.target, hash_kind, now))
            for m in marts:
                self.run(f"INSERT INTO {self.table(PUBLISHED_MARTS)} ("
                         f"{column_list(d, ['publish_id', 'mart', 'key_columns', 'columns'])}, "
                         f"{column_list(d, ['target_columns', 'row_count', 'checksum', 'action'])}"
                         ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (publish_id, m.mart, json.dumps(list(m.keys)),
                          json.dumps([list(c) for c in m.columns]),
                          json.dumps([list(c) for c in m.target_columns]), m.rows,
                          str(m.checksum), m.action))
            self.commit()
        except BaseException:
            self.rollback()
            raise

    def promote(self, pending: Publish) -> None:
        """The target committed ``pending``: its snapshots become the published ones and
        every publish before it is superseded (one warehouse transaction). The warehouse
        keeps one set of snapshots: a sync to another target publishes in full."""
        d = self.dialect
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        existing = self.snapshot_tables()
        self.begin()
        try:
            for mart in pending.marts.values():
                self._promote_snapshot(mart, existing)
            # Snapshots of marts this publish no longer records (the warehouse dropped
            # them) would only go stale.
            for name in existing:
                if name.startswith(ROWS_PREFIX) and name[len(ROWS_PREFIX):] not in pending.marts:
                    self.run(f"DROP TABLE {self.table(name)}", ())
            # The snapshots now follow this publish: whatever was published before, to this
            # target or another, can no longer be diffed against.
            self.run(f"UPDATE {self.table(PUBLISHES)} SET {quote(d, 'status')} = 'superseded' "
                     f"WHERE {quote(d, 'status')} = 'published'", ())
            self.run(f"DELETE FROM {self.table(PUBLISHED_MARTS)} WHERE "
                     f"{quote(d, 'publish_id')} IN (SELECT {quote(d, 'publish_id')} FROM "
                     f"{self.table(PUBLISHES)} WHERE {quote(d, 'status')} <> 'pending')", ())
            self.run(f"UPDATE {self.table(PUBLISHES)} SET {quote(d, 'status')} = 'published', "
                     f"{quote(d, 'finished_at')} = ? WHERE {quote(d, 'publish_id')} = ?",
                     (now, pending.publish_id))
            self.commit()
        except BaseException:
            self.rollback()
            raise
        self.drop_work_tables()

    def _promote_snapshot(self, mart: MartRecord, existing: set[str]) -> None:
        """A keyed mart's snapshot after its publish: the changes applied (``delta``), or
        the new whole snapshot (published in full); a mart without a key keeps none."""
        d = self.dialect
        rows, delta, following = (snapshot_name(prefix, mart.mart)
                                  for prefix in (ROWS_PREFIX, DELTA_PREFIX, NEXT_PREFIX))
        if mart.keys and mart.action == "delta":
            keys = list(mart.keys)
            self.run(delete_matching_sql(d, self.table(rows), self.table(delta), keys), ())
            names = column_list(d, [*keys, HASH_COLUMN])
            self.run(f"INSERT INTO {self.table(rows)} ({names}) SELECT {names} FROM "
                     f"{self.table(delta)} WHERE {quote(d, OP_COLUMN)} <> 'D'", ())
        elif mart.keys and mart.action != "keep":
            if rows in existing:
                self.run(f"DROP TABLE {self.table(rows)}", ())
            self.run(rename_table(d, STATE_SCHEMA, following, rows, self.catalog), ())
        elif not mart.keys and rows in existing:
            self.run(f"DROP TABLE {self.table(rows)}", ())

    def discard_pending(self) -> None:
        """Forget publishes that never reached their target (or that a sync to another
        target stopped; their changes were computed against snapshots about to change)."""
        d = self.dialect
        self.begin()
        try:
            self.run(f"DELETE FROM {self.table(PUBLISHED_MARTS)} WHERE "
                     f"{quote(d, 'publish_id')} IN (SELECT {quote(d, 'publish_id')} FROM "
                     f"{self.table(PUBLISHES)} WHERE {quote(d, 'status')} = 'pending')", ())
            self.run(f"DELETE FROM {self.table(PUBLISHES)} WHERE "
                     f"{quote(d, 'status')} = 'pending'", ())
            self.commit()
        except BaseException:
            self.rollback()
            raise

    def snapshot_tables(self) -> set[str]:
        rows = self.run(tables_query(self.dialect, self.catalog), (STATE_SCHEMA,))
        return {str(r[0]) for r in rows if str(r[0]) not in (PUBLISHES, PUBLISHED_MARTS)}

    def drop_work_tables(self) -> None:
        """Drop pending snapshots and deltas no pending publish needs any more."""
        for name in sorted(self.snapshot_tables()):
            if name.startswith((NEXT_PREFIX, DELTA_PREFIX)):
                self.run(f"DROP TABLE IF EXISTS {self.table(name)}", ())
        self.commit()




# --- the target's marker ------------------------------------------------------------------

def marker_create(dialect: Dialect) -> str:
    schema, name = MARKER
    text = _text(dialect)
    stamp = "TIMESTAMP" if dialect == "duckdb" else "DATETIME2(6)"
    body = f"{quote(dialect, 'publish_id')} {text}, {quote(dialect, 'published_at')} {stamp}"
    return create_table_if_missing(dialect, None, schema, name, body)


def marker_read(dialect: Dialect) -> str:
    return f"SELECT {quote(dialect, 'publish_id')} FROM {qualified(dialect, *MARKER)}"


def marker_write(dialect: Dialect) -> list[str]:
    """Statements (in the publish transaction) that make the marker name a publish; the
    last takes the publish id and the time as parameters."""
    table = qualified(dialect, *MARKER)
    return [f"DELETE FROM {table}",
            f"INSERT INTO {table} ({column_list(dialect, ['publish_id', 'published_at'])}) "
            "VALUES (?, ?)"]
