"""The legacy tables' columns as each database's catalog declares them, and what they hold.

Read before any row (extract/drift.py compares them with the raw-table contract):
- SQLite: ``pragma_table_info`` (name, declared type, ``notnull``); the declared type gives
  the column's affinity by the first of SQLite's five rules that matches
  (sqlite.org/datatype3.html, "Determination Of Column Affinity");
- DuckDB: ``duckdb_columns()`` (name, ``data_type`` such as ``DECIMAL(12,2)``,
  ``is_nullable``);
- SQL Server: ``sys.columns`` with ``TYPE_NAME(system_type_id)``, whose ``max_length`` is in
  bytes (an ``nvarchar(50)`` is 100, a ``(max)`` column is -1), ``precision`` and ``scale``
  are 0 for types that are not numeric, and ``is_nullable`` is a bit
  (learn.microsoft.com/sql/relational-databases/system-catalog-views/sys-columns-transact-sql).
A table the catalog does not know has no columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from deltastore.sql_names import qualified

# What a column holds, whatever the engine calls it. `any`: a SQLite column declared
# without a type, which keeps each value as it was given; the load's cast decides.
INTEGER, DECIMAL, FLOAT, TEXT, DATE, TIMESTAMP, BOOL, OTHER, ANY = (
    "integer", "decimal", "float", "text", "date", "timestamp", "bool", "other", "any")
MONEY_SCALE, MONEY_INTEGER_DIGITS = 2, 10  # the contract's `money` is DECIMAL(12,2)
BIGINT_DIGITS = 18                          # a DECIMAL(p,0) with p <= 18 fits in BIGINT


@dataclass(frozen=True)
class SourceColumn:
    name: str
    data_type: str         # as declared: `INTEGER`, `NUMERIC`, `nvarchar(50)`, `DECIMAL(12,2)`
    nullable: bool
    family: str            # one of the names above: integer, decimal, … any
    precision: int | None = None  # a decimal's digits in all; None when not declared
    scale: int | None = None      # a decimal's digits after the point


CATALOG_SQL = {
    "sqlite": "SELECT name, type, `notnull` = 0 FROM pragma_table_info(?) ORDER BY cid",
    "duckdb": ("SELECT column_name, data_type, is_nullable FROM duckdb_columns() "
               "WHERE database_name = current_database() AND schema_name = current_schema() "
               "AND table_name = ? ORDER BY column_index"),
    "mssql": ("SELECT c.name, TYPE_NAME(c.system_type_id), c.max_length, c.precision, c.scale, "
              "c.is_nullable FROM sys.columns AS c WHERE c.object_id = OBJECT_ID(?) "
              "ORDER BY c.column_id"),
}


def read_columns(connection: Any, kind: str, table: str, schema: str | None = None,
                 ) -> list[SourceColumn]:
    """The table's columns in the catalog, in their order ([] when there is no such table)."""
    name = qualified(kind, schema, table) if kind == "mssql" else table
    cursor = connection.cursor()
    try:
        cursor.execute(CATALOG_SQL[kind], [name])
        rows = cursor.fetchall()
    finally:
        cursor.close()
    if kind == "mssql":
        return [mssql_column(*row) for row in rows]
    return [column(kind, str(n), str(t or ""), bool(nullable)) for n, t, nullable in rows]


_SQL_SERVER_SIZED = {"char", "varchar", "binary", "varbinary"}
_SQL_SERVER_UNICODE = {"nchar", "nvarchar"}  # two bytes per character in max_length
_SQL_SERVER_FRACTION = {"datetime2", "datetimeoffset", "time"}


