"""The generated pages in a real headless Chromium, with the network cut off.

For several filter combinations (set through the URL, as a reader's bookmark would), every
KPI card and every row of every panel — the rows the chart, the table and the CSV are drawn
from — equals the same query run in SQL over the marts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from dashboards_cdp import Browser, Page
from dashboards_pages import (
    assert_customer_page,
    assert_fulfillment_page,
    num,
    opened,
    page_state,
    query,
    same_rows,
    where,
)

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "dashboards"
PAGES = ("index", "customers", "products", "fulfillment")



def signed(value: float) -> str:
    text = f"{value * 100:+.1f}%"
    return "0.0%" if text in ("+0.0%", "-0.0%") else text


# --- Customer Analysis ---------------------------------------------------------------------

CUSTOMER_FILTERS = [
    {},
    {"store": ["old store"], "segment": ["new", "casual"], "from": "2023-10", "to": "2024-03"},
    {"state": ["CA", "TX", ""], "from": "2024-01", "to": "2024-06"},
    {"segment": ["at-risk"], "store": ["new store"]},
]


@pytest.mark.parametrize("filters", CUSTOMER_FILTERS, ids=range(len(CUSTOMER_FILTERS)))
def test_customer_page_equals_sql_over_the_marts(browser: Browser, site: Path,
                                                 db: duckdb.DuckDBPyConnection,
                                                 filters: dict[str, Any]) -> None:
    assert_customer_page(page_state(browser, site, "customers", filters), db, filters)


def test_customer_cards_compare_with_the_previous_period_and_a_year_before(
        browser: Browser, site: Path, db: duckdb.DuckDBPyConnection) -> None:
    kpis = page_state(browser, site, "customers", {"from": "2024-01", "to": "2024-03"})["kpis"]
    now, before, year = (float(db.execute(
        "select sum(revenue) from analytics.kpi_customer_activity where order_month between "
        f"'{a}' and '{b}'").fetchone()[0]) for a, b in (
            ("2024-01-01", "2024-03-01"), ("2023-10-01", "2023-12-01"),
            ("2023-01-01", "2023-03-01")))
    assert kpis["revenue"][2] == (f"{signed(now / before - 1)} vs previous period · "
                                  f"{signed(now / year - 1)} vs a year before")


# --- Product & Pricing Optimization --------------------------------------------------------

PRODUCT_FILTERS = [
    {},
    {"store": ["new store"], "category": ["electronics", "jewelery"]},
    {"category": ["men's clothing"], "from": "2023-09", "to": "2024-02"},
]


@pytest.mark.parametrize("filters", PRODUCT_FILTERS, ids=range(len(PRODUCT_FILTERS)))
def test_product_page_equals_sql_over_the_marts(browser: Browser, site: Path,
                                                db: duckdb.DuckDBPyConnection,
                                                filters: dict[str, Any]) -> None:
    state = page_state(browser, site, "products", filters)
    kpis, panels, notes = state["kpis"], state["panels"], state["notes"]
    dims = {"store": "source_store", "category": "category"}
    w = where(filters, dims, "order_month")
    revenue = float(db.execute(f"select coalesce(sum(revenue), 0) from "
                               f"analytics.kpi_category_sales where {w}").fetchone()[0])
    assert num(kpis["revenue"][0]) == pytest.approx(revenue)
    low = db.execute("select count(*) from analytics.kpi_product_performance where "
                     f"is_low_rating and {where(filters, dims, None)}").fetchone()[0]
    assert kpis["low_rating_products"][:2] == [str(low), f"{low:,}"]
    payments_where = where({k: v for k, v in filters.items() if k != "category"}, dims,
                           "order_month")
    payments = query(db, f"""
        select transaction_status, sum(payments) as payments, sum(amount) as amount,
            sum(amount) / sum(sum(amount)) over () as amount_share
        from analytics.kpi_payment_activity where {payments_where} group by 1""")
    same_rows(panels["status"], payments, "transaction_status")
    at_risk = sum(float(r["amount_share"]) for r in payments
                  if r["transaction_status"] != "Completed")
    # the web store records no payments: a share of nothing is not defined
    assert num(kpis["at_risk_amount_share"][0]) == (pytest.approx(at_risk) if payments
                                                    else None)
    assert ("ignores the Category filter" in notes["status"]) == ("category" in filters)
    # product ratings have no month: with a date range the panel says it ignores it
    assert ("ignores the Months filter" in notes["ratings"]) == ("from" in filters)
    same_rows(panels["ratings"], query(db, f"""
        select category, sum(products) as products, sum(rated_products) as rated_products,
            sum(revenue) as revenue, sum(rating_total) / nullif(sum(review_count), 0)
            as average_rating, sum(review_count) as review_count
        from analytics.kpi_category_ratings where {where(filters, dims, None)} group by 1"""),
        "category")
    # growth: each month against the calendar month before, over the filtered sales
    growth = query(db, f"""
        with months as (select order_month, sum(revenue) as revenue
            from analytics.kpi_category_sales where {where(filters, dims, None)} group by 1)
        select strftime(m.order_month, '%Y-%m-%d') as month,
            m.revenue / b.revenue - 1 as revenue_growth
        from months as m left join months as b
            on b.order_month = m.order_month - interval 1 month""")
    shown = {r["month"]: r for r in panels["growth"]}
    for row in growth:
        if row["month"] in shown:
            expected = row["revenue_growth"]
            assert num(shown[row["month"]]["revenue_growth"]) == (
                None if expected is None else pytest.approx(expected)), row["month"]
    trend = {(r["category"], r["period"]): num(r["revenue"]) for r in panels["trend"]}
    for row in query(db, f"select category, strftime(order_month, '%b %Y') as period, "
                         f"sum(revenue) as revenue from analytics.kpi_category_sales "
                         f"where {w} group by 1, 2"):
        assert trend[(row["category"], row["period"])] == pytest.approx(float(row["revenue"]))
    top = query(db, f"select category, least(count(*), 5) as n from "
                    f"analytics.kpi_product_performance where {where(filters, dims, None)} "
                    "group by 1")
    assert len(panels["top"]) == sum(r["n"] for r in top)


def test_rating_scatter_shows_products_one_level_at_a_time(
        browser: Browser, site: Path, db: duckdb.DuckDBPyConnection) -> None:
    with opened(browser, site, "products", "#store=old%20store&level=products") as page:
        shown = page.evaluate("DS.rowsOf('ratings').map(r => r.product_id)")
        note = page.evaluate("document.querySelector('#panel-ratings .panel-note').textContent")
        assert page.collect().problems() == []
    rated = [r[0] for r in db.execute(
        "select product_id from analytics.kpi_product_performance where source_store = "
        "'old store' and average_rating is not null").fetchall()]
    unrated, total = db.execute(
        "select count(*) filter (where average_rating is null), count(*) from "
        "analytics.kpi_product_performance where source_store = 'old store'").fetchone()
    assert sorted(shown) == sorted(rated)
    assert f"{unrated:,} of {total:,} products have no rating yet" in note
    assert "ignores the Months filter" not in note  # the whole range is chosen


# --- Order Fulfillment & Logistics ---------------------------------------------------------

FULFILLMENT_FILTERS = [
    {},
    {"carrier": ["UPS", "USPS"], "from": "2023-08", "to": "2024-01"},
    {"status": ["Pending", "Cancelled"]},
    {"state": ["CA", ""], "status": ["Delivered", "Shipped"]},
]
@pytest.mark.parametrize("filters", FULFILLMENT_FILTERS, ids=range(len(FULFILLMENT_FILTERS)))
def test_fulfillment_page_equals_sql_over_the_marts(browser: Browser, site: Path,
                                                    db: duckdb.DuckDBPyConnection,
                                                    filters: dict[str, Any]) -> None:
    state = page_state(browser, site, "fulfillment", filters)
    assert_fulfillment_page(state, db, filters)
    if filters.get("status") == ["Pending", "Cancelled"]:
        # the status filter is alive: nothing delivered, and the map says what it shows
        assert "not defined" in state["notes"]["map"]


# --- interaction, layout, accessibility ----------------------------------------------------


def test_ticking_filters_updates_the_url_and_survives_a_reload(browser: Browser,
                                                               site: Path) -> None:
    with opened(browser, site, "customers") as page:
        page.evaluate("""(() => {
          document.querySelector('[data-filter=segment] input[value=new]').click();
          const from = document.getElementById('month-from');
          from.value = '3'; from.dispatchEvent(new Event('change'));
        })()""")
        hash_ = page.evaluate("location.hash")
        revenue = page.evaluate("document.querySelector('[data-kpi=revenue]').dataset.value")
        assert page.collect().problems() == []
    assert hash_.startswith("#segment=casual|at-risk&from=")
    with opened(browser, site, "customers", hash_) as again:
        assert again.evaluate("document.querySelector('[data-kpi=revenue]').dataset.value") == (
            revenue)
        assert again.evaluate("document.querySelector('[data-filter=segment] .chosen')"
                              ".textContent") == "casual, at-risk"


def test_tooltips_show_exact_values_on_keyboard_and_touch(browser: Browser, site: Path) -> None:
    with opened(browser, site, "customers") as page:
        focused = page.evaluate("""(() => {
          const card = document.querySelector('[data-kpi=revenue]').parentNode;
          card.focus();
          const tip = document.querySelector('.tooltip');
          const shown = [tip.hidden, tip.textContent];
          const tile = document.querySelector('#panel-map g.tile[data-value]:not([data-value=""])');
          tile.dispatchEvent(new PointerEvent('pointerdown', {bubbles: true}));
          return shown.concat([tip.hidden, tip.textContent]);
        })()""")
    assert focused[0] is False and focused[1].startswith("$") and "," in focused[1]
    assert focused[2] is False and "active customers" in focused[3]


CONTRAST_JS = (Path(__file__).parent / "contrast.js").read_text()


@pytest.mark.parametrize("name", PAGES)
def test_pages_fit_phones_and_read_clearly(browser: Browser, site: Path, name: str) -> None:
    """390 px without horizontal overflow, WCAG AA contrast for every text node (filter lists
    and data tables open), no errors and no request but the page itself; and screenshots
    for people to look at."""
    with opened(browser, site, name, width=390) as page:
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        overflow = page.evaluate("document.documentElement.scrollWidth")
        low_contrast = page.evaluate(CONTRAST_JS)
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = false)")
        screenshot(page, f"{name}-390")
        page.resize(1440, 900)
        page.evaluate("window.DS && DS.draw()")
        assert page.evaluate(CONTRAST_JS) == []
        screenshot(page, f"{name}-1440")
        assert page.collect().problems() == []
        assert page.report.requested_urls == [(site / f"{name}.html").as_uri()]
    assert overflow <= 390
    assert low_contrast == []


def screenshot(page: Page, name: str) -> None:
    """Fixture-data screenshots to look at (docs/screenshots come from a demo run:
    tests/dashboards/take_screenshots.py)."""
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", PAGES)
def test_empty_marts_show_empty_states_in_the_browser(browser: Browser, empty_site: Path,
                                                      name: str) -> None:
    with opened(browser, empty_site, name) as page:
        assert page.collect().problems() == []
        empties = page.evaluate("[...document.querySelectorAll('[data-empty]')]"
                                ".map(e => e.textContent)")
        values = page.evaluate("[...document.querySelectorAll('[data-kpi]')]"
                               ".map(e => [e.dataset.value, e.textContent])")
        freshness = page.evaluate("document.querySelector('.freshness').textContent")
    if name != "index":
        assert empties and set(empties) == {"No data yet — run deltastore run"}
    assert freshness == "No data yet — run deltastore run"
    assert values and all(raw == "" and shown in ("–", "not defined") for raw, shown in values)
