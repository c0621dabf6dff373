"""The dbt build record in the warehouse: round trip on a real DuckDB file, one transaction,
statements for both databases (the SQL Server ones parsed as T-SQL)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot
from odbc_recorder import OdbcRecorder, pyodbc_error

from deltastore.errors import ConfigError, TransientError
from deltastore.schemas import (
    DBT_BUILD_NODES,
    DBT_BUILDS,
    DBT_MART_KEYS,
    DBT_MART_TABLES,
    DBT_PROJECT_NODES,
)
from deltastore.settings import Settings
from deltastore.sql_names import insert_values_sql, quote
from deltastore.transform import build_log
from deltastore.transform.build_log import BuildNode, last_build, record_build, record_build_file
from deltastore.transform.lineage import ProjectNode, mart_keys, project_nodes


def _results(invocation: str, statuses: dict[str, tuple[str, float]],
             generated_at: str = "2026-03-01T04:05:06.123456Z") -> dict[str, Any]:
    return {
        "metadata": {"generated_at": generated_at, "invocation_id": invocation},
        "args": {"which": "build", "vars": {"run_date": "2026-02-28", "on_time_days": 5}},
        "results": [{"unique_id": node, "status": status, "execution_time": seconds,
                     "message": f"{status} message" if status != "success" else None}
                    for node, (status, seconds) in statuses.items()],
    }


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env({"DELTASTORE_DATA_DIR": str(tmp_path / "data")})


def test_round_trip_keeps_the_latest_build_with_failures_and_timings(settings: Settings) -> None:
    assert last_build(settings) is None  # no warehouse file yet ...
    assert settings.warehouse_url.path is not None
    assert not settings.warehouse_url.path.exists()  # ... and reading did not create one

    record_build(settings, _results("first", {"model.p.a": ("success", 1.0)}))
    record_build(settings, _results("second", {
        "model.p.a": ("success", 2.5), "test.p.not_null_a": ("fail", 0.25),
        "model.p.b": ("error", 0.5), "test.p.warned": ("warn", 0.1),
        "seed.p.states": ("success", 0.75)}))
    build = last_build(settings)
    assert build is not None
    assert build.invocation_id == "second"
    assert build.command == "build" and build.run_date == "2026-02-28"
    assert build.generated_at == dt.datetime(2026, 3, 1, 4, 5, 6, 123456)
    assert build.success is False
    assert build.failed_nodes == ("test.p.not_null_a (fail)", "model.p.b (error)")
    assert build.nodes[0] == BuildNode("model.p.a", "model", "success", 2.5, "")
    assert [n.unique_id for n in build.nodes] == [
        "model.p.a", "seed.p.states", "model.p.b", "test.p.not_null_a", "test.p.warned"]
    assert build.nodes[2].message == "error message"
    assert build.recorded_at is not None
    with duckdb.connect(str(settings.warehouse_url.path), read_only=True) as con:
        counts = con.execute("select invocation_id, count(*) from meta.dbt_build_nodes "
                             "group by 1 order by 1").fetchall()
        stored = con.execute("select failed_nodes, success from meta.dbt_builds "
                             "where invocation_id = 'second'").fetchone()
    assert counts == [("first", 1), ("second", 5)]
    assert stored is not None and json.loads(stored[0]) == list(build.failed_nodes)
    assert stored[1] is False


def test_recording_the_same_invocation_twice_keeps_one_copy(settings: Settings) -> None:
    results = _results("again", {"model.p.a": ("success", 1.0), "test.p.t": ("pass", 0.1)})
    record_build(settings, results)
    record_build(settings, results)
    with duckdb.connect(str(settings.warehouse_url.path), read_only=True) as con:
        assert con.execute("select count(*) from meta.dbt_builds").fetchone() == (1,)
        assert con.execute("select count(*) from meta.dbt_build_nodes").fetchone() == (2,)


def test_a_failed_write_records_nothing(settings: Settings) -> None:
    """Build and nodes are one transaction: a nodes table that rejects the rows rolls the
    build row back as well."""
    assert settings.warehouse_url.path is not None
    settings.warehouse_url.path.parent.mkdir(parents=True)
    with duckdb.connect(str(settings.warehouse_url.path)) as con:
        con.execute("create schema meta; create table meta.dbt_build_nodes (invocation_id int)")
    # The table's shape is wrong (a binder error): fixing it is a migration, not a retry.
    with pytest.raises(ConfigError, match="recording the dbt build in `duckdb://"):
        record_build(settings, _results("lost", {"model.p.a": ("success", 1.0)}))
    with duckdb.connect(str(settings.warehouse_url.path), read_only=True) as con:
        tables = con.execute("select table_name from information_schema.tables "
                             "where table_schema = 'meta'").fetchall()
    assert tables == [("dbt_build_nodes",)]  # not even meta.dbt_builds was left behind
    assert last_build(settings) is None


def test_record_build_file_skips_missing_and_stale_results(settings: Settings,
                                                           tmp_path: Path) -> None:
    path = tmp_path / "run_results.json"
    assert record_build_file(settings, path) is None
    path.write_text(json.dumps(_results("from-file", {"model.p.a": ("success", 1.0)})))
    # A file written before this build started belongs to an earlier run.
    assert record_build_file(settings, path, not_before=path.stat().st_mtime + 60) is None
    assert last_build(settings) is None
    recorded = record_build_file(settings, path, not_before=path.stat().st_mtime)
    assert recorded is not None and recorded.invocation_id == "from-file"
    last = last_build(settings)
    assert last is not None and last.invocation_id == "from-file"
    path.write_text(json.dumps({"metadata": {}, "results": []}))
    assert record_build_file(settings, path) is None  # an empty build is never recorded
    assert last_build(settings).invocation_id == "from-file"  # type: ignore[union-attr]
    path.write_text(json.dumps({"metadata": {}, "results": [{"unique_id": "model.p.a"}]}))
    with pytest.raises(TransientError, match="no `metadata.invocation_id`"):
        record_build_file(settings, path)


@pytest.mark.parametrize("kind", ["duckdb", "mssql"])
def test_statements_name_every_column_once(kind: str) -> None:
    creates = build_log.create_sql(kind)
    assert len(creates) == 8   # the schema, five tables, two added columns
    for table, create in zip((DBT_BUILDS, DBT_BUILD_NODES, DBT_PROJECT_NODES, DBT_MART_KEYS,
                              DBT_MART_TABLES), creates[1:6], strict=True):
        for column in table.column_names:
            assert quote(kind, column) in create
        insert = insert_values_sql(kind, table)
        assert insert.count("?") == len(table.columns)
    assert build_log.nodes_sql(kind).count("?") == 1


def test_a_warehouse_from_before_the_project_hash_gets_the_column(settings: Settings) -> None:
    """Builds recorded before `project_hash` existed read back with None; the next record
    adds the column (ALTER TABLE ... ADD, idempotent) and fills it."""
    record_build(settings, _results("old", {"model.p.a": ("success", 1.0)}))
    path = settings.warehouse_url.path
    assert path is not None
    with duckdb.connect(str(path)) as con:
        con.execute('ALTER TABLE "meta"."dbt_builds" DROP COLUMN "project_hash"')
    old = last_build(settings)
    assert old is not None and (old.invocation_id, old.project_hash) == ("old", None)
    record_build(settings, _results("new", {"model.p.a": ("success", 1.0)},
                                    generated_at="2026-03-02T00:00:00Z"), project_hash="abc")
    new = last_build(settings)
    assert new is not None and (new.invocation_id, new.project_hash) == ("new", "abc")


def test_statements_run_on_duckdb() -> None:
    """The DuckDB statements against an in-memory database (no file needed)."""
    with duckdb.connect() as con:
        for statement in build_log.create_sql("duckdb") * 2:  # idempotent
            con.execute(statement)
        con.execute(insert_values_sql("duckdb", DBT_BUILDS),
                    ("x", "build", None, None, True, "[]", dt.datetime(2026, 1, 1), "h", None))
        assert con.execute(build_log.last_build_sql("duckdb")).fetchone()[0] == "x"
        con.execute(build_log.delete_sql("duckdb", DBT_BUILDS), ("x",))
        assert con.execute(build_log.last_build_sql("duckdb")).fetchone() is None


def _mssql_statements() -> list[str]:
    return [*build_log.create_sql("mssql"),
            *(insert_values_sql("mssql", t) for t in (DBT_BUILDS, DBT_BUILD_NODES,
                                                      DBT_PROJECT_NODES, DBT_MART_KEYS,
                                                      DBT_MART_TABLES)),
            *(build_log.delete_sql("mssql", t) for t in (DBT_BUILDS, DBT_BUILD_NODES)),
            build_log.last_build_sql("mssql"), build_log.nodes_sql("mssql"),
            build_log.latest_states_sql("mssql"), build_log.table_exists_sql(),
            build_log.columns_sql(), build_log.last_build_sql("mssql", {"invocation_id"}),
            *build_log.verified_sql("mssql", 2)]


@pytest.mark.parametrize("statement", _mssql_statements())
def test_mssql_statements_parse_as_tsql(statement: str) -> None:
    parsed = sqlglot.parse(statement, read="tsql")
    assert parsed and all(p is not None for p in parsed)


def test_mssql_types_keep_long_text_whole_and_keys_indexable() -> None:
    builds, nodes, project, keys, marts = build_log.create_sql("mssql")[1:6]
    assert "[unique_id] NVARCHAR(200) NOT NULL" in project
    assert "[mart] NVARCHAR(200) NOT NULL" in keys and "[key_columns] NVARCHAR(MAX)" in keys
    assert "[mart] NVARCHAR(200) NOT NULL" in marts
    assert "[invocation_id] NVARCHAR(200) NOT NULL" in builds
    assert "[failed_nodes] NVARCHAR(MAX)" in builds and "[message] NVARCHAR(MAX)" in nodes
    assert "[recorded_at] DATETIME2(6)" in builds and "[success] BIT" in builds
    assert "SELECT TOP 1" in build_log.last_build_sql("mssql")


@pytest.mark.odbc
def test_mssql_node_input_sizes_follow_the_columns() -> None:
    import pyodbc

    sizes = dict(zip(DBT_BUILD_NODES.column_names, build_log.node_input_sizes(), strict=True))
    assert sizes["seconds"] == (pyodbc.SQL_DOUBLE, 0, 0)
    assert sizes["message"] == (pyodbc.SQL_WVARCHAR, 0, 0)  # 0 binds as NVARCHAR(MAX)
    assert sizes["unique_id"] == (pyodbc.SQL_WVARCHAR, 4000, 0)


def test_latest_state_of_every_node_across_partial_builds(settings: Settings) -> None:
    """A partial build does not clear another node's failure; skipped keeps the last result."""
    project = [ProjectNode("model.p.a", "model", True), ProjectNode("model.p.b", "model", True),
               ProjectNode("test.p.t", "test", True), ProjectNode("model.p.side", "model", False),
               ProjectNode("model.p.new", "model", True)]
    record_build(settings, _results("full", {"model.p.a": ("success", 1.0),
                                              "model.p.b": ("error", 2.0),
                                              "test.p.t": ("pass", 0.1),
                                              "model.p.side": ("success", 0.5)}), project)
    record_build(settings, _results("only-a", {"model.p.a": ("success", 3.0),
                                                "test.p.t": ("skipped", 0.0)}))
    states = {s.unique_id: s for s in build_log.latest_node_states(settings) or []}
    assert {u: (s.status, s.seconds, s.feeds_marts) for u, s in states.items()} == {
        "model.p.a": ("success", 3.0, True), "model.p.b": ("error", 2.0, True),
        "test.p.t": ("pass", 0.1, True), "model.p.side": ("success", 0.5, False),
        "model.p.new": (None, 0.0, True)}


