"""Opening a rendered page and reading what it shows, for the browser tests: every card and
every panel's rows, and the same figures as SQL over the marts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import duckdb
import pytest
from dashboards_cdp import Browser, Page

from deltastore.dashboards.fmt import money_short

# Every card (raw value, text, change line) and every panel's rows as the table and the
# CSV hold them (DS.rowsOf), values as text like a table cell's data-value.
STATE_JS = """(() => {
  const panels = {}, notes = {};
  for (const p of document.querySelectorAll('section.panel[id^=panel-]')) {
    const key = p.id.slice(6);
    panels[key] = DS.rowsOf(key).map(r => Object.fromEntries(Object.entries(r).map(
      ([k, v]) => [k, v == null ? '' : String(v)])));
    notes[key] = p.querySelector('.panel-note').textContent;
  }
  const kpis = Object.fromEntries([...document.querySelectorAll('[data-kpi]')].map(e =>
    [e.dataset.kpi, [e.dataset.value, e.textContent.trim(),
     (e.parentNode.querySelector('.card-delta') || {}).textContent || '',
     (e.parentNode.querySelector('.card-note') || {}).textContent || '']]));
  return {kpis, panels, notes};
})()"""


def open_page(browser: Browser, site: Path, name: str, hash_: str = "",
              width: int = 1280, height: int = 900) -> Page:
    return browser.open((site / f"{name}.html").as_uri() + hash_, width=width, height=height)


@contextmanager
def opened(browser: Browser, site: Path, name: str, hash_: str = "", width: int = 1280,
           height: int = 900) -> Iterator[Page]:
    """A page of the site, closed after the block."""
    page = open_page(browser, site, name, hash_, width, height)
    try:
        yield page
    finally:
        page.close()


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
             if key not in ("from", "to") and isinstance(values, list)]
    parts += [f"{key}={value}" for key, value in filters.items() if isinstance(value, str)]
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
    """Page rows and SQL rows match one to one, every column (numbers to 1e-9)."""
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




CUSTOMER_DIMS = {"store": "source_store", "segment": "segment", "state": "state_code"}
RATES = """sum(shipments) as shipments, sum(finished) as finished, sum(delivered) as delivered,
    sum(delivered) / nullif(sum(finished), 0) as success_rate,
    sum(total_delivery_days) / nullif(sum(delivered), 0) as avg_delivery_days,
    sum(on_time_delivered) / nullif(sum(delivered), 0) as on_time_rate"""
FULFILLMENT_DIMS = {"store": "source_store", "carrier": "carrier", "status": "shipment_status",
                    "state": "state_code"}


def first_month(db: duckdb.DuckDBPyConnection, filters: dict[str, Any]) -> str:
    """The first month of the range: the filter's, or the first month of data."""
    if "from" in filters:
        return f"{filters['from']}-01"
    (first,) = db.execute("select min(order_month) from analytics.kpi_customer_activity"
                          ).fetchone()
    return str(first)


def active_sql(db: duckdb.DuckDBPyConnection, filters: dict[str, Any]) -> str:
    """kpi_active_customers rows counting each customer once in the range (the contract)."""
    w = where(filters, CUSTOMER_DIMS, "order_month")
    return (f"from analytics.kpi_active_customers where {w} and (previous_order_month is null "
            f"or previous_order_month < '{first_month(db, filters)}')")


