"""The demo data has the shape of a real shop, read from the marts of a scale-1 demo.

Each shape is promised in the generators' docstrings (extract/demo/legacy_records.py and
store_data.py); here they are checked where an analyst sees them: in the published marts.
"""

from __future__ import annotations

import pytest
from demo_run import DemoRun

pytestmark = pytest.mark.slow


def test_revenue_grows_and_peaks_in_november_and_december(demo_run: DemoRun) -> None:
    revenue = {month.month: float(value) for month, value in demo_run.query(
        "select order_month, revenue from analytics.kpi_monthly_revenue")}
    assert len(revenue) == 12
    mean = sum(revenue.values()) / 12
    assert revenue[11] >= 1.3 * mean and revenue[12] >= 1.3 * mean
    # growth: the second half of the year outsells the first even without Q4
    assert sum(revenue[m] for m in range(7, 11)) > sum(revenue[m] for m in range(1, 5))


def test_customers_live_where_people_do(demo_run: DemoRun) -> None:
    customers = dict(demo_run.query(
        "select state_code, sum(customers) from analytics.kpi_customers_by_state "
        "where state_code is not null group by 1"))
    assert len(customers) == 51
    busiest = max(customers, key=lambda code: customers[code])
    assert busiest == "CA"
    assert customers[busiest] >= 10 * min(customers.values())


def test_carriers_differ_in_speed_and_reliability(demo_run: DemoRun) -> None:
    carriers = {carrier: (float(days), rate, best) for carrier, days, rate, best in
                demo_run.query("select carrier, avg_delivery_days, success_rate, "
                               "is_best_carrier from analytics.kpi_carrier_performance")}
    days = sorted(d for d, _, _ in carriers.values())
    assert days[-1] - days[0] >= 1.5
    # the fastest carrier also loses the fewest parcels, and the mart names it best
    fastest = min(carriers, key=lambda c: carriers[c][0])
    assert carriers[fastest][1] == max(r for _, r, _ in carriers.values())
    assert carriers[fastest][2]


def test_delivery_takes_longer_far_from_the_warehouse(demo_run: DemoRun) -> None:
    days = dict(demo_run.query(
        "select state_code, sum(total_delivery_days) / sum(delivered) from "
        "analytics.kpi_shipment_activity where state_code is not null group by 1"))
    assert days["OH"] + 1.5 <= days["CA"] <= days["AK"] - 1


def test_categories_differ_in_price_rating_and_returns(demo_run: DemoRun) -> None:
    rows = demo_run.query("""
        select category, sum(revenue) / sum(units_sold), sum(rating_total) / sum(review_count)
        from analytics.kpi_category_ratings where source_store = 'old store' group by 1""")
    price = {category: float(p) for category, p, _ in rows}
    rating = {category: r for category, _, r in rows}
    assert price["furniture"] >= 5 * price["accessories"]
    assert max(rating.values()) - min(rating.values()) >= 0.4
    returns = dict(demo_run.query("""
        with first_items as (
            select order_id, min(order_item_id) as order_item_id
            from analytics.fct_order_items where source_store = 'old store' group by 1)
        select products.category,
            avg(case when shipments.shipment_status = 'Returned' then 1.0 else 0 end)
        from analytics.fct_shipments as shipments
        join first_items using (order_id)
        join analytics.fct_order_items as items using (order_item_id)
        join analytics.fct_products as products
            on products.unified_product_id = items.unified_product_id
        where items.source_store = 'old store' and shipments.shipment_status in
            ('Delivered', 'Returned')
        group by 1"""))
    assert returns["furniture"] >= 2 * returns["accessories"]


def test_customers_come_back_then_churn(demo_run: DemoRun) -> None:
    """Old-store cohorts after the first month (the first holds everyone who signed up
    before the data starts): a fifth orders again the next month, far fewer later."""
    retention = dict(demo_run.query("""
        with cells as (
            select cohort_month, months_since_first_order as k, sum(active_customers) as n
            from analytics.kpi_cohort_activity
            where source_store = 'old store' and cohort_month between '2025-02-01'
                and '2025-06-01'
            group by 1, 2)
        select cells.k, sum(cells.n) / sum(size.n) from cells
        join cells as size on size.cohort_month = cells.cohort_month and size.k = 0
        group by 1"""))
    assert retention[1] >= 0.12
    assert retention[6] <= retention[1] / 2
    segments = dict(demo_run.query(
        "select segment, count(*) from analytics.fct_customer_segments group by 1"))
    assert segments["at-risk"] >= 0.15 * sum(segments.values())
    (never_ordered,) = demo_run.query(
        "select customers - ordering_customers from analytics.kpi_customer_summary")[0]
    assert never_ordered > 0


def test_orders_near_the_run_date_are_still_on_their_way(demo_run: DemoRun) -> None:
    share = {month.month: (shipments - finished) / shipments for month, shipments, finished in
             demo_run.query("select shipment_month, sum(shipments), sum(finished) from "
                            "analytics.kpi_shipment_activity group by 1")}
    assert share[12] >= 0.1
    assert max(share[m] for m in range(1, 11)) <= 0.03
