"""Charting code: the hand-written in-page SVG against Vega-Lite, measured.

For a rendered site (use a `deltastore demo --scale 10` run), prints:
- the weight of each page, split into engine + charts + page script, embedded data, the rest;
- the time to redraw the whole Fulfillment page (6 cards, 6 panels) after a filter change,
  median of 15 changes in headless Chromium;
- on Products with the rating scatter at product level (every rated product a point): the
  redraw of the whole page after a filter change, and of the scatter panel alone, median
  and max of 15 changes, and the page's DOM nodes;
- lines of code of the charting and filter code;
- with `vl-convert-python` importable (it is not a project dependency: install it into a
  scratch venv), the same three Fulfillment charts as Vega-Lite specs over the same rows,
  filtered by Vega signals: the inlined bundle's size and the redraw time of the charts
  alone (no cards, no tables) for the same filter changes.

    .venv/bin/python benchmarks/bench_dashboards.py /tmp/demo10/dashboards
    VL_PYTHON=/tmp/vlvenv/bin/python .venv/bin/python benchmarks/bench_dashboards.py DIR

Prints figures; asserts nothing.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "dashboards"))
from dashboards_cdp import Browser, find_chromium  # noqa: E402

ASSETS = REPO / "dashboards" / "assets"
CHANGES = [{"carrier": ["UPS"]}, {"status": ["Delivered"]}, {"carrier": ["DHL", "FedEx"]},
           {}, {"status": ["Pending", "Shipped"]}] * 3

REDRAW_JS = """(() => {
  const changes = %s, times = [];
  for (const change of changes) {
    const state = {from: 0, to: DS.months.length - 1};
    for (const [key, values] of Object.entries(change)) { state[key] = new Set(values); }
    const start = performance.now();
    DS.setState(state);
    times.push(performance.now() - start);
  }
  return times;
})()"""

VEGA_PAGE = """<!doctype html><html><head><meta charset="utf-8"></head><body>
<div id="carriers"></div><div id="statuses"></div><div id="map"></div>
<script>%(bundle)s</script>
<script>
const cube = %(rows)s, grid = %(grid)s;
const rows = cube.rows.map(r => Object.fromEntries(cube.columns.map((c, i) => [c, r[i]])));
const params = [{name: "carriers", value: []}, {name: "statuses", value: []}];
const keep = "(length(carriers) == 0 || indexof(carriers, datum.carrier) >= 0) && " +
  "(length(statuses) == 0 || indexof(statuses, datum.shipment_status) >= 0)";
const base = {params, data: {values: rows}, width: 500};
const specs = {
  carriers: Object.assign({}, base, {transform: [{filter: keep},
    {aggregate: [{op: "sum", field: "finished", as: "finished"},
                 {op: "sum", field: "delivered", as: "delivered"}], groupby: ["carrier"]},
    {calculate: "datum.delivered / datum.finished", as: "success_rate"}],
    mark: "bar", encoding: {y: {field: "carrier", type: "nominal", sort: "-x"},
      x: {field: "success_rate", type: "quantitative", axis: {format: ".0%%"}},
      tooltip: [{field: "carrier"}, {field: "success_rate", format: ".1%%"}]}}),
  statuses: Object.assign({}, base, {transform: [{filter: keep},
    {aggregate: [{op: "sum", field: "shipments", as: "shipments"}], groupby: ["shipment_status"]}],
    mark: "bar", encoding: {y: {field: "shipment_status", type: "nominal", sort: "-x"},
      x: {field: "shipments", type: "quantitative"}, tooltip: [{field: "shipments"}]}}),
  map: Object.assign({}, base, {transform: [{filter: keep},
    {aggregate: [{op: "sum", field: "total_delivery_days", as: "days"},
                 {op: "sum", field: "delivered", as: "delivered"}], groupby: ["state_code"]},
    {calculate: "datum.delivered ? datum.days / datum.delivered : null", as: "average"},
    {lookup: "state_code", from: {data: {values: grid}, key: "state", fields: ["row", "col"]}},
    {filter: "datum.row != null"}],
    mark: {type: "rect"}, encoding: {x: {field: "col", type: "ordinal"},
      y: {field: "row", type: "ordinal"}, color: {field: "average", type: "quantitative",
      scale: {domain: [0, 6], scheme: "oranges"}}, tooltip: [{field: "state_code"},
      {field: "average", format: ".1f"}]}}),
};
window.ready = Promise.all(Object.entries(specs).map(([id, spec]) =>
  vegaEmbed("#" + id, spec, {renderer: "svg", actions: false}).then(r => r.view)))
  .then(views => { window.views = views; return true; });
