"""`deltastore build --changed-only`: the daily build builds the nodes whose inputs changed
since their last recorded build, and what reads them; the rest keep their tables. Real dbt
builds of the mini project (tests/transform/dbt_mini_project) into a real DuckDB file, each
recorded by the real CLI. A load is recorded here as the extract records one, a
`meta.load_state` row in its own transaction (extract/warehouse/duckdb.py); the chain with
the real extract is tests/dbt/test_changed_only_demo.py."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import duckdb
import pytest
import sqlglot
from odbc_recorder import OdbcRecorder
from recorded_builds import names, recorded

from deltastore.extract.warehouse.duckdb import create_table_sql
from deltastore.schemas import LOAD_STATE
from deltastore.settings import Settings
from deltastore.sql_names import insert_values_sql
from deltastore.transform import build_log
from deltastore.transform.changed import (
    Inputs,
    LastResult,
    last_whole_test_sql,
    project_graph,
    read_state,
    relations_sql,
    source_markers_sql,
)
from deltastore.transform.runner import parse_project
from deltastore.workflows import cli

ALL_NODES = {"seed.mini.states", "model.mini.stg_shop__customers",
             "snapshot.mini.customers_snapshot", "model.mini.int_customers_enriched",
             "model.mini.dim_customers", "model.mini.fct_orders",
             "test.mini.assert_enough_customers", "test.mini.not_null_dim_customers_customer_id",
             "test.mini.unique_dim_customers_customer_id",
             "test.mini.not_null_fct_orders_order_id", "test.mini.unique_fct_orders_order_id",
             "test.mini.relationships_fct_orders_customer_id__customer_id__ref_dim_customers_"}
# What reads shop.customers, with every test on any of it: the relationships test reads
# fct_orders too, which is not built again.
READS_CUSTOMERS = ALL_NODES - {"seed.mini.states", "model.mini.fct_orders",
                               "test.mini.not_null_fct_orders_order_id",
                               "test.mini.unique_fct_orders_order_id"}
# Reads the run date (dim_customers.as_of_date), and what reads that.
DATED = {"model.mini.dim_customers", "test.mini.assert_enough_customers",
         "test.mini.not_null_dim_customers_customer_id",
         "test.mini.unique_dim_customers_customer_id",
         "test.mini.relationships_fct_orders_customer_id__customer_id__ref_dim_customers_"}


def warehouse() -> Path:
    path = Settings.from_env().warehouse_url.path
    assert path is not None
    return path


def load_customers(sql: str, *, changed: int) -> None:
    """Change the raw table and record the load, in one transaction, as an extract does."""
    with duckdb.connect(str(warehouse())) as con:
        con.begin()
        con.execute(sql)
        con.execute("create schema if not exists meta")
        con.execute(create_table_sql(LOAD_STATE, with_load_columns=False))
        con.execute(insert_values_sql("duckdb", LOAD_STATE),
                    (str(uuid.uuid4()), "shop", "shop.customers", None, changed, 0, changed,
                     0, 0, dt.datetime.now(), 0.1, "ok"))
        con.commit()


def changed_only(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert cli.main(["build", "--changed-only", *argv]) == 0
    return capsys.readouterr().out


def test_nothing_loaded_means_nothing_built_and_nothing_recorded(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["build"]) == 0
    first = recorded()
    assert names(first.nodes) == ALL_NODES
    load_customers("select 1", changed=0)   # a load that changed nothing
    out = changed_only(capsys)
    assert "changed-only: nothing changed since the last build: nothing to build" in out
    assert recorded().invocation_id == first.invocation_id


def test_a_load_with_changes_builds_what_reads_that_table_with_every_test_on_it(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["build"]) == 0
    load_customers("update shop.customers set state = 'TX' where id = 2", changed=1)
    out = changed_only(capsys)
    assert (f"changed-only: building {len(READS_CUSTOMERS)} of {len(ALL_NODES)} nodes") in out
    assert "because `shop.customers` was loaded with changes" in out
    assert names(recorded().nodes) == READS_CUSTOMERS
    with duckdb.connect(str(warehouse()), read_only=True) as con:
        assert con.execute("select state_code from analytics.dim_customers "
                           "where customer_id = 2").fetchall() == [("TX",)]
    # Built, the same inputs build nothing again.
    assert "nothing to build" in changed_only(capsys)


def test_a_new_run_date_builds_what_reads_the_date(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["build"]) == 0
    out = changed_only(capsys, "--run-date", "2024-07-01")
    assert "because it reads the date, and the date changed" in out
    assert names(recorded().nodes) == DATED
    with duckdb.connect(str(warehouse()), read_only=True) as con:
        assert con.execute("select distinct as_of_date from analytics.dim_customers"
                           ).fetchall() == [(dt.date(2024, 7, 1),)]


# Added to the copy of the mini project: the date as the real project's macros give it
# (the var `run_date` first, then the runner's variable), a mart that reads it through them,
# and unit tests that do or do not set the var.
RUN_DATE_MACROS_SQL = """\
{% macro run_date_string() -%}
    {{ return(var('run_date') or env_var('DELTASTORE_DBT_RUN_DATE', '2000-01-01')) }}
{%- endmacro %}
{% macro run_date() -%}
    cast('{{ run_date_string() }}' as date)
{%- endmacro %}
"""
UNIT_TESTS_YML = """\
unit_tests:
  - name: as_of_the_date_it_is_given
    model: customers_as_of
    overrides: {vars: {run_date: "2024-01-31"}}
    given:
      - input: ref('int_customers_enriched')
        rows: [{customer_id: 1}]
    expect:
      rows: [{customer_id: 1, as_of_date: "2024-01-31"}]
  - name: as_of_today
    model: customers_as_of
    given:
      - input: ref('int_customers_enriched')
        rows: [{customer_id: 1}]
    expect:
      rows: [{customer_id: 1}]
  - name: given_a_date_but_reading_the_variable_too
    model: dim_customers
    overrides: {vars: {run_date: "2024-01-31"}}
    given:
      - input: ref('int_customers_enriched')
        rows: [{customer_id: 1, state_code: CA, state_name: California}]
    expect:
      rows: [{customer_id: 1, as_of_date: "2024-01-31"}]
