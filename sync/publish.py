"""Publish the marts: copy every table of warehouse schema ``analytics`` to the sync target.

The target is Azure SQL (or any SQL Server) in production and a second DuckDB file by
default. Dashboards read it, so it must never show a mix of old and new marts:

1. gate: every dbt node feeding the marts passed (``sync.gate``), unless ``force``;
2. leftovers of a crashed earlier run (shadows, replaced copies) are dropped;
3. each table is copied into its shadow (``sync.table_copy``) and verified: row count and
   content checksum (defined in ``sync.statements``) computed on the warehouse and
   on the shadow must match; then the volume guard (``sync.volume``): no mart
   loses more than a configured share of its published rows, unless ``force``;
4. one transaction puts every shadow live;
5. only then are the replaced copies dropped, and each mart's row count is written to the
   metrics directory (``mart_rows.prom``, a Prometheus gauge per mart).
On SQL Server / Azure SQL the shadows live in schema ``analytics_sync_stage`` (never in
``analytics``, so BI logins granted on ``analytics`` never see one, even after a crash) and
step 4 is ``ALTER SCHEMA analytics_sync_retired TRANSFER analytics.<t>`` then ``ALTER SCHEMA
analytics TRANSFER analytics_sync_stage.<t>`` per table, under ``SET LOCK_TIMEOUT``: readers
finish or wait, and a swap that cannot get its locks fails with error 1222 and is tried
again before the sync gives up. Grants on schema ``analytics`` keep applying to the new
tables; grants on single tables are not carried over (ALTER SCHEMA drops them), so grant
on the schema. On DuckDB (the demo), shadows are ``analytics.<t>__sync_shadow`` and step 4
renames. A failure before step 4 commits leaves the published tables exactly as they were.
Views in ``analytics`` are not synced: they are not part of the marts contract and would
read warehouse tables the target does not have; neither are dbt's leftovers
(``…__dbt_tmp``, ``…__dbt_backup``). Tables the warehouse no longer has stay in the target
untouched.

Azure SQL: the ``mssql://`` URL connects encrypted by default (``Encrypt=yes``, see
``deltastore.dburl``). Opening a connection is retried on transient faults (the error
numbers in ``deltastore.mssql_errors``), and so is the swap while readers' locks time out,
with the pipeline's one backoff policy (``deltastore.retry``). Any other transient fault
ends the sync with exit 1 and Argo runs the step again from the start, which is safe
because nothing is published before the swap. For Azure AD authentication add
``authentication=ActiveDirectoryMsi`` (managed identity, no password) or
``authentication=ActiveDirectoryServicePrincipal`` (user = application id, password =
client secret in ``DELTASTORE_SYNC_TARGET_PASSWORD``) to the URL. A service principal
logs in through the ODBC driver's own ``Authentication=ActiveDirectoryServicePrincipal``
keyword with ``UID``/``PWD``; managed identity sends no such keyword: the pipeline gets an
access token from azure-identity's ``ManagedIdentityCredential`` (``deltastore.entra``)
and hands it to the driver as the ``SQL_COPT_SS_ACCESS_TOKEN`` connection attribute
(``deltastore.db``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deltastore import duckdb_errors, odbc_binding
from deltastore.db import connect
from deltastore.dburl import DatabaseURL
from deltastore.errors import ConfigError, DataError, DeltaStoreError, TransientError
from deltastore.metrics import MART_ROWS, write_gauges
from deltastore.mssql_errors import classify, is_transient, native_error
from deltastore.retry import RetryPolicy, call_with_retries
from deltastore.settings import Settings
from deltastore.sql_names import qualified
from deltastore.sync import statements as sync_sql
from deltastore.sync import table_copy
from deltastore.sync.gate import check_build_gate
from deltastore.sync.preflight import require_grants
from deltastore.sync.statements import (
    MART_SCHEMA,
    OLD_SUFFIX,
    RETIRED_SCHEMA,
    SHADOW_SUFFIX,
    STAGE_SCHEMA,
    Column,
    Dialect,
)
from deltastore.sync.volume import check_volume

SWAP_LOCK_TIMEOUT_MS = 30_000  # how long the swap waits for readers' locks, per attempt
# The sync's two retry levels (see deltastore/retry.py for the attempts they add up to).
CONNECT_RETRY = RetryPolicy(attempts=5, max_seconds=300.0, base_delay=2.0, max_delay=60.0)
SWAP_RETRY = RetryPolicy(attempts=3, max_seconds=3 * SWAP_LOCK_TIMEOUT_MS / 1000 + 60.0,
                         base_delay=2.0, max_delay=8.0)
SOURCE_ALIAS = "deltastore_sync_source"  # the warehouse, attached inside a DuckDB target

# Called as hook(stage, table, target_connection) at "shadow-loaded" (before verification)
# and "swap" (inside the swap transaction, after that table's renames). Tests use it to
# inject failures; a raised exception aborts the sync like any other.
SyncHook = Callable[[str, str, Any], None]


@dataclass(frozen=True)
class TableSyncResult:
    table: str
    rows: int
    source_checksum: int
    target_checksum: int
    seconds: float

    @property
    def checksum_match(self) -> bool:
        return self.source_checksum == self.target_checksum


def sync_marts(settings: Settings, force: bool = False, run_results_path: Path | None = None,
               echo: Callable[[str], object] = print, *, hook: SyncHook | None = None,
               batched: bool | None = None,
               sleep: Callable[[float], object] = time.sleep) -> list[TableSyncResult]:
    """Copy, verify and publish every mart; returns one result per table.

    ``batched`` forces (True) or forbids (False) the row-batch copy; by default it is used
    unless both sides are DuckDB files.
    """
    check_build_gate(settings, force, echo, run_results_path)
    source, target = settings.warehouse_url, settings.sync_target_url
    for url, name in ((source, "DELTASTORE_WAREHOUSE_URL"), (target, "DELTASTORE_SYNC_TARGET_URL")):
        if url.kind not in ("duckdb", "mssql"):
            raise ConfigError(f"{name}: the sync reads and writes DuckDB or SQL Server, "
                              f"not `{url.kind}`")
    if (source.kind, source.path, source.host, source.port, source.database) == (
            target.kind, target.path, target.host, target.port, target.database):
        raise ConfigError("DELTASTORE_SYNC_TARGET_URL is the warehouse itself "
                          f"(`{target}`); point it at another database")
    use_batches = batched if batched is not None else not (
        source.kind == "duckdb" and target.kind == "duckdb")
    if not use_batches and not (source.kind == "duckdb" and target.kind == "duckdb"):
        raise ConfigError("the in-DuckDB copy needs a DuckDB warehouse and a DuckDB sync target")
    if target.kind == "mssql":
        # Every permission the statements below need, before any of them runs: a missing
        # GRANT is exit 2 with the statement that fixes it (sync/grants.py).
        call_with_retries(lambda: require_grants(target),
                          what=f"checking the grants on `{target}`", policy=CONNECT_RETRY,
                          retryable=is_transient, notify=echo, sleep=sleep)
    echo(f"sync: `{source}` schema `{MART_SCHEMA}` -> `{target}`")
    started = time.perf_counter()
    try:
        # Once per process: a transient failure past the retries below exits 1, and Argo
        # runs the whole step again (deltastore/retry.py counts the attempts).
        results = _Sync(settings, use_batches, echo, hook, sleep, force).run()
    except Exception as exc:
        error = _sync_error(exc, f"sync to `{target}`")
        if error is exc:
            raise
        raise error from (exc if type(error) is TransientError else None)
    write_gauges(settings, MART_ROWS, "deltastore_mart_rows",
                 "Rows in each published mart after the last sync.", "mart",
                 {r.table: r.rows for r in results})
    rows = sum(r.rows for r in results)
    echo(f"sync: published {len(results)} tables, {rows:,} rows "
         f"in {time.perf_counter() - started:.2f} s")
    return results


class _Sync:
    """One attempt: connections, shadows, verification and the swap."""

    def __init__(self, settings: Settings, batched: bool, echo: Callable[[str], object],
                 hook: SyncHook | None, sleep: Callable[[float], object] = time.sleep,
                 force: bool = False) -> None:
        self.settings = settings
        self.sleep = sleep
        self.force = force
        self.batched = batched
        self.echo = echo
        self.hook = hook
        self.target_dialect: Dialect = _dialect(settings.sync_target_url)
        self.source_dialect: Dialect = (_dialect(settings.warehouse_url) if batched
                                        else "duckdb")
        self.shadows: list[tuple[str, str]] = []  # (schema, name)

    def run(self) -> list[TableSyncResult]:
        target = self._connect(self.settings.sync_target_url)
        source: Any = None
        try:
            if self.batched:
                source = self._connect(self.settings.warehouse_url, read_only=True)
            else:
                _attach(target, self.settings.warehouse_url)
            tables = self._source_tables(source or target)
            results = self._publish(source, target, tables)
            try:
                self._drop_old(target, tables)
            except Exception as exc:
                # Published already: retrying the whole sync would be wasted work.
                self.echo(f"sync: the new marts are published, but dropping the old copies "
                          f"failed ({exc}); the next sync drops them")
            return results
        finally:
            if source is not None:
                source.close()
            target.close()

    def _publish(self, source: Any, target: Any, tables: list[str]) -> list[TableSyncResult]:
        """Shadows, verification and the swap; on failure the target is as it was."""
        try:
            self._prepare_target(target)
            results = [self._load_and_verify(source, target, t) for t in tables]
            check_volume(self._published_rows(target, tables), {r.table: r.rows for r in results},
                         self.settings.sync_max_drop, self.force, self.echo)
            self._swap_with_retries(target, tables)
            self.shadows = []
            return results
        except Exception:
            self._discard_shadows(target)
            raise

    # --- steps ---------------------------------------------------------------------------

    def _source_tables(self, conn: Any) -> list[str]:
        sql = sync_sql.tables_query(self.source_dialect,
                                    None if self.batched else SOURCE_ALIAS)
        tables = [r[0] for r in _fetchall(conn, sql, (MART_SCHEMA,))]
        tables = [t for t in tables if not t.endswith((SHADOW_SUFFIX, OLD_SUFFIX))
                  and not sync_sql.is_dbt_leftover(t)]
        if not tables:
            raise DataError(f"the warehouse `{self.settings.warehouse_url}` has no tables in "
                            f"schema `{MART_SCHEMA}`: run `deltastore build` first")
        return tables

    def _prepare_target(self, target: Any) -> None:
        """Create the schemas; drop shadows and old copies a crashed run left behind."""
        dialect = self.target_dialect
        schemas = [MART_SCHEMA] + ([STAGE_SCHEMA, RETIRED_SCHEMA] if dialect == "mssql" else [])
        for schema in schemas:
            _execute(target, sync_sql.create_schema(dialect, schema))
        leftovers = [(schema, r[0]) for schema in schemas
                     for r in _fetchall(target, sync_sql.tables_query(dialect), (schema,))
                     if schema != MART_SCHEMA or r[0].endswith((SHADOW_SUFFIX, OLD_SUFFIX))]
        for schema, name in leftovers:
            self.echo(f"  dropping `{schema}.{name}` left by an earlier sync")
            _execute(target, sync_sql.drop_table(dialect, schema, name))
        _commit(target, dialect)

    def _load_and_verify(self, source: Any, target: Any, table: str) -> TableSyncResult:
        started = time.perf_counter()
        shadow = sync_sql.shadow_of(self.target_dialect, table)
        self.shadows.append(shadow)
        if self.batched:
            columns = self._columns(source, self.source_dialect, MART_SCHEMA, table)
            rows_per_call = self.settings.batch_size
            if self.target_dialect == "mssql":
                columns = self._with_text_lengths(source, table, columns)
                rows_per_call = self._rows_per_call(table, columns)
            table_copy.copy_batched(source, self.source_dialect, target, self.target_dialect,
                                   table, shadow, columns, rows_per_call)
            src_rows, src_sum = _checksum(source, self.source_dialect, MART_SCHEMA, table,
                                          columns)
        else:
            table_copy.copy_attached(target, SOURCE_ALIAS, MART_SCHEMA, table, shadow[1])
            columns = self._columns(target, "duckdb", MART_SCHEMA, table, catalog=SOURCE_ALIAS)
            src_rows, src_sum = _checksum(target, "duckdb", MART_SCHEMA, table, columns,
                                          SOURCE_ALIAS, engine=True)
        _commit(target, self.target_dialect)
        if self.hook:
            self.hook("shadow-loaded", table, target)
        shadow_columns = self._columns(target, self.target_dialect, *shadow)
        rows, total = _checksum(target, self.target_dialect, *shadow, shadow_columns,
                                engine=not self.batched)
        seconds = time.perf_counter() - started
        result = TableSyncResult(table, rows, src_sum, total, seconds)
        verdict = "checksum match" if result.checksum_match else "CHECKSUM MISMATCH"
        self.echo(f"  {MART_SCHEMA}.{table}: {rows} rows, {verdict} ({total:#x}), "
                  f"{seconds:.2f} s")
        if rows != src_rows or not result.checksum_match:
            raise DataError(
                f"`{MART_SCHEMA}.{table}` differs after the copy: warehouse {src_rows} rows, "
                f"checksum `{src_sum:#x}`; target shadow {rows} rows, checksum `{total:#x}`. "
                "Nothing was published; rerun `deltastore sync` (if it repeats, a column "
                "type does not survive the copy)"
            )
        return result

    def _rows_per_call(self, table: str, columns: list[Column]) -> int:
        """Rows per insert call so that pyodbc's parameter array stays within the budget."""
        sizes = [table_copy.input_size(c) for c in columns]
        budget = self.settings.sync_max_batch_bytes
        rows = odbc_binding.rows_per_call(sizes, budget, self.settings.batch_size)
        row_bytes = odbc_binding.row_bytes(sizes)
        self.echo(f"  {MART_SCHEMA}.{table}: {row_bytes:,} bytes a row bound, {rows:,} rows "
                  f"per insert call, at most {row_bytes * rows / 2**20:.1f} MiB of parameters")
        return rows

    def _connect(self, url: DatabaseURL, read_only: bool = False) -> Any:
        """Open a connection, again on a transient fault (an Azure SQL failover, a DuckDB
        file another process holds locked)."""
        return call_with_retries(
            lambda: connect(url, read_only=read_only), what=f"connecting to `{url}`",
            policy=CONNECT_RETRY, retryable=is_transient, notify=self.echo, sleep=self.sleep)

    def _swap_with_retries(self, target: Any, tables: list[str]) -> None:
        """The swap, tried again (shadows kept) while readers' locks make it time out."""
        call_with_retries(
            lambda: self._swap(target, tables), what="the swap", policy=SWAP_RETRY,
            retryable=lambda exc: native_error(exc) == 1222, notify=self.echo,
            sleep=self.sleep,
            hint=f"readers held their locks longer than {SWAP_LOCK_TIMEOUT_MS / 1000:.0f} s "
                 "each time; nothing was published")

    def _swap(self, target: Any, tables: list[str]) -> None:
        """Publish every shadow in one transaction; any failure rolls every move back."""
        dialect = self.target_dialect
        existing = {r[0] for r in _fetchall(target, sync_sql.tables_query(dialect),
                                            (MART_SCHEMA,))}
        if dialect == "mssql":
            _execute(target, sync_sql.set_lock_timeout(SWAP_LOCK_TIMEOUT_MS))
        _begin(target, dialect)
        try:
            for table in tables:
                for statement in sync_sql.publish_statements(dialect, table, table in existing):
                    _execute(target, statement)
                if self.hook:
                    self.hook("swap", table, target)
            target.commit()
        except BaseException:
            target.rollback()
            raise
        finally:
            if dialect == "mssql":
                with contextlib.suppress(Exception):  # never hide the swap's own error
                    _execute(target, sync_sql.set_lock_timeout(-1))

    def _published_rows(self, target: Any, tables: list[str]) -> dict[str, int]:
        """Rows of each live (published) mart, before the swap replaces it."""
        dialect = self.target_dialect
        existing = {r[0] for r in _fetchall(target, sync_sql.tables_query(dialect),
                                            (MART_SCHEMA,))}
        return {t: int(_fetchall(target, "SELECT COUNT(*) FROM "
                                 + qualified(dialect, MART_SCHEMA, t))[0][0])
                for t in tables if t in existing}

    def _drop_old(self, target: Any, tables: list[str]) -> None:
        for table in tables:
            _execute(target, sync_sql.drop_table(self.target_dialect,
                                                 *sync_sql.retired_of(self.target_dialect, table)))
        _commit(target, self.target_dialect)

    def _discard_shadows(self, target: Any) -> None:
        """Best effort: the next run drops whatever this leaves behind."""
        try:
            for shadow in self.shadows:
                _execute(target, sync_sql.drop_table(self.target_dialect, *shadow))
            _commit(target, self.target_dialect)
        except Exception:  # noqa: S110 - the connection may be gone; cleanup is best effort
            pass

    # --- helpers -------------------------------------------------------------------------

    def _columns(self, conn: Any, dialect: Dialect, schema: str, table: str,
                 catalog: str | None = None) -> list[Column]:
        sql = sync_sql.columns_query(dialect, catalog)
        rows = _fetchall(conn, sql, (schema, table))
        return [sync_sql.parse_column(dialect, f"{schema}.{table}", name, data_type,
                                      precision, scale, length)
                for name, data_type, precision, scale, length in rows]

    def _with_text_lengths(self, source: Any, table: str, columns: list[Column]) -> list[Column]:
        sql = sync_sql.text_lengths_query(self.source_dialect, MART_SCHEMA, table, columns)
        if sql is None:
            return columns
        lengths = iter(_fetchall(source, sql)[0])
        return [Column(c.name, c.kind, max_length=int(next(lengths) or 0))
                if c.kind == "text" else c for c in columns]


