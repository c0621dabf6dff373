"""Publish the marts: bring every table of warehouse schema ``analytics`` to the sync target.

The target is Azure SQL (or any SQL Server) in production and a second DuckDB file by
default. Dashboards read it, so it must never show a mix of old and new marts. A sync:

1. gate: every dbt node feeding the marts passed (``sync.gate``), unless ``force``;
2. on SQL Server, takes an application lock (``sync.lock``), so two syncs to one target
   (the daily run and a backfill) never drop each other's work; leftovers of a crashed
   earlier run (shadows, stages, replaced copies) are dropped;
3. decides per mart what to write (``sync.plan``), against what the warehouse recorded of
   the last publish (``sync.state``): nothing for an unchanged mart; for a mart with a key,
   only its inserted, updated and deleted rows, found by a row-hash diff in the warehouse
   (``sync.delta``); for a changed mart without a key, all its rows; and in full, by
   shadow-and-swap, whatever the record cannot vouch for (first publish, a new mart or
   changed columns, a target edited outside the sync, a publish id the record does not
   know), saying why. The volume guard (``sync.volume``) then refuses a mart that lost more
   than a configured share of its published rows, unless ``force``;
4. stages what the target needs before the transaction: shadows, loaded and verified (row
   count and checksum, defined in ``sync.statements``), and on SQL Server the changed rows;
5. one transaction puts everything live: the changes, rewrites and swaps of every mart and
   the target's publish marker; inside it every published mart's row count and checksum
   are compared with the warehouse's, and any difference rolls the whole publish back
   (then the marts that differed are published in full, once);
6. the warehouse's record is promoted, replaced copies are dropped, and the report ends
   with ``sync: wrote W of R rows (P %) in S s``; the metrics directory gets each mart's
   row count (``mart_rows.prom``) and rows written (``sync_rows_written.prom``).

Readers see the old build or the new one. On DuckDB a reader's transaction sees one
committed state. On Azure SQL Database, where READ_COMMITTED_SNAPSHOT is on by default, a
BI query (one statement) reads the last committed version of every row it touches, so a
query joining two marts sees both before or both after the publish; a session reading the
marts in several statements needs SNAPSHOT isolation to see one state across them. A
failure before step 5 commits leaves the published tables exactly as they were.

On SQL Server / Azure SQL the shadows and stages live in schema ``analytics_sync_stage``
(never in ``analytics``, so BI logins granted on ``analytics`` never see one, even after a
crash). A mart whose rows change keeps its table: grants, DENYs, masks, indexes and
dependent views stay. Only a new mart or one whose columns changed is swapped in with
``ALTER SCHEMA analytics_sync_retired TRANSFER analytics.<t>`` then ``ALTER SCHEMA
analytics TRANSFER analytics_sync_stage.<t>``, which drops the object-level security of
the table it replaces; before copying anything the sync refuses (exit 2) when that table
carries any (``sync.dependents``). The transaction runs under ``SET LOCK_TIMEOUT`` and
``SET DEADLOCK_PRIORITY HIGH``, and is tried again (staged work kept) on a lock timeout
(1222) or a deadlock (1205). On DuckDB (the demo), shadows are
``analytics.<t>__sync_shadow`` and the swap renames. Views in ``analytics`` are not
synced: they are not part of the marts contract and would read warehouse tables the target
does not have; neither are dbt's leftovers (``…__dbt_tmp``, ``…__dbt_backup``), nor a table
that no model of the last build builds (``meta.dbt_mart_tables``: a model removed or
renamed leaves its table behind), which is named and left out. Tables the warehouse no
longer publishes stay in the target untouched.

Azure SQL: the ``mssql://`` URL connects encrypted by default (``Encrypt=yes``, see
``deltastore.dburl``). Opening a connection is retried on transient faults (the error
numbers in ``deltastore.mssql_errors``), and so is the transaction while readers' locks
time out, with the pipeline's one backoff policy (``deltastore.retry``). Any other
transient fault ends the sync with exit 1 and Argo runs the step again from the start,
which is safe because nothing is published before the transaction commits. For Azure AD
authentication add ``authentication=ActiveDirectoryMsi`` (managed identity, no password)
or ``authentication=ActiveDirectoryServicePrincipal`` (user = application id, password =
client secret in ``DELTASTORE_SYNC_TARGET_PASSWORD``) to the URL. A service principal
logs in through the ODBC driver's own ``Authentication=ActiveDirectoryServicePrincipal``
keyword with ``UID``/``PWD``; managed identity sends no such keyword: the pipeline gets an
access token from azure-identity's ``ManagedIdentityCredential`` (``deltastore.entra``)
and hands it to the driver as the ``SQL_COPT_SS_ACCESS_TOKEN`` connection attribute
(``deltastore.db``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from deltastore import duckdb_errors, odbc_binding
from deltastore.db import connect
from deltastore.dburl import DatabaseURL
from deltastore.errors import ConfigError, DataError, DeltaStoreError, TransientError
from deltastore.mssql_errors import classify, is_transient, native_error
from deltastore.retry import RetryPolicy, call_with_retries
from deltastore.settings import Settings
from deltastore.sync import delta as delta_sql
from deltastore.sync import state as sync_state
from deltastore.sync import statements as sync_sql
from deltastore.sync import table_copy
from deltastore.sync.dependents import check_swappable
from deltastore.sync.gate import check_build_gate
from deltastore.sync.lock import sync_lock
from deltastore.sync.plan import TablePlan, full_action, hash_kind
from deltastore.sync.preflight import require_grants
from deltastore.sync.report import TableSyncResult, report_sync
from deltastore.sync.state import MartRecord, Publish, Record, column_signature
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
from deltastore.transform.lineage import is_dbt_leftover

__all__ = ["SyncHook", "TableSyncResult", "published_row_counts", "sync_marts"]

SWAP_LOCK_TIMEOUT_MS = 30_000  # how long the transaction waits for readers' locks, per try
# The sync's two retry levels (see deltastore/retry.py for the attempts they add up to).
CONNECT_RETRY = RetryPolicy(attempts=5, max_seconds=300.0, base_delay=2.0, max_delay=60.0)
SWAP_RETRY = RetryPolicy(attempts=3, max_seconds=3 * SWAP_LOCK_TIMEOUT_MS / 1000 + 60.0,
                         base_delay=2.0, max_delay=8.0)
# SQL Server errors after which the publish transaction is tried again: a lock timeout
# (readers held their locks) and being chosen as a deadlock victim.
SWAP_RETRIED_ERRORS = (1222, 1205)
SOURCE_ALIAS = "deltastore_sync_source"  # the warehouse, attached inside a DuckDB target

# Called as hook(stage, table, target_connection) at each point a sync may stop: "planned"
# (a mart's plan made: its diff or snapshot is in the warehouse), "shadow-loaded" (a shadow
# loaded, before its verification), "recorded" (table "": the pending publish recorded in
# the warehouse), "swap" (inside the publish transaction, after that mart's statements),
# "committed" (the target committed, the warehouse's record not promoted yet) and
# "promoted". Tests inject failures and kill the process there; a raised exception aborts
# the sync like any other.
SyncHook = Callable[[str, str, Any], None]


class _Drift(Exception):
    """Published marts differ from what the warehouse recorded: publish them in full."""

    def __init__(self, reasons: dict[str, str]) -> None:
        super().__init__("; ".join(f"`{t}`: {r}" for t, r in reasons.items()))
        self.reasons = reasons


def sync_marts(settings: Settings, force: bool = False, run_results_path: Path | None = None,
               echo: Callable[[str], object] = print, *, hook: SyncHook | None = None,
               batched: bool | None = None, full: bool = False,
               sleep: Callable[[float], object] = time.sleep) -> list[TableSyncResult]:
    """Publish every mart (only what changed, unless ``full``); one result per table.

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
        results = _Sync(settings, use_batches, echo, hook, sleep, force, full).run()
    except Exception as exc:
        error = _sync_error(exc, f"sync to `{target}`")
        if error is exc:
            raise
        raise error from (exc if type(error) is TransientError else None)
    report_sync(settings, results, time.perf_counter() - started, echo)
    return results


