// Logging with no signal (issue 11 part 3). A form marked <form data-offline-form="attempt" data-offline-user="7">
// that is submitted while the phone is offline is kept on the device (IndexedDB), the form is cleared for the next
// record, and "Waiting to send (n)" shows what is kept. When the signal returns the records are sent, each exactly
// once: every record carries its own submission token, which the server saves with the record, so a resend after a
// lost reply is recognised. A record the server refuses (a field to fix) is shown with a button that opens it in the
// form, with the server's messages next to the fields. The service worker (sw.js) keeps the form pages and our own
// scripts and styles so the form opens again with no signal.
(function () {
  "use strict";

  var DB_NAME = "retail-offline", STORE = "waiting";
  var forms = document.querySelectorAll("form[data-offline-form]");
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch(function () {});
  }
  if (!forms.length || !window.indexedDB || !window.fetch) { return; }

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE, { keyPath: "token" }); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result = work(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(result && "result" in result ? result.result : result); };
        tx.onerror = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function allItems() { return withStore("readonly", function (s) { return s.getAll(); }); }
  function putItem(item) { return withStore("readwrite", function (s) { s.put(item); }); }
  function deleteItem(token) { return withStore("readwrite", function (s) { s.delete(token); }); }

  function newToken() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID().replace(/-/g, ""); }
    var bytes = new Uint8Array(18);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function summary(form) {
    // What the officer will recognise in the list: the shop as typed and the date, never a volunteer's details.
    var parts = [];
    ["premises_query", "purchase_date", "visited_on"].forEach(function (name) {
      var field = form.elements.namedItem(name);
      if (!field || !field.value) { return; }
      var day = /^\d{4}-\d{2}-\d{2}$/.test(field.value) ? new Date(field.value + "T12:00:00") : null;
      parts.push(day ? day.toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric" })
                     : field.value);
    });
    return parts.join(", ") || "A record";
  }

  var user = forms[0].getAttribute("data-offline-user") || "";
  // Hidden fields a picker fills in (the chosen shop's id) are not cleared by form.reset(): put back the page's own.
  var hiddenDefaults = [];
  forms.forEach(function (form) {
    form.querySelectorAll("input[type=hidden]").forEach(function (input) {
      hiddenDefaults.push([input, input.value]);
    });
  });
  var status = document.querySelector("[data-offline-status]");
  var sending = false;
  // navigator.onLine can say "online" with no signal at all (a weak or captive connection; a page opened again from
  // the phone with no signal), and then no "online" event ever comes to say the signal is back. So a send that
  // finds no signal tries again by itself: in 3 s, then twice as long each time, up to 30 s.
  var FIRST_RETRY = 3000, LAST_RETRY = 30000;
  var retryIn = FIRST_RETRY, retryTimer = null, noSignal = false, sentSoFar = 0;

  function render(items, note) {
    if (!status) { return; }
    var mine = items.filter(function (i) { return i.user === user; });
    var waiting = mine.filter(function (i) { return !i.problem; });
    var problems = mine.filter(function (i) { return i.problem; });
    status.textContent = "";
    if (!mine.length && !note) { status.hidden = true; return; }
    status.hidden = false;
    status.className = "alert " + (problems.length ? "alert-danger" : (waiting.length ? "alert-warning" : "alert-success"));
    var line = document.createElement("div");
    line.className = "fw-semibold";
    line.textContent = waiting.length ? "Waiting to send (" + waiting.length + ")" +
      (navigator.onLine && !noSignal ? ": sending…" : ": no signal, kept on this phone") :
      (problems.length ? problems.length + " not saved: open each to fix it" : (note || ""));
    status.appendChild(line);
    if (problems.length) {
      var list = document.createElement("ul");
      list.className = "mb-0 mt-1";
      problems.forEach(function (item) {
        var li = document.createElement("li");
        li.textContent = item.label + ": " + item.problem + " ";
        var button = document.createElement("button");
        button.type = "button";
        button.className = "btn btn-sm btn-outline-danger";
        button.textContent = "Open it to fix";
        button.addEventListener("click", function () { openToFix(item); });
        li.appendChild(button);
        list.appendChild(li);
      });
      status.appendChild(list);
    }
  }

  function refresh(note) { return allItems().then(function (items) { render(items, note); }); }

  function openToFix(item) {
    // Send it the ordinary way: the server shows the form with its messages next to the fields and the same
    // submission token, so fixing and saving still makes one record. It leaves the waiting list now.
    var form = document.createElement("form");
    form.method = "post";
    form.action = item.url;
    item.fields.forEach(function (pair) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = pair[0];
      input.value = pair[1];
      form.appendChild(input);
    });
    document.body.appendChild(form);
    deleteItem(item.token).then(function () { form.submit(); });
  }

  // A send on a connection that has stalled (a weak signal, a captive network) can wait for ever, and while it waits
  // nothing else is sent: it is abandoned after this long and tried again like any send that found no signal. If the
  // server did save it, the resend carries the same submission token and is recognised.
  var SEND_TIMEOUT = 20000;

  function sendOne(item) {
    var timeout = Number(status && status.getAttribute("data-send-timeout-ms")) || SEND_TIMEOUT;
    var abort = window.AbortController ? new AbortController() : null;
    var timer = abort ? setTimeout(function () { abort.abort(); }, timeout) : null;
    return fetch(item.url, {
      method: "POST", credentials: "same-origin", body: new URLSearchParams(item.fields),
      headers: { "Accept": "text/html" }, signal: abort ? abort.signal : undefined
    }).then(function (response) {
      clearTimeout(timer);
      var url = new URL(response.url);
      if (response.ok && response.redirected && url.pathname !== new URL(item.url, location.href).pathname) {
        return deleteItem(item.token).then(function () { return 1; });  // saved (or already saved): a record page
      }
      item.problem = response.status === 400 ? "your sign-in expired; sign in again, then open it to send"
        : "the server could not save it as it is";
      return putItem(item).then(function () { return 0; });
    }, function () { clearTimeout(timer); return -1; });  // still no signal (or it stalled): keep it
  }

  function retryLater() {
    if (retryTimer) { return; }
    retryTimer = setTimeout(function () { retryTimer = null; sendAll(); }, retryIn);
    retryIn = Math.min(retryIn * 2, LAST_RETRY);
  }

  function sendAll() {
    if (sending || !navigator.onLine) { return Promise.resolve(); }
    sending = true;
    return allItems().then(function (items) {
      var mine = items.filter(function (i) { return i.user === user && !i.problem; });
      var saved = 0, unsent = 0;
      return mine.reduce(function (chain, item) {
        return chain.then(function () {
          return sendOne(item).then(function (n) { if (n > 0) { saved += n; } else if (n < 0) { unsent += 1; } });
        });
      }, Promise.resolve()).then(function () {
        sending = false;
        noSignal = unsent > 0;
        if (noSignal) { retryLater(); } else { retryIn = FIRST_RETRY; }
        // Counted over the retries until nothing is left to send: the officer is told of every record, not the
        // last try's share of them.
        sentSoFar += saved;
        var total = noSignal ? 0 : sentSoFar;
        if (!noSignal) { sentSoFar = 0; }
        return refresh(total ? "Sent: " + total + " record" + (total === 1 ? "" : "s") + " saved." : "");
      });
    }).catch(function () { sending = false; });
  }

  forms.forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (navigator.onLine) { return; }  // with a signal the form is sent the ordinary way
      event.preventDefault();
      var data = new FormData(form);
      if (event.submitter && event.submitter.name) { data.append(event.submitter.name, event.submitter.value); }
      // A fresh token for every record kept: the page's own token may already belong to a record sent earlier
      // (a page opened again from the phone's cache carries the token it was cached with).
      var token = newToken();
      data.set("submission_token", token);
      var fields = [];
      data.forEach(function (value, name) { if (typeof value === "string") { fields.push([name, value]); } });
      var item = { token: token, user: user, url: form.action || location.href, fields: fields, label: summary(form),
                   kept: new Date().toISOString(), problem: "" };
      putItem(item).then(function () {
        form.reset();  // back to what the page came with (operation, date, officers) for the next record
        hiddenDefaults.forEach(function (pair) { pair[0].value = pair[1]; });
        refresh();
        var first = form.querySelector("input:not([type=hidden]), select, textarea");
        if (first) { first.focus(); }
      });
    });
  });

  window.addEventListener("online", function () { retryIn = FIRST_RETRY; refresh().then(sendAll); });
  window.addEventListener("offline", function () { refresh(); });
  setInterval(sendAll, 30000);
  refresh().then(sendAll);
})();
