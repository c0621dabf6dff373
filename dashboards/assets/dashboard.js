// The DeltaStore dashboards' page engine. No library: the page embeds the rows of its filter
// marts (docs/data-contracts.md, "Filter marts") as JSON; every card, chart and table is
// drawn from the rows that pass the page-wide filters, by summing them. Ratios are ratios
// of sums, as the contract defines them; no KPI is redefined here.
/* exported DS */
var DS = (function () {
  "use strict";

  var config = JSON.parse(document.getElementById("page-config").textContent);
  var months = config.months;
  var state = {};   // filter id -> Set of chosen values, absent = all; plus from/to indexes
  var renderers = [];

  // --- formats (US conventions, like dashboards/fmt.py) --------------------------------
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
    "Dec"];
  function fixed(v, digits) {
    var text = Number(v).toLocaleString("en-US",
      { minimumFractionDigits: digits, maximumFractionDigits: digits });
    // a value that rounds to zero is shown without a sign: never "-0%"
    return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
  }
  var fmt = {
    count: function (v) { return v == null ? "–" : fixed(v, 0); },
    money: function (v) { return v == null ? "–" : (v < 0 ? "-$" : "$") + fixed(Math.abs(v), 2); },
    moneyShort: function (v) {
      if (v == null) { return "–"; }
      var a = Math.abs(v), sign = v < 0 ? "-$" : "$";
      if (a >= 1e6) { return sign + fixed(a / 1e6, 1) + "M"; }
      if (a >= 1e4) { return sign + fixed(a / 1e3, 0) + "k"; }
      if (a >= 1e3) { return sign + fixed(a / 1e3, 1) + "k"; }
      return sign + fixed(a, 0);
    },
    percent: function (v) { return v == null ? "–" : fixed(v * 100, 1) + "%"; },
    signedPercent: function (v) {
      if (v == null) { return "–"; }
      var text = fixed(v * 100, 1);
      return (text === "0.0" || text.charAt(0) === "-" ? text : "+" + text) + "%";
    },
    days: function (v) { return v == null ? "–" : fixed(v, 1) + " days"; },
    rating: function (v) { return v == null ? "no reviews" : fixed(v, 2) + " ★"; },
    month: function (iso) {
      return iso ? MONTHS[Number(iso.slice(5, 7)) - 1] + " " + iso.slice(0, 4) : "–";
    },
    range: function (first, last) {
      if (first === last) { return fmt.month(first); }
      var a = fmt.month(first), b = fmt.month(last);
      return a.slice(4) === b.slice(4) ? a.slice(0, 3) + "–" + b : a + " – " + b;
    },
    text: function (v) { return v == null ? "–" : String(v); }
  };

  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  // --- data: each cube is {columns, dims: {filterId: column}, rows: [[...]]} ------------
  var cubes = {};
  Object.keys(config.cubes).forEach(function (name) {
    var cube = config.cubes[name];
    cubes[name] = {
      dims: cube.dims,
      rows: cube.rows.map(function (values) {
        var row = {};
        cube.columns.forEach(function (column, i) { row[column] = values[i]; });
        return row;
      })
    };
  });

  function chosen(id) { return state[id] || null; }
  function range() { return { from: state.from, to: state.to }; }

  // Rows of a cube passing every filter it has a dimension for; `span` replaces the month
  // range (the previous period), `ignore` lists filters to leave out.
  function rows(name, span, ignore) {
    var cube = cubes[name], dims = cube.dims, period = span || range();
    var first = months[period.from], last = months[period.to];
    var checks = Object.keys(dims).filter(function (id) {
      return !(ignore && ignore.indexOf(id) >= 0) && (id === "months" || state[id]);
    });
    return cube.rows.filter(function (row) {
      return checks.every(function (id) {
        var value = row[dims[id]];
        if (id === "months") { return value >= first && value <= last; }
        return state[id].has(value == null ? "" : value);
      });
    });
  }

  // The period of the same length just before the chosen one; null when the data has none.
  function previousSpan() {
    var length = state.to - state.from + 1;
    return state.from - length < 0 ? null : { from: state.from - length, to: state.from - 1 };
  }

  // Filters that are narrowed but that a cube has no dimension for: the figure cannot react.
  function ignored(name) {
    return config.filters.filter(function (f) {
      return state[f.id] && !(f.id in cubes[name].dims);
    }).map(function (f) { return f.label; }).concat(
      isFullRange() || "months" in cubes[name].dims ? [] : ["Months"]);
  }

  function isFullRange() { return state.from === 0 && state.to === months.length - 1; }
  function isUnfiltered() {
    return isFullRange() && config.filters.every(function (f) { return !state[f.id]; });
  }

  function sum(list, column) {
    return list.reduce(function (total, row) { return total + (Number(row[column]) || 0); }, 0);
  }
  function ratio(top, bottom) { return bottom ? top / bottom : null; }

  // Sums of `columns` per key; keys in first-seen order.
  function groupSum(list, key, columns) {
    var groups = {}, order = [];
    list.forEach(function (row) {
      var k = typeof key === "function" ? key(row) : row[key];
      if (!(k in groups)) {
        groups[k] = { key: k };
        columns.forEach(function (c) { groups[k][c] = 0; });
        order.push(k);
      }
      columns.forEach(function (c) { groups[k][c] += Number(row[c]) || 0; });
    });
    return order.map(function (k) { return groups[k]; });
  }

  // --- URL state: '#store=old store&from=2025-01&to=2025-06' (only what differs) --------
  function readHash() {
    state = { from: 0, to: months.length - 1 };
    location.hash.replace(/^#/, "").split("&").forEach(function (pair) {
      var parts = pair.split("="), key = decodeURIComponent(parts[0] || "");
      var value = decodeURIComponent(parts.slice(1).join("="));
      if (key === "from" || key === "to") {
        var index = months.indexOf(value + "-01");
        if (index >= 0) { state[key] = index; }
      } else if (config.filters.some(function (f) { return f.id === key; }) && value !== "") {
        state[key] = new Set(value.split("|"));
      }
    });
    if (state.from > state.to) { state.from = 0; state.to = months.length - 1; }
  }

  function writeHash() {
    var parts = [];
    config.filters.forEach(function (f) {
      if (state[f.id]) {
        parts.push(f.id + "=" + Array.from(state[f.id]).map(encodeURIComponent).join("|"));
      }
    });
    if (!isFullRange()) {
      parts.push("from=" + months[state.from].slice(0, 7), "to=" + months[state.to].slice(0, 7));
    }
    var hash = parts.length ? "#" + parts.join("&") : "";
    if (location.hash !== hash) {
      history.replaceState(null, "", hash || location.pathname + location.search);
    }
  }

  // --- filter controls (drawn by dashboards/html.py) -----------------------------------
  function syncControls() {
    document.querySelectorAll("[data-filter]").forEach(function (box) {
      var id = box.getAttribute("data-filter"), set = state[id];
      var inputs = box.querySelectorAll("input[type=checkbox]"), names = [];
      inputs.forEach(function (input) {
        input.checked = !set || set.has(input.value);
        if (input.checked) { names.push(input.parentNode.textContent.trim()); }
      });
      box.querySelector(".chosen").textContent = !set ? "All" :
        names.length <= 2 ? names.join(", ") : names.length + " selected";
    });
    var from = document.getElementById("month-from"), to = document.getElementById("month-to");
    if (from) { from.value = String(state.from); to.value = String(state.to); }
    var compare = document.getElementById("compare-note");
    if (compare) {
      var prev = previousSpan();
      compare.textContent = prev ? "Cards compare with " + fmt.range(months[prev.from],
        months[prev.to]) + "." : "Cards: no earlier months in the data to compare with.";
    }
  }

  function wireControls() {
    document.querySelectorAll("[data-filter]").forEach(function (box) {
      var id = box.getAttribute("data-filter");
      box.addEventListener("change", function () {
        var values = [], inputs = box.querySelectorAll("input[type=checkbox]");
        inputs.forEach(function (input) { if (input.checked) { values.push(input.value); } });
        // none or every box ticked both mean "no narrowing"
        state[id] = values.length && values.length < inputs.length ? new Set(values) : null;
        update();
      });
      box.querySelector("[data-all]").addEventListener("click", function () {
        state[id] = null;
        update();
      });
    });
    ["month-from", "month-to"].forEach(function (id, i) {
      var select = document.getElementById(id);
      if (!select) { return; }
      select.addEventListener("change", function () {
        var value = Number(select.value);
        if (i === 0) { state.from = value; state.to = Math.max(state.to, value); }
        else { state.to = value; state.from = Math.min(state.from, value); }
        update();
      });
    });
    var reset = document.getElementById("reset-filters");
    if (reset) {
      reset.addEventListener("click", function () {
        config.filters.forEach(function (f) { state[f.id] = null; });
        state.from = 0;
        state.to = months.length - 1;
        update();
      });
    }
    window.addEventListener("hashchange", function () { readHash(); draw(); });
  }

  // --- cards ----------------------------------------------------------------------------
  // value: raw number/text; shown: its text; exact: the full value on hover; delta: change
  // against the previous period as a fraction; note: a line under the value.
  function card(id, spec) {
    var node = document.querySelector('[data-kpi="' + id + '"]');
    if (!node) { return; }
    node.setAttribute("data-value", spec.value == null ? "" : String(spec.value));
    node.textContent = spec.shown;
    var box = node.parentNode;
    box.setAttribute("data-tip", spec.exact || spec.shown);
    box.querySelector(".card-note").textContent = spec.note || "";
    var delta = box.querySelector(".card-delta");
    if (delta) {
      var text = "";
      // no text without a previous period: the filter bar says there is none
      if (spec.delta != null) { text = fmt.signedPercent(spec.delta) + " vs previous period"; }
      delta.textContent = text;
      delta.className = "card-delta" + (spec.delta > 0.0005 ? " up" : spec.delta < -0.0005 ?
        " down" : "");
    }
  }

  // Change from the previous period, or null without one (or when it was zero).
  function change(current, previous) {
    return current == null || previous == null || !previous ? null :
      (current - previous) / Math.abs(previous);
  }

  // --- panels: chart + data table + CSV of the same rows --------------------------------
  var panelData = {};

  function panel(id, spec) {
    var node = document.getElementById("panel-" + id);
    if (!node) { return; }
    panelData[id] = spec;
    var notes = (spec.notes || []).slice();
    var skipped = (spec.cubes || []).reduce(function (all, name) {
      ignored(name).forEach(function (f) { if (all.indexOf(f) < 0) { all.push(f); } });
      return all;
    }, []);
    if (skipped.length) {
      notes.unshift("Not defined per " + skipped.join(", ").toLowerCase() + ": this panel " +
        "ignores the " + skipped.join(" and ") + " filter" + (skipped.length > 1 ? "s" : "") +
        (spec.why ? " (" + spec.why + ")" : "") + ".");
    }
    node.querySelector(".panel-note").textContent = notes.join(" ");
    var slot = node.querySelector(".chart-slot");
    slot.innerHTML = spec.rows.length ? spec.chart(slot.clientWidth || 600) :
      '<div class="empty-state" data-empty="filtered">No rows match these filters.</div>';
    node.querySelector(".table-slot").innerHTML = table(spec.columns, spec.rows);
  }

  function table(columns, list) {
    if (!list.length) { return "<p>No rows.</p>"; }
    var head = columns.map(function (c) { return '<th scope="col">' + esc(c.label) + "</th>"; });
    var body = list.map(function (row) {
      return "<tr>" + columns.map(function (c) {
        var value = row[c.key], shown = (c.fmt || fmt.text)(value);
        var numeric = typeof value === "number";
        return "<td" + (numeric ? ' class="num"' : "") + ' data-col="' + esc(c.key) +
          '" data-value="' + esc(value == null ? "" : value) + '">' + esc(shown) + "</td>";
      }).join("") + "</tr>";
    });
    return '<table class="data"><thead><tr>' + head.join("") + "</tr></thead><tbody>" +
      body.join("") + "</tbody></table>";
  }

  function csv(id) {
    var spec = panelData[id];
    var quote = function (v) {
      var text = v == null ? "" : String(v);
      return /[",\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
    };
    var lines = [spec.columns.map(function (c) { return quote(c.key); }).join(",")];
    spec.rows.forEach(function (row) {
      lines.push(spec.columns.map(function (c) { return quote(row[c.key]); }).join(","));
    });
    return lines.join("\r\n") + "\r\n";
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-csv]");
    if (!button) { return; }
    var id = button.getAttribute("data-csv");
    var link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([csv(id)], { type: "text/csv" }));
    link.download = config.page + "-" + id + ".csv";
    document.body.appendChild(link);
    link.click();
    link.remove();
  });

  // --- tooltips: hover, keyboard focus and touch all show the exact value ---------------
  var tip = document.createElement("div");
  tip.className = "tooltip";
  tip.setAttribute("role", "tooltip");
  tip.hidden = true;
  document.body.appendChild(tip);

  function showTip(target) {
    tip.textContent = target.getAttribute("data-tip");
    tip.hidden = false;
    var box = target.getBoundingClientRect(), width = tip.offsetWidth;
    var left = Math.min(Math.max(4, box.left + box.width / 2 - width / 2),
      document.documentElement.clientWidth - width - 4);
    tip.style.left = left + window.scrollX + "px";
    tip.style.top = box.top + window.scrollY - tip.offsetHeight - 6 + "px";
  }
  function tipTarget(event) {
    return event.target.closest ? event.target.closest("[data-tip]") : null;
  }
  ["mouseover", "focusin", "pointerdown"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var target = tipTarget(event);
      if (target) { showTip(target); } else if (type !== "mouseover") { tip.hidden = true; }
    });
  });
  ["mouseout", "focusout"].forEach(function (type) {
    document.addEventListener(type, function (event) { if (tipTarget(event)) { tip.hidden = true; } });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { tip.hidden = true; }
  });

  // --- drawing --------------------------------------------------------------------------
  function draw() {
    syncControls();
    renderers.forEach(function (render) { render(); });
    document.documentElement.setAttribute("data-rendered", String(Date.now()));
  }

  function update() {
    writeHash();
    draw();
  }

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(draw, 150);
  });
  // Print: redraw at the paper's width so charts fit the page, and back after.
  window.addEventListener("beforeprint", draw);
  window.addEventListener("afterprint", draw);
  // An open filter list closes when the reader clicks elsewhere or presses Escape.
  function closeLists(event) {
    document.querySelectorAll("details.multi[open]").forEach(function (box) {
      if (event.type === "keydown" ? event.key === "Escape" : !box.contains(event.target)) {
        box.open = false;
      }
    });
  }
  document.addEventListener("click", closeLists);
  document.addEventListener("keydown", closeLists);

  function start(render) {
    renderers.push(render);
  }

  readHash();
  wireControls();
  document.addEventListener("DOMContentLoaded", draw);

  return {
    config: config, months: months, fmt: fmt, esc: esc, rows: rows, sum: sum, ratio: ratio,
    groupSum: groupSum, previousSpan: previousSpan, chosen: chosen, range: range,
    isFullRange: isFullRange, isUnfiltered: isUnfiltered, card: card, change: change,
    panel: panel, csv: csv, start: start, draw: draw, update: update,
    setState: function (next) { state = next; update(); },
    state: function () { return state; }
  };
}());
