// galenix — the client's certificates page told live of a certificate
// published: the server-sent events of /api/v1/certificates/events (event
// "certificates", data {"items": [{batch_id, lot, certificate, ...}]})
// name the certificates in the reader's scope; one the page does not show
// yet is announced, with a link to refresh the list. Without scripts the
// list is still right when loaded.
(function () {
  "use strict";
  var notice = document.getElementById("cert-live");
  if (!notice || !window.EventSource) { return; }
  var known = {};
  (notice.getAttribute("data-known") || "").split(" ").forEach(function (c) { if (c) { known[c] = true; } });
  var template = notice.getAttribute("data-msg") || "";
  var msg = notice.querySelector("[data-f=msg]");
  var source = new EventSource(notice.getAttribute("data-live"));
  source.addEventListener("certificates", function (ev) {
    var data;
    try { data = JSON.parse(ev.data); } catch (e) { return; }
    var fresh = (data.items || []).filter(function (c) { return c.certificate && !known[c.certificate]; });
    if (fresh.length === 0) { return; }
    msg.textContent = fresh.map(function (c) {
      return template.replace("{lot}", c.lot).replace("{cert}", c.certificate);
    }).join(" ");
    notice.hidden = false;
  });
})();
