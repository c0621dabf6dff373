"""Stream the legacy store's tables out of its database in constant memory.

The same DB-API code reads SQLite and DuckDB files and SQL Server through pyodbc (all
three accept ``?`` parameters). Tables with a watermark column (``Table.watermark``) are
read incrementally over an overlapping window, ``where updated_at >= <last watermark -
look-back>``: a row committed after a run read its batch, with an ``updated_at`` equal to
(or a little below) the saved watermark, is read by the next run, and the merge by primary
key absorbs the rows read twice. Their deletions are found by streaming the primary keys
(``keys_sql``). The others are copied whole every run. On SQL Server, tables with Change
Tracking enabled are read through ``sources.change_tracking`` instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from deltastore.db import connect
from deltastore.dburl import DatabaseURL
from deltastore.errors import ConfigError, DeltaStoreError, TransientError, first_line
from deltastore.extract.sources import change_tracking
from deltastore.extract.sources.legacy_catalog import SourceColumn, read_columns
from deltastore.extract.sources.mssql_watermark import (
    COLUMN_TYPE_SQL,
    add_converters,
    watermark_parameter,
)
from deltastore.mssql_errors import classify
from deltastore.schemas import Table
from deltastore.sql_names import qualified, quote

MAKE_DEMO = "run `deltastore demo-data legacy` to generate the demo legacy database"
# SQL Server's schema of the old store's tables (DELTASTORE_LEGACY_DB_SCHEMA); SQLite and
# DuckDB files have none.
MSSQL_SCHEMA = "dbo"


def source_table(kind: str, table: Table, schema: str = MSSQL_SCHEMA) -> str:
    """The table's name in the legacy database, quoted."""
    return qualified(kind, schema if kind == "mssql" else None, table.name)


def select_sql(kind: str, table: Table, incremental: bool, schema: str = MSSQL_SCHEMA) -> str:
    """The read statement; ``incremental`` adds the watermark filter with one parameter."""
    columns = ", ".join(quote(kind, c) for c in table.column_names)
    sql = f"SELECT {columns} FROM {source_table(kind, table, schema)}"
    if incremental:
        if table.watermark is None:
            raise ValueError(f"{table.qualified_name} has no watermark column")
        sql += f" WHERE {quote(kind, table.watermark)} >= ?"
    return sql


def keys_sql(kind: str, table: Table, schema: str = MSSQL_SCHEMA) -> str:
    """Every primary key in the source: rows the warehouse has and this lacks were deleted."""
    columns = ", ".join(quote(kind, c) for c in table.primary_key)
    return f"SELECT {columns} FROM {source_table(kind, table, schema)}"


def window_start(watermark: str, lookback_seconds: float) -> str:
    """Where an incremental read starts: ``lookback_seconds`` before the saved watermark.

    The text keeps the watermark's own layout (separator, precision) so SQLite, which
    compares timestamps as text, orders it correctly. A watermark that is not a timestamp
    is used as it is (the window still includes it: ``>=``).
    """
    try:
        moment = dt.datetime.fromisoformat(watermark)
    except ValueError:
        return watermark
    start = moment - dt.timedelta(seconds=lookback_seconds)
    return start.isoformat(sep="T" if "T" in watermark else " ")


def watermark_text(value: Any) -> str:
    """A watermark as stored in ``meta.load_state``: text that the source compares correctly.

    SQLite keeps timestamps as text, so its own text is kept verbatim (reformatting it
    could change how it sorts against the stored values); datetimes become ISO text.
    """
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return str(value)


def max_watermark(values: Sequence[Any], current: str | None) -> str | None:
    """The larger of ``current`` and the largest non-null value of a batch's watermark column."""
    present = [v for v in values if v is not None]
    if not present:
        return current
    batch_max = watermark_text(max(present))
    if current is None:
        return batch_max
    return max(current, batch_max)


