// galenix — a sensor's plot (uPlot, vendored under vendor/uplot). It asks
// GET /api/v1/sensors/{id}/series for the span shown, which answers the
// finest resolution that stays within 2,000 points (raw readings, 1-minute,
// 1-hour or wider roll-ups): dragging across the plot zooms in, and each
// zoom asks for its own span again, so the plot goes from a year to the
// seconds of raw readings. The limits in force are drawn as lines. Times
// are written in the site's zone, numbers the reader's way.
(function () {
  "use strict";

  var el = document.getElementById("env-plot");
  if (!el || typeof uPlot === "undefined") { return; }
  var status = document.getElementById("env-plot-status");
  var lang = el.getAttribute("data-lang") || "fr";
  var locale = lang === "en" ? "en-GB" : "fr-FR";
  var zone = el.getAttribute("data-zone") || "UTC";
  var unit = el.getAttribute("data-unit") || "";
  var decimals = parseInt(el.getAttribute("data-decimals"), 10) || 0;
  var limits = [];
  try { limits = JSON.parse(el.getAttribute("data-limits") || "[]"); } catch (e) { limits = []; }
  var label = function (k) { return el.getAttribute("data-label-" + k) || k; };
  var first = { min: Date.parse(el.getAttribute("data-from")) / 1000, max: Date.parse(el.getAttribute("data-to")) / 1000 };

  var number = new Intl.NumberFormat(locale, { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
  var count = new Intl.NumberFormat(locale);
  var fmt = function (v) { return v == null ? "—" : number.format(v) + (unit ? " " + unit : ""); };
  var stamp = new Intl.DateTimeFormat(locale, { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  var day = new Intl.DateTimeFormat(locale, { timeZone: zone, day: "2-digit", month: "short" });
  var hm = new Intl.DateTimeFormat(locale, { timeZone: zone, hour: "2-digit", minute: "2-digit", hour12: false });
  var hms = new Intl.DateTimeFormat(locale, { timeZone: zone, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  var month = new Intl.DateTimeFormat(locale, { timeZone: zone, month: "short", year: "numeric" });

  function tick(u, splits, axis, space, incr) {
    var f = incr >= 28 * 86400 ? month : incr >= 86400 ? day : incr >= 60 ? hm : hms;
    return splits.map(function (s) { return f.format(new Date(s * 1000)); });
  }

  var colours = { alert: "#d99a00", action: "#b3261e" };
  var series = [
    { label: label("time"), value: function (u, v) { return v == null ? "—" : stamp.format(new Date(v * 1000)); } },
    { label: label("mean"), stroke: "#0b4f6c", width: 2, value: function (u, v) { return fmt(v); }, spanGaps: false },
    { label: label("min"), stroke: "#7fb3cc", width: 1, value: function (u, v) { return fmt(v); } },
    { label: label("max"), stroke: "#7fb3cc", width: 1, value: function (u, v) { return fmt(v); } }
  ];
  limits.forEach(function (l) {
    series.push({ label: l.label, stroke: colours[l.level] || "#888", width: 1.5, dash: [8, 6], points: { show: false },
      value: function () { return fmt(l.value); } });
  });

  function size() {
    var w = Math.max(280, el.clientWidth);
    return { width: w, height: window.innerHeight > window.innerWidth ? Math.round(Math.min(420, w * 0.75)) : 380 };
  }

  var plot = null;
  var asked = 0;
  var timer = null;
  // span is the span last asked for: uPlot tells its setScale hooks after
  // the call returns (in a microtask), so the plot's own setScale to the
  // span it loaded is told like a zoom, and is known by its span.
  var span = null;

  function columns(body) {
    var n = body.t.length;
    var raw = body.resolution === "raw";
    var data = [body.t, body.mean, raw ? new Array(n).fill(null) : body.min, raw ? new Array(n).fill(null) : body.max];
    limits.forEach(function (l) { data.push(new Array(n).fill(l.value)); });
    return data;
  }

  function say(body) {
    var res = body.resolution === "raw" ? label("raw") : body.resolution;
    status.textContent = count.format(body.t.length) + " " + label("points") + " · " + res;
    el.setAttribute("data-points", String(body.t.length));
    el.setAttribute("data-resolution", body.resolution);
    el.setAttribute("data-loaded-from", body.from);
    el.setAttribute("data-loaded-to", body.to);
    el.setAttribute("data-state", "ready");
  }

  // load asks for the span [min, max] (Unix seconds) and shows it.
  function load(min, max) {
    var n = ++asked;
    span = { min: min, max: max };
    el.setAttribute("data-state", "loading");
    var from = new Date(Math.floor(min * 1000)).toISOString();
    var to = new Date(Math.ceil(max * 1000) + 1).toISOString();
    var url = el.getAttribute("data-series") + "?from=" + encodeURIComponent(from) + "&to=" + encodeURIComponent(to);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (body) {
        if (n !== asked) { return; } // a later zoom asked for another span
        if (!plot) {
          var s = size();
          plot = new uPlot({
            width: s.width, height: s.height, series: series,
            scales: { x: { time: true } },
            axes: [{ values: tick }, { values: function (u, splits) { return splits.map(function (v) { return number.format(v); }); }, size: 70 }],
            cursor: { drag: { x: true, y: false } },
            legend: { live: true },
            hooks: { setScale: [onScale] }
          }, columns(body), el);
          el.uplot = plot;
        } else {
          plot.setData(columns(body), false);
        }
        plot.setScale("x", { min: min, max: max });
        say(body);
      })
      .catch(function () {
        if (n !== asked) { return; }
        el.setAttribute("data-state", "error");
        status.textContent = label("error");
      });
  }

  // onScale: a zoom (a drag, or setScale from outside) asks for its span;
  // the span just asked for is the plot showing what it loaded.
  function onScale(u, key) {
    if (key !== "x") { return; }
    var min = u.scales.x.min, max = u.scales.x.max;
    if (min == null || max == null || !(max > min)) { return; }
    if (span && min === span.min && max === span.max) { return; }
    clearTimeout(timer);
    timer = setTimeout(function () { load(min, max); }, 150);
  }

  var reset = document.getElementById("env-plot-reset");
  if (reset) { reset.addEventListener("click", function () { load(first.min, first.max); }); }
  window.addEventListener("resize", function () { if (plot) { plot.setSize(size()); } });
  load(first.min, first.max);
})();
