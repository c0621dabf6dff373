"""SQL text for the mart sync, per dialect (DuckDB and T-SQL): types, DDL, checksums.

Everything here is a pure function of names and column descriptions, so the T-SQL that only
runs against a real SQL Server (in GitHub Actions) is unit-tested here by parsing it.

Content checksum (the same value on both sides of a sync):

1. Render every value as canonical text: integers and decimals in plain decimal notation
   with the column's scale (``12.50``, ``-0.50``); floats rounded to 6 decimal places as
   ``decimal(38,6)``; dates ``YYYY-MM-DD``; timestamps ``YYYY-MM-DD HH:MM:SS.ffffff``
   (time-zone-aware ones first converted to UTC); booleans ``1``/``0``; text as is;
   NULL as ``\\N``.
2. Join a row's renderings in column order with the unit separator (U+001F) and take the
   MD5 of its UTF-8 bytes (T-SQL: the string is converted to a UTF-8 collated ``varchar``,
   which needs SQL Server 2019+ or Azure SQL).
3. Hex digits 2 to 16 of the digest, read as a 60-bit unsigned integer, are the row hash;
   the table checksum is the sum of the row hashes (order-independent), compared together
   with the row count.
Known limit: a float within 1e-17 of a rounding boundary may render differently on SQL
Server, which converts floats through 17 significant digits.

A copy between two DuckDB files, which one DuckDB process reads on both sides, is checked
with DuckDB's own row hash instead (``engine_checksum_query``): about ten times cheaper,
since nothing is rendered as text, and just as exact for a copy that never leaves the
engine. Only the portable checksum compares across engines.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from deltastore.errors import DataError
from deltastore.sql_names import literal, qualified, quote

Dialect = Literal["duckdb", "mssql"]
Kind = Literal["int", "wideint", "decimal", "float", "text", "date", "timestamp", "timestamptz",
               "bool"]

MART_SCHEMA = "analytics"
# SQL Server targets: shadows are loaded into STAGE_SCHEMA and published with
# ALTER SCHEMA … TRANSFER; replaced tables wait in RETIRED_SCHEMA until they are dropped.
# Neither schema is granted to BI logins, so a shadow is never visible to them.
STAGE_SCHEMA = "analytics_sync_stage"
RETIRED_SCHEMA = "analytics_sync_retired"
# DuckDB targets (the demo) cannot move a table between schemas: shadows stay in
# MART_SCHEMA under these suffixes and are published by renames.
SHADOW_SUFFIX = "__sync_shadow"
OLD_SUFFIX = "__sync_old"
NULL_TEXT = "\\N"
SEPARATOR = "\x1f"
# Hex digits 2..16 of the MD5 digest = the low 60 bits of its first 8 bytes.
HASH_MASK = (1 << 60) - 1
# Above this many UTF-16 code units a text column becomes NVARCHAR(MAX) on SQL Server.
NVARCHAR_LIMIT = 4000


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    precision: int | None = None  # decimal only
    scale: int | None = None      # decimal only
    max_length: int | None = None  # text only, when known: longest value in UTF-16 units


# --- reading column types --------------------------------------------------------------

_DUCKDB_KINDS: dict[str, Kind] = {
    "TINYINT": "int", "SMALLINT": "int", "INTEGER": "int", "BIGINT": "int",
    "UTINYINT": "int", "USMALLINT": "int", "UINTEGER": "int",
    "UBIGINT": "wideint", "HUGEINT": "wideint", "UHUGEINT": "wideint",
    "FLOAT": "float", "DOUBLE": "float", "VARCHAR": "text", "DATE": "date",
    "TIMESTAMP": "timestamp", "TIMESTAMP_S": "timestamp", "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP_NS": "timestamp", "TIMESTAMP WITH TIME ZONE": "timestamptz", "BOOLEAN": "bool",
}
_MSSQL_KINDS: dict[str, Kind] = {
    "tinyint": "int", "smallint": "int", "int": "int", "bigint": "int",
    "decimal": "decimal", "numeric": "decimal", "money": "decimal", "smallmoney": "decimal",
    "float": "float", "real": "float", "nvarchar": "text", "varchar": "text", "nchar": "text",
    "char": "text", "ntext": "text", "text": "text", "date": "date", "datetime2": "timestamp",
    "datetime": "timestamp", "smalldatetime": "timestamp", "datetimeoffset": "timestamptz",
    "bit": "bool",
}
_DECIMAL_RE = re.compile(r"^(?:DECIMAL|NUMERIC)\((\d+),\s*(\d+)\)$")


def parse_column(dialect: Dialect, table: str, name: str, data_type: str,
                 precision: int | None = None, scale: int | None = None,
                 max_length: int | None = None) -> Column:
    """A column from an ``information_schema.columns`` row; unsupported types raise DataError."""
    if dialect == "duckdb":
        match = _DECIMAL_RE.match(data_type.upper())
        if match:
            return Column(name, "decimal", int(match[1]), int(match[2]))
        kind = _DUCKDB_KINDS.get(data_type.upper())
    else:
        kind = _MSSQL_KINDS.get(data_type.lower())
        if kind == "decimal":
            return Column(name, "decimal", precision or 19, scale or 0)
        if kind == "text" and max_length is not None and max_length < 0:
            max_length = None  # (MAX)
    if kind is None:
        raise DataError(
            f"column `{table}.{name}` has type `{data_type}`, which the sync cannot copy; "
            "cast it to a number, text, date, timestamp or boolean in the dbt model"
        )
    return Column(name, kind, max_length=max_length if kind == "text" else None)


def _duckdb_catalog(catalog: str | None) -> str:
    # DuckDB's information_schema spans every attached database: pin the one meant.
    if catalog is None:
        return "table_catalog = current_database()"
    return f"table_catalog = {literal(catalog)}"


def columns_query(dialect: Dialect, catalog: str | None = None) -> str:
    """Columns of one table in order; parameters: schema, table."""
    if dialect == "duckdb":
        return ("select column_name, data_type, numeric_precision, numeric_scale, "
                "character_maximum_length from information_schema.columns "
                f"where {_duckdb_catalog(catalog)} and table_schema = ? and table_name = ? "
                "order by ordinal_position")
    return ("SELECT COLUMN_NAME, DATA_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE, "
            "CHARACTER_MAXIMUM_LENGTH FROM INFORMATION_SCHEMA.COLUMNS "
            "WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION")


def tables_query(dialect: Dialect, catalog: str | None = None) -> str:
    """Base tables (not views) of one schema; parameter: schema."""
    if dialect == "duckdb":
        return ("select table_name from information_schema.tables "
                f"where {_duckdb_catalog(catalog)} and table_schema = ? "
                "and table_type = 'BASE TABLE' order by table_name")
    return ("SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES "
            "WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME")


def table_exists_query(dialect: Dialect, catalog: str | None = None) -> str:
    """1 when the table exists, else 0; parameters: schema, table. Upper case on SQL
    Server: a case-sensitive database names its catalog views so."""
    if dialect == "duckdb":
        return ("select count(*) from information_schema.tables "
                f"where {_duckdb_catalog(catalog)} and table_schema = ? and table_name = ?")
    return ("SELECT COUNT(*) FROM INFORMATION_SCHEMA.TABLES "
            "WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?")


# --- names and DDL -----------------------------------------------------------------------

def target_type(dialect: Dialect, column: Column) -> str:
    """The column type a synced column gets on the target; values keep their exact value."""
    kind = column.kind
    if kind == "decimal":
        return f"DECIMAL({column.precision},{column.scale})"
    if dialect == "duckdb":
        return {"int": "BIGINT", "wideint": "HUGEINT", "float": "DOUBLE", "text": "VARCHAR",
                "date": "DATE", "timestamp": "TIMESTAMP", "timestamptz": "TIMESTAMP",
                "bool": "BOOLEAN"}[kind]
    if kind == "text":
        short = column.max_length is not None and column.max_length <= NVARCHAR_LIMIT
        return "NVARCHAR(4000)" if short else "NVARCHAR(MAX)"
    # Time-zone-aware values are copied as UTC (see select_for_copy).
    return {"int": "BIGINT", "wideint": "DECIMAL(38,0)", "float": "FLOAT", "date": "DATE",
            "timestamp": "DATETIME2(6)", "timestamptz": "DATETIME2(6)", "bool": "BIT"}[kind]


def create_schema(dialect: Dialect, schema: str, catalog: str | None = None) -> str:
    if dialect == "duckdb":
        return f"create schema if not exists {qualified(dialect, catalog, schema)}"
    return (f"IF SCHEMA_ID({literal(schema, national=True)}) IS NULL "
            f"EXEC({literal(f'CREATE SCHEMA {quote(dialect, schema)}', national=True)})")


def create_table_if_missing(dialect: Dialect, catalog: str | None, schema: str, table: str,
                            body: str) -> str:
    """``CREATE TABLE`` with the column definitions ``body``, unless the table exists."""
    name = qualified(dialect, catalog, schema, table)
    if dialect == "duckdb":
        return f"CREATE TABLE IF NOT EXISTS {name} ({body})"
    return (f"IF OBJECT_ID({literal(f'{schema}.{table}', national=True)}, N'U') IS NULL "
            f"CREATE TABLE {name} ({body})")


def create_table(dialect: Dialect, schema: str, table: str, columns: Sequence[Column],
                 types: Sequence[str] | None = None) -> str:
    """CREATE TABLE with ``types`` (declared types, one per column) or ``target_type``."""
    declared = list(types) if types is not None else [target_type(dialect, c) for c in columns]
    body = ", ".join(f"{quote(dialect, c.name)} {t} NULL"
                     for c, t in zip(columns, declared, strict=True))
    return f"CREATE TABLE {qualified(dialect, schema, table)} ({body})"


# SQL Server: an index key holds at most 900 bytes (clustered); bytes per value by kind.
INDEX_KEY_BYTES = 900
_KEY_BYTES = {"int": 8, "wideint": 17, "decimal": 17, "float": 8, "date": 3, "timestamp": 8,
              "timestamptz": 8, "bool": 1}


def primary_key(schema: str, table: str, keys: Sequence[Column],
                types: dict[str, str]) -> list[str]:
    """T-SQL: make a loaded table's key its clustered primary key (its columns NOT NULL
    first), or nothing when the key's longest values would not fit an index key."""
    size = sum(2 * (c.max_length or 0) if c.kind == "text" else _KEY_BYTES[c.kind]
               for c in keys)
    if not keys or size > INDEX_KEY_BYTES or any(
            c.kind == "text" and text_limit(types[c.name]) is None for c in keys):
        return []
    target = qualified("mssql", schema, table)
    statements = [f"ALTER TABLE {target} ALTER COLUMN {quote('mssql', c.name)} "
                  f"{types[c.name]} NOT NULL" for c in keys]
    statements.append(f"ALTER TABLE {target} ADD CONSTRAINT {quote('mssql', 'pk_' + table)} "
                      f"PRIMARY KEY CLUSTERED ({column_list('mssql', [c.name for c in keys])})")
    return statements