window.redraw = async function (changes) {
  const times = [];
  for (const change of changes) {
    const start = performance.now();
    await Promise.all(window.views.map(view => {
      view.signal("carriers", change.carrier || []).signal("statuses", change.status || []);
      return view.runAsync();
    }));
    times.push(performance.now() - start);
  }
  return times;
};
</script></body></html>"""


def weights(site: Path) -> None:
    code = sum(len((ASSETS / n).read_bytes()) for n in ("dashboard.js", "charts.js"))
    for name in ("customers", "products", "fulfillment"):
        page = (site / f"{name}.html").read_bytes()
        data = re.search(rb'id="page-config">(.*?)</script>', page)
        data_bytes = len(data.group(1)) if data else 0
        script = len((ASSETS / f"{name}.js").read_bytes())
        print(f"  {name}.html: {len(page) / 1024:,.0f} KiB = scripts {(code + script) / 1024:,.0f}"
              f" KiB + data {data_bytes / 1024:,.0f} KiB + markup and CSS "
              f"{(len(page) - code - script - data_bytes) / 1024:,.0f} KiB")


def lines_of_code() -> None:
    def count(path: Path) -> int:
        return sum(1 for line in path.read_text().splitlines()
                   if line.strip() and not line.strip().startswith(("//", "#", "/*", "*")))
    for group, paths in (
            ("engine (filters, URL, cards, tables, CSV, tooltips)", [ASSETS / "dashboard.js"]),
            ("charts", [ASSETS / "charts.js"]),
            ("page scripts", [ASSETS / f"{n}.js" for n in ("customers", "products",
                                                          "fulfillment")])):
        print(f"  {group}: {sum(count(p) for p in paths):,} lines")


PRODUCT_CHANGES = [{"category": ["electronics"]}, {"store": ["old store"]},
                   {"category": ["furniture", "jewelery"]}, {}, {"store": ["new store"]}] * 3

SCATTER_JS = """(() => {
  const changes = %s, page = [], panel = [], opt = Object.assign({}, DS.state().opt,
    {level: 'products'});
  const find = document.getElementById('find-product');
  for (const change of changes) {
    const state = {from: 0, to: DS.months.length - 1, opt: opt};
    for (const [key, values] of Object.entries(change)) { state[key] = new Set(values); }
    let start = performance.now();
    DS.setState(state);
    page.push(performance.now() - start);
    start = performance.now();
    find.dispatchEvent(new Event('input'));  // redraws the scatter panel alone
    panel.push(performance.now() - start);
  }
  return [page, panel, DS.rowsOf('ratings').length, document.querySelectorAll('*').length];
})()"""


def scatter_ms(browser: Browser, url: str) -> None:
    page = browser.open(url, width=1440)
    try:
        whole, panel, points, nodes = page.evaluate(SCATTER_JS % json.dumps(PRODUCT_CHANGES))
    finally:
        page.close()
    print(f"  Products, rating scatter at product level ({points:,} points after the last "
          f"change, {nodes:,} DOM nodes): redraw of the whole page median "
          f"{statistics.median(whole):.1f} ms, max {max(whole):.1f} ms; of the scatter panel "
          f"alone median {statistics.median(panel):.1f} ms, max {max(panel):.1f} ms")


def redraw_ms(browser: Browser, url: str) -> list[float]:
    page = browser.open(url, width=1440)
    try:
        times: list[float] = page.evaluate(REDRAW_JS % json.dumps(CHANGES))
        return times
    finally:
        page.close()


def vega(browser: Browser, site: Path, python: str) -> None:
    bundle = subprocess.run([python, "-c", "import vl_convert as v, sys; "
                             "sys.stdout.write(v.javascript_bundle())"],
                            capture_output=True, text=True, check=True).stdout
    page = (site / "fulfillment.html").read_text()
    config = json.loads(re.search(r'id="page-config">(.*?)</script>', page).group(1))
    cube = config["cubes"]["shipments"]  # the same compact rows the page embeds
    grid = [{"state": s, "row": p[0], "col": p[1]} for s, p in config["extra"]["grid"].items()]
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "vega.html"
        rows = json.dumps(cube, separators=(",", ":"))
        path.write_text(VEGA_PAGE % {"bundle": bundle, "rows": rows, "grid": json.dumps(grid)})
        print(f"  Vega-Lite bundle (vega-embed + vega-lite + vega): "
              f"{len(bundle.encode()) / 1024:,.0f} KiB; page with the same rows "
              f"{path.stat().st_size / 1024:,.0f} KiB")
        tab = browser.open(path.as_uri(), width=1440)
        try:
            tab.evaluate("window.ready")
            times = tab.evaluate(f"window.redraw({json.dumps(CHANGES)})")
            problems = tab.collect().problems()
        finally:
            tab.close()
    print(f"  Vega-Lite redraw of the 3 charts only: median {statistics.median(times):.1f} ms,"
          f" max {max(times):.1f} ms{'; problems: ' + str(problems) if problems else ''}")


def main() -> None:
    site = Path(sys.argv[1] if len(sys.argv) > 1 else "deltastore-data/dashboards")
    executable = find_chromium()
    if executable is None:
        sys.exit("needs Chromium")
    print(f"site {site}")
    weights(site)
    lines_of_code()
    browser = Browser(executable)
    try:
        times = redraw_ms(browser, (site / "fulfillment.html").as_uri())
        print(f"  hand-written redraw of the whole Fulfillment page: median "
              f"{statistics.median(times):.1f} ms, max {max(times):.1f} ms")
        scatter_ms(browser, (site / "products.html").as_uri())
        python = os.environ.get("VL_PYTHON", sys.executable)
        try:
            vega(browser, site, python)
        except (subprocess.CalledProcessError, FileNotFoundError):
            print("  Vega-Lite: vl-convert-python not importable; set VL_PYTHON")
    finally:
        browser.close()


if __name__ == "__main__":
    main()
