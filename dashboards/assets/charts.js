// Small SVG charts drawn at the width they are given (1 unit = 1 CSS pixel, so text stays
// 12 px on a phone and, redrawn at the paper's width, about 9 pt in print). Every mark
// carries data-tip with its exact value; a mark with data-pick filters the page when
// clicked (dashboard.js). Marks of one chart form one tab stop: arrow keys move between
// them (data-roving).
/* global DS */
/* exported Charts */
var Charts = (function () {
  "use strict";

  var INK = "#1f2933", MUTED = "#52606d", GRID = "#e4e7eb", NO_DATA = "#f5f7fa";
  var esc = DS.esc, fmt = DS.fmt;

  function svg(width, height, label, body) {
    return '<svg class="chart" role="img" aria-label="' + esc(label) + '" width="' + width +
      '" height="' + height + '" viewBox="0 0 ' + width + " " + height + '" data-roving>' +
      "<title>" + esc(label) + "</title>" + body.join("") + "</svg>";
  }

  function text(x, y, content, anchor, extra, fill, size) {
    return '<text x="' + x.toFixed(1) + '" y="' + y.toFixed(1) + '" text-anchor="' +
      (anchor || "start") + '" fill="' + (fill || MUTED) + '" font-size="' + (size || 12) +
      '"' + (extra || "") + ">" + esc(content) + "</text>";
  }

  // A pick makes a mark filter the page: {filter, value} (see DS.pick).
  function pickAttributes(pick) {
    return pick ? ' data-pick="' + esc(pick.filter) + '" data-pick-value="' + esc(pick.value) +
      '"' + (pick.active ? ' data-picked="true"' : "") : "";
  }

  function mark(shape, attributes, tipText, pick) {
    return "<" + shape + " " + attributes + ' data-tip="' + esc(tipText) + '" tabindex="0"' +
      pickAttributes(pick) + "/>";
  }

  // Round ticks covering [low, high]: 1, 2, 2.5 or 5 times a power of ten apart (whole
  // numbers only for counts).
  function ticks(low, high, count, whole) {
    if (!(high > low)) { high = low + 1; }
    var raw = (high - low) / (count || 5);
    if (whole) { raw = Math.max(1, raw); }
    var power = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 2.5, 5, 10].map(function (m) { return m * power; })
      .filter(function (s) { return s >= raw && (!whole || s % 1 === 0); })[0];
    var out = [];
    for (var v = Math.floor(low / step) * step; v < high + step * 0.999; v += step) {
      out.push(Math.round(v * 1e10) / 1e10);
    }
    return out;
  }

  function scale(d0, d1, r0, r1) {
    return function (v) { return r0 + (v - d0) / ((d1 - d0) || 1) * (r1 - r0); };
  }

  function finite(values) {
    return values.filter(function (v) { return v != null && isFinite(v); });
  }

  // Period axis labels (DS.periods): "Jan"/"Q1" for each, the year under the first and
  // under each January or first quarter.
  function periodAxis(periods, x, y, every) {
    return periods.map(function (p, i) {
      if (i % every) { return ""; }
      return text(x(i), y, p.short, "middle") +
        (i === 0 || p.yearStart ? text(x(i), y + 14, p.year, "middle") : "");
    }).join("");
  }

  function yAxis(values, x0, x1, y, format) {
    return values.map(function (v) {
      return '<line x1="' + x0 + '" x2="' + x1 + '" y1="' + y(v).toFixed(1) + '" y2="' +
        y(v).toFixed(1) + '" stroke="' + GRID + '"/>' + text(x0 - 6, y(v) + 4, format(v), "end");
    }).join("");
  }

  function everyNth(count, width, room) {
    return Math.max(1, Math.ceil(count * (room || 34) / Math.max(1, width)));
  }

  // A line per series over periods. series: [{name, values, colour, dashed, faint, format,
  // pick}]; spec: {format, label, zero (start the axis at 0, default true), max, target:
  // {value, label}, pickPeriods (points filter the page to their month), categorical (the
  // series are categories: their keys are checked for distinct colours)}.
  function line(width, periods, series, spec) {
    var height = spec.height || 220, left = 58, right = 18, top = 12, bottom = 40;
    var all = [];
    series.forEach(function (s) { all = all.concat(finite(s.values)); });
    if (spec.target) { all.push(spec.target.value); }
    if (!all.length) { all = [0]; }
    var low = spec.zero === false ? Math.min.apply(null, all) : Math.min(0, Math.min.apply(null, all));
    var yt = ticks(low, spec.max != null ? spec.max : Math.max.apply(null, all), 4,
      spec.format === fmt.count);
    var y = scale(yt[0], yt[yt.length - 1], height - bottom, top);
    var x = periods.length > 1 ? scale(0, periods.length - 1, left + 10, width - right - 10) :
      function () { return (left + width - right) / 2; };
    var body = [yAxis(yt, left, width - right, y, spec.format)];
    body.push(periodAxis(periods, x, height - bottom + 16,
      everyNth(periods.length, width - left - right)));
    if (spec.target) {
      body.push('<line x1="' + left + '" x2="' + (width - right) + '" y1="' +
        y(spec.target.value).toFixed(1) + '" y2="' + y(spec.target.value).toFixed(1) +
        '" stroke="' + INK + '" stroke-dasharray="2 3"/>' +
        text(width - right, y(spec.target.value) - 4, spec.target.label, "end"));
    }
    series.forEach(function (s) {
      var runs = [[]];
      s.values.forEach(function (v, i) {
        if (v == null) { runs.push([]); return; }
        runs[runs.length - 1].push(x(i).toFixed(1) + "," + y(v).toFixed(1));
      });
      runs.forEach(function (points) {
        if (points.length > 1) {
          body.push('<polyline fill="none" stroke="' + s.colour + '" stroke-width="' +
            (s.faint ? 1.5 : 2) + '"' + (s.dashed ? ' stroke-dasharray="6 4"' : "") +
            (s.faint ? ' stroke-opacity="0.55"' : "") + ' points="' + points.join(" ") + '"/>');
        }
      });
      if (s.dashed || s.faint) { return; }
      s.values.forEach(function (v, i) {
        if (v == null) { return; }
        var p = periods[i];
        body.push(mark("circle", 'cx="' + x(i).toFixed(1) + '" cy="' + y(v).toFixed(1) +
          '" r="4" fill="' + s.colour + '"', p.label + " · " + s.name + ": " +
          (s.format || spec.format)(v) + (p.note ? " (" + p.note + ")" : ""),
          spec.pickPeriods && p.month ? { filter: "months", value: p.month } : null));
      });
    });
    return svg(width, height, spec.label, body) + legend(series, spec.categorical);
  }

  // Series keys; a key with a pick filters the page to its series.
  function legend(items, categorical) {
    return '<ul class="keys' + (categorical ? " categorical" : "") + '">' +
      items.map(function (s) {
        var swatch = '<span class="swatch' + (s.dashed ? " dashed" : "") + (s.faint ?
          " faint" : "") + '" style="background:' + s.colour + '" data-colour="' + s.colour +
          '"></span>';
        if (s.pick) {
          return '<li><button type="button" class="key"' + pickAttributes(s.pick) + '>' +
            swatch + esc(s.name) + "</button></li>";
        }
        return "<li>" + swatch + esc(s.name) + "</li>";
      }).join("") + "</ul>";
  }

  // Vertical bars per period, stacked when several series; labels: optional text above
  // each bar ({text, colour}). stacks: [{name, colour, values}].
  function bars(width, periods, stacks, spec) {
    var height = spec.height || 200, left = 58, right = 14, top = spec.labels ? 22 : 10;
    var bottom = 38;
    var totals = periods.map(function (_, i) {
      return stacks.reduce(function (t, s) { return t + (s.values[i] || 0); }, 0);
    });
    var yt = ticks(0, Math.max.apply(null, totals.concat([1])), 4, spec.format === fmt.count);
    var y = scale(0, yt[yt.length - 1], height - bottom, top);
    var band = (width - left - right) / Math.max(1, periods.length);
    var x = function (i) { return left + band * (i + 0.5); };
    var body = [yAxis(yt, left, width - right, y, spec.format)];
    periods.forEach(function (p, i) {
      var base = 0;
      stacks.forEach(function (s) {
        var v = s.values[i] || 0;
        if (v <= 0) { return; }
        var y0 = y(base), y1 = y(base + v);
        body.push(mark("rect", 'x="' + (x(i) - band * 0.36).toFixed(1) + '" y="' +
          y1.toFixed(1) + '" width="' + (band * 0.72).toFixed(1) + '" height="' +
          Math.max(1, y0 - y1).toFixed(1) + '" fill="' + s.colour + '"', p.label + " · " +
          s.name + ": " + (s.format || spec.format)(v) + (p.note ? " (" + p.note + ")" : ""),
          spec.pickPeriods && p.month ? { filter: "months", value: p.month } : null));
        base += v;
      });
      var label = spec.labels && spec.labels[i];
      if (label && label.text && band >= 30) {
        body.push(text(x(i), y(totals[i]) - 5, label.text, "middle", "", label.colour, 11));
      }
    });
    body.push(periodAxis(periods, x, height - bottom + 16, everyNth(periods.length,
      width - left - right)));
    return svg(width, height, spec.label, body) + (stacks.length > 1 || spec.legend ?
      legend(stacks) : "");
  }

  // Vertical bars around zero: change per period, green up and red down.
  function growth(width, periods, values, label) {
    var height = 170, left = 52, right = 14, top = 10, bottom = 38;
    var known = finite(values);
    var yt = ticks(Math.min(0, Math.min.apply(null, known.concat([0]))),
      Math.max(0, Math.max.apply(null, known.concat([0]))), 4);
    var y = scale(yt[0], yt[yt.length - 1], height - bottom, top);
    var band = (width - left - right) / Math.max(1, periods.length);
    var x = function (i) { return left + band * (i + 0.5); };
    var body = [yAxis(yt, left, width - right, y, fmt.signedPercent)];
    values.forEach(function (v, i) {
      var p = periods[i];
      if (v == null) {
        body.push(text(x(i), y(0) - 4, "n/a", "middle"));
        return;
      }
      var top0 = Math.min(y(v), y(0)), h = Math.max(1, Math.abs(y(v) - y(0)));
      body.push(mark("rect", 'x="' + (x(i) - band * 0.35).toFixed(1) + '" y="' + top0.toFixed(1) +
        '" width="' + (band * 0.7).toFixed(1) + '" height="' + h.toFixed(1) + '" fill="' +
        (v >= 0 ? "#15803d" : "#b91c1c") + '"', p.label + ": " + fmt.signedPercent(v) +
        " against the " + (p.month ? "month" : "quarter") + " before"));
    });
    body.push('<line x1="' + left + '" x2="' + (width - right) + '" y1="' + y(0) + '" y2="' +
      y(0) + '" stroke="' + INK + '"/>');
    body.push(periodAxis(periods, x, height - bottom + 16, everyNth(periods.length,
      width - left - right)));
    return svg(width, height, label, body);
  }

  // items: [{label, value, shown, tip, highlight, colour, pick}] as horizontal bars on
  // [0, max].
  function hbars(width, items, max, label, colour) {
    var row = 28, labelWidth = Math.min(150, width * 0.38), valueWidth = 78;
    var height = items.length * row + 6;
    var x = scale(0, max || 1, labelWidth, width - valueWidth);
    var body = items.map(function (it, i) {
      var y = i * row + 4;
      return text(labelWidth - 8, y + 17, it.label, "end", it.highlight ?
        ' font-weight="700"' : "") +
        mark("rect", 'x="' + labelWidth + '" y="' + y + '" width="' +
          Math.max(1, x(it.value || 0) - labelWidth).toFixed(1) + '" height="' + (row - 10) +
          '" fill="' + (it.colour || (it.highlight ? "#1e3a8a" : colour || "#2563eb")) + '"',
          it.tip, it.pick) +
        text(x(it.value || 0) + 6, y + 17, it.shown, "start");
    });
    return svg(width, height, label, body);
  }

  // One bar split by share; labels sit in the legend, not on the coloured parts.
  function shareBar(width, parts, label) {
    var x = 0, body = [];
    parts.forEach(function (p) {
      var w = p.share * width;
      body.push(mark("rect", 'x="' + x.toFixed(1) + '" y="4" width="' + Math.max(0, w).toFixed(1) +
        '" height="30" fill="' + p.colour + '"', p.tip));
      x += w;
    });
    return svg(width, 38, label, body) + '<ul class="keys">' + parts.map(function (p) {
      return '<li><span class="swatch" style="background:' + p.colour + '"></span>' +
        esc(p.label) + " " + esc(fmt.percent(p.share)) + "</li>";
    }).join("") + "</ul>";
  }

  // Rating (x) against revenue (y, log scale when asked). points: [{x, y, colour, shape,
  // tip, label, pick, key}]. With many points (spec.dense) each colour is one path and a
  // pointer shows the nearest point's tip, so thousands of points stay cheap to draw;
  // spec.found lists points drawn on top as focusable, labelled marks.
  function scatter(width, points, spec) {
    var height = spec.height || 300, left = 62, right = 16, top = 14, bottom = 44;
    var xs = points.map(function (p) { return p.x; }), ys = points.map(function (p) { return p.y; });
    var xLow = Math.max(1, Math.floor(Math.min.apply(null, xs.concat([3])) * 2) / 2 - 0.5);
    var xHigh = Math.min(5, Math.ceil(Math.max.apply(null, xs.concat([3])) * 2) / 2 + 0.5);
    var x = scale(xLow, xHigh, left + 8, width - right - 8);
    var y, yt;
    if (spec.log) {
      var lo = Math.floor(Math.log10(Math.max(1, Math.min.apply(null, ys))));
      var hi = Math.ceil(Math.log10(Math.max(10, Math.max.apply(null, ys))));
      var ly = scale(lo, hi, height - bottom, top);
      y = function (v) { return ly(Math.log10(Math.max(1, v))); };
      yt = [];
      for (var p = lo; p <= hi; p++) { yt.push(Math.pow(10, p)); }
    } else {
      yt = ticks(0, Math.max.apply(null, ys.concat([1])), 4);
      y = scale(0, yt[yt.length - 1], height - bottom, top);
    }
    var body = [yAxis(yt, left, width - right, y, fmt.moneyShort)];
    for (var v = xLow; v <= xHigh + 1e-9; v += 0.5) {
      body.push(text(x(v), height - bottom + 16, (v % 1 ? v.toFixed(1) : v) + " ★", "middle"));
    }
    if (xLow < 3 && xHigh > 3) {
      body.push('<line x1="' + x(3) + '" x2="' + x(3) + '" y1="' + top + '" y2="' +
        (height - bottom) + '" stroke="#b91c1c" stroke-dasharray="4 4"/>' +
        text(x(3) - 4, top + 10, "below 3 ★", "end", "", "#b91c1c"));
    }
    body.push(text((left + width) / 2, height - 6, "Average rating", "middle"));
    var place = function (pt) { return [x(pt.x), y(pt.y)]; };
    if (spec.dense) {
      var paths = {};
      points.forEach(function (pt) {
        var at = place(pt);
        paths[pt.colour] = (paths[pt.colour] || "") + "M" + at[0].toFixed(1) + " " +
          at[1].toFixed(1) + "h0";
      });
      Object.keys(paths).forEach(function (colour) {
        body.push('<path d="' + paths[colour] + '" stroke="' + colour + '" stroke-width="7" ' +
          'stroke-linecap="round" stroke-opacity="0.6" fill="none"/>');
      });
      body.push('<rect class="scatter-hit" x="' + left + '" y="' + top + '" width="' +
        (width - left - right) + '" height="' + (height - top - bottom) +
        '" fill="transparent"/>');
    } else {
      var taken = [];
      points.forEach(function (pt) {
        var at = place(pt), r = pt.r || 5;
        body.push(pt.shape === "square" ?
          mark("rect", 'x="' + (at[0] - r).toFixed(1) + '" y="' + (at[1] - r).toFixed(1) +
            '" width="' + 2 * r + '" height="' + 2 * r + '" fill="' + pt.colour +
            '" fill-opacity="0.8"', pt.tip, pt.pick) :
          mark("circle", 'cx="' + at[0].toFixed(1) + '" cy="' + at[1].toFixed(1) + '" r="' + r +
            '" fill="' + pt.colour + '" fill-opacity="0.8"', pt.tip, pt.pick));
        if (pt.label) {
          // beside the point; moved down (or to the left) until it overlaps no other label
          var w = pt.label.length * 6.5, lx = at[0] + r + 4, ly = at[1] + 4, anchor = "start";
          if (lx + w > width - right) { lx = at[0] - r - 4; anchor = "end"; }
          var box = function () {
            return anchor === "start" ? [lx, ly - 11, lx + w, ly + 2] : [lx - w, ly - 11, lx, ly + 2];
          };
          for (var tries = 0; tries < 6 && taken.some(function (b) {
            var a = box();
            return a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
          }); tries++) { ly += 13; }
          taken.push(box());
          body.push(text(lx, ly, pt.label, anchor, "", INK));
        }
      });
    }
    (spec.found || []).forEach(function (pt) {
      var at = place(pt);
      body.push(mark("circle", 'cx="' + at[0].toFixed(1) + '" cy="' + at[1].toFixed(1) +
        '" r="7" fill="none" stroke="' + INK + '" stroke-width="2" class="found"', pt.tip));
    });
    var out = svg(width, height, spec.label, body);
    if (spec.dense) {
      // where each point sits on screen, for the pointer's nearest-point tooltip
      spec.onPlaced(points.map(function (pt) { return place(pt).concat([pt.tip]); }));
    }
    return out;
  }

  // --- colour ------------------------------------------------------------------------
  // Relative luminance contrast: pick the ink that reads best on a fill (WCAG).
  function luminance(hex) {
    var c = [1, 3, 5].map(function (i) {
      var v = parseInt(hex.substr(i, 2), 16) / 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }
  function inkOn(fill) {
    var l = luminance(fill);
    return (1.05) / (l + 0.05) > (l + 0.05) / (luminance(INK) + 0.05) ? "#ffffff" : INK;
  }
  // Stepped classes rather than a smooth blend: each class is light enough for dark ink or
  // dark enough for white ink at 4.5:1, which mid-tones of a blend are not.
  var BLUES = ["#eff6ff", "#bfdbfe", "#60a5fa", "#2563eb", "#1e3a8a"];
  var ORANGES = ["#fff7ed", "#fed7aa", "#fb923c", "#c2410c", "#7c2d12"];
  // Faster than the centre in blues, slower in oranges.
  var DIVERGING = ["#1e3a8a", "#2563eb", "#bfdbfe", "#fed7aa", "#fb923c", "#9a3412"];
  // Categories: neighbours at least 30 apart in CIELAB (tests/dashboards check it).
  var CATEGORICAL = ["#2563eb", "#d97706", "#7c3aed", "#059669", "#db2777", "#4d7c0f",
    "#0891b2", "#92400e"];

  // Quantile classes of the values on screen: each class holds about the same number of
  // them, whatever their spread. Returns {colourOf, legend}.
  function quantiles(values, palette, format, what) {
    var sorted = finite(values).slice().sort(function (a, b) { return a - b; });
    var distinct = sorted.filter(function (v, i) { return i === 0 || v !== sorted[i - 1]; });
    var k = Math.min(palette.length, Math.max(1, sorted.length));
    var breaks = [];
    if (distinct.length <= k) {
      breaks = distinct.slice(1);  // few values: one class each
    } else {
      for (var i = 1; i < k; i++) {
        var b = sorted[Math.floor(i * sorted.length / k)];
        // a run of equal values must not swallow a class: step to the next value up
        var last = breaks.length ? breaks[breaks.length - 1] : sorted[0];
        if (b <= last) { b = distinct.filter(function (v) { return v > last; })[0]; }
        if (b !== undefined) { breaks.push(b); }
      }
    }
    var colours = breaks.length + 1 <= palette.length ?
      spread(palette, breaks.length + 1) : palette;
    function classOf(v) {
      var c = 0;
      while (c < breaks.length && v >= breaks[c]) { c++; }
      return c;
    }
    var members = colours.map(function () { return []; });
    sorted.forEach(function (v) { members[classOf(v)].push(v); });
    return {
      kind: "quantile",
      colourOf: function (v) { return colours[classOf(v)]; },
      legend: '<span class="scale-kind">Quantile classes (about ' +
        (colours.length > 1 ? "1/" + colours.length : "all") + " of the " + esc(what) +
        " shown each):</span> " + colours.map(function (c, i) {
          var m = members[i];
          return classKey(c, m.length ? (m[0] === m[m.length - 1] ? format(m[0]) :
            format(m[0]) + "–" + format(m[m.length - 1])) : "–");
        }).join(" ")
    };
  }

  // n colours spread over a palette, keeping its ends.
  function spread(palette, n) {
    if (n <= 1) { return [palette[Math.floor(palette.length / 2)]]; }
    var out = [];
    for (var i = 0; i < n; i++) {
      out.push(palette[Math.round(i * (palette.length - 1) / (n - 1))]);
    }
    return out;
  }

  // Diverging classes around a centre (the average of everything shown), in steps of half
  // a standard deviation of the values: below the centre one way, above it the other.
  function diverging(values, centre, format, what, lowWord, highWord) {
    var known = finite(values);
    var mean = known.reduce(function (s, v) { return s + v; }, 0) / Math.max(1, known.length);
    var sd = Math.sqrt(known.reduce(function (s, v) { return s + (v - mean) * (v - mean); }, 0) /
      Math.max(1, known.length)) || 1e-9;
    var steps = [-1.5, -0.5, 0, 0.5, 1.5].map(function (z) { return centre + z * sd; });
    function classOf(v) {
      var c = 0;
      while (c < steps.length && v >= steps[c]) { c++; }
      return c;
    }
    var labels = ["under " + format(steps[0]), format(steps[0]) + "–" + format(steps[1]),
      format(steps[1]) + "–" + format(centre), format(centre) + "–" + format(steps[3]),
      format(steps[3]) + "–" + format(steps[4]), format(steps[4]) + " and over"];
    return {
      kind: "diverging",
      colourOf: function (v) { return DIVERGING[classOf(v)]; },
      legend: '<span class="scale-kind">Diverging around the average of the ' + esc(what) +
        " shown (" + esc(format(centre)) + "), in half standard deviations of the states: " +
        esc(lowWord) + " in blue, " + esc(highWord) + " in orange:</span> " +
        DIVERGING.map(function (c, i) { return classKey(c, labels[i]); }).join(" ")
    };
  }

  function classKey(colour, label) {
    return '<span class="class"><span class="swatch square" style="background:' + colour +
      '"></span>' + esc(label) + "</span>";
  }

  // A tile grid of US states coloured by spec.scale (fitted to the values on screen).
  // spec: {scale, format, short, label, pick (the filter a tile sets), chosen (Set)}.
  function tileMap(width, values, spec) {
    var grid = DS.config.extra.grid, names = DS.config.extra.stateNames;
    var tile = Math.max(24, Math.min(48, Math.floor((width - 2) / 12) - 3)), gap = 3;
    var step = tile + gap, body = [];
    Object.keys(grid).forEach(function (code) {
      var x = grid[code][1] * step, y = grid[code][0] * step, value = values[code];
      var fill = NO_DATA, shown = "–";
      if (value != null) {
        fill = spec.scale.colourOf(value);
        shown = spec.short(value);
      }
      var ink = inkOn(fill), chosen = spec.chosen && spec.chosen.has(code);
      body.push('<g class="tile" data-state="' + code + '" data-value="' +
        (value == null ? "" : value) + '" data-fill="' + fill + '" tabindex="0" data-tip="' +
        esc(names[code] + " (" + code + "): " + (value == null ? "no data" :
          spec.format(value)) + (spec.pick ? " · select to filter" : "")) + '"' +
        (spec.pick ? pickAttributes({ filter: spec.pick, value: code, active: chosen }) : "") +
        '><rect x="' + x + '" y="' + y + '" width="' + tile + '" height="' + tile +
        '" rx="3" fill="' + fill + '" stroke="' + (chosen ? INK : GRID) + '" stroke-width="' +
        (chosen ? 3 : 1) + '"/>' +
        '<text x="' + (x + tile / 2) + '" y="' + (y + tile * 0.42) + '" text-anchor="middle" ' +
        'font-size="' + (tile < 36 ? 10 : 12) + '" font-weight="600" fill="' + ink +
        '" data-bg="' + fill + '">' + code + "</text>" +
        (tile >= 36 ? '<text class="tile-value" x="' + (x + tile / 2) + '" y="' +
          (y + tile * 0.8) + '" text-anchor="middle" font-size="11" fill="' + ink +
          '" data-bg="' + fill + '">' + esc(shown) + "</text>" : "") + "</g>");
    });
    var legendHtml = '<div class="map-legend">' + spec.scale.legend +
      ' <span class="class"><span class="swatch square" style="background:' + NO_DATA +
      ';border:1px solid #9aa5b1"></span>no data</span></div>';
    return svg(12 * step, 8 * step, spec.label, body) + legendHtml;
  }

  return {
    line: line, bars: bars, growth: growth, hbars: hbars, shareBar: shareBar,
    scatter: scatter, tileMap: tileMap, legend: legend, quantiles: quantiles,
    diverging: diverging, inkOn: inkOn, pickAttributes: pickAttributes,
    BLUES: BLUES, ORANGES: ORANGES, CATEGORICAL: CATEGORICAL
  };
}());