def described_columns_query(dialect: Dialect, catalog: str | None = None) -> str:
    """Columns of one table with what their declared type is made of; parameters: schema,
    table. Rows: name, data type, precision, scale, length, datetime precision."""
    if dialect == "duckdb":
        return ("select column_name, data_type, numeric_precision, numeric_scale, "
                "character_maximum_length, null from information_schema.columns "
                f"where {_duckdb_catalog(catalog)} and table_schema = ? and table_name = ? "
                "order by ordinal_position")
    return ("SELECT COLUMN_NAME, DATA_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE, "
            "CHARACTER_MAXIMUM_LENGTH, DATETIME_PRECISION FROM INFORMATION_SCHEMA.COLUMNS "
            "WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION")


def declared_type(dialect: Dialect, data_type: str, precision: Any = None, scale: Any = None,
                  length: Any = None, datetime_precision: Any = None) -> str:
    """A column's declared type as ``target_type`` writes it, from its description."""
    if dialect == "duckdb":
        return str(data_type).upper()
    name = str(data_type).lower()
    if name in ("decimal", "numeric"):
        return f"DECIMAL({precision},{scale})"
    if name in ("nvarchar", "varchar", "nchar", "char"):
        return f"{name.upper()}({'MAX' if length is None or int(length) < 0 else int(length)})"
    if name in ("datetime2", "datetimeoffset", "time"):
        return f"{name.upper()}({datetime_precision})"
    return name.upper()