"""


def test_a_unit_test_given_the_run_date_does_not_run_again_on_a_new_day(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A unit test runs on the rows it is given; one that also sets the var `run_date` gives
    its model the date, so the next day's build does not run it again. One that sets no date,
    or whose model reads the runner's variable itself, does run again."""
    (project / "macros" / "run_date.sql").write_text(RUN_DATE_MACROS_SQL)
    (project / "models" / "marts" / "customers_as_of.sql").write_text(
        "select customer_id, {{ run_date() }} as as_of_date\n"
        "from {{ ref('int_customers_enriched') }}\n")
    (project / "models" / "marts" / "_unit_tests.yml").write_text(UNIT_TESTS_YML)
    graph = project_graph(parse_project(Settings.from_env()))
    assert {uid for uid, node in graph.nodes.items()
            if node.resource_type == "unit_test" and node.dated} == {
        "unit_test.mini.customers_as_of.as_of_today",
        "unit_test.mini.dim_customers.given_a_date_but_reading_the_variable_too"}
    assert graph.nodes["model.mini.customers_as_of"].dated

    assert cli.main(["build"]) == 0
    assert {n for n in names(recorded().nodes) if n.startswith("unit_test.")} == {
        "unit_test.mini.customers_as_of.as_of_the_date_it_is_given",
        "unit_test.mini.customers_as_of.as_of_today",
        "unit_test.mini.dim_customers.given_a_date_but_reading_the_variable_too"}
    changed_only(capsys, "--run-date", "2024-07-01")
    built = names(recorded().nodes)
    assert "model.mini.customers_as_of" in built
    assert {n for n in built if n.startswith("unit_test.")} == {
        "unit_test.mini.customers_as_of.as_of_today",
        "unit_test.mini.dim_customers.given_a_date_but_reading_the_variable_too"}


