"""The record of dbt builds in the warehouse: ``meta.dbt_builds`` and ``meta.dbt_build_nodes``.

On Kubernetes each step runs in its own pod and shares no files with the others, but all of
them reach the warehouse (a server in production, the same DuckDB file in the demo). So
``deltastore build`` records each build's outcome and node timings there, with the list of
the project's nodes (``meta.dbt_project_nodes``, flagged when they feed a published mart),
each mart's key (``meta.dbt_mart_keys``, which the sync matches rows by) and the table each
mart builds (``meta.dbt_mart_tables``, the only tables the sync publishes).
The sync gate and the SLO report read back the latest result of every node
(``latest_node_states``), so a partial ``--select`` build cannot hide an earlier failure of
another node, and a build run layer by layer is judged as a whole. ``record_build`` writes
a build and its nodes in one transaction; the statements come from the small builders
below (the tests parse the SQL Server ones as T-SQL).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deltastore.db import classified, column_type, connect, driver_errors
from deltastore.errors import ConfigError, DeltaStoreError, TransientError
from deltastore.schemas import (
    DBT_BUILD_NODES,
    DBT_BUILDS,
    DBT_MART_KEYS,
    DBT_MART_TABLES,
    DBT_PROJECT_NODES,
    Table,
)
from deltastore.settings import Settings
from deltastore.sql_names import insert_values_sql, literal, qualified, quote
from deltastore.transform.lineage import ProjectNode, mart_keys, mart_tables, project_nodes
from deltastore.transform.verification import (
    UNVERIFIED_KEYS,
    VERIFIED_MODELS,
    verified_models,
)

FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})
GATED_NODE_TYPES = ("model.", "snapshot.", "seed.", "test.", "unit_test.")
# dbt messages and long failure lists must not be cut by SQL Server's NVARCHAR(4000).
_UNBOUNDED_TEXT = {"failed_nodes", "message", "key_columns", "inputs"}
_KEY_TEXT_TYPE = "NVARCHAR(200)"  # SQL Server index keys must stay under 900 bytes


def failed_nodes(run_results: dict[str, Any]) -> list[str]:
    """``unique_id (status)`` of every gated node that errored or failed."""
    failed = []
    for result in run_results.get("results") or []:
        node = str(result.get("unique_id", "?"))
        status = str(result.get("status", "")).lower()
        if node.startswith(GATED_NODE_TYPES) and status in FAILED_STATUSES:
            failed.append(f"{node} ({status})")
    return failed


@dataclass(frozen=True)
class BuildNode:
    unique_id: str
    resource_type: str
    status: str
    seconds: float
    message: str = ""


@dataclass(frozen=True)
class BuildRecord:
    """One dbt build: what the sync gate and the SLO report need to know about it."""

    invocation_id: str
    command: str | None             # dbt's `args.which`; None when the results do not say
    generated_at: dt.datetime | None
    run_date: str | None
    success: bool
    failed_nodes: tuple[str, ...]
    nodes: tuple[BuildNode, ...]
    recorded_at: dt.datetime | None = None
    project_hash: str | None = None  # None: recorded before builds recorded their project

    @classmethod
    def from_run_results(cls, data: dict[str, Any], run_date: str | None = None
                         ) -> BuildRecord:
        """Read a parsed ``run_results.json``; raises ValueError when it is not one. The
        run date is the one given, else a ``run_date`` var of the build's ``--vars`` (the
        runner gives dbt the date in its environment, which run_results.json does not
        keep)."""
        results = data.get("results")
        if not isinstance(results, list):
            raise ValueError("no `results` list")
        metadata = data.get("metadata") or {}
        args = data.get("args") or {}
        failed = failed_nodes(data)
        nodes = tuple(
            BuildNode(unique_id=str(r.get("unique_id", "?")),
                      resource_type=str(r.get("unique_id", "?")).split(".", 1)[0],
                      status=str(r.get("status", "?")).lower(),
                      seconds=float(r.get("execution_time") or 0.0),
                      message=str(r.get("message") or ""))
            for r in results if isinstance(r, dict))
        return cls(invocation_id=str(metadata.get("invocation_id") or ""),
                   command=args.get("which"), generated_at=_utc(metadata.get("generated_at")),
                   run_date=run_date or _run_date(args.get("vars")), success=not failed,
                   failed_nodes=tuple(failed), nodes=nodes)

    @property
    def built_at(self) -> str:
        return self.generated_at.isoformat(timespec="seconds") if self.generated_at else "?"


def _utc(text: Any) -> dt.datetime | None:
    """dbt's ``generated_at`` (ISO, with Z) as naive UTC, the warehouse's timestamp type."""
    try:
        stamp = dt.datetime.fromisoformat(str(text))
    except ValueError:
        return None
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(dt.UTC).replace(tzinfo=None)
    return stamp


def _run_date(variables: Any) -> str | None:
    if isinstance(variables, str):  # some dbt versions keep --vars as given
        try:
            variables = json.loads(variables)
        except ValueError:
            return None
    value = variables.get("run_date") if isinstance(variables, dict) else None
    return str(value) if value is not None else None


# --- statements ------------------------------------------------------------------------

def _sql_type(kind: str, table: Table, column: str, logical: str) -> str:
    if kind == "mssql" and logical == "text":
        if column in table.primary_key:
            return _KEY_TEXT_TYPE
        if column in _UNBOUNDED_TEXT:
            return "NVARCHAR(MAX)"
    return column_type(kind, logical)


def create_sql(kind: str) -> list[str]:
    """Create schema ``meta`` and both tables when missing."""
    schema = DBT_BUILDS.schema
    if kind == "mssql":
        statements = [f"IF SCHEMA_ID(N'{schema}') IS NULL "
                      f"EXEC(N'CREATE SCHEMA {quote(kind, schema)}')"]
    else:
        statements = [f"CREATE SCHEMA IF NOT EXISTS {quote(kind, schema)}"]
    for table in (DBT_BUILDS, DBT_BUILD_NODES, DBT_PROJECT_NODES, DBT_MART_KEYS,
                  DBT_MART_TABLES):
        parts = [f"{quote(kind, c)} {_sql_type(kind, table, c, t)}"
                 + (" NOT NULL" if c in table.primary_key else "") for c, t in table.columns]
        if table.primary_key:
            parts.append(f"PRIMARY KEY ({', '.join(quote(kind, c) for c in table.primary_key)})")
        body = f"{qualified(kind, table.schema, table.name)} ({', '.join(parts)})"
        statements.append(
            f"IF OBJECT_ID(N'{table.qualified_name}', N'U') IS NULL CREATE TABLE {body}"
            if kind == "mssql" else f"CREATE TABLE IF NOT EXISTS {body}")
    return statements + add_columns_sql(kind)


# Columns added to a table after warehouses had it, so they are added when missing.
_ADDED_COLUMNS = ((DBT_BUILDS, "project_hash"), (DBT_BUILDS, "inputs"))


def add_columns_sql(kind: str) -> list[str]:
    statements = []
    for table, column in _ADDED_COLUMNS:
        name = qualified(kind, table.schema, table.name)
        logical = dict(table.columns)[column]
        definition = f"{quote(kind, column)} {_sql_type(kind, table, column, logical)}"
        if kind == "mssql":
            statements.append(f"IF COL_LENGTH({literal(table.qualified_name, national=True)}, "
                              f"{literal(column, national=True)}) IS NULL "
                              f"ALTER TABLE {name} ADD {definition} NULL")
        else:
            statements.append(f"ALTER TABLE {name} ADD COLUMN IF NOT EXISTS {definition}")
    return statements


def delete_sql(kind: str, table: Table) -> str:
    """Forget an invocation before writing it, so recording the same results twice is safe."""
    return (f"DELETE FROM {qualified(kind, table.schema, table.name)} "
            f"WHERE {quote(kind, 'invocation_id')} = ?")


def last_build_sql(kind: str, present: set[str] | None = None) -> str:
    """The latest build; a column an older warehouse lacks (``present`` says which it has)
    reads as NULL, as reading never alters the table."""
    columns = ", ".join(quote(kind, c) if present is None or c in present else "NULL"
                        for c in DBT_BUILDS.column_names)
    order = f"ORDER BY {quote(kind, 'recorded_at')} DESC"
    builds = qualified(kind, DBT_BUILDS.schema, DBT_BUILDS.name)
    if kind == "mssql":
        return f"SELECT TOP 1 {columns} FROM {builds} {order}"
    return f"SELECT {columns} FROM {builds} {order} LIMIT 1"


def nodes_sql(kind: str) -> str:
    columns = ", ".join(quote(kind, c) for c in DBT_BUILD_NODES.column_names[1:])
    nodes = qualified(kind, DBT_BUILD_NODES.schema, DBT_BUILD_NODES.name)
    return (f"SELECT {columns} FROM {nodes} "
            f"WHERE {quote(kind, 'invocation_id')} = ? "
            f"ORDER BY {quote(kind, 'seconds')} DESC, {quote(kind, 'unique_id')}")


def _latest_results(kind: str, node_columns: tuple[str, ...],
                    build_columns: tuple[str, ...]) -> str:
    """Every node's results that are not `skipped` (a skipped node kept its earlier table),
    with columns of their builds; ``rn`` = 1 is each node's latest."""
    uid, status, recorded, invocation = (quote(kind, name) for name in (
        "unique_id", "status", "recorded_at", "invocation_id"))
    nodes, builds = (qualified(kind, t.schema, t.name) for t in (DBT_BUILD_NODES, DBT_BUILDS))
    columns = ", ".join([*(f"n.{quote(kind, c)}" for c in node_columns),
                         *(f"b.{quote(kind, c)}" for c in build_columns)])
    return (f"SELECT {columns}, "
            f"ROW_NUMBER() OVER (PARTITION BY n.{uid} ORDER BY b.{recorded} DESC) AS rn "
            f"FROM {nodes} AS n INNER JOIN {builds} AS b ON b.{invocation} = n.{invocation} "
            f"WHERE n.{status} <> 'skipped'")