def text_limit(declared: str) -> int | None:
    """The most characters a declared text type holds (None: no limit that matters)."""
    match = re.match(r"^N?(?:VAR)?CHAR\((\d+)\)$", declared.upper())
    return int(match[1]) if match else None


def drop_table(dialect: Dialect, schema: str, table: str) -> str:
    return f"DROP TABLE IF EXISTS {qualified(dialect, schema, table)}"


def rename_table(dialect: Dialect, schema: str, table: str, new_name: str,
                 catalog: str | None = None) -> str:
    """Rename within the schema; both dialects allow it inside a transaction."""
    if dialect == "duckdb":
        return (f"ALTER TABLE {qualified(dialect, catalog, schema, table)} "
                f"RENAME TO {quote(dialect, new_name)}")
    old = qualified(dialect, schema, table)
    return f"EXEC sp_rename {literal(old, national=True)}, {literal(new_name, national=True)}"


def insert_rows(dialect: Dialect, schema: str, table: str, columns: Sequence[Column]) -> str:
    """Parameterised INSERT for DB-API ``executemany`` (qmark style on both drivers)."""
    names = ", ".join(quote(dialect, c.name) for c in columns)
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {qualified(dialect, schema, table)} ({names}) VALUES ({marks})"


def copy_expression(dialect: Dialect, column: Column, alias: str | None = None) -> str:
    """How a column is read for the copy, and how the checksum reads it before rendering it:
    one expression for both, so what is copied is what was checksummed.

    SQL Server: timestamps as DATETIME2(6) (a ``datetime`` keeps 1/300 s, a ``datetime2(7)``
    100 ns; the server rounds both, where pyodbc would truncate), aware ones converted to
    UTC first; decimals (``money`` and ``smallmoney`` too) as DECIMAL(p,s), the target's
    type, whose text has all its scale's digits. DuckDB: aware timestamps as UTC, wide
    integers as DECIMAL(38,0).
    """
    col = (f"{quote(dialect, alias)}." if alias else "") + quote(dialect, column.name)
    kind = column.kind
    if dialect == "duckdb":
        if kind == "timestamptz":
            return f"timezone('UTC', {col})"
        if kind == "wideint":
            return f"CAST({col} AS DECIMAL(38,0))"
        return col
    if kind == "timestamp":
        return f"CAST({col} AS DATETIME2(6))"
    if kind == "timestamptz":
        return f"CAST(SWITCHOFFSET({col}, '+00:00') AS DATETIME2(6))"
    if kind == "decimal":
        return f"CAST({col} AS DECIMAL({column.precision},{column.scale}))"
    return col


