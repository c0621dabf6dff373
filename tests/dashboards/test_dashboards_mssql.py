"""Dashboards and exports read from SQL Server (Azure SQL's engine) exactly as from DuckDB.

The fixture marts are published with the real sync (`sync.sync_marts`), then the
site and the exports are produced from the SQL Server copy and compared with the DuckDB
originals. Runs in GitHub Actions (DELTASTORE_TEST_MSSQL_URL); locally the same path runs
against a DuckDB sync target.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from deltastore.dashboards import render_dashboards
from deltastore.dashboards.export import export_marts
from deltastore.settings import Settings
from deltastore.sync import sync_marts


def published(marts_db: tuple[Path, Any], data_dir: Path, target: str,
              password: str | None) -> Settings:
    env = {"DELTASTORE_DATA_DIR": str(data_dir),
           "DELTASTORE_WAREHOUSE_URL": f"duckdb://{marts_db[0]}",
           "DELTASTORE_SYNC_TARGET_URL": target, "DELTASTORE_BATCH_SIZE": "16"}
    if password:
        env["DELTASTORE_SYNC_TARGET_PASSWORD"] = password
    settings = Settings.from_env(env)
    # No dbt build produced these marts, so there is no run_results.json to gate on.
    sync_marts(settings, force=True, echo=lambda _: None)
    return settings


def page_data(page: Path) -> dict[str, list[list[Any]]]:
    """The rows a page computes from, sorted (a database returns them in any order)."""
    found = re.search(r'id="page-config">(.*?)</script>', page.read_text())
    assert found, page
    cubes = json.loads(found.group(1))["cubes"]
    return {name: sorted(cube["rows"], key=repr) for name, cube in cubes.items()}


def check_site_and_exports(settings: Settings, marts_db: tuple[Path, Any], out: Path,
                           reference: Path) -> None:
    tables = marts_db[1]
    index = render_dashboards(settings, out / "site")
    for name in ("customers.html", "products.html", "fulfillment.html"):
        assert page_data(index.parent / name) == page_data(reference / name), name
    overview = (index.parent / "index.html").read_text()
    aov = tables["kpi_customer_summary"][0][4]
    assert re.search(rf'data-kpi="average_order_value" data-value="{re.escape(str(aov))}0*">'
                     rf"\${aov:,.2f}<", overview)
    counts = export_marts(settings, "parquet", out / "parquet")
    assert counts == {name: len(rows) for name, rows in tables.items()}
    products = pq.read_table(out / "parquet" / "kpi_product_performance.parquet")
    assert pa.types.is_decimal(products.schema.field("revenue").type)
    assert products.column("revenue").to_pylist() == [
        row[5] for row in tables["kpi_product_performance"]]


def test_dashboards_read_a_synced_duckdb_target(marts_db: tuple[Path, Any], site: Path,
                                                tmp_path: Path) -> None:
    target = f"duckdb://{tmp_path / 'published.duckdb'}"
    check_site_and_exports(published(marts_db, tmp_path, target, None), marts_db, tmp_path,
                           site)


@pytest.mark.mssql
def test_dashboards_read_sql_server(marts_db: tuple[Path, Any], site: Path,
                                    tmp_path: Path) -> None:
    settings = published(marts_db, tmp_path, os.environ["DELTASTORE_TEST_MSSQL_URL"],
                         os.environ.get("DELTASTORE_TEST_MSSQL_PASSWORD"))
    check_site_and_exports(settings, marts_db, tmp_path, site)
