"""Extract-load orchestration: run a source into the warehouse and report per table.

``run_extract`` is what ``deltastore extract`` calls. The store API is landed completely
(NDJSON files) before the warehouse is touched, then its four tables are merged in one
transaction, so a failing endpoint leaves the warehouse as it was. Legacy tables are
streamed into a stage and merged one table per transaction, each with its
``meta.load_state`` row (which carries the watermark for the next incremental read: the
newest ``updated_at`` really read). An incremental legacy read also stages every primary
key of the source, so rows deleted there are marked ``_deleted_at`` on every run.

Before anything is loaded, each source's shape is compared with its contract
(extract/drift.py): a change that stops the source raises a DataError (exit 3) naming
every such change; the others travel with the loads, which record them in the warehouse.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from deltastore.errors import ConfigError
from deltastore.extract.drift import (
    EVOLVE,
    LEGACY_DB,
    STORE_API,
    RejectedField,
    TablePlan,
    not_recorded,
    plan_legacy_table,
    stop_error,
    store_new_field_changes,
    store_reject_changes,
)
from deltastore.extract.sources.change_tracking import PREFIX as CT_PREFIX
from deltastore.extract.sources.change_tracking import version_of
from deltastore.extract.sources.legacy_db import (
    LegacyReader,
    MixedTypes,
    max_watermark,
    window_start,
)
from deltastore.extract.sources.prefetch import BackgroundSink
from deltastore.extract.sources.store_api import (
    DEFAULT_PAGE_SIZE,
    StoreApiClient,
    redact_url,
)
from deltastore.extract.sources.store_landing import TABLES, Landing, land_store_api
from deltastore.extract.warehouse import (
    Batch,
    MergeCounts,
    RejectRow,
    TableLoad,
    Warehouse,
    open_warehouse,
)
from deltastore.extract.warehouse.base import keys_table
from deltastore.extract.warehouse.duckdb import DuckDBWarehouse
from deltastore.metrics import SCHEMA_CHANGES_METRIC, write_schema_changes
from deltastore.retry import RetryPolicy
from deltastore.schema_changes import LANDED, SchemaChange
from deltastore.schemas import NEW_STORE_TABLES, OLD_STORE_TABLES, Table
from deltastore.settings import Settings

log = logging.getLogger(__name__)

SOURCES = (STORE_API, LEGACY_DB, "all")
__all__ = ["LEGACY_DB", "SCHEMA_CHANGES_METRIC", "SOURCES", "STORE_API", "run_extract"]
PROGRESS_SECONDS = 5.0


@dataclass(frozen=True)
class TableResult:
    table: str           # qualified raw table name
    source: str
    rows_read: int
    inserted: int
    updated: int
    deleted: int
    rejected: int
    seconds: float
    changes: tuple[SchemaChange, ...] = ()  # schema changes found this run, not before

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds > 0 else 0.0


class Progress:
    """Passes messages on at most every ``interval`` seconds (unless forced)."""

    def __init__(self, emit: Callable[[str], None] | None, interval: float = PROGRESS_SECONDS):
        self.emit = emit
        self.interval = interval
        self._last = time.monotonic()

    def __call__(self, message: str, force: bool = False) -> None:
        now = time.monotonic()
        if self.emit is not None and (force or now - self._last >= self.interval):
            self._last = now
            self.emit(message)

    def rows(self, table: str, rows: int) -> None:
        self(f"{table}: {rows:,} rows read")


def new_batch() -> Batch:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return Batch(f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}", now)


def run_extract(settings: Settings, source: str = "all", full_refresh: bool = False,
                progress: Callable[[str], None] | None = None,
                retry: RetryPolicy | None = None,
                page_size: int = DEFAULT_PAGE_SIZE,
                tables: Sequence[str] = ()) -> list[TableResult]:
    """Extract ``source`` (`store-api`, `legacy-db` or `all`) into the warehouse.

    ``tables`` limits the legacy extract to those tables (Argo runs one pod per table).

    ``retry`` overrides the backoff (tests use tiny delays); attempts and total time come
    from the settings otherwise. Raises a DeltaStoreError whose exit code the CLI returns.
    """
    if source not in SOURCES:
        raise ConfigError(f"unknown source `{source}`; use one of {', '.join(SOURCES)}")
    legacy_tables = legacy_tables_named(tables)
    if tables and source != LEGACY_DB:
        raise ConfigError("--table applies to the legacy tables only: add `--source legacy-db`")
    report = Progress(progress)
    batch = new_batch()
    results: list[TableResult] = []
    if source in (STORE_API, "all"):
        policy = retry or RetryPolicy(attempts=settings.http_retries,
                                      max_seconds=settings.http_retry_seconds)
        results += extract_store_api(settings, batch, report, policy, page_size)
    if source in (LEGACY_DB, "all"):
        results += extract_legacy_db(settings, batch, report, full_refresh, legacy_tables)
    return results


def legacy_tables_named(names: Sequence[str]) -> tuple[Table, ...]:
    """The legacy tables called ``names`` (all of them for none); a typo is a usage error."""
    if not names:
        return OLD_STORE_TABLES
    known = {t.name: t for t in OLD_STORE_TABLES}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"unknown legacy table {', '.join(f'`{n}`' for n in unknown)}; "
                          f"the tables are {', '.join(f'`{n}`' for n in known)}")
    return tuple(known[n] for n in dict.fromkeys(names))


def extract_store_api(settings: Settings, batch: Batch, report: Progress, retry: RetryPolicy,
                      page_size: int = DEFAULT_PAGE_SIZE) -> list[TableResult]:
    """Land the whole API snapshot, then merge its four tables in one transaction."""
    directory = settings.data_dir / "landing" / batch.batch_id
    report(f"{STORE_API}: reading {redact_url(settings.store_api_url)}", force=True)
    with StoreApiClient(settings.store_api_url, timeout=settings.http_timeout, retry=retry,
                        page_size=page_size) as client:
        try:
            landing = land_store_api(client, directory, report.rows,
                                     land_new_fields=settings.schema_changes == EVOLVE)
        except Exception:
            shutil.rmtree(directory, ignore_errors=True)
            raise
    try:
        results = _load_landing(settings, batch, landing, report)
    except Exception:
        log.warning("landing files kept for inspection in %s", directory)
        raise
    shutil.rmtree(directory, ignore_errors=True)
    return results


def _load_landing(settings: Settings, batch: Batch, landing: Landing,
                  report: Progress) -> list[TableResult]:
    warehouse = open_warehouse(settings.warehouse_url)
    try:
        warehouse.ensure_tables(NEW_STORE_TABLES)
        found = store_api_changes(settings, landing)
        recorded = warehouse.schema_history(STORE_API).recorded
        _publish_changes(settings, warehouse, batch, STORE_API,
                         [c for changes in found.values() for c in changes], recorded)
        loads = []
        for landed in landing.tables.values():
            started = time.monotonic()
            warehouse.stage_ndjson(landed.table, landed.path)
            loads.append(TableLoad(
                landed.table, STORE_API, snapshot=landed.complete_keys, rows_read=landed.rows_read,
                rows_rejected=landed.rows_rejected, watermark=None, started_at=batch.loaded_at,
                elapsed=landed.seconds + time.monotonic() - started,
                protect_column="cart_id" if landed.table.name == "cart_items" else "id",
                protected=tuple(landed.protected_ids),
                new_columns=landed.new_columns,
                changes=tuple(not_recorded(found.get(landed.table.name, []), recorded)),
            ))
        rejects = [RejectRow(STORE_API, r.table_name, r.record_key, r.reason, r.payload)
                   for r in landing.rejects]
        report(f"{STORE_API}: merging {len(loads)} tables", force=True)
        counts = warehouse.commit(batch, loads, rejects)
    finally:
        warehouse.close()
    return [_result(load, merged) for load, merged in zip(loads, counts, strict=True)]


def store_api_changes(settings: Settings, landing: Landing) -> dict[str, list[SchemaChange]]:
    """Per raw table: its endpoint's new fields, and the fields too many records of a page
    were rejected for."""
    found: dict[str, list[SchemaChange]] = {}
    for endpoint, new in landing.new_fields.items():
        table = TABLES[endpoint]
        landed = {column for column, _ in landing.tables[endpoint].new_columns}
        rejected = [RejectedField(r.n, r.field, r.problem or "", r.got)
                    for r in landing.rejects
                    if r.table_name == table.qualified_name and r.field is not None]
        found[endpoint] = (
            store_new_field_changes(table, new, landed, settings.schema_changes)
            + store_reject_changes(endpoint, table, landing.pages.get(endpoint, []), rejected,
                                   settings.max_reject_share, settings.schema_changes, new))
    return found


def _publish_changes(settings: Settings, warehouse: Warehouse, batch: Batch, source: str,
                     changes: Sequence[SchemaChange], recorded: set[tuple[object, ...]]) -> None:
    """Publish this run's new changes (metrics file); record and raise those that stop."""
    fresh = not_recorded(changes, recorded)
    write_schema_changes(settings, source, fresh)
    if any(c.stops for c in changes):
        warehouse.record_changes(batch, [c for c in fresh if c.stops])
        raise stop_error(source, changes)
    for change in fresh:
        log.warning("schema change: %s", change.line())


