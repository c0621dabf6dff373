"""The legacy watermark as a typed SQL Server parameter, never as text.

Text would be converted to the column's type by the server: a ``datetime`` column refuses
more than three fractional digits (Msg 241) and the text's meaning depends on the login's
DATEFORMAT. So the stored watermark (ISO text, see ``legacy_db.watermark_text``) is parsed
back into a ``datetime`` and bound with ``cursor.setinputsizes`` as the column's own type:

- ``datetime``: SQL_TYPE_TIMESTAMP, size 23, 3 digits; ``smalldatetime``: size 16, 0 digits;
- ``datetime2(p)``: size 20 + p (19 for p = 0), p digits;
- ``datetimeoffset(p)``: the value in UTC, bound as ``datetime2(p)``; SQL Server compares a
  ``datetimeoffset`` with a ``datetime2`` as the same instant at offset +00:00.

The value is cut (never rounded up) to the digits the type keeps, because the driver
rejects extra digits (SQLSTATE 22008) and a value rounded up could skip rows; cutting can
only re-read rows at the watermark itself, which the merge absorbs.
(Sizes per learn.microsoft.com/sql/relational-databases/native-client-odbc-date-time/
data-type-support-for-odbc-date-and-time-improvements; pyodbc applies them in
src/params.cpp ``UpdateParamInfo``.)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

SQL_TYPE_TIMESTAMP = 93  # ODBC sqlext.h; pyodbc.SQL_TYPE_TIMESTAMP
SQL_SS_TIMESTAMPOFFSET = -155  # msodbcsql.h: the datetimeoffset column type

COLUMN_TYPE_SQL = ("SELECT DATA_TYPE, DATETIME_PRECISION FROM INFORMATION_SCHEMA.COLUMNS "
                   "WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND COLUMN_NAME = ?")
_TYPES = ("datetime", "smalldatetime", "datetime2", "datetimeoffset")


def parse_watermark(text: str) -> dt.datetime:
    """A stored watermark as a naive UTC ``datetime`` (aware values are converted)."""
    value = dt.datetime.fromisoformat(text.strip())
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def watermark_parameter(text: str, data_type: str, precision: int | None
                        ) -> tuple[dt.datetime, tuple[int, int, int]]:
    """The value to bind and its ``setinputsizes`` entry (SQL type, size, digits)."""
    data_type = data_type.lower()
    if data_type not in _TYPES:
        raise ValueError(f"a watermark column must be one of {', '.join(_TYPES)}, "
                         f"not `{data_type}`")
    value = parse_watermark(text)
    if data_type == "smalldatetime":
        return value.replace(second=0, microsecond=0), (SQL_TYPE_TIMESTAMP, 16, 0)
    digits = 3 if data_type == "datetime" else (7 if precision is None else int(precision))
    keep = 10 ** (6 - min(digits, 6))
    value = value.replace(microsecond=value.microsecond // keep * keep)
    return value, (SQL_TYPE_TIMESTAMP, 20 + digits if digits else 19, digits)


def datetimeoffset_as_utc(raw: bytes) -> dt.datetime:
    """Output converter for ``datetimeoffset`` (pyodbc has none): the instant, naive UTC.

    The bytes are SQL_SS_TIMESTAMPOFFSET_STRUCT: year, month, day, hour, minute, second
    (int16 each), fraction in nanoseconds (uint32), offset hours and minutes (int16 each).
    """
    import struct

    year, month, day, hour, minute, second, nanos, off_h, off_m = struct.unpack("<6hI2h", raw)
    local = dt.datetime(year, month, day, hour, minute, second, nanos // 1000)
    return local - dt.timedelta(hours=off_h, minutes=off_m)


def add_converters(connection: Any) -> None:
    """Let a pyodbc connection read ``datetimeoffset`` columns (as naive UTC)."""
    connection.add_output_converter(SQL_SS_TIMESTAMPOFFSET, datetimeoffset_as_utc)
