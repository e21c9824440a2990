// galenix — the tablet page of a line. It says "out of limits" as a numeric
// value is typed and asks then for the confirmation and the comment the
// server requires (the server checks the value anyway: without this script
// its refusal shows the same fields). It brings the alert of a value just
// recorded out of limits into view. It counts down the last seconds before
// the session closes for inactivity, keeps the session alive when the
// screen is touched, and keeps the entry typed in this tab when the session
// closes, to put it back in the form once the same person has signed in
// again: it is never sent without that.
(function () {
  "use strict";

  var form = document.querySelector("form.floor-form");

  // --- the value out of limits
  (function () {
    var input = document.querySelector("input[data-low][data-high]");
    var hint = document.getElementById("limit-hint");
    if (!input || !hint) { return; }
    var low = parseFloat(input.getAttribute("data-low"));
    var high = parseFloat(input.getAttribute("data-high"));
    if (isNaN(low) || isNaN(high)) { return; }
    var box = document.getElementById("oolimits");
    var confirm = document.getElementById("f-confirm_out_of_limits");
    var comment = document.getElementById("f-comment");
    var optional = document.querySelector("label[for=f-comment] .comment-optional");
    var required = document.querySelector("label[for=f-comment] .comment-required");
    function check() {
      var text = input.value.replace(/[\s\u00a0\u202f]/g, "").replace(",", ".");
      var v = parseFloat(text);
      var out = text !== "" && /^[-+]?(\d+\.?\d*|\.\d+)$/.test(text) && (v < low || v > high);
      hint.hidden = !out;
      input.classList.toggle("out-of-limits", out);
      if (box) { box.hidden = !out; }
      if (confirm) { confirm.required = out; }
      if (comment) { comment.required = out; }
      if (optional && required) { optional.hidden = out; required.hidden = !out; }
    }
    input.addEventListener("input", check);
    check();
  })();

  // --- the exception just recorded: in view, and focused, until
  // acknowledged.
  var exception = document.getElementById("exception");
  if (exception) {
    exception.scrollIntoView({ block: "start" });
    exception.focus({ preventScroll: true });
  }

  // --- the idle countdown, and the entry kept across a new sign-in
  var idle = document.getElementById("idle");
  if (!idle) { return; }
  var line = idle.getAttribute("data-line");
  var user = idle.getAttribute("data-user");
  var prefix = "galenix.floor." + line + ".";
  var stepInput = form && form.querySelector("input[name=step_id]");
  var key = stepInput ? prefix + stepInput.value : "";

  function entryFields() {
    return form ? form.querySelectorAll("input[type=text], input[type=checkbox], textarea") : [];
  }
  function keep() {
    if (!key) { return; }
    var values = {};
    entryFields().forEach(function (f) {
      if (f.type === "checkbox") {
        if (f.checked) { (values[f.name] = values[f.name] || []).push(f.value); }
      } else if (f.value !== "") {
        values[f.name] = [f.value];
      }
    });
    try {
      sessionStorage.setItem(key, JSON.stringify({ user: user, values: values }));
    } catch (e) { /* storage full or refused: nothing kept */ }
  }
  function restore() {
    var kept = null;
    try {
      for (var i = sessionStorage.length - 1; i >= 0; i--) {
        var k = sessionStorage.key(i);
        if (k && k.indexOf(prefix) === 0) {
          if (k === key) { kept = JSON.parse(sessionStorage.getItem(k)); }
          sessionStorage.removeItem(k);
        }
      }
    } catch (e) { return; }
    // Only into the same step's empty form, for the same person.
    if (!kept || kept.user !== user || !kept.values) { return; }
    var fields = entryFields();
    for (var j = 0; j < fields.length; j++) {
      if (fields[j].type === "checkbox" ? fields[j].checked : fields[j].value !== "") { return; }
    }
    fields.forEach(function (f) {
      var v = kept.values[f.name];
      if (!v) { return; }
      if (f.type === "checkbox") {
        f.checked = v.indexOf(f.value) >= 0;
      } else {
        f.value = v[0];
      }
      f.dispatchEvent(new Event("input", { bubbles: true }));
    });
    var note = document.getElementById("restored");
    if (note) { note.hidden = false; }
  }
  restore();
  // A form posted when the session has just closed comes back through the
  // sign-in: what it carried is kept too.
  if (form) { form.addEventListener("submit", keep); }

  var total = parseInt(idle.getAttribute("data-idle"), 10);
  var left = parseInt(idle.getAttribute("data-left"), 10);
  if (isNaN(total) || isNaN(left) || total <= 0) { return; }
  var text = idle.getAttribute("data-text");
  var warn = Math.min(60, Math.floor(total / 2));
  var deadline = Date.now() + left * 1000;
  var closed = false;

  function close() {
    if (closed) { return; }
    closed = true;
    keep();
    window.location.assign(idle.getAttribute("data-login") + "&next=" + encodeURIComponent(window.location.pathname));
  }
  function tick() {
    var s = Math.ceil((deadline - Date.now()) / 1000);
    if (s <= warn) {
      idle.textContent = text.replace("{s}", String(Math.max(s, 0)));
      idle.hidden = false;
    } else {
      idle.hidden = true;
    }
    // A second past the end, the server has closed the session too.
    if (Date.now() >= deadline + 1000) { close(); }
  }

  var sent = Date.now();
  var busy = false;
  function alive() {
    var visible = !idle.hidden;
    if (closed || busy || (!visible && Date.now() - sent < Math.min(15, total / 4) * 1000)) { return; }
    busy = true;
    sent = Date.now();
    fetch("/session/keepalive", { method: "POST", credentials: "same-origin", redirect: "manual", headers: { "Accept": "application/json" } })
      .then(function (r) {
        if (r.type === "opaqueredirect" || r.status === 401) { close(); return null; }
        return r.ok ? r.json() : null;
      })
      .then(function (a) {
        if (a && typeof a.left_seconds === "number") {
          deadline = Date.now() + a.left_seconds * 1000;
          tick();
        }
      })
      .catch(function () { /* offline: the countdown goes on */ })
      .then(function () { busy = false; });
  }
  ["pointerdown", "keydown", "touchstart", "input"].forEach(function (ev) {
    document.addEventListener(ev, alive, { passive: true, capture: true });
  });
  tick();
  setInterval(tick, 500);
})();
