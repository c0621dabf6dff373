"""One browser test per row of the dashboards review (../shared/reviews/
2026-12-06-dashboards.md, "Defects"), each failing on the pages the review saw: the
number in a test's name is the review's row. Pages come from the fixture marts
(tests/dashboards/dashboards_marts.py: two years, three carriers, twelve states).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dashboards_cdp import Browser, Page
from dashboards_pages import (
    FULFILLMENT_DIMS,
    RATES,
    num,
    opened,
    page_state,
    query,
    where,
)

pytestmark = pytest.mark.browser

A4_WIDTH = 718     # A4 portrait at 96 px per inch with Chromium's default margins
EIGHT_POINT = 8 * 96 / 72


def run(page: Page, js: str) -> Any:
    """Evaluate, then fail on any error the page logged meanwhile."""
    value = page.evaluate(js)
    assert page.collect().problems() == []
    return value


def click(page: Page, selector: str) -> None:
    page.evaluate(f"document.querySelector({selector!r}).dispatchEvent(new MouseEvent("
                  "'click', {bubbles: true}))")


def card(page: Page, kpi: str) -> dict[str, str]:
    return run(page, f"""(() => {{ const e = document.querySelector('[data-kpi={kpi}]');
      const box = e.parentNode; return {{value: e.dataset.value, text: e.textContent,
      label: box.querySelector('.card-label').textContent,
      delta: (box.querySelector('.card-delta') || {{}}).textContent || '',
      note: box.querySelector('.card-note').textContent,
      tip: box.dataset.tip || ''}}; }})()""")


# --- misleading figures ---------------------------------------------------------------------


def test_1_customers_card_counts_customers_who_ordered_not_new_ones(
        browser: Browser, site: Path, db: duckdb.DuckDBPyConnection) -> None:
    """One month chosen: "Active customers" counts everyone who ordered in it, "New
    customers" only first orders; no segment shows revenue with zero customers."""
    with opened(browser, site, "customers", "#from=2024-05&to=2024-05") as page:
        active, new = card(page, "active_customers"), card(page, "new_customers")
        segments = run(page, "DS.rowsOf('segments')")
    (ordered,) = db.execute(
        "select sum(customers) from analytics.kpi_active_customers where order_month = "
        "'2024-05-01'").fetchone()
    (first,) = db.execute("select sum(new_customers) from analytics.kpi_customer_activity "
                          "where order_month = '2024-05-01'").fetchone()
    assert active["value"] == str(ordered) and active["label"] == "Active customers"
    assert "ordered at least once" in active["note"]
    assert new["value"] == str(first) and "first order ever" in new["note"]
    assert ordered > first
    assert all(s["active_customers"] > 0 for s in segments if s["revenue"] > 0)


def test_2_customer_map_colours_are_fitted_to_the_states_shown(browser: Browser,
                                                                site: Path) -> None:
    """Quantile classes of the values on screen, recomputed when the filters change."""
    with opened(browser, site, "customers") as page:
        everything = map_classes(page)
        page.evaluate("DS.setState({from: DS.months.length - 4, to: DS.months.length - 1})")
        narrowed = map_classes(page)
    for fills, legend, values in (everything, narrowed):
        # as many classes as the distinct values allow, up to five
        assert len(fills) >= min(4, len(values)), (fills, values)
        assert legend.startswith("Quantile classes")
    assert len(everything[0]) >= 4
    assert narrowed[1] != everything[1]  # refitted to the months chosen


def map_classes(page: Page) -> tuple[set[str], str, set[str]]:
    fills, legend, values = run(page, """[[...new Set([...document.querySelectorAll(
      '#panel-map g.tile:not([data-value=""])')].map(t => t.dataset.fill))],
      document.querySelector('#panel-map .map-legend').textContent,
      [...new Set([...document.querySelectorAll('#panel-map g.tile:not([data-value=""])')]
        .map(t => t.dataset.value))]]""")
    return set(fills), legend, set(values)