class _Sync:
    """One attempt: connections, plan, staging, the publish transaction, the record."""

    def __init__(self, settings: Settings, batched: bool, echo: Callable[[str], object],
                 hook: SyncHook | None, sleep: Callable[[float], object] = time.sleep,
                 force: bool = False, full: bool = False) -> None:
        self.settings = settings
        self.sleep = sleep
        self.force = force
        self.full = full
        self.batched = batched
        self.echo = echo
        self.hook = hook
        self.target_dialect: Dialect = _dialect(settings.sync_target_url)
        self.source_dialect: Dialect = (_dialect(settings.warehouse_url) if batched
                                        else "duckdb")
        # Warehouse objects are named with this catalog on the warehouse connection.
        self.catalog: str | None = None if batched else SOURCE_ALIAS
        self.hash_kind = hash_kind(batched)
        self.staged: list[tuple[str, str]] = []  # (schema, name) on the target

    def run(self) -> list[TableSyncResult]:
        target = self._connect(self.settings.sync_target_url)
        source: Any = None
        try:
            if self.batched:
                source = self._connect(self.settings.warehouse_url)
            else:
                _attach(target, self.settings.warehouse_url)
            with sync_lock(target, self.target_dialect, self.echo):
                return self._run(source if self.batched else target, target)
        finally:
            if source is not None:
                source.close()
            target.close()

    def _run(self, warehouse: Any, target: Any) -> list[TableSyncResult]:
        record = self._record(warehouse)
        record.ensure()
        tables = self._built_marts(record, self._source_tables(warehouse))
        keys = record.mart_keys()
        self._prepare_target(target)
        baseline, why = self._baseline(record, target)
        if baseline is None:
            self.echo(f"sync: publishing every mart in full: {why}")
        try:
            results = self._publish(record, warehouse, target, tables, keys, baseline, why, {})
        except _Drift as drift:
            self.echo(f"sync: rolled back: {drift}; publishing those marts in full")
            results = self._publish(record, warehouse, target, tables, keys, baseline, why,
                                    drift.reasons)
        self._name_unpublished(target, {r.table for r in results})
        return results

    # --- the record and the baseline ---------------------------------------------------------

    def _record(self, warehouse: Any) -> Record:
        dialect = self.source_dialect

        def run(sql: str, params: tuple[Any, ...]) -> list[Any]:
            result = warehouse.execute(sql, params) if params else warehouse.execute(sql)
            return _rows_of(result)

        def rollback() -> None:
            with contextlib.suppress(Exception):  # never hide the error that got us here
                warehouse.rollback()

        return Record(dialect, self.catalog, _target_identity(self.settings.sync_target_url),
                      run, lambda: _begin(warehouse, dialect), warehouse.commit, rollback)

    def _baseline(self, record: Record, target: Any) -> tuple[Publish | None, str]:
        """The last publish the target holds, as the warehouse recorded it; else why not."""
        marker = _read_marker(target, self.target_dialect)
        published = record.publishes("published")
        for candidate in record.publishes("pending"):
            if candidate.publish_id == marker:
                self.echo(f"sync: publish `{marker}` reached the target before the last sync "
                          "stopped; completing its record")
                record.promote(candidate)
                published = [candidate]
        # Any other pending publish never reached its target.
        record.discard_pending()
        record.drop_work_tables()
        if self.full:
            return None, "asked for (--full-refresh)"
        last = published[0] if published else None
        if last is None:
            elsewhere = record.last_target()
            if elsewhere is not None:
                return None, (f"the warehouse's record follows the last publish to "
                              f"`{elsewhere}`, not this target (one target at a time is "
                              "published incrementally)")
            return None, "the warehouse has no record of a publish to this target (first sync)"
        if marker is None:
            return None, (f"the target has no publish marker (`{'.'.join(sync_state.MARKER)}`);"
                          f" the warehouse recorded publish `{last.publish_id}`")
        if marker != last.publish_id:
            return None, (f"the target holds publish `{marker}`, the warehouse recorded "
                          f"`{last.publish_id}` (another warehouse, or a restore)")
        if last.hash_kind != self.hash_kind:
            return None, (f"the row hash changed (`{last.hash_kind}` -> `{self.hash_kind}`)")
        return last, ""

    # --- one publish -------------------------------------------------------------------------

    def _publish(self, record: Record, warehouse: Any, target: Any, tables: list[str],
                 keys: dict[str, tuple[str, ...]], baseline: Publish | None, why: str,
                 forced: dict[str, str]) -> list[TableSyncResult]:
        publish_id = sync_state.new_publish_id()
        try:
            live = self._live_tables(target)
            plans = []
            for table in tables:
                plans.append(self._plan(warehouse, target, table, keys.get(table, ()),
                                        baseline, why, forced.get(table), live))
                self._at("planned", table, target)
            published = {t: rows for t, (rows, _) in live.items()}
            check_volume(published, {p.table: p.rows for p in plans},
                         self.settings.sync_max_drop, self.force, self.echo)
            if self.target_dialect == "mssql":
                check_swappable(target, [p.table for p in plans
                                         if p.action == "swap" and p.table in live],
                                self.force, self.echo)
            results = [self._stage(warehouse, target, p) for p in plans]
            record.save_pending(publish_id, self.hash_kind, [p.record for p in plans])
            self._at("recorded", "", target)
            self._commit_with_retries(target, plans, results, publish_id)
        except Exception:
            self._discard(target, record)
            raise
        self.staged = []
        self._at("committed", "", target)
        pending = Publish(publish_id, "pending", self.hash_kind, {p.table: p.record for p in plans})
        try:
            record.promote(pending)
        except Exception as exc:
            # Published already; the next sync completes the record (the marker names it).
            self.echo(f"sync: the marts are published, but recording publish `{publish_id}` "
                      f"in the warehouse failed ({exc}); the next sync completes it")
        self._at("promoted", "", target)
        try:
            self._drop_old(target, plans)
        except Exception as exc:
            self.echo(f"sync: the new marts are published, but dropping the replaced copies "
                      f"failed ({exc}); the next sync drops them")
        return results

    def _plan(self, warehouse: Any, target: Any, table: str, keys: tuple[str, ...],
              baseline: Publish | None, why: str, forced: str | None,
              live: dict[str, tuple[int, tuple[tuple[str, str], ...]]]) -> TablePlan:
        started = time.perf_counter()
        columns = self._columns(warehouse, self.source_dialect, MART_SCHEMA, table,
                                self.catalog)
        names = {c.name for c in columns}
        keys = keys if keys and all(k in names for k in keys) else ()
        recorded = baseline.marts.get(table) if baseline is not None else None
        reason = forced or self._full_reason(table, columns, keys, baseline, why, recorded,
                                             live)
        if reason is None and recorded is not None:
            plan = (self._diff(warehouse, table, columns, keys, recorded, live) if keys
                    else self._compare(warehouse, table, columns, recorded))
            if plan is not None and plan.action != "outgrown":
                return replace(plan, seconds=time.perf_counter() - started)
            reason = plan.reason if plan is not None else (
                "its key is not unique in the warehouse (a failed test passed with --force?)")
        plan = self._full_plan(warehouse, target, table, columns, keys, reason or why, live)
        # The reason of a whole-publish fallback is told once, not for every mart.
        return replace(plan, reason="" if baseline is None else plan.reason,
                       seconds=time.perf_counter() - started)

    def _full_reason(self, table: str, columns: list[Column], keys: tuple[str, ...],
                     baseline: Publish | None, why: str, recorded: MartRecord | None,
                     live: dict[str, tuple[int, tuple[tuple[str, str], ...]]]) -> str | None:
        """Why a mart cannot get only its changes (None: it can)."""
        if baseline is None:
            return why
        if recorded is None:
            return "a new mart"
        if table not in live:
            return "missing on the target"
        rows, live_columns = live[table]
        if column_signature(columns) != recorded.columns:
            return "its columns changed"
        if live_columns != recorded.target_columns:
            return "its columns were altered on the target"
        if keys != recorded.keys:
            return (f"its key changed (`{', '.join(recorded.keys) or 'none'}` -> "
                    f"`{', '.join(keys) or 'none'}`)")
        if rows != recorded.rows:
            return (f"the target has {rows:,} rows where the last publish left "
                    f"{recorded.rows:,}: edited outside the sync")
        return None

    def _diff(self, warehouse: Any, table: str, columns: list[Column], keys: tuple[str, ...],
              recorded: MartRecord,
              live: dict[str, tuple[int, tuple[tuple[str, str], ...]]]) -> TablePlan | None:
        """The changes of a mart with a key; None when its key is not unique."""
        dialect, catalog, engine = self.source_dialect, self.catalog, not self.batched
        _execute(warehouse, delta_sql.diff_sql(dialect, catalog, table, keys, columns, engine))
        warehouse.commit()
        counts = {"I": (0, 0, 0), "U": (0, 0, 0), "D": (0, 0, 0)}
        for op, count, new_sum, old_sum in _fetchall(
                warehouse, delta_sql.diff_summary_sql(dialect, catalog, table)):
            counts[str(op)] = (int(count), int(new_sum), int(old_sum))
        inserted, updated, deleted = (counts[op][0] for op in "IUD")
        rows = _count(warehouse, dialect, catalog, MART_SCHEMA, table)
        if recorded.rows + inserted - deleted != rows:
            return None
        checksum = (recorded.checksum + counts["I"][1] + counts["U"][1]
                    - counts["U"][2] - counts["D"][2])
        action = "delta" if inserted + updated + deleted else "keep"
        plan = TablePlan(table, action, "", columns, keys, rows, checksum,
                         live[table][1], inserted, updated, deleted)
        if action == "delta" and self.target_dialect == "mssql":
            where = delta_sql.changed_rows_filter(self.source_dialect, None, table, keys)
            plan = replace(plan, measured=tuple(
                self._with_text_lengths(warehouse, table, columns, where)))
            too_long = _outgrown(plan)
            if too_long:
                return replace(plan, action="outgrown", reason=too_long)
        return plan

    def _compare(self, warehouse: Any, table: str, columns: list[Column],
                 recorded: MartRecord) -> TablePlan:
        """A mart without a key: unchanged, or rewritten whole."""
        rows, checksum = _checksum(warehouse, self.source_dialect, MART_SCHEMA, table, columns,
                                   self.catalog, engine=not self.batched)
        same = (rows, checksum) == (recorded.rows, recorded.checksum)
        return TablePlan(table, "keep" if same else "rewrite", "" if same else "no key",
                         columns, (), rows, checksum, recorded.target_columns,
                         written=0 if same else rows)

    def _full_plan(self, warehouse: Any, target: Any, table: str, columns: list[Column],
                   keys: tuple[str, ...], reason: str,
                   live: dict[str, tuple[int, tuple[tuple[str, str], ...]]]) -> TablePlan:
        """All of a mart's rows: rewritten into its table where the table can take them,
        swapped in otherwise; its snapshot made anew."""
        dialect, catalog = self.source_dialect, self.catalog
        measured = (self._with_text_lengths(warehouse, table, columns)
                    if self.batched and self.target_dialect == "mssql" else None)
        wanted = self._target_columns(warehouse, table, list(measured or columns))
        if keys:
            _execute(warehouse, delta_sql.snapshot_sql(dialect, catalog, table, keys, columns,
                                                       not self.batched))
            warehouse.commit()
            rows, checksum = (int(v) for v in _fetchall(
                warehouse, delta_sql.snapshot_total_sql(dialect, catalog, table))[0])
        else:
            rows, checksum = _checksum(warehouse, dialect, MART_SCHEMA, table, columns, catalog,
                                       engine=not self.batched)
        signature = tuple((c.name, t) for c, t in zip(columns, wanted, strict=True))
        live_columns = live[table][1] if table in live else None
        action = full_action(self.target_dialect, live_columns == signature)
        return TablePlan(table, action, reason, columns, keys, rows, checksum, signature,
                         written=rows, measured=None if measured is None else tuple(measured))

    # --- staging -------------------------------------------------------------------------------

    def _stage(self, warehouse: Any, target: Any, plan: TablePlan) -> TableSyncResult:
        """Load what the transaction needs before it starts; shadows are verified here."""
        started = time.perf_counter()
        action = plan.action
        if action == "swap":
            shadow = sync_sql.shadow_of(self.target_dialect, plan.table)
            self.staged.append(shadow)
            if self.batched:
                measured = self._copy_rows(warehouse, target, plan, shadow)
                self._add_key(target, plan, shadow, measured)
            else:
                table_copy.copy_attached(target, SOURCE_ALIAS, MART_SCHEMA, plan.table,
                                         shadow[1])
            self._at("shadow-loaded", plan.table, target)
            rows, total = self._target_checksum(target, plan, shadow)
            self._check(plan, rows, total, "shadow")
            return _result(plan, total, time.perf_counter() - started)
        if self.batched and action in ("rewrite", "delta"):
            stage = (STAGE_SCHEMA, plan.table)
            self.staged.append(stage)
            where = (delta_sql.changed_rows_filter(self.source_dialect, None, plan.table,
                                                   plan.keys) if action == "delta" else "")
            self._copy_rows(warehouse, target, plan, stage, where)
            if action == "delta":
                keys_stage = sync_sql.keys_stage_of(plan.table)
                self.staged.append(keys_stage)
                self._copy_keys(warehouse, target, plan, keys_stage)
        return _result(plan, None, time.perf_counter() - started)

    def _copy_rows(self, warehouse: Any, target: Any, plan: TablePlan, into: tuple[str, str],
                   where: str = "") -> list[Column]:
        """Copy a mart's rows (those meeting ``where``) into ``into``; returns its columns
        with their measured text lengths."""
        columns = plan.columns
        rows_per_call = self.settings.batch_size
        if self.target_dialect == "mssql":
            columns = (list(plan.measured) if plan.measured is not None
                       else self._with_text_lengths(warehouse, plan.table, columns, where))
            rows_per_call = self._rows_per_call(plan.table, columns)
        create = sync_sql.create_table(self.target_dialect, *into, columns,
                                       [t for _, t in plan.target_columns])
        table_copy.copy_batched(warehouse, self.source_dialect, target, self.target_dialect,
                                plan.table, into, columns, rows_per_call, where, create)
        _commit(target, self.target_dialect)
        return columns

    def _copy_keys(self, warehouse: Any, target: Any, plan: TablePlan,
                   into: tuple[str, str]) -> None:
        by_name = {c.name: c for c in plan.columns}
        columns = [by_name[k] for k in plan.keys]
        types = dict(plan.target_columns)
        create = sync_sql.create_table(self.target_dialect, *into, columns,
                                       [types[k] for k in plan.keys])
        select = delta_sql.removed_keys_sql(self.source_dialect, None, plan.table, plan.keys)
        table_copy.copy_query(warehouse, target, self.target_dialect, into, columns, select,
                              self.settings.batch_size, create)
        _commit(target, self.target_dialect)

    def _add_key(self, target: Any, plan: TablePlan, shadow: tuple[str, str],
                 measured: list[Column]) -> None:
        """SQL Server: the mart's key as the shadow's clustered primary key, so the next
        incremental publish finds changed rows by key, not by scanning a heap."""
        if self.target_dialect != "mssql" or not plan.keys:
            return
        by_name = {c.name: c for c in measured}
        statements = sync_sql.primary_key(*shadow, [by_name[k] for k in plan.keys],
                                          dict(plan.target_columns))
        if not statements:
            self.echo(f"  {MART_SCHEMA}.{plan.table}: its key is too long for an index key; "
                      "published as a heap")
        for statement in statements:
            _execute(target, statement)
        _commit(target, self.target_dialect)

    def _target_columns(self, warehouse: Any, table: str, columns: list[Column]) -> list[str]:
        """The declared type of each column on the target when published in full (SQL
        Server: ``columns`` carry their measured text lengths)."""
        if not self.batched:
            return [t for _, t in _declared_types(warehouse, "duckdb", self.catalog, table)]
        return [sync_sql.target_type(self.target_dialect, c) for c in columns]

    # --- the transaction -----------------------------------------------------------------------

    def _commit_with_retries(self, target: Any, plans: list[TablePlan],
                             results: list[TableSyncResult], publish_id: str) -> None:
        """The publish transaction, tried again (staged work kept) while it loses on locks."""
        call_with_retries(
            lambda: self._commit(target, plans, results, publish_id), what="the swap",
            policy=SWAP_RETRY,
            retryable=lambda exc: native_error(exc) in SWAP_RETRIED_ERRORS,
            notify=self.echo, sleep=self.sleep,
            hint=f"readers held their locks longer than {SWAP_LOCK_TIMEOUT_MS / 1000:.0f} s "
                 "each time, or the publish lost deadlocks; nothing was published")

    def _commit(self, target: Any, plans: list[TablePlan], results: list[TableSyncResult],
                publish_id: str) -> None:
        """Every change of every mart and the marker in one transaction; each mart written
        or kept is verified inside it, and any failure rolls everything back."""
        dialect = self.target_dialect
        existing = self._existing(target)
        if dialect == "mssql":
            _execute(target, sync_sql.set_lock_timeout(SWAP_LOCK_TIMEOUT_MS))
            _execute(target, sync_sql.set_deadlock_priority("HIGH"))
        _begin(target, dialect)
        drift: dict[str, str] = {}
        try:
            for plan, result in zip(plans, results, strict=True):
                for statement in self._statements(plan, plan.table in existing):
                    _execute(target, statement)
                self._at("swap", plan.table, target)
                if plan.action != "swap":
                    rows, total = self._target_checksum(target, plan,
                                                        (MART_SCHEMA, plan.table))
                    result.target_checksum = total
                    problem = self._mismatch(plan, rows, total)
                    if problem and plan.action in ("keep", "delta"):
                        drift[plan.table] = problem
                    elif problem:
                        raise DataError(self._differs(plan, rows, total, "target"))
            if drift:
                raise _Drift(drift)
            delete, insert = sync_state.marker_write(dialect)
            _execute(target, delete)
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            target.execute(insert, (publish_id, now))
            target.commit()
        except BaseException:
            target.rollback()
            raise
        finally:
            if dialect == "mssql":
                with contextlib.suppress(Exception):  # never hide the transaction's error
                    _execute(target, sync_sql.set_lock_timeout(-1))
                    _execute(target, sync_sql.set_deadlock_priority("NORMAL"))

    def _statements(self, plan: TablePlan, live_exists: bool) -> list[str]:
        """What puts one mart's new content live (inside the transaction)."""
        dialect, table = self.target_dialect, plan.table
        live = sync_sql.qualified(dialect, MART_SCHEMA, table)
        names = [c.name for c in plan.columns]
        if plan.action == "keep":
            return []
        if plan.action == "swap":
            return sync_sql.publish_statements(dialect, table, live_exists)
        if self.batched:
            stage = sync_sql.qualified(dialect, STAGE_SCHEMA, table)
            keys_stage = sync_sql.qualified(dialect, *sync_sql.keys_stage_of(table))
            if plan.action == "rewrite":
                return [sync_sql.delete_all_sql(dialect, live),
                        sync_sql.insert_select_sql(dialect, live, stage, names)]
            return [sync_sql.delete_matching_sql(dialect, live, keys_stage, plan.keys),
                    sync_sql.insert_select_sql(dialect, live, stage, names)]
        source = sync_sql.qualified("duckdb", SOURCE_ALIAS, MART_SCHEMA, table)
        if plan.action == "rewrite":
            return [sync_sql.delete_all_sql(dialect, live),
                    sync_sql.insert_select_sql(dialect, live, source, names)]
        changes = sync_sql.qualified("duckdb", SOURCE_ALIAS, sync_state.STATE_SCHEMA,
                                     sync_state.DELTA_PREFIX + table)
        return [sync_sql.delete_matching_sql(
                    dialect, live, changes, plan.keys,
                    f"{sync_sql.quote(dialect, 'c')}."
                    f"{sync_sql.quote(dialect, sync_state.OP_COLUMN)} <> 'I'"),
                sync_sql.insert_select_sql(
                    dialect, live, source, names,
                    delta_sql.changed_rows_filter(dialect, SOURCE_ALIAS, table, plan.keys))]

    # --- verification --------------------------------------------------------------------------

    def _target_checksum(self, target: Any, plan: TablePlan,
                         table: tuple[str, str]) -> tuple[int, int]:
        columns = self._columns(target, self.target_dialect, *table)
        return _checksum(target, self.target_dialect, *table, columns,
                         engine=not self.batched)

    @staticmethod
    def _mismatch(plan: TablePlan, rows: int, total: int) -> str:
        if (rows, total) == (plan.rows, plan.checksum):
            return ""
        return (f"{rows:,} rows, checksum `{total:#x}` on the target; the warehouse's "
                f"{plan.rows:,} rows, checksum `{plan.checksum:#x}`")

    def _check(self, plan: TablePlan, rows: int, total: int, where: str) -> None:
        if self._mismatch(plan, rows, total):
            self.echo(f"  {MART_SCHEMA}.{plan.table}: CHECKSUM MISMATCH in the {where}")
            raise DataError(self._differs(plan, rows, total, where))

    @staticmethod
    def _differs(plan: TablePlan, rows: int, total: int, where: str) -> str:
        return (f"`{MART_SCHEMA}.{plan.table}` differs after the copy: warehouse {plan.rows} "
                f"rows, checksum `{plan.checksum:#x}`; target {where} {rows} rows, checksum "
                f"`{total:#x}`. Nothing was published; rerun `deltastore sync` (if it "
                "repeats, a column type does not survive the copy)")

    # --- the target ----------------------------------------------------------------------------

    def _source_tables(self, conn: Any) -> list[str]:
        sql = sync_sql.tables_query(self.source_dialect, self.catalog)
        tables = [r[0] for r in _fetchall(conn, sql, (MART_SCHEMA,))]
        tables = [t for t in tables if not t.endswith((SHADOW_SUFFIX, OLD_SUFFIX))
                  and not is_dbt_leftover(t)]
        if not tables:
            raise DataError(f"the warehouse `{self.settings.warehouse_url}` has no tables in "
                            f"schema `{MART_SCHEMA}`: run `deltastore build` first")
        return tables

    def _built_marts(self, record: Record, tables: list[str]) -> list[str]:
        """The tables of the last build's marts. Any other table of ``analytics`` is left
        out and named: a model removed or renamed leaves its table behind in the warehouse,
        and the gate proved nothing about it."""
        built = record.mart_tables()
        if built is None:
            self.echo("sync: the warehouse has no record of which tables the dbt project's "
                      "marts build (its builds were recorded by an older deltastore), so "
                      f"every table of schema `{MART_SCHEMA}` is published; the next "
                      "`deltastore build` records them")
            return tables
        names = {name.casefold() for name in built}
        kept = [t for t in tables if t.casefold() in names]
        for table in tables:
            if table not in kept:
                self.echo(f"sync: left out `{MART_SCHEMA}.{table}`: no model of the dbt "
                          "project builds it (removed or renamed?), so no build vouches for "
                          "it; drop it from the warehouse. A copy published earlier stays "
                          "in the target as it was")
        if not kept:
            raise DataError(f"none of the {len(tables)} tables in schema `{MART_SCHEMA}` of "
                            f"`{self.settings.warehouse_url}` is built by a model of the dbt "
                            "project's last recorded build: run `deltastore build` first")
        return kept

    def _prepare_target(self, target: Any) -> None:
        """Create the schemas and the marker; drop what a crashed run left behind."""
        dialect = self.target_dialect
        schemas = [MART_SCHEMA, STAGE_SCHEMA] + ([RETIRED_SCHEMA] if dialect == "mssql" else [])
        for schema in schemas:
            _execute(target, sync_sql.create_schema(dialect, schema))
        _execute(target, sync_state.marker_create(dialect))
        leftovers = [(schema, r[0]) for schema in schemas
                     for r in _fetchall(target, sync_sql.tables_query(dialect), (schema,))
                     if (schema, r[0]) != sync_state.MARKER
                     and (schema != MART_SCHEMA or r[0].endswith((SHADOW_SUFFIX, OLD_SUFFIX)))]
        for schema, name in leftovers:
            self.echo(f"  dropping `{schema}.{name}` left by an earlier sync")
            _execute(target, sync_sql.drop_table(dialect, schema, name))
        _commit(target, dialect)

    def _name_unpublished(self, target: Any, published: set[str]) -> None:
        """Say which tables of the target's ``analytics`` this publish did not bring: a mart
        removed from the project keeps its last published copy, which nothing updates."""
        try:
            existing = self._existing(target)
        except Exception as exc:  # the marts are published: a notice must not fail the step
            self.echo(f"sync: published; listing the target's other tables failed ({exc})")
            return
        others = sorted(t for t in existing
                        if t not in published and not t.endswith((SHADOW_SUFFIX, OLD_SUFFIX)))
        if others:
            listing = ", ".join(f"`{MART_SCHEMA}.{t}`" for t in others)
            self.echo(f"sync: the target also holds {listing}, which no mart of the last "
                      "build publishes: left as it was; drop it there once nothing reads it")

    def _existing(self, target: Any) -> set[str]:
        return {r[0] for r in _fetchall(target, sync_sql.tables_query(self.target_dialect),
                                        (MART_SCHEMA,))}

    def _live_tables(self, target: Any) -> dict[str, tuple[int, tuple[tuple[str, str], ...]]]:
        """Each published table: its row count and declared column types."""
        dialect = self.target_dialect
        live = {}
        for name in sorted(self._existing(target)):
            if name.endswith((SHADOW_SUFFIX, OLD_SUFFIX)):
                continue
            rows = _count(target, dialect, None, MART_SCHEMA, name)
            live[name] = (rows, _declared_types(target, dialect, None, name))
        return live

    def _drop_old(self, target: Any, plans: list[TablePlan]) -> None:
        for plan in plans:
            if plan.action == "swap":
                _execute(target, sync_sql.drop_table(
                    self.target_dialect, *sync_sql.retired_of(self.target_dialect, plan.table)))
            elif self.batched and plan.action in ("rewrite", "delta"):
                for staged in ((STAGE_SCHEMA, plan.table), sync_sql.keys_stage_of(plan.table)):
                    _execute(target, sync_sql.drop_table(self.target_dialect, *staged))
        _commit(target, self.target_dialect)

    def _discard(self, target: Any, record: Record) -> None:
        """Best effort: the next run drops whatever this leaves behind."""
        try:
            for staged in self.staged:
                _execute(target, sync_sql.drop_table(self.target_dialect, *staged))
            _commit(target, self.target_dialect)
        except Exception:  # noqa: S110 - the connection may be gone; cleanup is best effort
            pass
        with contextlib.suppress(Exception):
            record.discard_pending()
            record.drop_work_tables()
        self.staged = []

    def _at(self, stage: str, table: str, target: Any) -> None:
        if self.hook:
            self.hook(stage, table, target)

    # --- helpers -------------------------------------------------------------------------------

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

    def _columns(self, conn: Any, dialect: Dialect, schema: str, table: str,
                 catalog: str | None = None) -> list[Column]:
        sql = sync_sql.columns_query(dialect, catalog)
        rows = _fetchall(conn, sql, (schema, table))
        return [sync_sql.parse_column(dialect, f"{schema}.{table}", name, data_type,
                                      precision, scale, length)
                for name, data_type, precision, scale, length in rows]

    def _with_text_lengths(self, source: Any, table: str, columns: list[Column],
                           where: str = "") -> list[Column]:
        sql = sync_sql.text_lengths_query(self.source_dialect, MART_SCHEMA, table, columns,
                                          where)
        if sql is None:
            return columns
        lengths = iter(_fetchall(source, sql)[0])
        return [Column(c.name, c.kind, max_length=int(next(lengths) or 0))
                if c.kind == "text" else c for c in columns]


