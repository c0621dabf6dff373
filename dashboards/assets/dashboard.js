// The DeltaStore dashboards' page engine. No library: the page embeds the rows of its filter
// marts (docs/data-contracts.md, "Filter marts") as JSON; every card, chart and table is
// drawn from the rows that pass the page-wide filters, by summing them. Ratios are ratios
// of sums, as the contract defines them; no KPI is redefined here.
//
// State lives in the URL ('#state=CA&from=2025-03&to=2025-08&grain=quarter'): filters
// (a set of values each, absent = all, '-' = none), the month range and the panel options
// (level, metric, top N, grain). Clicking a mark with data-pick filters the page to it;
// chips in the filter bar show and remove what is narrowed.
/* exported DS */
var DS = (function () {
  "use strict";

  var config = JSON.parse(document.getElementById("page-config").textContent);
  var months = config.months;
  var filterIds = config.filters.map(function (f) { return f.id; });
  var options = config.options || {};   // option id -> default value
  var state = {};   // filter id -> Set of chosen values (absent = all); from/to; opt
  var renderers = [];
  var printing = false;
  // A4 portrait's printable width at 96 px per inch with Chromium's default margins: charts
  // are drawn this wide for print, so their 12 px text prints at about 9 pt.
  var PRINT_WIDTH = 718;

  // --- formats (US conventions, like dashboards/fmt.py) --------------------------------
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
    "Dec"];
  // One formatter per number of digits: toLocaleString builds a new one on every call,
  // which is most of a redraw that formats thousands of tips.
  var formats = {};
  function fixed(v, digits) {
    var format = formats[digits] = formats[digits] || new Intl.NumberFormat("en-US",
      { minimumFractionDigits: digits, maximumFractionDigits: digits });
    var text = format.format(Number(v));
    // a value that rounds to zero is shown without a sign: never "-0%"
    return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
  }
  function signed(text) {
    return /^0(\.0*)?$/.test(text) || text.charAt(0) === "-" ? text : "+" + text;
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
    percentShort: function (v) { return v == null ? "–" : fixed(v * 100, 0) + "%"; },
    signedPercent: function (v) { return v == null ? "–" : signed(fixed(v * 100, 1)) + "%"; },
    points: function (v) { return v == null ? "–" : signed(fixed(v * 100, 1)) + " pp"; },
    days: function (v) { return v == null ? "–" : fixed(v, 1) + " days"; },
    daysShort: function (v) { return v == null ? "–" : fixed(v, 1) + " d"; },
    signedDays: function (v) { return v == null ? "–" : signed(fixed(v, 1)) + " days"; },
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
  function option(id) { return state.opt[id]; }

  // Rows of a cube passing every filter it has a dimension for; `span` replaces the month
  // range (an earlier period), `ignore` lists filters to leave out.
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
  // The same months a year before; null unless the data reaches back that far.
  function yearBeforeSpan() {
    return state.from - 12 < 0 ? null : { from: state.from - 12, to: state.to - 12 };
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
    return isFullRange() && filterIds.every(function (id) { return !state[id]; });
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

  // --- time grain: the chosen months as months or calendar quarters ---------------------
  // [{key, label, short, year, yearStart, months: [iso], month (iso, month grain only),
  //   note}]; a quarter only partly inside the range says so.
  // True when the page has a grain option and it says quarters.
  function isQuarters() { return options.grain !== undefined && option("grain") === "quarter"; }
  function periods(span) {
    var s = span || range(), list = [], byKey = {};
    var quarters = isQuarters();
    months.slice(s.from, s.to + 1).forEach(function (iso) {
      var year = iso.slice(0, 4), m = Number(iso.slice(5, 7));
      var key = quarters ? year + "-Q" + Math.ceil(m / 3) : iso;
      if (!byKey[key]) {
        byKey[key] = quarters ?
          { key: key, label: "Q" + Math.ceil(m / 3) + " " + year, short: "Q" + Math.ceil(m / 3),
            year: year, yearStart: m <= 3, months: [] } :
          { key: key, label: fmt.month(iso), short: MONTHS[m - 1], year: year,
            yearStart: m === 1, months: [], month: iso };
        list.push(byKey[key]);
      }
      byKey[key].months.push(iso);
    });
    if (quarters) {
      list.forEach(function (p) {
        if (p.months.length < 3) { p.note = p.months.length + " of its 3 months in range"; }
      });
    }
    return list;
  }
  function periodOf(iso) {
    if (!isQuarters()) { return iso; }
    return iso.slice(0, 4) + "-Q" + Math.ceil(Number(iso.slice(5, 7)) / 3);
  }

  // --- URL state ------------------------------------------------------------------------
  var NONE = "-";
  // Everything at its default: all values, all months, the options' defaults.
  function resetState() {
    state = { from: 0, to: months.length - 1, opt: {} };
    Object.keys(options).forEach(function (id) { state.opt[id] = options[id]; });
  }

  function readHash() {
    resetState();
    location.hash.replace(/^#/, "").split("&").forEach(function (pair) {
      var parts = pair.split("="), key = decodeURIComponent(parts[0] || "");
      var value = decodeURIComponent(parts.slice(1).join("="));
      if (key === "from" || key === "to") {
        var index = months.indexOf(value + "-01");
        if (index >= 0) { state[key] = index; }
      } else if (filterIds.indexOf(key) >= 0 && parts.length > 1) {
        state[key] = value === NONE ? new Set() : new Set(value.split("|"));
      } else if (key in options && value) {
        state.opt[key] = value;
      }
    });
    if (state.from > state.to) { state.from = 0; state.to = months.length - 1; }
  }

  function writeHash() {
    var parts = [];
    filterIds.forEach(function (id) {
      if (state[id]) {
        parts.push(id + "=" + (state[id].size ? Array.from(state[id]).map(encodeURIComponent)
          .join("|") : NONE));
      }
    });
    if (!isFullRange()) {
      parts.push("from=" + months[state.from].slice(0, 7), "to=" + months[state.to].slice(0, 7));
    }
    Object.keys(options).forEach(function (id) {
      if (state.opt[id] !== options[id]) { parts.push(id + "=" + encodeURIComponent(state.opt[id])); }
    });
    var hash = parts.length ? "#" + parts.join("&") : "";
    if (location.hash !== hash) {
      history.replaceState(null, "", hash || location.pathname + location.search);
    }
  }

  // --- filter controls (drawn by dashboards/html.py) -----------------------------------
  function filterOf(id) {
    return config.filters.filter(function (f) { return f.id === id; })[0];
  }
  // How a value of a filter reads in a chip or a summary: codes stay codes.
  function valueLabel(id, value) {
    var f = filterOf(id);
    if (f && f.names && !f.codes && value in f.names) { return f.names[value]; }
    return value === "" ? (f && f.names && f.names[""]) || "not on record" : value;
  }
  function describe(id) {
    var set = state[id], f = filterOf(id);
    if (!set) { return "All"; }
    if (!set.size) { return "None"; }
    var names = Array.from(set).map(function (v) { return valueLabel(id, v); });
    return names.length <= 2 ? names.join(", ") : names.length + " of " + f.count;
  }

  var PRESETS = { all: null, "last-3": 3, "last-6": 6, "last-12": 12 };
  function presetSpan(name) {
    var last = months.length - 1;
    if (name === "ytd") {
      var year = months[last].slice(0, 4), first = last;
      while (first > 0 && months[first - 1].slice(0, 4) === year) { first--; }
      return { from: first, to: last };
    }
    if (name === "all" || !(name in PRESETS)) { return { from: 0, to: last }; }
    return { from: Math.max(0, last - PRESETS[name] + 1), to: last };
  }
  function currentPreset() {
    var names = ["all", "last-3", "last-6", "last-12", "ytd"];
    for (var i = 0; i < names.length; i++) {
      var span = presetSpan(names[i]);
      if (span.from === state.from && span.to === state.to) { return names[i]; }
    }
    return "custom";
  }

  function syncControls() {
    document.querySelectorAll("[data-filter]").forEach(function (box) {
      var id = box.getAttribute("data-filter"), set = state[id];
      box.querySelectorAll("input[type=checkbox]").forEach(function (input) {
        input.checked = !set || set.has(input.value);
      });
      box.querySelector(".chosen").textContent = describe(id);
      box.classList.toggle("narrowed", !!set);
    });
    var from = document.getElementById("month-from"), to = document.getElementById("month-to");
    if (from) { from.value = String(state.from); to.value = String(state.to); }
    var preset = document.getElementById("month-preset");
    if (preset) { preset.value = currentPreset(); }
    document.querySelectorAll("select[data-option]").forEach(function (select) {
      select.value = state.opt[select.getAttribute("data-option")];
    });
    var compare = document.getElementById("compare-note");
    if (compare) {
      var prev = previousSpan(), year = yearBeforeSpan();
      compare.textContent = (prev ? "Cards compare with " + fmt.range(months[prev.from],
        months[prev.to]) : "Cards: no earlier months of the same length in the data to " +
        "compare with") + (year ? " and with " + fmt.range(months[year.from], months[year.to]) +
        " (a year before)." : ".");
    }
    chips();
  }

  // One removable chip per narrowed filter, the month range and each non-default option.
  function chips() {
    var box = document.getElementById("chips");
    if (!box) { return; }
    var items = [];
    filterIds.forEach(function (id) {
      if (state[id]) {
        items.push({ kind: "filter", id: id, text: filterOf(id).label + ": " + describe(id) });
      }
    });
    if (!isFullRange()) {
      items.push({ kind: "months", id: "months", text: "Months: " +
        fmt.range(months[state.from], months[state.to]) });
    }
    box.innerHTML = items.map(function (c) {
      return '<button type="button" class="chip" data-chip="' + esc(c.id) +
        '" aria-label="Remove filter ' + esc(c.text) + '">' + esc(c.text) +
        ' <span aria-hidden="true">×</span></button>';
    }).join("");
    box.hidden = !items.length;
  }

  function wireControls() {
    document.querySelectorAll("[data-filter]").forEach(function (box) {
      var id = box.getAttribute("data-filter");
      var inputs = box.querySelectorAll("input[type=checkbox]");
      box.addEventListener("change", function (event) {
        if (event.target.type !== "checkbox") { return; }
        var values = [];
        inputs.forEach(function (input) { if (input.checked) { values.push(input.value); } });
        state[id] = values.length === inputs.length ? null : new Set(values);
        update();
      });
      box.addEventListener("click", function (event) {
        var button = event.target.closest("button");
        if (!button) { return; }
        if (button.hasAttribute("data-all")) { state[id] = null; }
        else if (button.hasAttribute("data-none")) { state[id] = new Set(); }
        else if (button.hasAttribute("data-only")) {
          state[id] = new Set([button.getAttribute("data-only")]);
        } else { return; }
        update();
      });
      var search = box.querySelector("input[type=search]");
      if (search) {
        search.addEventListener("input", function () {
          var words = search.value.trim().toLowerCase();
          box.querySelectorAll(".option").forEach(function (row) {
            row.hidden = words !== "" && row.textContent.toLowerCase().indexOf(words) < 0;
          });
        });
      }
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
    var preset = document.getElementById("month-preset");
    if (preset) {
      preset.addEventListener("change", function () {
        if (preset.value === "custom") { return; }
        var span = presetSpan(preset.value);
        state.from = span.from;
        state.to = span.to;
        update();
      });
    }
    document.querySelectorAll("select[data-option]").forEach(function (select) {
      select.addEventListener("change", function () {
        state.opt[select.getAttribute("data-option")] = select.value;
        update();
      });
    });
    var reset = document.getElementById("reset-filters");
    if (reset) {
      reset.addEventListener("click", function () {
        resetState();
        update();
      });
    }
    var chipBox = document.getElementById("chips");
    if (chipBox) {
      chipBox.addEventListener("click", function (event) {
        var chip = event.target.closest("[data-chip]");
        if (!chip) { return; }
        var id = chip.getAttribute("data-chip");
        if (id === "months") { state.from = 0; state.to = months.length - 1; }
        else { state[id] = null; }
        update();
      });
    }
    window.addEventListener("hashchange", function () { readHash(); draw(); });
  }

  // --- cross-filtering: a mark with data-pick narrows the page to its value --------------
  // Picking the only chosen value again removes the filter. Months pick a one-month range.
  function pick(id, value) {
    if (id === "months") {
      var index = months.indexOf(value);
      if (index < 0) { return; }
      if (state.from === index && state.to === index) {
        state.from = 0;
        state.to = months.length - 1;
      } else { state.from = index; state.to = index; }
    } else if (filterIds.indexOf(id) >= 0) {
      var set = state[id];
      state[id] = set && set.size === 1 && set.has(value) ? null : new Set([value]);
    } else { return; }
    update();
  }
  function isPicked(id, value) {
    return !!(state[id] && state[id].size === 1 && state[id].has(value));
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest && event.target.closest("[data-pick]");
    if (target) { pick(target.getAttribute("data-pick"), target.getAttribute("data-pick-value")); }
  });

  // --- keyboard: a chart is one tab stop; arrows move between its marks -----------------
  function rove(container) {
    var marks = container.querySelectorAll("[tabindex]");
    marks.forEach(function (m, i) { m.setAttribute("tabindex", i === 0 ? "0" : "-1"); });
  }
  function nextMark(current, key) {
    var container = current.closest("[data-roving]");
    var marks = Array.from(container.querySelectorAll("[tabindex]"));
    var i = marks.indexOf(current);
    if (key === "Home") { return marks[0]; }
    if (key === "End") { return marks[marks.length - 1]; }
    var here = current.getBoundingClientRect();
    var cx = here.left + here.width / 2, cy = here.top + here.height / 2;
    var dx = key === "ArrowRight" ? 1 : key === "ArrowLeft" ? -1 : 0;
    var dy = key === "ArrowDown" ? 1 : key === "ArrowUp" ? -1 : 0;
    var best = null, bestScore = Infinity;
    marks.forEach(function (m, j) {
      if (j === i) { return; }
      var box = m.getBoundingClientRect();
      var ox = box.left + box.width / 2 - cx, oy = box.top + box.height / 2 - cy;
      var along = ox * dx + oy * dy, across = Math.abs(ox * dy) + Math.abs(oy * dx);
      if (along <= 0.5) { return; }
      var score = along + 3 * across;
      if (score < bestScore) { bestScore = score; best = m; }
    });
    return best || marks[Math.min(marks.length - 1, Math.max(0, i + dx + dy))];
  }
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!target.closest) { return; }
    if ((event.key === "Enter" || event.key === " ") && target.hasAttribute("data-pick") &&
        target.tagName !== "BUTTON") {
      event.preventDefault();
      pick(target.getAttribute("data-pick"), target.getAttribute("data-pick-value"));
      return;
    }
    var keys = ["ArrowRight", "ArrowLeft", "ArrowUp", "ArrowDown", "Home", "End"];
    if (keys.indexOf(event.key) < 0 || !target.closest("[data-roving]") ||
        !target.hasAttribute("tabindex")) { return; }
    var next = nextMark(target, event.key);
    if (next && next !== target) {
      event.preventDefault();
      target.setAttribute("tabindex", "-1");
      next.setAttribute("tabindex", "0");
      next.focus();
    }
  });

  // --- cards ----------------------------------------------------------------------------
  // spec: value (raw), shown (text), exact (full value on hover), note (what it counts),
  // delta / yoy (change against the previous period / a year before) with deltaFormat
  // (fmt.signedPercent for relative changes, fmt.points for rates, fmt.signedDays),
  // better ("up" or "down": which direction is good), noDelta (why there is none).
  function card(id, spec) {
    var node = document.querySelector('[data-kpi="' + id + '"]');
    if (!node) { return; }
    node.setAttribute("data-value", spec.value == null ? "" : String(spec.value));
    node.textContent = spec.shown;
    var box = node.parentNode;
    box.setAttribute("data-tip", spec.exact || spec.shown);
    if (spec.note != null) { box.querySelector(".card-note").textContent = spec.note; }
    var delta = box.querySelector(".card-delta");
    if (!delta) { return; }
    var format = spec.deltaFormat || fmt.signedPercent, parts = [];
    var tone = 0;
    if (spec.delta != null) {
      parts.push(format(spec.delta) + " vs previous period");
      tone = spec.delta;
    } else if (spec.noDelta) {
      parts.push(spec.noDelta);
    }
    if (spec.yoy != null) { parts.push(format(spec.yoy) + " vs a year before"); }
    delta.textContent = parts.join(" · ");
    var good = spec.better === "down" ? -tone : tone;
    delta.className = "card-delta" + (spec.delta == null ? "" : good > 0.0005 ? " up" :
      good < -0.0005 ? " down" : "");
    delta.setAttribute("data-delta", spec.delta == null ? "" : String(spec.delta));
    delta.setAttribute("data-yoy", spec.yoy == null ? "" : String(spec.yoy));
  }

  // Change from an earlier value: relative (fraction), or null without one (or from zero).
  function change(current, previous) {
    return current == null || previous == null || !previous ? null :
      (current - previous) / Math.abs(previous);
  }
  // Difference from an earlier value (rates in points, days in days).
  function difference(current, previous) {
    return current == null || previous == null ? null : current - previous;
  }
  // Why a card has no change to show.
  function noDeltaReason() {
    return previousSpan() ? "no data in the previous period" :
      "no earlier period in the data";
  }

  // Least-squares line through the values shown (nulls skipped); null with fewer than 2.
  function trend(values) {
    var xs = [], ys = [];
    values.forEach(function (v, i) { if (v != null) { xs.push(i); ys.push(v); } });
    if (xs.length < 2) { return null; }
    var mx = xs.reduce(function (a, b) { return a + b; }) / xs.length;
    var my = ys.reduce(function (a, b) { return a + b; }) / ys.length;
    var num = 0, den = 0;
    xs.forEach(function (x, i) { num += (x - mx) * (ys[i] - my); den += (x - mx) * (x - mx); });
    var slope = den ? num / den : 0;
    return values.map(function (_, i) { return my + slope * (i - mx); });
  }

  // --- panels: chart + data table + CSV of the same rows --------------------------------
  var panelData = {}, tables = {};

  function chartWidth(slot) {
    var width = slot.clientWidth || 600;
    return printing ? Math.min(width, PRINT_WIDTH - 40) : width;
  }

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
    slot.innerHTML = spec.rows.length ? spec.chart(chartWidth(slot)) :
      '<div class="empty-state" data-empty="filtered">No rows match these filters.</div>';
    slot.querySelectorAll("[data-roving]").forEach(rove);
    if (spec.after && spec.rows.length) { spec.after(slot); }
    var details = node.querySelector(".data-table");
    if (details.open) { drawTable(id); }
  }

  // The rows a panel's table and CSV hold, in the table's order (tests read this).
  function rowsOf(id) {
    var spec = panelData[id], sort = tables[id] && tables[id].sort;
    if (!spec) { return []; }
    var list = spec.rows.slice();
    if (sort) {
      list.sort(function (a, b) {
        var x = a[sort.key], y = b[sort.key];
        if (x == null && y == null) { return 0; }
        if (x == null) { return 1; }
        if (y == null) { return -1; }
        var order = typeof x === "number" && typeof y === "number" ? x - y :
          String(x).localeCompare(String(y));
        return sort.desc ? -order : order;
      });
    }
    return list;
  }

  var PAGE_ROWS = 100;

  // Data tables are built when opened (a closed one costs nothing on a redraw), sortable
  // by any column, searchable, and shown a hundred rows at a time.
  function drawTable(id) {
    var spec = panelData[id], node = document.getElementById("panel-" + id);
    var view = tables[id] = tables[id] || { sort: null, query: "", limit: PAGE_ROWS };
    var words = view.query.trim().toLowerCase();
    var list = rowsOf(id).filter(function (row) {
      return !words || spec.columns.some(function (c) {
        return String((c.fmt || fmt.text)(row[c.key])).toLowerCase().indexOf(words) >= 0 ||
          String(row[c.key]).toLowerCase().indexOf(words) >= 0;
      });
    });
    var slot = node.querySelector(".table-slot");
    if (!list.length) { slot.innerHTML = "<p>No rows.</p>"; return; }
    var head = spec.columns.map(function (c) {
      var sorted = view.sort && view.sort.key === c.key;
      return '<th scope="col" aria-sort="' + (sorted ? (view.sort.desc ? "descending" :
        "ascending") : "none") + '"><button type="button" data-sort="' + esc(c.key) + '">' +
        esc(c.label) + (sorted ? (view.sort.desc ? " ▼" : " ▲") : "") + "</button></th>";
    });
    var body = list.slice(0, view.limit).map(function (row) {
      return "<tr>" + spec.columns.map(function (c) {
        var value = row[c.key], shown = (c.fmt || fmt.text)(value);
        var numeric = typeof value === "number";
        return "<td" + (numeric ? ' class="num"' : "") + ' data-col="' + esc(c.key) +
          '" data-value="' + esc(value == null ? "" : value) + '">' + esc(shown) + "</td>";
      }).join("") + "</tr>";
    });
    var more = list.length > view.limit ? '<p class="more">Showing ' + fmt.count(view.limit) +
      " of " + fmt.count(list.length) + ' rows. <button type="button" data-more>Show all' +
      "</button> (the CSV always has every row)</p>" : "";
    slot.innerHTML = '<table class="data"><thead><tr>' + head.join("") + "</tr></thead><tbody>" +
      body.join("") + "</tbody></table>" + more;
  }

  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (!details.classList || !details.classList.contains("data-table") || !details.open) {
      return;
    }
    drawTable(details.closest("section.panel").id.slice(6));
  }, true);
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".data-table button");
    if (!button) { return; }
    var id = button.closest("section.panel").id.slice(6), view = tables[id];
    if (button.hasAttribute("data-sort")) {
      var key = button.getAttribute("data-sort");
      view.sort = view.sort && view.sort.key === key ? { key: key, desc: !view.sort.desc } :
        { key: key, desc: false };
    } else if (button.hasAttribute("data-more")) {
      view.limit = Infinity;
    } else { return; }
    drawTable(id);
  });
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.classList || !input.classList.contains("table-search")) { return; }
    var id = input.closest("section.panel").id.slice(6);
    tables[id] = tables[id] || { sort: null, query: "", limit: PAGE_ROWS };
    tables[id].query = input.value;
    drawTable(id);
  });

  // --- CSV: the panel's rows, with what they are, their filters and their data date -----
  // Text a spreadsheet would run as a formula (= + - @ tab CR at the start) gets a leading
  // quote (OWASP's CSV-injection rule); numbers stay numbers.
  function csvCell(v) {
    var text = v == null ? "" : String(v);
    if (typeof v === "string" && /^[=+\-@\t\r]/.test(text)) { text = "'" + text; }
    return /[",\n\r]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }
  function filterText() {
    var parts = ["months " + fmt.range(months[state.from], months[state.to])];
    filterIds.forEach(function (id) {
      if (state[id]) {
        parts.push(filterOf(id).label.toLowerCase() + " " + (state[id].size ?
          Array.from(state[id]).map(function (v) { return valueLabel(id, v); }).join(", ") :
          "none"));
      }
    });
    return parts.join("; ");
  }
  function csv(id) {
    var spec = panelData[id], run = config.run || {};
    var title = document.getElementById("title-" + id);
    var lines = [
      "# DeltaStore · " + document.title.split(" · ")[0] + " · " + (title ? title.textContent : id),
      "# Filters: " + filterText(),
      "# Data: run date " + (run.runDate || "unknown") + ", orders " + (run.first || "?") +
        " to " + (run.last || "?"),
      spec.columns.map(function (c) { return csvCell(c.key); }).join(",")
    ];
    rowsOf(id).forEach(function (row) {
      lines.push(spec.columns.map(function (c) { return csvCell(row[c.key]); }).join(","));
    });
    return lines.join("\r\n") + "\r\n";
  }
  // page-panel_from_to[_filter-values]_run-date.csv: two downloads with different filters
  // never get the same name.
  function csvName(id) {
    var parts = [config.page + "-" + id, months[state.from].slice(0, 7) + "_" +
      months[state.to].slice(0, 7)];
    filterIds.forEach(function (fid) {
      if (state[fid]) {
        parts.push(fid + "-" + (state[fid].size ? Array.from(state[fid]).map(function (v) {
          return v === "" ? "none" : v;
        }).join("+") : "none"));
      }
    });
    parts.push("run-" + ((config.run || {}).runDate || "unknown"));
    return parts.join("_").replace(/[^A-Za-z0-9_+.-]+/g, "-") + ".csv";
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-csv]");
    if (!button) { return; }
    var id = button.getAttribute("data-csv");
    var link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([csv(id)], { type: "text/csv" }));
    link.download = csvName(id);
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

  function showTipAt(content, box) {
    tip.textContent = content;
    tip.hidden = false;
    var width = tip.offsetWidth;
    var left = Math.min(Math.max(4, box.left + box.width / 2 - width / 2),
      document.documentElement.clientWidth - width - 4);
    tip.style.left = left + window.scrollX + "px";
    tip.style.top = box.top + window.scrollY - tip.offsetHeight - 6 + "px";
  }
  function showTip(target) { showTipAt(target.getAttribute("data-tip"), target.getBoundingClientRect()); }
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
  // Dense scatter charts: the pointer shows the nearest point's tip (DS.nearestTip).
  var placed = new WeakMap();
  function nearestTip(svgNode, points) { placed.set(svgNode, points); }
  document.addEventListener("pointermove", function (event) {
    var hit = event.target.classList && event.target.classList.contains("scatter-hit") ?
      event.target : null;
    if (!hit) { return; }
    var chart = hit.ownerSVGElement, points = placed.get(chart);
    if (!points) { return; }
    var box = chart.getBoundingClientRect(), k = chart.viewBox.baseVal.width / box.width;
    var px = (event.clientX - box.left) * k, py = (event.clientY - box.top) * k;
    var best = null, bestDistance = 12 * 12;
    points.forEach(function (p) {
      var d = (p[0] - px) * (p[0] - px) + (p[1] - py) * (p[1] - py);
      if (d < bestDistance) { bestDistance = d; best = p; }
    });
    if (!best) { tip.hidden = true; return; }
    showTipAt(best[2], { left: box.left + best[0] / k - 4, top: box.top + best[1] / k - 4,
      width: 8, height: 8 });
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
    if (printing) { return; }
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(draw, 150);
  });
  // Print: redraw at the paper's width (not the screen's, which the print layout still
  // reports at this point), so printed charts are not shrunk; back after.
  window.addEventListener("beforeprint", function () { printing = true; draw(); });
  window.addEventListener("afterprint", function () { printing = false; draw(); });
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
    groupSum: groupSum, previousSpan: previousSpan, yearBeforeSpan: yearBeforeSpan,
    chosen: chosen, range: range, option: option, periods: periods, periodOf: periodOf,
    isQuarters: isQuarters, isFullRange: isFullRange, isUnfiltered: isUnfiltered, card: card, change: change,
    difference: difference, noDeltaReason: noDeltaReason, trend: trend, panel: panel,
    rowsOf: rowsOf, csv: csv, csvName: csvName, pick: pick, isPicked: isPicked,
    nearestTip: nearestTip, start: start, draw: draw, update: update,
    setState: function (next) {
      state = Object.assign({ opt: state.opt }, next);
      update();
    },
    state: function () { return state; },
    setPrinting: function (on) { printing = on; draw(); }
  };
}());