def select_for_copy(dialect: Dialect, schema: str, table: str,
                    columns: Sequence[Column], where: str = "") -> str:
    """Read a source table for the batched copy (``copy_expression`` per column); ``where``
    (a condition on alias ``m``) keeps only some rows."""
    parts = []
    for c in columns:
        expr = copy_expression(dialect, c, "m")
        plain = f"{quote(dialect, 'm')}.{quote(dialect, c.name)}"
        parts.append(expr if expr == plain else f"{expr} AS {quote(dialect, c.name)}")
    sql = (f"SELECT {', '.join(parts)} FROM {qualified(dialect, schema, table)} "
           f"AS {quote(dialect, 'm')}")
    return sql + (f" WHERE {where}" if where else "")


def text_lengths_query(dialect: Dialect, schema: str, table: str,
                       columns: Sequence[Column], where: str = "") -> str | None:
    """Longest value of each text column in UTF-16 code units (what NVARCHAR(n) and pyodbc's
    bound buffers count); None without text columns.

    DuckDB counts code points: a code point above U+FFFF takes two units, so those are
    counted twice. SQL Server: DATALENGTH of the NVARCHAR value, in bytes, halved (LEN
    would drop trailing spaces). ``where`` as in ``select_for_copy``.
    """
    texts = [c for c in columns if c.kind == "text"]
    if not texts:
        return None
    if dialect == "duckdb":
        body = ", ".join(
            f"MAX(2 * length({quote(dialect, c.name)}) - length(regexp_replace("
            f"{quote(dialect, c.name)}, '[\\x{{10000}}-\\x{{10FFFF}}]', '', 'g')))"
            for c in texts)
    else:
        body = ", ".join(f"MAX(DATALENGTH(CAST({quote(dialect, c.name)} AS NVARCHAR(MAX))) / 2)"
                         for c in texts)
    sql = f"SELECT {body} FROM {qualified(dialect, schema, table)} AS {quote(dialect, 'm')}"
    return sql + (f" WHERE {where}" if where else "")


