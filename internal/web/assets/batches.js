// galenix — the live list of batches: the rows follow the server-sent
// events of /api/v1/batches/events (event "batches", data
// {"items": [{id, state, steps_done, steps_total, exceptions, ...}]}).
// Without scripts the list is still right when loaded.
(function () {
  "use strict";
  var table = document.querySelector("table[data-live]");
  if (!table || !window.EventSource) { return; }
  var labels = {};
  try { labels = JSON.parse(table.getAttribute("data-states") || "{}"); } catch (e) { labels = {}; }
  var status = document.getElementById("live-status");
  var source = new EventSource(table.getAttribute("data-live"));
  source.addEventListener("open", function () { if (status) { status.hidden = false; } });
  source.addEventListener("error", function () { if (status) { status.hidden = true; } });
  source.addEventListener("batches", function (ev) {
    var data;
    try { data = JSON.parse(ev.data); } catch (e) { return; }
    (data.items || []).forEach(function (b) {
      var row = document.getElementById("batch-" + b.id);
      if (!row) { return; }
      var state = row.querySelector("[data-f=state]");
      if (state && b.state) {
        state.textContent = labels[b.state] || b.state;
        state.className = "badge state state-" + b.state;
      }
      var bar = row.querySelector("progress");
      if (bar) { bar.max = Math.max(b.steps_total || 0, 1); bar.value = b.steps_done || 0; }
      var steps = row.querySelector("[data-f=steps]");
      if (steps) { steps.textContent = (b.steps_done || 0) + " / " + (b.steps_total || 0); }
      var exc = row.querySelector("[data-f=exceptions]");
      if (exc) {
        exc.textContent = String(b.exceptions || 0);
        exc.className = b.exceptions > 0 ? "badge late" : "badge";
      }
    });
  });
})();
