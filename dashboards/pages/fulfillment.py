"""Order Fulfillment & Logistics: carrier reliability and delivery times by state.

Drawn in the page (assets/fulfillment.js) from the rows of ``kpi_shipment_activity`` that
pass the page's filters.
"""

from __future__ import annotations

import datetime as dt

from deltastore.dashboards import filters, html
from deltastore.dashboards.html import Cube, Panel
from deltastore.dashboards.marts import Marts

FILENAME = "fulfillment.html"
STATUSES = ("Delivered", "Shipped", "Pending", "Cancelled")
SCOPE = "Old store only: the web store records no shipments."
METRIC = html.select("map-metric", "Show", [("days", "Average delivery days"),
                                            ("shipments", "Shipments")])
PANELS = (
    Panel("map", "Delivery by state",
          "Each square is a customer's state; darker means slower delivery (or more shipments).",
          ("kpi_shipment_activity",), scope=SCOPE,
          controls=f'<div class="panel-controls">{METRIC}</div>'),
    Panel("carriers", "Carrier success rate",
          "Share of each carrier's shipments that were delivered; the darkest bar is the best "
          "carrier.", ("kpi_shipment_activity", "kpi_carrier_performance"), scope=SCOPE),
    Panel("statuses", "Shipments by status",
          "Where the chosen shipments stand today.", ("kpi_shipment_activity",), scope=SCOPE),
)
CARDS = (("best_carrier", "Best carrier", False),
         ("best_carrier_success_rate", "Best carrier's success rate", False),
         ("shipments", "Shipments", True), ("success_rate", "Delivered", True),
         ("average_delivery_days", "Average delivery time", True),
         ("on_time_rate", "On-time delivery rate", True))


def render(marts: Marts, rendered_at: dt.datetime) -> str:
    title, intro = html.PAGES[2][1], html.PAGES[2][2]
    rows = marts.rows("kpi_shipment_activity")
    months = filters.months(rows, "shipment_month")
    page_filters = [filters.store_filter(),
                    filters.values_filter("carrier", "Carrier", rows, "carrier"),
                    filters.values_filter("status", "Shipment status", rows, "shipment_status",
                                          STATUSES)]
    cube = Cube(rows, ("shipment_month", "source_store", "state_code", "carrier",
                       "shipment_status", "shipments", "delivered", "total_delivery_days",
                       "on_time_delivered"),
                {"months": "shipment_month", "store": "source_store", "carrier": "carrier",
                 "status": "shipment_status"})
    empty = not rows
    body = (("" if empty else html.filter_bar(page_filters, months))
            + html.cards([html.card(k, label, delta=d, live=True) for k, label, d in CARDS])
            + '<div class="grid">' + "".join(html.panel(p, empty) for p in PANELS) + "</div>")
    data = "" if empty else html.page_config(
        "fulfillment", months, page_filters, {"shipments": cube},
        filters.map_extra())
    header = html.freshness(marts.one("kpi_pipeline_run"), rendered_at)
    return html.page(FILENAME, title, intro, header, body, data,
                     "fulfillment.js" if data else "")
