// The attempt forms' volunteer list follows the operation and the date: when either changes, the list is fetched
// again (GET /purchases/volunteers.json) with why the others are missing (no consent, too old on that date...).
(function () {
  "use strict";
  document.querySelectorAll(".volunteer-picker").forEach(function (box) {
    var select = box.querySelector("select");
    var note = box.querySelector(".volunteer-missing");
    var form = box.closest("form");
    var url = box.getAttribute("data-url");
    if (!select || !form || !url || !window.fetch) { return; }
    var operation = form.querySelector("[name=operation_id]");
    var day = form.querySelector("[name=purchase_date]");
    var seq = 0;

    function refresh() {
      var mine = ++seq;
      var query = "?operation_id=" + encodeURIComponent(operation ? operation.value : "") +
        "&on=" + encodeURIComponent(day ? day.value : "");
      fetch(url + query, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data || mine !== seq) { return; }
          var chosen = select.value;
          select.innerHTML = "";
          var blank = document.createElement("option");
          blank.value = ""; blank.textContent = "Choose…";
          select.appendChild(blank);
          data.choices.forEach(function (c) {
            var option = document.createElement("option");
            option.value = String(c.id); option.textContent = c.label;
            if (String(c.id) === chosen) { option.selected = true; }
            select.appendChild(option);
          });
          if (data.missing.length) {
            note.textContent = "Not listed: " + data.missing.map(function (m) {
              return m.code_name + " (" + m.reason + ")";
            }).join("; ") + ".";
          } else {
            note.textContent = data.choices.length ? "" :
              "Choose the operation first: volunteers with consent for it are listed.";
          }
        })
        .catch(function () { /* offline: keep the list the page came with */ });
    }

    if (operation) { operation.addEventListener("change", refresh); }
    if (day) { day.addEventListener("change", refresh); }
  });
})();