def latest_states_sql(kind: str) -> str:
    """Each project node with its latest result that is not `skipped`, and when that build
    was made; NULL status = never built."""
    uid, kind_, feeds, status, seconds, generated = (
        quote(kind, name) for name in ("unique_id", "resource_type", "feeds_marts", "status",
                                       "seconds", "generated_at"))
    project = qualified(kind, DBT_PROJECT_NODES.schema, DBT_PROJECT_NODES.name)
    latest = _latest_results(kind, ("unique_id", "status", "seconds"), ("generated_at",))
    return (
        f"SELECT p.{uid}, p.{kind_}, p.{feeds}, l.{status}, l.{seconds}, l.{generated} "
        f"FROM {project} AS p LEFT JOIN ({latest}) AS l ON l.{uid} = p.{uid} AND l.rn = 1 "
        f"ORDER BY p.{uid}"
    )


def last_results_sql(kind: str) -> str:
    """Each node's latest result that is not `skipped`, with its build's time, project,
    run date and inputs (what ``--changed-only`` compares, transform/changed.py)."""
    built = ("recorded_at", "project_hash", "run_date", "inputs")
    columns = ", ".join(f"l.{quote(kind, c)}" for c in ("unique_id", "status", *built))
    latest = _latest_results(kind, ("unique_id", "status"), built)
    return f"SELECT {columns} FROM ({latest}) AS l WHERE l.rn = 1"


