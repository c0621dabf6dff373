"""The generated pages in a real headless Chromium, with the network cut off.

For several filter combinations (set through the URL, as a reader's bookmark would), every
KPI card and every row of every panel's data table — the rows the chart, the table and the
CSV are drawn from — equals the same query run in SQL over the marts.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import duckdb
import pytest
from dashboards_cdp import Browser, Page

from deltastore.dashboards.fmt import money_short

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "dashboards"
PAGES = ("index", "customers", "products", "fulfillment")

STATE_JS = """(() => {
  const panels = {}, notes = {};
  for (const p of document.querySelectorAll('section.panel[id^=panel-]')) {
    const key = p.id.slice(6);
    panels[key] = [...p.querySelectorAll('.table-slot tbody tr')].map(tr =>
      Object.fromEntries([...tr.cells].map(td => [td.dataset.col, td.dataset.value])));
    notes[key] = p.querySelector('.panel-note').textContent;
  }
  const kpis = Object.fromEntries([...document.querySelectorAll('[data-kpi]')].map(e =>
    [e.dataset.kpi, [e.dataset.value, e.textContent.trim(),
     (e.parentNode.querySelector('.card-delta') || {}).textContent || '']]));
  return {kpis, panels, notes};
})()"""


def open_page(browser: Browser, site: Path, name: str, hash_: str = "",
              width: int = 1280) -> Page:
    return browser.open((site / f"{name}.html").as_uri() + hash_, width=width)


@pytest.fixture(scope="module")
def db(marts_db: tuple[Path, Any]) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(marts_db[0]), read_only=True)
    yield connection
    connection.close()


def page_state(browser: Browser, site: Path, name: str, filters: dict[str, Any]) -> dict[str, Any]:
    page = open_page(browser, site, name, url_hash(filters))
    try:
        state: dict[str, Any] = page.evaluate(STATE_JS)
        assert page.collect().problems() == []
        return state
    finally:
        page.close()


def url_hash(filters: dict[str, Any]) -> str:
    parts = [f"{key}={'|'.join(quote(v) for v in values)}" for key, values in filters.items()
             if key not in ("from", "to")]
    parts += [f"{key}={filters[key]}" for key in ("from", "to") if key in filters]
    return "#" + "&".join(parts) if parts else ""


def where(filters: dict[str, Any], columns: dict[str, str], month: str | None) -> str:
    """The filters as SQL over a mart: what the page is expected to have summed."""
    terms = ["true"]
    for key, column in columns.items():
        if key in filters:
            values = ", ".join("'" + v.replace("'", "''") + "'" for v in filters[key])
            terms.append(f"coalesce({column}, '') in ({values})")
    if month and "from" in filters:
        terms.append(f"{month} between '{filters['from']}-01' and '{filters['to']}-01'")
    return " and ".join(terms)


def num(value: str) -> float | None:
    return None if value in ("", None) else float(value)


def same_rows(shown: list[dict[str, str]], expected: list[dict[str, Any]], key: str) -> None:
    """Page rows and SQL rows match one to one, every column (numbers to 1e-6)."""
    assert len(shown) == len(expected)
    by_key = {row[key]: row for row in shown}
    for row in expected:
        page_row = by_key["" if row[key] is None else str(row[key])]
        for column, value in row.items():
            if isinstance(value, int | float | Decimal):
                assert num(page_row[column]) == pytest.approx(float(value), rel=1e-9), (
                    row[key], column)
            else:
                assert page_row[column] == ("" if value is None else str(value)), (row[key],
                                                                                   column)


def query(db: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = db.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def signed(value: float) -> str:
    text = f"{value * 100:+.1f}%"
    return "0.0%" if text in ("+0.0%", "-0.0%") else text


# --- Customer Analysis ---------------------------------------------------------------------

CUSTOMER_DIMS = {"store": "source_store", "segment": "segment", "state": "state_code"}
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
    state = page_state(browser, site, "customers", filters)
    kpis, panels = state["kpis"], state["panels"]
    w = where(filters, CUSTOMER_DIMS, "order_month")
    table = f"from analytics.kpi_customer_activity where {w}"
    total = query(db, f"select sum(revenue) as revenue, sum(orders) as orders, "
                      f"sum(new_customers) as customers {table}")[0]
    revenue, orders = float(total["revenue"] or 0), int(total["orders"] or 0)
    assert num(kpis["revenue"][0]) == pytest.approx(revenue)
    assert kpis["revenue"][1] == money_short(revenue)
    assert kpis["orders"][:2] == [str(orders), f"{orders:,}"]
    assert kpis["customers"][0] == str(int(total["customers"] or 0))
    if orders:
        assert num(kpis["average_order_value"][0]) == pytest.approx(revenue / orders)
        assert kpis["average_order_value"][1] == f"${revenue / orders:,.2f}"
    same_rows(panels["map"], query(db, f"select state_code as state, sum(new_customers) as "
                                       f"customers, sum(orders) as orders, sum(revenue) as "
                                       f"revenue {table} group by 1"), "state")
    same_rows(panels["segments"], query(db, f"select segment, sum(new_customers) as customers, "
                                            f"sum(orders) as orders, sum(revenue) as revenue, "
                                            f"sum(revenue) / sum(orders) as average_order_value "
                                            f"{table} group by 1"), "segment")
    monthly = {r["month"]: r for r in panels["revenue"]}
    for row in query(db, f"select strftime(order_month, '%Y-%m-%d') as month, sum(orders) as "
                         f"orders, sum(revenue) as revenue {table} group by 1"):
        assert num(monthly[row["month"]]["revenue"]) == pytest.approx(float(row["revenue"]))
        assert monthly[row["month"]]["orders"] == str(row["orders"])
    # months without orders in range are shown as zero, not left out
    assert sum(num(r["revenue"]) or 0 for r in panels["revenue"]) == pytest.approx(revenue)
    cohort_where = where(filters, CUSTOMER_DIMS, "cohort_month")
    cells = query(db, f"""
        with cells as (select strftime(cohort_month, '%Y-%m-%d') as cohort_month,
            months_since_first_order as k, sum(active_customers) as active
            from analytics.kpi_cohort_activity where {cohort_where} group by 1, 2)
        select cells.cohort_month || '|' || cells.k as cell, cells.active as active_customers,
            cells.active / size.active as retention_rate, size.active as cohort_size
        from cells join cells as size on size.cohort_month = cells.cohort_month
            and size.k = 0""")
    shown = [dict(r, cell=f"{r['cohort_month']}|{r['months_since_first_order']}")
             for r in panels["cohorts"] if r["active_customers"] != "0"]
    same_rows(shown, cells, "cell")
    if filters.get("from"):
        assert "not defined" not in state["notes"]["map"]


def test_customer_cards_compare_with_the_previous_period(browser: Browser, site: Path,
                                                         db: duckdb.DuckDBPyConnection) -> None:
    kpis = page_state(browser, site, "customers", {"from": "2024-01", "to": "2024-03"})["kpis"]
    now, before = (float(db.execute(
        "select sum(revenue) from analytics.kpi_customer_activity where order_month between "
        f"'{a}' and '{b}'").fetchone()[0]) for a, b in (("2024-01-01", "2024-03-01"),
                                                         ("2023-10-01", "2023-12-01")))
    assert kpis["revenue"][2] == f"{signed(now / before - 1)} vs previous period"


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
    same_rows(panels["status"], query(db, f"""
        select transaction_status, sum(payments) as payments, sum(amount) as amount,
            sum(amount) / sum(sum(amount)) over () as amount_share
        from analytics.kpi_payment_activity where {payments_where} group by 1"""),
        "transaction_status")
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
            m.revenue / b.revenue - 1 as revenue_mom_growth
        from months as m left join months as b
            on b.order_month = m.order_month - interval 1 month""")
    shown = {r["month"]: r for r in panels["growth"]}
    for row in growth:
        if row["month"] in shown:
            expected = row["revenue_mom_growth"]
            assert num(shown[row["month"]]["revenue_mom_growth"]) == (
                None if expected is None else pytest.approx(expected)), row["month"]
    top = query(db, f"select category, least(count(*), 5) as n from "
                    f"analytics.kpi_product_performance where {where(filters, dims, None)} "
                    "group by 1")
    assert len(panels["top"]) == sum(r["n"] for r in top)