def _outgrown(plan: TablePlan) -> str:
    """SQL Server: a changed text longer than its published column allows."""
    declared = dict(plan.target_columns)
    for column in plan.measured or ():
        limit = sync_sql.text_limit(declared.get(column.name, ""))
        if column.kind == "text" and limit is not None and (column.max_length or 0) > limit:
            return (f"`{column.name}` now holds {column.max_length:,} characters, more than "
                    f"its published `{declared[column.name]}`")
    return ""


def _result(plan: TablePlan, target_checksum: int | None, seconds: float) -> TableSyncResult:
    return TableSyncResult(plan.table, plan.rows, plan.checksum,
                           target_checksum if target_checksum is not None else plan.checksum,
                           plan.seconds + seconds, plan.action, plan.reason, plan.written,
                           plan.inserted, plan.updated, plan.deleted)


def _declared_types(conn: Any, dialect: Dialect, catalog: str | None,
                    table: str) -> tuple[tuple[str, str], ...]:
    """(column, declared type) of a mart, in order, as ``target_type`` writes types."""
    described = _fetchall(conn, sync_sql.described_columns_query(dialect, catalog),
                          (MART_SCHEMA, table))
    return tuple((str(r[0]), sync_sql.declared_type(dialect, *r[1:])) for r in described)


