"""Customer Analysis: order value, where customers live, revenue trend, segments, retention."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from deltastore.dashboards import fmt, html
from deltastore.dashboards.marts import Marts
from deltastore.dashboards.svg import BLUE, ORANGE, Series, bars_with_second_axis, esc, line_chart
from deltastore.dashboards.tilemap import BLUES, GRID_POSITIONS, blend, tile_map

FILENAME = "customers.html"
SEGMENTS = ("new", "casual", "at-risk")
COHORT_COLOURS = ("#eef2ff", "#1e3a8a")


def ordered_segments(names: set[str]) -> list[str]:
    """The contract's segments in lifecycle order, then any others alphabetically."""
    return [s for s in SEGMENTS if s in names] + sorted(names - set(SEGMENTS))


def summary_cards(summary: dict[str, Any] | None) -> str:
    row = summary or {}
    return html.cards([
        html.card("average_order_value", "Average order value", row.get("average_order_value"),
                  fmt.money(row.get("average_order_value")), "revenue ÷ orders"),
        html.card("customers", "Customers", row.get("customers"), fmt.count(row.get("customers")),
                  f"{fmt.count(row.get('ordering_customers'))} have ordered"),
        html.card("orders", "Orders", row.get("orders"), fmt.count(row.get("orders"))),
        html.card("revenue", "Revenue", row.get("revenue"), fmt.money(row.get("revenue"))),
    ])


def state_map(marts: Marts) -> tuple[str | None, str, str]:
    """The map (all segments), the segment filter and the data the filter re-aggregates."""
    rows = marts.rows("kpi_customers_by_state")
    totals: dict[str, float] = defaultdict(float)
    off_map = 0.0
    for row in rows:
        if row["state_code"] in GRID_POSITIONS:
            totals[row["state_code"]] += fmt.num(row["customers"]) or 0.0
        else:
            off_map += fmt.num(row["customers"]) or 0.0
    segments = ordered_segments({row["segment"] for row in rows})
    note = (f"{fmt.count(off_map)} customers without a US state on record are not on the map."
            if off_map else "")
    control = ('<div class="filters">' + html.select(
        "segment-filter", "Segment", [("", "All segments")] + [(s, s) for s in segments])
        + f'<span class="filter-note" id="customers-note">{esc(note)}</span></div>')
    data = html.embedded_json("customers-by-state", [
        {"state": r["state_code"], "segment": r["segment"], "customers": r["customers"]}
        for r in rows])
    if not rows:
        return None, "", data
    chart = tile_map(totals, fmt.count, "count", BLUES, "Customers by US state",
                     "customers-map")
    return chart, control, data


def monthly_revenue(marts: Marts) -> str | None:
    rows = sorted(marts.rows("kpi_monthly_revenue"), key=lambda r: r["order_month"])
    if not rows:
        return None
    labels = [fmt.month_short(r["order_month"]) for r in rows]
    return line_chart(labels, [
        Series("Revenue", [fmt.num(r["revenue"]) for r in rows], BLUE),
        Series("Trend (least squares)", [fmt.num(r["revenue_trend"]) for r in rows], ORANGE,
               dashed=True),
    ], fmt.money_short, "Monthly revenue with its trend line")


def segments_chart(marts: Marts) -> str | None:
    by_name = {r["segment"]: r for r in marts.rows("kpi_customer_segments")}
    if not by_name:
        return None
    names = ordered_segments(set(by_name))
    return bars_with_second_axis(
        names, [fmt.num(by_name[n]["customers"]) or 0.0 for n in names], "Customers",
        fmt.count, [fmt.num(by_name[n]["revenue"]) or 0.0 for n in names], "Revenue",
        fmt.money_short, "Customers and revenue per segment")


def cohort_table(marts: Marts) -> str | None:
    rows = marts.rows("kpi_cohort_retention")
    if not rows:
        return None
    cohorts: dict[dt.date, dict[int, dict[str, Any]]] = defaultdict(dict)
    for row in rows:
        cohorts[row["cohort_month"]][int(row["months_since_first_order"])] = row
    width = max(int(r["months_since_first_order"]) for r in rows) + 1
    head = "".join(f"<th>{m}</th>" for m in range(width))
    body = []
    for cohort in sorted(cohorts):
        cells = cohorts[cohort]
        size = next(iter(cells.values()))["cohort_size"]
        tds = []
        for m in range(width):
            cell = cells.get(m)
            if cell is None:
                tds.append('<td class="na"></td>')
                continue
            rate = fmt.num(cell["retention_rate"]) or 0.0
            colour = blend(*COHORT_COLOURS, rate)
            ink = "#fff" if rate > 0.5 else "#1f2933"
            tds.append(f'<td style="background:{colour};color:{ink}" data-rate="{rate}" '
                       f'title="{esc(fmt.count(cell["active_customers"]))} of '
                       f'{esc(fmt.count(size))} customers">{fmt.percent(rate, 0)}</td>')
        body.append(f'<tr><th scope="row">{esc(fmt.month(cohort))}</th>'
                    f'<td class="size">{esc(fmt.count(size))}</td>{"".join(tds)}</tr>')
    return ('<div class="scroll"><table class="heatmap"><thead><tr><th>Cohort</th>'
            f'<th>Customers</th>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>')


def render(marts: Marts, rendered_at: dt.datetime) -> str:
    title, intro = html.PAGES[0][1], html.PAGES[0][2]
    chart, control, data = state_map(marts)
    body = summary_cards(marts.one("kpi_customer_summary")) + '<div class="grid">' + "".join([
        html.panel("Customers by state",
                   "Each square is a state; darker means more customers. Pick a segment to "
                   "see where it lives.", chart, controls=control, panel_id="state-panel"),
        html.panel("Monthly revenue",
                   "Solid line: revenue per month; dashed line: the straight-line trend over "
                   "all months.", monthly_revenue(marts)),
        html.panel("Customer segments",
                   "Bars count customers per segment (left axis); diamonds show the revenue "
                   "they brought (right axis).", segments_chart(marts)),
        html.panel("Cohort retention",
                   "Each row is the month customers first ordered; each column the share of "
                   "them ordering again N months later (darker = more retained).",
                   cohort_table(marts), wide=True),
    ]) + "</div>"
    header = html.freshness(marts.one("kpi_pipeline_run"), rendered_at)
    return html.page(FILENAME, title, intro, header, body, data)