def node_input_sizes() -> list[tuple[int, int, int]]:
    """pyodbc ``setinputsizes`` for the node rows, so fast_executemany binds the message as
    NVARCHAR(MAX) instead of sizing every row's buffer by the first row's message."""
    import pyodbc

    def size(column: str, logical: str) -> tuple[int, int, int]:
        if logical == "float":
            return (pyodbc.SQL_DOUBLE, 0, 0)
        return (pyodbc.SQL_WVARCHAR, 0 if column in _UNBOUNDED_TEXT else 4000, 0)

    return [size(c, t) for c, t in DBT_BUILD_NODES.columns]


def columns_sql() -> str:
    # Upper case, as table_exists_sql: a case-sensitive database's catalog views are, too.
    return ("SELECT COLUMN_NAME FROM INFORMATION_SCHEMA.COLUMNS "
            "WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?")


def table_exists_sql() -> str:
    # Upper case: in a case-sensitive SQL Server database the view's name is, too.
    return ("SELECT COUNT(*) FROM INFORMATION_SCHEMA.TABLES "
            "WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?")


# --- reading and writing ------------------------------------------------------------------

def record_build(settings: Settings, run_results: dict[str, Any],
                 project: list[ProjectNode] | None = None,
                 project_hash: str | None = None, *,
                 keys: Mapping[str, tuple[str, ...]] | None = None,
                 marts: Mapping[str, str] | None = None,
                 run_date: str | None = None, inputs: str | None = None,
                 verified: tuple[list[str], str, bool] | None = None) -> None:
    """Write one build (a parsed ``run_results.json``) and its nodes in one transaction;
    ``project``, ``keys`` and ``marts`` (from the build's manifest) replace the recorded
    list of project nodes, the marts' keys and the marts' tables; ``project_hash`` says
    which project files it built, ``inputs`` what else (``transform.changed.Inputs``, as
    JSON); ``verified``: the incremental models whose tests all passed, the hash they
    passed under and whether they read whole tables (transform/verification.py)."""
    build = BuildRecord.from_run_results(run_results, run_date)
    if not build.invocation_id:
        raise ValueError("run_results.json has no `metadata.invocation_id`")
    if not build.nodes:
        raise ValueError("the build ran no node; an empty build is never recorded")
    url = settings.warehouse_url
    kind = url.kind
    if kind not in ("duckdb", "mssql"):
        raise ConfigError(f"DELTASTORE_WAREHOUSE_URL: cannot record dbt builds in a `{kind}` "
                          "warehouse; use DuckDB or SQL Server")
    recorded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    row = (build.invocation_id, build.command, build.generated_at, build.run_date,
           build.success, json.dumps(list(build.failed_nodes)), recorded_at, project_hash,
           inputs)
    node_rows = [(build.invocation_id, n.unique_id, n.resource_type, n.status, n.seconds,
                  n.message) for n in build.nodes]
    connection = connect(url)
    try:
        if kind == "duckdb":
            connection.begin()
        # DuckDB's cursor() is a second connection, outside this transaction.
        cursor = connection.cursor() if kind == "mssql" else connection
        for statement in create_sql(kind):
            cursor.execute(statement)
        for table in (DBT_BUILD_NODES, DBT_BUILDS):
            cursor.execute(delete_sql(kind, table), (build.invocation_id,))
        cursor.execute(insert_values_sql(kind, DBT_BUILDS), row)
        if node_rows:
            if kind == "mssql":
                cursor.fast_executemany = True  # one round trip, not one per node
                cursor.setinputsizes(node_input_sizes())
            cursor.executemany(insert_values_sql(kind, DBT_BUILD_NODES), node_rows)
            if kind == "mssql":
                # pyodbc keeps input sizes on the cursor until reset: the project rows
                # below would be bound as the node rows were (recorded_at as text).
                cursor.setinputsizes(None)
        if project:
            project_nodes = qualified(kind, DBT_PROJECT_NODES.schema, DBT_PROJECT_NODES.name)
            cursor.execute(f"DELETE FROM {project_nodes}")
            cursor.executemany(insert_values_sql(kind, DBT_PROJECT_NODES),
                               [(n.unique_id, n.resource_type, n.feeds_marts, recorded_at)
                                for n in project])
        if keys is not None:
            _replace_rows(cursor, kind, DBT_MART_KEYS,
                          [(mart, json.dumps(list(columns)), recorded_at)
                           for mart, columns in sorted(keys.items())])
        if marts is not None:
            _replace_rows(cursor, kind, DBT_MART_TABLES,
                          [(mart, uid, recorded_at) for mart, uid in sorted(marts.items())])
        if verified and verified[0]:
            _record_verified(cursor, kind, *verified, build.invocation_id, recorded_at)
        connection.commit()
    except driver_errors(kind) as exc:
        connection.rollback()
        raise classified(kind, exc, f"recording the dbt build in `{url}`") from None
    finally:
        connection.close()