def test_lineage_flags_what_feeds_the_published_marts() -> None:
    def node(kind: str, parents: list[str], schema: str = "staging",
             materialized: str = "view") -> dict[str, object]:
        return {"resource_type": kind, "schema": schema, "depends_on": {"nodes": parents},
                "config": {"materialized": materialized}}

    manifest = {"nodes": {
        "seed.p.s": node("seed", []),
        "model.p.stg": node("model", ["seed.p.s", "source.p.raw.t"]),
        "model.p.mart": node("model", ["model.p.stg"], "analytics", "table"),
        "model.p.view_mart": node("model", ["model.p.other"], "analytics", "view"),
        "model.p.other": node("model", []),
        "snapshot.p.snap": node("snapshot", ["model.p.stg"], "snapshots", "snapshot"),
        "test.p.on_stg": node("test", ["model.p.stg"]),
        "test.p.on_snap": node("test", ["snapshot.p.snap"]),
    }, "unit_tests": {"unit_test.p.mart.u": node("unit_test", ["model.p.mart"])}}
    feeds = {n.unique_id: n.feeds_marts for n in project_nodes(manifest)}
    assert feeds == {"seed.p.s": True, "model.p.stg": True, "model.p.mart": True,
                     "model.p.view_mart": False, "model.p.other": False,
                     "snapshot.p.snap": False, "test.p.on_stg": True, "test.p.on_snap": False,
                     "unit_test.p.mart.u": True}


