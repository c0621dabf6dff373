"""Export every table of schema ``analytics`` for BI tools, as CSV or Parquet files.

A DuckDB sync target writes each file with DuckDB's own ``COPY … TO`` (columnar, parallel,
no Python per row). Other targets stream: ``fetchmany(settings.batch_size)`` batches go
straight into the CSV writer or a ``pyarrow.parquet.ParquetWriter``, so memory stays flat
however big a table is. Parquet keeps the column types (decimal, date, timestamp, bool), so
an empty table still gets a typed schema.

CSV files are opened by spreadsheets, which run a cell starting with ``=``, ``+``, ``-``,
``@``, tab or carriage return as a formula, and the marts hold text customers typed
(reviews, names, emails). Both CSV paths prefix such text cells with ``'`` (OWASP's
CSV-injection rule); numbers are written as numbers. Parquet keeps every value as it is
(typed columns, no formulas): the format to use for untrusted text. Export files are
readable by their owner and group only, since they hold customers' personal data.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from deltastore.dashboards.marts import SCHEMA
from deltastore.db import connect
from deltastore.errors import ConfigError, TransientError
from deltastore.files import write_atomically
from deltastore.settings import Settings
from deltastore.sql_names import qualified, quote

log = logging.getLogger(__name__)

Format = Literal["csv", "parquet"]
FORMATS: tuple[Format, ...] = ("csv", "parquet")

# DuckDB describes columns with its type names; pyodbc with Python classes.
_DUCKDB_TYPES: dict[str, pa.DataType] = {
    "BOOLEAN": pa.bool_(), "TINYINT": pa.int8(), "SMALLINT": pa.int16(),
    "INTEGER": pa.int32(), "BIGINT": pa.int64(), "HUGEINT": pa.decimal128(38, 0),
    "UTINYINT": pa.uint8(), "USMALLINT": pa.uint16(), "UINTEGER": pa.uint32(),
    "UBIGINT": pa.uint64(), "FLOAT": pa.float32(), "DOUBLE": pa.float64(),
    "DATE": pa.date32(), "TIMESTAMP": pa.timestamp("us"), "TIMESTAMP_NS": pa.timestamp("ns"),
    "TIMESTAMP_MS": pa.timestamp("ms"), "TIMESTAMP_S": pa.timestamp("s"),
    "TIMESTAMP WITH TIME ZONE": pa.timestamp("us", tz="UTC"), "VARCHAR": pa.string(),
    "TIME": pa.time64("us"), "BLOB": pa.binary(), "UUID": pa.string(),
}
_PYTHON_TYPES: dict[type, pa.DataType] = {
    bool: pa.bool_(), int: pa.int64(), float: pa.float64(), str: pa.string(),
    dt.datetime: pa.timestamp("us"), dt.date: pa.date32(), dt.time: pa.time64("us"),
    bytes: pa.binary(), bytearray: pa.binary(),
}
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")

# What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Owner reads and writes, group reads, others nothing: exports hold personal data.
EXPORT_MODE = 0o640


def default_out_dir(settings: Settings) -> Path:
    return settings.data_dir / "exports"


def arrow_type(column: tuple[Any, ...]) -> pa.DataType:
    """The Arrow type of one cursor.description entry (DuckDB or pyodbc)."""
    type_code = column[1]
    if isinstance(type_code, type):  # pyodbc: a Python class, precision and scale alongside
        if issubclass(type_code, decimal.Decimal):
            precision, scale = column[4] or 38, column[5] or 0
            return pa.decimal128(min(int(precision), 38), int(scale))
        for python_type, arrow in _PYTHON_TYPES.items():
            if issubclass(type_code, python_type):
                return arrow
        return pa.string()
    name = str(type_code).upper()
    match = _DECIMAL.fullmatch(name)
    if match:
        return pa.decimal128(int(match[1]), int(match[2]))
    return _DUCKDB_TYPES.get(name, pa.string())


def export_marts(settings: Settings, fmt: str, out_dir: Path | None = None) -> dict[str, int]:
    """Write one file per ``analytics`` table; returns rows written per table."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown export format `{fmt}`; use `csv` or `parquet`")
    target = out_dir or default_out_dir(settings)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create `{target}`: {exc.strerror}; pass a writable --out"
        ) from None
    url = settings.sync_target_url
    connection = connect(url, read_only=True)
    counts: dict[str, int] = {}
    try:
        cursor = connection.cursor()
        # Upper case: a case-sensitive SQL Server database resolves these names as written.
        cursor.execute("select TABLE_NAME from INFORMATION_SCHEMA.TABLES "
                       "where TABLE_SCHEMA = ? order by TABLE_NAME", [SCHEMA])
        tables = [row[0] for row in cursor.fetchall()]
        if not tables:
            raise ConfigError(f"the sync target `{url}` has no tables in schema `{SCHEMA}`; "
                              "run `deltastore run` (or `deltastore sync`) first")
        for table in tables:
            counts[table] = _export_table(cursor, url.kind, table, fmt,
                                          target / f"{table}.{fmt}", settings.batch_size)
            log.info("exported %s.%s: %d rows", SCHEMA, table, counts[table])
    finally:
        connection.close()
    return counts