def shadow_of(dialect: Dialect, table: str) -> tuple[str, str]:
    """(schema, name) of a table's shadow on the target."""
    return (STAGE_SCHEMA, table) if dialect == "mssql" else (MART_SCHEMA, table + SHADOW_SUFFIX)


def keys_stage_of(table: str) -> tuple[str, str]:
    """(schema, name) of the staged keys a delta deletes from a table (SQL Server)."""
    return (STAGE_SCHEMA, table + "__keys")


def retired_of(dialect: Dialect, table: str) -> tuple[str, str]:
    """(schema, name) where the replaced copy of a table waits to be dropped."""
    return (RETIRED_SCHEMA, table) if dialect == "mssql" else (MART_SCHEMA, table + OLD_SUFFIX)


def transfer_table(schema: str, table: str, to_schema: str) -> str:
    """T-SQL: move a table to another schema. Object-level permissions on it are dropped
    (schema-level grants of the new schema apply), per ALTER SCHEMA's documentation."""
    return (f"ALTER SCHEMA {quote('mssql', to_schema)} TRANSFER "
            f"{qualified('mssql', schema, table)}")


def publish_statements(dialect: Dialect, table: str, live_exists: bool) -> list[str]:
    """Statements (run inside the swap transaction) that put a table's shadow live."""
    statements = []
    if dialect == "mssql":
        if live_exists:
            statements.append(transfer_table(MART_SCHEMA, table, RETIRED_SCHEMA))
        statements.append(transfer_table(STAGE_SCHEMA, table, MART_SCHEMA))
        return statements
    if live_exists:
        statements.append(rename_table(dialect, MART_SCHEMA, table, table + OLD_SUFFIX))
    statements.append(rename_table(dialect, MART_SCHEMA, table + SHADOW_SUFFIX, table))
    return statements


def keys_match(dialect: Dialect, left: str, right: str, keys: Sequence[str]) -> str:
    """``left.k = right.k AND …``; ``left``/``right`` are aliases or qualified names. Key
    columns are proven NOT NULL (transform/lineage.py), so plain equality is exact."""
    def ref(owner: str, column: str) -> str:
        prefix = owner if owner.startswith(('"', "[")) else quote(dialect, owner)
        return f"{prefix}.{quote(dialect, column)}"
    return " AND ".join(f"{ref(left, k)} = {ref(right, k)}" for k in keys)