def extract_legacy_db(settings: Settings, batch: Batch, report: Progress,
                      full_refresh: bool,
                      tables: tuple[Table, ...] = OLD_STORE_TABLES) -> list[TableResult]:
    """Compare each legacy table's columns with its contract, then stream each into a
    stage and merge it in its own transaction."""
    report(f"{LEGACY_DB}: reading {settings.legacy_db_url}", force=True)
    results = []
    with LegacyReader(settings.legacy_db_url, settings.batch_size,
                      settings.legacy_db_schema) as reader:
        live = reader.catalog(tables)
        warehouse = open_warehouse(settings.warehouse_url)
        try:
            warehouse.ensure_tables(tables)
            history = warehouse.schema_history(LEGACY_DB)
            plans = [plan_legacy_table(t, live[t.name], history.seen.get(t.qualified_name),
                                       settings.schema_changes, settings.legacy_db_url.kind)
                     for t in tables]
            _publish_changes(settings, warehouse, batch, LEGACY_DB,
                             [c for p in plans for c in p.changes], history.recorded)
            for plan in plans:
                results.append(_copy_table(reader, warehouse, plan, batch, report,
                                           full_refresh, settings.legacy_lookback_seconds,
                                           not_recorded(plan.changes, history.recorded)))
        finally:
            warehouse.close()
    return results