def test_3_delivery_map_diverges_around_the_average(browser: Browser, site: Path) -> None:
    with opened(browser, site, "fulfillment") as page:
        fills, legend, _ = map_classes(page)
        average = card(page, "average_delivery_days")["value"]
        page.evaluate("DS.setState({from: 0, to: DS.months.length - 1, "
                      "carrier: new Set(['USPS'])})")
        fills_usps, legend_usps, _ = map_classes(page)
    assert len(fills) >= 4 and len(fills_usps) >= 4
    assert legend.startswith("Diverging around the average of the shipments shown "
                             f"({float(average):.1f} d)")
    assert legend_usps != legend  # refitted: USPS is slower


def test_5_no_best_carrier_is_named_when_none_finished_a_shipment(
        browser: Browser, site: Path) -> None:
    with opened(browser, site, "fulfillment", "#status=Shipped|Pending") as page:
        best = card(page, "best_carrier")
        charts = run(page, "[...document.querySelectorAll('#panel-carriers h3')].map(h => "
                           "h.nextElementSibling.tagName)")
    assert best["value"] == "" and best["text"] == "not defined"
    assert "none of these shipments is finished" in best["note"]
    # no bar for an undefined rate (the delivered and on-time shares), days likewise
    assert charts == ["P", "P", "P"]


def test_5_a_tie_for_best_carrier_says_how_it_was_broken(browser: Browser,
                                                          site: Path) -> None:
    with opened(browser, site, "fulfillment", "#status=Delivered") as page:
        best = card(page, "best_carrier")
    assert best["text"] in ("FedEx", "UPS", "USPS")
    assert best["note"].startswith("tied with ") and "on time" in best["note"]


def test_6_rate_changes_are_in_percentage_points(browser: Browser, site: Path,
                                                  db: duckdb.DuckDBPyConnection) -> None:
    with opened(browser, site, "fulfillment", "#from=2024-01&to=2024-06") as page:
        success, on_time, days = (card(page, k) for k in (
            "success_rate", "on_time_rate", "average_delivery_days"))
    periods = {span: query(db, f"select {RATES} from analytics.kpi_shipment_activity where "
                               f"shipment_month between '{a}' and '{b}'")[0]
               for span, (a, b) in {"now": ("2024-01-01", "2024-06-01"),
                                    "before": ("2023-07-01", "2023-12-01")}.items()}
    for shown, column in ((success, "success_rate"), (on_time, "on_time_rate")):
        points = (periods["now"][column] - periods["before"][column]) * 100
        assert shown["delta"].startswith(f"{signed(points)} pp vs previous period"), column
    change = periods["now"]["avg_delivery_days"] - periods["before"]["avg_delivery_days"]
    assert days["delta"].startswith(f"{signed(change)} days vs previous period")


def signed(value: float) -> str:
    """One decimal with its sign, no sign on zero (as the pages write changes)."""
    text = f"{value:+.1f}"
    return "0.0" if text in ("+0.0", "-0.0") else text


def test_7_delivered_share_counts_finished_shipments_only(
        browser: Browser, site: Path, db: duckdb.DuckDBPyConnection) -> None:
    with opened(browser, site, "fulfillment") as page:
        success, under_way = card(page, "success_rate"), card(page, "in_transit")
    delivered, finished, shipments = db.execute(
        "select sum(delivered), sum(finished), sum(shipments) from "
        "analytics.kpi_shipment_activity").fetchone()
    assert num(success["value"]) == pytest.approx(delivered / finished)
    assert "finished" in success["note"]
    assert under_way["value"] == str(shipments - finished)


def test_8_carriers_are_compared_on_delivery_timeliness_and_speed(
        browser: Browser, site: Path) -> None:
    with opened(browser, site, "fulfillment") as page:
        titles = run(page, "[...document.querySelectorAll('#panel-carriers h3')]"
                           ".map(h => h.textContent)")
        trends = run(page, "['ontime', 'days'].map(id => document.querySelectorAll("
                           "'#panel-' + id + ' svg polyline').length)")
    assert titles == ["Delivered of finished", "On time (5 days)", "Average delivery days"]
    assert trends == [3, 3]  # a line per carrier over time


