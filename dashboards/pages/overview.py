"""The index page: what each dashboard answers, with a few headline numbers, on one screen.

Labels say what each figure counts, the same way the dashboards do: customers on record
(everyone, whether they ordered or not) are not the active customers of Customer Analysis.
"""

from __future__ import annotations

import datetime as dt

from deltastore.dashboards import fmt, html
from deltastore.dashboards.html import esc
from deltastore.dashboards.marts import Marts

FILENAME = "index.html"


def render(marts: Marts, rendered_at: dt.datetime) -> str:
    summary = marts.one("kpi_customer_summary") or {}
    best = next((c for c in marts.rows("kpi_carrier_performance") if c["is_best_carrier"]),
                None)
    revenue, aov = summary.get("revenue"), summary.get("average_order_value")
    headline = html.cards([
        html.card("revenue", "Revenue", revenue,
                  fmt.money_short(revenue) if revenue is not None else "–",
                  "all orders to the run date", exact=fmt.money(revenue)),
        html.card("orders", "Orders", summary.get("orders"), fmt.count(summary.get("orders")),
                  "placed in either store"),
        html.card("average_order_value", "Average order value", aov, fmt.money(aov),
                  "revenue ÷ orders"),
        html.card("ordering_customers", "Customers who ordered",
                  summary.get("ordering_customers"),
                  fmt.count(summary.get("ordering_customers")), "at least one order"),
        html.card("customers", "Customers on record", summary.get("customers"),
                  fmt.count(summary.get("customers")), "signed up, whether they ordered or not"),
        html.card("best_carrier", "Best carrier", best["carrier"] if best else None,
                  best["carrier"] if best else "not defined",
                  f"{fmt.percent(best['success_rate'])} of finished shipments delivered"
                  if best else "no carrier has a finished shipment"),
    ])
    links = "".join(
        f'<a class="page-link" href="{target}"><h2>{esc(name)}</h2><p>{esc(about)}</p></a>'
        for target, name, about in html.PAGES)
    body = headline + f'<nav class="page-links" aria-label="Dashboards">{links}</nav>'
    header = html.freshness(marts.one("kpi_pipeline_run"), rendered_at)
    return html.page(FILENAME, "DeltaStore dashboards",
                     "Three dashboards built from the KPI marts of the last pipeline run.",
                     header, body)