def _dialect(url: DatabaseURL) -> Dialect:
    return "mssql" if url.kind == "mssql" else "duckdb"


def _target_identity(url: DatabaseURL) -> str:
    """The target as the warehouse's record names it: the database, not the login."""
    if url.kind == "duckdb":
        return f"duckdb://{url.path}"
    return f"mssql://{url.host}:{url.port or 1433}/{url.database}"


def _sync_error(exc: Exception, what: str) -> DeltaStoreError:
    """What stopped the sync, as the pipeline's error of its kind; before the transaction
    commits nothing is published."""
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
        # Read-write: the warehouse keeps the record of what was published (sync/state.py).
        table_copy.attach(target, str(warehouse.path), SOURCE_ALIAS)
    except duckdb.Error as exc:
        # Typically another DuckDB instance in this process still holds the file, e.g. dbt
        # invoked in-process with dbt-duckdb's `keep_open: true` other than through
        # transform/runner.py, which closes dbt-duckdb's instance after each invocation.
        raise duckdb_errors.classify(
            exc, f"attaching the warehouse `{warehouse}`",
            "close the other connections to it in this process first") from None


def _checksum(conn: Any, dialect: Dialect, schema: str, table: str, columns: list[Column],
              catalog: str | None = None, engine: bool = False) -> tuple[int, int]:
    """Row count and content checksum: DuckDB's own row hash when ``engine`` (both sides of
    the copy read by one DuckDB), else the portable one of ``statements``."""
    sql = (sync_sql.engine_checksum_query(schema, table, columns, catalog) if engine
           else sync_sql.checksum_query(dialect, schema, table, columns, catalog))
    rows, total = _fetchall(conn, sql)[0]
    return int(rows), int(total)