def test_9_the_on_time_window_is_stated(browser: Browser, site: Path) -> None:
    with opened(browser, site, "fulfillment") as page:
        on_time = card(page, "on_time_rate")
        guide = run(page, "document.querySelector('#panel-ontime .how-to-read').textContent")
    assert on_time["note"] == "deliveries within 5 days of shipping"
    assert "within 5 days of shipping" in guide
    definitions = (site / "definitions.html").read_text()
    assert "on_time_days" in definitions and "5 by default" in definitions


def test_10_only_order_value_growth_ignores_the_category(
        browser: Browser, site: Path, db: duckdb.DuckDBPyConnection) -> None:
    with opened(browser, site, "products", "#category=electronics") as page:
        note = run(page, "document.querySelector('#panel-growth .panel-note').textContent")
        heading = run(page, "document.querySelector('#panel-growth .aov-heading').textContent")
        last = run(page, "DS.rowsOf('growth').slice(-1)[0]")
    assert "ignores the Category filter" not in note
    assert "ignores the Category filter" in heading
    before, now = (float(db.execute(
        "select sum(revenue) from analytics.kpi_category_sales where category = "
        f"'electronics' and order_month = '{month}'").fetchone()[0])
        for month in ("2024-05-01", "2024-06-01"))
    assert last["revenue_growth"] == pytest.approx(now / before - 1)


# --- reading and exploring -------------------------------------------------------------------


def test_11_thousands_of_products_stay_light_and_findable(browser: Browser,
                                                           site: Path) -> None:
    """Many points draw as one path per category (not a mark each); the data table is
    built only when opened; a product is found by name or ID and can then be focused."""
    with opened(browser, site, "products", "#level=products") as page:
        page.evaluate("""(() => {
          const rows = DS.rowsOf('ratings');
          // as many points as the scale-10 demo: the fixture's products, repeated
          window.__many = Array.from({length: 6000}, (_, i) => rows[i % rows.length]);
        })()""")
        many = run(page, """(() => {
          const spec = {x: 0, y: 0};
          const points = window.__many.map((p, i) => ({x: 1 + (i % 400) / 100,
            y: 10 + i, colour: Charts.CATEGORICAL[i % 7], tip: p.product_name}));
          const holder = document.createElement('div');
          holder.innerHTML = Charts.scatter(700, points, {log: true, dense: true,
            onPlaced: () => {}, label: 'x'});
          return holder.querySelectorAll('*').length;
        })()""")
        tables = run(page, "document.querySelectorAll('#panel-ratings .table-slot tr').length")
        page.evaluate("""(() => { const f = document.getElementById('find-product');
          f.value = 'keyboard'; f.dispatchEvent(new Event('input')); })()""")
        found = run(page, "[...document.querySelectorAll('#panel-ratings circle.found')]"
                          ".map(c => [c.dataset.tip, c.getAttribute('tabindex')])")
    assert many < 60  # 7 paths, axes and labels for 6,000 points
    assert tables == 0
    assert found and all("Keyboard" in tip and tab is not None for tip, tab in found)


def test_11_categories_have_distinguishable_colours(browser: Browser, site: Path) -> None:
    """Neighbouring keys of every categorical legend at least 30 apart in CIELAB (ΔE76):
    the review found Home & kitchen and Accessories nearly the same teal."""
    with opened(browser, site, "products") as page:
        colours = run(page, "Charts.CATEGORICAL")
        keys = run(page, "[...document.querySelectorAll('ul.keys.categorical')].map(ul => "
                         "[...ul.querySelectorAll('.swatch')].map(s => s.dataset.colour))")
    assert keys and all(len(k) >= 2 for k in keys)
    for a, b in zip(colours, colours[1:], strict=False):
        assert delta_e(a, b) >= 30, (a, b)
    for legend in keys:
        for a, b in zip(legend, legend[1:], strict=False):
            assert delta_e(a, b) >= 30, (a, b)


def delta_e(a: str, b: str) -> float:
    """CIE76 colour difference of two #rrggbb colours (sRGB, D65)."""
    def lab(colour: str) -> tuple[float, float, float]:
        rgb = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b_ = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb)
        xyz = ((0.4124 * r + 0.3576 * g + 0.1805 * b_) / 0.95047,
               0.2126 * r + 0.7152 * g + 0.0722 * b_,
               (0.0193 * r + 0.1192 * g + 0.9505 * b_) / 1.08883)
        f = [v ** (1 / 3) if v > 0.008856 else 7.787 * v + 16 / 116 for v in xyz]
        return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])
    return math.dist(lab(a), lab(b))


