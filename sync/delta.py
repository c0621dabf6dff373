"""SQL of the incremental publish: row-hash snapshots and diffs in the warehouse, and the
statements that apply a mart's changes to its published table on the target.

A mart with a key (sync/state.py) is compared with the snapshot of its last publish by a
full outer join on the key, in the warehouse: keys only on the new side were inserted,
keys only on the old side deleted, keys on both whose row hash differs updated. The
changes land in ``meta_sync.delta__<mart>`` with both hashes, so the new checksum is the
recorded one less the old hashes plus the new ones, without hashing the table again. On
the target a change is a DELETE of the changed keys and an INSERT of the new rows, inside
the publish transaction. Pure functions of names and columns (the T-SQL is parsed in tests).
"""

from __future__ import annotations

from collections.abc import Sequence

from deltastore.sql_names import qualified, quote
from deltastore.sync.state import (
    DELTA_PREFIX,
    HASH_COLUMN,
    NEXT_PREFIX,
    OLD_HASH_COLUMN,
    OP_COLUMN,
    ROWS_PREFIX,
    STATE_SCHEMA,
)
from deltastore.sync.statements import (
    MART_SCHEMA,
    Column,
    Dialect,
    column_list,
    count_sql,
    hash_sum_sql,
    keys_match,
    row_hash_sql,
)


def _create_as(dialect: Dialect, into: str, select: str, rest: str) -> str:
    """``CREATE TABLE into AS SELECT …`` (DuckDB) or ``SELECT … INTO into`` (T-SQL)."""
    if dialect == "duckdb":
        return f"CREATE TABLE {into} AS SELECT {select} {rest}"
    return f"SELECT {select} INTO {into} {rest}"


def snapshot_sql(dialect: Dialect, catalog: str | None, mart: str, keys: Sequence[str],
                 columns: Sequence[Column], engine: bool) -> str:
    """The whole snapshot of a mart, as a pending ``next__<mart>``."""
    source = qualified(dialect, catalog, MART_SCHEMA, mart)
    into = qualified(dialect, catalog, STATE_SCHEMA, NEXT_PREFIX + mart)
    select = (f"{column_list(dialect, keys)}, {row_hash_sql(dialect, columns, engine)} "
              f"AS {quote(dialect, HASH_COLUMN)}")
    return _create_as(dialect, into, select, f"FROM {source}")


def snapshot_total_sql(dialect: Dialect, catalog: str | None, mart: str) -> str:
    """Rows and checksum of a pending whole snapshot."""
    table = qualified(dialect, catalog, STATE_SCHEMA, NEXT_PREFIX + mart)
    return (f"SELECT {count_sql(dialect)}, "
            f"{hash_sum_sql(dialect, quote(dialect, HASH_COLUMN))} FROM {table}")


def diff_sql(dialect: Dialect, catalog: str | None, mart: str, keys: Sequence[str],
             columns: Sequence[Column], engine: bool) -> str:
    """The changes between a mart and its published snapshot, as ``delta__<mart>``."""
    q = lambda name: quote(dialect, name)  # noqa: E731 - a short local alias
    source = qualified(dialect, catalog, MART_SCHEMA, mart)
    published = qualified(dialect, catalog, STATE_SCHEMA, ROWS_PREFIX + mart)
    into = qualified(dialect, catalog, STATE_SCHEMA, DELTA_PREFIX + mart)
    first = keys[0]
    merged = ", ".join(f"COALESCE({q('n')}.{q(k)}, {q('o')}.{q(k)}) AS {q(k)}" for k in keys)
    select = (f"{merged}, {q('n')}.{q(HASH_COLUMN)} AS {q(HASH_COLUMN)}, "
              f"{q('o')}.{q(HASH_COLUMN)} AS {q(OLD_HASH_COLUMN)}, "
              f"CASE WHEN {q('o')}.{q(first)} IS NULL THEN 'I' "
              f"WHEN {q('n')}.{q(first)} IS NULL THEN 'D' ELSE 'U' END AS {q(OP_COLUMN)}")
    rest = (f"FROM (SELECT {column_list(dialect, keys)}, {row_hash_sql(dialect, columns, engine)} "
            f"AS {q(HASH_COLUMN)} FROM {source}) AS {q('n')} "
            f"FULL OUTER JOIN {published} AS {q('o')} ON {keys_match(dialect, 'n', 'o', keys)} "
            f"WHERE {q('n')}.{q(first)} IS NULL OR {q('o')}.{q(first)} IS NULL "
            f"OR {q('n')}.{q(HASH_COLUMN)} <> {q('o')}.{q(HASH_COLUMN)}")
    return _create_as(dialect, into, select, rest)


def diff_summary_sql(dialect: Dialect, catalog: str | None, mart: str) -> str:
    """Per change kind: rows, sum of new hashes, sum of old hashes."""
    q = lambda name: quote(dialect, name)  # noqa: E731
    table = qualified(dialect, catalog, STATE_SCHEMA, DELTA_PREFIX + mart)
    return (f"SELECT {q(OP_COLUMN)}, {count_sql(dialect)}, "
            f"{hash_sum_sql(dialect, q(HASH_COLUMN))}, "
            f"{hash_sum_sql(dialect, q(OLD_HASH_COLUMN))} FROM {table} GROUP BY {q(OP_COLUMN)}")


def changed_rows_filter(dialect: Dialect, catalog: str | None, mart: str,
                        keys: Sequence[str], alias: str = "m") -> str:
    """A condition on the mart (alias ``alias``): rows inserted or updated since the last
    publish."""
    delta = qualified(dialect, catalog, STATE_SCHEMA, DELTA_PREFIX + mart)
    return (f"EXISTS (SELECT 1 FROM {delta} AS {quote(dialect, 'c')} WHERE "
            f"{keys_match(dialect, 'c', alias, keys)} AND "
            f"{quote(dialect, 'c')}.{quote(dialect, OP_COLUMN)} <> 'D')")


def removed_keys_sql(dialect: Dialect, catalog: str | None, mart: str,
                     keys: Sequence[str]) -> str:
    """Keys whose published row goes: deleted or updated since the last publish."""
    delta = qualified(dialect, catalog, STATE_SCHEMA, DELTA_PREFIX + mart)
    return (f"SELECT {column_list(dialect, keys)} FROM {delta} "
            f"WHERE {quote(dialect, OP_COLUMN)} <> 'I'")
