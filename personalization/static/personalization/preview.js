/* The preview page's visitor picker: visitors whose id or email starts with what is typed. */
(function () {
  "use strict";

  function setUp() {
    var input = document.getElementById("id_visitor");
    var list = document.getElementById("tailor-preview-visitors");
    if (!input || !list) return;
    var asked = "";
    input.addEventListener("input", function () {
      var query = input.value.trim();
      if (query.length < 2 || query === asked) return;
      asked = query;
      fetch(input.dataset.searchUrl + "?q=" + encodeURIComponent(query), {
        credentials: "same-origin", headers: { Accept: "application/json" },
      })
        .then(function (response) { return response.ok ? response.json() : { values: [] }; })
        .then(function (data) {
          if (asked !== query) return;
          list.textContent = "";
          (data.values || []).forEach(function (row) {
            var option = document.createElement("option");
            option.value = row.value;
            option.label = row.label;
            list.appendChild(option);
          });
        })
        .catch(function () {});
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
