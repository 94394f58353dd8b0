// Training session: find the shop an attendee works at as you type (GET the lookup URL with ?q=), and fill the
// premises id field with the one chosen.
(function () {
  "use strict";
  var input = document.getElementById("premises-search");
  if (!input) { return; }
  var results = document.getElementById("premises-results");
  var target = document.getElementById("premises_id");
  var timer;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      results.innerHTML = "";
      if (input.value.trim().length < 2) { return; }
      fetch(input.dataset.lookup + "?q=" + encodeURIComponent(input.value.trim()), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          data.items.forEach(function (item) {
            var button = document.createElement("button");
            button.type = "button";
            button.className = "list-group-item list-group-item-action";
            button.textContent = item.label + " (" + item.business + ")";
            button.addEventListener("click", function () { target.value = item.id; input.value = item.label; results.innerHTML = ""; });
            results.appendChild(button);
          });
        })
        .catch(function () {});
    }, 200);
  });
})();
