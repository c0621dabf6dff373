"""The index page: what each dashboard answers, with a few headline numbers."""

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
    headline = html.cards([
        html.card("revenue", "Revenue", summary.get("revenue"), fmt.money(summary.get("revenue"))),
        html.card("average_order_value", "Average order value",
                  summary.get("average_order_value"),
                  fmt.money(summary.get("average_order_value"))),
        html.card("customers", "Customers", summary.get("customers"),
                  fmt.count(summary.get("customers"))),
        html.card("best_carrier", "Best carrier", best["carrier"] if best else None,
                  best["carrier"] if best else "–"),
    ])
    links = "".join(
        f'<a class="page-link" href="{target}"><h2>{esc(name)}</h2><p>{esc(about)}</p></a>'
        for target, name, about in html.PAGES)
    body = headline + f'<nav class="page-links">{links}</nav>'
    header = html.freshness(marts.one("kpi_pipeline_run"), rendered_at)
    return html.page(FILENAME, "DeltaStore dashboards",
                     "Three dashboards built from the KPI marts of the last pipeline run.",
                     header, body)