def test_12_category_scatter_is_labelled_fitted_and_keyed_to_what_is_shown(
        browser: Browser, site: Path) -> None:
    with opened(browser, site, "products", "#category=electronics|jewelery") as page:
        labels = run(page, "[...document.querySelectorAll('#panel-ratings svg text')]"
                           ".map(t => t.textContent)")
        keys = run(page, "[...document.querySelectorAll('#panel-ratings ul.keys "
                         ".categorical li, #panel-ratings ul.keys.categorical li')]"
                         ".map(li => li.textContent)")
    assert {"Electronics", "Jewelry"} <= set(labels)
    assert "1 ★" not in labels  # the axis starts near the data, not at 1 star
    assert keys == ["Electronics", "Jewelry"]


def test_13_top_products_choose_n_show_ids_and_scale_within_a_category(
        browser: Browser, site: Path, db: duckdb.DuckDBPyConnection) -> None:
    with opened(browser, site, "products", "#top=10") as page:
        rows = run(page, "DS.rowsOf('top')")
        widths = run(page, "[...document.querySelectorAll('.top-category')].map(c => "
                           "c.querySelector('.bar').style.width)")
        ids = run(page, "[...document.querySelectorAll('.top-category .store')]"
                        ".map(s => s.textContent)")
        note = run(page, "document.querySelector('#panel-top .panel-note').textContent")
        page.evaluate("DS.setState({from: 3, to: 6})")
        note_ranged = run(page, "document.querySelector('#panel-top .panel-note').textContent")
    expected = dict(db.execute("select category, least(count(*), 10) from "
                               "analytics.kpi_product_performance group by 1").fetchall())
    assert {c: sum(1 for r in rows if r["category"] == c) for c in expected} == expected
    assert widths and all(w in ("100%", "100.0%") for w in widths)
    assert all(re.match(r"#\d+ · (old|new) store$", i) for i in ids)
    assert note == "" and "ignores the Months filter" in note_ranged


def test_14_failed_and_pending_shares_are_shown_over_time(
        browser: Browser, site: Path, db: duckdb.DuckDBPyConnection) -> None:
    with opened(browser, site, "products", "#from=2024-01&to=2024-06") as page:
        tips = run(page, "[...document.querySelectorAll('#panel-status svg circle')]"
                         ".map(c => c.dataset.tip)")
    shares = query(db, """
        select strftime(order_month, '%b %Y') as month, sum(amount) filter (where
            transaction_status = 'Failed') / sum(amount) as failed
        from analytics.kpi_payment_activity where order_month between '2024-01-01' and
            '2024-06-01' group by 1""")
    assert shares
    for row in shares:
        if row["failed"] is not None:
            assert f"{row['month']} · Failed: {row['failed'] * 100:.1f}%" in tips


def test_15_revenue_levels_are_drawn_with_their_growth(browser: Browser, site: Path) -> None:
    with opened(browser, site, "products", "#from=2024-01&to=2024-06") as page:
        bars = run(page, "document.querySelectorAll('#panel-growth svg')[0]"
                         ".querySelectorAll('rect[data-tip]').length")
        labels = run(page, "[...document.querySelectorAll('#panel-growth svg')[0]"
                           ".querySelectorAll('text[font-size=\"11\"]')].map(t => t.textContent)")
        growth = run(page, "DS.rowsOf('growth').map(r => r.revenue_growth)")
    assert bars == 6
    assert labels == [f"{g * 100:+.1f}%" for g in growth]


