"""Order Fulfillment & Logistics: carrier reliability and speed, over time and by state.

Drawn in the page (assets/fulfillment.js) from the rows of ``kpi_shipment_activity`` that
pass the page's filters.
"""

from __future__ import annotations

import datetime as dt

from deltastore.dashboards import filters, html
from deltastore.dashboards.html import Cube, Panel
from deltastore.dashboards.marts import Marts

FILENAME = "fulfillment.html"
STATUSES = ("Delivered", "Returned", "Cancelled", "Shipped", "In Transit", "Pending")
SCOPE = "Old store only: the web store records no shipments."
METRIC = html.select("map-metric", "Show", [("days", "Average delivery days"),
                                            ("shipments", "Shipments")], "metric")


def panels(window: str) -> tuple[Panel, ...]:
    """The panels; ``window`` is the on-time window as read ("5 days")."""
    return (
        Panel("carriers", "Carriers compared",
              "Share of finished shipments delivered, share of deliveries on time (within "
              f"{window} of shipping) and average delivery days, per carrier. Select a bar "
              "to filter.", ("kpi_shipment_activity", "kpi_carrier_performance"), scope=SCOPE),
        Panel("map", "Delivery by state",
              "Each square is a customer's state. Select one to filter.",
              ("kpi_shipment_activity",), scope=SCOPE, tall=True,
              controls=f'<div class="panel-controls">{METRIC}</div>'),
        Panel("ontime", "On-time rate by carrier",
              f"Share of deliveries within {window} of shipping, per carrier and month (or "
              "quarter); the dotted line is a 90% target.", ("kpi_shipment_activity",),
              scope=SCOPE),
        Panel("days", "Delivery days by carrier",
              "Average days from shipping to delivery, per carrier and month (or quarter).",
              ("kpi_shipment_activity",), scope=SCOPE),
        Panel("statuses", "Shipments by status",
              "Where the chosen shipments stand today; Pending, Shipped and In Transit are "
              "still under way. Select a bar to filter.", ("kpi_shipment_activity",),
              scope=SCOPE),
        Panel("volume", "Shipments per month",
              "Shipments sent per month (or quarter): finished, and still under way.",
              ("kpi_shipment_activity",), scope=SCOPE, wide=True),
    )


def cards(window: str) -> tuple[tuple[str, str, str, bool], ...]:
    return (
        ("shipments", "Shipments", "sent in these months; old store only", True),
        ("success_rate", "Delivered", "of finished shipments (those still under way excluded)",
         True),
        ("on_time_rate", "On time", f"deliveries within {window} of shipping", True),
        ("average_delivery_days", "Average delivery time",
         "shipping to delivery, delivered only", True),
        ("in_transit", "Under way", "pending, shipped or in transit today", False),
        ("best_carrier", "Best carrier", "highest delivered share of finished shipments",
         False),
    )


def render(marts: Marts, rendered_at: dt.datetime) -> str:
    title, intro = html.PAGES[2][1], html.PAGES[2][2]
    rows = marts.rows("kpi_shipment_activity")
    months = filters.months(rows, "shipment_month")
    store = filters.store_filter(rows)
    page_filters = [*([store] if store else []),
                    filters.values_filter("carrier", "Carrier", rows, "carrier"),
                    filters.values_filter("status", "Shipment status", rows, "shipment_status",
                                          STATUSES),
                    filters.state_filter(rows, missing="No state")]
    cube = Cube(rows, ("shipment_month", "source_store", "state_code", "carrier",
                       "shipment_status", "shipments", "finished", "delivered",
                       "total_delivery_days", "on_time_delivered"),
                {"months": "shipment_month", "store": "source_store", "carrier": "carrier",
                 "status": "shipment_status", "state": "state_code"})
    run = marts.one("kpi_pipeline_run")
    # the window the marts applied (dbt var on_time_days), as the build recorded it
    days = run["on_time_days"] if run else None
    window = f"{days} days" if days is not None else "the on-time window"
    empty = not rows
    body = (("" if empty else html.filter_bar(page_filters, months))
            + html.cards([html.card(k, label, note=note, delta=d, live=True)
                          for k, label, note, d in cards(window)])
            + '<div class="grid">' + "".join(html.panel(p, empty) for p in panels(window))
            + "</div>")
    data = "" if empty else html.page_config(
        "fulfillment", months, page_filters, {"shipments": cube},
        {**filters.map_extra(), "onTimeWindow": window}, run, {"metric": "days"})
    header = html.freshness(run, rendered_at)
    return html.page(FILENAME, title, intro, header, body, data,
                     "fulfillment.js" if data else "")
