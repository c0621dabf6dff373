// Order Fulfillment & Logistics: sums of kpi_shipment_activity rows. Rates and averages are
// ratios of sums (docs/data-contracts.md): delivered share = Σ delivered / Σ finished,
// on time = Σ on_time_delivered / Σ delivered, delivery days = Σ total_delivery_days /
// Σ delivered.
/* global DS, Charts */
(function () {
  "use strict";
  var fmt = DS.fmt, extra = DS.config.extra, window_ = extra.onTimeWindow;
  var MEASURES = ["shipments", "finished", "delivered", "total_delivery_days",
    "on_time_delivered"];
  var OPEN = ["Pending", "Shipped", "In Transit"];
  var TARGET = 0.9;
  var RATE_COLUMNS = [{ key: "shipments", label: "Shipments", fmt: fmt.count },
    { key: "finished", label: "Finished", fmt: fmt.count },
    { key: "delivered", label: "Delivered", fmt: fmt.count },
    { key: "success_rate", label: "Delivered of finished", fmt: fmt.percent },
    { key: "avg_delivery_days", label: "Average delivery", fmt: fmt.days },
    { key: "on_time_rate", label: "On time (" + window_ + ")", fmt: fmt.percent }];
  var carrierFilter = DS.config.filters.filter(function (f) { return f.id === "carrier"; })[0];
  var colours = {};
  Object.keys(carrierFilter ? carrierFilter.names : {}).forEach(function (c, i) {
    colours[c] = Charts.CATEGORICAL[i % Charts.CATEGORICAL.length];
  });

  function rates(g) {
    return { shipments: g.shipments, finished: g.finished, delivered: g.delivered,
      in_transit: g.shipments - g.finished,
      success_rate: DS.ratio(g.delivered, g.finished),
      avg_delivery_days: DS.ratio(g.total_delivery_days, g.delivered),
      on_time_delivered: g.on_time_delivered,
      on_time_rate: DS.ratio(g.on_time_delivered, g.delivered) };
  }

  function total(list) {
    var g = {};
    MEASURES.forEach(function (m) { g[m] = DS.sum(list, m); });
    return rates(g);
  }

  // Best first: delivered share, then on-time rate, then name (kpi_carrier_performance's
  // rule); carriers without a finished shipment last.
  function carrierRows(list) {
    var rank = function (v) { return v == null ? -1 : v; };
    return DS.groupSum(list, "carrier", MEASURES).map(function (g) {
      var r = rates(g);
      r.carrier = g.key;
      return r;
    }).sort(function (a, b) {
      return rank(b.success_rate) - rank(a.success_rate) ||
        rank(b.on_time_rate) - rank(a.on_time_rate) || (a.carrier < b.carrier ? -1 : 1);
    });
  }

  // The best carrier and how it was chosen, or why there is none.
  function best(carriers) {
    var top = carriers[0];
    if (!top || top.success_rate == null) {
      return { carrier: null, shown: "not defined", note: carriers.length ?
        "none of these shipments is finished, so no carrier has a delivered share" :
        "no shipments match these filters" };
    }
    if (carriers.length === 1) {
      return { carrier: top.carrier, shown: top.carrier, note: "the only carrier shown: " +
        fmt.percent(top.success_rate) + " delivered" };
    }
    var next = carriers[1], note = fmt.percent(top.success_rate) + " of " +
      fmt.count(top.finished) + " finished shipments delivered";
    if (next.success_rate === top.success_rate) {
      note = "tied with " + next.carrier + " at " + fmt.percent(top.success_rate) +
        " delivered; " + (next.on_time_rate === top.on_time_rate ?
          "and on time, so first by name" : "ahead on time (" + fmt.percent(top.on_time_rate) +
          " vs " + fmt.percent(next.on_time_rate) + ")");
    }
    return { carrier: top.carrier, shown: top.carrier, note: note };
  }

  function cards(carriers) {
    var now = total(DS.rows("shipments")), prevSpan = DS.previousSpan();
    var yearSpan = DS.yearBeforeSpan();
    var before = prevSpan ? total(DS.rows("shipments", prevSpan)) : null;
    var year = yearSpan ? total(DS.rows("shipments", yearSpan)) : null;
    function spec(key, compare, format, better, extraSpec) {
      var out = { delta: before ? compare(now[key], before[key]) : null,
        yoy: year ? compare(now[key], year[key]) : null, deltaFormat: format, better: better };
      if (out.delta == null) { out.noDelta = DS.noDeltaReason(); }
      return Object.assign(out, extraSpec);
    }
    DS.card("shipments", spec("shipments", DS.change, fmt.signedPercent, "up",
      { value: now.shipments, shown: fmt.count(now.shipments) }));
    DS.card("success_rate", spec("success_rate", DS.difference, fmt.points, "up",
      { value: now.success_rate, shown: fmt.percent(now.success_rate),
        exact: fmt.count(now.delivered) + " of " + fmt.count(now.finished) +
          " finished shipments delivered" }));
    DS.card("on_time_rate", spec("on_time_rate", DS.difference, fmt.points, "up",
      { value: now.on_time_rate, shown: fmt.percent(now.on_time_rate),
        exact: fmt.count(now.on_time_delivered) + " of " + fmt.count(now.delivered) +
          " deliveries within " + window_ }));
    DS.card("average_delivery_days", spec("avg_delivery_days", DS.difference, fmt.signedDays,
      "down", { value: now.avg_delivery_days, shown: fmt.days(now.avg_delivery_days) }));
    DS.card("in_transit", { value: now.in_transit, shown: fmt.count(now.in_transit),
      note: fmt.percent(DS.ratio(now.in_transit, now.shipments)) + " of these shipments: " +
        "pending, shipped or in transit today" });
    var b = best(carriers);
    DS.card("best_carrier", { value: b.carrier, shown: b.shown, note: b.note });
  }

  function mapPanel() {
    var list = DS.groupSum(DS.rows("shipments"), "state_code", MEASURES).map(function (g) {
      var r = rates(g);
      r.state = g.key === "null" ? null : g.key;
      r.state_name = r.state ? extra.stateNames[r.state] || r.state : null;
      return r;
    }).sort(function (a, b) { return b.shipments - a.shipments; });
    var all = total(DS.rows("shipments")), notes = [];
    var chosenMetric = DS.option("metric"), metric = chosenMetric;
    var select = document.getElementById("map-metric");
    if (metric === "days" && !all.delivered && list.length) {
      metric = "shipments";
      notes.push("None of these shipments was delivered, so delivery time is not defined: " +
        "the map shows shipments.");
    }
    if (select) {
      select.value = metric;
      select.querySelector('option[value="days"]').disabled = !all.delivered;
    }
    var offMap = list.filter(function (r) { return !(r.state in extra.grid); });
    if (offMap.length) {
      notes.push(fmt.count(DS.sum(offMap, "shipments")) + " shipments without a US state are " +
        "not on the map.");
    }
    var values = {};
    list.forEach(function (r) {
      var v = metric === "days" ? r.avg_delivery_days : r.shipments;
      if (r.state in extra.grid && v != null) { values[r.state] = v; }
    });
    var shown = Object.keys(values).map(function (k) { return values[k]; });
    DS.panel("map", {
      cubes: ["shipments"], rows: list, notes: notes,
      columns: [{ key: "state", label: "State", fmt: function (v) { return v || "no state"; } },
        { key: "state_name", label: "Name" }].concat(RATE_COLUMNS),
      chart: function (width) {
        return Charts.tileMap(width, values, metric === "days" ?
          { scale: Charts.diverging(shown, all.avg_delivery_days, fmt.daysShort, "shipments",
            "faster", "slower"), format: fmt.days, short: fmt.daysShort,
            label: "Average delivery days by US state", pick: "state",
            chosen: DS.chosen("state") } :
          { scale: Charts.quantiles(shown, Charts.BLUES, fmt.count, "states"),
            format: function (v) { return fmt.count(v) + " shipments"; }, short: fmt.count,
            label: "Shipments by US state", pick: "state", chosen: DS.chosen("state") });
      }
    });
  }

  function carrierPanel(list) {
    DS.panel("carriers", {
      cubes: ["shipments"], rows: list,
      columns: [{ key: "carrier", label: "Carrier" }].concat(RATE_COLUMNS),
      chart: function (width) {
        var third = width >= 640 ? Math.floor(width / 3) - 11 : width;
        function chart(title, key, max, shown, tip) {
          var items = list.filter(function (c) { return c[key] != null; }).map(function (c) {
            return { label: c.carrier, value: c[key], shown: shown(c[key]), tip: tip(c),
              colour: colours[c.carrier], highlight: DS.isPicked("carrier", c.carrier),
              pick: { filter: "carrier", value: c.carrier } };
          });
          return "<div><h3>" + DS.esc(title) + "</h3>" + (items.length ? Charts.hbars(third,
            items, max, title) : '<p class="panel-note">Not defined for these shipments.</p>') +
            "</div>";
        }
        var days = Math.max.apply(null, list.map(function (c) {
          return c.avg_delivery_days || 0; }).concat([1]));
        return '<div class="triple">' +
          chart("Delivered of finished", "success_rate", 1, fmt.percent, function (c) {
            return c.carrier + ": " + fmt.count(c.delivered) + " of " + fmt.count(c.finished) +
              " finished shipments delivered (" + fmt.percent(c.success_rate) + ")"; }) +
          chart("On time (" + window_ + ")", "on_time_rate", 1, fmt.percent, function (c) {
            return c.carrier + ": " + fmt.count(c.on_time_delivered) + " of " +
              fmt.count(c.delivered) + " deliveries within " + window_ + " (" +
              fmt.percent(c.on_time_rate) + ")"; }) +
          chart("Average delivery days", "avg_delivery_days", days, fmt.days, function (c) {
            return c.carrier + ": " + fmt.days(c.avg_delivery_days) + " on average over " +
              fmt.count(c.delivered) + " deliveries"; }) + "</div>";
      }
    });
  }

  // One line per carrier over the periods shown, of a rate computed from summed measures.
  function carrierTrend(id, key, spec) {
    var periods = DS.periods(), sums = {};
    DS.rows("shipments").forEach(function (row) {
      var k = row.carrier + "|" + DS.periodOf(row.shipment_month);
      sums[k] = sums[k] || {};
      MEASURES.forEach(function (m) { sums[k][m] = (sums[k][m] || 0) + (Number(row[m]) || 0); });
    });
    var carriers = Object.keys(colours).filter(function (c) {
      return periods.some(function (p) { return (c + "|" + p.key) in sums; });
    });
    var list = [];
    var series = carriers.map(function (c) {
      var values = periods.map(function (p) {
        var g = sums[c + "|" + p.key], r = g ? rates(g) : null;
        if (r) {
          list.push({ carrier: c, period: p.label, delivered: r.delivered, value: r[key] });
        }
        return r ? r[key] : null;
      });
      return { name: c, colour: colours[c], values: values, format: spec.format,
        pick: { filter: "carrier", value: c, active: DS.isPicked("carrier", c) } };
    });
    DS.panel(id, {
      cubes: ["shipments"], rows: list,
      columns: [{ key: "carrier", label: "Carrier" }, { key: "period", label: "Period" },
        { key: "delivered", label: "Delivered", fmt: fmt.count },
        { key: "value", label: spec.column, fmt: spec.format }],
      chart: function (width) {
        return Charts.line(width, periods, series, { format: spec.axis, label: spec.label,
          max: spec.max, target: spec.target, categorical: true, pickPeriods: true });
      }
    });
  }

  function statusPanel() {
    var list = DS.groupSum(DS.rows("shipments"), "shipment_status", ["shipments"]).map(function (g) {
      return { shipment_status: g.key, under_way: OPEN.indexOf(g.key) >= 0 ? "yes" : "no",
        shipments: g.shipments };
    }).sort(function (a, b) { return b.shipments - a.shipments; });
    var all = DS.sum(list, "shipments");
    list.forEach(function (r) { r.share = DS.ratio(r.shipments, all); });
    DS.panel("statuses", {
      cubes: ["shipments"], rows: list,
      columns: [{ key: "shipment_status", label: "Status" },
        { key: "under_way", label: "Still under way" },
        { key: "shipments", label: "Shipments", fmt: fmt.count },
        { key: "share", label: "Share", fmt: fmt.percent }],
      chart: function (width) {
        return Charts.hbars(width, list.map(function (r) {
          return { label: r.shipment_status, value: r.shipments, shown: fmt.count(r.shipments),
            colour: r.under_way === "yes" ? "#b45309" : "#0f766e",
            highlight: DS.isPicked("status", r.shipment_status),
            pick: { filter: "status", value: r.shipment_status },
            tip: r.shipment_status + ": " + fmt.count(r.shipments) + " (" + fmt.percent(r.share) +
              ")" + (r.under_way === "yes" ? ", still under way" : "") };
        }), Math.max.apply(null, list.map(function (r) { return r.shipments; })),
        "Shipments by status") + Charts.legend([{ name: "finished", colour: "#0f766e" },
          { name: "still under way", colour: "#b45309" }]);
      }
    });
  }

  function volumePanel() {
    var periods = DS.periods(), by = {};
    DS.rows("shipments").forEach(function (row) {
      var k = DS.periodOf(row.shipment_month);
      by[k] = by[k] || { shipments: 0, finished: 0 };
      by[k].shipments += row.shipments;
      by[k].finished += row.finished;
    });
    var list = periods.map(function (p) {
      var g = by[p.key] || { shipments: 0, finished: 0 };
      return { period: p.label, shipments: g.shipments, finished: g.finished,
        under_way: g.shipments - g.finished };
    });
    DS.panel("volume", {
      cubes: ["shipments"], rows: list,
      columns: [{ key: "period", label: "Period" },
        { key: "shipments", label: "Shipments", fmt: fmt.count },
        { key: "finished", label: "Finished", fmt: fmt.count },
        { key: "under_way", label: "Still under way", fmt: fmt.count }],
      chart: function (width) {
        return Charts.bars(width, periods, [
          { name: "Finished", colour: "#0f766e", values: list.map(function (r) { return r.finished; }) },
          { name: "Still under way", colour: "#b45309", values: list.map(function (r) {
            return r.under_way; }) }], { format: fmt.count, label: "Shipments per period",
          pickPeriods: true });
      }
    });
  }

  DS.start(function () {
    var carriers = carrierRows(DS.rows("shipments"));
    cards(carriers);
    carrierPanel(carriers);
    mapPanel();
    carrierTrend("ontime", "on_time_rate", { format: fmt.percent, axis: fmt.percentShort,
      column: "On-time rate", label: "On-time rate by carrier", max: 1,
      target: { value: TARGET, label: "90% target" } });
    carrierTrend("days", "avg_delivery_days", { format: fmt.days, axis: fmt.daysShort,
      column: "Average delivery", label: "Average delivery days by carrier" });
    statusPanel();
    volumePanel();
  });
}());
