// Shop picker: suggests shops as the officer types part of a name or postcode (GET /premises/lookup.json?q=).
// Without JavaScript the typed text is resolved on the server, so the form works either way.
(function () {
  "use strict";
  document.querySelectorAll(".premises-picker").forEach(function (box) {
    var input = box.querySelector("input[data-premises-picker]");
    var hidden = box.querySelector("input[type=hidden][name=premises_id]");
    var list = box.querySelector(".premises-suggestions");
    var url = box.getAttribute("data-lookup-url");
    if (!input || !list || !url) { return; }
    var timer = null, seq = 0;

    function clear() { list.innerHTML = ""; }

    function choose(item) {
      input.value = item.label;
      if (!hidden) {
        hidden = document.createElement("input");
        hidden.type = "hidden"; hidden.name = "premises_id";
        box.appendChild(hidden);
      }
      hidden.value = item.id;
      box.querySelectorAll("input[type=radio][name=premises_id]").forEach(function (r) { r.checked = String(r.value) === String(item.id); });
      clear();
    }

    function render(items) {
      clear();
      items.forEach(function (item) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "list-group-item list-group-item-action";
        button.setAttribute("role", "option");
        button.textContent = item.label + (item.status === "closed" ? " (closed)" : "");
        var small = document.createElement("div");
        small.className = "small text-muted";
        small.textContent = item.business + " · " + item.borough;
        button.appendChild(small);
        button.addEventListener("click", function () { choose(item); });
        list.appendChild(button);
      });
    }

    input.addEventListener("input", function () {
      if (hidden) { hidden.value = ""; }
      clearTimeout(timer);
      var q = input.value.trim();
      if (q.length < 2) { clear(); return; }
      timer = setTimeout(function () {
        var mine = ++seq;
        fetch(url + "?q=" + encodeURIComponent(q), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : { items: [] }; })
          .then(function (data) { if (mine === seq) { render(data.items || []); } })
          .catch(function () { clear(); });
      }, 200);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && list.firstChild) { e.preventDefault(); list.firstChild.click(); }
      if (e.key === "Escape") { clear(); }
    });
  });
})();