class LegacyReader:
    """Reads raw tables from the legacy DB; use as a context manager.

    SQL Server is read with pyodbc ``fetchmany``, not arrow-odbc's Arrow batches, although
    arrow-odbc reads large tables faster (1.8x at scale 100, through one driver manager;
    slower on small tables, whose buffers it allocates up front: bench_mssql_read.py, which
    mssql.yml also runs against SQL Server). arrow-odbc 10.6 connects from a connection
    string, user and password only, so the managed-identity login (an access token set
    before connecting, deltastore/db.py) cannot go through it, and it binds parameters as
    text only, where the incremental read binds the watermark typed as its column
    (mssql_watermark.py).
    """

    def __init__(self, url: DatabaseURL, batch_size: int = 50_000,
                 schema: str = MSSQL_SCHEMA) -> None:
        self.url = url
        self.batch_size = batch_size
        self.schema = schema
        self._connection: Any = None

    def __enter__(self) -> LegacyReader:
        if self.url.kind in ("sqlite", "duckdb"):
            assert self.url.path is not None
            if not self.url.path.exists():
                raise ConfigError(f"legacy database `{self.url}` does not exist; {MAKE_DEMO}, "
                                  "or set DELTASTORE_LEGACY_DB_URL to an existing database")
        self._open()
        return self

    def _open(self) -> Any:
        if self._connection is None:
            self._connection = connect(self.url, read_only=True)
            if self.url.kind == "mssql":
                add_converters(self._connection)
        return self._connection

    def __exit__(self, *exc: object) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def catalog(self, tables: Sequence[Table]) -> dict[str, list[SourceColumn]]:
        """Each table's columns as the database's catalog declares them, read before any
        row; a table the database lacks is a ConfigError (the URL or schema is wrong)."""
        found: dict[str, list[SourceColumn]] = {}
        for table in tables:
            try:
                found[table.name] = read_columns(self._open(), self.url.kind, table.name,
                                                 self.schema)
            except Exception as exc:  # each driver has its own error classes
                if type(exc).__module__ == "pyodbc":
                    # By its number: a lost connection or a failover is retried, a
                    # permission is a setting to fix.
                    raise classify(exc, f"reading the columns of `{table.name}` from "
                                        f"`{self.url}`") from None
                raise ConfigError(f"cannot read the columns of `{table.name}` from "
                                  f"`{self.url}` ({first_line(exc)}); point "
                                  f"DELTASTORE_LEGACY_DB_URL at the old store's database or "
                                  f"{MAKE_DEMO}") from None
        missing = [name for name, columns in found.items() if not columns]
        if missing:
            # SQL Server shows a login only the tables it holds a permission on.
            where = (f" in schema `{self.schema}` that its login may read"
                     if self.url.kind == "mssql" else "")
            raise ConfigError(
                f"legacy database `{self.url}` has no table "
                f"{', '.join(f'`{n}`' for n in missing)}{where}; point DELTASTORE_LEGACY_DB_URL "
                f"(and DELTASTORE_LEGACY_DB_SCHEMA) at the old store's database, grant the "
                f"login SELECT on it, or {MAKE_DEMO}")
        return found

    def change_tracked(self, table: Table) -> bool:
        """Whether SQL Server Change Tracking is on for the table (never for files)."""
        if self.url.kind != "mssql" or not table.primary_key:
            return False
        try:
            return change_tracking.is_tracked(
                self._open(), source_table(self.url.kind, table, self.schema))
        except Exception as exc:
            raise _read_error(exc, f"checking Change Tracking on `{table.name}` in "
                                   f"`{self.url}`") from None

    def read_changes(self, table: Table, saved: str | None,
                     on_rows: Callable[[list[tuple[Any, ...]]], None],
                     on_deleted: Callable[[list[tuple[Any, ...]]], None],
                     ) -> change_tracking.ChangeRead:
        """Changes since the saved ``ct:<version>`` (or the whole table), in one snapshot."""
        return change_tracking.read_changes(
            self._open(), table, source_table(self.url.kind, table, self.schema), saved,
            self.batch_size, on_rows, on_deleted)

    def batches(self, table: Table, since: str | None) -> Iterator[list[tuple[Any, ...]]]:
        """Yield lists of at most ``batch_size`` rows (columns in ``table`` order)."""
        incremental = since is not None
        sql = select_sql(self.url.kind, table, incremental, self.schema)
        yield from self._stream(table, sql, since if incremental else None)

    @property
    def reads_arrow(self) -> bool:
        """Whether ``arrow_batches`` works here: SQLite files, through the ADBC driver."""
        return self.url.kind == "sqlite"

    def arrow_batches(self, table: Table, since: str | None) -> Iterator[Any]:
        """The rows as Arrow record batches, read by ADBC's SQLite driver (C, no Python
        tuples): several times faster than ``batches``. Each column's type is taken from
        its first values, so a column whose values change type mid-table raises
        ``MixedTypes``; ``batches`` reads any table. Nothing else in this process may
        have the file open meanwhile (see below); other processes may write to it."""
        sql = select_sql(self.url.kind, table, since is not None, self.schema)
        yield from self._arrow_stream(table, sql, since)

    def arrow_key_batches(self, table: Table) -> Iterator[Any]:
        """The primary key of every row as Arrow record batches: ``key_batches`` through
        ADBC, without a Python tuple per key (a quarter of the time: docs/performance.md);
        same conditions as ``arrow_batches``."""
        yield from self._arrow_stream(table, keys_sql(self.url.kind, table, self.schema), None)

    def _arrow_stream(self, table: Table, sql: str, since: str | None) -> Iterator[Any]:
        import adbc_driver_sqlite.dbapi as adbc

        assert self.url.path is not None
        # The driver has its own copy of SQLite: never keep the file open through two
        # copies in one process (SQLite's file locks are per process; one copy closing the
        # file drops the other's). The sqlite3 connection is opened again when needed.
        self.__exit__()
        connection = adbc.connect(str(self.url.path))
        try:
            cursor = connection.cursor()
            cursor.adbc_statement.set_options(
                **{"adbc.sqlite.query.batch_rows": str(self.batch_size)})
            try:
                cursor.execute(sql, (since,) if since is not None else None)
                yield from cursor.fetch_record_batch()
            except (adbc.Error, OSError) as exc:  # the batch reader raises Arrow's OSError
                if "Type mismatch" in str(exc):
                    raise MixedTypes(str(exc)) from None
                raise TransientError(f"reading `{table.name}` from `{self.url}` failed: "
                                     f"{first_line(exc)}") from None
            finally:
                cursor.close()
        finally:
            connection.close()

    def key_batches(self, table: Table) -> Iterator[list[tuple[Any, ...]]]:
        """Yield the primary keys of every row, in batches (constant memory)."""
        yield from self._stream(table, keys_sql(self.url.kind, table, self.schema), None)

    def _stream(self, table: Table, sql: str, since: str | None,
                ) -> Iterator[list[tuple[Any, ...]]]:
        """Run ``sql`` (with the watermark as its one parameter unless None) in batches."""
        cursor = self._open().cursor()
        try:
            try:
                if since is not None:
                    cursor.execute(sql, (self._watermark_parameter(cursor, table, since),))
                else:
                    cursor.execute(sql)
            except Exception as exc:
                raise _read_error(exc, f"reading `{table.name}` from `{self.url}`") from None
            while True:
                try:
                    rows = cursor.fetchmany(self.batch_size)
                except Exception as exc:
                    raise _read_error(exc, f"reading `{table.name}` from `{self.url}`") from None
                if not rows:
                    return
                yield rows
        finally:
            cursor.close()

    def _watermark_parameter(self, cursor: Any, table: Table, since: Any) -> Any:
        """SQL Server: the watermark typed as its column (extract/sources/mssql_watermark.py);
        SQLite and DuckDB compare the stored text as they always have."""
        if self.url.kind != "mssql":
            return since
        cursor.execute(COLUMN_TYPE_SQL, (self.schema, table.name, table.watermark))
        found = cursor.fetchone()
        if found is None:
            raise ConfigError(f"legacy table `{self.schema}.{table.name}` has no column "
                              f"`{table.watermark}`; check DELTASTORE_LEGACY_DB_SCHEMA")
        try:
            value, size = watermark_parameter(str(since), str(found[0]), found[1])
        except ValueError as exc:
            raise ConfigError(f"`{self.schema}.{table.name}.{table.watermark}`: {exc}") from None
        cursor.setinputsizes([size])
        return value


class MixedTypes(Exception):
    """A SQLite column holds values of more than one type (``arrow_batches`` cannot)."""


def _read_error(exc: Exception, what: str) -> Exception:
    """Driver errors by their SQL Server number (deltastore/mssql_errors.py); others transient."""
    if isinstance(exc, DeltaStoreError):
        return exc
    if type(exc).__module__ == "pyodbc":
        return classify(exc, what)
    return TransientError(f"{what} failed: {first_line(exc)}")

