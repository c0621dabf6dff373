"""The generated pages in a real headless Chromium, with the network cut off."""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dashboards_cdp import Browser, Page

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "dashboards"
DOC_SCREENSHOTS = REPO / "docs" / "screenshots"
PAGES = ("index", "customers", "products", "fulfillment")

KPIS_JS = ("Object.fromEntries([...document.querySelectorAll('[data-kpi]')]"
           ".map(e => [e.dataset.kpi, [e.dataset.value, e.textContent.trim()]]))")


def open_page(browser: Browser, site: Path, name: str) -> Page:
    return browser.open((site / f"{name}.html").as_uri())


@pytest.fixture(scope="module")
def db(marts_db: tuple[Path, Any]) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(marts_db[0]), read_only=True)
    yield connection
    connection.close()


def scalar(db: duckdb.DuckDBPyConnection, sql: str) -> Any:
    return db.execute(sql).fetchone()[0]


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_offline_without_errors(browser: Browser, site: Path, name: str) -> None:
    page = open_page(browser, site, name)
    try:
        report = page.collect()
        assert report.problems() == []
        assert report.requested_urls == [(site / f"{name}.html").as_uri()]
        assert page.evaluate("document.querySelectorAll('svg.chart').length") >= (
            0 if name == "index" else 2)
        targets = [(ARTIFACTS / f"{name}.png", 1.0)]
        if os.environ.get("DELTASTORE_UPDATE_SCREENSHOTS") == "1":
            targets.append((DOC_SCREENSHOTS / f"{name}.png", 0.5))
        for path, scale in targets:
            page.screenshot(path, scale)
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        page.close()


def page_kpis(browser: Browser, site: Path, name: str) -> dict[str, list[str]]:
    """The KPI cards of one page: name -> [raw data-value, text shown]."""
    page = open_page(browser, site, name)
    try:
        kpis: dict[str, list[str]] = page.evaluate(KPIS_JS)
        return kpis
    finally:
        page.close()


def test_customer_kpis_match_the_marts(browser: Browser, site: Path,
                                       db: duckdb.DuckDBPyConnection) -> None:
    kpis = page_kpis(browser, site, "customers")
    aov, customers, orders, revenue = db.execute(
        "select average_order_value, customers, orders, revenue "
        "from analytics.kpi_customer_summary").fetchone()
    assert kpis["average_order_value"] == [str(aov), f"${aov:,.2f}"]
    assert kpis["customers"] == [str(customers), f"{customers:,}"]
    assert kpis["orders"] == [str(orders), f"{orders:,}"]
    assert Decimal(kpis["revenue"][0]) == revenue
    assert kpis["run_date"][0] == scalar(db, "select run_date from analytics.kpi_pipeline_run"
                                         ).isoformat()


def test_fulfillment_kpis_match_the_marts(browser: Browser, site: Path,
                                          db: duckdb.DuckDBPyConnection) -> None:
    kpis = page_kpis(browser, site, "fulfillment")
    best, success = db.execute("select carrier, success_rate from "
                               "analytics.kpi_carrier_performance where is_best_carrier"
                               ).fetchone()
    average = scalar(db, "select sum(total_delivery_days) / sum(delivered) "
                         "from analytics.kpi_delivery_by_state")
    on_time = scalar(db, "select sum(on_time_delivered) / sum(delivered) "
                         "from analytics.kpi_carrier_performance")
    assert kpis["best_carrier"] == [best, best]
    assert float(kpis["best_carrier_success_rate"][0]) == pytest.approx(success)
    assert kpis["best_carrier_success_rate"][1] == f"{success * 100:.1f}%"
    assert float(kpis["average_delivery_days"][0]) == pytest.approx(average)
    assert kpis["average_delivery_days"][1] == f"{average:.1f} days"
    assert float(kpis["on_time_rate"][0]) == pytest.approx(on_time)
    assert kpis["on_time_rate"][1] == f"{on_time * 100:.1f}%"