def test_rating_scatter_shows_products_one_level_at_a_time(
        browser: Browser, site: Path, db: duckdb.DuckDBPyConnection) -> None:
    page = open_page(browser, site, "products", "#store=old%20store")
    try:
        page.evaluate("(() => { const s = document.getElementById('ratings-level'); "
                      "s.value = 'products'; s.dispatchEvent(new Event('change')); })()")
        shown = page.evaluate("[...document.querySelectorAll('#panel-ratings tbody tr')]"
                              ".map(tr => tr.cells[0].dataset.value)")
        note = page.evaluate("document.querySelector('#panel-ratings .panel-note').textContent")
        marks = page.evaluate("document.querySelectorAll('#panel-ratings svg [data-tip]').length")
        assert page.collect().problems() == []
    finally:
        page.close()
    rated = [r[0] for r in db.execute(
        "select product_name from analytics.kpi_product_performance where source_store = "
        "'old store' and average_rating is not null").fetchall()]
    unrated, total = db.execute(
        "select count(*) filter (where average_rating is null), count(*) from "
        "analytics.kpi_product_performance where source_store = 'old store'").fetchone()
    assert sorted(shown) == sorted(rated) and marks == len(rated)
    assert f"{unrated:,} of {total:,} products have no rating yet" in note
    assert "ignores the Months filter" not in note  # the whole range is chosen


