// Customer Analysis: every figure sums kpi_customer_activity or kpi_cohort_activity rows.
/* global DS, Charts */
(function () {
  "use strict";
  var fmt = DS.fmt, extra = DS.config.extra;
  var SEGMENTS = ["new", "casual", "at-risk"];
  var ALL = { from: 0, to: DS.months.length - 1 };
  var EVERYTHING = ["store", "segment", "state"];
  var ORDERS = { key: "orders", label: "Orders", fmt: fmt.count };
  var REVENUE = { key: "revenue", label: "Revenue", fmt: fmt.money };
  var AOV = { key: "average_order_value", label: "Average order value", fmt: fmt.money };
  var CUSTOMERS = { key: "customers", label: "Customers", fmt: fmt.count };

  function totals(list) {
    var orders = DS.sum(list, "orders"), revenue = DS.sum(list, "revenue");
    return { orders: orders, revenue: revenue, aov: DS.ratio(revenue, orders),
      customers: DS.sum(list, "new_customers") };
  }

  function cards() {
    var now = totals(DS.rows("activity")), span = DS.previousSpan();
    var before = span ? totals(DS.rows("activity", span)) : {};
    var delta = function (key) { return span ? DS.change(now[key], before[key]) : null; };
    DS.card("revenue", { value: now.revenue, shown: fmt.moneyShort(now.revenue),
      exact: fmt.money(now.revenue), delta: delta("revenue") });
    DS.card("orders", { value: now.orders, shown: fmt.count(now.orders), delta: delta("orders") });
    DS.card("average_order_value", { value: now.aov, shown: fmt.money(now.aov),
      note: "revenue ÷ orders", delta: delta("aov") });
    DS.card("customers", { value: now.customers, shown: fmt.count(now.customers),
      note: "first order in these months", delta: delta("customers") });
  }

  // Fixed map scale: the busiest state over all months and customers.
  var mapMax = Math.max.apply(null, DS.groupSum(DS.rows("activity", ALL, EVERYTHING), "state_code",
    ["new_customers"]).filter(function (g) { return g.key in extra.grid; })
    .map(function (g) { return g.new_customers; }).concat([1]));

  function stateMap() {
    var groups = DS.groupSum(DS.rows("activity"), "state_code",
      ["new_customers", "orders", "revenue"]);
    var values = {}, offMap = 0, list = [];
    groups.forEach(function (g) {
      if (g.key in extra.grid) { values[g.key] = g.new_customers; } else { offMap += g.new_customers; }
      list.push({ state: g.key === "null" ? null : g.key, customers: g.new_customers,
        orders: g.orders, revenue: g.revenue });
    });
    list.sort(function (a, b) { return b.customers - a.customers; });
    DS.panel("map", {
      cubes: ["activity"], rows: list,
      notes: offMap ? [fmt.count(offMap) + " customers have no US state on record (the web " +
        "store does not collect addresses) and are not on the map."] : [],
      columns: [{ key: "state", label: "State", fmt: function (v) {
        return v == null ? "no state on record" : v; } }, CUSTOMERS, ORDERS, REVENUE],
      chart: function (width) {
        return Charts.tileMap(width, values, { colours: Charts.BLUES, max: mapMax,
          format: function (v) { return fmt.count(v) + " customers"; }, short: fmt.count,
          label: "Customers by US state" });
      }
    });
  }

  function monthly() {
    var span = DS.range(), labels = DS.months.slice(span.from, span.to + 1);
    var by = {};
    DS.groupSum(DS.rows("activity"), "order_month", ["orders", "revenue"]).forEach(function (g) {
      by[g.key] = g;
    });
    var list = labels.map(function (m) {
      var g = by[m] || { orders: 0, revenue: 0 };
      return { month: m, orders: g.orders, revenue: g.revenue, average_order_value:
        DS.ratio(g.revenue, g.orders) };
    });
    var series = [{ name: "Revenue", colour: "#2563eb", values: list.map(function (r) {
      return r.revenue; }), format: fmt.money }];
    var notes = [];
    if (DS.isUnfiltered()) {
      series.push({ name: "Trend (least squares, kpi_monthly_revenue)", colour: "#b45309",
        dashed: true, values: labels.map(function (m) { return extra.trend[m]; }) });
    } else {
      notes.push("The trend line is defined over all orders only; it is hidden while filters " +
        "are set.");
    }
    DS.panel("revenue", {
      cubes: ["activity"], rows: list, notes: notes,
      columns: [{ key: "month", label: "Month", fmt: fmt.month }, ORDERS, REVENUE, AOV],
      chart: function (width) {
        return Charts.line(width, labels, series, fmt.money, "Monthly revenue");
      }
    });
  }

  function segments() {
    var groups = DS.groupSum(DS.rows("activity"), "segment",
      ["new_customers", "orders", "revenue"]);
    var list = SEGMENTS.map(function (s) {
      var g = groups.filter(function (x) { return x.key === s; })[0];
      return g ? { segment: s, customers: g.new_customers, orders: g.orders, revenue: g.revenue,
        average_order_value: DS.ratio(g.revenue, g.orders) } : null;
    }).filter(Boolean);
    DS.panel("segments", {
      cubes: ["activity"], rows: list,
      columns: [{ key: "segment", label: "Segment" }, CUSTOMERS, ORDERS, REVENUE, AOV],
      chart: function (width) {
        var half = width >= 560 ? Math.floor(width / 2) - 8 : width;
        var maxC = Math.max.apply(null, list.map(function (r) { return r.customers; }));
        var maxR = Math.max.apply(null, list.map(function (r) { return r.revenue; }));
        return '<div class="pair"><div><h3>Customers</h3>' + Charts.hbars(half, list.map(function (r) {
          return { label: r.segment, value: r.customers, shown: fmt.count(r.customers),
            tip: r.segment + ": " + fmt.count(r.customers) + " customers" };
        }), maxC, "Customers per segment") + '</div><div><h3>Revenue</h3>' +
          Charts.hbars(half, list.map(function (r) {
            return { label: r.segment, value: r.revenue, shown: fmt.moneyShort(r.revenue),
              tip: r.segment + ": " + fmt.money(r.revenue) };
          }), maxR, "Revenue per segment", "#0f766e") + "</div></div>";
      }
    });
  }

  // Cohort colours: months 1..n only (month 0 is always the whole cohort), on a fixed scale
  // up to the best retention over all customers.
  function cohortCells(list) {
    var sizes = {}, cells = {};
    list.forEach(function (r) {
      var k = r.months_since_first_order;
      if (k === 0) { sizes[r.cohort_month] = (sizes[r.cohort_month] || 0) + r.active_customers; }
      cells[r.cohort_month + "|" + k] = (cells[r.cohort_month + "|" + k] || 0) + r.active_customers;
    });
    return { sizes: sizes, cells: cells };
  }
  var cohortMax = (function () {
    var all = cohortCells(DS.rows("cohorts", ALL, EVERYTHING)), max = 0.01;
    Object.keys(all.cells).forEach(function (key) {
      var parts = key.split("|");
      if (parts[1] !== "0") { max = Math.max(max, all.cells[key] / all.sizes[parts[0]]); }
    });
    return max;
  }());

  function cohorts() {
    var data = cohortCells(DS.rows("cohorts")), last = DS.months[DS.months.length - 1];
    var starts = Object.keys(data.sizes).sort(), list = [];
    var width = starts.length ? DS.months.indexOf(last) - DS.months.indexOf(starts[0]) + 1 : 0;
    starts.forEach(function (c) {
      for (var k = 0; k <= DS.months.indexOf(last) - DS.months.indexOf(c); k++) {
        var active = data.cells[c + "|" + k] || 0;
        list.push({ cohort_month: c, months_since_first_order: k, cohort_size: data.sizes[c],
          active_customers: active, retention_rate: active / data.sizes[c] });
      }
    });
    DS.panel("cohorts", {
      cubes: ["cohorts"], rows: list,
      notes: ["The date range picks cohorts by the month of their first order."],
      columns: [{ key: "cohort_month", label: "Cohort", fmt: fmt.month },
        { key: "months_since_first_order", label: "Months since first order" },
        { key: "cohort_size", label: "Cohort size", fmt: fmt.count },
        { key: "active_customers", label: "Active customers", fmt: fmt.count },
        { key: "retention_rate", label: "Retention", fmt: fmt.percent }],
      chart: function () {
        var head = "";
        for (var k = 1; k < width; k++) { head += '<th scope="col">' + k + "</th>"; }
        var body = starts.map(function (c) {
          var cells = "";
          for (var k = 1; k < width; k++) {
            var row = list.filter(function (r) {
              return r.cohort_month === c && r.months_since_first_order === k; })[0];
            if (!row) { cells += '<td class="na"></td>'; continue; }
            var fill = Charts.classOf(Charts.BLUES, row.retention_rate / cohortMax);
            cells += '<td tabindex="0" style="background:' + fill + ";color:" +
              Charts.inkOn(fill) + '" data-tip="' + DS.esc(fmt.month(c) + " cohort, month " + k +
              ": " + fmt.count(row.active_customers) + " of " + fmt.count(row.cohort_size) +
              " ordered (" + fmt.percent(row.retention_rate) + ")") + '">' +
              Math.round(row.retention_rate * 100) + "%</td>";
          }
          return '<tr><th scope="row">' + fmt.month(c) + '</th><td class="size">' +
            fmt.count(data.sizes[c]) + "</td>" + cells + "</tr>";
        }).join("");
        return '<div class="scroll"><table class="heatmap"><thead><tr><th rowspan="2" ' +
          'scope="col">Cohort</th><th rowspan="2" scope="col">Customers</th><th colspan="' +
          Math.max(1, width - 1) + '" scope="colgroup">Months since first order (share ordering ' +
          "again)</th></tr><tr>" + head + "</tr></thead><tbody>" + body + "</tbody></table></div>" +
          '<p class="legend-note">' + Charts.classLegend(Charts.BLUES, cohortMax, fmt.percent) +
          " — up to the best month after the first over all customers; month 0 (always " +
          "100%) is left out; fixed across filters.</p>";
      }
    });
  }

  DS.start(function () { cards(); stateMap(); monthly(); segments(); cohorts(); });
}());
