"""Customer Analysis: who orders, where they live, revenue over time, segments, retention.

Every figure is drawn in the page (assets/customers.js) from the rows of
``kpi_customer_activity``, ``kpi_active_customers`` and ``kpi_cohort_activity`` that pass
the page's filters.
"""

from __future__ import annotations

import datetime as dt

from deltastore.dashboards import filters, html
from deltastore.dashboards.html import Cube, Panel
from deltastore.dashboards.marts import Marts

FILENAME = "customers.html"
SEGMENTS = ("new", "casual", "at-risk")
SEGMENT_NOTE = ("segment as of the run date: new = first order in the last 6 months, "
                "at-risk = no order in the last 6 months, casual = the others")
DIMS = {"store": "source_store", "segment": "segment", "state": "state_code"}

PANELS = (
    Panel("revenue", "Monthly revenue",
          "Revenue per month (or quarter) of the orders chosen; the dashed line is the "
          "least-squares trend of the values shown, the faint line the same months a year "
          "before when the data has them. Select a point to look at that month.",
          ("kpi_customer_activity",)),
    Panel("map", "Active customers by state",
          "Customers who ordered at least once in the months chosen, by their state; "
          "colours are quantile classes of the states shown. Select a state to filter.",
          ("kpi_active_customers",), tall=True),
    Panel("segments", "Customer segments",
          f"Active customers and revenue per segment ({SEGMENT_NOTE}). Select a bar to "
          "filter.", ("kpi_active_customers", "kpi_customer_activity")),
    Panel("active", "New and returning customers",
          "Customers ordering each month (or quarter): new ones (their first order ever) and "
          "returning ones. A customer who orders in several months counts in each.",
          ("kpi_active_customers",), wide=True),
    Panel("cohorts", "Cohort retention",
          "Each row is the month customers first ordered; each column the share of them "
          "ordering again N months later. Colours are quantile classes of the cells shown. "
          "Select a row to look at its month.", ("kpi_cohort_activity",), wide=True),
)

CARDS = (
    ("revenue", "Revenue", "sum of order totals"),
    ("orders", "Orders", "orders placed"),
    ("average_order_value", "Average order value", "revenue ÷ orders"),
    ("active_customers", "Active customers", "ordered at least once in these months"),
    ("new_customers", "New customers", "first order ever in these months"),
)


def render(marts: Marts, rendered_at: dt.datetime) -> str:
    title, intro = html.PAGES[0][1], html.PAGES[0][2]
    activity = marts.rows("kpi_customer_activity")
    months = filters.months(activity, "order_month")
    store = filters.store_filter(activity)
    page_filters = [
        *([store] if store else []),
        filters.values_filter("segment", "Segment", activity, "segment", SEGMENTS),
        filters.state_filter(activity),
    ]
    cubes = {
        "activity": Cube(activity, ("order_month", "source_store", "segment", "state_code",
                                    "orders", "revenue", "new_customers"),
                         {"months": "order_month", **DIMS}),
        "active": Cube(marts.rows("kpi_active_customers"),
                       ("order_month", "previous_order_month", "source_store", "segment",
                        "state_code", "customers"), {"months": "order_month", **DIMS}),
        "cohorts": Cube(marts.rows("kpi_cohort_activity"),
                        ("cohort_month", "months_since_first_order", "source_store", "segment",
                         "state_code", "active_customers"), {"months": "cohort_month", **DIMS}),
    }
    run = marts.one("kpi_pipeline_run")
    empty = not activity
    body = (("" if empty else html.filter_bar(page_filters, months))
            + html.cards([html.card(k, label, note=note, delta=True, live=True)
                          for k, label, note in CARDS])
            + '<div class="grid">' + "".join(html.panel(p, empty) for p in PANELS) + "</div>")
    data = "" if empty else html.page_config(
        "customers", months, page_filters, cubes,
        {**filters.map_extra(), "segmentNote": SEGMENT_NOTE}, run)
    header = html.freshness(run, rendered_at)
    return html.page(FILENAME, title, intro, header, body, data,
                     "customers.js" if data else "")