# --- Order Fulfillment & Logistics ---------------------------------------------------------

FULFILLMENT_FILTERS = [
    {},
    {"carrier": ["UPS", "USPS"], "from": "2023-08", "to": "2024-01"},
    {"status": ["Pending", "Cancelled"]},
    {"store": ["new store"]},
]
RATES = """sum(shipments) as shipments, sum(delivered) as delivered,
    sum(delivered) / sum(shipments) as success_rate,
    sum(total_delivery_days) / nullif(sum(delivered), 0) as avg_delivery_days,
    sum(on_time_delivered) / nullif(sum(delivered), 0) as on_time_rate"""


@pytest.mark.parametrize("filters", FULFILLMENT_FILTERS, ids=range(len(FULFILLMENT_FILTERS)))
def test_fulfillment_page_equals_sql_over_the_marts(browser: Browser, site: Path,
                                                    db: duckdb.DuckDBPyConnection,
                                                    filters: dict[str, Any]) -> None:
    state = page_state(browser, site, "fulfillment", filters)
    kpis, panels = state["kpis"], state["panels"]
    w = where(filters, {"store": "source_store", "carrier": "carrier",
                        "status": "shipment_status"}, "shipment_month")
    table = f"from analytics.kpi_shipment_activity where {w}"
    carriers = query(db, f"select carrier, {RATES} {table} group by 1 order by "
                         "success_rate desc, coalesce(on_time_rate, -1) desc, carrier")
    same_rows(panels["carriers"], carriers, "carrier")
    same_rows(panels["map"], query(db, f"select state_code as state, {RATES} {table} "
                                       "group by 1"), "state")
    same_rows(panels["statuses"], query(db, f"select shipment_status, sum(shipments) as "
                                            f"shipments {table} group by 1"),
              "shipment_status")
    total = query(db, f"select {RATES} {table}")[0]
    assert kpis["shipments"][0] == str(int(total["shipments"] or 0))
    assert kpis["best_carrier"][0] == (carriers[0]["carrier"] if carriers else "")
    for kpi, column in (("success_rate", "success_rate"), ("on_time_rate", "on_time_rate"),
                        ("average_delivery_days", "avg_delivery_days")):
        expected = total[column]
        assert num(kpis[kpi][0]) == (None if expected is None else pytest.approx(expected)), kpi
    if total["avg_delivery_days"] is not None:
        assert kpis["average_delivery_days"][1] == f"{total['avg_delivery_days']:.1f} days"
        assert kpis["on_time_rate"][1] == f"{total['on_time_rate'] * 100:.1f}%"
    if filters.get("status") == ["Pending", "Cancelled"]:
        # the status filter is alive: nothing delivered, and the map says what it shows
        assert "not defined" in state["notes"]["map"]


# --- interaction, layout, accessibility ----------------------------------------------------


