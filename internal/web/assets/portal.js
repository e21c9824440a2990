// galenix — the client's space kept live: the server-sent events of
// /api/v1/portal/events (event "portal", the dashboard as JSON) come at
// once, then whenever the dashboard changes (a step recorded, a batch
// certified, a notification sent, a deadline met). On a change the page
// reads itself again and replaces its content, and says when it was
// updated. Without scripts the page is still right when loaded.
(function () {
  "use strict";
  var live = document.getElementById("portal-live");
  if (!live || !window.EventSource || !window.fetch || !window.DOMParser) { return; }
  var first = true;
  var source = new EventSource(live.getAttribute("data-live"));
  source.addEventListener("portal", function () {
    if (first) { first = false; return; }
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("portal-live");
        if (!fresh) { return; }
        live.innerHTML = fresh.innerHTML;
        var status = live.querySelector("[data-f=status]");
        if (status) {
          status.textContent = live.getAttribute("data-updated") + " " + new Date().toLocaleTimeString(document.documentElement.lang || undefined);
        }
      })
      .catch(function () {});
  });
})();