def _copy_table(reader: LegacyReader, warehouse: Warehouse, plan: TablePlan, batch: Batch,
                report: Progress, full_refresh: bool, lookback_seconds: float,
                changes: Sequence[SchemaChange]) -> TableResult:
    """One table; a column landed for the first time has it read whole, so the rows loaded
    before get the column's values too."""
    table = plan.table
    if any(c.action == LANDED for c in changes):
        report(f"{table.qualified_name}: new column(s) "
               + ", ".join(f"`{c}`" for c, _ in plan.new_columns) + ": reading the whole table",
               force=True)
        full_refresh = True
    if reader.change_tracked(table):
        return _copy_tracked(reader, warehouse, plan, batch, report, full_refresh, changes)
    started_clock = time.monotonic()
    started_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    saved = None
    if table.watermark is not None and not full_refresh:
        saved = warehouse.last_watermark(table)
        if version_of(saved) is not None:
            saved = None  # Change Tracking was turned off since: read whole once
    since = window_start(saved, lookback_seconds) if saved is not None else None
    if since is not None:
        report(f"{table.qualified_name}: reading {table.watermark} >= `{since}` "
               f"(watermark `{saved}` less {lookback_seconds:g}s look-back)", force=True)
    warehouse.start_stage(table)
    rows_read, watermark = _stage_source(reader, warehouse, table, since, saved, report)
    if since is not None:
        _stage_keys(reader, warehouse, table)
    load = TableLoad(table, LEGACY_DB, snapshot=since is None, rows_read=rows_read,
                     rows_rejected=0, watermark=watermark, started_at=started_at,
                     elapsed=time.monotonic() - started_clock,
                     key_stage="present" if since is not None else None)
    return _commit_legacy(warehouse, batch, load, plan, changes)


def _commit_legacy(warehouse: Warehouse, batch: Batch, load: TableLoad, plan: TablePlan,
                   changes: Sequence[SchemaChange]) -> TableResult:
    """Merge one legacy table with its schema drift: new columns, changes, live columns."""
    load = dataclasses.replace(load, new_columns=plan.new_columns, changes=tuple(changes),
                               source_columns=plan.catalog)
    [merged] = warehouse.commit(batch, [load], [])
    return _result(load, merged)


def _stage_source(reader: LegacyReader, warehouse: Warehouse, table: Table, since: str | None,
                  saved: str | None, report: Progress) -> tuple[int, str | None]:
    """Stream the table's rows into its stage; returns the rows read and the watermark,
    which only moves forward, to the newest value really read.

    A SQLite source goes to a DuckDB warehouse as Arrow batches (no Python tuples); a
    table whose column types vary from row to row is then staged again row by row.
    """
    return _stage_arrow_or_rows(
        reader, warehouse, table, lambda: reader.arrow_batches(table, since),
        lambda: reader.batches(table, since), saved, report, "it")


def _stage_arrow_or_rows(reader: LegacyReader, warehouse: Warehouse, stage: Table,
                         arrow: Callable[[], Iterable[Any]], rows: Callable[[], Iterable[Any]],
                         saved: str | None, report: Progress | None,
                         what: str) -> tuple[int, str | None]:
    """Arrow batches into a DuckDB warehouse when the reader has them; DB-API rows otherwise,
    or when a column's values change type mid-table (``what`` names the rows in the log)."""
    if reader.reads_arrow and isinstance(warehouse, DuckDBWarehouse):
        try:
            return _stage_batches(arrow(), warehouse.stage_arrow, stage, saved, report)
        except MixedTypes as exc:
            log.warning("%s: %s; reading %s row by row", stage.qualified_name, exc, what)
            warehouse.start_stage(stage)  # drop what was staged
    return _stage_batches(rows(), warehouse.stage_rows, stage, saved, report)


