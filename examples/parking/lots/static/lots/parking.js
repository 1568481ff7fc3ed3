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

/* UPI: open the intent link once after "Pay with any UPI app"; count an order's expiry down. */
(function () {
  "use strict";
  var intent = document.querySelector("a[data-launch]");
  if (intent) { window.setTimeout(function () { intent.click(); }, 50); }

  var box = document.querySelector("[data-expires]");
  if (!box) { return; }
  var left = box.querySelector(".countdown-left");
  var done = box.querySelector(".countdown-done");
  var ends = Date.now() + 1000 * parseInt(box.getAttribute("data-seconds") || "0", 10);

  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function show(seconds) {
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    return h ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
  }
  function tick() {
    var seconds = Math.max(0, Math.round((ends - Date.now()) / 1000));
    if (left) { left.textContent = show(seconds); }
    if (seconds > 0) { window.setTimeout(tick, 1000); return; }
    box.classList.add("countdown-expired");
    if (done) { done.hidden = false; }
  }
  tick();
})();
