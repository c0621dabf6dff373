"""The mart sync against real DuckDB files: copy, verify, all-or-nothing swap, gate, T-SQL."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot
from published import contents, run_results

from deltastore.errors import ConfigError, DataError, TransientError
from deltastore.mssql_errors import is_transient, native_error
from deltastore.settings import Settings
from deltastore.sync import state as sync_state
from deltastore.sync import statements as sync_sql
from deltastore.sync import sync_marts
from deltastore.sync.statements import Column
from deltastore.sync.table_copy import read_batches
from deltastore.sync.volume import volume_drops
from deltastore.transform.build_log import record_build
from deltastore.transform.lineage import ProjectNode
from deltastore.workflows.cli import main

MARTS = ("dim_things", "kpi_summary", "kpi_empty")
# The dbt project's nodes as `deltastore build` records them from the manifest.
PROJECT = [ProjectNode("model.deltastore.dim_things", "model", True),
           ProjectNode("test.deltastore.unique_dim_things_id", "test", True),
           ProjectNode("model.deltastore.kpi_summary", "model", True),
           ProjectNode("test.deltastore.not_null_dim_things_id", "test", True),
           ProjectNode("test.deltastore.warned", "test", True),
           ProjectNode("model.deltastore.downstream", "model", True)]

WAREHOUSE_SQL = """
create schema analytics;
create table analytics.dim_things (
    id bigint, name varchar, price decimal(12,2), rate double, day date, seen_at timestamp,
    active boolean, big_total hugeint
);
insert into analytics.dim_things values
    (1, 'Zoë, "quoted"', 12.50, 0.0078125, date '2025-01-31',
     timestamp '2025-01-31 23:59:59.123456', true, 12345678901234567890123456789),
    (2, NULL, -0.50, -0.0078125, NULL, timestamp '2025-02-01 00:00:00', false, -5),
    (3, '', 0.00, 1e-7, date '2024-02-29', NULL, NULL, NULL),
    (4, 'line
break', NULL, NULL, date '2025-12-31', timestamp '2025-12-31 12:00:00.5', true, 0),
    (5, '\\N', 99999.99, 3.3333333333333335, date '2025-06-15',
     timestamp '2025-06-15 08:30:00', false, 42);
create table analytics.kpi_summary as
    select 7::bigint as customers, sum(price) as revenue,
           timestamptz '2026-01-01 02:00:00+00' as built_at, 'x'::varchar as note
    from analytics.dim_things;
create table analytics.kpi_empty (month date, orders bigint, share double);
create view analytics.v_helper as select id from analytics.dim_things;
"""


def _write_run_results(path: Path, statuses: dict[str, str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(run_results(statuses)))
    return path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    data_dir = tmp_path / "data"
    s = Settings.from_env({"DELTASTORE_DATA_DIR": str(data_dir), "DELTASTORE_BATCH_SIZE": "2"})
    assert s.warehouse_url.path is not None
    s.warehouse_url.path.parent.mkdir(parents=True)
    with duckdb.connect(str(s.warehouse_url.path)) as con:
        con.execute(WAREHOUSE_SQL)
    # What `deltastore build` leaves in the warehouse: the sync gate reads it.
    record_build(s, run_results({n.unique_id: "pass" if n.resource_type == "test" else "success"
                                  for n in PROJECT}), PROJECT,
                 marts={m: f"model.deltastore.{m}" for m in MARTS})
    return s


def _warehouse_marts(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    marts = contents(settings.warehouse_url.path)
    marts.pop("v_helper")
    return marts


def _change_warehouse(settings: Settings) -> None:
    with duckdb.connect(str(settings.warehouse_url.path)) as con:
        con.execute("update analytics.dim_things set price = price + 1")
        con.execute("insert into analytics.kpi_empty values (date '2025-01-01', 3, 0.5)")


def test_sync_twice_publishes_identical_marts(settings: Settings) -> None:
    lines: list[str] = []
    first = sync_marts(settings, echo=lines.append)
    assert [r.table for r in first] == sorted(MARTS)
    assert all(r.checksum_match for r in first)
    assert {r.table: r.rows for r in first} == {"dim_things": 5, "kpi_empty": 0, "kpi_summary": 1}
    published = contents(settings.sync_target_url.path)
    assert published == _warehouse_marts(settings)  # views excluded, no shadows left
    assert any("analytics.dim_things: swapped in, 5 rows, checksum match" in line
               for line in lines)

    second = sync_marts(settings, echo=lines.append)
    assert contents(settings.sync_target_url.path) == published
    assert [(r.rows, r.target_checksum) for r in second] == [
        (r.rows, r.target_checksum) for r in first]


def test_batched_copy_matches_in_duckdb_copy(settings: Settings) -> None:
    attached = sync_marts(settings, echo=lambda _: None)
    attached_contents = contents(settings.sync_target_url.path)
    batched = sync_marts(settings, echo=lambda _: None, batched=True)
    # The two paths verify with different checksums (DuckDB's row hash when one DuckDB
    # reads both sides, the portable one otherwise); what they publish is the same.
    assert [(r.table, r.rows) for r in batched] == [(r.table, r.rows) for r in attached]
    assert all(r.checksum_match for r in [*attached, *batched])
    published = contents(settings.sync_target_url.path)
    assert _naive_utc(published) == _naive_utc(attached_contents)
    warehouse = _warehouse_marts(settings)
    assert published["dim_things"] == warehouse["dim_things"]
    # Aware timestamps are published as UTC wall-clock time.
    assert published["kpi_summary"][0][2].isoformat() == "2026-01-01T02:00:00"


def _naive_utc(tables: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    """Aware timestamps as UTC wall-clock time, which is how a batched copy writes them."""
    def plain(value: Any) -> Any:
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return value.astimezone(dt.UTC).replace(tzinfo=None)
        return value
    return {name: [tuple(plain(v) for v in row) for row in rows]
            for name, rows in tables.items()}


def test_read_batches_streams_at_most_batch_size_rows(settings: Settings) -> None:
    with duckdb.connect(str(settings.warehouse_url.path), read_only=True) as con:
        columns = [Column("id", "int"), Column("name", "text")]
        sizes = [len(b) for b in read_batches(con, "duckdb", "analytics", "dim_things",
                                              columns, 2)]
    assert sizes == [2, 2, 1]


def _failing_at(stage: str, table: str) -> Any:
    def hook(seen_stage: str, seen_table: str, _conn: Any) -> None:
        if (seen_stage, seen_table) == (stage, table):
            raise RuntimeError(f"injected failure at {stage} of {table}")
    return hook


@pytest.mark.parametrize(("stage", "full"), [("shadow-loaded", True), ("swap", True),
                                             ("swap", False)])
def test_failure_midway_leaves_target_unchanged(settings: Settings, stage: str,
                                                full: bool) -> None:
    sync_marts(settings, echo=lambda _: None)
    before = contents(settings.sync_target_url.path)
    _change_warehouse(settings)
    with pytest.raises(TransientError, match="injected failure"):
        sync_marts(settings, echo=lambda _: None, hook=_failing_at(stage, "kpi_empty"),
                   full=full)
    assert contents(settings.sync_target_url.path) == before
    # The next run publishes the new data.
    sync_marts(settings, echo=lambda _: None)
    assert contents(settings.sync_target_url.path) == _warehouse_marts(settings)


def test_checksum_mismatch_aborts_before_publishing(settings: Settings) -> None:
    sync_marts(settings, echo=lambda _: None)
    before = contents(settings.sync_target_url.path)

    def tamper(stage: str, table: str, conn: Any) -> None:
        if stage == "shadow-loaded" and table == "dim_things":
            conn.execute("update analytics.dim_things__sync_shadow set name = 'tampered' "
                         "where id = 3")

    lines: list[str] = []
    with pytest.raises(DataError, match="differs after the copy") as err:
        sync_marts(settings, echo=lines.append, hook=tamper, full=True)
    assert err.value.exit_code == 3
    assert any("CHECKSUM MISMATCH" in line for line in lines)
    assert contents(settings.sync_target_url.path) == before


def test_leftovers_of_a_crashed_run_are_dropped(settings: Settings) -> None:
    assert settings.sync_target_url.path is not None
    with duckdb.connect(str(settings.sync_target_url.path)) as con:
        con.execute("create schema analytics")
        con.execute("create table analytics.dim_things__sync_shadow as select 1 as junk")
        con.execute("create table analytics.gone__sync_old as select 1 as junk")
    lines: list[str] = []
    sync_marts(settings, echo=lines.append)
    assert set(contents(settings.sync_target_url.path)) == set(MARTS)
    assert sum("left by an earlier sync" in line for line in lines) == 2


def test_gate_blocks_a_failed_build_recorded_in_the_warehouse_and_force_passes_it(
        settings: Settings, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # No run_results.json anywhere: on Kubernetes the sync pod never sees the build's files.
    assert not (settings.data_dir / "dbt").exists()
    lines: list[str] = []
    sync_marts(settings, echo=lines.append)
    assert ("sync gate: the latest results of all 6 nodes feeding the marts passed (builds of "
            "2026-01-01 02:00:00 to 2026-01-01 02:00:00)") in lines

    record_build(settings, run_results(
        {"model.deltastore.dim_things": "success", "model.deltastore.kpi_summary": "error",
         "test.deltastore.not_null_dim_things_id": "fail", "test.deltastore.warned": "warn",
         "model.deltastore.downstream": "skipped"}, invocation="inv-2"))
    _change_warehouse(settings)
    published = contents(settings.sync_target_url.path)
    with pytest.raises(DataError) as err:
        sync_marts(settings, echo=lambda _: None)
    message = str(err.value)
    assert message.startswith("of the 6 dbt nodes feeding the marts, 2 failed: ")
    assert "model.deltastore.kpi_summary (error)" in message
    assert "test.deltastore.not_null_dim_things_id (fail)" in message
    assert "warned" not in message and "--force" in message
    assert contents(settings.sync_target_url.path) == published

    monkeypatch.setenv("DELTASTORE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DELTASTORE_BATCH_SIZE", "2")
    assert main(["sync"]) == 3
    assert "error: of the 6 dbt nodes feeding the marts, 2 failed" in capsys.readouterr().err
    assert main(["sync", "--force"]) == 0
    assert "sync gate overridden (--force)" in capsys.readouterr().out
    assert contents(settings.sync_target_url.path) == _warehouse_marts(settings)


def test_gate_refuses_a_node_feeding_the_marts_that_was_never_built(
        settings: Settings) -> None:
    record_build(settings, run_results({"model.deltastore.dim_things": "success"}, "inv-new"),
                 [*PROJECT, ProjectNode("model.deltastore.brand_new", "model", True),
                  ProjectNode("model.deltastore.unrelated", "model", False)])
    with pytest.raises(DataError, match=r"of the 7 dbt nodes feeding the marts, 1 never "
                                        r"built: `model.deltastore.brand_new` \("):
        sync_marts(settings, echo=lambda _: None)
    assert not settings.sync_target_url.path.exists()  # type: ignore[union-attr]


def _record_marts(settings: Settings, marts: tuple[str, ...], invocation: str) -> None:
    """A passing build whose project's marts are ``marts``."""
    record_build(settings, run_results({n.unique_id: "pass" if n.resource_type == "test"
                                        else "success" for n in PROJECT}, invocation), PROJECT,
                 marts={m: f"model.deltastore.{m}" for m in marts})


def test_a_table_no_model_builds_any_more_is_left_out_and_named(settings: Settings) -> None:
    """A model removed or renamed leaves its table in the warehouse; no build vouches for
    it, so the sync must not publish it as if the gate had."""
    with duckdb.connect(str(settings.warehouse_url.path)) as con:
        con.execute("create table analytics.fct_old_orders as select 1 as id")
    _record_marts(settings, (*MARTS, "fct_old_orders"), "inv-with-old")
    assert "fct_old_orders" in {r.table for r in sync_marts(settings, echo=lambda _: None)}

    # The model is gone; its table stays behind, and keeps changing under a stale process.
    _record_marts(settings, MARTS, "inv-without-old")
    with duckdb.connect(str(settings.warehouse_url.path)) as con:
        con.execute("insert into analytics.fct_old_orders values (2)")
    _change_warehouse(settings)
    lines: list[str] = []
    results = sync_marts(settings, echo=lines.append)
    assert sorted(r.table for r in results) == sorted(MARTS)
    assert ("sync: left out `analytics.fct_old_orders`: no model of the dbt project builds it "
            "(removed or renamed?), so no build vouches for it; drop it from the warehouse. A "
            "copy published earlier stays in the target as it was") in lines
    assert ("sync: the target also holds `analytics.fct_old_orders`, which no mart of the last "
            "build publishes: left as it was; drop it there once nothing reads it") in lines
    published = contents(settings.sync_target_url.path)
    assert published.pop("fct_old_orders") == [(1,)]  # as last published
    marts = _warehouse_marts(settings)
    marts.pop("fct_old_orders")
    assert published == marts


def test_a_failure_to_list_the_target_after_the_publish_does_not_fail_the_sync(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from deltastore.sync import publish

    stages: list[str] = []
    existing = publish._Sync._existing

    def flaky(self: Any, target: Any) -> set[str]:
        if "promoted" in stages:
            raise TransientError("the connection dropped")
        return existing(self, target)

    monkeypatch.setattr(publish._Sync, "_existing", flaky)
    lines: list[str] = []
    results = sync_marts(settings, echo=lines.append,
                         hook=lambda stage, table, conn: stages.append(stage))
    assert sorted(r.table for r in results) == sorted(MARTS)
    assert ("sync: published; listing the target's other tables failed (the connection "
            "dropped)") in lines
    assert contents(settings.sync_target_url.path) == _warehouse_marts(settings)


def test_a_warehouse_whose_builds_recorded_no_mart_tables_publishes_every_table(
        settings: Settings) -> None:
    """Builds recorded by an older deltastore have no `meta.dbt_mart_tables`: the sync keeps
    its old behaviour and says so, rather than publishing nothing."""
    with duckdb.connect(str(settings.warehouse_url.path)) as con:
        con.execute("drop table meta.dbt_mart_tables")
        con.execute("create table analytics.fct_extra as select 1 as id")
    lines: list[str] = []
    results = sync_marts(settings, echo=lines.append)
    assert sorted(r.table for r in results) == sorted((*MARTS, "fct_extra"))
    assert any(line.startswith("sync: the warehouse has no record of which tables the dbt "
                               "project's marts build") for line in lines)


def test_a_warehouse_with_no_table_of_the_recorded_marts_publishes_nothing(
        settings: Settings) -> None:
    _record_marts(settings, ("fct_renamed",), "inv-renamed")
    with pytest.raises(DataError, match=r"none of the 3 tables in schema `analytics` of "
                                        r"`duckdb://.*` is built by a model of the dbt "
                                        r"project's last recorded build"):
        sync_marts(settings, echo=lambda _: None)
    assert contents(settings.sync_target_url.path) == {}


def test_gate_refuses_when_no_build_was_recorded(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    bare = Settings.from_env({"DELTASTORE_DATA_DIR": str(tmp_path / "data")})
    with pytest.raises(DataError, match="no dbt build recorded in `duckdb://.*`: run "
                                        "`deltastore build` first"):
        sync_marts(bare, echo=lambda _: None)
    assert not (tmp_path / "data" / "warehouse.duckdb").exists()  # the gate created nothing


def test_gate_on_an_explicit_run_results_file(
        settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """--run-results PATH gates on that file, whatever the warehouse recorded (it passed)."""
    results = _write_run_results(tmp_path / "elsewhere" / "run_results.json",
                                 {"model.deltastore.dim_things": "success",
                                  "test.deltastore.not_null_dim_things_id": "fail"})
    monkeypatch.setenv("DELTASTORE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DELTASTORE_BATCH_SIZE", "2")
    assert main(["sync", "--run-results", str(results)]) == 3
    assert "test.deltastore.not_null_dim_things_id (fail)" in capsys.readouterr().err
    assert not settings.sync_target_url.path.exists()  # type: ignore[union-attr]

    _write_run_results(results, {"model.deltastore.dim_things": "success"})
    assert main(["sync", "--run-results", str(results)]) == 0
    assert "passed (1 nodes)" in capsys.readouterr().out

    # `deltastore docs` leaves the results of `dbt docs generate` behind: not a build.
    results.write_text(json.dumps({"args": {"which": "generate"}, "results": [
        {"unique_id": "model.deltastore.dim_things", "status": "success"}]}))
    assert main(["sync", "--run-results", str(results)]) == 3
    assert "holds the results of `dbt generate`, not of a build" in capsys.readouterr().err

    results.write_text("{not json")
    assert main(["sync", "--run-results", str(results)]) == 3
    assert "is not a dbt run_results.json" in capsys.readouterr().err

    results.unlink()
    assert main(["sync", "--run-results", str(results)]) == 3
    assert "run `deltastore build` first" in capsys.readouterr().err
    assert main(["sync", "--run-results", str(results), "--force"]) == 0
    assert "sync gate skipped (--force): no dbt build results at" in capsys.readouterr().out


def test_python_reference_checksum_equals_duckdb_sql(settings: Settings) -> None:
    """The documented definition (Python) and the SQL agree, NULLs and ties included."""
    with duckdb.connect(str(settings.warehouse_url.path), read_only=True) as con:
        for table in MARTS:
            described = con.execute(sync_sql.columns_query("duckdb"),
                                    ["analytics", table]).fetchall()
            columns = [sync_sql.parse_column("duckdb", table, *row) for row in described]
            rows = con.execute(f"select * from analytics.{table}").fetchall()
            sql = con.execute(sync_sql.checksum_query("duckdb", "analytics", table,
                                                      columns)).fetchone()
            assert sql is not None
            assert sync_sql.checksum_rows(rows, columns) == (int(sql[0]), int(sql[1]))


def test_checksum_changes_with_any_cell() -> None:
    columns = [Column("a", "int"), Column("b", "text")]
    base = sync_sql.checksum_rows([(1, "x"), (2, None)], columns)
    assert sync_sql.checksum_rows([(2, None), (1, "x")], columns) == base  # order-free
    for other in ([(1, "x"), (2, "")], [(1, "x"), (3, None)], [(1, "x ")], [(1, "x"), (2, "\\n")]):
        assert sync_sql.checksum_rows(other, columns) != base


# --- SQL Server statements: parsed as T-SQL here, executed in GitHub Actions ------------

MSSQL_COLUMNS = [
    Column("id", "int"), Column("total", "wideint"), Column("price", "decimal", 12, 2),
    Column("rate", "float"), Column("name", "text", max_length=40),
    Column("notes", "text", max_length=None), Column("day", "date"),
    Column("seen_at", "timestamp"), Column("built_at", "timestamptz"), Column("flag", "bool"),
    Column("odd]name", "text", max_length=1),
]


def test_mssql_type_mapping_is_faithful() -> None:
    assert [sync_sql.target_type("mssql", c) for c in MSSQL_COLUMNS] == [
        "BIGINT", "DECIMAL(38,0)", "DECIMAL(12,2)", "FLOAT", "NVARCHAR(4000)", "NVARCHAR(MAX)",
        "DATE", "DATETIME2(6)", "DATETIME2(6)", "BIT", "NVARCHAR(4000)"]
    # max_length counts UTF-16 units (text_lengths_query), as NVARCHAR(n) does.
    assert sync_sql.target_type("mssql", Column("t", "text", max_length=4000)) == "NVARCHAR(4000)"
    assert sync_sql.target_type("mssql", Column("t", "text", max_length=4001)) == "NVARCHAR(MAX)"
    parsed = sync_sql.parse_column("duckdb", "t", "price", "DECIMAL(18,4)")
    assert (parsed.kind, parsed.precision, parsed.scale) == ("decimal", 18, 4)
    assert sync_sql.parse_column("duckdb", "t", "n", "HUGEINT").kind == "wideint"
    assert sync_sql.parse_column("duckdb", "t", "b", "TIMESTAMP WITH TIME ZONE").kind == \
        "timestamptz"
    assert sync_sql.parse_column("mssql", "t", "p", "numeric", 10, 3).scale == 3
    assert sync_sql.parse_column("mssql", "t", "s", "nvarchar", max_length=-1).max_length is None
    with pytest.raises(DataError, match="`t.tags` has type `VARCHAR\\[\\]`"):
        sync_sql.parse_column("duckdb", "t", "tags", "VARCHAR[]")


@pytest.mark.parametrize("statement", [
    sync_sql.checksum_query("mssql", "analytics", "dim_customers", MSSQL_COLUMNS),
    sync_sql.create_table("mssql", "analytics", "dim_customers__sync_shadow", MSSQL_COLUMNS),
    sync_sql.insert_rows("mssql", "analytics", "dim_customers__sync_shadow", MSSQL_COLUMNS),
    sync_sql.select_for_copy("mssql", "analytics", "dim_customers", MSSQL_COLUMNS),
    sync_sql.rename_table("mssql", "analytics", "dim_customers__sync_shadow", "dim_customers"),
    sync_sql.drop_table("mssql", "analytics", "dim_customers__sync_old"),
    sync_sql.create_schema("mssql", "analytics"),
    sync_sql.tables_query("mssql"),
    sync_sql.table_exists_query("mssql"),
    sync_sql.columns_query("mssql"),
    *sync_state.create_statements("mssql"),
    sync_state.marker_create("mssql"),
    str(sync_sql.text_lengths_query("mssql", "analytics", "dim_customers", MSSQL_COLUMNS)),
])
def test_mssql_statements_parse_as_tsql(statement: str) -> None:
    parsed = sqlglot.parse(statement, read="tsql", error_level=sqlglot.ErrorLevel.RAISE)
    assert parsed and parsed[0] is not None


def test_the_record_reads_a_sql_server_warehouse_s_marts_in_t_sql() -> None:
    """The sync's reads of what the build recorded, as a SQL Server warehouse gets them
    (dbt_mart_tables absent: an older warehouse; present: its rows)."""
    sent: list[tuple[str, tuple[Any, ...]]] = []
    recorded: dict[str, list[tuple[Any, ...]]] = {
        "dbt_mart_keys": [("fct_orders", '["order_id"]')],
        "dbt_mart_tables": [("fct_orders", "model.deltastore.fct_orders"),
                            ("kpi_totals", "model.deltastore.kpi_totals")]}
    present = {"dbt_mart_keys"}

    def run(sql: str, params: tuple[Any, ...]) -> list[Any]:
        sent.append((sql, params))
        assert sqlglot.parse(sql, read="tsql", error_level=sqlglot.ErrorLevel.RAISE)
        if sql.startswith("SELECT COUNT(*) FROM INFORMATION_SCHEMA.TABLES"):
            return [(int(params == ("meta", params[1]) and params[1] in present),)]
        table = sql.rsplit("[", 1)[1].rstrip("]")
        return recorded[table]

    record = sync_state.Record("mssql", None, "mssql://t/marts", run, lambda: None,
                               lambda: None, lambda: None)
    assert record.mart_tables() is None
    assert record.mart_keys() == {"fct_orders": ("order_id",)}
    present.add("dbt_mart_tables")
    assert record.mart_tables() == {"fct_orders", "kpi_totals"}
    assert ("SELECT [mart], [unique_id] FROM [meta].[dbt_mart_tables]", ()) in sent


def test_catalog_views_are_named_as_a_case_sensitive_database_names_them() -> None:
    """A warehouse or target with a case-sensitive collation (mssql.yml makes one) has
    INFORMATION_SCHEMA's views in upper case only; the sync's own record reads them too."""
    for statement in (sync_sql.tables_query("mssql"), sync_sql.table_exists_query("mssql"),
                      sync_sql.columns_query("mssql")):
        assert "INFORMATION_SCHEMA." in statement
        assert "information_schema" not in statement


def test_mssql_checksum_follows_the_definition() -> None:
    sql = sync_sql.checksum_query("mssql", "analytics", "t", MSSQL_COLUMNS)
    assert "HASHBYTES('MD5', CONVERT(VARCHAR(MAX), (" in sql
    assert "COLLATE Latin1_General_100_BIN2_UTF8" in sql
    assert f"& CAST({(1 << 60) - 1} AS BIGINT)" in sql and "NCHAR(31)" in sql
    assert "COALESCE(CAST([flag] AS NVARCHAR(10)), N'\\N')" in sql and "ISNULL" not in sql
    assert "CONVERT(NVARCHAR(26), CAST([seen_at] AS DATETIME2(6)), 121)" in sql
    assert "[odd]]name]" in sql
    assert sync_sql.insert_rows("mssql", "analytics", "t", MSSQL_COLUMNS[:2]) == \
        "INSERT INTO [analytics].[t] ([id], [total]) VALUES (?, ?)"
    assert sync_sql.rename_table("mssql", "analytics", "t__sync_shadow", "t") == \
        "EXEC sp_rename N'[analytics].[t__sync_shadow]', N't'"


# --- retries ---------------------------------------------------------------------------

def _odbc_error(state: str, message: str) -> Exception:
    import pyodbc

    return pyodbc.OperationalError(state, message)


@pytest.mark.odbc
def test_azure_transient_errors_are_recognised() -> None:
    azure = "[42000] [Microsoft][ODBC Driver 18 for SQL Server][SQL Server]Database is not " \
            "currently available. (40613) (SQLExecDirectW)"
    assert native_error(_odbc_error("42000", azure)) == 40613
    assert is_transient(_odbc_error("42000", azure))
    assert is_transient(_odbc_error("08S01", "Communication link failure"))
    assert is_transient(TransientError("locked"))
    assert not is_transient(_odbc_error("42S02", "[42S02] Invalid object name 'x'. (208) "
                                                 "(SQLExecDirectW)"))
    assert not is_transient(ValueError("(40613)"))


LOCK_TIMEOUT = ("[HYT00] [Microsoft][ODBC Driver 18 for SQL Server][SQL Server]Lock request "
                "time out period exceeded. (1222) (SQLExecDirectW)")


def _counting(lock_timeouts: int) -> tuple[Any, dict[str, int]]:
    """A hook that counts copies and swaps; the swap's first ``lock_timeouts`` attempts
    fail as SQL Server's swap does when readers hold their locks (error 1222)."""
    seen = {"shadow-loaded": 0, "swap": 0}

    def hook(stage: str, table: str, _conn: Any) -> None:
        if table != MARTS[0] or stage not in seen:
            return
        seen[stage] += 1
        if stage == "swap" and seen["swap"] <= lock_timeouts:
            raise _odbc_error("HYT00", LOCK_TIMEOUT)
    return hook, seen


@pytest.mark.odbc
def test_no_retry_runs_inside_another(settings: Settings) -> None:
    """Before, a swap that kept timing out was tried 3 times in each of 5 whole-sync
    attempts (5 copies, 15 swaps per process). Now the copy runs once per process and the
    swap 3 times; then exit 1, and Argo's retry is the only level above."""
    sync_marts(settings, echo=lambda _: None)
    before = contents(settings.sync_target_url.path)
    _change_warehouse(settings)
    hook, seen = _counting(lock_timeouts=99)
    slept: list[float] = []
    with pytest.raises(TransientError, match="the swap failed after 3 attempt.*1222.*nothing "
                                             "was published") as caught:
        sync_marts(settings, echo=lambda _: None, hook=hook, sleep=slept.append, full=True)
    assert caught.value.exit_code == 1
    assert seen == {"shadow-loaded": 1, "swap": 3} and len(slept) == 2
    assert contents(settings.sync_target_url.path) == before


def test_a_locked_sync_target_is_opened_once_the_lock_is_gone(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys

    from deltastore.retry import RetryPolicy
    from deltastore.sync import publish

    monkeypatch.setattr(publish, "CONNECT_RETRY",
                        RetryPolicy(attempts=50, max_seconds=60, base_delay=0.1, max_delay=0.2))
    lines: list[str] = []
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('locked', flush=True); time.sleep(1.0)", str(settings.sync_target_url.path)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        sync_marts(settings, echo=lines.append)
    finally:
        holder.wait(timeout=30)
    assert any(line.startswith("connecting to `duckdb://") and "retry 1/49" in line
               for line in lines)
    assert contents(settings.sync_target_url.path) == _warehouse_marts(settings)


@pytest.mark.mssql
def test_sync_to_sql_server(settings: Settings, tmp_path: Path) -> None:
    """Runs in GitHub Actions: the T-SQL checksum must equal DuckDB's on the same data."""
    env = {"DELTASTORE_DATA_DIR": str(settings.data_dir),
           "DELTASTORE_SYNC_TARGET_URL": os.environ["DELTASTORE_TEST_MSSQL_URL"]}
    if os.environ.get("DELTASTORE_TEST_MSSQL_PASSWORD"):
        env["DELTASTORE_SYNC_TARGET_PASSWORD"] = os.environ["DELTASTORE_TEST_MSSQL_PASSWORD"]
    mssql = Settings.from_env(env)
    first = sync_marts(mssql, echo=print)
    assert all(r.checksum_match for r in first)
    second = sync_marts(mssql, echo=print)
    assert [r.target_checksum for r in second] == [r.target_checksum for r in first]


def test_sync_target_must_not_be_the_warehouse(settings: Settings) -> None:
    same = Settings.from_env({"DELTASTORE_DATA_DIR": str(settings.data_dir),
                              "DELTASTORE_SYNC_TARGET_URL": str(settings.warehouse_url)})
    with pytest.raises(ConfigError, match="is the warehouse itself"):
        sync_marts(same, echo=lambda _: None)


def test_warehouse_held_open_in_this_process_is_a_clear_error(settings: Settings) -> None:
    passed = _write_run_results(settings.data_dir / "run_results.json",
                                {"model.deltastore.dim_things": "success"})
    held = duckdb.connect(str(settings.warehouse_url.path))
    with held:
        # Two connections of one process with different options: a setup to fix, exit 2.
        with pytest.raises(ConfigError, match="cannot read the dbt builds in the warehouse.* "
                                            "close the other connections to it in this "
                                            "process first"):
            sync_marts(settings, echo=lambda _: None)
        with pytest.raises(ConfigError, match="attaching the warehouse .* close the other "
                                            "connections to it in this process first"):
            sync_marts(settings, run_results_path=passed, echo=lambda _: None)
    assert set(contents(settings.sync_target_url.path)) == set()


def test_volume_guard_refuses_a_mart_that_lost_most_of_its_rows(
        settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DELTASTORE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DELTASTORE_BATCH_SIZE", "2")
    monkeypatch.setenv("DELTASTORE_METRICS_DIR", str(tmp_path / "metrics"))
    assert main(["sync"]) == 0
    assert (tmp_path / "metrics" / "mart_rows.prom").read_text().splitlines() == [
        "# HELP deltastore_mart_rows Rows in each published mart after the last sync.",
        "# TYPE deltastore_mart_rows gauge",
        'deltastore_mart_rows{mart="dim_things"} 5',
        'deltastore_mart_rows{mart="kpi_empty"} 0',
        'deltastore_mart_rows{mart="kpi_summary"} 1']
    published = contents(settings.sync_target_url.path)
    with duckdb.connect(str(settings.warehouse_url.path)) as con:
        con.execute("delete from analytics.dim_things where id > 1")  # 5 -> 1 rows
        con.execute("delete from analytics.kpi_summary")              # 1 -> 0 rows
        con.execute("insert into analytics.kpi_empty values (date '2025-01-01', 3, 0.5)")
    capsys.readouterr()
    assert main(["sync"]) == 3
    err = capsys.readouterr().err.splitlines()[-1]
    assert err.startswith("error: volume guard: 2 mart(s) would lose more than 50% of their "
                          "published rows, or all of them: `dim_things` 5 -> 1 rows (-80%); "
                          "`kpi_summary` 1 -> 0 rows (-100%). Nothing was published.")
    assert contents(settings.sync_target_url.path) == published  # no shadow left either

    monkeypatch.setenv("DELTASTORE_SYNC_MAX_DROP", "0.9")  # 80 % is allowed now; empty is not
    assert main(["sync"]) == 3
    assert "1 mart(s) would lose" in capsys.readouterr().err
    assert main(["sync", "--force"]) == 0
    assert "volume guard overridden (--force): `kpi_summary` 1 -> 0 rows" in \
        capsys.readouterr().out
    assert contents(settings.sync_target_url.path) == _warehouse_marts(settings)
    assert 'deltastore_mart_rows{mart="dim_things"} 1' in \
        (tmp_path / "metrics" / "mart_rows.prom").read_text()


def test_volume_drops_against_the_published_version() -> None:
    drops = volume_drops({"a": 100, "b": 100, "c": 0, "d": 10}, {"a": 50, "b": 49, "c": 0,
                                                                "d": 0, "new": 0}, 0.5)
    assert [(d.table, d.published, d.new) for d in drops] == [("b", 100, 49), ("d", 10, 0)]


def test_engine_checksum_is_order_free_and_sees_every_cell() -> None:
    columns = [Column("id", "int"), Column("name", "text")]
    with duckdb.connect() as con:
        con.execute("create schema analytics")
        con.execute("create table analytics.a as select * from (values (1, 'x'), (2, null)) "
                    "t(id, name)")
        con.execute("create table analytics.b as select * from (values (2, null), (1, 'x')) "
                    "t(id, name)")
        con.execute("create table analytics.c as select * from (values (1, 'x'), (2, 'y')) "
                    "t(id, name)")
        sums = {name: con.execute(sync_sql.engine_checksum_query("analytics", name, columns))
                .fetchone() for name in "abc"}
    assert sums["a"] == sums["b"] and sums["a"][0] == 2
    assert sums["c"] != sums["a"]