def test_product_kpis_match_the_marts(browser: Browser, site: Path,
                                      db: duckdb.DuckDBPyConnection) -> None:
    kpis = page_kpis(browser, site, "products")
    completed = scalar(db, "select amount_share from analytics.kpi_transaction_status "
                           "where transaction_status = 'Completed'")
    growth = scalar(db, "select revenue_mom_growth from analytics.kpi_monthly_revenue "
                        "order by order_month desc limit 1")
    low = scalar(db, "select count(*) from analytics.kpi_product_performance where is_low_rating")
    assert float(kpis["completed_amount_share"][0]) == pytest.approx(completed)
    assert float(kpis["revenue_mom_growth"][0]) == pytest.approx(growth)
    assert kpis["revenue_mom_growth"][1] == f"{growth * 100:+.1f}%"
    assert kpis["low_rating_products"] == [str(low), str(low)]


def tile_values(page: Page, map_id: str) -> dict[str, str]:
    return page.evaluate(
        f"Object.fromEntries([...document.querySelectorAll('#{map_id} g.tile')]"
        ".map(t => [t.dataset.state, t.querySelector('.tile-value').textContent]))")


def choose(page: Page, select_id: str, value: str) -> None:
    page.evaluate(f"(() => {{ const s = document.getElementById('{select_id}'); "
                  f"s.value = '{value}'; s.dispatchEvent(new Event('change')); }})()")


def test_carrier_and_status_filters_reaggregate_delivery_days(
        browser: Browser, site: Path, db: duckdb.DuckDBPyConnection) -> None:
    page = open_page(browser, site, "fulfillment")
    try:
        all_states = tile_values(page, "delivery-map")
        choose(page, "carrier-filter", "UPS")
        ups = tile_values(page, "delivery-map")
        choose(page, "status-filter", "In Transit")
        in_transit = tile_values(page, "delivery-map")
        note = page.evaluate("document.getElementById('delivery-note').textContent")
        assert page.collect().problems() == []
    finally:
        page.close()
    expected = dict(db.execute(
        "select state_code, sum(total_delivery_days) / sum(delivered) "
        "from analytics.kpi_delivery_by_state where carrier = 'UPS' and state_code is not null "
        "group by state_code having sum(delivered) > 0").fetchall())
    shown = {code: float(text.removesuffix(" d")) for code, text in ups.items() if text != "–"}
    assert shown.keys() == expected.keys()
    for code, average in expected.items():
        assert shown[code] == pytest.approx(average, abs=0.051), code
    assert ups != all_states
    # Shipments still in transit have no delivery time: every tile is empty, and says so.
    assert set(in_transit.values()) == {"–"}
    assert note.startswith("No delivered shipments match these filters.")


def test_segment_filter_redraws_the_customer_map(
        browser: Browser, site: Path, db: duckdb.DuckDBPyConnection) -> None:
    page = open_page(browser, site, "customers")
    try:
        choose(page, "segment-filter", "at-risk")
        shown = {code: int(text.replace(",", ""))
                 for code, text in tile_values(page, "customers-map").items() if text != "–"}
        note = page.evaluate("document.getElementById('customers-note').textContent")
        assert page.collect().problems() == []
    finally:
        page.close()
    expected = dict(db.execute(
        "select state_code, sum(customers) from analytics.kpi_customers_by_state "
        "where segment = 'at-risk' group by state_code").fetchall())
    stateless = expected.pop(None, 0)
    assert shown == expected
    assert note == (f"{stateless} customers without a US state on record are not on the map."
                    if stateless else "")


@pytest.mark.parametrize("name", PAGES)
def test_empty_marts_show_empty_states_in_the_browser(browser: Browser, empty_site: Path,
                                                      name: str) -> None:
    page = open_page(browser, empty_site, name)
    try:
        assert page.collect().problems() == []
        empties = page.evaluate("[...document.querySelectorAll('[data-empty]')]"
                                ".map(e => e.textContent)")
        values = page.evaluate("[...document.querySelectorAll('[data-kpi]')]"
                               ".map(e => [e.dataset.value, e.textContent])")
        freshness = page.evaluate("document.querySelector('.freshness').textContent")
    finally:
        page.close()
    if name != "index":
        assert empties and set(empties) == {"No data yet — run deltastore run"}
    assert freshness == "No data yet — run deltastore run"
    assert values and all(raw == "" and shown == "–" for raw, shown in values)
