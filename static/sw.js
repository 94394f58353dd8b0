// The service worker for logging with no signal (issue 11 part 3; see offline.js). It keeps the pages an officer
// logs on (the in-store attempt and the advice visit forms) and our own scripts and styles, so they open again with
// no signal. Everything else goes to the network as usual. No CDN: everything is served by the app itself.
"use strict";

var PAGES = "retail-pages-v1", ASSETS = "retail-assets-v1";
var OFFLINE_PAGES = ["/purchases/new", "/visits/new"];

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n !== PAGES && n !== ASSETS; })
      .map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

function isAsset(url) {
  return url.pathname.indexOf("/static/") === 0 || url.pathname.indexOf("/bootstrap/static/") === 0;
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (url.pathname === "/login" || url.pathname === "/logout") {
    caches.delete(PAGES);  // signed out: the next person on this phone must not open the last one's pages
    return;
  }
  if (request.mode === "navigate" && OFFLINE_PAGES.indexOf(url.pathname) >= 0) {
    // The network first (fresh volunteers and operations); the copy kept last time when there is no signal.
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok && !response.redirected) {
        var copy = response.clone();
        caches.open(PAGES).then(function (cache) { cache.put(url.pathname, copy); });
      }
      return response;
    }).catch(function () {
      return caches.match(url.pathname, { cacheName: PAGES }).then(function (kept) {
        return kept || new Response("<!doctype html><title>No signal</title><p>No signal, and this page was not " +
          "opened on this phone before. Open it once with a signal.</p>",
          { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
      });
    }));
    return;
  }
  if (isAsset(url)) {
    event.respondWith(caches.open(ASSETS).then(function (cache) {
      return cache.match(request).then(function (kept) {
        var fresh = fetch(request).then(function (response) {
          if (response.ok) { cache.put(request, response.clone()); }
          return response;
        });
        return kept ? (fresh.catch(function () {}), kept) : fresh;
      });
    }));
  }
});
