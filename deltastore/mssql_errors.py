"""SQL Server errors sorted into the pipeline's error classes by their error number.

pyodbc raises driver errors as ``pyodbc.Error(sqlstate, message)``, the message built from
the ODBC diagnostic records (pyodbc src/errors.cpp, GetErrorFromHandle): the first record as
``[SQLSTATE] <driver text> (<native error>) (<ODBC function>)`` and every further record
appended as ``; [SQLSTATE] <driver text> (<native error>)``. On Linux and macOS pyodbc reads
only the first record (the loop ends after one pass outside Windows), so a Linux pod sees
``…(2627) (SQLExecDirectW)`` where Windows shows ``…(2627) (SQLExecDirectW); [01000] …The
statement has been terminated. (3621)``; both are parsed here. pyodbc's own errors (a bound
value longer than its buffer) come the other way round, ``Error(message, sqlstate)``
(RaiseErrorV), with no number.

The server's text may contain other parenthesised numbers, so a record's number is the one
just before the function name (first record) or before the next ``; [SQLSTATE] `` (others).

Transient (retry, exit 1): deadlock, lock timeout, resource limits, Azure SQL's documented
transient faults (learn.microsoft.com/azure/azure-sql/database/troubleshoot-common-errors-
issues), a snapshot read hit by a concurrent DDL change, and lost or failed connections
(SQLSTATE class 08, timeouts) unless the driver refused the connection string or the
server's certificate. Data problems (constraint, conversion, truncation) are exit 3;
everything else (syntax, permission, missing object, login refused) is exit 2: a retry
cannot fix it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from deltastore.errors import ConfigError, DataError, DeltaStoreError, TransientError

TRANSIENT_ERRORS = frozenset({
    1205,   # chosen as deadlock victim
    1222,   # lock request time out (SET LOCK_TIMEOUT)
    1204,   # the server ran out of lock resources
    701,    # insufficient system memory to run the query
    8645,   # timed out waiting for memory resources
    3960,   # snapshot isolation aborted by an update conflict
    3961,   # snapshot isolation: the object was changed by a concurrent DDL statement
    4060,   # cannot open database (during an Azure SQL failover)
    4221,   # login to read-secondary failed (replica catching up)
    10928, 10929,  # resource limits reached
    40020, 40143, 40166, 40197, 40501, 40540, 40613,  # Azure SQL service busy / reconfiguring
    40549, 40550, 40551, 40552, 40553,  # session ended: time, locks, tempdb, log, memory
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
# Permission denied on an object, a schema, the database; CONTROL missing for a transfer.
PERMISSION_ERRORS = frozenset({229, 230, 262, 297, 300, 916, 15151, 15247})
LOGIN_FAILED = 18456
# Communication link failure, unable to connect, connection lost, timeout expired.
TRANSIENT_STATES = frozenset({"08S01", "08S02", "08001", "08004", "08007", "HYT00", "HYT01"})
# Driver texts under those states that no retry can change: the connection string itself
# (Driver 18's own validation) or a server certificate the client does not trust.
_BAD_CONNECTION_STRING = ("Invalid value specified for connection string attribute",
                          "Neither DSN nor SERVER keyword supplied")
_UNTRUSTED_CERTIFICATE = ("certificate verify failed", "SSL Provider")
_REFUSED_BY_THE_CLIENT = _BAD_CONNECTION_STRING + _UNTRUSTED_CERTIFICATE
# pyodbc's own error for a value longer than the buffer it was bound with (src/params.cpp).
_TRUNCATION = "String data, right truncation"

_FIRST = re.compile(r"\[(?P<state>[0-9A-Z]{5})\] (?P<text>.*?) \((?P<number>-?\d+)\) "
                    r"\((?P<function>SQL\w+)\)", re.S)
_MORE = re.compile(r"; \[(?P<state>[0-9A-Z]{5})\] (?P<text>.*?) \((?P<number>-?\d+)\)"
                   r"(?=; \[[0-9A-Z]{5}\] |\s*$)", re.S)
_STATE = re.compile(r"[0-9A-Z]{5}")


@dataclass(frozen=True)
class Record:
    """One ODBC diagnostic record of a driver error."""

    state: str
    text: str
    number: int


def records(message: str) -> list[Record]:
    """The diagnostic records in a pyodbc message (or in text that quotes one, such as a
    dbt node's error); empty when there is none."""
    first = _FIRST.search(message)
    if first is None:
        return []
    found = [Record(first["state"], first["text"], int(first["number"]))]
    rest = message[first.end():]
    position = 0
    while (more := _MORE.match(rest, position)) is not None:
        found.append(Record(more["state"], more["text"], int(more["number"])))
        position = more.end()
    return found


def _parts(exc: BaseException) -> tuple[str | None, str | None]:
    """(SQLSTATE, message) of a pyodbc error in either argument order; (None, None) else."""
    if type(exc).__module__ != "pyodbc":
        return None, None
    args = [str(a) for a in getattr(exc, "args", ())]
    if len(args) >= 2:
        if _STATE.fullmatch(args[0]):
            return args[0], args[1]
        if _STATE.fullmatch(args[1]):  # RaiseErrorV: (message, sqlstate)
            return args[1], args[0]
        return None, args[0]
    return None, args[0] if args else None


def error_records(exc: BaseException) -> list[Record]:
    message = _parts(exc)[1]
    return records(message) if message else []


def native_error(exc: BaseException) -> int | None:
    """The SQL Server error number of a pyodbc error: the first record's, unless that is 0
    (the driver's own errors) and a later record has one; None when there is none."""
    return next((r.number for r in error_records(exc) if r.number), None)


def sqlstate(exc: BaseException) -> str | None:
    return _parts(exc)[0]


def _class_of(state: str | None, message: str, found: list[Record]) -> type[DeltaStoreError]:
    numbers = {r.number for r in found}
    if _TRUNCATION in message:
        return DataError
    if numbers & TRANSIENT_ERRORS:
        return TransientError
    if state in TRANSIENT_STATES and not any(t in message for t in _REFUSED_BY_THE_CLIENT):
        return TransientError
    if numbers & DATA_ERRORS:
        return DataError
    return ConfigError


def is_transient(exc: BaseException) -> bool:
    """True for errors a later attempt may not hit."""
    if isinstance(exc, TransientError):
        return True
    return error_class(exc) is TransientError if type(exc).__module__ == "pyodbc" else False


def error_class(exc: BaseException) -> type[DeltaStoreError]:
    """The error class (and so the exit code) a driver error becomes."""
    state, message = _parts(exc)
    return _class_of(state, message or str(exc), error_records(exc))


def message_class(message: str) -> type[DeltaStoreError] | None:
    """The class of the SQL Server error quoted in ``message`` (a dbt node's error text);
    None when it quotes none."""
    found = records(message)
    if not found:
        return None
    return _class_of(found[0].state, message, found)


def _hint(cls: type[DeltaStoreError], number: int | None, state: str | None,
          message: str) -> str:
    if cls is TransientError:
        return "a retry may succeed"
    if cls is DataError:
        return "fix the data, then rerun"
    if number in PERMISSION_ERRORS:
        return ("not retried: grant the permission named (docs/sql-server.md, Grants; "
                "`deltastore doctor` lists what is missing)")
    if number == LOGIN_FAILED:
        return ("not retried: check the login's name and password (or that the Entra "
                "identity has a database user), then rerun")
    if "Can't open lib" in message or (state or "").startswith("IM"):
        return ("not retried: install Microsoft ODBC Driver 18 for SQL Server (package "
                "`msodbcsql18`) or name its library in the URL's `driver=` option")
    if any(t in message for t in _UNTRUSTED_CERTIFICATE):
        return ("not retried: the server's certificate is not trusted; install its CA or, "
                "for a test server only, add `trust_server_certificate=yes` to the URL")
    return "not retried: fix the SQL, the permissions or the setting, then rerun"


def classify(exc: BaseException, what: str) -> DeltaStoreError:
    """``what`` failed because of ``exc``: the matching error, with the server's message."""
    number = native_error(exc)
    cls = error_class(exc)
    state, message = _parts(exc)
    text = " ".join((message if message is not None else str(exc)).split())
    code = (f"SQL Server error {number}" if number else f"SQLSTATE {state}" if state
            else type(exc).__name__)
    return cls(f"{what} failed ({code}; {_hint(cls, number, state, text)}): {text}")


def describe(exc: BaseException) -> str:
    """One line for a driver error (doctor's output): its number or state and first text."""
    found = error_records(exc)
    if found:
        first = found[0]
        code = f"error {first.number}" if first.number else f"SQLSTATE {first.state}"
        return f"{code}: {driver_text(first.text)}"
    state, message = _parts(exc)
    return f"SQLSTATE {state}: {message}" if state else (message or type(exc).__name__)


def driver_text(text: str) -> str:
    """The server's or driver's words without the ``[vendor][driver][SQL Server]`` prefix."""
    return re.sub(r"^(\[[^\]]*\])+", "", text).strip()
