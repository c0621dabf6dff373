// Client-side filters of the DeltaStore dashboards. Plain ES5-level JavaScript, no library:
// the data of a filterable chart is embedded in the page as JSON, and a filter change
// re-aggregates it and recolours the tile map the Python renderer drew.
(function () {
  "use strict";

  var formats = {
    count: function (v) { return Math.round(v).toLocaleString("en-US"); },
    days: function (v) { return v.toFixed(1) + " d"; }
  };

  function embedded(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : [];
  }

  function hex(colour) {
    return [1, 3, 5].map(function (i) { return parseInt(colour.substr(i, 2), 16); });
  }

  function blend(low, high, share) {
    var a = hex(low), b = hex(high);
    share = Math.min(1, Math.max(0, share));
    return "#" + a.map(function (x, i) {
      var c = Math.round(x + (b[i] - x) * share).toString(16);
      return c.length < 2 ? "0" + c : c;
    }).join("");
  }

  // Recolour and relabel every tile from {stateCode: value}; missing states show "–".
  function paintMap(svg, values) {
    var format = formats[svg.getAttribute("data-format")];
    var known = Object.keys(values).map(function (k) { return values[k]; });
    var low = known.length ? Math.min.apply(null, known) : 0;
    var high = known.length ? Math.max.apply(null, known) : 0;
    var tiles = svg.querySelectorAll("g.tile");
    for (var i = 0; i < tiles.length; i++) {
      var tile = tiles[i], code = tile.getAttribute("data-state");
      var value = values[code], texts = tile.querySelectorAll("text");
      var title = tile.querySelector("title");
      var name = title.textContent.split(":")[0];
      var fill = svg.getAttribute("data-empty"), ink = "#616e7c", shown = "–";
      if (value !== undefined) {
        var share = high > low ? (value - low) / (high - low) : 1;
        fill = blend(svg.getAttribute("data-low"), svg.getAttribute("data-high"), share);
        ink = share > 0.55 ? "#fff" : "#1f2933";
        shown = format(value);
      }
      tile.querySelector("rect").setAttribute("fill", fill);
      texts[0].setAttribute("fill", ink);
      texts[1].setAttribute("fill", ink);
      texts[1].textContent = shown;
      title.textContent = name + ": " + shown;
    }
    var lowLabel = svg.querySelector(".legend-low"), highLabel = svg.querySelector(".legend-high");
    lowLabel.textContent = known.length ? format(low) + " (lowest)" : "lowest";
    highLabel.textContent = known.length ? format(high) + " (highest)" : "highest";
    return known.length;
  }

  function onMap(svg) {
    var codes = {}, tiles = svg.querySelectorAll("g.tile");
    for (var i = 0; i < tiles.length; i++) { codes[tiles[i].getAttribute("data-state")] = true; }
    return codes;
  }

  // Customer Analysis: customers per state for one segment (or all).
  function customersBySegment() {
    var select = document.getElementById("segment-filter");
    var svg = document.getElementById("customers-map");
    var note = document.getElementById("customers-note");
    if (!select || !svg) { return; }
    var rows = embedded("customers-by-state"), codes = onMap(svg);
    select.addEventListener("change", function () {
      var totals = {}, offMap = 0;
      rows.forEach(function (r) {
        if (select.value === "" || r.segment === select.value) {
          if (codes[r.state]) {
            totals[r.state] = (totals[r.state] || 0) + r.customers;
          } else {
            offMap += r.customers;
          }
        }
      });
      paintMap(svg, totals);
      note.textContent = offMap ? formats.count(offMap) +
        " customers without a US state on record are not on the map." : "";
      var bars = document.querySelectorAll("rect[data-category]");
      for (var i = 0; i < bars.length; i++) {
        var chosen = select.value === "" || bars[i].getAttribute("data-category") === select.value;
        bars[i].setAttribute("fill-opacity", chosen ? "1" : "0.3");
      }
    });
  }

  // Fulfillment: average delivery days per state = Σ total_delivery_days / Σ delivered over
  // the rows that match the carrier and shipment status filters.
  function deliveryByState() {
    var carrier = document.getElementById("carrier-filter");
    var status = document.getElementById("status-filter");
    var svg = document.getElementById("delivery-map");
    var note = document.getElementById("delivery-note");
    if (!carrier || !status || !svg) { return; }
    var rows = embedded("delivery-by-state"), codes = onMap(svg);
    function update() {
      var days = {}, delivered = {}, averages = {}, offMap = 0;
      rows.forEach(function (r) {
        if ((carrier.value === "" || r.carrier === carrier.value) &&
            (status.value === "" || r.status === status.value)) {
          if (!codes[r.state]) { offMap += r.delivered || 0; return; }
          days[r.state] = (days[r.state] || 0) + (r.days || 0);
          delivered[r.state] = (delivered[r.state] || 0) + (r.delivered || 0);
        }
      });
      Object.keys(delivered).forEach(function (code) {
        if (delivered[code] > 0) { averages[code] = days[code] / delivered[code]; }
      });
      var states = paintMap(svg, averages);
      note.textContent = (states ? states + " states with delivered shipments."
        : "No delivered shipments match these filters.") + (offMap ? " " +
        formats.count(offMap) + " delivered shipments without a US state are not on the map."
        : "");
    }
    carrier.addEventListener("change", update);
    status.addEventListener("change", update);
  }

  customersBySegment();
  deliveryByState();
}());