def _count(conn: Any, dialect: Dialect, catalog: str | None, schema: str, table: str) -> int:
    return int(_fetchall(conn, sync_sql.row_count_query(dialect, catalog, schema, table))[0][0])


def _read_marker(target: Any, dialect: Dialect) -> str | None:
    rows = _fetchall(target, sync_state.marker_read(dialect))
    _commit(target, dialect)
    return str(rows[0][0]) if rows else None


def _fetchall(conn: Any, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    # Straight on the connection: a DuckDB cursor is a separate connection with its own
    # transaction, which would escape the publish transaction.
    result = conn.execute(sql, params) if params else conn.execute(sql)
    return list(result.fetchall())


def _execute(conn: Any, sql: str) -> None:
    conn.execute(sql)


def _rows_of(result: Any) -> list[Any]:
    """The rows of a statement's result; none for a statement that returns none (pyodbc
    raises on fetching those)."""
    if getattr(result, "description", True) is None:
        return []
    return list(result.fetchall())


def _begin(conn: Any, dialect: Dialect) -> None:
    # pyodbc connections run with autocommit off: a transaction is always open.
    if dialect == "duckdb":
        conn.begin()


def _commit(conn: Any, dialect: Dialect) -> None:
    # DuckDB runs in autocommit mode outside the publish transaction; nothing to commit.
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
        return {name: _count(conn, dialect, None, MART_SCHEMA, name) for name in names}
    finally:
        conn.close()

