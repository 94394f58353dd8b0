"""Headless Chromium for the listing monitor, kept off the network (issue 13 parts 5 and 6).

Two uses: reading the pages of a store that builds them with JavaScript (`PageRenderer`), and photographing pages
for the evidence file (`evidence.Screenshotter`). In both, Chromium never fetches anything itself. The page and
every request it makes are answered by the monitor's own `Fetcher` (robots.txt, the per-host delay, the SSRF guard
on every hop) or refused, through Playwright's request interception. What interception cannot see is shut at launch:
a dead proxy for every connection Chromium would open itself (preconnect hints, anything that slips past), no DNS
resolution of its own, WebRTC without UDP, service workers blocked and WebSockets answered by nobody.

Playwright's sync API belongs to the thread that started it, so each browser runs in a thread of its own and is
driven through `BrowserThread.call`: a scheduler worker, a command or a test with its own browser can all use it.
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from .fetch import FetchResult

log = logging.getLogger(__name__)

ISOLATION_ARGS = [
    "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run", "--disable-sync",
    "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
    # Anything Chromium would fetch or connect to itself goes to a proxy that is not there...
    "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
    # ...and it resolves no host name of its own.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp", "--disable-quic",
]

# What a JavaScript store's page may load to build itself, and how much.
RENDER_RESOURCE_TYPES = ("script", "stylesheet", "xhr", "fetch")
MAX_REQUESTS_PER_PAGE = 40
RENDER_SECONDS = 60.0
SETTLE_MS = 1500  # after the load event, time for the page's scripts to finish filling it in
SUBRESOURCE_ACCEPT = ("application/javascript", "text/javascript", "application/x-javascript", "text/css",
                      "application/json", "application/ld+json", "text/plain", "text/html", "application/xml",
                      "text/xml")


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


class BrowserUnavailable(RuntimeError):
    pass


class BrowserThread:
    """A headless Chromium owned by one thread; `call(fn)` runs fn(browser) there and returns its result."""

    def __init__(self, executable: str | None = None):
        self.executable = executable or chromium_path()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chromium")
        self._playwright = None
        self._browser = None

    def start(self) -> BrowserThread:
        if not self.executable or not os.path.exists(self.executable):
            raise BrowserUnavailable("Chromium is not installed (Debian package `chromium`, or set CHROMIUM_PATH)")

        def launch():
            from playwright.sync_api import sync_playwright  # only the scheduler needs a browser

            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(executable_path=self.executable, args=ISOLATION_ARGS)

        try:
            self._pool.submit(launch).result()
        except Exception as exc:
            self.close()
            raise BrowserUnavailable(f"Chromium would not start: {exc}") from exc
        return self

    def call(self, fn):
        return self._pool.submit(fn, self._browser).result()

    def close(self) -> None:
        def stop():
            if self._browser is not None:
                self._browser.close()
            if self._playwright is not None:
                self._playwright.stop()

        try:
            self._pool.submit(stop).result(timeout=30)
        except Exception:  # noqa: BLE001 - closing must never fail a check
            log.warning("closing Chromium failed", exc_info=True)
        finally:
            self._pool.shutdown(wait=False)

    def __enter__(self) -> BrowserThread:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


def new_isolated_context(browser, *, javascript: bool):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=javascript,
                                  service_workers="block", accept_downloads=False)
    return context


def silence_websockets(page) -> None:
    """A WebSocket the page opens is answered by nobody (never connected to its server)."""
    route_ws = getattr(page, "route_web_socket", None)
    if route_ws is not None:
        route_ws("**", lambda ws: None)


def answer_with(route, result: FetchResult) -> None:
    """Answer an intercepted browser request with what the monitor's fetcher got for it (robots.txt, the per-host
    delay and the SSRF guard applied on every hop), or refuse it when the fetch did not succeed."""
    if result.body is None or result.status is None or not 200 <= result.status < 300:
        route.abort()
        return
    route.fulfill(status=200, body=result.body, content_type=result.content_type or "")


class PageRenderer:
    """Reads a JavaScript store's page as a buyer's browser would show it, from the HTML the fetcher got."""

    def __init__(self, fetcher, executable: str | None = None):
        self.fetcher = fetcher
        self.browser = BrowserThread(executable)
        self._started = False
        self._unavailable = ""  # why no browser could be started: every page of the check fails with it, at once
        self._cache: dict[str, FetchResult] = {}  # scripts and stylesheets, shared by a store's pages

    def render(self, fetched: FetchResult, time_limit: float | None = None) -> FetchResult:
        """`fetched` (an HTML page the fetcher got) with its text replaced by the DOM after its scripts ran. A page
        that will not render comes back as a failed fetch, with the reason, so the listing keeps its verdict."""
        if not self._started and not self._unavailable:
            try:
                self.browser.start()
                self._started = True
            except BrowserUnavailable as exc:
                self._unavailable = str(exc)
        if self._unavailable:
            return replace(fetched, text=None, error=self._unavailable)
        budget = min(RENDER_SECONDS, time_limit) if time_limit is not None else RENDER_SECONDS
        try:
            html = self.browser.call(lambda browser: self._render(browser, fetched, budget))
        except Exception as exc:  # noqa: BLE001 - one page must not stop the store's check
            log.warning("rendering %s failed: %s", fetched.final_url, exc)
            return replace(fetched, text=None, error=f"The page could not be rendered in a browser: {exc}"[:500])
        body = html.encode("utf-8")
        return replace(fetched, text=html, body=body, content_hash=hashlib.sha256(body).hexdigest(),
                       content_type="text/html", encoding="utf-8")

    def _render(self, browser, fetched: FetchResult, budget: float) -> str:
        ends = time.monotonic() + budget
        state = {"page_served": False, "requests": 0}
        context = new_isolated_context(browser, javascript=True)

        def answer(route, request) -> None:
            if request.is_navigation_request() and request.frame == page.main_frame:
                if state["page_served"]:
                    route.abort()
                else:
                    state["page_served"] = True
                    route.fulfill(status=200, body=fetched.body, content_type="text/html; charset=utf-8"
                                  if fetched.encoding in ("utf-8", None) else f"text/html; charset={fetched.encoding}")
                return
            left = ends - time.monotonic()
            if (request.method != "GET" or request.resource_type not in RENDER_RESOURCE_TYPES
                    or state["requests"] >= MAX_REQUESTS_PER_PAGE or left <= 1):
                route.abort()
                return
            cacheable = request.resource_type in ("script", "stylesheet")
            result = self._cache.get(request.url) if cacheable else None
            if result is None:
                state["requests"] += 1
                result = self.fetcher.fetch(request.url, accept=SUBRESOURCE_ACCEPT, time_limit=left)
                if cacheable:
                    self._cache[request.url] = result
            answer_with(route, result)

        try:
            page = context.new_page()
            silence_websockets(page)
            page.route("**/*", answer)
            page.goto(fetched.final_url, wait_until="load", timeout=int(budget * 1000))
            try:
                page.wait_for_load_state("networkidle", timeout=SETTLE_MS * 2)
            except Exception:  # noqa: BLE001 - a page that keeps polling is read as it stands
                pass
            page.wait_for_timeout(min(SETTLE_MS, max(0, int((ends - time.monotonic()) * 1000))))
            return page.content()
        finally:
            context.close()

    def close(self) -> None:
        if self._started:
            self.browser.close()


__all__ = ["BrowserThread", "BrowserUnavailable", "ISOLATION_ARGS", "PageRenderer", "answer_with", "chromium_path",
           "new_isolated_context", "silence_websockets"]
