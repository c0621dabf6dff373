"""Customer Analysis: order value, where customers live, revenue trend, segments, retention.

Every figure is drawn in the page (assets/customers.js) from the rows of
``kpi_customer_activity`` and ``kpi_cohort_activity`` that pass the page's filters.
"""

from __future__ import annotations

import datetime as dt

from deltastore.dashboards import filters, html
from deltastore.dashboards.html import Cube, Panel
from deltastore.dashboards.marts import Marts

FILENAME = "customers.html"
SEGMENTS = ("new", "casual", "at-risk")
DIMS = {"store": "source_store", "segment": "segment", "state": "state_code"}

PANELS = (
    Panel("map", "Customers by state",
          "Each square is a state; darker means more customers (by the state of the customer, "
          "counted in the month of their first order).", ("kpi_customer_activity",)),
    Panel("revenue", "Monthly revenue",
          "Revenue per month; with no filter set, the dashed line is the straight-line trend.",
          ("kpi_customer_activity", "kpi_monthly_revenue")),
    Panel("segments", "Customer segments",
          "Customers and revenue per segment: new (first order in the last 6 months), casual, "
          "at-risk (no order in the last 6 months).", ("kpi_customer_activity",)),
    Panel("cohorts", "Cohort retention",
          "Each row is the month customers first ordered; each column the share of them "
          "ordering again N months later (darker = more retained).", ("kpi_cohort_activity",),
          wide=True),
)

CARDS = (("revenue", "Revenue"), ("orders", "Orders"),
         ("average_order_value", "Average order value"), ("customers", "Customers"))


def render(marts: Marts, rendered_at: dt.datetime) -> str:
    title, intro = html.PAGES[0][1], html.PAGES[0][2]
    activity = marts.rows("kpi_customer_activity")
    months = filters.months(activity, "order_month")
    page_filters = [
        filters.store_filter(),
        filters.values_filter("segment", "Segment", activity, "segment", SEGMENTS),
        filters.values_filter("state", "State", activity, "state_code",
                              missing="No state on record"),
    ]
    cubes = {
        "activity": Cube(activity, ("order_month", "source_store", "segment", "state_code",
                                    "orders", "revenue", "new_customers"),
                         {"months": "order_month", **DIMS}),
        "cohorts": Cube(marts.rows("kpi_cohort_activity"),
                        ("cohort_month", "months_since_first_order", "source_store", "segment",
                         "state_code", "active_customers"), {"months": "cohort_month", **DIMS}),
    }
    trend = {r["order_month"].isoformat(): r["revenue_trend"]
             for r in marts.rows("kpi_monthly_revenue")}
    empty = not activity
    body = (("" if empty else html.filter_bar(page_filters, months))
            + html.cards([html.card(k, label, delta=True, live=True) for k, label in CARDS])
            + '<div class="grid">' + "".join(html.panel(p, empty) for p in PANELS) + "</div>")
    data = "" if empty else html.page_config(
        "customers", months, page_filters, cubes, {**filters.map_extra(), "trend": trend})
    header = html.freshness(marts.one("kpi_pipeline_run"), rendered_at)
    return html.page(FILENAME, title, intro, header, body, data,
                     "customers.js" if data else "")