def test_16_trend_line_fits_the_series_shown_whatever_the_filters(
        browser: Browser, site: Path) -> None:
    with opened(browser, site, "customers", "#state=CA|TX&from=2023-07&to=2024-06") as page:
        revenue = run(page, "DS.rowsOf('revenue').map(r => r.revenue)")
        keys = run(page, "[...document.querySelectorAll('#panel-revenue ul.keys li')]"
                         ".map(li => li.textContent)")
        trend = run(page, "DS.trend(DS.rowsOf('revenue').map(r => r.revenue))")
        drawn = run(page, "document.querySelectorAll('#panel-revenue polyline"
                          "[stroke-dasharray]').length")
    n = len(revenue)
    mx, my = (n - 1) / 2, sum(revenue) / n
    slope = (sum((i - mx) * (v - my) for i, v in enumerate(revenue))
             / sum((i - mx) ** 2 for i in range(n)))
    assert trend == pytest.approx([my + slope * (i - mx) for i in range(n)])
    assert drawn == 1
    assert "Trend (least squares over the 12 shown)" in keys
    assert not any("kpi_" in k for k in keys)


def test_17_the_left_censored_first_cohort_is_marked(browser: Browser, site: Path) -> None:
    with opened(browser, site, "customers") as page:
        rows = run(page, "[...document.querySelectorAll('#panel-cohorts .heatmap tbody th')]"
                         ".map(th => th.textContent)")
        note = run(page, "document.querySelector('#panel-cohorts .panel-note').textContent")
    first = rows[0]
    assert first.endswith("*") and not any(r.endswith("*") for r in rows[1:])
    assert f"{first} is the first month of data" in note
    assert "left out of the colour classes" in note


def test_18_segments_and_cards_say_why_something_is_missing(browser: Browser,
                                                             site: Path) -> None:
    with opened(browser, site, "customers", "#from=2024-04&to=2024-06") as page:
        note = run(page, "document.querySelector('#panel-segments .panel-note').textContent")
        guide = run(page, "document.querySelector('#panel-segments .how-to-read').textContent")
        page.evaluate("DS.setState({from: 0, to: DS.months.length - 1})")
        delta = card(page, "revenue")["delta"]
    assert "as of the run date" in guide
    assert "No at-risk customers ordered in these months" in note
    assert delta == "no earlier period in the data"


def test_19_overview_labels_say_what_they_count(browser: Browser, site: Path,
                                                marts_db: tuple[Path, Any]) -> None:
    with opened(browser, site, "index") as page:
        labels = run(page, "[...document.querySelectorAll('.card-label')]"
                           ".map(l => l.textContent)")
        revenue = card(page, "revenue")
    summary = marts_db[1]["kpi_customer_summary"][0]
    assert "Customers" not in labels
    assert {"Customers on record", "Customers who ordered"} <= set(labels)
    assert revenue["text"].endswith(("k", "M")) and revenue["tip"] == f"${summary[3]:,.2f}"


def test_20_tables_sort_and_search_and_downloads_say_what_they_hold(
        browser: Browser, site: Path) -> None:
    with opened(browser, site, "fulfillment", "#carrier=UPS&from=2024-01&to=2024-06") as page:
        page.evaluate("document.querySelector('#panel-map .data-table').open = true")
        click(page, "#panel-map th button[data-sort='avg_delivery_days']")
        ascending = run(page, "[...document.querySelectorAll('#panel-map .table-slot tbody "
                              "td[data-col=avg_delivery_days]')].map(td => td.dataset.value)")
        page.evaluate("""(() => { const s = document.querySelector('#panel-map .table-search');
          s.value = 'Texas'; s.dispatchEvent(new Event('input', {bubbles: true})); })()""")
        searched = run(page, "[...document.querySelectorAll('#panel-map .table-slot tbody "
                             "tr')].map(tr => tr.cells[0].dataset.value)")
        name, csv = run(page, "[DS.csvName('carriers'), DS.csv('carriers')]")
        page.evaluate("DS.setState({from: 0, to: DS.months.length - 1})")
        other = run(page, "DS.csvName('carriers')")
    values = [float(v) for v in ascending if v]
    assert values == sorted(values) and len(values) > 3
    assert searched == ["TX"]
    assert name == "fulfillment-carriers_2024-01_2024-06_carrier-UPS_run-2024-06-30.csv"
    assert other != name
    lines = csv.split("\r\n")
    assert lines[0] == ("# DeltaStore · Order Fulfillment & Logistics · Carriers compared")
    assert lines[1] == "# Filters: months Jan–Jun 2024; carrier UPS"
    assert lines[2].startswith("# Data: run date 2024-06-30, orders ")
    assert lines[3].startswith("carrier,shipments,finished,delivered,success_rate")
    assert lines[4].startswith("UPS,")


