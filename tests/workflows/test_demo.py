"""`deltastore demo` end to end: real demo sources, real dbt build, real sync, twice."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import duckdb
import pytest

from deltastore.extract.demo import GENERATOR_VERSION
from deltastore.settings import Settings
from deltastore.workflows import demo
from deltastore.workflows.cli import main
from deltastore.workflows.demo import DEMO_RUN_DATE, prepare_legacy_db

# docs/data-contracts.md: the original marts and the KPI marts.
CONTRACT_MARTS = (
    "dim_customers", "fct_order_customers", "fct_order_items", "fct_payments", "fct_products",
    "fct_reviews", "fct_shipments", "kpi_pipeline_run", "kpi_customer_summary",
    "kpi_customers_by_state", "kpi_monthly_revenue", "fct_customer_segments",
    "kpi_customer_segments", "kpi_cohort_retention", "kpi_transaction_status",
    "kpi_product_performance", "kpi_category_performance", "kpi_carrier_performance",
    "kpi_delivery_by_state", "kpi_customer_activity", "kpi_active_customers",
    "kpi_cohort_activity",
    "kpi_category_sales", "kpi_category_ratings", "kpi_payment_activity",
    "kpi_shipment_activity",
)
# When the build ran: the one value that differs between two runs over the same data.
RUN_TIME_COLUMNS = {("kpi_pipeline_run", "built_at")}


def _tables(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of schema analytics, sorted rows, run-time columns left out."""
    with duckdb.connect(str(path), read_only=True) as con:
        columns: dict[str, list[str]] = {}
        for table, column in con.execute(
                "select c.table_name, c.column_name from information_schema.columns c "
                "join information_schema.tables t using (table_catalog, table_schema, table_name) "
                "where c.table_schema = 'analytics' and t.table_type = 'BASE TABLE' "
                "and c.table_catalog = current_database() order by c.ordinal_position").fetchall():
            if (table, column) not in RUN_TIME_COLUMNS:
                columns.setdefault(table, []).append(f'"{column}"')
        return {table: con.execute(f"select {', '.join(cols)} from analytics.\"{table}\" "
                                   "order by all").fetchall()
                for table, cols in sorted(columns.items())}


@pytest.mark.slow
def test_demo_publishes_every_mart_and_a_second_run_changes_nothing(
        embedded_env: Settings, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["demo", "--scale", "0.02"]) == 0
    out = capsys.readouterr().out
    assert "demo finished" in out and f"run date {DEMO_RUN_DATE}" in out
    for what in ("warehouse:", "sync target:", "dbt docs:", "dashboards:"):
        assert what in out
    assert embedded_env.sync_target_url.path and embedded_env.warehouse_url.path
    published = _tables(embedded_env.sync_target_url.path)
    warehouse = _tables(embedded_env.warehouse_url.path)
    assert set(CONTRACT_MARTS) <= set(published)
    for mart in published:
        assert len(published[mart]) == len(warehouse[mart]), mart
        assert f"    {mart} " in out  # rows per mart are reported
    assert len(published["dim_customers"]) > 0
    with duckdb.connect(str(embedded_env.sync_target_url.path), read_only=True) as con:
        assert con.execute("select run_date from analytics.kpi_pipeline_run").fetchone() == (
            DEMO_RUN_DATE,)
    assert "DELTASTORE_STORE_API_URL" not in os.environ  # restored after the run

    # Docs and dashboards were checked above; the second run is about the marts.
    monkeypatch.setattr(demo, "EXTRA_COMMANDS", ())
    assert main(["demo", "--scale", "0.02"]) == 0
    second = capsys.readouterr().out
    assert "legacy DB" in second and "exists (scale 0.02, seed 42)" in second
    assert _tables(embedded_env.sync_target_url.path) == published


def test_existing_legacy_db_of_another_scale_is_kept(embedded_env: Settings) -> None:
    lines: list[str] = []
    assert prepare_legacy_db(embedded_env, 0.01, 7, regenerate=False, echo=lines.append)
    path = embedded_env.legacy_db_url.path
    assert path is not None and path.exists()
    made = path.stat().st_mtime_ns
    marker = path.with_name(path.name + ".demo.json")
    assert json.loads(marker.read_text()) == {"scale": 0.01, "seed": 7,
                                              "generator": GENERATOR_VERSION}

    assert not prepare_legacy_db(embedded_env, 0.02, 7, regenerate=False, echo=lines.append)
    assert "generated at scale 0.01 seed 7, not scale 0.02 seed 7: keeping it" in lines[-1]
    assert path.stat().st_mtime_ns == made

    assert prepare_legacy_db(embedded_env, 0.02, 7, regenerate=True, echo=lines.append)
    assert json.loads(path.with_name(path.name + ".demo.json").read_text())["scale"] == 0.02


def test_legacy_db_of_an_earlier_generator_is_reported(embedded_env: Settings) -> None:
    """Same scale and seed but made before the generators changed: kept, and said so."""
    lines: list[str] = []
    assert prepare_legacy_db(embedded_env, 0.01, 7, regenerate=False, echo=lines.append)
    path = embedded_env.legacy_db_url.path
    assert path is not None
    path.with_name(path.name + ".demo.json").write_text('{"scale": 0.01, "seed": 7}')
    assert not prepare_legacy_db(embedded_env, 0.01, 7, regenerate=False, echo=lines.append)
    assert f"earlier demo generator (version 1, now {GENERATOR_VERSION})" in lines[-1]