def _batches(cursor: Any, size: int) -> Iterator[list[tuple[Any, ...]]]:
    while True:
        rows = cursor.fetchmany(size)
        if not rows:
            return
        yield rows


def _export_table(cursor: Any, kind: str, table: str, fmt: str, path: Path,
                  batch_size: int) -> int:
    source = qualified(kind, SCHEMA, table)

    def write(temporary: Path) -> int:
        if kind == "duckdb":
            return _copy_duckdb(cursor, source, fmt, temporary)
        try:
            cursor.execute(f"select * from {source}")
        except Exception as exc:  # driver errors differ per database
            raise TransientError(f"cannot read `{SCHEMA}.{table}`: {exc}") from None
        writer = _write_csv if fmt == "csv" else _write_parquet
        return writer(cursor, cursor.description, temporary, batch_size)

    # A BI tool never reads half a file; only the owner and group read personal data.
    return write_atomically(path, write, mode=EXPORT_MODE)


def _copy_duckdb(cursor: Any, source: str, fmt: str, path: Path) -> int:
    """DuckDB writes the file itself; returns the rows written."""
    options = "FORMAT csv, HEADER" if fmt == "csv" else "FORMAT parquet"
    literal = str(path).replace("'", "''")
    try:
        columns = _safe_columns(cursor, source) if fmt == "csv" else "*"
        row = cursor.execute(f"COPY (SELECT {columns} FROM {source}) TO '{literal}' "
                             f"({options})").fetchone()
    except Exception as exc:
        raise TransientError(f"cannot export `{source}`: {exc}") from None
    return int(row[0]) if row else 0


def _safe_columns(cursor: Any, source: str) -> str:
    """The select list for DuckDB's CSV COPY: text columns neutralised as ``neutralise``
    does, every other column as it is."""
    cursor.execute(f"DESCRIBE SELECT * FROM {source}")
    starts = ", ".join(f"chr({ord(c)})" for c in FORMULA_STARTS)
    out = []
    for name, kind, *_ in cursor.fetchall():
        column = quote("duckdb", name)
        if str(kind).upper() == "VARCHAR":
            out.append(f"CASE WHEN left({column}, 1) IN ({starts}) THEN chr(39) || {column} "
                       f"ELSE {column} END AS {column}")
        else:
            out.append(column)
    return ", ".join(out)


def neutralise(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, prefixed with ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _write_csv(cursor: Any, description: Any, path: Path, batch_size: int) -> int:
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow([neutralise(column[0]) for column in description])
        for batch in _batches(cursor, batch_size):
            writer.writerows([[neutralise(value) for value in row] for row in batch])
            rows += len(batch)
    return rows


def _write_parquet(cursor: Any, description: Any, path: Path, batch_size: int) -> int:
    schema = pa.schema([pa.field(column[0], arrow_type(column)) for column in description])
    rows = 0
    with pq.ParquetWriter(str(path), schema) as writer:
        for batch in _batches(cursor, batch_size):
            columns = list(zip(*batch, strict=True))
            arrays = [pa.array(values, type=field.type)
                      for values, field in zip(columns, schema, strict=True)]
            writer.write_batch(pa.record_batch(arrays, schema=schema))
            rows += len(batch)
    return rows
