"""What the sync does differently on a SQL Server target: shadows outside `analytics`,
the swap's statements, memory bound per insert call, dbt's leftovers left alone.

The T-SQL is parsed here and run for real in GitHub Actions' SQL Server job (mssql.yml,
which also measures the client's peak memory during the sync).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import sqlglot
from odbc_recorder import OdbcRecorder, RecordedConnection

from deltastore import odbc_binding as binding
from deltastore.settings import Settings
from deltastore.sync import statements as sync_sql
from deltastore.sync import sync_marts
from deltastore.sync.statements import Column
from deltastore.sync.table_copy import input_size, write_batches
from deltastore.transform.build_log import record_build
from deltastore.transform.lineage import ProjectNode, is_dbt_leftover

WIDE = [Column("id", "int"), Column("total", "decimal", 12, 2), Column("share", "float"),
        Column("name", "text", max_length=60), Column("notes", "text", max_length=None),
        Column("day", "date"), Column("at", "timestamp"), Column("flag", "bool"),
        Column("big", "wideint")]


def test_shadows_are_staged_outside_analytics_and_moved_in_by_the_swap() -> None:
    assert sync_sql.shadow_of("mssql", "dim_customers") == ("analytics_sync_stage",
                                                           "dim_customers")
    assert sync_sql.publish_statements("mssql", "dim_customers", live_exists=True) == [
        "ALTER SCHEMA [analytics_sync_retired] TRANSFER [analytics].[dim_customers]",
        "ALTER SCHEMA [analytics] TRANSFER [analytics_sync_stage].[dim_customers]",
    ]
    assert sync_sql.publish_statements("mssql", "new_mart", live_exists=False) == [
        "ALTER SCHEMA [analytics] TRANSFER [analytics_sync_stage].[new_mart]"]
    for sql in [*sync_sql.publish_statements("mssql", "x", True), sync_sql.set_lock_timeout(30000),
                sync_sql.create_schema("mssql", sync_sql.STAGE_SCHEMA)]:
        assert sqlglot.parse(sql, read="tsql", error_level=sqlglot.ErrorLevel.RAISE)


def test_input_sizes_follow_the_measured_lengths_not_the_declared_ones() -> None:
    sizes = [input_size(c) for c in WIDE]
    assert sizes == [(binding.SQL_BIGINT, 0, 0), (binding.SQL_DECIMAL, 12, 2),
                     (binding.SQL_DOUBLE, 0, 0), (binding.SQL_WVARCHAR, 60, 0),
                     (binding.SQL_WVARCHAR, 0, 0), (binding.SQL_TYPE_DATE, 0, 0),
                     (binding.SQL_TYPE_TIMESTAMP, 26, 6), (binding.SQL_BIT, 0, 0),
                     (binding.SQL_DECIMAL, 38, 0)]
    # 8+19+8+120+16(DAE)+6+16+1+19 value bytes, plus an 8-byte indicator per column.
    assert binding.row_bytes(sizes) == 213 + 9 * 8
    # Declared NVARCHAR(4000) without setinputsizes would be 8,008 bytes for one cell.
    assert binding.row_bytes([binding.text_size(4000)]) == 8008
    assert binding.rows_per_call(sizes, 64 * 2**20, 50_000) == 50_000
    assert binding.rows_per_call([binding.text_size(4000)] * 10, 64 * 2**20, 50_000) == 838
    assert binding.rows_per_call([binding.text_size(4000)] * 10_000, 2**20, 50_000) == 1


def test_every_insert_call_is_bound_before_it_runs() -> None:
    recorder = OdbcRecorder()
    row = (1, Decimal("2.50"), 0.5, "Zoë", "long" * 2000, dt.date(2025, 1, 1),
           dt.datetime(2025, 1, 1, 2), True, Decimal(7))
    batches = iter([[row] * 3, [row] * 2])
    written = write_batches(RecordedConnection(recorder), "mssql", "analytics_sync_stage", "t",
                            WIDE, batches)
    assert written == 5
    calls = [(params, sizes) for sql, params, sizes in recorder.executed]
    expected = [input_size(c) for c in WIDE]
    assert calls == [((3,), expected), ((2,), expected)]


def test_text_lengths_are_utf16_units(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("create schema analytics; create table analytics.t (a varchar, b varchar)")
        con.execute("insert into analytics.t values ('ab\U0001F600', 'x   '), ('é', NULL)")
        columns = [Column("a", "text"), Column("b", "text")]
        sql = sync_sql.text_lengths_query("duckdb", "analytics", "t", columns)
        assert sql is not None
        assert con.execute(sql).fetchall() == [(4, 4)]
    assert binding.utf16_units("ab\U0001F600") == 4


def _record_passing_build(settings: Settings) -> None:
    """What `deltastore build` leaves for the sync gate: a passing build of `dim_x`, the
    project's one node feeding the marts."""
    record_build(settings, {"metadata": {"generated_at": "2026-01-01T02:00:00Z",
                                         "invocation_id": "i"}, "args": {"which": "build"},
                            "results": [{"unique_id": "model.deltastore.dim_x",
                                         "status": "success", "execution_time": 0.1}]},
                 [ProjectNode("model.deltastore.dim_x", "model", True)],
                 marts={"dim_x": "model.deltastore.dim_x"})


