/* The slot rule form shows only the fields its strategy uses.
   The strategy select carries data-strategy-fields="items:items;newest_tagged:tags;…"; each
   other field of "What to show" is hidden (not removed: its value is still sent). */
(function () {
  "use strict";

  function setUp() {
    var select = document.getElementById("id_strategy");
    if (!select || !select.dataset.strategyFields) return;
    var uses = {};
    var every = [];
    select.dataset.strategyFields.split(";").forEach(function (entry) {
      var parts = entry.split(":");
      uses[parts[0]] = parts[1] ? parts[1].split(",") : [];
      uses[parts[0]].forEach(function (name) {
        if (every.indexOf(name) < 0) every.push(name);
      });
    });
    function show() {
      var shown = uses[select.value] || every;
      every.forEach(function (name) {
        var row = document.querySelector(".form-row.field-" + name) ||
          document.querySelector(".field-" + name);
        if (row) row.style.display = shown.indexOf(name) < 0 ? "none" : "";
      });
    }
    select.addEventListener("change", show);
    show();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