def _test_node(name: str, model: str, severity: str = "ERROR", where: str | None = None,
               **kwargs: object) -> dict[str, object]:
    """A data test as dbt 1.11's manifest.json writes it (test_metadata, attached_node)."""
    return {"resource_type": "test", "attached_node": f"model.p.{model}",
            "test_metadata": {"name": name, "namespace": None, "kwargs": kwargs},
            "config": {"enabled": True, "severity": severity, "where": where}}


def test_mart_keys_are_the_columns_the_build_proves_unique_and_not_null() -> None:
    def mart(name: str, columns: list[str], schema: str = "analytics") -> dict[str, object]:
        return {"resource_type": "model", "name": name, "schema": schema,
                "columns": {c: {} for c in columns}}

    manifest = {"nodes": {
        "model.p.fct": mart("fct", ["line_id", "order_id"]),
        "model.p.kpi": mart("kpi", ["month", "store", "total"]),
        "model.p.loose": mart("loose", ["a", "b"]),
        "model.p.stg": mart("stg", ["id"], schema="staging"),
        # fct: two keys; the first single column in yml order wins
        "test.p.1": _test_node("unique", "fct", column_name="order_id"),
        "test.p.2": _test_node("not_null", "fct", column_name="order_id"),
        "test.p.3": _test_node("unique", "fct", column_name="line_id"),
        "test.p.4": _test_node("not_null", "fct", column_name="line_id"),
        "test.p.5": _test_node("unique_combination", "kpi", columns=["month", "store"]),
        "test.p.6": _test_node("not_null", "kpi", column_name="month"),
        "test.p.7": _test_node("not_null", "kpi", column_name="store"),
        # loose: unique without not_null, a warning, a filtered test: none of them a key
        "test.p.8": _test_node("unique", "loose", column_name="a"),
        "test.p.9": _test_node("unique", "loose", severity="warn", column_name="b"),
        "test.p.10": _test_node("not_null", "loose", severity="warn", column_name="b"),
        "test.p.11": _test_node("not_null", "loose", where="a > 0", column_name="a"),
        "test.p.12": _test_node("unique", "stg", column_name="id"),
        "test.p.13": _test_node("not_null", "stg", column_name="id"),
    }}
    assert mart_keys(manifest) == {"fct": ("line_id",), "kpi": ("month", "store")}


