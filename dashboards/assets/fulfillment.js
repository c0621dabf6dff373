// Order Fulfillment & Logistics: sums of kpi_shipment_activity rows. Averages and rates are
// ratios of sums (Σ total_delivery_days / Σ delivered, Σ delivered / Σ shipments).
/* global DS, Charts */
(function () {
  "use strict";
  var fmt = DS.fmt, extra = DS.config.extra;
  var MEASURES = ["shipments", "delivered", "total_delivery_days", "on_time_delivered"];
  var ALL = { from: 0, to: DS.months.length - 1 };
  var RATE_COLUMNS = [{ key: "shipments", label: "Shipments", fmt: fmt.count },
    { key: "delivered", label: "Delivered", fmt: fmt.count },
    { key: "success_rate", label: "Success rate", fmt: fmt.percent },
    { key: "avg_delivery_days", label: "Average delivery", fmt: fmt.days },
    { key: "on_time_rate", label: "On time", fmt: fmt.percent }];

  function rates(g) {
    return { shipments: g.shipments, delivered: g.delivered,
      success_rate: DS.ratio(g.delivered, g.shipments),
      avg_delivery_days: DS.ratio(g.total_delivery_days, g.delivered),
      on_time_delivered: g.on_time_delivered,
      on_time_rate: DS.ratio(g.on_time_delivered, g.delivered) };
  }

  // Best first: success rate, then on-time rate, then name (kpi_carrier_performance's rule).
  function carrierRows(list) {
    return DS.groupSum(list, "carrier", MEASURES).map(function (g) {
      var r = rates(g);
      r.carrier = g.key;
      return r;
    }).sort(function (a, b) {
      return (b.success_rate || 0) - (a.success_rate || 0) ||
        (b.on_time_rate == null ? -1 : b.on_time_rate) - (a.on_time_rate == null ? -1 : a.on_time_rate) ||
        (a.carrier < b.carrier ? -1 : 1);
    });
  }

  function total(list) {
    var g = { };
    MEASURES.forEach(function (m) { g[m] = DS.sum(list, m); });
    return rates(g);
  }

  function cards(carriers) {
    var now = total(DS.rows("shipments")), span = DS.previousSpan();
    var before = span ? total(DS.rows("shipments", span)) : {};
    var delta = function (key) { return span ? DS.change(now[key], before[key]) : null; };
    var best = carriers[0];
    DS.card("best_carrier", { value: best ? best.carrier : null, shown: best ? best.carrier : "–",
      note: "highest share of shipments delivered" });
    DS.card("best_carrier_success_rate", { value: best ? best.success_rate : null,
      shown: fmt.percent(best ? best.success_rate : null),
      note: best ? fmt.count(best.delivered) + " of " + fmt.count(best.shipments) + " delivered" : "" });
    DS.card("shipments", { value: now.shipments, shown: fmt.count(now.shipments),
      delta: delta("shipments"), note: "old store only" });
    DS.card("success_rate", { value: now.success_rate, shown: fmt.percent(now.success_rate),
      delta: delta("success_rate"), note: "delivered ÷ shipments" });
    DS.card("average_delivery_days", { value: now.avg_delivery_days,
      shown: fmt.days(now.avg_delivery_days), delta: delta("avg_delivery_days"),
      note: "shipping to delivery, delivered only" });
    DS.card("on_time_rate", { value: now.on_time_rate, shown: fmt.percent(now.on_time_rate),
      delta: delta("on_time_rate"), note: "delivered within the on-time window" });
  }

  // Fixed colour domains from all shipments: a filter never re-stretches the map.
  var byStateAll = DS.groupSum(DS.rows("shipments", ALL, ["store", "carrier", "status"]),
    "state_code", MEASURES).filter(function (g) { return g.key in extra.grid; });
  var maxima = {
    days: Math.max.apply(null, byStateAll.map(function (g) {
      return DS.ratio(g.total_delivery_days, g.delivered) || 0; }).concat([1])),
    shipments: Math.max.apply(null, byStateAll.map(function (g) { return g.shipments; }).concat([1]))
  };
  var metricSelect = document.getElementById("map-metric");

  function mapPanel() {
    var groups = DS.groupSum(DS.rows("shipments"), "state_code", MEASURES);
    var list = groups.map(function (g) {
      var r = rates(g);
      r.state = g.key === "null" ? null : g.key;
      return r;
    }).sort(function (a, b) { return b.shipments - a.shipments; });
    var delivered = DS.sum(list, "delivered"), notes = [];
    var metric = metricSelect ? metricSelect.value : "days";
    if (metric === "days" && !delivered && list.length) {
      metric = "shipments";
      notes.push("None of these shipments was delivered, so delivery time is not defined: the " +
        "map shows shipments instead.");
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
    DS.panel("map", {
      cubes: ["shipments"], rows: list, notes: notes,
      columns: [{ key: "state", label: "State", fmt: function (v) { return v || "no state"; } }]
        .concat(RATE_COLUMNS),
      chart: function (width) {
        return Charts.tileMap(width, values, metric === "days" ?
          { colours: Charts.ORANGES, max: Math.ceil(maxima.days), format: fmt.days,
            short: function (v) { return v.toFixed(1) + " d"; },
            label: "Average delivery days by US state" } :
          { colours: Charts.BLUES, max: maxima.shipments,
            format: function (v) { return fmt.count(v) + " shipments"; }, short: fmt.count,
            label: "Shipments by US state" });
      }
    });
  }

  function carrierPanel(list) {
    DS.panel("carriers", {
      cubes: ["shipments"], rows: list,
      columns: [{ key: "carrier", label: "Carrier" }].concat(RATE_COLUMNS),
      chart: function (width) {
        return Charts.hbars(width, list.map(function (c, i) {
          return { label: c.carrier, value: c.success_rate || 0, shown: fmt.percent(c.success_rate),
            highlight: i === 0, tip: c.carrier + ": " + fmt.count(c.delivered) + " of " +
              fmt.count(c.shipments) + " delivered (" + fmt.percent(c.success_rate) + ")" };
        }), 1, "Delivery success rate per carrier");
      }
    });
  }

  function statusPanel() {
    var list = DS.groupSum(DS.rows("shipments"), "shipment_status", ["shipments"]).map(function (g) {
      return { shipment_status: g.key, shipments: g.shipments };
    }).sort(function (a, b) { return b.shipments - a.shipments; });
    var all = DS.sum(list, "shipments");
    list.forEach(function (r) { r.share = DS.ratio(r.shipments, all); });
    DS.panel("statuses", {
      cubes: ["shipments"], rows: list,
      columns: [{ key: "shipment_status", label: "Status" },
        { key: "shipments", label: "Shipments", fmt: fmt.count },
        { key: "share", label: "Share", fmt: fmt.percent }],
      chart: function (width) {
        return Charts.hbars(width, list.map(function (r) {
          return { label: r.shipment_status, value: r.shipments, shown: fmt.count(r.shipments),
            tip: r.shipment_status + ": " + fmt.count(r.shipments) + " (" + fmt.percent(r.share) + ")" };
        }), Math.max.apply(null, list.map(function (r) { return r.shipments; })),
        "Shipments by status", "#0f766e");
      }
    });
  }

  if (metricSelect) { metricSelect.addEventListener("change", mapPanel); }

  DS.start(function () {
    var carriers = carrierRows(DS.rows("shipments"));
    cards(carriers);
    mapPanel();
    carrierPanel(carriers);
    statusPanel();
  });
}());