def mssql_column(name: str, type_name: str, max_length: int, precision: int, scale: int,
                 is_nullable: bool) -> SourceColumn:
    """A ``sys.columns`` row as a column, its type written as T-SQL declares it."""
    base = str(type_name).lower()
    declared = base
    if base in _SQL_SERVER_SIZED | _SQL_SERVER_UNICODE:
        size = int(max_length)
        length = "max" if size == -1 else str(size // 2 if base in _SQL_SERVER_UNICODE else size)
        declared = f"{base}({length})"
    elif base in ("decimal", "numeric"):
        declared = f"{base}({int(precision)},{int(scale)})"
    elif base in _SQL_SERVER_FRACTION:
        declared = f"{base}({int(scale)})"
    family = _family(_MSSQL_FAMILIES, base)
    digits = (int(precision), int(scale)) if family == DECIMAL else (None, None)
    return SourceColumn(str(name), declared, bool(is_nullable), family, *digits)


_MSSQL_FAMILIES = {
    INTEGER: ("bigint", "int", "smallint", "tinyint"),
    DECIMAL: ("decimal", "numeric", "money", "smallmoney"),
    FLOAT: ("float", "real"),
    TEXT: ("char", "varchar", "nchar", "nvarchar", "text", "ntext", "uniqueidentifier"),
    DATE: ("date",),
    TIMESTAMP: ("datetime", "datetime2", "smalldatetime", "datetimeoffset"),
    BOOL: ("bit",),
}
_DUCKDB_FAMILIES = {
    INTEGER: ("bigint", "integer", "smallint", "tinyint", "hugeint", "ubigint", "uinteger",
              "usmallint", "utinyint", "uhugeint"),
    DECIMAL: ("decimal", "numeric"),
    FLOAT: ("double", "float", "real"),
    TEXT: ("varchar", "uuid"),
    DATE: ("date",),
    TIMESTAMP: ("timestamp", "timestamp with time zone", "timestamp_ns", "timestamp_ms",
                "timestamp_s", "datetime"),
    BOOL: ("boolean",),
}
_NAME_AND_SIZE = re.compile(r"^\s*([a-z_ ]*?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*$")


def _family(families: dict[str, tuple[str, ...]], base: str) -> str:
    return next((f for f, names in families.items() if base in names), OTHER)


def column(kind: str, name: str, declared: str, nullable: bool) -> SourceColumn:
    """A SQLite or DuckDB column from its declared type."""
    found = _NAME_AND_SIZE.match(declared.lower())
    base, first, second = found.groups() if found else (declared.lower(), None, None)
    if kind == "sqlite":
        family = _sqlite_family(declared.upper(), base)
    else:
        family = _family(_DUCKDB_FAMILIES, base)
    precision = scale = None
    if family == DECIMAL and first is not None:
        precision, scale = int(first), int(second or 0)
    return SourceColumn(name, declared, nullable, family, precision, scale)


def _sqlite_family(upper: str, base: str) -> str:
    """SQLite's affinity rules in their order, then the NUMERIC names that say more."""
    if "INT" in upper:
        return INTEGER
    if any(word in upper for word in ("CHAR", "CLOB", "TEXT")):
        return TEXT
    if not upper.strip():
        return ANY
    if "BLOB" in upper:
        return OTHER
    if any(word in upper for word in ("REAL", "FLOA", "DOUB")):
        return FLOAT
    named = {"boolean": BOOL, "bool": BOOL, "date": DATE, "datetime": TIMESTAMP,
             "timestamp": TIMESTAMP}
    return named.get(base, DECIMAL)  # NUMERIC affinity: NUMERIC, DECIMAL(p,s), MONEY, …


def problem(col: SourceColumn, logical: str, kind: str) -> str | None:
    """Why the contract's ``logical`` column cannot take this source column's values as they
    are (None: it can)."""
    family = col.family
    if family == ANY:
        return None
    if logical == "int":
        if family == INTEGER or (family == DECIMAL and col.scale == 0
                                 and (col.precision or 0) <= BIGINT_DIGITS):
            return None
        return f"`{col.data_type}` is not a whole-number type"
    if logical == "money":
        if family != DECIMAL:
            return f"`{col.data_type}` is not a decimal type"
        if col.precision is not None and (col.scale or 0) > MONEY_SCALE:
            return (f"`{col.data_type}` keeps {col.scale} decimals and the contract's money "
                    f"column {MONEY_SCALE}: values would be rounded")
        if col.precision is not None and col.precision - (col.scale or 0) > MONEY_INTEGER_DIGITS:
            return (f"`{col.data_type}` holds {col.precision - (col.scale or 0)} digits before "
                    f"the point and the contract's money column {MONEY_INTEGER_DIGITS}")
        return None
    if logical == "float":
        return None if family in (FLOAT, INTEGER, DECIMAL) else \
            f"`{col.data_type}` is not a numeric type"
    # SQLite has no date types: dates and timestamps are text there.
    if logical in ("date", "timestamp"):
        allowed = {DATE} if logical == "date" else {DATE, TIMESTAMP}
        if family in allowed or (kind == "sqlite" and family == TEXT):
            return None
        return f"`{col.data_type}` is not a {logical} type"
    if logical == "bool":
        return None if family in (BOOL, INTEGER) else f"`{col.data_type}` is not a boolean type"
    return None if family == TEXT else f"`{col.data_type}` is not a text type"


_LANDS_AS = {INTEGER: "int", FLOAT: "float", TEXT: "text", DATE: "date",
             TIMESTAMP: "timestamp", BOOL: "bool", ANY: "text"}


def lands_as(col: SourceColumn, kind: str) -> str | None:
    """The logical type a new column lands as (None: none holds it, e.g. a BLOB).

    A decimal lands as ``money`` when it fits, else as text (its exact digits).
    """
    if col.family == DECIMAL:
        return "money" if problem(col, "money", kind) is None else "text"
    return _LANDS_AS.get(col.family)