def test_a_build_records_its_marts_keys_and_tables(settings: Settings, tmp_path: Path) -> None:
    def model(name: str, schema: str = "analytics", materialized: str = "table",
              **extra: object) -> dict[str, object]:
        return {"resource_type": "model", "name": name, "schema": schema, "columns": {"id": {}},
                "depends_on": {"nodes": []}, "config": {"materialized": materialized}, **extra}

    target = tmp_path / "target"
    target.mkdir()
    (target / "run_results.json").write_text(json.dumps(
        {"metadata": {"invocation_id": "k", "generated_at": "2026-01-01T02:00:00Z"},
         "args": {"which": "build"},
         "results": [{"unique_id": "model.p.fct", "status": "success",
                      "execution_time": 1.0}]}))
    (target / "manifest.json").write_text(json.dumps({"nodes": {
        "model.p.fct": model("fct"),
        "model.p.fct_v2": model("fct_v2", alias="fct_orders"),  # the table is the alias
        "model.p.kpi": model("kpi", materialized="incremental"),
        "model.p.v": model("v", materialized="view"),
        "model.p.inline": model("inline", materialized="ephemeral"),
        "model.p.stg": model("stg", "staging"),
        "seed.p.codes": {"resource_type": "seed", "name": "codes", "schema": "analytics",
                         "config": {"materialized": "seed"}},
        "test.p.u": _test_node("unique", "fct", column_name="id"),
        "test.p.n": _test_node("not_null", "fct", column_name="id")}}))
    assert record_build_file(settings, target / "run_results.json") is not None
    with duckdb.connect(str(settings.warehouse_url.path), read_only=True) as con:
        assert con.execute("select mart, key_columns from meta.dbt_mart_keys").fetchall() == [
            ("fct", '["id"]')]
        assert con.execute("select mart, unique_id from meta.dbt_mart_tables order by 1"
                           ).fetchall() == [("codes", "seed.p.codes"), ("fct", "model.p.fct"),
                                            ("fct_orders", "model.p.fct_v2"),
                                            ("kpi", "model.p.kpi")]


