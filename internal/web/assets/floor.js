// galenix — the tablet page of a line: says "out of limits" as a numeric
// value is typed. The server checks the value anyway, and records one out
// of limits as an exception; this is only a hint, before submitting.
(function () {
  "use strict";
  var input = document.querySelector("input[data-low][data-high]");
  var hint = document.getElementById("limit-hint");
  if (!input || !hint) { return; }
  var low = parseFloat(input.getAttribute("data-low"));
  var high = parseFloat(input.getAttribute("data-high"));
  if (isNaN(low) || isNaN(high)) { return; }
  function check() {
    var text = input.value.replace(/[\s\u00a0\u202f]/g, "").replace(",", ".");
    var v = parseFloat(text);
    var out = text !== "" && /^[-+]?(\d+\.?\d*|\.\d+)$/.test(text) && (v < low || v > high);
    hint.hidden = !out;
    input.classList.toggle("out-of-limits", out);
  }
  input.addEventListener("input", check);
  check();
})();
