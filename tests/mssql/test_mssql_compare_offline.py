"""The comparison the SQL Server job relies on, exercised here on real DuckDB files: it
finds the keys in the dbt project, and it notices a missing row, a changed key, a duplicate
and a missing table."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from marts_compare import Marts, key_differences, mart_keys, normalise


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