def _dialect(url: DatabaseURL) -> Dialect:
    return "mssql" if url.kind == "mssql" else "duckdb"


def _sync_error(exc: Exception, what: str) -> DeltaStoreError:
    """What stopped the sync, as the pipeline's error of its kind; before the swap commits
    nothing is published."""
    unchanged = "the published marts were left as they were"
    if isinstance(exc, DeltaStoreError):
        return exc
    if type(exc).__module__ == "pyodbc":
        return classify(exc, f"{what} ({unchanged})")
    import duckdb

    if isinstance(exc, duckdb.Error):
        return duckdb_errors.classify(exc, what, unchanged)
    return TransientError(f"{what} failed: {exc}; {unchanged}")


def _attach(target: Any, warehouse: DatabaseURL) -> None:
    if warehouse.path is None or not warehouse.path.exists():
        raise ConfigError(f"the warehouse `{warehouse}` does not exist yet: run "
                          "`deltastore extract` and `deltastore build` first")
    import duckdb

    try:
        table_copy.attach_read_only(target, str(warehouse.path), SOURCE_ALIAS)
    except duckdb.Error as exc:
        # Typically another DuckDB instance in this process still holds the file, e.g. dbt
        # run in-process with dbt-duckdb's `keep_open: true`.
        raise duckdb_errors.classify(
            exc, f"attaching the warehouse `{warehouse}` read-only",
            "close other connections to it (dbt/profiles.yml needs `keep_open: false` for "
            "in-process runs)") from None


