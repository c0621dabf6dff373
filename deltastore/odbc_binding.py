"""How much memory pyodbc's ``fast_executemany`` takes per call, and how to bound it.

pyodbc (src/params.cpp ``ExecuteMulti``) allocates one parameter array for the whole call:
``rows x row_length`` bytes, where a row holds, per parameter, a value buffer and an 8-byte
length indicator (SQLLEN). The value buffer comes from the bound type (``DetectCType``):
text ``2 x size`` bytes (UTF-16), text of size 0 (``NVARCHAR(MAX)``) a 16-byte
data-at-execution slot, BIGINT and FLOAT 8, DECIMAL 19 (SQL_NUMERIC_STRUCT), DATE 6,
DATETIME2 16 (SQL_TIMESTAMP_STRUCT), BIT 1. The size of a text parameter is what
``SQLDescribeParam`` says unless ``cursor.setinputsizes`` says otherwise: an
``NVARCHAR(4000)`` column costs 8,008 bytes a row unless it is bound at its real length.

So writers bind text at the longest value they will send and split their rows so that no
call exceeds a byte budget (DELTASTORE_SYNC_MAX_BATCH_BYTES).
"""

from __future__ import annotations

from collections.abc import Sequence

# ODBC SQL type codes (sql.h / sqlext.h; the same numbers as pyodbc's constants).
SQL_WVARCHAR = -9
SQL_BIGINT = -5
SQL_DECIMAL = 3
SQL_DOUBLE = 8
SQL_TYPE_DATE = 91
SQL_TYPE_TIMESTAMP = 93
SQL_BIT = -7

InputSize = tuple[int, int, int]  # (SQL type, column size, decimal digits)

INDICATOR_BYTES = 8  # SQLLEN on 64-bit
DAE_BYTES = 16       # pyodbc's DAEParam: a pointer and a SQLLEN
_FIXED = {SQL_BIGINT: 8, SQL_DOUBLE: 8, SQL_DECIMAL: 19, SQL_TYPE_DATE: 6,
          SQL_TYPE_TIMESTAMP: 16, SQL_BIT: 1}


def text_size(units: int | None, limit: int = 4000) -> InputSize:
    """A text parameter sized to its longest value (UTF-16 units); above ``limit``, MAX."""
    if units is None or units > limit:
        return (SQL_WVARCHAR, 0, 0)
    return (SQL_WVARCHAR, max(1, units), 0)


def buffer_bytes(size: InputSize) -> int:
    sqltype, column_size, _ = size
    if sqltype == SQL_WVARCHAR:
        return 2 * column_size if column_size else DAE_BYTES
    return _FIXED[sqltype]


def row_bytes(sizes: Sequence[InputSize]) -> int:
    """Bytes one row takes in pyodbc's parameter array."""
    return sum(buffer_bytes(s) + INDICATOR_BYTES for s in sizes)


def rows_per_call(sizes: Sequence[InputSize], max_bytes: int, max_rows: int) -> int:
    """The most rows one ``executemany`` may carry within ``max_bytes`` (at least one)."""
    return max(1, min(max_rows, max_bytes // max(1, row_bytes(sizes))))


def utf16_units(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (what a bound NVARCHAR buffer holds)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)
