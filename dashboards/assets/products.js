// Product & Pricing Optimization: sums of kpi_category_sales, kpi_payment_activity,
// kpi_customer_activity (orders), kpi_category_ratings and kpi_product_performance rows.
/* global DS, Charts */
(function () {
  "use strict";
  var fmt = DS.fmt, extra = DS.config.extra;
  var STATUS = { Completed: "#15803d", Pending: "#b45309", Failed: "#b91c1c" };
  var PALETTE = ["#2563eb", "#b45309", "#7c3aed", "#0f766e", "#be185d", "#4d7c0f", "#0e7490",
    "#9333ea"];
  var colours = {};
  extra.categories.forEach(function (c, i) { colours[c] = PALETTE[i % PALETTE.length]; });
  var label = function (c) { return extra.categoryLabels[c] || c; };
  var TOP = extra.top;

  // Month-over-month growth for each month in range; the month before the range counts
  // as the base of the first one when the data has it.
  function growthRows() {
    var span = DS.range(), wider = { from: Math.max(0, span.from - 1), to: span.to };
    var sales = {}, orders = {};
    DS.groupSum(DS.rows("sales", wider), "order_month", ["revenue"]).forEach(function (g) {
      sales[g.key] = g.revenue;
    });
    DS.groupSum(DS.rows("orders", wider), "order_month", ["orders", "revenue"]).forEach(function (g) {
      orders[g.key] = g;
    });
    return DS.months.slice(span.from, span.to + 1).map(function (m) {
      var i = DS.months.indexOf(m), before = i > 0 ? DS.months[i - 1] : null;
      var aov = orders[m] ? DS.ratio(orders[m].revenue, orders[m].orders) : null;
      var previousAov = before && orders[before] ?
        DS.ratio(orders[before].revenue, orders[before].orders) : null;
      return { month: m, revenue: sales[m] || 0,
        revenue_mom_growth: before && sales[before] ? DS.change(sales[m] || 0, sales[before]) : null,
        orders: orders[m] ? orders[m].orders : 0, average_order_value: aov,
        aov_mom_growth: aov != null && previousAov ? DS.change(aov, previousAov) : null };
    });
  }

  function statusRows() {
    var groups = DS.groupSum(DS.rows("payments"), "transaction_status", ["payments", "amount"]);
    var total = DS.sum(groups, "amount");
    return Object.keys(STATUS).map(function (s) {
      var g = groups.filter(function (x) { return x.key === s; })[0];
      return g ? { transaction_status: s, payments: g.payments, amount: g.amount,
        amount_share: DS.ratio(g.amount, total) } : null;
    }).filter(Boolean);
  }

  function cards(growth, status) {
    var revenue = DS.sum(DS.rows("sales"), "revenue"), span = DS.previousSpan();
    var before = span ? DS.sum(DS.rows("sales", span), "revenue") : null;
    DS.card("revenue", { value: revenue, shown: fmt.moneyShort(revenue), exact: fmt.money(revenue),
      note: "sum of order lines", delta: span ? DS.change(revenue, before) : null });
    var last = growth[growth.length - 1] || {};
    var month = fmt.month(last.month);
    DS.card("revenue_mom_growth", { value: last.revenue_mom_growth,
      shown: fmt.signedPercent(last.revenue_mom_growth), note: month + " vs the month before" });
    DS.card("aov_mom_growth", { value: last.aov_mom_growth,
      shown: fmt.signedPercent(last.aov_mom_growth), note: DS.chosen("category") ?
        month + "; all categories (an order spans categories)" : month + " vs the month before" });
    var completed = status.filter(function (s) { return s.transaction_status === "Completed"; })[0];
    DS.card("completed_amount_share", { value: completed ? completed.amount_share : null,
      shown: fmt.percent(completed ? completed.amount_share : null),
      exact: completed ? fmt.money(completed.amount) + " completed" : "",
      note: "old store only" + (DS.chosen("category") ? "; all categories" : "") });
    var ratings = DS.rows("ratings");
    var low = DS.sum(ratings, "low_rated_products");
    DS.card("low_rating_products", { value: low, shown: fmt.count(low),
      note: "of " + fmt.count(DS.sum(ratings, "products")) + " products; all months" });
  }

  function statusPanel(list) {
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
        }), "Share of payment amount by transaction status");
      }
    });
  }

  function growthPanel(list) {
    var labels = list.map(function (r) { return r.month; });
    DS.panel("growth", {
      cubes: ["sales", "orders"], rows: list,
      why: "order value growth: an order spans categories",
      columns: [{ key: "month", label: "Month", fmt: fmt.month },
        { key: "revenue", label: "Revenue", fmt: fmt.money },
        { key: "revenue_mom_growth", label: "Revenue growth", fmt: fmt.signedPercent },
        { key: "orders", label: "Orders", fmt: fmt.count },
        { key: "average_order_value", label: "Average order value", fmt: fmt.money },
        { key: "aov_mom_growth", label: "Order value growth", fmt: fmt.signedPercent }],
      chart: function (width) {
        return "<h3>Revenue, month over month</h3>" + Charts.growth(width, labels,
          list.map(function (r) { return r.revenue_mom_growth; }), "Revenue growth") +
          "<h3>Average order value, month over month</h3>" + Charts.growth(width, labels,
          list.map(function (r) { return r.aov_mom_growth; }), "Average order value growth");
      }
    });
  }

  var level = "categories";

  function scatterPanel() {
    var ratings = DS.rows("ratings"), all = DS.sum(ratings, "products");
    var unrated = all - DS.sum(ratings, "rated_products");
    var list, points, log;
    if (level === "categories") {
      list = DS.groupSum(DS.rows("ratings"), "category", ["products", "rated_products", "revenue",
        "units_sold", "rating_total", "review_count"]).map(function (g) {
        return { category: g.key, products: g.products, rated_products: g.rated_products,
          revenue: g.revenue, units_sold: g.units_sold, review_count: g.review_count,
          average_rating: DS.ratio(g.rating_total, g.review_count) };
      });
      points = list.filter(function (r) { return r.average_rating != null; }).map(function (r) {
        return { x: r.average_rating, y: r.revenue, r: 9, colour: colours[r.category],
          tip: label(r.category) + ": " + fmt.money(r.revenue) + ", rated " +
            fmt.rating(r.average_rating) + " from " + fmt.count(r.review_count) + " ratings" };
      });
      log = false;
    } else {
      list = DS.rows("products").filter(function (p) {
        return p.average_rating != null;
      }).map(function (p) {
        return { product_name: p.product_name, source_store: p.source_store, category: p.category,
          revenue: p.revenue, units_sold: p.units_sold, average_rating: p.average_rating,
          review_count: p.review_count };
      });
      points = list.filter(function (r) { return r.average_rating != null; }).map(function (r) {
        return { x: r.average_rating, y: r.revenue, r: 4, colour: colours[r.category],
          shape: r.source_store === "new store" ? "square" : "circle",
          tip: r.product_name + " (" + label(r.category) + "): " + fmt.money(r.revenue) + ", " +
            fmt.count(r.units_sold) + " sold, rated " + fmt.rating(r.average_rating) };
      });
      log = true;
    }
    var columns = level === "categories" ?
      [{ key: "category", label: "Category", fmt: label },
        { key: "products", label: "Products", fmt: fmt.count },
        { key: "rated_products", label: "Rated products", fmt: fmt.count },
        { key: "revenue", label: "Revenue", fmt: fmt.money },
        { key: "average_rating", label: "Average rating", fmt: fmt.rating },
        { key: "review_count", label: "Ratings", fmt: fmt.count }] :
      [{ key: "product_name", label: "Product" }, { key: "source_store", label: "Store" },
        { key: "category", label: "Category", fmt: label },
        { key: "revenue", label: "Revenue", fmt: fmt.money },
        { key: "units_sold", label: "Units sold", fmt: fmt.count },
        { key: "average_rating", label: "Average rating", fmt: fmt.rating },
        { key: "review_count", label: "Ratings", fmt: fmt.count }];
    DS.panel("ratings", {
      cubes: ["ratings", "products"], rows: list, columns: columns,
      why: "ratings and product revenue cover all months up to the run date",
      notes: [fmt.count(unrated) + " of " + fmt.count(all) + " products have no rating yet " +
        "and are not plotted" + (level === "categories" ? " (they count in the table's " +
        "products column)." : " or listed.")],
      chart: function (width) {
        var keys = extra.categories.map(function (c) {
          return '<li><span class="swatch" style="background:' + colours[c] + '"></span>' +
            DS.esc(label(c)) + "</li>";
        }).join("");
        return Charts.scatter(width, points, { log: log, label: "Average rating against revenue " +
          "per " + (level === "categories" ? "category" : "product (log scale)") }) +
          '<ul class="keys">' + keys + (level === "products" ? "<li>● old store: its own " +
          "reviews</li><li>■ web store: rating published by its API</li>" : "") + "</ul>";
      }
    });
  }

  var levelSelect = document.getElementById("ratings-level");
  if (levelSelect) {
    levelSelect.addEventListener("change", function () { level = levelSelect.value; scatterPanel(); });
  }

  function topPanel() {
    var by = {};
    DS.rows("products").forEach(function (p) { (by[p.category] = by[p.category] || []).push(p); });
    var list = [];
    Object.keys(by).sort(function (a, b) {
      return DS.sum(by[b], "revenue") - DS.sum(by[a], "revenue");
    }).forEach(function (c) {
      by[c].sort(function (a, b) { return b.revenue - a.revenue || (a.product_name < b.product_name ? -1 : 1); });
      by[c].slice(0, TOP).forEach(function (p, i) {
        list.push({ category: c, rank: i + 1, product_name: p.product_name,
          source_store: p.source_store, revenue: p.revenue, units_sold: p.units_sold,
          average_rating: p.average_rating, is_low_rating: p.is_low_rating });
      });
    });
    var top = Math.max.apply(null, list.map(function (r) { return r.revenue; }).concat([1]));
    DS.panel("top", {
      cubes: ["products"], rows: list, why: "product revenue covers all months",
      columns: [{ key: "category", label: "Category", fmt: label }, { key: "rank", label: "#" },
        { key: "product_name", label: "Product" }, { key: "source_store", label: "Store" },
        { key: "revenue", label: "Revenue", fmt: fmt.money },
        { key: "units_sold", label: "Units sold", fmt: fmt.count },
        { key: "average_rating", label: "Rating", fmt: fmt.rating }],
      chart: function () {
        var current = null, body = "";
        list.forEach(function (r) {
          if (r.category !== current) {
            current = r.category;
            body += '<tr class="category-row"><th colspan="5" scope="colgroup">' +
              DS.esc(label(current)) + "</th></tr>";
          }
          body += '<tr><td class="rank">' + r.rank + "</td><td>" + DS.esc(r.product_name) +
            ' <span class="store">' + DS.esc(r.source_store) + '</span></td><td class="bar-cell">' +
            '<span class="bar-track"><span class="bar" style="width:' +
            (r.revenue / top * 100).toFixed(1) + '%"></span></span>' + fmt.money(r.revenue) +
            '</td><td class="num">' + fmt.count(r.units_sold) + "</td><td" +
            (r.is_low_rating ? ' class="low-rating"' : "") + ">" + fmt.rating(r.average_rating) +
            "</td></tr>";
        });
        return '<div class="scroll"><table class="top-products"><thead><tr><th scope="col">#</th>' +
          '<th scope="col">Product</th><th scope="col">Revenue</th><th scope="col">Units sold' +
          '</th><th scope="col">Rating</th></tr></thead><tbody>' + body + "</tbody></table></div>";
      }
    });
  }

  DS.start(function () {
    var growth = growthRows(), status = statusRows();
    cards(growth, status);
    statusPanel(status);
    growthPanel(growth);
    scatterPanel();
    topPanel();
  });
}());
