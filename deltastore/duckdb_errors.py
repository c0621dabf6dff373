"""DuckDB errors sorted into the pipeline's error classes by their exception class.

DuckDB has no error numbers: its Python package raises one exception class per error type
of the engine (DuckDB's Python package, ``exceptions.cpp``, RegisterExceptions), under the
DB-API classes of PEP 249 (``duckdb.DataError``, ``IntegrityError``, ``OperationalError`` …),
so the class says what went wrong, as the error number does for SQL Server
(``deltastore/mssql_errors.py``).

- Data (exit 3, fix the data): a constraint violated (``ConstraintException``: duplicate
  key, NULL into NOT NULL), a value that does not convert or fit (``duckdb.DataError``:
  ``ConversionException``, ``OutOfRangeException``, ``TypeMismatchException``), and input
  DuckDB cannot read as what it was told (``InvalidInputException``: malformed JSON or CSV).
- Transient (exit 1, a retry may succeed): I/O (``IOException``: another process holds the
  file's lock, a full or failing disk), a transaction that lost a write-write conflict to a
  concurrent one (``TransactionException``, DuckDB's optimistic concurrency control), and
  a database that invalidated itself after such a failure (``FatalException``; a new
  process opens it afresh).
- Configuration (exit 2, fix the SQL, the files or the settings; everything else): missing
  table or schema (``CatalogException``), SQL that does not parse or bind
  (``ParserException``, ``BinderException``), no permission (``PermissionException``), two
  connections of one process to one file with different options (``ConnectionException``),
  and running out of memory (``OutOfMemoryException``): the same data needs the same memory
  on a retry, as Argo's policy says of an OOM-killed pod, so raise
  ``DELTASTORE_DUCKDB_MEMORY_LIMIT`` or the pod's limit instead.
"""

from __future__ import annotations

from deltastore.errors import ConfigError, DataError, DeltaStoreError, TransientError, first_line


def error_class(exc: BaseException) -> type[DeltaStoreError]:
    """The error class (and so the exit code) a DuckDB error becomes."""
    import duckdb

    if isinstance(exc, DeltaStoreError):
        return type(exc)
    if isinstance(exc, duckdb.OutOfMemoryException):
        return ConfigError
    if isinstance(exc, (duckdb.ConstraintException, duckdb.DataError,
                        duckdb.InvalidInputException)):
        return DataError
    if isinstance(exc, (duckdb.IOException, duckdb.TransactionException,
                        duckdb.FatalException)):
        return TransientError
    return ConfigError


def is_transient(exc: BaseException) -> bool:
    """True for errors a later attempt may not hit."""
    return error_class(exc) is TransientError


_HINTS = {TransientError: "a retry may succeed", DataError: "fix the data, then rerun"}


def classify(exc: BaseException, what: str, note: str = "") -> DeltaStoreError:
    """``what`` failed because of ``exc``: the matching error, with DuckDB's first line and
    ``note`` (what was left behind, or how to fix it)."""
    cls = error_class(exc)
    hint = _HINTS.get(cls, "not retried: fix the SQL, the files or the setting, then rerun")
    return cls(f"{what} failed (DuckDB {type(exc).__name__}; {hint}): {first_line(exc)}"
               + (f"; {note}" if note else ""))
