// Small behaviours shared by every page. The Content-Security-Policy allows only our own script files, so pages
// carry data- attributes and classes instead of inline <script>, onclick or style="".
(function () {
  "use strict";

  // <button data-print>: print the page.
  document.querySelectorAll("[data-print]").forEach(function (el) {
    el.addEventListener("click", function (e) { e.preventDefault(); window.print(); });
  });

  // <input type=checkbox data-check-all="letter_ids">: ticks or clears every checkbox named letter_ids.
  document.querySelectorAll("input[data-check-all]").forEach(function (box) {
    box.addEventListener("change", function () {
      var name = box.getAttribute("data-check-all");
      document.querySelectorAll("input[type=checkbox]").forEach(function (c) {
        if (c.name === name) { c.checked = box.checked; }
      });
    });
  });

  // <table class="table-stack">: each cell carries its column's heading, so on a phone the rows stack as cards
  // ("Result: Failed") instead of running off the right edge with the problem text hidden (static/app.css).
  document.querySelectorAll("table.table-stack").forEach(function (table) {
    var headings = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    table.querySelectorAll("tbody tr").forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (cell, i) {
        if (headings[i] && !cell.hasAttribute("data-label")) { cell.setAttribute("data-label", headings[i]); }
      });
    });
  });

  // <input data-borough-target="borough">: once a postcode is typed, suggest the borough other shops with that postcode
  // (or sector, or district) are in; an empty borough is filled in, a different one gets a note to check.
  document.querySelectorAll("input[data-borough-target]").forEach(function (input) {
    var select = document.getElementById(input.getAttribute("data-borough-target"));
    if (!select || !window.fetch) { return; }
    var note = document.createElement("div");
    note.className = "form-text borough-suggestion";
    note.setAttribute("aria-live", "polite");
    select.insertAdjacentElement("afterend", note);
    input.addEventListener("change", function () {
      var url = new URL("/premises/borough.json", window.location.href);
      url.searchParams.set("postcode", input.value);
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          var s = data && data.suggestion;
          if (!s) { note.textContent = ""; return; }
          if (!select.value) {
            select.value = s.borough;
            note.textContent = "Suggested from " + s.shops + " shop" + (s.shops === 1 ? "" : "s") + " in " + s.basis +
              " in the register: check it.";
          } else if (select.value !== s.borough) {
            note.textContent = "Other shops in " + s.basis + " are in " + s.name + ": check the borough.";
          } else {
            note.textContent = "";
          }
        })
        .catch(function () { note.textContent = ""; });
    });
  });

  // Signed out: the pages kept for logging with no signal (static/sw.js) belong to the last person, so they go.
  if (window.location.pathname === "/login" && window.caches) { caches.delete("retail-pages-v1").catch(function () {}); }

  // <div class="progress-bar" data-percent="40">: the bar's width (set through the DOM, which the policy allows).
  document.querySelectorAll("[data-percent]").forEach(function (bar) {
    var percent = Math.max(0, Math.min(100, parseFloat(bar.getAttribute("data-percent")) || 0));
    bar.style.width = percent + "%";
  });

  // The listing monitor's "checking now" box polls the store's status and reloads when the check has finished.
  var box = document.getElementById("monitor-progress");
  if (box && box.getAttribute("data-status-url") && window.fetch) {
    var url = box.getAttribute("data-status-url");
    var timer = setInterval(function () {
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          if (s.running) { box.firstChild.textContent = "Checking now: " + s.done + " of " + (s.total || "?") + " pages done."; }
          else if (!s.queued) { clearInterval(timer); window.location.reload(); }
        })
        .catch(function () {});
    }, 3000);
  }
})();