def delete_matching_sql(dialect: Dialect, target: str, source: str, keys: Sequence[str],
                        condition: str = "") -> str:
    """Delete the rows of ``target`` whose key is in ``source`` (both qualified names);
    ``condition`` further restricts the source rows (alias ``c``)."""
    where = f"{keys_match(dialect, 'c', 't', keys)}" + (f" AND {condition}" if condition else "")
    exists = f"EXISTS (SELECT 1 FROM {source} AS {quote(dialect, 'c')} WHERE {where})"
    if dialect == "duckdb":
        return f"DELETE FROM {target} AS {quote(dialect, 't')} WHERE {exists}"
    return f"DELETE {quote(dialect, 't')} FROM {target} AS {quote(dialect, 't')} WHERE {exists}"


def insert_select_sql(dialect: Dialect, target: str, source: str, names: Sequence[str],
                      where: str = "") -> str:
    """``INSERT INTO target (names) SELECT names FROM source AS m [WHERE where]``."""
    columns = column_list(dialect, names)
    sql = (f"INSERT INTO {target} ({columns}) SELECT {column_list(dialect, names, 'm')} "
           f"FROM {source} AS {quote(dialect, 'm')}")
    return sql + (f" WHERE {where}" if where else "")


def delete_all_sql(dialect: Dialect, target: str) -> str:
    """Every row of a published table, inside the publish transaction (TRUNCATE would fail
    on a table that a foreign key references)."""
    return f"DELETE FROM {target}"


def column_list(dialect: Dialect, names: Sequence[str], alias: str | None = None) -> str:
    prefix = f"{quote(dialect, alias)}." if alias else ""
    return ", ".join(prefix + quote(dialect, n) for n in names)


def set_deadlock_priority(level: str) -> str:
    """T-SQL: who loses a deadlock; the publish asks to win it (HIGH) over BI readers."""
    return f"SET DEADLOCK_PRIORITY {level}"


def set_lock_timeout(milliseconds: int) -> str:
    """T-SQL: how long a statement waits for a lock before failing with error 1222."""
    return f"SET LOCK_TIMEOUT {int(milliseconds)}"


# --- checksum ---------------------------------------------------------------------------

def _render(dialect: Dialect, column: Column) -> str:
    col = quote(dialect, column.name)
    kind = column.kind
    if dialect == "duckdb":
        return {
            "int": f"CAST({col} AS VARCHAR)",
            "wideint": f"CAST({col} AS VARCHAR)",
            "decimal": f"CAST({col} AS VARCHAR)",
            "float": f"CAST(CAST(CAST({col} AS DOUBLE) AS DECIMAL(38,6)) AS VARCHAR)",
            "text": f"CAST({col} AS VARCHAR)",
            "date": f"strftime({col}, '%Y-%m-%d')",
            "timestamp": f"strftime(CAST({col} AS TIMESTAMP), '%Y-%m-%d %H:%M:%S.%f')",
            "timestamptz": f"strftime(timezone('UTC', {col}), '%Y-%m-%d %H:%M:%S.%f')",
            "bool": f"CAST(CAST({col} AS INTEGER) AS VARCHAR)",
        }[kind]
    read = copy_expression(dialect, column)
    return {
        "int": f"CAST({read} AS NVARCHAR(40))",
        "wideint": f"CAST({read} AS NVARCHAR(40))",
        "decimal": f"CAST({read} AS NVARCHAR(50))",
        "float": f"CAST(CAST({read} AS DECIMAL(38,6)) AS NVARCHAR(50))",
        "text": f"CAST({read} AS NVARCHAR(MAX))",
        "date": f"CONVERT(NVARCHAR(10), {read}, 23)",
        "timestamp": f"CONVERT(NVARCHAR(26), {read}, 121)",
        "timestamptz": f"CONVERT(NVARCHAR(26), {read}, 121)",
        "bool": f"CAST({read} AS NVARCHAR(10))",
    }[kind]