def verified_sql(kind: str, count: int) -> list[str]:
    """Read what was recorded of ``count`` models, forget the keys they wrote, and record
    them verified (the tables dbt/macros/incremental/verification.sql makes; parameters:
    the models, three times, then for each model its row)."""
    marks = ", ".join("?" for _ in range(count))
    keys, verified = qualified(kind, *UNVERIFIED_KEYS), qualified(kind, *VERIFIED_MODELS)
    return [f"SELECT model, project_hash, whole_at FROM {verified} WHERE model IN ({marks})",
            f"DELETE FROM {keys} WHERE model IN ({marks})",
            f"DELETE FROM {verified} WHERE model IN ({marks})",
            f"INSERT INTO {verified} (model, project_hash, invocation_id, verified_at, "
            "whole_at) VALUES (?, ?, ?, ?, ?)"]


def _record_verified(cursor: Any, kind: str, models: list[str], project_hash: str,
                     whole: bool, invocation_id: str, recorded_at: dt.datetime) -> None:
    """Only where dbt made the tables: a build recorded without its on-run-start has
    none, and then no test read fewer rows. A model not verified under ``project_hash``
    before was tested whole, as every model is when ``whole``."""
    for table in (UNVERIFIED_KEYS, VERIFIED_MODELS):
        cursor.execute(table_exists_sql(), table)
        if not cursor.fetchone()[0]:
            return
    read, forget_keys, forget_models, insert = verified_sql(kind, len(models))
    cursor.execute(read, models)
    before = {str(m): (str(h), w) for m, h, w in cursor.fetchall()}
    cursor.execute(forget_keys, models)
    cursor.execute(forget_models, models)
    rows = []
    for model in models:
        old_hash, whole_at = before.get(model, (None, None))
        tested_whole = whole or old_hash != project_hash or whole_at is None
        rows.append((model, project_hash, invocation_id, recorded_at,
                     recorded_at if tested_whole else whole_at))
    cursor.executemany(insert, rows)