def test_20_downloads_neutralise_spreadsheet_formulas(browser: Browser, site: Path) -> None:
    with opened(browser, site, "products", "#category=electronics&top=25") as page:
        csv = run(page, "DS.csv('top')")
    assert ",'=Gift Card Bundle," in csv
    assert ",=Gift" not in csv


def test_21_charts_are_one_tab_stop_with_arrow_keys_inside(browser: Browser,
                                                           site: Path) -> None:
    with opened(browser, site, "customers") as page:
        # what Tab reaches: not disabled, not hidden, not inside a closed <details>
        stops = run(page, """[...document.querySelectorAll(
          'a[href], button, input, select, summary, [tabindex]')].filter(e => {
            const closed = e.closest('details:not([open])');
            return e.tabIndex >= 0 && !e.disabled && e.getClientRects().length &&
              !(closed && e.parentNode !== closed);
          }).length""")
        skip = run(page, "[document.querySelector('a.skip').getAttribute('href'), "
                         "!!document.getElementById('figures')]")
        moved = run(page, """(() => {
          const first = document.querySelector('#panel-map g.tile[tabindex="0"]');
          first.focus();
          first.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight',
            bubbles: true}));
          const now = document.activeElement;
          return [first.dataset.state, now.dataset.state, first.getAttribute('tabindex'),
                  now.getAttribute('tabindex')];
        })()""")
    assert stops < 60
    assert skip == ["#figures", True]
    assert moved[1] != moved[0] and moved[2:] == ["-1", "0"]


def test_22_printed_charts_are_drawn_for_the_paper(browser: Browser, site: Path) -> None:
    """Printed at the screen's width, charts shrink about 2x on A4: redrawn at the paper's
    width on beforeprint, their 12 px text prints at 9 pt."""
    with opened(browser, site, "customers", width=1440) as page:
        page.emulate_media("print")
        page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
        charts = run(page, "[...document.querySelectorAll('svg.chart')].map(s => "
                           "[s.viewBox.baseVal.width, Math.min(...[...s.querySelectorAll("
                           "'text')].map(t => Number(t.getAttribute('font-size'))))])")
        page.evaluate("window.dispatchEvent(new Event('afterprint'))")
        page.emulate_media("")
    assert charts
    for width, smallest in charts:
        printed = smallest * min(1.0, A4_WIDTH / width)
        assert printed >= EIGHT_POINT, (width, smallest)


def test_22_top_products_break_between_categories_in_print(browser: Browser,
                                                           site: Path) -> None:
    with opened(browser, site, "products", "#top=25") as page:
        page.emulate_media("print")
        rules = run(page, "[...document.querySelectorAll('.top-category')].map(c => "
                          "getComputedStyle(c).breakInside)")
        page.emulate_media("")
    assert rules and set(rules) == {"avoid"}


def test_23_one_screen_holds_the_cards_and_the_main_chart(browser: Browser,
                                                          site: Path) -> None:
    main = {"customers": "revenue", "products": "trend", "fulfillment": "carriers"}
    for name, panel in main.items():
        with opened(browser, site, name, width=1440, height=900) as page:
            bottoms = run(page, f"""[document.querySelector('.cards').getBoundingClientRect()
              .bottom, document.querySelector('#panel-{panel} svg.chart')
              .getBoundingClientRect().bottom]""")
        assert max(bottoms) <= 900, (name, bottoms)
    with opened(browser, site, "index", width=1440, height=900) as page:
        assert run(page, "document.documentElement.scrollHeight") <= 900


def test_23_the_filter_bar_stays_on_a_phone_screen(browser: Browser, site: Path) -> None:
    with opened(browser, site, "customers", width=390, height=844) as page:
        top = run(page, """(() => { window.scrollTo(0, 2500);
          return document.getElementById('filters').getBoundingClientRect().top; })()""")
    assert 0 <= top < 10


