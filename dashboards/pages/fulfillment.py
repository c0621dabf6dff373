"""Order Fulfillment & Logistics: carrier reliability and delivery times by state."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from deltastore.dashboards import fmt, html
from deltastore.dashboards.marts import Marts
from deltastore.dashboards.svg import esc, horizontal_bars
from deltastore.dashboards.tilemap import GRID_POSITIONS, ORANGES, tile_map

FILENAME = "fulfillment.html"


def delivery_totals(rows: list[dict[str, Any]]) -> tuple[float, float]:
    """(Σ total_delivery_days, Σ delivered): averages re-aggregate from these, never from
    averages of averages."""
    days = sum(fmt.num(r["total_delivery_days"]) or 0.0 for r in rows)
    delivered = sum(fmt.num(r["delivered"]) or 0.0 for r in rows)
    return days, delivered


def average_delivery_days(rows: list[dict[str, Any]]) -> float | None:
    days, delivered = delivery_totals(rows)
    return days / delivered if delivered else None


def on_time_rate(carriers: list[dict[str, Any]]) -> float | None:
    delivered = sum(fmt.num(c["delivered"]) or 0.0 for c in carriers)
    on_time = sum(fmt.num(c["on_time_delivered"]) or 0.0 for c in carriers)
    return on_time / delivered if delivered else None


def header_cards(marts: Marts) -> str:
    carriers = marts.rows("kpi_carrier_performance")
    best = next((c for c in carriers if c["is_best_carrier"]), None)
    average = average_delivery_days(marts.rows("kpi_delivery_by_state"))
    on_time = on_time_rate(carriers)
    shipments = sum(int(c["shipments"]) for c in carriers) if carriers else None
    return html.cards([
        html.card("best_carrier", "Best carrier", best["carrier"] if best else None,
                  best["carrier"] if best else "–",
                  "highest share of shipments delivered"),
        html.card("best_carrier_success_rate", "Best carrier's success rate",
                  best["success_rate"] if best else None,
                  fmt.percent(best["success_rate"] if best else None),
                  f"{fmt.count(best['delivered'])} of {fmt.count(best['shipments'])} delivered"
                  if best else ""),
        html.card("average_delivery_days", "Average delivery time", average,
                  fmt.days(average), "shipping to delivery, delivered shipments"),
        html.card("on_time_rate", "On-time delivery rate", on_time, fmt.percent(on_time),
                  "delivered within the on-time window"),
        html.card("shipments", "Shipments", shipments, fmt.count(shipments)),
    ])


def tile_days(value: float) -> str:
    """Short enough for a map tile; dashboard.js formats 'days' the same way."""
    return f"{value:.1f} d"


def off_map_note(rows: list[dict[str, Any]]) -> str:
    """Say how many delivered shipments have no state on the map (dashboard.js says the
    same after a filter change)."""
    missing = sum(int(r["delivered"] or 0) for r in rows if r["state_code"] not in GRID_POSITIONS)
    return f"{missing:,} delivered shipments without a US state are not on the map." if (
        missing) else ""


def state_map(marts: Marts) -> tuple[str | None, str, str]:
    rows = marts.rows("kpi_delivery_by_state")
    by_state: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_state[row["state_code"]].append(row)
    averages = {code: avg for code, group in by_state.items()
                if code in GRID_POSITIONS and (avg := average_delivery_days(group)) is not None}
    carriers = sorted({r["carrier"] for r in rows})
    statuses = sorted({r["shipment_status"] for r in rows})
    controls = ('<div class="filters">'
                + html.select("carrier-filter", "Carrier",
                              [("", "All carriers")] + [(c, c) for c in carriers])
                + html.select("status-filter", "Shipment status",
                              [("", "All statuses")] + [(s, s) for s in statuses])
                + f'<span class="filter-note" id="delivery-note">{esc(off_map_note(rows))}'
                '</span></div>')
    data = html.embedded_json("delivery-by-state", [
        {"state": r["state_code"], "carrier": r["carrier"], "status": r["shipment_status"],
         "delivered": r["delivered"], "days": r["total_delivery_days"]} for r in rows])
    if not rows:
        return None, "", data
    chart = tile_map(averages, tile_days, "days", ORANGES,
                     "Average delivery days by US state", "delivery-map")
    return chart, controls, data


def carrier_chart(marts: Marts) -> str | None:
    carriers = sorted(marts.rows("kpi_carrier_performance"),
                      key=lambda c: (-(fmt.num(c["success_rate"]) or 0.0), c["carrier"]))
    if not carriers:
        return None
    best = next((c["carrier"] for c in carriers if c["is_best_carrier"]), None)
    bars = horizontal_bars(
        [(c["carrier"], fmt.num(c["success_rate"]) or 0.0, fmt.percent(c["success_rate"]))
         for c in carriers], 1.0, "Delivery success rate per carrier", highlight=best)
    lines = "".join(
        f'<tr{" class=best" if c["carrier"] == best else ""}><td>{esc(c["carrier"])}</td>'
        f'<td class="num">{esc(fmt.count(c["shipments"]))}</td>'
        f'<td class="num">{esc(fmt.count(c["delivered"]))}</td>'
        f'<td class="num">{esc(fmt.percent(c["success_rate"]))}</td>'
        f'<td class="num">{esc(fmt.days(c["avg_delivery_days"]))}</td>'
        f'<td class="num">{esc(fmt.percent(c["on_time_rate"]))}</td></tr>' for c in carriers)
    table = ('<table class="carriers"><thead><tr><th>Carrier</th><th>Shipments</th>'
             '<th>Delivered</th><th>Success rate</th><th>Avg delivery</th><th>On time</th>'
             f"</tr></thead><tbody>{lines}</tbody></table>")
    return bars + table


def render(marts: Marts, rendered_at: dt.datetime) -> str:
    title, intro = html.PAGES[2][1], html.PAGES[2][2]
    chart, controls, data = state_map(marts)
    body = header_cards(marts) + '<div class="grid">' + "".join([
        html.panel("Average delivery days by state",
                   "Each square is a state; darker means slower delivery. Filter by carrier "
                   "or shipment status to compare.", chart, controls=controls,
                   panel_id="delivery-panel"),
        html.panel("Carrier success rate",
                   "Share of each carrier's shipments that were delivered; the darker bar is "
                   "the best carrier.", carrier_chart(marts)),
    ]) + "</div>"
    header = html.freshness(marts.one("kpi_pipeline_run"), rendered_at)
    return html.page(FILENAME, title, intro, header, body, data)
