// Product & Pricing Optimization: sums of kpi_category_sales, kpi_payment_activity,
// kpi_customer_activity (orders), kpi_category_ratings and kpi_product_performance rows.
/* global DS, Charts */
(function () {
  "use strict";
  var fmt = DS.fmt, extra = DS.config.extra;
  var STATUS = { Completed: "#15803d", Pending: "#b45309", Failed: "#b91c1c" };
  var colours = {};
  extra.categories.forEach(function (c, i) {
    colours[c] = Charts.CATEGORICAL[i % Charts.CATEGORICAL.length];
  });
  var label = function (c) { return extra.categoryLabels[c] || c; };
  // Above this many points the scatter draws one path per colour (see Charts.scatter).
  var DENSE = 300;

  var isQuarters = DS.isQuarters;

  // Sums per period over the range and the period just before it, so the first period
  // shown has a base to compare with. A quarter only partly in range has no growth.
  function periodSums(cube, columns) {
    var span = DS.range(), back = isQuarters() ? 3 : 1;
    var wider = { from: Math.max(0, span.from - back), to: span.to };
    var periods = DS.periods(wider), sums = {};
    DS.rows(cube, wider).forEach(function (row) {
      var key = DS.periodOf(row.order_month);
      sums[key] = sums[key] || {};
      columns.forEach(function (c) { sums[key][c] = (sums[key][c] || 0) + (Number(row[c]) || 0); });
    });
    var shown = DS.periods();
    return shown.map(function (p) {
      var i = periods.map(function (q) { return q.key; }).indexOf(p.key);
      var before = i > 0 ? periods[i - 1] : null;
      var complete = function (q) { return !isQuarters() || q.months.length === 3; };
      return { period: p, sums: sums[p.key] || {}, before: before && complete(before) &&
        complete(p) ? sums[before.key] || null : null };
    });
  }

  function growthRows() {
    var sales = periodSums("sales", ["revenue"]), orders = periodSums("orders",
      ["orders", "revenue"]);
    return sales.map(function (s, i) {
      var o = orders[i], aov = DS.ratio(o.sums.revenue || 0, o.sums.orders || 0);
      var previousAov = o.before ? DS.ratio(o.before.revenue || 0, o.before.orders || 0) : null;
      return { period: s.period.label, month: s.period.months[0], revenue: s.sums.revenue || 0,
        revenue_growth: s.before && s.before.revenue ? DS.change(s.sums.revenue || 0,
          s.before.revenue) : null,
        orders: o.sums.orders || 0, average_order_value: aov,
        aov_growth: aov != null && previousAov ? DS.change(aov, previousAov) : null };
    });
  }

  function statusRows(span) {
    var groups = DS.groupSum(DS.rows("payments", span), "transaction_status",
      ["payments", "amount"]);
    var total = DS.sum(groups, "amount");
    return Object.keys(STATUS).map(function (s) {
      var g = groups.filter(function (x) { return x.key === s; })[0];
      return g ? { transaction_status: s, payments: g.payments, amount: g.amount,
        amount_share: DS.ratio(g.amount, total) } : null;
    }).filter(Boolean);
  }
  function atRiskAmount(list) {
    return DS.sum(list.filter(function (s) { return s.transaction_status !== "Completed"; }),
      "amount");
  }
  function atRiskShare(list) { return DS.ratio(atRiskAmount(list), DS.sum(list, "amount")); }

  // The last month of the range against the month before it, whatever the grain.
  function lastMonthGrowth() {
    var to = DS.range().to;
    if (to < 1) { return {}; }
    var one = function (i) { return { from: i, to: i }; };
    var revenue = function (i) { return DS.sum(DS.rows("sales", one(i)), "revenue"); };
    var aov = function (i) {
      var list = DS.rows("orders", one(i));
      return DS.ratio(DS.sum(list, "revenue"), DS.sum(list, "orders"));
    };
    var before = revenue(to - 1), aovBefore = aov(to - 1);
    return { month: DS.months[to], revenue: before ? DS.change(revenue(to), before) : null,
      aov: aovBefore ? DS.change(aov(to), aovBefore) : null };
  }

  function cards(status) {
    var revenue = DS.sum(DS.rows("sales"), "revenue");
    var prev = DS.previousSpan(), year = DS.yearBeforeSpan();
    var delta = prev ? DS.change(revenue, DS.sum(DS.rows("sales", prev), "revenue")) : null;
    DS.card("revenue", { value: revenue, shown: fmt.moneyShort(revenue), exact: fmt.money(revenue),
      delta: delta, noDelta: delta == null ? DS.noDeltaReason() : "",
      yoy: year ? DS.change(revenue, DS.sum(DS.rows("sales", year), "revenue")) : null });
    var last = lastMonthGrowth(), month = fmt.month(last.month);
    DS.card("revenue_mom_growth", { value: last.revenue,
      shown: fmt.signedPercent(last.revenue), note: month + " vs the month before" });
    DS.card("aov_mom_growth", { value: last.aov, shown: fmt.signedPercent(last.aov),
      note: month + " vs the month before; " + (DS.chosen("category") ?
        "all categories (an order spans categories)" : "revenue ÷ orders") });
    var share = atRiskShare(status), before = prev ? atRiskShare(statusRows(prev)) : null;
    var shareDelta = DS.difference(share, before);
    DS.card("at_risk_amount_share", { value: share, shown: fmt.percent(share),
      exact: fmt.money(atRiskAmount(status)) + " failed or pending",
      note: "share of payment amount; old store only" +
        (DS.chosen("category") ? "; all categories" : ""),
      delta: shareDelta, deltaFormat: fmt.points, better: "down",
      noDelta: shareDelta == null ? DS.noDeltaReason() : "",
      yoy: year ? DS.difference(share, atRiskShare(statusRows(year))) : null });
    var ratings = DS.rows("ratings"), low = DS.sum(ratings, "low_rated_products");
    DS.card("low_rating_products", { value: low, shown: fmt.count(low),
      note: "of " + fmt.count(DS.sum(ratings, "rated_products")) + " rated products (" +
        fmt.count(DS.sum(ratings, "products")) + " in all); all months" });
  }

  function trendPanel() {
    var periods = DS.periods(), by = {};
    DS.rows("sales").forEach(function (row) {
      var key = row.category + "|" + DS.periodOf(row.order_month);
      by[key] = (by[key] || 0) + Number(row.revenue);
    });
    var shown = extra.categories.filter(function (c) {
      return periods.some(function (p) { return (c + "|" + p.key) in by; });
    });
    var list = [];
    shown.forEach(function (c) {
      periods.forEach(function (p) {
        list.push({ category: c, period: p.label, revenue: by[c + "|" + p.key] || 0 });
      });
    });
    DS.panel("trend", {
      cubes: ["sales"], rows: list,
      columns: [{ key: "category", label: "Category", fmt: label },
        { key: "period", label: "Period" }, { key: "revenue", label: "Revenue", fmt: fmt.money }],
      chart: function (width) {
        return Charts.line(width, periods, shown.map(function (c) {
          return { name: label(c), colour: colours[c], format: fmt.money,
            pick: { filter: "category", value: c, active: DS.isPicked("category", c) },
            values: periods.map(function (p) { return by[c + "|" + p.key] || 0; }) };
        }), { format: fmt.moneyShort, label: "Revenue by category per " +
          (isQuarters() ? "quarter" : "month"), pickPeriods: true, height: 240,
          categorical: true });
      }
    });
  }

  function growthPanel(list) {
    var periods = DS.periods();
    var aovHeading = "Average order value, " + (isQuarters() ? "quarter over quarter" :
      "month over month") + (DS.chosen("category") ? " — all categories (an order spans " +
      "categories, so this chart ignores the Category filter)" : "");
    DS.panel("growth", {
      cubes: ["sales"], rows: list,
      columns: [{ key: "period", label: "Period" },
        { key: "revenue", label: "Revenue", fmt: fmt.money },
        { key: "revenue_growth", label: "Revenue growth", fmt: fmt.signedPercent },
        { key: "orders", label: "Orders (all categories)", fmt: fmt.count },
        { key: "average_order_value", label: "Average order value (all categories)",
          fmt: fmt.money },
        { key: "aov_growth", label: "Order value growth", fmt: fmt.signedPercent }],
      chart: function (width) {
        return "<h3>Revenue, with the change against the " + (isQuarters() ? "quarter" :
          "month") + " before</h3>" + Charts.bars(width, periods, [{ name: "Revenue",
          colour: "#93b4f5", values: list.map(function (r) { return r.revenue; }),
          format: fmt.money }], { format: fmt.moneyShort, label: "Revenue per period",
          pickPeriods: true, height: 170, labels: list.map(function (r) {
            return { text: r.revenue_growth == null ? "" : fmt.signedPercent(r.revenue_growth),
              colour: r.revenue_growth >= 0 ? "#15803d" : "#b91c1c" };
          }) }) + '<h3 class="aov-heading">' + DS.esc(aovHeading) + "</h3>" +
          Charts.growth(width, periods, list.map(function (r) { return r.aov_growth; }),
            "Average order value growth");
      }
    });
  }

  function statusPanel(list) {
    var periods = DS.periods(), by = {};
    DS.rows("payments").forEach(function (row) {
      var key = DS.periodOf(row.order_month);
      by[key] = by[key] || { Completed: 0, Pending: 0, Failed: 0 };
      by[key][row.transaction_status] = (by[key][row.transaction_status] || 0) + Number(row.amount);
    });
    var share = function (p, status) {
      var g = by[p.key];
      return g ? DS.ratio(g[status], g.Completed + g.Pending + g.Failed) : null;
    };
    DS.panel("status", {
      cubes: ["payments"], rows: list, why: "payments belong to orders, not to products",
      columns: [{ key: "transaction_status", label: "Status" },
        { key: "payments", label: "Payments", fmt: fmt.count },
        { key: "amount", label: "Amount", fmt: fmt.money },
        { key: "amount_share", label: "Share of amount", fmt: fmt.percent }],
      chart: function (width) {
        return Charts.shareBar(width, list.map(function (s) {
          return { label: s.transaction_status, share: s.amount_share || 0,
            colour: STATUS[s.transaction_status], tip: s.transaction_status + ": " +
              fmt.money(s.amount) + " · " + fmt.count(s.payments) + " payments · " +
              fmt.percent(s.amount_share) };
        }), "Share of payment amount by transaction status") +
          "<h3>Failed and pending share of the amount, per " + (isQuarters() ? "quarter" :
          "month") + "</h3>" + Charts.line(width, periods, ["Failed", "Pending"].map(function (s) {
            return { name: s, colour: STATUS[s], format: fmt.percent,
              values: periods.map(function (p) { return share(p, s); }) };
          }), { format: fmt.percentShort, label: "Failed and pending share per period",
            height: 170 });
      }
    });
  }

  // A product's spot on the x axis moves by up to ±0.08 stars (fixed per product), so
  // products with the same rating do not hide each other.
  function jitter(product) {
    var h = (Number(product.product_id) * 2654435761) % 1000;
    return (h / 1000 - 0.5) * 0.16;
  }

  function scatterPanel() {
    var level = DS.option("level"), ratings = DS.rows("ratings");
    var all = DS.sum(ratings, "products"), unrated = all - DS.sum(ratings, "rated_products");
    var find = document.getElementById("find-product");
    var words = find ? find.value.trim().toLowerCase() : "";
    var list, points, columns, found = [];
    if (level === "categories") {
      list = DS.groupSum(ratings, "category", ["products", "rated_products", "revenue",
        "units_sold", "rating_total", "review_count"]).map(function (g) {
        return { category: g.key, products: g.products, rated_products: g.rated_products,
          revenue: g.revenue, units_sold: g.units_sold, review_count: g.review_count,
          average_rating: DS.ratio(g.rating_total, g.review_count) };
      });
      points = list.filter(function (r) { return r.average_rating != null; }).map(function (r) {
        return { x: r.average_rating, y: r.revenue, r: 7, colour: colours[r.category],
          label: label(r.category), pick: { filter: "category", value: r.category },
          tip: label(r.category) + ": " + fmt.money(r.revenue) + ", rated " +
            fmt.rating(r.average_rating) + " from " + fmt.count(r.review_count) + " ratings" };
      });
      columns = [{ key: "category", label: "Category", fmt: label },
        { key: "products", label: "Products", fmt: fmt.count },
        { key: "rated_products", label: "Rated products", fmt: fmt.count },
        { key: "revenue", label: "Revenue", fmt: fmt.money },
        { key: "average_rating", label: "Average rating", fmt: fmt.rating },
        { key: "review_count", label: "Ratings", fmt: fmt.count }];
    } else {
      list = DS.rows("products").filter(function (p) { return p.average_rating != null; });
      points = list.map(function (p) {
        return { x: p.average_rating + jitter(p), y: p.revenue, r: 4, colour: colours[p.category],
          shape: p.source_store === "new store" ? "square" : "circle", key: p,
          tip: p.product_name + " #" + p.product_id + " (" + label(p.category) + ", " +
            p.source_store + "): " + fmt.money(p.revenue) + ", " + fmt.count(p.units_sold) +
            " sold, rated " + fmt.rating(p.average_rating) };
      });
      if (words) {
        found = points.filter(function (pt) {
          return (pt.key.product_name + " #" + pt.key.product_id).toLowerCase()
            .indexOf(words) >= 0;
        }).slice(0, 50);
      }
      columns = [{ key: "product_id", label: "ID" }, { key: "product_name", label: "Product" },
        { key: "source_store", label: "Store" },
        { key: "category", label: "Category", fmt: label },
        { key: "revenue", label: "Revenue", fmt: fmt.money },
        { key: "units_sold", label: "Units sold", fmt: fmt.count },
        { key: "average_rating", label: "Average rating", fmt: fmt.rating },
        { key: "review_count", label: "Ratings", fmt: fmt.count }];
    }
    var notes = [fmt.count(unrated) + " of " + fmt.count(all) + " products have no rating " +
      "yet and are not plotted" + (level === "categories" ? " (they count in the table's " +
      "products column)." : " or listed.")];
    if (level === "products") {
      notes.push(words ? fmt.count(found.length) + (found.length === 50 ? "+" : "") +
        " products match “" + words + "”: circled, and reachable with Tab." :
        "Each product sits within ±0.08 ★ of its rating so equal ratings do not hide each " +
        "other; find one by name or ID above, or in the data table.");
    }
    var dense = points.length > DENSE, placed = null;
    var present = extra.categories.filter(function (c) {
      return list.some(function (r) { return r.category === c; });
    });
    DS.panel("ratings", {
      cubes: ["ratings", "products"], rows: list, columns: columns, notes: notes,
      why: "ratings and product revenue cover all months up to the run date",
      chart: function (width) {
        var keys = Charts.legend(present.map(function (c) {
          return { name: label(c), colour: colours[c],
            pick: { filter: "category", value: c, active: DS.isPicked("category", c) } };
        }), true);
        return Charts.scatter(width, points, { log: level === "products", dense: dense,
          found: found, onPlaced: function (p) { placed = p; },
          label: "Average rating against revenue per " + (level === "categories" ?
            "category" : "product (log scale)") }) + keys +
          (level === "products" ? '<ul class="keys"><li>● old store: its own reviews</li>' +
            "<li>■ web store: rating published by its API</li></ul>" : "");
      },
      after: function (slot) {
        if (placed) { DS.nearestTip(slot.querySelector("svg.chart"), placed); }
      }
    });
  }

  var findInput = document.getElementById("find-product");
  if (findInput) { findInput.addEventListener("input", scatterPanel); }

  function topPanel() {
    var n = Number(DS.option("top")), by = {};
    DS.rows("products").forEach(function (p) { (by[p.category] = by[p.category] || []).push(p); });
    var list = [];
    Object.keys(by).sort(function (a, b) {
      return DS.sum(by[b], "revenue") - DS.sum(by[a], "revenue");
    }).forEach(function (c) {
      by[c].sort(function (a, b) {
        return b.revenue - a.revenue || (a.product_name < b.product_name ? -1 :
          a.product_name > b.product_name ? 1 : a.product_id - b.product_id);
      });
      by[c].slice(0, n).forEach(function (p, i) {
        list.push({ category: c, rank: i + 1, product_id: p.product_id,
          product_name: p.product_name, source_store: p.source_store, revenue: p.revenue,
          units_sold: p.units_sold, average_rating: p.average_rating,
          is_low_rating: p.is_low_rating });
      });
    });
    DS.panel("top", {
      cubes: ["products"], rows: list, why: "product revenue covers all months",
      columns: [{ key: "category", label: "Category", fmt: label }, { key: "rank", label: "#" },
        { key: "product_id", label: "ID" }, { key: "product_name", label: "Product" },
        { key: "source_store", label: "Store" },
        { key: "revenue", label: "Revenue", fmt: fmt.money },
        { key: "units_sold", label: "Units sold", fmt: fmt.count },
        { key: "average_rating", label: "Rating", fmt: fmt.rating }],
      chart: function () {
        var groups = [], current = null;
        list.forEach(function (r) {
          if (!current || current.category !== r.category) {
            current = { category: r.category, rows: [] };
            groups.push(current);
          }
          current.rows.push(r);
        });
        return '<div class="top-grid">' + groups.map(function (g) {
          var top = Math.max(1, g.rows[0].revenue);
          return '<section class="top-category"><h3><button type="button" class="key"' +
            Charts.pickAttributes({ filter: "category", value: g.category,
              active: DS.isPicked("category", g.category) }) + ">" +
            DS.esc(label(g.category)) + '</button></h3><table class="top-products"><thead>' +
            '<tr><th scope="col">#</th><th scope="col">Product (ID · store)</th><th ' +
            'scope="col">Revenue</th><th scope="col">Units</th><th scope="col">Rating</th>' +
            "</tr></thead><tbody>" + g.rows.map(function (r) {
              return '<tr><td class="rank">' + r.rank + '</td><td class="product" title="' +
                DS.esc(r.product_name) + '">' + DS.esc(r.product_name) + ' <span class="store">#' +
                r.product_id + " · " + DS.esc(r.source_store) + '</span></td><td class="bar-cell">' +
                '<span class="bar-track"><span class="bar" style="width:' +
                (r.revenue / top * 100).toFixed(1) + '%"></span></span>' + fmt.money(r.revenue) +
                '</td><td class="num">' + fmt.count(r.units_sold) + "</td><td" +
                (r.is_low_rating ? ' class="low-rating"' : "") + ">" +
                fmt.rating(r.average_rating) + "</td></tr>";
            }).join("") + "</tbody></table></section>";
        }).join("") + "</div>";
      }
    });
  }

  DS.start(function () {
    var status = statusRows();
    cards(status);
    trendPanel();
    growthPanel(growthRows());
    statusPanel(status);
    scatterPanel();
    topPanel();
  });
}());
