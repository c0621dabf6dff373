"""SQL Server errors sorted into the pipeline's error classes by their error number.

pyodbc raises ``pyodbc.Error(sqlstate, message)``; the message is built from the first ODBC
diagnostic record as ``[SQLSTATE] <driver text> (<native error>) (<ODBC function>)``
(pyodbc src/errors.cpp, GetErrorFromHandle), so the SQL Server error number is the number
in parentheses just before the function name at the end. Only that position is read: the
server's own text may contain other parenthesised numbers.

Transient (retry, exit 1): deadlock, lock timeout, Azure SQL's documented transient faults
(learn.microsoft.com/azure/azure-sql/database/troubleshoot-common-errors-issues), and lost
or failed connections (SQLSTATE class 08, timeouts). Data problems (constraint, conversion,
truncation) are exit 3; everything else (syntax, permission, missing object, login refused)
is exit 2: a retry cannot fix it.
"""

from __future__ import annotations

import re
from typing import Any

from deltastore.errors import ConfigError, DataError, DeltaStoreError, TransientError

TRANSIENT_ERRORS = frozenset({
    1205,   # chosen as deadlock victim
    1222,   # lock request time out (SET LOCK_TIMEOUT)
    4060,   # cannot open database (during an Azure SQL failover)
    4221,   # login to read-secondary failed (replica catching up)
    10928, 10929,  # resource limits reached
    40020, 40143, 40166, 40197, 40501, 40540, 40613,  # Azure SQL service busy / reconfiguring
    49918, 49919, 49920,  # too many operations in progress
    10053, 10054, 10060, 233, 64, -2,  # transport: connection aborted, reset, timed out
    2714,   # object already exists: two per-table extract pods created a shared table at once
})
DATA_ERRORS = frozenset({
    241, 242,      # date/time conversion failed / out of range
    245, 8114,     # conversion of a value failed
    515,           # NULL into a NOT NULL column
    547,           # foreign key / check constraint
    2601, 2627,    # duplicate key
    2628, 8152,    # string or binary data would be truncated
    8115,          # arithmetic overflow
})
# Communication link failure, unable to connect, connection lost, timeout expired.
TRANSIENT_STATES = frozenset({"08S01", "08S02", "08001", "08004", "08007", "HYT00", "HYT01"})
_NATIVE_RE = re.compile(r"\((-?\d+)\) \(SQL\w+\)\s*$")


def native_error(exc: BaseException) -> int | None:
    """The SQL Server error number of a pyodbc error, or None (not pyodbc, or no number)."""
    message = _parts(exc)[1]
    if message is None:
        return None
    match = _NATIVE_RE.search(message)
    return int(match.group(1)) if match else None


def sqlstate(exc: BaseException) -> str | None:
    return _parts(exc)[0]


def _parts(exc: BaseException) -> tuple[str | None, str | None]:
    if type(exc).__module__ != "pyodbc":
        return None, None
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    if len(args) >= 2:
        return str(args[0]), str(args[1])
    return None, str(args[0]) if args else None


def is_transient(exc: BaseException) -> bool:
    """True for errors a later attempt may not hit."""
    if isinstance(exc, TransientError):
        return True
    if type(exc).__module__ != "pyodbc":
        return False
    number = native_error(exc)
    return number in TRANSIENT_ERRORS or sqlstate(exc) in TRANSIENT_STATES


def error_class(exc: BaseException) -> type[DeltaStoreError]:
    """The error class (and so the exit code) a driver error becomes."""
    if is_transient(exc):
        return TransientError
    if native_error(exc) in DATA_ERRORS:
        return DataError
    return ConfigError


def classify(exc: BaseException, what: str) -> DeltaStoreError:
    """``what`` failed because of ``exc``: the matching error, with the server's message."""
    number = native_error(exc)
    cls = error_class(exc)
    state, message = _parts(exc)
    text = message if message is not None else str(exc)
    text = " ".join(text.split())
    hint = {TransientError: "a retry may succeed",
            DataError: "fix the data, then rerun"}.get(cls, "not retried: fix the SQL, the "
                                                         "permissions or the setting, then rerun")
    code = f"SQL Server error {number}" if number is not None else f"SQLSTATE {state}"
    return cls(f"{what} failed ({code}; {hint}): {text}")
