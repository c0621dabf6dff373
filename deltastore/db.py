"""Connections and type names for the three kinds of database the pipeline talks to.

Every caller opens databases through ``connect`` so that SQL Server's ODBC options,
file creation and driver errors are handled in one place.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from deltastore import duckdb_errors, mssql_errors
from deltastore.dburl import AUTH_MSI, DatabaseURL
from deltastore.entra import SQL_COPT_SS_ACCESS_TOKEN, managed_identity_token, token_attribute
from deltastore.errors import ConfigError, DeltaStoreError
from deltastore.limits import available_cpus, duckdb_memory_limit
from deltastore.mssql_errors import classify

# Logical column types (deltastore/schemas.py) per database.
_TYPES: dict[str, dict[str, str]] = {
    "duckdb": {"int": "BIGINT", "text": "VARCHAR", "money": "DECIMAL(12,2)", "float": "DOUBLE",
               "date": "DATE", "timestamp": "TIMESTAMP", "bool": "BOOLEAN"},
    "sqlite": {"int": "INTEGER", "text": "TEXT", "money": "NUMERIC", "float": "REAL",
               "date": "TEXT", "timestamp": "TEXT", "bool": "INTEGER"},
    "mssql": {"int": "BIGINT", "text": "NVARCHAR(4000)", "money": "DECIMAL(12,2)",
              "float": "FLOAT", "date": "DATE", "timestamp": "DATETIME2(6)", "bool": "BIT"},
}


def column_type(kind: str, logical: str) -> str:
    """The column type for a logical type on a database kind."""
    try:
        return _TYPES[kind][logical]
    except KeyError:
        raise ValueError(f"no `{logical}` type for `{kind}`") from None


# DuckDB's memory_limit and threads for every connection this process opens. One process
# shares an open DuckDB file only between connections of the same configuration, so it is
# set once, from the settings (configure_duckdb), with the container's limits as default.
_DUCKDB_CONFIG: dict[str, Any] = {}


def configure_duckdb(memory_limit: str, threads: int) -> None:
    _DUCKDB_CONFIG.update(memory_limit=memory_limit, threads=threads)


def duckdb_config() -> dict[str, Any]:
    if not _DUCKDB_CONFIG:
        configure_duckdb(duckdb_memory_limit(), available_cpus())
    return dict(_DUCKDB_CONFIG)


def connect(url: DatabaseURL, *, read_only: bool = False, autocommit: bool = False) -> Any:
    """Open a DB-API connection; file databases and their folders are created on first use.

    ``read_only`` opens DuckDB files without taking the writer lock (readers may then run
    while another process writes to another file). SQL Server connections get
    ``fast_executemany``-friendly settings; the caller sets it on the cursor.
    """
    if url.kind == "duckdb":
        import duckdb

        assert url.path is not None
        if read_only and not url.path.exists():
            raise ConfigError(f"`{url}` does not exist yet; run the step that creates it first")
        url.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return duckdb.connect(str(url.path), read_only=read_only, config=duckdb_config())
        except duckdb.Error as exc:
            # Typically another process holds the file's write lock (IOException): worth a
            # retry later.
            raise duckdb_errors.classify(exc, f"opening `{url}`") from None
    if url.kind == "sqlite":
        assert url.path is not None
        if read_only:
            if not url.path.exists():
                raise ConfigError(
                    f"`{url}` does not exist; create it with `deltastore demo-data legacy` "
                    "or point the URL at an existing database"
                )
            return sqlite3.connect(f"file:{url.path}?mode=ro", uri=True)
        url.path.parent.mkdir(parents=True, exist_ok=True)
        return sqlite3.connect(str(url.path), isolation_level=None if autocommit else "DEFERRED")
    if url.kind == "mssql":
        try:
            import pyodbc
        except ImportError as exc:
            raise ConfigError(
                f"SQL Server needs pyodbc and unixODBC ({exc}); "
                "install with `apt-get install unixodbc` and `pip install pyodbc`"
            ) from None
        connection_string, options = odbc_connect_args(url)
        try:
            return pyodbc.connect(connection_string, autocommit=autocommit, **options)
        except pyodbc.Error as exc:
            # By number and state, whatever pyodbc's class: a login refused during an
            # Azure SQL failover (InterfaceError, 28000) is worth a retry, a driver that
            # is missing (01000/IM002) or a string it refuses (08001) is not.
            raise classify(exc, f"connecting to `{url}`") from None
    raise ConfigError(f"unsupported database `{url}`")


def odbc_connect_args(url: DatabaseURL) -> tuple[str, dict[str, Any]]:
    """``pyodbc.connect`` arguments for a SQL Server URL: the string and keyword options.

    ``timeout`` is the login timeout (SQL_ATTR_LOGIN_TIMEOUT); managed identity adds the
    access token as ``attrs_before`` (see deltastore/entra.py).
    """
    options: dict[str, Any] = {}
    if url.login_timeout:
        options["timeout"] = url.login_timeout
    connection_string = url.odbc_connection_string()
    if url.authentication == AUTH_MSI:
        token = managed_identity_token(url.user)
        options["attrs_before"] = {SQL_COPT_SS_ACCESS_TOKEN: token_attribute(token.token)}
    return connection_string, options


def driver_errors(kind: str) -> tuple[type[Exception], ...]:
    """The errors the driver of a database kind raises (SQLite, DuckDB, SQL Server's pyodbc)."""
    if kind == "sqlite":
        return (sqlite3.Error,)
    if kind == "mssql":
        import pyodbc

        return (pyodbc.Error,)
    import duckdb

    return (duckdb.Error,)


def classified(kind: str, exc: Exception, what: str, note: str = "") -> DeltaStoreError:
    """A driver's error as the pipeline's error of its kind (and exit code)."""
    if kind == "mssql":
        error = mssql_errors.classify(exc, what)
        return type(error)(f"{error}; {note}") if note else error
    return duckdb_errors.classify(exc, what, note)