def test_24_fulfillment_offers_only_stores_with_shipments(browser: Browser, site: Path) -> None:
    with opened(browser, site, "fulfillment", "#status=Pending") as page:
        filters = run(page, "[...document.querySelectorAll('[data-filter]')]"
                            ".map(f => f.dataset.filter)")
        metric = run(page, """(() => { const s = document.getElementById('map-metric');
          return [s.value, s.querySelector('option[value=days]').disabled]; })()""")
    assert "store" not in filters
    assert metric == ["shipments", True]


def test_25_panel_options_live_in_the_url_and_reset_clears_them(browser: Browser,
                                                                site: Path) -> None:
    with opened(browser, site, "products") as page:
        page.evaluate("""(() => { const s = document.getElementById('ratings-level');
          s.value = 'products'; s.dispatchEvent(new Event('change')); })()""")
        hash_ = run(page, "location.hash")
    assert hash_ == "#level=products"
    with opened(browser, site, "products", hash_) as again:
        restored = run(again, "document.getElementById('ratings-level').value")
        click(again, "#reset-filters")
        after = run(again, "[location.hash, document.getElementById('ratings-level').value]")
    assert restored == "products" and after == ["", "categories"]
    with opened(browser, site, "fulfillment", "#metric=shipments") as page:
        assert run(page, "document.getElementById('map-metric').value") == "shipments"


def test_26_a_run_date_set_apart_from_the_build_day_says_so(site: Path) -> None:
    """The fixture's run date is the day before its build: no note. The demo's run date
    is months before its build (test_demo_dashboards checks the note there)."""
    page = (site / "customers.html").read_text()
    assert 'data-run-date-set="false"' in page
    assert "Figures as of run date" in page


def test_27_filter_buttons_read_as_english(browser: Browser, site: Path) -> None:
    with opened(browser, site, "fulfillment") as page:
        buttons = run(page, "[...document.querySelectorAll('.filter-bar button')]"
                            ".map(b => b.textContent.trim())")
    assert not any(re.match(r"All [a-z]", b) for b in buttons)
    assert {"All", "None", "only", "Reset"} <= set(buttons)


# --- exploring: pickers, cross-filtering, presets, grain --------------------------------------


def test_4_state_picker_searches_selects_one_and_names_beside_codes(
        browser: Browser, site: Path) -> None:
    with opened(browser, site, "customers") as page:
        texts = run(page, "[...document.querySelectorAll('[data-filter=state] .option label')]"
                          ".map(l => l.textContent.trim())")
        page.evaluate("""(() => {
          const s = document.querySelector('[data-filter=state] input[type=search]');
          s.value = 'calif'; s.dispatchEvent(new Event('input')); })()""")
        visible = run(page, "[...document.querySelectorAll('[data-filter=state] .option')]"
                            ".filter(o => !o.hidden).map(o => o.textContent)")
        click(page, "[data-filter=state] button[data-only='CA']")
        after_only = run(page, "[location.hash, [...document.querySelectorAll('.chip')]"
                               ".map(c => c.textContent)]")
        click(page, "[data-filter=state] button[data-none]")
        none = run(page, "[location.hash, DS.rowsOf('map').length]")
        click(page, "[data-filter=state] button[data-all]")
        everything = run(page, "location.hash")
    assert "California (CA)" in texts and "No state on record" in texts
    assert texts.index("Arizona (AZ)") < texts.index("California (CA)")  # by name
    assert len(visible) == 1 and "California (CA)" in visible[0]
    assert after_only[0] == "#state=CA" and after_only[1] == ["State: CA ×"]
    assert none == ["#state=-", 0]
    assert everything == ""


def test_4_picker_rows_are_touch_targets_on_a_phone(browser: Browser, site: Path) -> None:
    """The review measured 13 px checkboxes: on a touch screen each row is at least 44 px
    tall and its "only" button at least 24 px (WCAG 2.2, target size)."""
    with opened(browser, site, "customers", width=390, height=844) as page:
        page.emulate_touch()
        sizes = run(page, """(() => {
          const box = document.querySelector('[data-filter=state]'); box.open = true;
          return [...box.querySelectorAll('.option')].map(o => [
            o.querySelector('label').getBoundingClientRect().height,
            o.querySelector('.only').getBoundingClientRect().height]); })()""")
    assert sizes and all(row >= 44 and only >= 24 for row, only in sizes)


