/*
 * Tailor's consent banner: no dependencies, no build step. `{% tailor_consent_banner %}` renders
 * the markup and loads this script.
 *
 * The banner opens by itself until the browser has decided (data-decided="false") and again from
 * any element with data-tailor-consent-open (the footer's "Privacy settings" link). "Reject all",
 * "Accept all" and "Save choices" post the choice to the consent API with fetch, so nothing is
 * lost if it fails, and then reload the page: server-rendered personalization follows the new
 * choice at once. Escape closes the banner and gives focus back to where it was.
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-tailor-consent]");
  if (!root) return;
  var dialog = root.querySelector("[role=dialog]");
  var form = root.querySelector("[data-tailor-consent-form]");
  var status = root.querySelector("[data-tailor-consent-status]");
  var buttons = root.querySelectorAll("[data-tailor-consent-choice]");
  var endpoint = root.dataset.endpoint || "/api/v1/consent";
  var returnFocus = null;

  function csrfToken() {
    var field = form.querySelector("input[name=csrfmiddlewaretoken]");
    if (field && field.value) return field.value;
    var name = (root.dataset.csrfCookie || "csrftoken") + "=";
    var cookies = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < cookies.length; i++) {
      if (cookies[i].indexOf(name) === 0) return decodeURIComponent(cookies[i].slice(name.length));
    }
    return "";
  }

  function toggles() {
    return Array.prototype.slice.call(root.querySelectorAll("[data-tailor-consent-purpose]"));
  }

  function open(opener) {
    returnFocus = opener || document.activeElement;
    root.hidden = false;
    status.textContent = "";
    dialog.focus();
  }

  function close() {
    root.hidden = true;
    if (returnFocus && typeof returnFocus.focus === "function" && document.contains(returnFocus)) {
      returnFocus.focus();
    }
    returnFocus = null;
  }

  function setBusy(busy) {
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = busy;
    root.setAttribute("aria-busy", busy ? "true" : "false");
  }

  function choices(kind) {
    var purposes = {};
    toggles().forEach(function (input) {
      // A purpose locked off (Global Privacy Control) stays off whatever the button.
      var locked = input.hasAttribute("data-tailor-consent-locked");
      purposes[input.value] = locked ? false : kind === "accept" ? true
        : kind === "reject" ? false : input.checked;
    });
    return purposes;
  }

  function save(kind) {
    var purposes = choices(kind);
    if (!Object.keys(purposes).length) {
      close();
      return;
    }
    setBusy(true);
    status.textContent = "Saving your choices…";
    fetch(endpoint, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": csrfToken()
      },
      body: JSON.stringify({ purposes: purposes })
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      toggles().forEach(function (input) { input.checked = purposes[input.value]; });
      root.dataset.decided = "true";
      close();
      // Pages rendered for the old choice (personalized or not) follow the new one.
      window.location.reload();
    }).catch(function () {
      setBusy(false);
      status.textContent = "Your choices could not be saved. Please try again.";
    });
  }

  root.addEventListener("click", function (event) {
    var button = event.target.closest("[data-tailor-consent-choice]");
    if (!button || button.type === "submit") return;
    event.preventDefault();
    save(button.dataset.tailorConsentChoice);
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    save("save");
  });

  root.addEventListener("keydown", function (event) {
    if (event.key === "Escape" || event.key === "Esc") {
      event.preventDefault();
      close();
    }
  });

  document.addEventListener("click", function (event) {
    var opener = event.target.closest && event.target.closest("[data-tailor-consent-open]");
    if (!opener) return;
    event.preventDefault();
    open(opener);
  });

  if (root.dataset.decided !== "true") open(null);
})();
