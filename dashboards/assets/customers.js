// Customer Analysis: every figure sums kpi_customer_activity, kpi_active_customers or
// kpi_cohort_activity rows (docs/data-contracts.md).
/* global DS, Charts */
(function () {
  "use strict";
  var fmt = DS.fmt, extra = DS.config.extra;
  var SEGMENTS = ["new", "casual", "at-risk"];
  var SEGMENT_COLOURS = { "new": "#2563eb", casual: "#059669", "at-risk": "#d97706" };
  var ORDERS = { key: "orders", label: "Orders", fmt: fmt.count };
  var REVENUE = { key: "revenue", label: "Revenue", fmt: fmt.money };
  var AOV = { key: "average_order_value", label: "Average order value", fmt: fmt.money };
  var ACTIVE = { key: "active_customers", label: "Active customers", fmt: fmt.count };
  var NEW = { key: "new_customers", label: "New customers", fmt: fmt.count };

  // Active-customer rows of a span: a customer counts in the first of their months that
  // falls in it (previous order month NULL or before the span).
  function activeRows(span) {
    var s = span || DS.range(), first = DS.months[s.from];
    return DS.rows("active", s).filter(function (r) {
      return r.previous_order_month == null || r.previous_order_month < first;
    });
  }

  function totals(span) {
    var list = DS.rows("activity", span), active = activeRows(span);
    var orders = DS.sum(list, "orders"), revenue = DS.sum(list, "revenue");
    return { orders: orders, revenue: revenue, aov: DS.ratio(revenue, orders),
      active: DS.sum(active, "customers"), fresh: DS.sum(list, "new_customers") };
  }

  function cards() {
    var now = totals(), prevSpan = DS.previousSpan(), yearSpan = DS.yearBeforeSpan();
    var before = prevSpan ? totals(prevSpan) : null, year = yearSpan ? totals(yearSpan) : null;
    function spec(key, extraSpec) {
      var out = { delta: before ? DS.change(now[key], before[key]) : null,
        yoy: year ? DS.change(now[key], year[key]) : null };
      if (out.delta == null) { out.noDelta = DS.noDeltaReason(); }
      return Object.assign(out, extraSpec);
    }
    DS.card("revenue", spec("revenue", { value: now.revenue, shown: fmt.moneyShort(now.revenue),
      exact: fmt.money(now.revenue) }));
    DS.card("orders", spec("orders", { value: now.orders, shown: fmt.count(now.orders) }));
    DS.card("average_order_value", spec("aov", { value: now.aov, shown: fmt.money(now.aov) }));
    DS.card("active_customers", spec("active", { value: now.active,
      shown: fmt.count(now.active) }));
    DS.card("new_customers", spec("fresh", { value: now.fresh, shown: fmt.count(now.fresh) }));
  }

  function stateMap() {
    var active = {};
    DS.groupSum(activeRows(), "state_code", ["customers"]).forEach(function (g) {
      active[g.key] = g.customers;
    });
    var groups = DS.groupSum(DS.rows("activity"), "state_code",
      ["new_customers", "orders", "revenue"]);
    var values = {}, offMap = 0, list = [];
    groups.forEach(function (g) {
      var state = g.key === "null" ? null : g.key, customers = active[g.key] || 0;
      if (state in extra.grid) { values[state] = customers; } else { offMap += customers; }
      list.push({ state: state, state_name: state ? extra.stateNames[state] || state : null,
        active_customers: customers, new_customers: g.new_customers, orders: g.orders,
        revenue: g.revenue });
    });
    list.sort(function (a, b) { return b.active_customers - a.active_customers; });
    var shown = Object.keys(values).map(function (k) { return values[k]; });
    DS.panel("map", {
      cubes: ["active"], rows: list,
      notes: offMap ? [fmt.count(offMap) + " active customers have no US state on record " +
        "(the web store does not collect addresses) and are not on the map."] : [],
      columns: [{ key: "state", label: "State", fmt: function (v) {
        return v == null ? "no state on record" : v; } },
        { key: "state_name", label: "Name" }, ACTIVE, NEW, ORDERS, REVENUE],
      chart: function (width) {
        return Charts.tileMap(width, values, {
          scale: Charts.quantiles(shown, Charts.BLUES, fmt.count, "states"),
          format: function (v) { return fmt.count(v) + " active customers"; },
          short: fmt.count, label: "Active customers by US state", pick: "state",
          chosen: DS.chosen("state") });
      }
    });
  }

  // Sums of `columns` per period of the chosen grain, for `span` (default: the range).
  function byPeriod(cube, span, columns) {
    var periods = DS.periods(span), by = {};
    DS.rows(cube, span).forEach(function (row) {
      var key = DS.periodOf(row.order_month);
      by[key] = by[key] || {};
      columns.forEach(function (c) { by[key][c] = (by[key][c] || 0) + (Number(row[c]) || 0); });
    });
    return periods.map(function (p) { return by[p.key] || {}; });
  }

  function monthly() {
    var periods = DS.periods(), sums = byPeriod("activity", null, ["orders", "revenue"]);
    var list = periods.map(function (p, i) {
      var g = sums[i];
      return { period: p.label, month: p.months[0], orders: g.orders || 0,
        revenue: g.revenue || 0, average_order_value: DS.ratio(g.revenue || 0, g.orders || 0) };
    });
    var revenue = list.map(function (r) { return r.revenue; });
    var series = [{ name: "Revenue", colour: "#2563eb", values: revenue, format: fmt.money }];
    var fitted = DS.trend(revenue);
    if (fitted) {
      series.push({ name: "Trend (least squares over the " + periods.length + " shown)",
        colour: "#b45309", dashed: true, values: fitted });
    }
    var year = DS.yearBeforeSpan();
    if (year) {
      var before = byPeriod("activity", year, ["revenue"]);
      list.forEach(function (r, i) { r.revenue_year_before = before[i].revenue || 0; });
      series.push({ name: "A year before", colour: "#52606d", faint: true,
        values: before.map(function (g) { return g.revenue || 0; }) });
    }
    var columns = [{ key: "period", label: "Period" }, ORDERS, REVENUE, AOV];
    if (year) { columns.push({ key: "revenue_year_before", label: "Revenue a year before", fmt: fmt.money }); }
    DS.panel("revenue", {
      cubes: ["activity"], rows: list, columns: columns,
      chart: function (width) {
        return Charts.line(width, periods, series, { format: fmt.moneyShort,
          label: "Revenue per " + (periods[0] && periods[0].month ? "month" : "quarter"),
          pickPeriods: true });
      }
    });
  }

  function newAndReturning() {
    var periods = DS.periods(), active = {}, firstMonth = {};
    periods.forEach(function (p) { firstMonth[p.key] = p.months[0]; });
    DS.rows("active").forEach(function (r) {
      var key = DS.periodOf(r.order_month), kind = r.previous_order_month == null ? "new" :
        "returning";
      // a customer counts once per period: in its first month within the period
      if (r.previous_order_month == null || r.previous_order_month < firstMonth[key]) {
        active[key] = active[key] || {};
        active[key][kind] = (active[key][kind] || 0) + r.customers;
      }
    });
    var list = periods.map(function (p) {
      var a = active[p.key] || {};
      return { period: p.label, new_customers: a["new"] || 0,
        returning_customers: a.returning || 0,
        active_customers: (a["new"] || 0) + (a.returning || 0) };
    });
    DS.panel("active", {
      cubes: ["active"], rows: list,
      columns: [{ key: "period", label: "Period" }, ACTIVE, NEW,
        { key: "returning_customers", label: "Returning customers", fmt: fmt.count }],
      chart: function (width) {
        return Charts.bars(width, periods, [
          { name: "New (first order ever)", colour: "#2563eb", values: list.map(function (r) {
            return r.new_customers; }) },
          { name: "Returning", colour: "#059669", values: list.map(function (r) {
            return r.returning_customers; }) }], { format: fmt.count,
          label: "New and returning customers per period", pickPeriods: true });
      }
    });
  }

  function segments() {
    var groups = DS.groupSum(DS.rows("activity"), "segment", ["orders", "revenue"]);
    var active = {};
    DS.groupSum(activeRows(), "segment", ["customers"]).forEach(function (g) {
      active[g.key] = g.customers;
    });
    var list = SEGMENTS.map(function (s) {
      var g = groups.filter(function (x) { return x.key === s; })[0];
      return g ? { segment: s, active_customers: active[s] || 0, orders: g.orders,
        revenue: g.revenue, average_order_value: DS.ratio(g.revenue, g.orders) } : null;
    }).filter(Boolean);
    var notes = [];
    var missing = SEGMENTS.filter(function (s) {
      return !list.some(function (r) { return r.segment === s; }) &&
        (!DS.chosen("segment") || DS.chosen("segment").has(s));
    });
    if (missing.length) {
      notes.push("No " + missing.join(" or ") + " customers ordered in these months: the " +
        "segment is each customer's as of the run date, so new customers have no orders " +
        "before their first and at-risk ones none in the last 6 months.");
    }
    DS.panel("segments", {
      cubes: ["active", "activity"], rows: list, notes: notes,
      columns: [{ key: "segment", label: "Segment" }, ACTIVE, ORDERS, REVENUE, AOV],
      chart: function (width) {
        var half = width >= 520 ? Math.floor(width / 2) - 8 : width;
        var maxC = Math.max.apply(null, list.map(function (r) { return r.active_customers; }));
        var maxR = Math.max.apply(null, list.map(function (r) { return r.revenue; }));
        function item(r, value, shown, tip) {
          return { label: r.segment, value: value, shown: shown, tip: tip,
            colour: SEGMENT_COLOURS[r.segment], highlight: DS.isPicked("segment", r.segment),
            pick: { filter: "segment", value: r.segment } };
        }
        return '<div class="pair"><div><h3>Active customers</h3>' + Charts.hbars(half,
          list.map(function (r) {
            return item(r, r.active_customers, fmt.count(r.active_customers), r.segment + ": " +
              fmt.count(r.active_customers) + " customers ordered in these months");
          }), maxC, "Active customers per segment") + "</div><div><h3>Revenue</h3>" +
          Charts.hbars(half, list.map(function (r) {
            return item(r, r.revenue, fmt.moneyShort(r.revenue), r.segment + ": " +
              fmt.money(r.revenue));
          }), maxR, "Revenue per segment") + "</div></div>";
      }
    });
  }

  // Cohort cells: month 0 is always the whole cohort, so sizes come from it.
  function cohortCells(list) {
    var sizes = {}, cells = {};
    list.forEach(function (r) {
      var k = r.months_since_first_order;
      if (k === 0) { sizes[r.cohort_month] = (sizes[r.cohort_month] || 0) + r.active_customers; }
      cells[r.cohort_month + "|" + k] = (cells[r.cohort_month + "|" + k] || 0) + r.active_customers;
    });
    return { sizes: sizes, cells: cells };
  }

  function cohorts() {
    var data = cohortCells(DS.rows("cohorts")), lastIndex = DS.months.length - 1;
    var firstOfData = DS.months[0];
    var starts = Object.keys(data.sizes).sort(), list = [];
    var width = starts.length ? lastIndex - DS.months.indexOf(starts[0]) + 1 : 0;
    starts.forEach(function (c) {
      for (var k = 0; k <= lastIndex - DS.months.indexOf(c); k++) {
        var active = data.cells[c + "|" + k] || 0;
        list.push({ cohort_month: c, months_since_first_order: k, cohort_size: data.sizes[c],
          active_customers: active, retention_rate: active / data.sizes[c] });
      }
    });
    // The first month of data holds every customer who ordered before it too (their
    // first order is not in the data): it is marked and left out of the colour classes.
    var censored = starts[0] === firstOfData;
    var scale = Charts.quantiles(list.filter(function (r) {
      return r.months_since_first_order > 0 && r.cohort_month !== firstOfData;
    }).map(function (r) { return r.retention_rate; }), Charts.BLUES, fmt.percentShort, "cells");
    var notes = ["The date range picks cohorts by the month of their first order."];
    if (censored) {
      notes.push(fmt.month(firstOfData) + "* is the first month of data: it also holds " +
        "customers who first ordered before it, so its retention is not comparable and it " +
        "is left out of the colour classes.");
    }
    DS.panel("cohorts", {
      cubes: ["cohorts"], rows: list, notes: notes,
      columns: [{ key: "cohort_month", label: "Cohort", fmt: fmt.month },
        { key: "months_since_first_order", label: "Months since first order" },
        { key: "cohort_size", label: "Cohort size", fmt: fmt.count },
        { key: "active_customers", label: "Active customers", fmt: fmt.count },
        { key: "retention_rate", label: "Retention", fmt: fmt.percent }],
      chart: function () {
        var head = "";
        for (var k = 1; k < width; k++) { head += '<th scope="col">' + k + "</th>"; }
        var cells = {};
        list.forEach(function (r) { cells[r.cohort_month + "|" + r.months_since_first_order] = r; });
        var body = starts.map(function (c) {
          var row = "", mark = c === firstOfData ? "*" : "";
          for (var k = 1; k < width; k++) {
            var cell = cells[c + "|" + k];
            if (!cell) { row += '<td class="na"></td>'; continue; }
            var fill = scale.colourOf(cell.retention_rate);
            row += '<td tabindex="0" style="background:' + fill + ";color:" +
              Charts.inkOn(fill) + '" data-bg="' + fill + '"' +
              Charts.pickAttributes({ filter: "months", value: c }) + ' data-tip="' +
              DS.esc(fmt.month(c) + mark + " cohort, month " + k + ": " +
              fmt.count(cell.active_customers) + " of " + fmt.count(cell.cohort_size) +
              " ordered (" + fmt.percent(cell.retention_rate) + ")") + '">' +
              Math.round(cell.retention_rate * 100) + "%</td>";
          }
          return '<tr><th scope="row">' + fmt.month(c) + mark + '</th><td class="size">' +
            fmt.count(data.sizes[c]) + "</td>" + row + "</tr>";
        }).join("");
        return '<div class="scroll"><table class="heatmap" data-roving><thead><tr><th ' +
          'rowspan="2" scope="col">Cohort</th><th rowspan="2" scope="col">Customers</th><th ' +
          'colspan="' + Math.max(1, width - 1) + '" scope="colgroup">Months since first order ' +
          "(share ordering again)</th></tr><tr>" + head + "</tr></thead><tbody>" + body +
          '</tbody></table></div><p class="legend-note">' + scale.legend + "</p>";
      }
    });
  }

  DS.start(function () {
    cards(); monthly(); stateMap(); newAndReturning(); segments(); cohorts();
  });
}());