def _checksum(conn: Any, dialect: Dialect, schema: str, table: str, columns: list[Column],
              catalog: str | None = None, engine: bool = False) -> tuple[int, int]:
    """Row count and content checksum: DuckDB's own row hash when ``engine`` (both sides of
    the copy read by one DuckDB), else the portable one of ``statements``."""
    sql = (sync_sql.engine_checksum_query(schema, table, columns, catalog) if engine
           else sync_sql.checksum_query(dialect, schema, table, columns, catalog))
    rows, total = _fetchall(conn, sql)[0]
    return int(rows), int(total)


def _fetchall(conn: Any, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    # Straight on the connection: a DuckDB cursor is a separate connection with its own
    # transaction, which would escape the swap transaction.
    result = conn.execute(sql, params) if params else conn.execute(sql)
    return list(result.fetchall())


def _execute(conn: Any, sql: str) -> None:
    conn.execute(sql)


def _begin(conn: Any, dialect: Dialect) -> None:
    # pyodbc connections run with autocommit off: a transaction is always open.
    if dialect == "duckdb":
        conn.begin()


def _commit(conn: Any, dialect: Dialect) -> None:
    # DuckDB runs in autocommit mode outside _swap; nothing to commit there.
    if dialect == "mssql":
        conn.commit()


def published_row_counts(url: DatabaseURL) -> dict[str, int]:
    """Rows per published table in the sync target's schema ``analytics`` (for summaries)."""
    dialect = _dialect(url)
    if url.kind == "duckdb" and (url.path is None or not url.path.exists()):
        return {}
    conn = connect(url, read_only=url.kind == "duckdb")
    try:
        names = [r[0] for r in _fetchall(conn, sync_sql.tables_query(dialect), (MART_SCHEMA,))
                 if not r[0].endswith((SHADOW_SUFFIX, OLD_SUFFIX))]
        return {name: int(_fetchall(conn, "SELECT COUNT(*) FROM "
                                    + qualified(dialect, MART_SCHEMA, name))[0][0])
                for name in names}
    finally:
        conn.close()