def assert_customer_page(state: dict[str, Any], db: duckdb.DuckDBPyConnection,
                         filters: dict[str, Any]) -> None:
    """Every card and panel row of Customer Analysis equals SQL over the marts."""
    kpis, panels = state["kpis"], state["panels"]
    w = where(filters, CUSTOMER_DIMS, "order_month")
    table = f"from analytics.kpi_customer_activity where {w}"
    active = active_sql(db, filters)
    total = query(db, f"select sum(revenue) as revenue, sum(orders) as orders, "
                      f"sum(new_customers) as new_customers {table}")[0]
    revenue, orders = float(total["revenue"] or 0), int(total["orders"] or 0)
    (customers,) = db.execute(f"select coalesce(sum(customers), 0) {active}").fetchone()
    assert num(kpis["revenue"][0]) == pytest.approx(revenue)
    assert kpis["revenue"][1] == money_short(revenue)
    assert kpis["orders"][:2] == [str(orders), f"{orders:,}"]
    assert kpis["active_customers"][0] == str(customers)
    assert kpis["new_customers"][0] == str(int(total["new_customers"] or 0))
    if orders:
        assert num(kpis["average_order_value"][0]) == pytest.approx(revenue / orders)
        assert kpis["average_order_value"][1] == f"${revenue / orders:,.2f}"
    same_rows(panels["map"], query(db, f"""
        with a as (select state_code, sum(customers) as active_customers {active} group by 1),
        o as (select state_code, sum(new_customers) as new_customers, sum(orders) as orders,
            sum(revenue) as revenue {table} group by 1)
        select o.state_code as state, coalesce(a.active_customers, 0) as active_customers,
            new_customers, orders, revenue
        from o left join a on a.state_code is not distinct from o.state_code"""), "state")
    same_rows(panels["segments"], query(db, f"""
        with a as (select segment, sum(customers) as active_customers {active} group by 1),
        o as (select segment, sum(orders) as orders, sum(revenue) as revenue {table}
            group by 1)
        select segment, coalesce(a.active_customers, 0) as active_customers, orders, revenue,
            revenue / orders as average_order_value
        from o left join a using (segment)"""), "segment")
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


def assert_fulfillment_page(state: dict[str, Any], db: duckdb.DuckDBPyConnection,
                            filters: dict[str, Any]) -> None:
    """Every card and panel row of Order Fulfillment & Logistics equals SQL over the marts."""
    kpis, panels = state["kpis"], state["panels"]
    table = (f"from analytics.kpi_shipment_activity where "
             f"{where(filters, FULFILLMENT_DIMS, 'shipment_month')}")
    carriers = query(db, f"select carrier, {RATES} {table} group by 1 order by "
                         "coalesce(success_rate, -1) desc, coalesce(on_time_rate, -1) desc, "
                         "carrier")
    same_rows(panels["carriers"], carriers, "carrier")
    assert [r["carrier"] for r in panels["carriers"]] == [r["carrier"] for r in carriers]
    same_rows(panels["map"], query(db, f"select state_code as state, {RATES} {table} "
                                       "group by 1"), "state")
    same_rows(panels["statuses"], query(db, f"select shipment_status, sum(shipments) as "
                                            f"shipments {table} group by 1"),
              "shipment_status")
    total = query(db, f"select {RATES} {table}")[0]
    assert kpis["shipments"][0] == str(int(total["shipments"] or 0))
    assert kpis["in_transit"][0] == str(int((total["shipments"] or 0) - (total["finished"] or 0)))
    best = carriers[0]["carrier"] if carriers and carriers[0]["success_rate"] is not None else ""
    assert kpis["best_carrier"][0] == best
    for kpi, column in (("success_rate", "success_rate"), ("on_time_rate", "on_time_rate"),
                        ("average_delivery_days", "avg_delivery_days")):
        expected = total[column]
        assert num(kpis[kpi][0]) == (None if expected is None else pytest.approx(expected)), kpi
    if total["avg_delivery_days"] is not None:
        assert kpis["average_delivery_days"][1] == f"{total['avg_delivery_days']:.1f} days"
        assert kpis["on_time_rate"][1] == f"{total['on_time_rate'] * 100:.1f}%"
    trend = {(r["carrier"], r["period"]): num(r["value"]) for r in panels["ontime"]}
    for row in query(db, f"select carrier, strftime(shipment_month, '%b %Y') as period, "
                         f"{RATES} {table} group by 1, 2"):
        assert trend[(row["carrier"], row["period"])] == (
            None if row["on_time_rate"] is None else pytest.approx(row["on_time_rate"]))
