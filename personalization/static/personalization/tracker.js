/*
 * Tailor's event tracker: no dependencies, no build step.
 *
 *   <script src="{% static 'personalization/tracker.js' %}" defer
 *           data-endpoint="/api/v1/events"></script>
 *
 * Records a `view` on load and a `click` on any element with data-tailor-item="<external id>",
 * and exposes window.tailor.track(type, {item_id, value, properties}). Events wait in memory
 * and leave in batches with navigator.sendBeacon: every few seconds, when the page is hidden
 * and when it is left. The visitor cookie is HttpOnly, so the server decides what is stored
 * (consent, bots); this script only collects and sends.
 *
 * Options (data-* attributes of the script tag): data-endpoint (default /api/v1/events),
 * data-interval (milliseconds between sends, default 5000), data-page-view="false" (no
 * `view` on load, for pages whose views the server already records).
 */
(function () {
  "use strict";

  var script = document.currentScript || document.querySelector("script[data-endpoint]");
  var options = (script && script.dataset) || {};
  var endpoint = options.endpoint || "/api/v1/events";
  var interval = Number(options.interval) || 5000;
  // sendBeacon refuses payloads past about 64 KB: send small batches.
  var BATCH_SIZE = 50;
  var queue = [];

  function randomId() {
    if (window.crypto && crypto.randomUUID) {
      return crypto.randomUUID();
    }
    // crypto.randomUUID needs a secure context (https); getRandomValues does not.
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) {
      return (b + 0x100).toString(16).slice(1);
    }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20),
      hex.slice(20)].join("-");
  }

  function track(type, details) {
    details = details || {};
    // No occurred_at: the server stamps events when they arrive, so a wrong clock does no harm.
    var event = { event_id: randomId(), type: type };
    if (details.item_id != null) event.item_id = String(details.item_id);
    if (details.value != null) event.value = details.value;
    if (details.properties) event.properties = details.properties;
    queue.push(event);
  }

  function send(batch) {
    var body = JSON.stringify({ events: batch });
    var blob = new Blob([body], { type: "application/json" });
    if (navigator.sendBeacon && navigator.sendBeacon(endpoint, blob)) return;
    if (window.fetch) {
      fetch(endpoint, {
        method: "POST", body: body, keepalive: true, credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
      }).catch(function () { /* tracking never disturbs the page */ });
    }
  }

  function flush() {
    while (queue.length) {
      send(queue.splice(0, BATCH_SIZE));
    }
  }

  function rememberTimeZone() {
    try {
      var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (zone && /^[A-Za-z0-9_+\-\/]+$/.test(zone)) {
        var secure = location.protocol === "https:" ? "; Secure" : "";
        document.cookie = "tailor_tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax" +
          secure;
      }
    } catch (error) { /* an old browser: the server uses the site's time zone */ }
  }

  document.addEventListener("click", function (event) {
    var target = event.target && event.target.closest &&
      event.target.closest("[data-tailor-item]");
    if (target) track("click", { item_id: target.getAttribute("data-tailor-item") });
  }, true);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") flush();
  });
  window.addEventListener("pagehide", flush);
  setInterval(flush, interval);

  var earlier = (window.tailor && window.tailor.q) || [];
  window.tailor = { track: track, flush: flush };
  // Calls made before this script ran: window.tailor = {q: [["track", "search", {...}]]}.
  earlier.forEach(function (call) {
    if (call[0] === "track") track(call[1], call[2]);
  });
  rememberTimeZone();
  if (options.pageView !== "false") {
    track("view", { properties: { path: location.pathname } });
  }
})();