def row_hash_sql(dialect: Dialect, columns: Sequence[Column], engine: bool = False) -> str:
    """One row's hash: the portable one of the module docstring (an integer below 2^60),
    or DuckDB's own ``hash`` of the row when ``engine`` (DuckDB only)."""
    if engine:
        return f"hash({', '.join(quote('duckdb', c.name) for c in columns)})"
    if dialect == "duckdb":
        pieces = [f"coalesce({_render(dialect, c)}, '\\N')" for c in columns]
        row = " || chr(31) || ".join(pieces)
        return f"CAST('0x' || substr(md5({row}), 2, 15) AS BIGINT)"
    # COALESCE, not ISNULL: ISNULL would cut the NULL marker to the first argument's length.
    pieces = [f"COALESCE({_render(dialect, c)}, N'\\N')" for c in columns]
    row = "CAST(N'' AS NVARCHAR(MAX)) + " + " + NCHAR(31) + ".join(pieces)
    utf8 = f"CONVERT(VARCHAR(MAX), ({row}) COLLATE Latin1_General_100_BIN2_UTF8)"
    # The mask is cast: T-SQL reads integer literals above int's range as decimal.
    return (f"CAST(SUBSTRING(HASHBYTES('MD5', {utf8}), 1, 8) AS BIGINT) "
            f"& CAST({HASH_MASK} AS BIGINT)")


def hash_sum_sql(dialect: Dialect, expression: str) -> str:
    """The sum of row hashes, exact on either engine (0 for no rows)."""
    if dialect == "duckdb":
        return f"coalesce(sum({expression}), 0)"
    return f"COALESCE(SUM(CAST({expression} AS DECIMAL(38,0))), 0)"


def count_sql(dialect: Dialect) -> str:
    """``COUNT_BIG(*)`` on SQL Server: COUNT(*) is an int and overflows above 2^31 rows."""
    return "COUNT_BIG(*)" if dialect == "mssql" else "count(*)"


def row_count_query(dialect: Dialect, *names: str | None) -> str:
    return f"SELECT {count_sql(dialect)} FROM {qualified(dialect, *names)}"


def checksum_query(dialect: Dialect, schema: str, table: str, columns: Sequence[Column],
                   catalog: str | None = None) -> str:
    """``SELECT row_count, checksum FROM table`` with the checksum defined in the docstring."""
    source = qualified(dialect, catalog, schema, table)
    total = hash_sum_sql(dialect, row_hash_sql(dialect, columns))
    return f"SELECT {count_sql(dialect)}, {total} FROM {source}"


def engine_checksum_query(schema: str, table: str, columns: Sequence[Column],
                          catalog: str | None = None) -> str:
    """DuckDB only: row count and the sum of DuckDB's ``hash`` of every row."""
    total = hash_sum_sql("duckdb", row_hash_sql("duckdb", columns, engine=True))
    return f"SELECT count(*), {total} FROM {qualified('duckdb', catalog, schema, table)}"


def render_value(value: Any, column: Column) -> str:
    """The canonical text of one value (reference implementation of step 1, for tests)."""
    if value is None:
        return NULL_TEXT
    kind = column.kind
    if kind == "bool":
        return "1" if value else "0"
    if kind == "float":
        return str(decimal.Decimal(float(value)).quantize(decimal.Decimal("0.000001"),
                                                          rounding=decimal.ROUND_HALF_UP))
    if kind == "date":
        return value.isoformat()
    if kind in ("timestamp", "timestamptz"):
        if kind == "timestamptz" and value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return str(value)


def row_hash(values: Sequence[Any], columns: Sequence[Column]) -> int:
    # A checksum that must equal SQL's md5, not a security use: FIPS-mode OpenSSL allows it
    # only when told so.
    text = SEPARATOR.join(render_value(v, c) for v, c in zip(values, columns, strict=True))
    return int(hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()[1:16], 16)


def checksum_rows(rows: Iterable[Sequence[Any]], columns: Sequence[Column]) -> tuple[int, int]:
    """Row count and checksum computed in Python, exactly as ``checksum_query`` defines it."""
    count = total = 0
    for row in rows:
        count += 1
        total += row_hash(row, columns)
    return count, total