def _stage_batches(batches: Iterable[Any], stage_batch: Callable[[Table, Any], None],
                   table: Table, saved: str | None, report: Progress | None,
                   ) -> tuple[int, str | None]:
    """Each batch (DB-API rows or an Arrow record batch) into the stage, on a second thread
    while the next one is read from the source."""
    import pyarrow.compute as pc

    watermark = saved
    position = table.column_names.index(table.watermark) if table.watermark else None
    rows_read = 0

    def stage_one(rows: Any) -> None:
        stage_batch(table, rows)

    with BackgroundSink(stage_one) as stage:
        for rows in batches:
            stage.put(rows)
            if isinstance(rows, list):
                count = len(rows)
                if position is not None:
                    watermark = max_watermark(list(map(itemgetter(position), rows)), watermark)
            else:
                count = rows.num_rows
                if position is not None:
                    watermark = max_watermark([pc.max(rows.column(position)).as_py()],
                                              watermark)
            rows_read += count
            if report is not None:
                report.rows(table.qualified_name, rows_read)
    return rows_read, watermark


def _copy_tracked(reader: LegacyReader, warehouse: Warehouse, plan: TablePlan, batch: Batch,
                  report: Progress, full_refresh: bool, changes: Sequence[SchemaChange],
                  ) -> TableResult:
    """A table with SQL Server Change Tracking: changed rows and deleted keys since the
    saved version, or the whole table (then vanished rows are marked deleted)."""
    table = plan.table
    started_clock = time.monotonic()
    started_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    saved = None if full_refresh else warehouse.last_watermark(table)
    keys = keys_table(table)
    warehouse.start_stage(table)
    warehouse.start_stage(keys)
    read = reader.read_changes(table, saved, lambda rows: warehouse.stage_rows(table, rows),
                               lambda rows: warehouse.stage_rows(keys, rows))
    report(f"{table.qualified_name}: Change Tracking, {read.reason}; {read.rows:,} rows, "
           f"{read.deleted:,} deletions, now at version {read.version}", force=True)
    load = TableLoad(table, LEGACY_DB, snapshot=read.full, rows_read=read.rows + read.deleted,
                     rows_rejected=0, watermark=f"{CT_PREFIX}{read.version}",
                     started_at=started_at, elapsed=time.monotonic() - started_clock,
                     key_stage=None if read.full else "deleted")
    return _commit_legacy(warehouse, batch, load, plan, changes)


def _stage_keys(reader: LegacyReader, warehouse: Warehouse, table: Table) -> None:
    """Stage every primary key the source has now, read after the rows (so a row deleted
    in between is merged, then marked deleted; one inserted in between is left for the
    next run's window rather than marked deleted)."""
    keys = keys_table(table)
    warehouse.start_stage(keys)
    _stage_arrow_or_rows(reader, warehouse, keys, lambda: reader.arrow_key_batches(table),
                         lambda: reader.key_batches(table), None, None, "its keys")


def _result(load: TableLoad, counts: MergeCounts) -> TableResult:
    return TableResult(load.table.qualified_name, load.source, load.rows_read, counts.inserted,
                       counts.updated, counts.deleted, load.rows_rejected, counts.seconds,
                       load.changes)


SUMMARY_HEADER = ("table", "rows", "inserted", "updated", "deleted", "rejected", "seconds",
                  "rows/s")


def format_summary(results: Sequence[TableResult]) -> str:
    """The per-table summary the CLI prints, with a total line."""
    lines = [SUMMARY_HEADER]
    for r in results:
        lines.append((r.table, f"{r.rows_read:,}", f"{r.inserted:,}", f"{r.updated:,}",
                      f"{r.deleted:,}", f"{r.rejected:,}", f"{r.seconds:.2f}",
                      f"{r.rows_per_second:,.0f}"))
    widths = [max(len(row[i]) for row in lines) for i in range(len(SUMMARY_HEADER))]
    table = "\n".join(
        "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                  for i, (cell, w) in enumerate(zip(row, widths, strict=True)))
        for row in lines
    )
    changes = [c for r in results for c in r.changes]
    if changes:
        table += "\nschema changes (recorded in meta.schema_changes):\n" + "\n".join(
            f"  {c.line()}" for c in changes)
    return table