@pytest.mark.parametrize(("change", "reason"), [
    ("vars", "because the dbt target or vars changed"),
    ("project", "because the dbt project's files changed"),
])
def test_other_vars_or_project_files_build_everything(
        project: Path, capsys: pytest.CaptureFixture[str], change: str,
        reason: str) -> None:
    assert cli.main(["build"]) == 0
    argv = []
    if change == "vars":
        argv = ["--vars", '{"min_customers": 1}']
    else:
        seed = project / "seeds" / "states.csv"
        seed.write_text(seed.read_text() + "ZZ,Nowhere\n")
    out = changed_only(capsys, *argv)
    assert "changed-only: building every node" in out and reason.removeprefix("because ") in out
    assert names(recorded().nodes) == ALL_NODES


def test_a_missing_table_or_a_failed_test_is_built_again(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vars_ = ["--vars", '{"min_customers": 3}']   # two customers: the singular test fails
    assert cli.main(["build", *vars_]) == 3
    capsys.readouterr()
    with duckdb.connect(str(warehouse())) as con:
        con.execute("drop table analytics.fct_orders")
    assert cli.main(["build", "--changed-only", *vars_]) == 3
    out = capsys.readouterr().out
    assert "`analytics.fct_orders` is missing from the warehouse" in out
    assert "its last result was `fail`" in out
    assert names(recorded().nodes) == {
        "model.mini.fct_orders", "test.mini.not_null_fct_orders_order_id",
        "test.mini.unique_fct_orders_order_id", "test.mini.assert_enough_customers",
        "test.mini.relationships_fct_orders_customer_id__customer_id__ref_dim_customers_"}


def test_a_node_built_after_what_reads_it_rebuilds_the_readers(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["build"]) == 0
    assert cli.main(["build", "--select", "int_customers_enriched"]) == 0
    out = changed_only(capsys)
    assert "because `model.mini.int_customers_enriched` was built after it" in out
    assert names(recorded().nodes) == {
        "model.mini.dim_customers", "test.mini.assert_enough_customers",
        "test.mini.not_null_dim_customers_customer_id",
        "test.mini.unique_dim_customers_customer_id",
        "test.mini.relationships_fct_orders_customer_id__customer_id__ref_dim_customers_"}


def test_full_refresh_and_the_selection_win(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["build"]) == 0
    load_customers("update shop.customers set state = 'TX' where id = 2", changed=1)
    out = changed_only(capsys, "--select", "fct_orders")
    assert "no node to build lies within --select; nothing to build" in out
    changed_only(capsys, "--select", "dim_customers")   # with its own tests, as dbt selects
    assert names(recorded().nodes) == {"model.mini.dim_customers",
                                       "test.mini.assert_enough_customers",
                                       "test.mini.not_null_dim_customers_customer_id",
                                       "test.mini.unique_dim_customers_customer_id"}
    out = changed_only(capsys, "--full-refresh")
    assert "changed-only:" not in out
    assert names(recorded().nodes) == ALL_NODES


def test_nothing_recorded_means_everything(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = changed_only(capsys)
    assert ("changed-only: no build recorded what it was built from: building everything"
            in out)
    assert names(recorded().nodes) == ALL_NODES


def test_the_projects_graph_knows_what_reads_the_date_and_which_raw_tables(
        project: Path) -> None:
    graph = project_graph(parse_project(Settings.from_env()))
    assert graph.sources == {"source.mini.shop.customers": "shop.customers"}
    dated = {uid for uid, node in graph.nodes.items() if node.dated}
    assert dated == {"model.mini.dim_customers"}
    assert graph.raw_tables("snapshot.mini.customers_snapshot") == {"shop.customers"}
    assert graph.raw_tables("model.mini.fct_orders") == set()
    assert graph.nodes["model.mini.dim_customers"].relation == ("analytics", "dim_customers")
    assert graph.nodes["model.mini.stg_shop__customers"].relation == (
        "staging", "stg_shop__customers")


@pytest.mark.parametrize("statement", [
    source_markers_sql("mssql", with_schema_changes=True),
    source_markers_sql("mssql", with_schema_changes=False),
    build_log.last_results_sql("mssql"),
    relations_sql(), last_whole_test_sql("mssql")])
def test_the_sql_server_statements_parse_as_tsql(statement: str) -> None:
    parsed = sqlglot.parse(statement, read="tsql")
    assert parsed and all(p is not None for p in parsed)
    assert "information_schema" not in statement   # a case-sensitive database's catalog


def test_sql_server_keeps_what_a_build_read_whole() -> None:
    builds = build_log.create_sql("mssql")[1]
    assert "[inputs] NVARCHAR(MAX)" in builds
    assert any("COL_LENGTH(N'meta.dbt_builds', N'inputs') IS NULL" in s
               for s in build_log.add_columns_sql("mssql"))


def test_sql_server_state_is_read_in_one_read_only_login(odbc: OdbcRecorder,
                                                          tmp_path: Path) -> None:
    """What a --changed-only build reads on SQL Server before dbt starts, through the
    recorded driver: the catalog, the load markers and each node's last result, rows in
    the types pyodbc returns them (DATETIME2 as datetime, NVARCHAR as str, COUNT as int)."""
    at = dt.datetime(2026, 1, 31, 2, 5, 7, 123456)
    inputs = Inputs({"old_store.orders": 3}, "c0ffee").to_json()
    odbc.answers = {
        "FROM INFORMATION_SCHEMA.TABLES": [("meta", "load_state"), ("meta", "dbt_builds"),
                                           ("meta", "dbt_build_nodes"),
                                           ("analytics", "fct_orders")],
        "FROM INFORMATION_SCHEMA.COLUMNS": [("invocation_id",), ("inputs",)],
        "GROUP BY t": [("old_store.orders", 3), ("old_store.customers", 1)],
        "ROW_NUMBER()": [("model.p.fct_orders", "success", at, "h", "2026-01-31", inputs)],
    }
    state = read_state(Settings.from_env({
        "DELTASTORE_DATA_DIR": str(tmp_path), "DELTASTORE_WAREHOUSE_PASSWORD": "pw",
        "DELTASTORE_WAREHOUSE_URL": "mssql://dbt_loader@wh/warehouse"}))
    assert len(odbc.calls) == 1
    assert state.markers == {"old_store.orders": 3, "old_store.customers": 1}
    assert state.results == {"model.p.fct_orders": LastResult(
        "success", at, "h", "2026-01-31", Inputs({"old_store.orders": 3}, "c0ffee"))}
    assert ("analytics", "fct_orders") in state.relations
    markers = next(s for s in odbc.statements if "GROUP BY t" in s)
    assert "[meta].[load_state]" in markers and "[meta].[schema_changes]" not in markers


def test_a_project_dbt_cannot_parse_says_how_to_see_why(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["build"]) == 0
    (project / "models" / "marts" / "broken.sql").write_text("select {{ ref( }}\n")
    assert cli.main(["build", "--changed-only"]) == 2   # a configuration error
    err = capsys.readouterr().err
    assert "dbt cannot parse the project" in err
    assert "without --retry-failed or --changed-only to see why" in err


def test_a_retry_that_cannot_trust_the_record_still_builds_only_what_changed(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Argo's attempt 1 after an attempt killed before it recorded its build (the record is
    older than the run): the daily build's plan, not everything."""
    assert cli.main(["build"]) == 0
    before = recorded()
    load_customers("update shop.customers set state = 'TX' where id = 2", changed=1)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    out = changed_only(capsys, "--attempt", "1",
                       "--retry-since", later.strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert "retry: no build is recorded since" in out
    assert "because `shop.customers` was loaded with changes" in out
    assert recorded().invocation_id != before.invocation_id
    assert names(recorded().nodes) == READS_CUSTOMERS
