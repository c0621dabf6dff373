// Small SVG charts drawn at the width of their container (1 unit = 1 CSS pixel, so text stays
// 12 px on a phone). Every mark carries data-tip with its exact value; marks are focusable,
// so the tooltip works with a keyboard and on touch too.
/* global DS */
/* exported Charts */
var Charts = (function () {
  "use strict";

  var INK = "#1f2933", MUTED = "#52606d", GRID = "#e4e7eb";
  var esc = DS.esc, fmt = DS.fmt;

  function svg(width, height, label, body) {
    return '<svg class="chart" role="img" aria-label="' + esc(label) + '" width="' + width +
      '" height="' + height + '" viewBox="0 0 ' + width + " " + height + '">' +
      "<title>" + esc(label) + "</title>" + body.join("") + "</svg>";
  }

  function text(x, y, content, anchor, extra) {
    return '<text x="' + x.toFixed(1) + '" y="' + y.toFixed(1) + '" text-anchor="' +
      (anchor || "start") + '" fill="' + MUTED + '" font-size="12"' + (extra || "") + ">" +
      esc(content) + "</text>";
  }

  function mark(shape, attributes, tipText, focusable) {
    return "<" + shape + " " + attributes + ' data-tip="' + esc(tipText) + '"' +
      (focusable === false ? "" : ' tabindex="0"') + "/>";
  }

  // Round ticks covering [low, high]: 1, 2, 2.5 or 5 times a power of ten apart.
  function ticks(low, high, count) {
    if (!(high > low)) { high = low + 1; }
    var raw = (high - low) / (count || 5), power = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 2.5, 5, 10].map(function (m) { return m * power; })
      .filter(function (s) { return s >= raw; })[0];
    var out = [];
    for (var v = Math.floor(low / step) * step; v < high + step * 0.999; v += step) {
      out.push(Math.round(v * 1e10) / 1e10);
    }
    return out;
  }

  function scale(d0, d1, r0, r1) {
    return function (v) { return r0 + (v - d0) / ((d1 - d0) || 1) * (r1 - r0); };
  }

  // Month axis labels: "Jan" for every month, the year under the first month and each Jan.
  function monthAxis(labels, x, y, every) {
    return labels.map(function (iso, i) {
      if (i % every) { return ""; }
      var month = fmt.month(iso), year = i === 0 || iso.slice(5, 7) === "01";
      return text(x(i), y, month.slice(0, 3), "middle") +
        (year ? text(x(i), y + 14, month.slice(4), "middle") : "");
    }).join("");
  }

  function yAxis(values, x0, x1, y, format) {
    return values.map(function (v) {
      return '<line x1="' + x0 + '" x2="' + x1 + '" y1="' + y(v).toFixed(1) + '" y2="' +
        y(v).toFixed(1) + '" stroke="' + GRID + '"/>' + text(x0 - 6, y(v) + 4, format(v), "end");
    }).join("");
  }

  // series: [{name, values, colour, dashed, format}]; labels are ISO months.
  function line(width, labels, series, format, label) {
    var height = 240, left = 58, right = 18, top = 12, bottom = 40;
    var all = [];
    series.forEach(function (s) { s.values.forEach(function (v) { if (v != null) { all.push(v); } }); });
    var yt = ticks(Math.min(0, Math.min.apply(null, all)), Math.max.apply(null, all), 4);
    var y = scale(yt[0], yt[yt.length - 1], height - bottom, top);
    var x = labels.length > 1 ? scale(0, labels.length - 1, left + 10, width - right - 10) :
      function () { return (left + width - right) / 2; };
    var body = [yAxis(yt, left, width - right, y, fmt.moneyShort)];
    body.push(monthAxis(labels, x, height - bottom + 16,
      Math.max(1, Math.ceil(labels.length * 34 / (width - left - right)))));
    series.forEach(function (s) {
      var points = s.values.map(function (v, i) {
        return v == null ? null : x(i).toFixed(1) + "," + y(v).toFixed(1);
      }).filter(Boolean);
      body.push('<polyline fill="none" stroke="' + s.colour + '" stroke-width="2"' +
        (s.dashed ? ' stroke-dasharray="6 4"' : "") + ' points="' + points.join(" ") + '"/>');
      if (!s.dashed) {
        s.values.forEach(function (v, i) {
          if (v == null) { return; }
          body.push(mark("circle", 'cx="' + x(i).toFixed(1) + '" cy="' + y(v).toFixed(1) +
            '" r="4" fill="' + s.colour + '"', fmt.month(labels[i]) + " · " + s.name + ": " +
            (s.format || format)(v)));
        });
      }
    });
    return svg(width, height, label, body) + legend(series);
  }

  function legend(items) {
    return '<ul class="keys">' + items.map(function (s) {
      return '<li><span class="swatch' + (s.dashed ? " dashed" : "") +
        '" style="background:' + s.colour + '"></span>' + esc(s.name) + "</li>";
    }).join("") + "</ul>";
  }

  // Vertical bars around zero: growth per month, green up and red down.
  function growth(width, labels, values, label) {
    var height = 190, left = 52, right = 14, top = 10, bottom = 38;
    var known = values.filter(function (v) { return v != null; });
    var yt = ticks(Math.min(0, Math.min.apply(null, known.concat([0]))),
      Math.max(0, Math.max.apply(null, known.concat([0]))), 4);
    var y = scale(yt[0], yt[yt.length - 1], height - bottom, top);
    var band = (width - left - right) / Math.max(1, labels.length);
    var x = function (i) { return left + band * (i + 0.5); };
    var body = [yAxis(yt, left, width - right, y, function (v) { return fmt.signedPercent(v); })];
    values.forEach(function (v, i) {
      var tipText = fmt.month(labels[i]) + ": " + (v == null ? "no month before to compare" :
        fmt.signedPercent(v));
      if (v == null) {
        body.push(text(x(i), y(0) - 4, "n/a", "middle"));
        return;
      }
      var top0 = Math.min(y(v), y(0)), h = Math.max(1, Math.abs(y(v) - y(0)));
      body.push(mark("rect", 'x="' + (x(i) - band * 0.35).toFixed(1) + '" y="' + top0.toFixed(1) +
        '" width="' + (band * 0.7).toFixed(1) + '" height="' + h.toFixed(1) + '" fill="' +
        (v >= 0 ? "#15803d" : "#b91c1c") + '"', tipText));
    });
    body.push('<line x1="' + left + '" x2="' + (width - right) + '" y1="' + y(0) + '" y2="' +
      y(0) + '" stroke="' + INK + '"/>');
    body.push(monthAxis(labels, x, height - bottom + 16, Math.max(1, Math.ceil(34 / band))));
    return svg(width, height, label, body);
  }

  // items: [{label, value, shown, tip, highlight}] as horizontal bars on [0, max].
  function hbars(width, items, max, label, colour) {
    var row = 28, labelWidth = Math.min(150, width * 0.38), valueWidth = 70;
    var height = items.length * row + 6;
    var x = scale(0, max || 1, labelWidth, width - valueWidth);
    var body = items.map(function (it, i) {
      var y = i * row + 4;
      return text(labelWidth - 8, y + 17, it.label, "end", it.highlight ?
        ' font-weight="700"' : "") +
        mark("rect", 'x="' + labelWidth + '" y="' + y + '" width="' +
          Math.max(1, x(it.value) - labelWidth).toFixed(1) + '" height="' + (row - 10) +
          '" fill="' + (it.highlight ? "#1e3a8a" : colour || "#2563eb") + '"', it.tip) +
        text(x(it.value) + 6, y + 17, it.shown, "start");
    });
    return svg(width, height, label, body);
  }

  // One bar split by share; labels sit in the legend, not on the coloured parts.
  function shareBar(width, parts, label) {
    var x = 0, body = [];
    parts.forEach(function (p) {
      var w = p.share * width;
      body.push(mark("rect", 'x="' + x.toFixed(1) + '" y="4" width="' + Math.max(0, w).toFixed(1) +
        '" height="34" fill="' + p.colour + '"', p.tip));
      x += w;
    });
    return svg(width, 42, label, body) + '<ul class="keys">' + parts.map(function (p) {
      return '<li><span class="swatch" style="background:' + p.colour + '"></span>' +
        esc(p.label) + " " + esc(fmt.percent(p.share)) + "</li>";
    }).join("") + "</ul>";
  }

  // points: [{x, y, r, colour, shape ('circle'|'square'), tip}]; y on a log scale when asked.
  function scatter(width, points, spec) {
    var height = 320, left = 62, right = 16, top = 12, bottom = 44;
    var ys = points.map(function (p) { return p.y; });
    var x = scale(1, 5, left + 8, width - right - 8);
    var y, yt;
    if (spec.log) {
      var lo = Math.floor(Math.log10(Math.max(1, Math.min.apply(null, ys))));
      var hi = Math.ceil(Math.log10(Math.max(10, Math.max.apply(null, ys))));
      var ly = scale(lo, hi, height - bottom, top);
      y = function (v) { return ly(Math.log10(Math.max(1, v))); };
      yt = [];
      for (var p = lo; p <= hi; p++) { yt.push(Math.pow(10, p)); }
    } else {
      yt = ticks(0, Math.max.apply(null, ys), 4);
      y = scale(0, yt[yt.length - 1], height - bottom, top);
    }
    var body = [yAxis(yt, left, width - right, y, fmt.moneyShort)];
    [1, 2, 3, 4, 5].forEach(function (v) {
      body.push(text(x(v), height - bottom + 16, v + " ★", "middle"));
    });
    body.push('<line x1="' + x(3) + '" x2="' + x(3) + '" y1="' + top + '" y2="' +
      (height - bottom) + '" stroke="#b91c1c" stroke-dasharray="4 4"/>' +
      text(x(3) + 4, top + 12, "below 3 ★ to the left", "start"));
    body.push(text((left + width) / 2, height - 6, "Average rating", "middle"));
    var focusable = points.length <= 200;
    points.forEach(function (pt) {
      var cx = x(pt.x).toFixed(1), cy = y(pt.y).toFixed(1), r = pt.r;
      body.push(pt.shape === "square" ?
        mark("rect", 'x="' + (cx - r) + '" y="' + (cy - r) + '" width="' + 2 * r + '" height="' +
          2 * r + '" fill="' + pt.colour + '" fill-opacity="0.75"', pt.tip, focusable) :
        mark("circle", 'cx="' + cx + '" cy="' + cy + '" r="' + r + '" fill="' + pt.colour +
          '" fill-opacity="0.75"', pt.tip, focusable));
    });
    return svg(width, height, spec.label, body);
  }

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
  // Stepped colour classes rather than a smooth blend: each class is light enough for dark
  // ink or dark enough for white ink at 4.5:1, which mid-tones of a blend are not.
  var BLUES = ["#eff6ff", "#bfdbfe", "#93c5fd", "#60a5fa", "#2563eb", "#1e3a8a"];
  var ORANGES = ["#fff7ed", "#fed7aa", "#fdba74", "#fb923c", "#c2410c", "#7c2d12"];
  function classOf(classes, share) {
    return classes[Math.min(classes.length - 1, Math.max(0, Math.floor(share * classes.length)))];
  }
  function classLegend(classes, max, format) {
    return classes.map(function (c, i) {
      var upper = i === classes.length - 1 ? format(max * i / classes.length) + "+" :
        format(max * i / classes.length) + "–" + format(max * (i + 1) / classes.length);
      return '<span class="class"><span class="swatch square" style="background:' + c +
        '"></span>' + esc(upper) + "</span>";
    }).join(" ");
  }

  // A tile grid of US states on a fixed colour domain [0, max] (values above are clamped
  // and the legend says so), so a filter never re-stretches the colours.
  function tileMap(width, values, spec) {
    var grid = DS.config.extra.grid, names = DS.config.extra.stateNames;
    var tile = Math.max(24, Math.min(50, Math.floor((width - 2) / 12) - 3)), gap = 3;
    var step = tile + gap, body = [];
    Object.keys(grid).forEach(function (code) {
      var x = grid[code][1] * step, y = grid[code][0] * step, value = values[code];
      var fill = "#f5f7fa", shown = "–";
      if (value != null) {
        fill = classOf(spec.colours, value / (spec.max || 1));
        shown = spec.short(value);
      }
      var ink = inkOn(fill);
      body.push('<g class="tile" data-state="' + code + '" data-value="' +
        (value == null ? "" : value) + '" tabindex="0" data-tip="' +
        esc(names[code] + ": " + (value == null ? "no data" : spec.format(value))) + '">' +
        '<rect x="' + x + '" y="' + y + '" width="' + tile + '" height="' + tile +
        '" rx="3" fill="' + fill + '" stroke="' + GRID + '"/>' +
        '<text x="' + (x + tile / 2) + '" y="' + (y + tile * 0.42) + '" text-anchor="middle" ' +
        'font-size="' + (tile < 36 ? 10 : 12) + '" font-weight="600" fill="' + ink +
        '" data-bg="' + fill + '">' + code + "</text>" +
        (tile >= 36 ? '<text class="tile-value" x="' + (x + tile / 2) + '" y="' +
          (y + tile * 0.78) + '" text-anchor="middle" font-size="10" fill="' + ink +
          '" data-bg="' + fill + '">' + esc(shown) + "</text>" : "") + "</g>");
    });
    var height = 8 * step;
    var legend = '<div class="map-legend">' + classLegend(spec.colours, spec.max, spec.short) +
      ' <span class="class"><span class="swatch square" style="background:#f5f7fa;' +
      'border:1px solid #9aa5b1"></span>no data</span> (fixed scale: filters do not ' +
      "change it)</div>";
    return svg(12 * step, height, spec.label, body) + legend;
  }

  return {
    line: line, growth: growth, hbars: hbars, shareBar: shareBar, scatter: scatter,
    tileMap: tileMap, classOf: classOf, classLegend: classLegend, inkOn: inkOn,
    BLUES: BLUES, ORANGES: ORANGES
  };
}());