def _mssql_settings(tmp_path: Path) -> Settings:
    return Settings.from_env({"DELTASTORE_DATA_DIR": str(tmp_path / "data"),
                              "DELTASTORE_WAREHOUSE_URL": "mssql://dbt_loader@wh/warehouse",
                              "DELTASTORE_WAREHOUSE_PASSWORD": "pw"})


def test_mssql_project_rows_are_not_bound_with_the_node_rows_sizes(
        odbc: OdbcRecorder, tmp_path: Path) -> None:
    """Review MINOR 11: pyodbc keeps a cursor's input sizes until reset, so the project
    nodes' rows were bound as NVARCHAR(4000) and recorded_at lost its fraction."""
    project = [ProjectNode("model.p.a", "model", True)]
    record_build(_mssql_settings(tmp_path), _results("inv", {"model.p.a": ("success", 1.0)}),
                 project)
    sizes = {sql: inputsizes for sql, _, inputsizes in odbc.executed}
    assert sizes[insert_values_sql("mssql", DBT_BUILD_NODES)] == build_log.node_input_sizes()
    assert sizes[insert_values_sql("mssql", DBT_PROJECT_NODES)] is None


def test_mssql_record_errors_exit_by_their_number(odbc: OdbcRecorder, tmp_path: Path) -> None:
    """Review MINOR 6: every driver error here was exit 1; a refused INSERT is exit 2."""
    odbc.failures[insert_values_sql("mssql", DBT_BUILDS)] = pyodbc_error(
        "ProgrammingError", "42000", "The INSERT permission was denied on the object "
        "'dbt_builds', database 'warehouse', schema 'meta'.", 229)
    with pytest.raises(ConfigError, match="SQL Server error 229"):
        record_build(_mssql_settings(tmp_path), _results("inv", {"m.a": ("success", 1.0)}))