def test_dbt_leftovers_are_never_synced(tmp_path: Path) -> None:
    settings = Settings.from_env({"DELTASTORE_DATA_DIR": str(tmp_path)})
    assert settings.warehouse_url.path is not None
    with duckdb.connect(str(settings.warehouse_url.path)) as con:
        con.execute("create schema analytics; create table analytics.dim_x as select 1 as id; "
                    "create table analytics.dim_x__dbt_tmp as select 2 as id; "
                    "create table analytics.fct_y__dbt_backup as select 3 as id")
    _record_passing_build(settings)
    results = sync_marts(settings, echo=lambda _: None)
    assert [r.table for r in results] == ["dim_x"]
    assert is_dbt_leftover("dim_x__dbt_tmp_vw")
    assert not is_dbt_leftover("dim_dbt_tmp_notes")


@pytest.mark.parametrize("name", ["fct_order_items", "kpi_monthly_revenue"])
def test_real_marts_are_not_leftovers(name: str) -> None:
    assert not is_dbt_leftover(name)


def _lock_timeout() -> Exception:
    import pyodbc

    return pyodbc.OperationalError(
        "HYT00", "[HYT00] [Microsoft][ODBC Driver 18 for SQL Server][SQL Server]Lock request "
        "time out period exceeded. (1222) (SQLExecDirectW)")


@pytest.mark.odbc
def test_a_swap_blocked_by_readers_is_tried_again_without_reloading(tmp_path: Path) -> None:
    settings = Settings.from_env({"DELTASTORE_DATA_DIR": str(tmp_path)})
    assert settings.warehouse_url.path is not None
    with duckdb.connect(str(settings.warehouse_url.path)) as con:
        con.execute("create schema analytics; create table analytics.dim_x as select 1 as id")
    _record_passing_build(settings)
    stages: list[str] = []

    def readers_hold_locks_once(stage: str, table: str, target: object) -> None:
        stages.append(stage)
        if stage == "swap" and stages.count("swap") == 1:
            raise _lock_timeout()

    lines: list[str] = []
    slept: list[float] = []
    results = sync_marts(settings, echo=lines.append, hook=readers_hold_locks_once,
                         sleep=slept.append)
    assert [r.table for r in results] == ["dim_x"]
    # Loaded once, swapped twice.
    assert [s for s in stages if s in ("shadow-loaded", "swap")] == [
        "shadow-loaded", "swap", "swap"]
    # One jittered wait of the pipeline's backoff (deltastore/retry.py), at most 2 s.
    assert len(slept) == 1 and 0 <= slept[0] <= 2.0
    assert any(line.startswith("the swap: ") and "(1222)" in line for line in lines)


def test_sql_server_columns_are_read_for_the_copy_as_the_checksum_reads_them() -> None:
    """money keeps 4 decimals where CAST(money AS nvarchar) prints 2; datetime keeps 1/300 s
    and datetime2(7) 100 ns, which pyodbc would truncate where a CAST rounds: each column
    is copied through the very expression the checksum renders (review MINOR 5)."""
    columns = [sync_sql.parse_column("mssql", "t", "price", "money", 19, 4),
               sync_sql.parse_column("mssql", "t", "small", "smallmoney", 10, 4),
               sync_sql.parse_column("mssql", "t", "at", "datetime"),
               sync_sql.parse_column("mssql", "t", "at7", "datetime2"),
               sync_sql.parse_column("mssql", "t", "n", "bigint")]
    select = sync_sql.select_for_copy("mssql", "analytics", "t", columns)
    assert select == (
        "SELECT CAST([m].[price] AS DECIMAL(19,4)) AS [price], "
        "CAST([m].[small] AS DECIMAL(10,4)) AS [small], "
        "CAST([m].[at] AS DATETIME2(6)) AS [at], CAST([m].[at7] AS DATETIME2(6)) AS [at7], "
        "[m].[n] FROM [analytics].[t] AS [m]")
    checksum = sync_sql.checksum_query("mssql", "analytics", "t", columns)
    for column in columns:
        assert sync_sql.copy_expression("mssql", column) in checksum
    assert "CAST(CAST([price] AS DECIMAL(19,4)) AS NVARCHAR(50))" in checksum
    assert "CONVERT(NVARCHAR(26), CAST([at7] AS DATETIME2(6)), 121)" in checksum
    assert [sync_sql.target_type("mssql", c) for c in columns[:3]] == [
        "DECIMAL(19,4)", "DECIMAL(10,4)", "DATETIME2(6)"]
    assert sqlglot.parse(select, read="tsql", error_level=sqlglot.ErrorLevel.RAISE)