def _replace_rows(cursor: Any, kind: str, table: Table, rows: list[tuple[Any, ...]]) -> None:
    cursor.execute(f"DELETE FROM {qualified(kind, table.schema, table.name)}")
    if rows:
        cursor.executemany(insert_values_sql(kind, table), rows)


def record_build_file(settings: Settings, path: Path, not_before: float | None = None,
                      project_hash: str | None = None, run_date: str | None = None,
                      inputs: str | None = None, tests_hash: str | None = None,
                      tested_whole: bool = False) -> BuildRecord | None:
    """Record ``path`` (a run_results.json) unless missing or older than ``not_before``
    (a time.time() value: a file from an earlier run says nothing about this one);
    ``tests_hash``: what the tests ran under (``verification.verification_hash``), to
    record the incremental models they verified; ``tested_whole``: they read whole tables
    (--verify-whole-tables)."""
    try:
        # One second of slack for file systems with coarse modification times.
        if not_before is not None and os.path.getmtime(path) < not_before - 1.0:
            return None
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise TransientError(f"cannot record the dbt build: `{path}` is unreadable ({exc})"
                             ) from None
    if not isinstance(data, dict):
        raise TransientError(f"cannot record the dbt build: `{path}` is not a dbt "
                             "run_results.json")
    if data.get("results") == []:
        return None  # a build that ran nothing proves nothing: never recorded
    manifest = read_manifest(path.parent / "manifest.json", not_before)
    try:
        record_build(settings, data,
                     project_nodes(manifest) if manifest is not None else None, project_hash,
                     keys=mart_keys(manifest) if manifest is not None else None,
                     marts=mart_tables(manifest) if manifest is not None else None,
                     run_date=run_date, inputs=inputs,
                     verified=(verified_models(manifest, data), tests_hash, tested_whole)
                     if manifest is not None and tests_hash else None)
    except ValueError as exc:
        raise TransientError(f"cannot record the dbt build: `{path}` is not a dbt "
                             f"run_results.json ({exc})") from None
    return BuildRecord.from_run_results(data, run_date)


