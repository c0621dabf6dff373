"""The comparison the SQL Server job relies on, exercised here on real DuckDB files: it
finds the keys in the dbt project, and it notices a missing row, a changed key, a duplicate
and a missing table."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from marts_compare import (
    Marts,
    canonical,
    checksum,
    key_differences,
    mart_keys,
    normalise,
    value_differences,
)


def test_keys_come_from_the_dbt_project() -> None:
    keys = mart_keys()
    assert keys["dim_customers"] == ("unified_customer_id",)
    assert keys["kpi_customers_by_state"] == ("state_code", "segment")
    assert keys["kpi_customer_summary"] == ()   # one row, no key
    assert len(keys) >= 20


def marts_file(path: Path, customers: list[tuple[str, int]], extra_table: bool = False) -> Marts:
    con = duckdb.connect(str(path))
    con.execute("create schema analytics")
    con.execute("create table analytics.dim_customers (unified_customer_id varchar, n int)")
    con.executemany("insert into analytics.dim_customers values (?, ?)", customers)
    if extra_table:
        con.execute("create table analytics.kpi_customer_summary (customers int)")
    con.execute("create view analytics.not_a_mart as select 1 as x")
    return Marts("duckdb", con)


@pytest.fixture
def reference(tmp_path: Path) -> Marts:
    return marts_file(tmp_path / "reference.duckdb", [("a", 1), ("b", 2), ("c", 3)], True)


def compare(reference: Marts, candidate: Marts) -> str | None:
    columns = ("unified_customer_id",)
    return key_differences(reference.key_values("dim_customers", columns),
                           candidate.key_values("dim_customers", columns))


def test_identical_marts_compare_equal(reference: Marts, tmp_path: Path) -> None:
    same = marts_file(tmp_path / "same.duckdb", [("c", 3), ("a", 1), ("b", 2)], True)
    assert same.tables() == reference.tables() == ["dim_customers", "kpi_customer_summary"]
    assert same.row_count("dim_customers") == reference.row_count("dim_customers") == 3
    assert compare(reference, same) is None


def test_differences_are_reported(reference: Marts, tmp_path: Path) -> None:
    changed = marts_file(tmp_path / "changed.duckdb", [("a", 1), ("b", 2), ("b", 2), ("x", 9)])
    assert changed.tables() == ["dim_customers"]
    assert changed.row_count("dim_customers") == reference.row_count("dim_customers") + 1
    report = compare(reference, changed)
    assert report is not None
    assert "1 key(s) missing, e.g. [('c',)]" in report
    assert "1 unexpected key(s), e.g. [('x',)]" in report
    assert "1 duplicate key(s)" in report


@pytest.mark.parametrize("value,text", [
    (None, "<null>"), (3, "3"), (Decimal("3.00"), "3"), (3.0, "3"), (Decimal("2.50"), "2.5"),
    (True, "1"), (dt.date(2025, 6, 1), "2025-06-01"), ("New store", "New store"),
])
def test_values_normalise_across_drivers(value: object, text: str) -> None:
    assert normalise(value) == text


def test_values_compare_across_drivers_and_differences_are_shown() -> None:
    assert canonical(Decimal("12.500000")) == canonical(12.5) == canonical(Decimal("12.50"))
    assert canonical(0.1 + 0.2) == "0.3" and canonical(Decimal("-0.0000001")) == "0"
    assert canonical(dt.datetime(2025, 6, 1)) == canonical(dt.date(2025, 6, 1))
    assert canonical(dt.datetime(2025, 6, 1, 8, 30, 0, 123456)) == "2025-06-01T08:30:00.123456"
    assert canonical(True) == "1" and canonical(None) == "<null>" and canonical("Ann") == "Ann"
    rows = [("1", "Ann"), ("2", "Bob")]
    assert checksum(rows) == checksum(list(reversed(rows)))
    assert checksum(rows) != checksum([("1", "ann"), ("2", "Bob")])
    report = value_differences(rows, [("1", "ann"), ("2", "Bob")], ["id", "name"])
    assert report == ("1 row(s) only in the reference, e.g. {'id': '1', 'name': 'Ann'} | "
                      "1 row(s) only here, e.g. {'id': '1', 'name': 'ann'}")
    assert value_differences(rows, list(reversed(rows)), ["id", "name"]) is None


def test_values_are_read_by_column_name_without_the_runs_own_time(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "m.duckdb"))
    con.execute("create schema analytics")
    con.execute("create table analytics.kpi_pipeline_run (run_date date, built_at timestamp, "
                "last_loaded_at timestamp, first_order_date date)")
    con.execute("insert into analytics.kpi_pipeline_run values "
                "('2026-01-01', now(), now(), '2024-01-01')")
    marts = Marts("duckdb", con)
    columns = marts.compared_columns("kpi_pipeline_run")
    assert columns == ["first_order_date", "run_date"]
    assert marts.canonical_rows("kpi_pipeline_run", columns) == [("2024-01-01", "2026-01-01")]


def test_contract_types_render_for_sql_server() -> None:
    from test_mssql_marts import contract_types, sql_server_type

    types = contract_types("dim_customers")
    assert types["unified_customer_id"] == "varchar(32)"
    assert types["first_name"] == "nvarchar(4000)"
    assert contract_types("dim_customers", "duckdb")["first_name"] == "varchar"
    assert sql_server_type(("nvarchar", 4000, None, None, None)) == "nvarchar(4000)"
    assert sql_server_type(("varchar", -1, None, None, None)) == "varchar(max)"
    assert sql_server_type(("decimal", None, 12, 2, None)) == "decimal(12,2)"
    assert sql_server_type(("datetime2", None, None, None, 6)) == "datetime2(6)"
    assert sql_server_type(("bigint", None, 19, 0, None)) == "bigint"
