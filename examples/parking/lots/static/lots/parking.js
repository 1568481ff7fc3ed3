/* Smart Parking: poll a pending payment and reload when its state changes. No dependencies. */
(function () {
  "use strict";
  var box = document.querySelector("[data-poll]");
  if (!box) { return; }
  var url = box.getAttribute("data-poll");
  var version = box.getAttribute("data-version");
  var note = document.getElementById("poll-note");
  var delay = 1500;
  var failures = 0;

  function schedule() {
    window.setTimeout(check, delay);
    delay = Math.min(delay * 1.3, 8000);
  }

  function check() {
    fetch(url, { headers: { "Accept": "application/json" }, cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        failures = 0;
        if (data.version !== version) { window.location.reload(); return; }
        schedule();
      })
      .catch(function () {
        failures += 1;
        if (note && failures >= 3) {
          note.textContent = "We cannot reach the car park server right now. Your payment is safe; this page keeps trying.";
        }
        schedule();
      });
  }
  schedule();
})();

/* Staff occupancy: refresh the page every N seconds while it is visible. */
(function () {
  "use strict";
  var box = document.querySelector("[data-refresh]");
  if (!box) { return; }
  var seconds = parseInt(box.getAttribute("data-refresh"), 10) || 15;
  window.setInterval(function () {
    if (document.visibilityState === "visible") { window.location.reload(); }
  }, seconds * 1000);
})();