def read_manifest(manifest: Path, not_before: float | None) -> dict[str, Any] | None:
    """The build's manifest.json (None when absent or stale)."""
    try:
        if not_before is not None and os.path.getmtime(manifest) < not_before - 1.0:
            return None
        data = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class NodeState:
    """A project node and its latest result in any recorded build (None: never built)."""

    unique_id: str
    resource_type: str
    feeds_marts: bool
    status: str | None
    seconds: float
    built_at: dt.datetime | None


def latest_node_states(settings: Settings) -> list[NodeState] | None:
    """Every node of the project with its latest result; None when no build recorded one."""
    url = settings.warehouse_url
    if not may_hold_builds(url):
        return None
    connection = read_connection(url)
    try:
        cursor = connection.cursor()
        cursor.execute(table_exists_sql(), (DBT_PROJECT_NODES.schema, DBT_PROJECT_NODES.name))
        if not cursor.fetchone()[0]:
            return None
        cursor.execute(latest_states_sql(url.kind))
        rows = cursor.fetchall()
    except driver_errors(url.kind) as exc:
        raise classified(url.kind, exc, f"reading the dbt builds in `{url}`") from None
    finally:
        connection.close()
    if not rows:
        return None
    return [NodeState(str(u), str(r), bool(f), None if s is None else str(s), float(sec or 0),
                      at) for u, r, f, s, sec, at in rows]


def may_hold_builds(url: Any) -> bool:
    """Builds are recorded in DuckDB or SQL Server; a DuckDB file not yet made has none
    (and reading must not create it)."""
    if url.kind not in ("duckdb", "mssql"):
        return False
    return url.kind != "duckdb" or (url.path is not None and url.path.exists())


def read_connection(url: Any) -> Any:
    try:
        return connect(url, read_only=True)
    except DeltaStoreError as exc:
        # Typically a DuckDB instance dbt-duckdb keeps open (`keep_open: true`) after dbt
        # was invoked in-process other than through transform/runner.py.
        raise type(exc)(f"cannot read the dbt builds in the warehouse: {exc}; close the "
                        "other connections to it in this process first") from None


def last_build(settings: Settings) -> BuildRecord | None:
    """The latest recorded build (by ``recorded_at``), or None when none was recorded."""
    url = settings.warehouse_url
    kind = url.kind
    if not may_hold_builds(url):
        return None
    connection = read_connection(url)
    try:
        cursor = connection.cursor()
        cursor.execute(columns_sql(), (DBT_BUILDS.schema, DBT_BUILDS.name))
        present = {str(name) for (name,) in cursor.fetchall()}
        if not present:  # no table yet: nothing recorded
            return None
        cursor.execute(last_build_sql(kind, present))
        row = cursor.fetchone()
        if row is None:
            return None
        values = dict(zip(DBT_BUILDS.column_names, row, strict=True))
        cursor.execute(nodes_sql(kind), (values["invocation_id"],))
        nodes = tuple(BuildNode(str(u), str(r), str(s), float(sec or 0.0), str(m or ""))
                      for u, r, s, sec, m in cursor.fetchall())
    except driver_errors(kind) as exc:
        raise classified(kind, exc, f"reading the dbt builds in `{url}`") from None
    finally:
        connection.close()
    return BuildRecord(
        invocation_id=str(values["invocation_id"]), command=values["command"],
        generated_at=values["generated_at"], run_date=values["run_date"],
        success=bool(values["success"]),
        failed_nodes=tuple(json.loads(values["failed_nodes"] or "[]")), nodes=nodes,
        recorded_at=values["recorded_at"], project_hash=values["project_hash"])