def test_ticking_filters_updates_the_url_and_survives_a_reload(browser: Browser,
                                                               site: Path) -> None:
    page = open_page(browser, site, "customers")
    try:
        page.evaluate("""(() => {
          document.querySelector('[data-filter=segment] input[value=new]').click();
          const from = document.getElementById('month-from');
          from.value = '3'; from.dispatchEvent(new Event('change'));
        })()""")
        hash_ = page.evaluate("location.hash")
        revenue = page.evaluate("document.querySelector('[data-kpi=revenue]').dataset.value")
        assert page.collect().problems() == []
    finally:
        page.close()
    assert hash_.startswith("#segment=casual|at-risk&from=")
    again = open_page(browser, site, "customers", hash_)
    try:
        assert again.evaluate("document.querySelector('[data-kpi=revenue]').dataset.value") == (
            revenue)
        assert again.evaluate("document.querySelector('[data-filter=segment] .chosen')"
                              ".textContent") == "casual, at-risk"
    finally:
        again.close()


def test_csv_download_holds_the_panel_rows(browser: Browser, site: Path) -> None:
    page = open_page(browser, site, "fulfillment", "#carrier=UPS")
    try:
        csv = page.evaluate("DS.csv('carriers')")
        table = page.evaluate("[...document.querySelectorAll('#panel-carriers tbody tr')]"
                              ".map(tr => [...tr.cells].map(td => td.dataset.value).join(','))")
    finally:
        page.close()
    lines = csv.strip().split("\r\n")
    assert lines[0] == "carrier,shipments,delivered,success_rate,avg_delivery_days,on_time_rate"
    assert lines[1:] == table and len(table) == 1 and table[0].startswith("UPS,")


def test_tooltips_show_exact_values_on_keyboard_and_touch(browser: Browser, site: Path) -> None:
    page = open_page(browser, site, "customers")
    try:
        focused = page.evaluate("""(() => {
          const card = document.querySelector('[data-kpi=revenue]').parentNode;
          card.focus();
          const tip = document.querySelector('.tooltip');
          const shown = [tip.hidden, tip.textContent];
          const tile = document.querySelector('#panel-map g.tile[data-value]:not([data-value=""])');
          tile.dispatchEvent(new PointerEvent('pointerdown', {bubbles: true}));
          return shown.concat([tip.hidden, tip.textContent, tile.getAttribute('tabindex')]);
        })()""")
    finally:
        page.close()
    assert focused[0] is False and focused[1].startswith("$") and "," in focused[1]
    assert focused[2] is False and focused[3].endswith(" customers") and focused[4] == "0"


CONTRAST_JS = (Path(__file__).parent / "contrast.js").read_text()

PRINT_JS = """(() => {
  DS.draw();
  return [...document.querySelectorAll('section.panel')].map(p =>
    [p.id, p.getBoundingClientRect().height, getComputedStyle(p).breakInside]);
})()"""
# A4 at 96 px per inch with Chromium's default margins: what one printed page holds.
PRINT_WIDTH, PRINT_HEIGHT = 718, 1046


@pytest.mark.parametrize("name", PAGES)
def test_pages_fit_phones_print_and_read_clearly(browser: Browser, site: Path,
                                                 name: str) -> None:
    """390 px without horizontal overflow, WCAG AA contrast for every text node, each panel
    on one printed page, no errors; and the screenshots for people to look at."""
    page = open_page(browser, site, name, width=390)
    try:
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        overflow = page.evaluate("document.documentElement.scrollWidth")
        low_contrast = page.evaluate(CONTRAST_JS)
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = false)")
        screenshot(page, f"{name}-390")
        page.resize(1440, 900)
        page.evaluate("DS.draw && DS.draw()" if name != "index" else "1")
        assert page.evaluate(CONTRAST_JS) == []
        screenshot(page, f"{name}-1440")
        if name != "index":
            page.resize(PRINT_WIDTH, PRINT_HEIGHT)
            page.emulate_media("print")
            panels = page.evaluate(PRINT_JS)
            page.emulate_media("")
        else:
            panels = []
        assert page.collect().problems() == []
        assert page.report.requested_urls == [(site / f"{name}.html").as_uri()]
    finally:
        page.close()
    assert overflow <= 390
    assert low_contrast == []
    for panel, height, rule in panels:
        assert rule == "avoid" and height <= PRINT_HEIGHT, panel


def screenshot(page: Page, name: str) -> None:
    """Fixture-data screenshots to look at (docs/screenshots come from a demo run:
    tests/dashboards/take_screenshots.py)."""
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


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
