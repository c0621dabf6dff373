"""Product & Pricing Optimization: payment outcomes, growth, ratings vs revenue, best sellers."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from typing import Any

from deltastore.dashboards import fmt, html
from deltastore.dashboards.marts import Marts
from deltastore.dashboards.svg import (
    AMBER,
    GREEN,
    MUTED,
    RED,
    Point,
    esc,
    growth_bars,
    scatter,
    share_bar,
)

FILENAME = "products.html"
STATUS_COLOURS = {"Completed": GREEN, "Pending": AMBER, "Failed": RED}
STATUS_ORDER = ("Completed", "Pending", "Failed")
CATEGORY_COLOURS = ("#2563eb", "#d97706", "#7c3aed", "#0d9488", "#db2777", "#65a30d",
                    "#0891b2", "#9333ea")
TOP_PRODUCTS = 5
LOW_RATING = 3.0


def status_rows(marts: Marts) -> list[dict[str, Any]]:
    rows = marts.rows("kpi_transaction_status")
    rank = {name: i for i, name in enumerate(STATUS_ORDER)}
    return sorted(rows, key=lambda r: (rank.get(r["transaction_status"], 99),
                                       r["transaction_status"]))


def header_cards(marts: Marts) -> str:
    shares = {r["transaction_status"]: r for r in marts.rows("kpi_transaction_status")}
    completed = shares.get("Completed", {})
    months = sorted(marts.rows("kpi_monthly_revenue"), key=lambda r: r["order_month"])
    latest = months[-1] if months else {}
    products = marts.rows("kpi_product_performance")
    low = sum(1 for r in products if r["is_low_rating"]) if products else None
    month_name = fmt.month(latest["order_month"]) if latest else "latest month"
    return html.cards([
        html.card("completed_amount_share", "Completed payments (by amount)",
                  completed.get("amount_share"), fmt.percent(completed.get("amount_share")),
                  f"{fmt.money(completed.get('amount'), cents=False)} settled"
                  if completed else ""),
        html.card("revenue_mom_growth", f"Revenue growth, {month_name}",
                  latest.get("revenue_mom_growth"),
                  fmt.signed_percent(latest.get("revenue_mom_growth")), "vs the month before"),
        html.card("aov_mom_growth", f"Order value growth, {month_name}",
                  latest.get("aov_mom_growth"), fmt.signed_percent(latest.get("aov_mom_growth")),
                  "average order value vs the month before"),
        html.card("low_rating_products", "Products rated below 3", low, fmt.count(low),
                  f"of {fmt.count(len(products))} products" if products else ""),
    ])


def status_chart(marts: Marts) -> str | None:
    rows = status_rows(marts)
    if not rows:
        return None
    parts = [(r["transaction_status"], fmt.num(r["amount_share"]) or 0.0,
              STATUS_COLOURS.get(r["transaction_status"], MUTED),
              f"{fmt.money(r['amount'], cents=False)} · {fmt.percent(r['amount_share'])} · "
              f"{fmt.count(r['payments'])} payments") for r in rows]
    return share_bar(parts, "Share of payment amount by transaction status")


def growth_charts(marts: Marts) -> str | None:
    months = sorted(marts.rows("kpi_monthly_revenue"), key=lambda r: r["order_month"])
    if not months:
        return None
    labels = [fmt.month_short(r["order_month"]) for r in months]
    revenue = growth_bars(labels, [fmt.num(r["revenue_mom_growth"]) for r in months],
                          "Revenue, month over month", "Revenue growth month over month")
    aov = growth_bars(labels, [fmt.num(r["aov_mom_growth"]) for r in months],
                      "Average order value, month over month",
                      "Average order value growth month over month")
    return revenue + aov


def category_colours(categories: list[str]) -> dict[str, str]:
    return {c: CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)] for i, c in enumerate(categories)}


def rating_scatter(marts: Marts) -> str | None:
    categories = sorted(marts.rows("kpi_category_performance"),
                        key=lambda r: -(fmt.num(r["revenue"]) or 0.0))
    products = marts.rows("kpi_product_performance")
    colours = category_colours([c["category"] for c in categories] + sorted(
        {p["category"] for p in products} - {c["category"] for c in categories}))
    points = []
    for c in categories:
        if c["average_rating"] is None:
            continue
        points.append(Point(
            fmt.num(c["average_rating"]) or 0.0, fmt.num(c["revenue"]) or 0.0,
            f"{c['category']} (category)", c["category"], 14.0, colours[c["category"]],
            f"{fmt.money(c['revenue'], cents=False)}, rated {float(c['average_rating']):.2f} "
            f"from {fmt.count(c['review_count'])} reviews"))
    for p in products:
        if p["average_rating"] is None:
            continue
        units = fmt.num(p["units_sold"]) or 0.0
        points.append(Point(
            fmt.num(p["average_rating"]) or 0.0, fmt.num(p["revenue"]) or 0.0,
            p["product_name"], p["category"], 3.0 + min(5.0, math.sqrt(units) / 3),
            colours.get(p["category"], MUTED),
            f"{fmt.money(p['revenue'], cents=False)}, {fmt.count(units)} sold, rated "
            f"{float(p['average_rating']):.2f}"))
    if not points:
        return None
    unrated = sum(1 for p in products if p["average_rating"] is None)
    chart = scatter(points, "Average rating (1–5 stars)", "Revenue", fmt.money_short, LOW_RATING,
                    "rating 3", "Average rating against revenue per category and product",
                    width=1100, height=380)
    keys = "".join(f'<li><span class="swatch" style="background:{colour}"></span>{esc(name)}</li>'
                   for name, colour in colours.items())
    note = (f'<p class="note">{fmt.count(unrated)} products without reviews are not shown.</p>'
            if unrated else "")
    return chart + f'<ul class="keys">{keys}</ul>' + note


def top_products(marts: Marts) -> str | None:
    by_category: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in marts.rows("kpi_product_performance"):
        by_category[row["category"]].append(row)
    if not by_category:
        return None
    category_revenue = {c: sum(fmt.num(r["revenue"]) or 0.0 for r in rows)
                        for c, rows in by_category.items()}
    top_revenue = max((fmt.num(r["revenue"]) or 0.0 for rows in by_category.values()
                       for r in rows), default=0.0) or 1.0
    blocks = []
    for category in sorted(by_category, key=lambda c: -category_revenue[c]):
        rows = sorted(by_category[category], key=lambda r: r["category_revenue_rank"])
        lines = []
        for r in rows[:TOP_PRODUCTS]:
            revenue = fmt.num(r["revenue"]) or 0.0
            rating = ("no reviews" if r["average_rating"] is None
                      else f"{float(r['average_rating']):.1f} ★")
            flag = ' class="low-rating"' if r["is_low_rating"] else ""
            lines.append(
                f'<tr><td class="rank">{r["category_revenue_rank"]}</td>'
                f'<td>{esc(r["product_name"])} <span class="store">{esc(r["source_store"])}'
                f'</span></td><td class="bar-cell"><span class="bar-track"><span class="bar" '
                f'style="width:{revenue / top_revenue * 100:.1f}%"></span></span>'
                f"{esc(fmt.money(revenue))}</td>"
                f'<td class="num">{esc(fmt.count(r["units_sold"]))}</td>'
                f"<td{flag}>{esc(rating)}</td></tr>")
        blocks.append(
            f'<tbody><tr class="category-row"><th colspan="5">{esc(category)} · '
            f'{esc(fmt.money(category_revenue[category], cents=False))}</th></tr>'
            f'{"".join(lines)}</tbody>')
    return ('<table class="top-products"><thead><tr><th>#</th><th>Product</th>'
            '<th>Revenue</th><th>Units sold</th><th>Rating</th></tr></thead>'
            f'{"".join(blocks)}</table>')


def render(marts: Marts, rendered_at: dt.datetime) -> str:
    title, intro = html.PAGES[1][1], html.PAGES[1][2]
    body = header_cards(marts) + '<div class="grid">' + "".join([
        html.panel("Transaction status",
                   "The bar splits all payment amounts by outcome; pending and failed money is "
                   "revenue at risk.", status_chart(marts)),
        html.panel("Month-over-month growth",
                   "Each bar compares a month with the one before: green grew, red shrank; "
                   "the two charts share the month axis.", growth_charts(marts)),
        html.panel("Rating vs revenue",
                   "Big dots are categories, small dots products (size = units sold); left of "
                   "the dashed line means rated below 3.", rating_scatter(marts), wide=True),
        html.panel(f"Top {TOP_PRODUCTS} products per category",
                   "Categories by revenue, best sellers first; red ratings are below 3 stars.",
                   top_products(marts), wide=True),
    ]) + "</div>"
    header = html.freshness(marts.one("kpi_pipeline_run"), rendered_at)
    return html.page(FILENAME, title, intro, header, body)
