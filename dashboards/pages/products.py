"""Product & Pricing Optimization: category revenue over time, growth, payment outcomes,
ratings against revenue, best sellers.

Drawn in the page (assets/products.js) from the rows of ``kpi_category_sales``,
``kpi_payment_activity``, ``kpi_customer_activity``, ``kpi_category_ratings`` and
``kpi_product_performance`` that pass the page's filters.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from deltastore.dashboards import filters, fmt, html
from deltastore.dashboards.html import Cube, Panel
from deltastore.dashboards.marts import Marts

FILENAME = "products.html"
STORE_CATEGORY = {"store": "source_store", "category": "category"}
TOP_CHOICES = (5, 10, 25)

LEVELS = html.select("ratings-level", "Show", [("categories", "Categories"),
                                                ("products", "Products (log scale)")], "level")
FIND = ('<label class="filter find">Find a product <input type="search" id="find-product" '
        'placeholder="name or ID"></label>')
TOP_N = html.select("top-n", "Show the top", [(str(n), str(n)) for n in TOP_CHOICES], "top")
PANELS = (
    Panel("trend", "Revenue by category",
          "Revenue of each category per month (or quarter). Select a line's key to look at "
          "that category, a point to look at that month.", ("kpi_category_sales",)),
    Panel("growth", "Revenue and order value, period over period",
          "Bars are revenue per period, labelled with the change against the period before "
          "(green grew, red shrank); below, average order value growth.",
          ("kpi_category_sales", "kpi_customer_activity")),
    Panel("status", "Payments by status",
          "How payment amounts split by outcome, and the share failed or still pending per "
          "period: money at risk.", ("kpi_payment_activity",),
          scope="Old store only: the web store records no payments."),
    Panel("ratings", "Rating vs revenue",
          "One level at a time: categories, or products on a log revenue scale; left of the "
          "dashed line means rated below 3.", ("kpi_category_ratings", "kpi_product_performance"),
          scope="Ratings: old store products by their reviews, web store products by the "
          "rating its API publishes.", controls=f'<div class="panel-controls">'
          f"{LEVELS}{FIND}</div>"),
    Panel("top", "Top products per category",
          "Each category's best sellers by revenue over all months, with their store and ID "
          "(product names repeat); bars compare products within their category; red ratings "
          "are below 3 stars.", ("kpi_product_performance",), wide=True,
          controls=f'<div class="panel-controls">{TOP_N}</div>'),
)
CARDS = (
    ("revenue", "Revenue", "sum of order lines", True),
    ("revenue_mom_growth", "Revenue growth, last month", "", False),
    ("aov_mom_growth", "Order value growth, last month", "", False),
    ("at_risk_amount_share", "Failed or pending payments", "share of payment amount", True),
    ("low_rating_products", "Products rated below 3", "", False),
)


def orders_by_month(marts: Marts) -> list[dict[str, Any]]:
    """kpi_customer_activity summed to month x store: this page has no customer filters."""
    sums: dict[tuple[dt.date, str], list[Any]] = defaultdict(lambda: [0, Decimal(0)])
    for row in marts.rows("kpi_customer_activity"):
        total = sums[(row["order_month"], row["source_store"])]
        total[0] += row["orders"]
        total[1] += Decimal(str(row["revenue"]))
    return [{"order_month": m, "source_store": s, "orders": o, "revenue": r}
            for (m, s), (o, r) in sorted(sums.items())]


def products_shown(products: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The product rows the page needs: every rated product (the scatter) and the best
    sellers of each category and store (any store selection's top N is among them).
    Counts come from kpi_category_ratings, so the page stays small at any scale."""
    ranked: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in products:
        ranked[(row["category"], row["source_store"])].append(row)
    top = {id(r) for rows in ranked.values()
           for r in sorted(rows, key=lambda r: (-(fmt.num(r["revenue"]) or 0.0),
                                                r["product_name"]))[:max(TOP_CHOICES)]}
    return [r for r in products if r["average_rating"] is not None or id(r) in top]


def render(marts: Marts, rendered_at: dt.datetime) -> str:
    title, intro = html.PAGES[1][1], html.PAGES[1][2]
    sales = marts.rows("kpi_category_sales")
    products = marts.rows("kpi_product_performance")
    months = filters.months(sales, "order_month")
    by_revenue: dict[str, float] = defaultdict(float)
    for row in products:
        by_revenue[row["category"]] += fmt.num(row["revenue"]) or 0.0
    categories = sorted(by_revenue, key=lambda c: -by_revenue[c])
    labels = {c: fmt.category(c) for c in categories}
    store = filters.store_filter(products)
    page_filters = [*([store] if store else []),
                    filters.values_filter("category", "Category", products, "category",
                                          tuple(categories), labels)]
    cubes = {
        "sales": Cube(sales, ("order_month", "source_store", "category", "revenue",
                              "units_sold"), {"months": "order_month", **STORE_CATEGORY}),
        "orders": Cube(orders_by_month(marts), ("order_month", "source_store", "orders",
                                                "revenue"),
                       {"months": "order_month", "store": "source_store"}),
        "payments": Cube(marts.rows("kpi_payment_activity"),
                         ("order_month", "source_store", "transaction_status", "payments",
                          "amount"), {"months": "order_month", "store": "source_store"}),
        "ratings": Cube(marts.rows("kpi_category_ratings"),
                        ("category", "source_store", "products", "rated_products",
                         "low_rated_products", "revenue", "units_sold", "rating_total",
                         "review_count"), STORE_CATEGORY),
        "products": Cube(products_shown(products),
                         ("product_id", "product_name", "source_store", "category", "revenue",
                          "units_sold", "average_rating", "review_count", "is_low_rating"),
                         STORE_CATEGORY),
    }
    run = marts.one("kpi_pipeline_run")
    empty = not (sales or products)
    body = (("" if empty else html.filter_bar(page_filters, months))
            + html.cards([html.card(k, label, note=note, delta=delta, live=True)
                          for k, label, note, delta in CARDS])
            + '<div class="grid">' + "".join(html.panel(p, empty) for p in PANELS) + "</div>")
    data = "" if empty else html.page_config(
        "products", months, page_filters, cubes,
        {"categories": categories, "categoryLabels": labels}, run,
        {"level": "categories", "top": str(TOP_CHOICES[0])})
    header = html.freshness(run, rendered_at)
    return html.page(FILENAME, title, intro, header, body, data, "products.js" if data else "")