@pytest.mark.parametrize("page_name, selector, expected", [
    ("customers", "#panel-map g.tile[data-state=TX]", "#state=TX"),
    ("customers", "#panel-segments rect[data-pick-value=casual]", "#segment=casual"),
    ("customers", "#panel-cohorts td[data-pick-value='2023-03-01']", "#from=2023-03&to=2023-03"),
    ("products", "#panel-trend button.key[data-pick-value=jewelery]", "#category=jewelery"),
    ("fulfillment", "#panel-carriers rect[data-pick-value=UPS]", "#carrier=UPS"),
    ("fulfillment", "#panel-statuses rect[data-pick-value=Pending]", "#status=Pending"),
])
def test_4_selecting_a_mark_filters_the_page(browser: Browser, site: Path, page_name: str,
                                            selector: str, expected: str) -> None:
    """State tile, segment bar, cohort cell, category key, carrier and status bars; a
    second selection of the same mark removes the filter."""
    with opened(browser, site, page_name) as page:
        click(page, selector)
        hash_ = run(page, "location.hash")
        chips = run(page, "document.querySelectorAll('.chip').length")
        click(page, selector)
        cleared = run(page, "location.hash")
    assert hash_ == expected and chips == 1 and cleared == ""


def test_3_selecting_a_state_on_the_delivery_map_matches_sql(
        browser: Browser, site: Path, db: duckdb.DuckDBPyConnection) -> None:
    with opened(browser, site, "fulfillment") as page:
        click(page, "#panel-map g.tile[data-state=CA]")
        state = run(page, "[location.hash, DS.rowsOf('carriers')]")
    hash_, carriers = state
    assert hash_ == "#state=CA"
    expected = query(db, f"select carrier, {RATES} from analytics.kpi_shipment_activity "
                         f"where {where({'state': ['CA']}, FULFILLMENT_DIMS, None)} group by 1")
    assert {c["carrier"]: c["shipments"] for c in carriers} == {
        r["carrier"]: r["shipments"] for r in expected}


def test_month_presets_and_quarter_grain(browser: Browser, site: Path,
                                         db: duckdb.DuckDBPyConnection) -> None:
    with opened(browser, site, "customers") as page:
        spans = {}
        for preset in ("last-3", "last-6", "last-12", "ytd"):
            page.evaluate(f"""(() => {{ const s = document.getElementById('month-preset');
              s.value = '{preset}'; s.dispatchEvent(new Event('change')); }})()""")
            spans[preset] = run(page, "location.hash")
        page.evaluate("""(() => { const g = document.getElementById('grain');
          g.value = 'quarter'; g.dispatchEvent(new Event('change')); })()""")
        quarters = run(page, "DS.rowsOf('revenue').map(r => [r.period, r.revenue])")
    assert spans == {"last-3": "#from=2024-04&to=2024-06", "last-6": "#from=2024-01&to=2024-06",
                     "last-12": "#from=2023-07&to=2024-06", "ytd": "#from=2024-01&to=2024-06"}
    expected = query(db, """
        select 'Q' || quarter(order_month) || ' ' || year(order_month) as period,
            sum(revenue) as revenue from analytics.kpi_customer_activity
        where order_month between '2024-01-01' and '2024-06-01' group by 1 order by 1""")
    assert quarters == [[r["period"], pytest.approx(float(r["revenue"]))] for r in expected]


def test_year_over_year_line_when_the_data_spans_two_years(browser: Browser, site: Path,
                                                           db: duckdb.DuckDBPyConnection
                                                           ) -> None:
    state = page_state(browser, site, "customers", {"from": "2024-01", "to": "2024-06"})
    before = {r["period"]: num(r["revenue_year_before"]) for r in state["panels"]["revenue"]}
    for month, revenue in db.execute(
            "select strftime(order_month + interval 1 year, '%b %Y'), sum(revenue) from "
            "analytics.kpi_customer_activity where order_month between '2023-01-01' and "
            "'2023-06-01' group by 1").fetchall():
        assert before[month] == pytest.approx(float(revenue))
